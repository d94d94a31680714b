"""Parallel evaluation: what running a search's oracle calls at once saves, and costs.

NAS-Bench-201 CIFAR-10 tier search with the library's default search settings (50 initial
architectures, 500 candidates plus the mutants of the 5 best and the 10 best of them
evaluated per round, refit every round, 5 tiers, the default TierSampler), budget 200, with
two stand-ins for training:

- ``table-1s``: the benchmark's :class:`~sknar.oracles.TabularOracle` itself (2.9 MB
  pickled: the search sends it to each worker once) and a sleep of 1 s per call;
- ``params``: an oracle that holds 60,000 synthetic 28x28 images (47 MB, like a
  ``TrainingOracle`` holding its training set) and the table, and sleeps from 0.2 s (the
  smallest cell) to 2 s (the largest) in proportion to the cell's parameter count, as real
  trainings of different cells take different times.

The same searches (same seeds) run sequentially, with 2 and 4 loky worker processes and on a
dask LocalCluster of 2 worker processes, each with ``schedule="batch"`` (evaluate a round,
tell it, ask the next: the queries of the sequential run) and ``schedule="asynchronous"``
(the next evaluation starts as soon as a worker is free; the searcher proposes while the
others run): the wall time (the worker pool's start included), its ratio to the sequential
run, and the best accuracy found. ``ask_s`` is the searcher's own time (fits, sampling,
ranking).

The ranker is a random forest on one-hot cells (``"forest"``, the search suite's "tier search
(forest ranker)"): on a CPU a NAR fit takes longer than the one-second stand-in training and
would measure the ranker, not the parallel evaluation.

Second part: the mean best accuracy of the same search, without the sleep, at batch sizes
(``top_k``) 5, 10 and 20 with the same budget: larger batches allow more parallel
evaluations but fewer rounds, so the search learns less often.

``sizes`` are the budgets: ``--sizes 100`` runs the timing at budget 100 on a busy machine.
"""

import functools
import hashlib
import time

import numpy as np

from .. import _common as common
from . import search as search_suite
from ._task import Task

CONFIGS = {
    "full": {
        "benchmark": "nb201-cifar10",
        "sizes": [200, 100],
        "oracles": {"table-1s": {"sleep_s": 1.0}, "params": {"low_s": 0.2, "high_s": 2.0}},
        "n_images": 60_000,
        "ranker": "forest",
        "forest_trees": 100,
        "tier_search": {},
        "backends": ["sequential", "loky-2", "loky-4", "dask-2"],
        "schedules": ["batch", "asynchronous"],
        "timing_seeds": 3,
        "top_k": [5, 10, 20],
    },
    "quick": {
        "benchmark": "nb201-cifar10",
        "sizes": [17],
        "oracles": {"table-1s": {"sleep_s": 0.01}, "params": {"low_s": 0.002, "high_s": 0.02}},
        "n_images": 1_000,
        "ranker": "forest",
        "forest_trees": 10,
        "tier_search": {"n_initial": 9, "n_candidates": 30, "n_tiers": 3},
        "backends": ["sequential", "loky-2"],
        "schedules": ["batch", "asynchronous"],
        "timing_seeds": 1,
        "top_k": [4, 8],
    },
}
DEFAULT_SEEDS = {"full": 10, "quick": 1}


class SleepingTableOracle:
    """A stand-in for a training job: the benchmark's table oracle, and a sleep per call.

    The table travels with the oracle: the search sends it to each worker once.
    """

    def __init__(self, table, sleep_s):
        self.table = table
        self.sleep_s = sleep_s

    def __call__(self, arch):
        time.sleep(self.sleep_s)
        return self.table(arch)


class ParamsSleepingOracle:
    """A stand-in for a training job whose length depends on the cell: it holds a training
    set of images (as a ``TrainingOracle`` does) and the table, and sleeps from ``low_s``
    (fewest parameters of the space) to ``high_s`` (most) in proportion to the parameter
    count of the cell's network."""

    def __init__(self, table, images, cost_dataset, low_s, high_s, params_range):
        self.table = table
        self.images = images
        self.cost_dataset = cost_dataset
        self.low_s = low_s
        self.high_s = high_s
        self.params_range = params_range

    def sleep_s(self, arch):
        params = self.table.space.total_cost(arch, self.cost_dataset)["params"]
        low, high = self.params_range
        return self.low_s + (self.high_s - self.low_s) * (params - low) / (high - low)

    def __call__(self, arch):
        time.sleep(self.sleep_s(arch))
        return self.table(arch)


@functools.lru_cache(maxsize=2)
def _table(key):
    """The benchmark's table oracle, built once per process."""
    from sknar.oracles import TabularOracle

    data = common.load_benchmark(key)
    return TabularOracle(data["archs"], data["y"], space=data["space"])


@functools.lru_cache(maxsize=2)
def _images(n_images):
    """Synthetic 28x28 grey images, as many as a training set of Fashion-MNIST holds."""
    return np.random.default_rng(0).integers(0, 256, (n_images, 1, 28, 28), dtype=np.uint8)


def make_oracle(config, name):
    data = common.load_benchmark(config["benchmark"])
    settings = config["oracles"][name]
    if name == "table-1s":
        return SleepingTableOracle(_table(config["benchmark"]), settings["sleep_s"])
    _, params = data["space"].total_costs(data["archs"], data["cost_dataset"])
    return ParamsSleepingOracle(
        _table(config["benchmark"]),
        _images(config["n_images"]),
        data["cost_dataset"],
        settings["low_s"],
        settings["high_s"],
        (float(params.min()), float(params.max())),
    )


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


def _timed_run(search, oracle, budget, schedule):
    started = time.perf_counter()
    result = search.run(oracle, budget, schedule=schedule)
    return result, time.perf_counter() - started


def _run_on(backend, search, oracle, budget, schedule):
    """``(result, seconds)`` of ``search`` with the evaluations on ``backend``; the clock
    includes starting the search's worker pool (a dask cluster is started before)."""
    from joblib import parallel_config

    if backend == "sequential":
        return _timed_run(search, oracle, budget, schedule)
    kind, n_workers = backend.rsplit("-", 1)
    n_workers = int(n_workers)
    if kind in ("loky", "threading"):
        with parallel_config(backend=kind, n_jobs=n_workers):
            return _timed_run(search, oracle, budget, schedule)
    if kind == "dask":
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
        try:
            with parallel_config(backend="dask"):
                return _timed_run(search, oracle, budget, schedule)
        finally:
            client.close()
            cluster.close()
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


def run_timing(config, seed, backend, schedule, oracle_name, budget, quick):
    data = common.load_benchmark(config["benchmark"])
    _warm_sampler(config["benchmark"])
    search = make_search(config, data, seed, quick)
    oracle = make_oracle(config, oracle_name)
    result, seconds = _run_on(backend, search, oracle, budget, schedule)
    return {
        "part": "timing",
        "benchmark": config["benchmark"],
        "oracle": oracle_name,
        "backend": backend,
        "schedule": schedule,
        "seed": seed,
        "budget": budget,
        "n_queries": result.n_queries,
        "n_failed": result.n_failed,
        "wall_s": seconds,
        "ask_s": result.ask_time,
        "best": result.best_value,
        "queries": _digest(data["space"], result.archs),
    }


def run_batch_size(config, seed, top_k, quick):
    data = common.load_benchmark(config["benchmark"])
    oracle = _table(config["benchmark"])
    search = make_search(config, data, seed, quick, top_k=top_k)
    budget = max(config["sizes"])
    result = search.run(oracle, budget)
    optimum = float(data["y"].max())
    return {
        "part": "batch size",
        "benchmark": config["benchmark"],
        "top_k": top_k,
        "seed": seed,
        "budget": budget,
        "n_rounds": search.n_rounds_,
        "n_queries": result.n_queries,
        "best": result.best_value,
        "optimum": optimum,
        "found_optimum": bool(result.best_value >= optimum - 1e-9),
        "wall_s": result.wall_time,
    }


def tasks(config, seeds, quick):
    out = []
    budget = max(config["sizes"])
    for seed in seeds[: config["timing_seeds"]]:
        for oracle_name in config["oracles"]:
            for backend in config["backends"]:
                schedules = ["batch"] if backend == "sequential" else config["schedules"]
                for schedule in schedules:
                    out.append(
                        Task(
                            f"timing {oracle_name} {backend} {schedule} seed={seed}",
                            lambda s=seed, b=backend, c=schedule, o=oracle_name: [
                                run_timing(config, s, b, c, o, budget, quick)
                            ],
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
    """One row per oracle, backend and schedule; ratios to the sequential run of the same
    oracle and seed."""
    groups = {}
    for record in records:
        key = (record.get("oracle", "table-1s"), record["backend"], record.get("schedule", "batch"))
        groups.setdefault(key, []).append(record)
    sequential = {
        (r.get("oracle", "table-1s"), r["seed"]): r
        for r in records
        if r["backend"] == "sequential"
    }
    batch = {
        (r.get("oracle", "table-1s"), r["backend"], r["seed"]): r
        for r in records
        if r.get("schedule", "batch") == "batch"
    }
    rows = []
    for (oracle, backend, schedule), runs in groups.items():
        base = [sequential.get((oracle, r["seed"])) for r in runs]
        ratios = [r["wall_s"] / b["wall_s"] for r, b in zip(runs, base) if b is not None]
        to_batch = [
            r["wall_s"] / batch[(oracle, backend, r["seed"])]["wall_s"]
            for r in runs
            if (oracle, backend, r["seed"]) in batch
        ]
        same = sum(b is not None and r["queries"] == b["queries"] for r, b in zip(runs, base))
        rows.append(
            {
                "oracle": oracle,
                "backend": backend,
                "schedule": schedule,
                "wall": common.mean_std([r["wall_s"] for r in runs]),
                "ask": common.mean_std([r["ask_s"] for r in runs]),
                "ratio": common.mean_std(ratios),
                "to_batch": common.mean_std(to_batch),
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


def _budget(records, config):
    budgets = sorted({r["budget"] for r in records})
    return ", ".join(map(str, budgets)) if budgets else str(max(config["sizes"]))


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
        + f"), budget {_budget(timing, config)}, {_n_seeds(timing)}. Oracles: `table-1s`, "
        "the table oracle (shipped to each worker once) sleeping 1 s per call; `params`, "
        "60,000 28x28 images and the table, sleeping 0.2 s to 2 s in proportion to the "
        "cell's parameter count. Wall time includes starting the worker pool. `ask s` is "
        "the searcher's own time (fits, sampling, ranking); `same queries` counts the seeds "
        "whose queries equal the sequential run's; `to batch` is the wall time over the "
        "batch-synchronous run's on the same workers.",
        "",
        "| oracle | evaluation | schedule | wall s | ratio to sequential | to batch | ask s "
        "| best accuracy | same queries |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in _timing_rows(timing):
        lines.append(
            f"| {row['oracle']} | {row['backend']} | {row['schedule']} | "
            f"{row['wall'][0]:.1f} ± {row['wall'][1]:.1f} | {row['ratio'][0]:.3f} | "
            f"{row['to_batch'][0]:.3f} | {row['ask'][0]:.1f} | {row['best'][0]:.3f} | "
            f"{row['same']}/{row['n']} |"
        )
    lines += [
        "",
        f"Batch size: the same search without the sleep, {_n_seeds(batches)}, best accuracy "
        f"after {_budget(batches, config)} calls for each `top_k` (candidates evaluated per "
        "round).",
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
    """How much faster is a search whose evaluations run in parallel, and at what cost?"""
    records = payload["records"]
    timing = [r for r in records if r["part"] == "timing"]
    lines = []
    for row in _timing_rows(timing):
        if row["backend"] == "sequential":
            continue
        lines.append(
            f"- {row['oracle']}, budget {_budget(timing, payload['config'])}: {row['backend']} "
            f"{row['schedule']} took {row['ratio'][0]:.2f}x the sequential wall time "
            f"({row['to_batch'][0]:.2f}x batch-synchronous), best {row['best'][0]:.3f}, "
            f"the sequential queries in {row['same']} of {row['n']} seeds."
        )
    batches = _batch_rows([r for r in records if r["part"] == "batch size"])
    if batches:
        lines.append(
            "- Batch size at the same budget: "
            + ", ".join(f"top_k={b['top_k']} best {b['best'][0]:.3f}" for b in batches)
            + "."
        )
    return lines or ["- No parallel measurement in this run."]
