"""Parallel evaluation: what running a search's oracle calls at once saves, and costs.

NAS-Bench-201 CIFAR-10 tier search with the library's default search settings (50 initial
architectures, 500 candidates plus the mutants of the 5 best and the 10 best of them
evaluated per round, refit every round, 5 tiers, the default TierSampler) and a table
oracle that sleeps ``sleep_s`` per call, a stand-in for training. The same searches run
sequentially, with 2 and 4 loky worker processes and on a dask LocalCluster of 2 worker
processes: the wall time, its ratio to the sequential run, and whether the queries (hence
the best accuracy) are the same. Worker start-up (seconds, once per session) is done before
the clock starts.

The ranker is a random forest on one-hot cells (``"forest"``, the search suite's "tier search
(forest ranker)"): on a CPU a NAR fit takes longer than the one-second stand-in training and
would measure the ranker, not the parallel evaluation; with real trainings of minutes or hours
the fits are small beside them. ``ask_s`` is the time the searcher spent choosing (fits,
sampling, ranking), which no worker shares.

Second part: the mean best accuracy of the same search, without the sleep, at batch sizes
(``top_k``) 5, 10 and 20 with the same budget: larger batches allow more parallel
evaluations but fewer rounds, so the search learns less often.
"""

import functools
import hashlib
import time

from .. import _common as common
from . import search as search_suite
from ._task import Task

CONFIGS = {
    "full": {
        "benchmark": "nb201-cifar10",
        "budget": 200,
        "sleep_s": 1.0,
        "ranker": "forest",
        "forest_trees": 100,
        "tier_search": {},
        "backends": ["sequential", "loky-2", "loky-4", "dask-2"],
        "timing_seeds": 3,
        "top_k": [5, 10, 20],
    },
    "quick": {
        "benchmark": "nb201-cifar10",
        "budget": 17,
        "sleep_s": 0.01,
        "ranker": "forest",
        "forest_trees": 10,
        "tier_search": {"n_initial": 9, "n_candidates": 30, "n_tiers": 3},
        "backends": ["sequential", "threading-2"],
        "timing_seeds": 1,
        "top_k": [4, 8],
    },
}
DEFAULT_SEEDS = {"full": 10, "quick": 1}


class SleepingOracle:
    """A stand-in for a training job: sleep, then look the accuracy up in the table.

    It holds the benchmark's name only: each worker process loads the table once, so an
    evaluation ships a few bytes, as a real training job would, not the whole table.
    """

    def __init__(self, key, sleep_s):
        self.key = key
        self.sleep_s = sleep_s

    def __call__(self, arch):
        time.sleep(self.sleep_s)
        return _table(self.key)(arch)


@functools.lru_cache(maxsize=2)
def _table(key):
    """The benchmark's table oracle, built once per process."""
    from sknar.oracles import TabularOracle

    data = common.load_benchmark(key)
    return TabularOracle(data["archs"], data["y"], space=data["space"])


def _ranker(config, data, seed, quick):
    if config["ranker"] == "forest":
        ranker = search_suite.forest_ranker(data["space"])
        return ranker.set_params(randomforestregressor__n_estimators=config["forest_trees"])
    if config["ranker"] == "nar":
        from sklearn.pipeline import make_pipeline

        from sknar.encoding import NARFeatureEncoder

        return make_pipeline(
            NARFeatureEncoder(data["space"], dataset=data["cost_dataset"]),
            common.nar_ranker(seed=seed, quick=quick),
        )
    raise ValueError(f"unknown ranker {config['ranker']!r}; use 'forest' or 'nar'")


def make_search(config, data, seed, quick, **settings):
    """The tier search of this suite: library defaults unless the config says otherwise."""
    from sknar.sampler import TierSampler
    from sknar.search import TierSearch

    space = data["space"]
    return TierSearch(
        space,
        ranker=_ranker(config, data, seed, quick),
        sampler=TierSampler(space, dataset=data["cost_dataset"]),
        random_state=seed,
        **{**config["tier_search"], **settings},
    )


def _warm_up(n_jobs, key):
    """Start the workers and load the table in them before the clock starts."""
    from joblib import Parallel, delayed

    Parallel(n_jobs=n_jobs)(delayed(_load_table)(key) for _ in range(2 * n_jobs))


def _load_table(key):
    _table(key)


def _timed_run(search, oracle, budget):
    started = time.perf_counter()
    result = search.run(oracle, budget)
    return result, time.perf_counter() - started


def _run_on(backend, search, oracle, budget):
    """``(result, seconds)`` of ``search`` with the evaluations on ``backend``; the clock
    starts once the workers are up."""
    from joblib import parallel_config

    if backend == "sequential":
        return _timed_run(search, oracle, budget)
    kind, n_workers = backend.rsplit("-", 1)
    n_workers = int(n_workers)
    if kind in ("loky", "threading"):
        with parallel_config(backend=kind, n_jobs=n_workers):
            _warm_up(n_workers, oracle.key)
            return _timed_run(search, oracle, budget)
    if kind == "dask":
        from dask.distributed import Client, LocalCluster

        with LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster, Client(cluster) as client:
            client.run(_load_table, oracle.key)
            with parallel_config(backend="dask"):
                return _timed_run(search, oracle, budget)
    raise ValueError(f"unknown backend {backend!r}")


def _digest(space, archs):
    """A short fingerprint of a query sequence (equal queries, equal digest)."""
    text = "\n".join(str(space.hash(arch)) for arch in archs)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=4)
def _warm_sampler(key):
    """Let the sampler list the space with its features once (cached per process), so that
    the first timed search does not pay for it."""
    from sknar.sampler import TierSampler

    data = common.load_benchmark(key)
    archs, tiers = data["archs"][:40], [index % 2 for index in range(40)]
    sampler = TierSampler(data["space"], dataset=data["cost_dataset"], random_state=0)
    sampler.fit(archs, tiers).sample(1)


def run_timing(config, seed, backend, quick):
    data = common.load_benchmark(config["benchmark"])
    _warm_sampler(config["benchmark"])
    _load_table(config["benchmark"])
    search = make_search(config, data, seed, quick)
    oracle = SleepingOracle(config["benchmark"], config["sleep_s"])
    result, seconds = _run_on(backend, search, oracle, config["budget"])
    return {
        "part": "timing",
        "benchmark": config["benchmark"],
        "backend": backend,
        "seed": seed,
        "budget": config["budget"],
        "n_queries": result.n_queries,
        "wall_s": seconds,
        "ask_s": result.ask_time,
        "best": result.best_value,
        "queries": _digest(data["space"], result.archs),
    }


def run_batch_size(config, seed, top_k, quick):
    data = common.load_benchmark(config["benchmark"])
    oracle = _table(config["benchmark"])
    search = make_search(config, data, seed, quick, top_k=top_k)
    result = search.run(oracle, config["budget"])
    optimum = float(data["y"].max())
    return {
        "part": "batch size",
        "benchmark": config["benchmark"],
        "top_k": top_k,
        "seed": seed,
        "budget": config["budget"],
        "n_rounds": search.n_rounds_,
        "n_queries": result.n_queries,
        "best": result.best_value,
        "optimum": optimum,
        "found_optimum": bool(result.best_value >= optimum - 1e-9),
        "wall_s": result.wall_time,
    }


def tasks(config, seeds, quick):
    out = []
    for seed in seeds[: config["timing_seeds"]]:
        for backend in config["backends"]:
            out.append(
                Task(
                    f"timing {backend} seed={seed}",
                    lambda s=seed, b=backend: [run_timing(config, s, b, quick)],
                )
            )
    for seed in seeds:
        for top_k in config["top_k"]:
            out.append(
                Task(
                    f"top_k={top_k} seed={seed}",
                    lambda s=seed, k=top_k: [run_batch_size(config, s, k, quick)],
                )
            )
    return out


def _timing_rows(records):
    by_backend = {}
    for record in records:
        by_backend.setdefault(record["backend"], []).append(record)
    sequential = {r["seed"]: r for r in by_backend.get("sequential", [])}
    rows = []
    for backend, runs in by_backend.items():
        ratios = [
            r["wall_s"] / sequential[r["seed"]]["wall_s"] for r in runs if r["seed"] in sequential
        ]
        same = sum(
            r["seed"] in sequential and r["queries"] == sequential[r["seed"]]["queries"]
            for r in runs
        )
        rows.append(
            {
                "backend": backend,
                "wall": common.mean_std([r["wall_s"] for r in runs]),
                "ask": common.mean_std([r["ask_s"] for r in runs]),
                "ratio": common.mean_std(ratios),
                "best": common.mean_std([r["best"] for r in runs]),
                "same": same,
                "n": len(runs),
            }
        )
    return rows


def _batch_rows(records):
    by_top_k = {}
    for record in records:
        by_top_k.setdefault(record["top_k"], []).append(record)
    return [
        {
            "top_k": top_k,
            "rounds": common.mean_std([r["n_rounds"] for r in runs]),
            "best": common.mean_std([r["best"] for r in runs]),
            "found": sum(r["found_optimum"] for r in runs),
            "optimum": runs[0]["optimum"],
            "n": len(runs),
        }
        for top_k, runs in sorted(by_top_k.items())
    ]


def report(payload):
    config = payload["config"]
    records = payload["records"]
    timing = [r for r in records if r["part"] == "timing"]
    batches = [r for r in records if r["part"] == "batch size"]
    label = common.BENCHMARK_LABELS.get(config["benchmark"], config["benchmark"])
    lines = [
        "## Parallel evaluation",
        "",
        f"{label} tier search ({config['ranker']} ranker, library search defaults"
        + (f" except {config['tier_search']}" if config["tier_search"] else "")
        + f"), budget {config['budget']}, a table oracle sleeping {config['sleep_s']} s per "
        "call. Mean ± std over seeds; `ask s` is the searcher's own time (fits, sampling, "
        "ranking); `same queries` counts the seeds whose queries equal the sequential run's.",
        "",
        "| evaluation | wall s | ratio to sequential | ask s | best accuracy | same queries |",
        "|---|---|---|---|---|---|",
    ]
    for row in _timing_rows(timing):
        lines.append(
            f"| {row['backend']} | {row['wall'][0]:.1f} ± {row['wall'][1]:.1f} | "
            f"{row['ratio'][0]:.3f} | {row['ask'][0]:.1f} | {row['best'][0]:.3f} | "
            f"{row['same']}/{row['n']} |"
        )
    lines += [
        "",
        f"Batch size: the same search without the sleep, {_n_seeds(batches)}, best accuracy "
        f"after {config['budget']} calls for each `top_k` (candidates evaluated per round).",
        "",
        "| top_k | rounds | best accuracy | optimum found |",
        "|---|---|---|---|",
    ]
    for row in _batch_rows(batches):
        lines.append(
            f"| {row['top_k']} | {row['rounds'][0]:.0f} | {row['best'][0]:.3f} ± "
            f"{row['best'][1]:.3f} | {row['found']}/{row['n']} (best {row['optimum']:.2f}) |"
        )
    return "\n".join(lines) + "\n"


def _n_seeds(records):
    n = len({record["seed"] for record in records})
    return f"{n} seed" + ("" if n == 1 else "s")


def answer(payload):
    """How much faster is a search whose batches run in parallel, and at what cost?"""
    config = payload["config"]
    records = payload["records"]
    rows = {row["backend"]: row for row in _timing_rows(
        [r for r in records if r["part"] == "timing"]
    )}
    lines = []
    for backend, row in rows.items():
        if backend == "sequential":
            continue
        same = "the same queries" if row["same"] == row["n"] else (
            f"the same queries in only {row['same']} of {row['n']} seeds"
        )
        lines.append(
            f"- Tier search, budget {config['budget']}, oracle {config['sleep_s']} s per call: "
            f"{backend} took {row['ratio'][0]:.2f}x the sequential wall time, with {same} "
            f"(best {row['best'][0]:.3f})."
        )
    batches = _batch_rows([r for r in records if r["part"] == "batch size"])
    if batches:
        lines.append(
            "- Batch size at the same budget: "
            + ", ".join(f"top_k={b['top_k']} best {b['best'][0]:.3f}" for b in batches)
            + "."
        )
    return lines or ["- No parallel measurement in this run."]
