"""Run the sknar benchmark suites and regenerate ``benchmarks/RESULTS.md``.

Examples::

    python -m benchmarks.run --suite quality --benchmarks nb201-cifar10 nb201-cifar100
    python -m benchmarks.run --suite all --quick --out /tmp/bench
"""

import argparse
import datetime
import os
import sys
import time
import warnings
from pathlib import Path

from sknar.utils import progress_bar, write_json

from . import _common as common
from ._suites import SUITES
from ._suites._report import write_results_md


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--suite", choices=[*SUITES, "all"], default="all")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes and models, one seed: a smoke run of every code path",
    )
    parser.add_argument(
        "--seeds", type=int, default=None, help="number of seeds (0..N-1); default per suite"
    )
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds run from this one (e.g. 100 for validation seeds that choose settings, "
        "kept apart from the reported seeds 0..N-1)",
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=None,
        help="the searches' budget instead of the configuration's (search suites)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=common.DEFAULT_OUT,
        help="folder of the <suite>.json files (default benchmarks/results)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        help="Markdown report to regenerate (default benchmarks/RESULTS.md "
        "with the default --out, else <out>/RESULTS.md)",
    )
    parser.add_argument(
        "--benchmarks",
        nargs="+",
        default=None,
        help="restrict the suites to these benchmark keys (e.g. nb201-cifar10)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=None,
        help="restrict the model comparisons to these model names",
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=float,
        default=None,
        help="restrict the training sizes (as in the configuration, e.g. 781 or 0.01)",
    )
    parser.add_argument(
        "--tag",
        default=None,
        help="write <suite>-<tag>.json instead of <suite>.json (a separate run in the report)",
    )
    parser.add_argument(
        "--methods", nargs="+", default=None, help="restrict the searches to these methods"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="tasks run in parallel processes (not for the cost and parallel suites, whose "
        "timings need a quiet machine)",
    )
    parser.add_argument(
        "--nar-device",
        default=None,
        help="torch device of every NARRanker (e.g. cuda); recorded in the machine info",
    )
    parser.add_argument(
        "--report-runs",
        nargs="+",
        default=None,
        help="only these result files (names without .json) go into the report",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="only regenerate the report from --out"
    )
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def restrict(config, benchmarks=None, models=None, methods=None, sizes=None):
    """A copy of ``config`` keeping only the named benchmarks, models, methods and sizes."""
    config = dict(config)
    if sizes is not None:
        if isinstance(config.get("benchmarks"), dict):
            config["benchmarks"] = {
                k: [n for n in v if n in sizes] for k, v in config["benchmarks"].items()
            }
        if "sizes" in config:
            config["sizes"] = [n for n in config["sizes"] if n in sizes]
    if benchmarks is not None and "benchmarks" in config:
        chosen = config["benchmarks"]
        if isinstance(chosen, dict):
            config["benchmarks"] = {k: v for k, v in chosen.items() if k in benchmarks}
        else:
            config["benchmarks"] = [k for k in chosen if k in benchmarks]
    if models is not None and "models" in config:
        config["models"] = [m for m in config["models"] if m in models]
    if methods is not None and "methods" in config:
        config["methods"] = [m for m in config["methods"] if m in methods]
    return config


def _run_tasks(task_list, jobs):
    """Yield ``(task, records, seconds)`` in task order, in ``jobs`` processes if > 1."""
    if jobs <= 1:
        for task in task_list:
            started = time.perf_counter()
            records = task.run()
            yield task, records, time.perf_counter() - started
        return
    from joblib import Parallel, delayed

    def timed(task):
        # One thread per process: parallel tasks would otherwise oversubscribe the cores.
        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(1)
        started = time.perf_counter()
        with threadpool_limits(1):
            records = task.run()
        return records, time.perf_counter() - started

    results = Parallel(n_jobs=jobs, return_as="generator")(delayed(timed)(t) for t in task_list)
    for task, (records, seconds) in zip(task_list, results):
        yield task, records, seconds


def run_suite(
    name,
    *,
    quick,
    n_seeds,
    out_dir,
    benchmarks=None,
    models=None,
    methods=None,
    sizes=None,
    tag=None,
    jobs=1,
    progress=True,
    checkpoint_s=0.0,
    first_seed=0,
    budget=None,
):
    """Run one suite, write ``<out_dir>/<name>.json`` and return its payload."""
    module = SUITES[name]
    mode = "quick" if quick else "full"
    config = restrict(module.CONFIGS[mode], benchmarks, models, methods, sizes)
    if budget is not None:
        if "budget" not in config:
            raise ValueError(f"--budget: the {name} suite has no budget to set.")
        config["budget"] = budget
    jobs = 1 if name in ("cost", "parallel") else jobs
    n_seeds = n_seeds if n_seeds is not None else module.DEFAULT_SEEDS[mode]
    seeds = list(range(first_seed, first_seed + n_seeds))
    started_at = datetime.datetime.now(datetime.timezone.utc)
    started = time.perf_counter()
    records = []
    task_list = module.tasks(config, seeds, quick)
    payload = {
        "suite": name,
        "tag": tag,
        "quick": quick,
        "config": config,
        "seeds": seeds,
        "started": started_at.isoformat(timespec="seconds"),
        "jobs": jobs,
        "n_tasks": len(task_list),
        "machine": common.machine_info(),
        "records": records,
    }
    path = Path(out_dir) / (f"{name}-{tag}.json" if tag else f"{name}.json")
    last_write = time.perf_counter()
    with progress_bar(len(task_list), name, disable=not progress) as bar:
        for done, (task, task_records, seconds) in enumerate(_run_tasks(task_list, jobs), 1):
            bar.set_postfix_str(task.label[:60], refresh=False)
            for record in task_records:
                record.setdefault("task_s", seconds)
                records.append(record)
            bar.update()
            if time.perf_counter() - last_write > checkpoint_s and done < len(task_list):
                # A run stopped early still leaves what it measured, marked incomplete.
                _finish(payload, started, done, complete=False)
                write_json(payload, path, indent=1)
                last_write = time.perf_counter()
    _finish(payload, started, len(task_list), complete=True)
    write_json(payload, path, indent=1)
    return payload


def _finish(payload, started, n_done, *, complete):
    payload["tasks_done"] = n_done
    payload["complete"] = complete
    payload["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    payload["wall_time_s"] = time.perf_counter() - started


def main(argv=None):
    args = parse_args(argv)
    common.ensure_data_home()
    if args.nar_device:
        os.environ["SKNAR_BENCH_DEVICE"] = args.nar_device
    names = list(SUITES) if args.suite == "all" else [args.suite]
    if args.report_only:
        names = []
    for name in names:
        with warnings.catch_warnings():
            # Convergence chatter of the baselines would bury the progress bar.
            warnings.simplefilter("ignore", category=UserWarning)
            try:
                from sklearn.exceptions import ConvergenceWarning

                warnings.simplefilter("ignore", category=ConvergenceWarning)
            except ImportError:
                pass
            payload = run_suite(
                name,
                quick=args.quick,
                n_seeds=args.seeds,
                out_dir=args.out,
                benchmarks=args.benchmarks,
                models=args.models,
                methods=args.methods,
                sizes=args.sizes,
                tag=args.tag,
                jobs=args.jobs,
                progress=not args.no_progress,
                first_seed=args.first_seed,
                budget=args.budget,
            )
        print(
            f"{name}: {len(payload['records'])} records in {payload['wall_time_s']:.0f} s "
            f"-> {Path(args.out) / (name + (f'-{args.tag}' if args.tag else '') + '.json')}",
            file=sys.stderr,
        )
    report = args.report
    if report is None:
        default_out = Path(args.out).resolve() == common.DEFAULT_OUT.resolve()
        report = common.RESULTS_MD if default_out else Path(args.out) / "RESULTS.md"
    print(f"report: {write_results_md(args.out, report, runs=args.report_runs)}", file=sys.stderr)


if __name__ == "__main__":
    main()
