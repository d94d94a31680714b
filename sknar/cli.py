"""The ``sknar`` command line: ``demo``, ``fit``, ``evaluate`` and ``search``.

``sknar --help`` lists the commands, ``sknar <command> --help`` their options. A wrong input
(a missing or unreadable file, an absent column, a bad architecture, a flag that does not
apply) is reported in one line on stderr without a traceback, before any long work where it
can be, with the exit status 1; a malformed command line exits with 2. The work lives in the
library; this module parses, checks and reports, and imports torch and the other heavy
modules only in the commands that need them, so that ``sknar --help`` answers at once.
"""

import argparse
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from ._checks import (
    check_device,
    check_fields,
    check_search_flags,
    check_writable,
    cost_dataset,
    positive_int,
)
from ._model_file import load_model, model_space, save_model
from ._progress import Progress
from ._strategies import STRATEGIES

__all__ = ["main", "run"]

EXIT_OK = 0
EXIT_INPUT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

SPACES = {"nasbench_graph": "NASBenchGraphSpace", "nasbench201": "NASBench201Space",
          "nasbench101": "NASBench101Space"}
RANKER_FLAGS = ("n_tiers", "max_epochs", "preset", "device")
SEARCH_MAX_EPOCHS = 40


class CLIError(Exception):
    """An error in the user's input, reported as one line without a traceback."""


@contextmanager
def _reading(source, path=None):
    """Turn a failure to read ``source`` (a flag, or the file at ``path``) into a one-line
    error that names it, unless the library's message already names the file."""
    try:
        yield
    except (ValueError, OSError, EOFError) as exc:
        message = str(exc) or type(exc).__name__
        named = str(path or source) in message
        raise CLIError(message if named else f"{source}: {message}") from None


def _ranker_params(args, progress):
    """The NARRanker parameters given on the command line, the seed and the verbosity."""
    params = {name: getattr(args, name) for name in RANKER_FLAGS if getattr(args, name) is not None}
    verbose = 2 if getattr(args, "verbose", False) else progress.verbose
    return {**params, "random_state": args.seed, "verbose": verbose}


def _load_benchmark(args):
    """The benchmark of ``--benchmark`` and ``--dataset``, read from ``--data`` when given."""
    from sknar.datasets import load_benchmark

    path = data_home = None
    if args.data is not None:
        data = Path(args.data).expanduser()
        if not data.exists():
            raise CLIError(f"--data {data}: no such file or folder")
        path, data_home = (None, data) if data.is_dir() else (data, None)
    named = f"--benchmark {args.benchmark}" + (f" --dataset {args.dataset}" if args.dataset else "")
    with _reading(f"--data {args.data}" if args.data else named, args.data):
        return load_benchmark(args.benchmark, args.dataset, path=path, data_home=data_home)


def cmd_fit(args):
    """``sknar fit``: train a ranker on a table and save it with what ``evaluate`` needs."""
    import time

    from sknar import spaces
    from sknar._strategies import nar_pipeline
    from sknar.datasets import read_table
    from sknar.utils import write_json

    progress = Progress(args.quiet)
    space = getattr(spaces, SPACES[args.space])()
    recorded = {"space": args.space, "dataset": cost_dataset(space, args.dataset),
                "arch_field": args.arch_field, "target_field": args.target_field}
    check_fields(args.arch_field, args.target_field)
    check_device(args.device)
    for path, flag in ((args.model, "--model"), (args.output, "--output")):
        check_writable(path, flag)
    if args.output and Path(args.output).resolve() == Path(args.model).resolve():
        raise CLIError(f"--output and --model are the same file, {args.model}")
    if args.verbose and args.output == "-":
        raise CLIError("--verbose prints its epoch table on stdout: give --output a file")
    with _reading(args.input):
        archs, y = read_table(args.input, space, arch_field=args.arch_field,
                              target_field=args.target_field)
    progress(f"read {len(archs)} architectures from {args.input}")
    model = nar_pipeline(space, recorded["dataset"], **_ranker_params(args, progress))
    start = time.perf_counter()
    try:
        model.fit(archs, y)
    except ValueError as exc:
        raise CLIError(f"cannot fit on {args.input}: {exc}") from None
    fit_seconds = time.perf_counter() - start
    progress(f"fitted in {fit_seconds:.1f}s")
    save_model(args.model, model, **recorded)
    progress(f"model saved to {args.model}")
    if args.output:
        ranker = model[-1]
        write_json({"model": str(args.model), **recorded, "n_train": len(archs),
                    "fit_seconds": round(fit_seconds, 3),
                    "train_kendall_tau": float(model.score(archs, y)),
                    "ranker_params": {**ranker.get_params(), **ranker.settings_}}, args.output)
    return EXIT_OK


def cmd_evaluate(args):
    """``sknar evaluate``: score a table with a saved model; metrics when accuracies are given."""
    from sknar._progress import score_in_chunks
    from sknar.datasets import read_table
    from sknar.metrics import ranking_report
    from sknar.utils import write_json

    progress = Progress(args.quiet)
    check_fields(args.arch_field, args.target_field)
    check_writable(args.output, "--output")
    fitted = load_model(args.model)
    model, space = fitted["model"], model_space(fitted["model"])
    if space is None:
        raise CLIError(f"--model {args.model}: the model has no search space to read input with")
    fields = {"arch_field": args.arch_field or fitted.get("arch_field", "arch"),
              "target_field": args.target_field or fitted.get("target_field", "accuracy")}
    with _reading(args.input):
        archs, y = read_table(args.input, space, **fields, require_target=False)
    progress(f"read {len(archs)} architectures from {args.input}")
    try:
        scores, tiers = score_in_chunks(model, archs, verbose=progress.verbose)
        metrics = None if y is None else ranking_report(y, scores, k=args.k)
    except ValueError as exc:
        raise CLIError(f"cannot score {args.input} with {args.model}: {exc}") from None
    result = {"model": str(args.model), "input": str(args.input), "n": len(archs)}
    if metrics is not None:
        result["metrics"] = metrics
        progress(f"Kendall tau {metrics['kendall_tau']:.4f}")
        for k in (k for k in args.k if k > len(archs)):
            progress(f"--k {k} is more than the {len(archs)} architectures: left out")
    result["predictions"] = [
        {"index": i, "score": float(score), **({} if tiers is None else {"tier": int(tiers[i])})}
        for i, score in enumerate(scores)
    ]
    write_json(result, args.output)
    return EXIT_OK


def cmd_search(args):
    """``sknar search``: one budgeted search, on a benchmark table or training for real."""
    from sknar._strategies import search_benchmark, search_digits, search_summary, sized_for_budget
    from sknar.search import EvaluationError
    from sknar.utils import write_json

    progress = Progress(args.quiet)
    check_search_flags(args, RANKER_FLAGS)
    # One bar over the oracle calls, not one per refit of the ranker.
    ranker_params = {"max_epochs": SEARCH_MAX_EPOCHS, **_ranker_params(args, progress),
                     "verbose": 0}
    check_device(args.device)
    for path, flag in ((args.output, "--output"), (args.journal, "--journal")):
        check_writable(path, flag)
    run_options = {"n_jobs": args.n_jobs, "journal": args.journal, "on_error": args.on_error,
                   "random_state": args.seed, "ranker_params": ranker_params,
                   "verbose": progress.verbose}
    resume = (f"; {args.journal} keeps every finished evaluation: run again to resume"
              if args.journal else "; --on-error skip records a failure and goes on")
    try:
        if args.train:
            progress(f"{args.strategy} search training on {args.train}")
            result, test_accuracy = search_digits(args.strategy, args.budget, epochs=args.epochs,
                                                  device=args.device or "cpu", **run_options)
            where = {"train": args.train, "epochs": args.epochs, "test_accuracy": test_accuracy}
        else:
            sized_for_budget(args.strategy, args.budget)
            data = _load_benchmark(args)
            progress(f"{args.strategy} search on {args.benchmark} ({data.dataset})")
            result = search_benchmark(data, args.strategy, args.budget, **run_options)
            where = {"benchmark": args.benchmark, "dataset": data.dataset}
    except EvaluationError as exc:
        raise CLIError(f"{exc}{resume}") from None
    except KeyboardInterrupt:
        print(f"sknar search: interrupted{resume * bool(args.journal)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ValueError as exc:
        raise CLIError(f"{args.strategy} search failed: {exc}") from None
    summary = {**search_summary(result, args.strategy, args.budget), **where, "seed": args.seed}
    best = "none" if summary["best_value"] is None else f"{summary['best_value']:.4f}"
    progress(f"best {best} after {result.n_queries} queries ({result.n_failed} failed)")
    write_json(summary, args.output)
    return EXIT_OK


def cmd_demo(args):
    """``sknar demo``: rank, compare, search, report, on one benchmark."""
    from sknar._demo import MAX_EPOCHS, N_TRAIN, run_demo
    from sknar.datasets import split_benchmark

    progress = Progress(args.quiet)
    check_writable(args.output, "--output", folder=True)
    progress(f"loading {args.benchmark}" + (f" ({args.dataset})" if args.dataset else ""))
    data = _load_benchmark(args)
    progress(f"{len(data.archs)} architectures; target: {data.get('target_name', 'y')}")
    n_train = args.n_train or N_TRAIN[args.benchmark]
    with _reading(f"--n-train {n_train}"):
        split_benchmark(len(data.archs), n_train)
    run_demo(data, n_train=n_train, budget=args.budget, max_epochs=args.max_epochs or MAX_EPOCHS,
             seed=args.seed, output=args.output, progress=progress)
    return EXIT_OK


# --- the parser -------------------------------------------------------------------------


def _add_common(parser, *, verbose=False):
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--threads", type=positive_int, default=1, help="CPU threads for "
                        "training and scoring (default: 1, the fastest for small models)")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--quiet", action="store_true", help="no progress on stderr")
    if verbose:
        noise.add_argument("--verbose", action="store_true", help="a table line per epoch")


def _add_ranker_options(parser):
    group = parser.add_argument_group("ranker")
    group.add_argument("--n-tiers", type=positive_int, help="number of quality tiers")
    group.add_argument("--max-epochs", type=positive_int, help="training epochs of the ranker")
    group.add_argument("--preset", choices=("fast", "paper"), help="ranker size preset")
    group.add_argument("--device", help="torch device, e.g. cpu or cuda")


def _add_table_options(parser, *, recorded=False):
    default = "the one of the table given to 'sknar fit', else " if recorded else ""
    parser.add_argument("--arch-field", default=None if recorded else "arch",
                        help=f"column or field of the architecture (default: {default}arch)")
    parser.add_argument("--target-field", default=None if recorded else "accuracy",
                        help=f"column or field of the accuracy (default: {default}accuracy)")


def _add_benchmark_options(parser, default="nasbench_graph"):
    parser.add_argument("--benchmark", choices=tuple(SPACES), default=default,
                        help="tabular benchmark (default: nasbench_graph, needs no download)")
    parser.add_argument("--dataset", help="dataset of the benchmark (default: cora for "
                        "nasbench_graph, cifar10 for nasbench201 and nasbench101)")
    parser.add_argument("--data", metavar="PATH", help="benchmark file, or the folder of the "
                        "benchmark files (default: $SKNAR_DATA, then ~/sknar_data)")


def build_parser():
    """The argument parser of the ``sknar`` command."""
    from sknar._version import __version__

    parser = argparse.ArgumentParser(
        prog="sknar",
        description="Neural Architecture Ranker (NAR): rank and search neural architectures.",
        epilog="Run 'sknar <command> --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"sknar {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)

    def command(name, handler, summary, description):
        sub = commands.add_parser(name, help=summary, description=description)
        sub.set_defaults(handler=handler)
        return sub

    demo = command(
        "demo", cmd_demo, "the whole NAR pipeline on a benchmark, offline by default",
        "Load a benchmark, fit NARRanker on a small training set, compare it with gradient "
        "boosting on held-out architectures, run a budgeted tier search against random "
        "search, print a results table and save a figure.",
    )
    _add_benchmark_options(demo)
    demo.add_argument("--budget", type=positive_int, default=150,
                      help="oracle calls of each search (default: 150)")
    demo.add_argument("--n-train", type=positive_int, help="training architectures of the "
                      "ranking comparison (default: 200; 424 on nasbench101)")
    demo.add_argument("--max-epochs", type=positive_int,
                      help="training epochs of the ranker (default: 40)")
    demo.add_argument("--output", default="sknar_output", metavar="DIR",
                      help="folder for the figure and results.json (default: ./sknar_output)")
    _add_common(demo)

    fit = command(
        "fit", cmd_fit, "train a ranker on architectures and accuracies from a file",
        "Train make_pipeline(NARFeatureEncoder(space), NARRanker()) on a CSV, JSON or JSON "
        "Lines file and save it, with the space and the column names, for 'sknar evaluate'.",
    )
    fit.add_argument("input", help="table of architectures and accuracies")
    fit.add_argument("--space", choices=tuple(SPACES), required=True, help="search space")
    fit.add_argument("--dataset", help="dataset whose FLOPs and params the encoder uses "
                     "(nasbench201: cifar10, cifar100 or ImageNet16-120)")
    fit.add_argument("--model", required=True, help="where to save the fitted model (joblib)")
    fit.add_argument("--output", help="write a JSON summary of the fit here ('-': stdout)")
    _add_table_options(fit)
    _add_ranker_options(fit)
    _add_common(fit, verbose=True)

    evaluate = command(
        "evaluate", cmd_evaluate, "score architectures with a saved model; metrics if "
        "accuracies given", "Score the architectures of a file with a model saved by 'sknar "
        "fit'. When the file has accuracies, report Kendall tau, Spearman's rho, precision@k, "
        "best rank@k and NDCG@k. Results go to --output as JSON. A model file is a pickle: "
        "load only files you trust.",
    )
    evaluate.add_argument("input", help="table of architectures (accuracies optional)")
    evaluate.add_argument("--model", required=True, help="model file written by 'sknar fit'")
    evaluate.add_argument("--output", default="-", help="JSON results file (default: stdout)")
    evaluate.add_argument("--k", type=positive_int, nargs="+", default=[10, 50],
                          help="cut-offs of the top-k metrics (default: 10 50)")
    _add_table_options(evaluate, recorded=True)
    _add_common(evaluate)

    search = command(
        "search", cmd_search, "budgeted architecture search on a tabular benchmark",
        "Run tier search, random search or regularized evolution against a benchmark oracle "
        "and write the history as JSON.",
    )
    _add_benchmark_options(search, default=None)
    search.add_argument("--strategy", choices=STRATEGIES, default="tier",
                        help="search strategy (default: tier)")
    search.add_argument("--budget", type=positive_int, default=100,
                        help="oracle calls (default: 100)")
    search.add_argument("--output", default="-", help="JSON results file (default: stdout)")
    search.add_argument("--train", choices=("digits",), help="train NAS-Bench-201 networks on "
                        "scikit-learn's digits instead of reading a benchmark table")
    search.add_argument("--epochs", type=positive_int, help="epochs of each training of "
                        "--train (default: 3)")
    search.add_argument("--journal", metavar="FILE", help="write every finished evaluation "
                        "here; running again with the same journal resumes the search")
    search.add_argument("--n-jobs", type=int, help="evaluations at once (joblib; default: 1)")
    search.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                        help="a failed evaluation stops the search (raise, the default) or "
                        "is recorded and the search goes on (skip)")
    _add_ranker_options(search)
    _add_common(search)
    return parser


def main(argv=None):
    """Run the ``sknar`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 1 when the input is wrong, 2 when the command line is wrong.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    from sknar.utils._torch import limit_threads

    try:
        with limit_threads(args.threads, native_libraries=True):
            return args.handler(args)
    except (CLIError, OSError, ValueError) as exc:
        # The library's input errors name the file, line and rule broken: one line is enough.
        print(f"sknar {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except ImportError as exc:
        print(f"sknar {args.command}: error: a dependency is missing ({exc}); install it, "
              "e.g. pip install 'sknar[graph,plot]'", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print(f"sknar {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def run():
    """The ``sknar`` program: :func:`main`, then exit with its status. After Ctrl-C it ends at
    once: a search journal is on disk line by line, and tearing torch down takes seconds."""
    status = main()
    if status == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
