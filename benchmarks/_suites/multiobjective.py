"""Several objectives and constraints on NAS-Bench-201: the front found against the true one.

Part one, two objectives (test accuracy max, and a cost min): each method searches with the
same seeds and budget, and at each checkpoint (50 / 100 / 200 queries) the suite measures

- ``hv``: the hypervolume of the front found (everything evaluated so far) as a fraction of
  the true front's (the table is complete), with the reference point (median accuracy of
  the table, largest cost of the table): where the trade-off matters (with the worst corner
  as reference nearly any 100 cells reach 0.99 and nothing can be told apart);
- ``front``: how many of the true front's networks were evaluated (networks: isomorphic
  NB201 cells are one network, :func:`sknar.integration.optuna.network_key`).

The cost is ``params`` (the space's exact parameter count of the dataset's network) or
``latency`` (the median forward time of batch 1 of every network, measured once on this
machine by :class:`sknar.oracles.LatencyOracle`, one thread, and kept in
``benchmarks/results/nb201_latency_<dataset>.json``: this machine's, this torch's). ``--models``
restricts the cost pairs (``--models params``).

Methods: ``tier search`` (sknar's TierSearch with several objectives: bands of
non-dominated rank, NAR ranker), ``tier search (forest)`` (the same with a random-forest
ranker on one-hot adjacency, for runs where NAR is too slow), ``random`` (RandomSearch),
``NSGA-II`` and ``TPE`` (Optuna's ``NSGAIISampler`` and multi-objective ``TPESampler``
through :func:`sknar.integration.optuna.suggest_architecture`).

Part two, constrained: the best test accuracy with FLOPs at most the median cell's
(sknar: ``constraints={"flops": ("<=", median)}``, kept before any query; Optuna:
``constraints_func``, learnt from): the best feasible accuracy found by 100 queries and the
searches that found the constrained optimum.
"""

import functools
import json
import re
import time
from pathlib import Path

import numpy as np

from .. import _common as common
from ._task import Task

CHECKPOINTS = (50, 100, 200)
METHODS = ("tier search", "tier search (forest)", "random", "NSGA-II", "TPE")
CONSTRAINED_BY = 100
CONFIGS = {
    "full": {
        "benchmarks": ["nb201-cifar10", "nb201-cifar100", "nb201-ImageNet16-120"],
        "budget": 200,
        "methods": list(METHODS),
        "models": ["params", "latency"],
        "constrained": True,
        "tier_search": {"n_initial": 20, "n_candidates": 500, "top_k": 10, "n_tiers": 5},
        "latency": {"n_repeats": 7, "n_warmup": 1, "n_threads": 1},
    },
    "quick": {
        "benchmarks": ["nb201-cifar100"],
        "budget": 50,
        "methods": ["tier search (forest)", "random", "NSGA-II", "TPE"],
        "models": ["params"],
        "constrained": True,
        "tier_search": {"n_initial": 20, "n_candidates": 100, "top_k": 10, "n_tiers": 3},
        "latency": {"n_repeats": 3, "n_warmup": 1, "n_threads": 1},
    },
}
DEFAULT_SEEDS = {"full": 20, "quick": 1}
LATENCY_FILE = "nb201_latency_{dataset}.json"
LATENCY_KEY_TEXT = (
    "the NAS-Bench-201 cell as written, one digit per edge (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, "
    "3<-2): the index of its operation in (none, skip_connect, nor_conv_1x1, nor_conv_3x3, "
    "avg_pool_3x3); ms: median forward time of batch 1"
)
# The network and input of each NB201 dataset, as the latency oracle builds and times them.
LATENCY_NETWORKS = {
    "cifar10": {"input_shape": (3, 32, 32), "network_params": {"n_classes": 10}},
    "cifar100": {"input_shape": (3, 32, 32), "network_params": {"n_classes": 100}},
    "ImageNet16-120": {"input_shape": (3, 16, 16), "network_params": {"n_classes": 120}},
}


# --- the tables ------------------------------------------------------------------------------


def _costs(data, cost):
    """The cost column of every row of the table."""
    if cost == "params":
        _, params = data["space"].total_costs(data["archs"], data["cost_dataset"])
        return params.astype(np.float64)
    if cost == "flops":
        flops, _ = data["space"].total_costs(data["archs"], data["cost_dataset"])
        return flops.astype(np.float64)
    return latency_table(data, CONFIGS["full"]["latency"])


def latency_key(space, arch):
    """The key of a cell in the latency files: one digit per edge, the index of the edge's
    operation in ``space.op_names``. Cells as written, not their representatives: isomorphic
    twins compute the same function but not at the same cost (a cell whose convolutions
    feed no path to the output still runs them: 5.7 ms against 0.5 ms for the cell of
    ``none`` it equals)."""
    ops = re.findall(r"([A-Za-z0-9_]+)~[0-9]+", str(space.validate(arch)))
    return "".join(str(space.op_names.index(op)) for op in ops)


def latency_table(data, params, out_dir=common.DEFAULT_OUT):
    """The latency (ms) of every row's network, measured once per cell on this machine
    and kept in ``<out_dir>/nb201_latency_<dataset>.json`` (reused, extended when rows are
    missing)."""
    from sknar.oracles import LatencyOracle

    dataset = data.get("cost_dataset") or "cifar10"
    path = Path(out_dir) / LATENCY_FILE.format(dataset=dataset)
    stored = json.loads(path.read_text()) if path.is_file() else {"ms": {}}
    space = data["space"]
    keys = [latency_key(space, arch) for arch in data["archs"]]
    missing = {key: arch for key, arch in zip(keys, data["archs"]) if key not in stored["ms"]}
    if missing:
        oracle = LatencyOracle(space, cache=False, **LATENCY_NETWORKS.get(dataset, {}), **params)
        for key, arch in missing.items():
            stored["ms"][key] = round(float(oracle(arch)), 4)
        stored["measured_on"] = {
            k: v for k, v in oracle.measure(data["archs"][0]).items() if not k.endswith("_ms")
        }
        stored["params"] = params
        stored["key"] = LATENCY_KEY_TEXT
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=0))
    return np.array([stored["ms"][key] for key in keys], dtype=np.float64)


@functools.cache
def _truth_of(key, cost):
    return _truth(common.load_benchmark(key), cost)


def _truth(data, cost):
    from sknar.integration.optuna import network_key
    from sknar.metrics import hypervolume, pareto_front

    y = np.asarray(data["y"], dtype=np.float64)
    costs = _costs(data, cost)
    points = np.column_stack([y, costs])
    mask = pareto_front(points, ["max", "min"])
    reference = [float(np.median(y)), float(costs.max())]
    space = data["space"]
    return {
        "points": points,
        "reference": reference,
        "hv": hypervolume(points[mask], reference, ["max", "min"]),
        "front": {network_key(space, arch) for arch in np.asarray(data["archs"], object)[mask]},
        "row": {space.hash(arch): row for row, arch in enumerate(data["archs"])},
    }


# --- the searches ----------------------------------------------------------------------------


def _sknar_search(method, data, seed, config, quick, objectives, constraints, oracle, budget):
    from sknar import TierSampler
    from sknar.search import RandomSearch, TierSearch

    space = data["search_space"]
    if method == "random":
        search = RandomSearch(space, objectives=objectives, constraints=constraints,
                              random_state=seed)
    else:
        kind = "forest" if "forest" in method else "nar"
        search = TierSearch(
            space,
            ranker=common.search_ranker(kind, data, seed, quick),
            sampler=TierSampler(space, dataset=data["cost_dataset"]),
            objectives=objectives,
            constraints=constraints,
            random_state=seed,
            **config["tier_search"],
        )
    return list(search.run(oracle, budget).archs)


def _optuna_search(method, data, seed, budget, directions, objective, constraints_func=None):
    import optuna

    from sknar.integration.optuna import suggest_architecture

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = data["search_space"]
    # Optuna 5 takes constraints from trial.set_constraint; older versions from a function.
    new_style = hasattr(optuna.trial.Trial, "set_constraint")
    options = {} if new_style or constraints_func is None else {
        "constraints_func": constraints_func
    }
    if method == "NSGA-II":
        sampler = optuna.samplers.NSGAIISampler(seed=seed, **options)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, **options)
    archs = []

    def run_trial(trial):
        arch = suggest_architecture(trial, space)
        archs.append(arch)
        value = objective(trial, arch)
        if constraints_func is not None and new_style:
            for index, violation in enumerate(constraints_func(trial)):
                trial.set_constraint(f"constraint_{index}", violation)
        return value

    study = optuna.create_study(directions=directions, sampler=sampler)
    study.optimize(run_trial, n_trials=budget)
    return archs


def run_pair(key, cost, method, seed, config, quick):
    from sknar.integration.optuna import network_key
    from sknar.metrics import hypervolume, pareto_front
    from sknar.oracles import MetricsOracle, TabularOracle

    data = common.load_benchmark(key)
    truth = _truth_of(key, cost)
    space, budget = data["space"], config["budget"]
    points = truth["points"]
    started = time.perf_counter()
    if method in ("NSGA-II", "TPE"):
        def objective(trial, arch):
            row = truth["row"][space.hash(arch)]
            return float(points[row, 0]), float(points[row, 1])

        archs = _optuna_search(method, data, seed, budget, ["maximize", "minimize"], objective)
    else:
        table = TabularOracle(data["archs"], data["y"], space=space)
        if cost == "latency":
            oracle = MetricsOracle({
                "accuracy": table,
                "latency": TabularOracle(data["archs"], points[:, 1], space=space),
            })
            cost_name = "latency"
        else:
            oracle, cost_name = table, f"{cost}@{data['cost_dataset']}"
        objectives = {"accuracy": "max", cost_name: "min"}
        archs = _sknar_search(method, data, seed, config, quick, objectives, None, oracle,
                              budget)
    rows = [truth["row"][space.hash(arch)] for arch in archs]
    at = {}
    for checkpoint in (c for c in CHECKPOINTS if c <= len(rows)):
        found = points[rows[:checkpoint]]
        mask = pareto_front(found, ["max", "min"])
        hv = hypervolume(found[mask], truth["reference"], ["max", "min"])
        networks = {network_key(space, data["archs"][row]) for row in rows[:checkpoint]}
        at[str(checkpoint)] = {
            "hv": hv / truth["hv"],
            "front": len(networks & truth["front"]),
        }
    return [{
        "part": "front",
        "benchmark": key,
        "cost": cost,
        "method": method,
        "seed": seed,
        "n_queries": len(rows),
        "n_true_front": len(truth["front"]),
        "reference": truth["reference"],
        "at": at,
        "wall_s": time.perf_counter() - started,
    }]


def run_constrained(key, method, seed, config, quick):
    from sknar.oracles import TabularOracle

    data = common.load_benchmark(key)
    space = data["space"]
    y = np.asarray(data["y"], dtype=np.float64)
    flops = _costs(data, "flops")
    bound = float(np.median(flops))
    optimum = float(y[flops <= bound].max())
    row_of = {space.hash(arch): row for row, arch in enumerate(data["archs"])}
    budget = min(CONSTRAINED_BY, config["budget"])
    started = time.perf_counter()
    if method in ("NSGA-II", "TPE"):
        def objective(trial, arch):
            row = row_of[space.hash(arch)]
            trial.set_user_attr("constraint", [flops[row] - bound])
            return float(y[row])

        archs = _optuna_search(
            method, data, seed, budget, ["maximize"], objective,
            constraints_func=lambda trial: trial.user_attrs["constraint"],
        )
    else:
        archs = _sknar_search(
            method, data, seed, config, quick, None,
            {f"flops@{data['cost_dataset']}": ("<=", bound)},
            TabularOracle(data["archs"], data["y"], space=space), budget,
        )
    rows = [row_of[space.hash(arch)] for arch in archs]
    feasible = [row for row in rows if flops[row] <= bound]
    best = float(y[feasible].max()) if feasible else None
    return [{
        "part": "constrained",
        "benchmark": key,
        "method": method,
        "seed": seed,
        "budget": budget,
        "bound_flops": bound,
        "optimum": optimum,
        "best": best,
        "found_optimum": best is not None and best >= optimum - 1e-9,
        "n_infeasible_queries": len(rows) - len(feasible),
        "wall_s": time.perf_counter() - started,
    }]


def tasks(config, seeds, quick):
    out = []
    for key in config["benchmarks"]:
        for cost in config["models"]:
            for seed in seeds:
                for method in config["methods"]:
                    out.append(Task(
                        f"{key} {cost} seed={seed} {method}",
                        lambda k=key, c=cost, m=method, s=seed: run_pair(k, c, m, s, config,
                                                                         quick),
                    ))
        if config.get("constrained"):
            for seed in seeds:
                for method in config["methods"]:
                    out.append(Task(
                        f"{key} constrained seed={seed} {method}",
                        lambda k=key, m=method, s=seed: run_constrained(k, m, s, config, quick),
                    ))
    return out


# --- report ----------------------------------------------------------------------------------



def report(payload):
    records = payload["records"]
    fronts = [r for r in records if r["part"] == "front"]
    constrained = [r for r in records if r["part"] == "constrained"]
    config = payload["config"]
    n_seeds = len(payload.get("seeds", [])) or len({r["seed"] for r in records})
    lines = [
        "## Several objectives and constraints",
        "",
        f"NAS-Bench-201, (test accuracy max, cost min), budget {config['budget']}, "
        f"{n_seeds} seed(s). `hv@k`: hypervolume of the front of the first k queries as a "
        "fraction of the true front's, reference (median accuracy, largest cost) of the "
        "table (mean ± std over seeds); `front@k`: true-front networks found (mean, of the "
        "true front's count). Tier search: bands of non-dominated rank, "
        f"{config['tier_search']}.",
        "",
    ]
    for key in dict.fromkeys(r["benchmark"] for r in fronts):
        for cost in dict.fromkeys(r["cost"] for r in fronts if r["benchmark"] == key):
            runs = [r for r in fronts if r["benchmark"] == key and r["cost"] == cost]
            checks = [c for c in CHECKPOINTS if str(c) in runs[0]["at"]]
            lines += [
                f"**{common.BENCHMARK_LABELS.get(key, key)}, accuracy vs {cost}** "
                f"(true front: {runs[0]['n_true_front']} networks)",
                "",
                "| method | " + " | ".join(f"hv@{c}" for c in checks) + " | "
                + " | ".join(f"front@{c}" for c in checks) + " | wall s |",
                "|---|" + "---|" * (2 * len(checks) + 1),
            ]
            for method in METHODS:
                chosen = [r for r in runs if r["method"] == method]
                if not chosen:
                    continue
                hv = [
                    common.format_mean_std([r["at"][str(c)]["hv"] for r in chosen])
                    for c in checks
                ]
                found = [
                    f"{np.mean([r['at'][str(c)]['front'] for r in chosen]):.1f}" for c in checks
                ]
                wall = np.mean([r["wall_s"] for r in chosen])
                lines.append(f"| {method} | " + " | ".join(hv + found) + f" | {wall:.1f} |")
            lines.append("")
    for key in dict.fromkeys(r["benchmark"] for r in constrained):
        runs = [r for r in constrained if r["benchmark"] == key]
        lines += [
            f"**{common.BENCHMARK_LABELS.get(key, key)}, best accuracy with FLOPs ≤ the median "
            f"cell's** ({runs[0]['bound_flops'] / 1e6:.1f} MFLOPs; constrained optimum "
            f"{runs[0]['optimum']:.2f}; {runs[0]['budget']} queries)",
            "",
            "| method | best feasible | optimum found | infeasible queries |",
            "|---|---|---|---|",
        ]
        for method in METHODS:
            chosen = [r for r in runs if r["method"] == method]
            if not chosen:
                continue
            found = sum(r["found_optimum"] for r in chosen)
            lines.append(
                f"| {method} | {common.format_mean_std([r['best'] for r in chosen])} | "
                f"{found}/{len(chosen)} | "
                f"{np.mean([r['n_infeasible_queries'] for r in chosen]):.1f} |"
            )
        lines.append("")
    return "\n".join(lines)
