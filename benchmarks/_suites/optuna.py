"""sknar inside Optuna: the NAR sampler against Optuna's samplers and sknar's tier search.

Part one, on NAS-Bench-201 (the search suite's budgets and settings): the same seeds run

- ``NAR sampler``: an Optuna study whose objective declares the cell with
  ``suggest_architecture`` and whose sampler is ``NARSampler`` (``n_startup_trials`` = the
  tier search's ``n_initial``, ``top_k`` the same, ``refit_every`` = ``top_k * refit``, the
  same ranker and tier sampler);
- ``TPE``: ``optuna.samplers.TPESampler(multivariate=True)``;
- ``GP``: ``optuna.samplers.GPSampler``;
- ``tier search``: :class:`sknar.search.TierSearch` with the same ranker and settings;

each with a table oracle (:class:`sknar.oracles.TabularOracle`): the best-so-far at
25/50/100/200 trials, whether the optimum was found, and for the Optuna studies the trials
that repeated a cell already evaluated (``repeats``) or an isomorphic twin of one
(``repeats_network``).

Part two: the wall time of a study of 3 worker processes against 1 worker, on one SQLite
storage, each worker running ``study.optimize`` with the NAR sampler (the forest ranker, so
that three processes refitting NAR on a few cores do not measure the ranker) and a table
oracle that sleeps ``sleep_s`` per call. The workers wait for each other after their imports;
``wall_s`` runs from the first trial's start to the last trial's end (worker start-up,
importing torch, is left out and given as ``startup_s``); ``ratio`` is the 3-worker wall
time over the 1-worker one.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import _common as common
from ._task import Task

CHECKPOINTS = (25, 50, 100, 200)
METHODS = ("NAR sampler", "TPE", "GP", "tier search")
CONFIGS = {
    "full": {
        "benchmarks": ["nb201-cifar10", "nb201-cifar100", "nb201-ImageNet16-120"],
        "budget": 200,
        "methods": list(METHODS),
        "ranker": "nar",
        "tier_search": {
            "n_initial": 40,
            "n_candidates": 1000,
            "top_k": 20,
            "n_tiers": 5,
            "noise": 0.5,
            "refit": 2,
        },
        "merge_isomorphic": True,
        "parallel": {
            "benchmark": "nb201-cifar10",
            "budget": 30,
            "sleep_s": 2.0,
            "workers": [1, 3],
            "n_startup_trials": 10,
            "top_k": 5,
            "refit_every": 5,
            "n_candidates": 200,
            "n_tiers": 3,
            "seeds": 1,
        },
    },
    "quick": {
        "benchmarks": ["nb201-cifar10"],
        "budget": 20,
        "methods": list(METHODS),
        "ranker": "forest",
        "tier_search": {
            "n_initial": 10,
            "n_candidates": 100,
            "top_k": 5,
            "n_tiers": 3,
            "noise": 0.5,
            "refit": 1,
        },
        "merge_isomorphic": True,
        "parallel": {
            "benchmark": "nb201-cifar10",
            "budget": 8,
            "sleep_s": 0.2,
            "workers": [1, 2],
            "n_startup_trials": 6,
            "top_k": 3,
            "refit_every": 3,
            "n_candidates": 50,
            "n_tiers": 2,
            "seeds": 1,
        },
    },
}
DEFAULT_SEEDS = {"full": 20, "quick": 1}


def _tier_sampler(data, noise):
    from sknar import TierSampler

    return TierSampler(data["search_space"], dataset=data["cost_dataset"], noise=noise)


def _oracle(data):
    from sknar.oracles import TabularOracle

    return TabularOracle(data["archs"], data["y"], space=data["space"])


def _optuna_sampler(method, data, seed, config, quick):
    import optuna

    from sknar.integration.optuna import NARSampler

    if method == "TPE":
        return optuna.samplers.TPESampler(multivariate=True, seed=seed)
    if method == "GP":
        return optuna.samplers.GPSampler(seed=seed)
    settings = config["tier_search"]
    return NARSampler(
        data["search_space"],
        ranker=common.search_ranker(config["ranker"], data, seed, quick),
        sampler=_tier_sampler(data, settings["noise"]),
        n_startup_trials=settings["n_initial"],
        n_candidates=settings["n_candidates"],
        top_k=settings["top_k"],
        refit_every=settings["top_k"] * settings["refit"],
        n_tiers=settings["n_tiers"],
        merge_isomorphic=config["merge_isomorphic"],
        seed=seed,
    )


def run_method(key, method, seed, config, quick):
    data = common.load_benchmark(key)
    space, oracle = data["search_space"], _oracle(data)
    started = time.perf_counter()
    if method == "tier search":
        from sknar.search import TierSearch

        settings = dict(config["tier_search"])
        noise = settings.pop("noise")
        search = TierSearch(
            space,
            ranker=common.search_ranker(config["ranker"], data, seed, quick),
            sampler=_tier_sampler(data, noise),
            random_state=seed,
            **settings,
        )
        result = search.run(oracle, config["budget"])
        archs, values = list(result.archs), [float(v) for v in result.values]
    else:
        archs, values = _run_study(method, data, seed, config, quick, oracle)
    return [_record(key, method, seed, config, data, archs, values, started)]


def _run_study(method, data, seed, config, quick, oracle):
    import optuna

    from sknar.integration.optuna import suggest_architecture

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = data["search_space"]
    archs = []

    def objective(trial):
        arch = suggest_architecture(trial, space, merge_isomorphic=config["merge_isomorphic"])
        archs.append(arch)
        return float(oracle(arch))

    study = optuna.create_study(
        direction="maximize", sampler=_optuna_sampler(method, data, seed, config, quick)
    )
    study.optimize(objective, n_trials=config["budget"])
    values = [t.value for t in study.trials]
    return archs, values


def _record(key, method, seed, config, data, archs, values, started):
    from sknar.integration.optuna import network_key

    space = data["search_space"]
    hashes = [space.hash(arch) for arch in archs]
    networks = [network_key(space, arch) for arch in archs]
    best = np.maximum.accumulate(np.asarray(values, dtype=float))
    optimum = float(data["y"].max())
    return {
        "part": "search",
        "benchmark": key,
        "method": method,
        "seed": seed,
        "budget": config["budget"],
        "n_trials": len(values),
        "best_at": {str(c): float(best[c - 1]) for c in CHECKPOINTS if c <= len(best)},
        "best": float(best[-1]),
        "optimum": optimum,
        "found_optimum": bool(best[-1] >= optimum - 1e-9),
        "repeats": len(hashes) - len(set(hashes)),
        "repeats_network": len(networks) - len(set(networks)),
        "wall_s": time.perf_counter() - started,
    }


# --- part two: workers ------------------------------------------------------------------------

_WORKER = r"""
import json, sys, time
from pathlib import Path
import optuna
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from benchmarks import _common as common
from sknar import TierSampler
from sknar.encoding import AdjacencyOneHotEncoder
from sknar.integration.optuna import NARSampler, suggest_architecture, within_budget
from sknar.oracles import TabularOracle

url, name, key, budget, sleep_s, seed, settings, ready_dir, n_workers = sys.argv[1:10]
budget, sleep_s, seed = int(budget), float(sleep_s), int(seed)
settings = json.loads(settings)
optuna.logging.set_verbosity(optuna.logging.WARNING)
data = common.load_benchmark(key)
space = data["search_space"]
oracle = TabularOracle(data["archs"], data["y"], space=data["space"])
ranker = make_pipeline(AdjacencyOneHotEncoder(space),
                       RandomForestRegressor(n_estimators=100, n_jobs=1, random_state=seed))
sampler = NARSampler(space, ranker=ranker, sampler=TierSampler(space, dataset=data["cost_dataset"]),
                     seed=seed, **settings)
storage = optuna.storages.RDBStorage(url, heartbeat_interval=2, grace_period=10)
study = optuna.load_study(study_name=name, storage=storage, sampler=sampler)

def objective(trial):
    if not within_budget(trial, budget):
        raise optuna.TrialPruned("budget reached")
    arch = suggest_architecture(trial, space)
    time.sleep(sleep_s)
    return float(oracle(arch))

# Start together: the clock measures the study, not the imports of a loaded machine.
Path(ready_dir, f"ready-{seed}").touch()
while len(list(Path(ready_dir).glob("ready-*"))) < int(n_workers):
    time.sleep(0.05)
study.optimize(objective)
"""


def run_workers(n_workers, seed, config):
    import optuna
    from optuna.trial import TrialState

    part = config["parallel"]
    settings = {
        k: part[k] for k in ("n_startup_trials", "top_k", "refit_every", "n_candidates", "n_tiers")
    }
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/study.db"
        name = f"workers-{n_workers}-seed-{seed}"
        optuna.create_study(study_name=name, storage=url, direction="maximize")
        env = {
            **os.environ,
            "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "OMP_NUM_THREADS": "1",
        }
        started = time.perf_counter()
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _WORKER,
                    url,
                    name,
                    part["benchmark"],
                    str(part["budget"]),
                    str(part["sleep_s"]),
                    str(seed * 100 + index),
                    json.dumps(settings),
                    tmp,
                    str(n_workers),
                ],
                cwd=root,
                env=env,
            )
            for index in range(n_workers)
        ]
        codes = [worker.wait() for worker in workers]
        total_s = time.perf_counter() - started
        study = optuna.load_study(study_name=name, storage=url)
        trials = study.get_trials(states=[TrialState.COMPLETE])
        first = min(t.datetime_start for t in study.trials)
        last = max(t.datetime_complete for t in study.trials if t.datetime_complete)
        keys = [t.user_attrs.get("sknar_network") for t in trials]
        return [
            {
                "part": "workers",
                "benchmark": part["benchmark"],
                "n_workers": n_workers,
                "seed": seed,
                "budget": part["budget"],
                "sleep_s": part["sleep_s"],
                "exit_codes": codes,
                "n_complete": len(trials),
                "n_distinct_networks": len(set(keys)),
                "best": max(t.value for t in trials),
                "wall_s": (last - first).total_seconds(),
                "total_s": total_s,
                "startup_s": total_s - (last - first).total_seconds(),
            }
        ]


def tasks(config, seeds, quick):
    out = []
    for seed in seeds:
        for key in config["benchmarks"]:
            for method in config["methods"]:
                out.append(
                    Task(
                        f"{key} seed={seed} {method}",
                        lambda k=key, m=method, s=seed: run_method(k, m, s, config, quick),
                    )
                )
    if config.get("parallel"):
        for seed in range(config["parallel"]["seeds"]):
            for n in config["parallel"]["workers"]:
                out.append(
                    Task(
                        f"{n} worker(s) seed={seed}", lambda n=n, s=seed: run_workers(n, s, config)
                    )
                )
    return out



def report(payload):
    records = payload["records"]
    search = [r for r in records if r["part"] == "search"]
    lines = [
        "## sknar inside Optuna",
        "",
        "NAS-Bench-201 with a table oracle: NAR sampler in an Optuna study, Optuna's TPE "
        "(multivariate) and GP samplers, and sknar's tier search, same seeds "
        f"({len({r['seed'] for r in search})} seeds), ranker `{payload['config']['ranker']}`. "
        "Best-so-far accuracy (mean ± std over seeds); `optimum` = searches that found the "
        "best cell; `repeats` = trials of a cell already evaluated (mean), `twins` = trials "
        "of a network already evaluated (isomorphic twins included). Budget "
        f"{payload['config']['budget']} trials; the NAR sampler and the tier search draw their "
        f"first {payload['config']['tier_search']['n_initial']} uniformly.",
        "",
    ]
    for key in dict.fromkeys(r["benchmark"] for r in search):
        budget = payload["config"]["budget"]
        checks = [c for c in CHECKPOINTS if c <= budget]
        optimum = next(r["optimum"] for r in search if r["benchmark"] == key)
        lines += [
            f"**{common.BENCHMARK_LABELS.get(key, key)}** (optimum {optimum:.2f})",
            "",
            "| method | "
            + " | ".join(f"best@{c}" for c in checks)
            + " | optimum | repeats | twins | wall s |",
            "|---|" + "---|" * (len(checks) + 4),
        ]
        for method in METHODS:
            runs = [r for r in search if r["benchmark"] == key and r["method"] == method]
            if not runs:
                continue
            cells = [
                common.format_mean_std([r["best_at"].get(str(c)) for r in runs]) for c in checks
            ]
            found = sum(r["found_optimum"] for r in runs)
            lines.append(
                f"| {method} | "
                + " | ".join(cells)
                + f" | {found}/{len(runs)} | {np.mean([r['repeats'] for r in runs]):.1f} | "
                f"{np.mean([r['repeats_network'] for r in runs]):.1f} | "
                f"{np.mean([r['wall_s'] for r in runs]):.0f} |"
            )
        lines.append("")
    workers = [r for r in records if r["part"] == "workers"]
    if workers:
        one = np.mean([r["wall_s"] for r in workers if r["n_workers"] == 1] or [np.nan])
        lines += [
            "Workers on one SQLite study (NAR sampler, forest ranker, oracle sleeping "
            f"{workers[0]['sleep_s']} s, budget {workers[0]['budget']}):",
            "",
            "| workers | completed | distinct networks | wall s | ratio to 1 | start-up s |",
            "|---|---|---|---|---|---|",
        ]
        for r in workers:
            lines.append(
                f"| {r['n_workers']} | {r['n_complete']} | {r['n_distinct_networks']} | "
                f"{r['wall_s']:.1f} | {r['wall_s'] / one:.2f} | {r['startup_s']:.1f} |"
            )
        lines.append("")
    return "\n".join(lines)


def answer(payload):
    """Is the NAR sampler at or above TPE and GP at every budget, and near tier search?"""
    search = [r for r in payload["records"] if r["part"] == "search"]
    lines = []
    for key in dict.fromkeys(r["benchmark"] for r in search):
        means = {}
        for method in METHODS:
            runs = [r for r in search if r["benchmark"] == key and r["method"] == method]
            if runs:
                means[method] = {
                    c: np.mean([r["best_at"][str(c)] for r in runs])
                    for c in CHECKPOINTS
                    if str(c) in runs[0]["best_at"]
                }
        if "NAR sampler" not in means:
            continue
        nar = means.pop("NAR sampler")
        for method, other in means.items():
            ahead = [c for c in nar if nar[c] >= other[c]]
            gaps = ", ".join(f"{c}: {nar[c] - other[c]:+.2f}" for c in nar)
            lines.append(
                f"- {common.BENCHMARK_LABELS.get(key, key)}: NAR sampler minus {method} "
                f"(mean best-so-far) at {gaps}; at or above it at {len(ahead)} of "
                f"{len(nar)} budgets."
            )
    workers = [r for r in payload["records"] if r["part"] == "workers"]
    one = [r["wall_s"] for r in workers if r["n_workers"] == 1]
    for r in workers:
        if r["n_workers"] > 1 and one:
            ratio = r["wall_s"] / np.mean(one)
            lines.append(
                f"- {r['n_workers']} workers on one SQLite study: {ratio:.2f}x "
                f"the wall time of one ({r['n_complete']} trials completed, "
                f"{r['n_distinct_networks']} distinct networks)."
            )
    return lines or ["- No Optuna comparison in this run."]
