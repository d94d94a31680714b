"""Search efficiency: best accuracy found against oracle calls.

NAR tier search, random search and regularized evolution run with the same oracle, budget
and seeds. The oracle returns the selection metric (NB201: test accuracy, the only 200-epoch
metric of the export; NB101: 108-epoch validation accuracy; NAS-Bench-Graph: validation
accuracy, with test accuracy recorded beside it and never used to choose). On NB101 the
searches draw from the 20k slice (the table's ``search_space``) so that every query has an
answer.

Beside them: tier search with the library's defaults (what a user gets), the small-budget
tier search (a start-up of the best of a uniform pool by data-free SynFlow, then small
rounds; NB201 only) and the same small steps with a uniform start-up, and Optuna's
``TPESampler(multivariate=True)`` and ``GPSampler`` through ``suggest_architecture`` (the
optuna suite's studies, charged for every trial; not on the NB101 slice). ``searcher s`` is
each searcher's own time per search (asks and fits, not the oracle).
"""

import numpy as np

from .. import _common as common
from ._task import Task

# Training-free knowledge of the small-budget tier search: data-free SynFlow of each cell's
# network, built small (C=8, N=1: ~0.01 CPU s a network) on a 16x16 all-ones input, cached
# per network in one file that every seed and process of a run shares.
SYNFLOW_PRIOR = {"network_params": {"C": 8, "N": 1}, "image_size": 16}
SYNFLOW_CACHE = "/tmp/sknar-bench-synflow-{space}.json"

NAR_TIER = "tier search"
FOREST_TIER = "tier search (forest ranker)"
# The library's defaults (what a user gets), NAR ranker included.
DEFAULT_TIER = "tier search (defaults)"
# Small steps with a training-free start-up: SYNFLOW_PRIOR, ``small_steps`` settings.
SYNFLOW_TIER = "tier search (SynFlow start-up)"
# The same small steps with a uniform start-up: what the prior alone brings.
SMALL_TIER = "tier search (small steps)"
TIER_METHODS = (NAR_TIER, FOREST_TIER, DEFAULT_TIER, SYNFLOW_TIER, SMALL_TIER)
# Optuna's samplers through their own library (the optuna suite's studies).
OPTUNA_METHODS = ("TPE", "GP")
BASELINE_METHODS = ("random search", "regularized evolution", *OPTUNA_METHODS)


CHECKPOINTS = (25, 50, 100, 150, 200, 300, 400, 500)
CONFIGS = {
    "full": {
        "benchmarks": [
            "nb201-cifar10",
            "nb201-cifar100",
            "nb201-ImageNet16-120",
            "nb101",
            "graph-cora",
        ],
        # 200 calls, the NAR ranker refitted every second round (4 fits a search): 20 seeds of
        # the five benchmarks and four methods took 43 minutes here (NAR tier search 29 of
        # them, two processes on two cores).
        "budget": 200,
        "methods": [
            "tier search",
            "tier search (forest ranker)",
            "random search",
            "regularized evolution",
            DEFAULT_TIER,
            SYNFLOW_TIER,
            SMALL_TIER,
            "TPE",
            "GP",
        ],
        "tier_search": {
            "n_initial": 40,
            "n_candidates": 1000,
            "top_k": 20,
            "n_tiers": 5,
            "noise": 0.5,
            "refit": 2,
        },
        "evolution": {"population_size": 10, "sample_size": 3},
        # The small-budget tier search: a SynFlow-ranked start-up and small rounds (chosen on
        # validation seeds 100..102, see benchmarks/results/notes.md).
        "small_steps": {
            "n_initial": 10,
            "n_prior_pool": 1000,
            "n_candidates": 1000,
            "top_k": 5,
            "n_tiers": 3,
            "noise": 0.5,
            "refit": 1,
        },
        "merge_isomorphic": True,
    },
    "quick": {
        "benchmarks": ["nb201-cifar10", "nb101", "graph-cora"],
        "budget": 40,
        "methods": ["tier search", "random search", "regularized evolution", SYNFLOW_TIER,
                    "TPE"],
        "tier_search": {
            "n_initial": 20,
            "n_candidates": 100,
            "top_k": 10,
            "n_tiers": 3,
            "noise": 0.5,
        },
        "evolution": {"population_size": 10, "sample_size": 3},
        "small_steps": {
            "n_initial": 5,
            "n_prior_pool": 50,
            "n_candidates": 100,
            "top_k": 5,
            "n_tiers": 2,
            "noise": 0.5,
            "refit": 1,
        },
        "merge_isomorphic": True,
    },
}
DEFAULT_SEEDS = {"full": 20, "quick": 1}




def forest_ranker(space):
    """The tier search's ranker with a random forest on one-hot cells instead of NAR.

    It isolates what the sampler and the search loop bring from what the NAR ranker brings.
    """
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import make_pipeline

    from sknar.encoding import AdjacencyOneHotEncoder

    return make_pipeline(
        AdjacencyOneHotEncoder(space), RandomForestRegressor(n_estimators=100, n_jobs=1)
    )


STRATEGY_OF_METHOD = {
    NAR_TIER: "tier",
    FOREST_TIER: "tier",
    DEFAULT_TIER: "tier",
    SYNFLOW_TIER: "tier",
    SMALL_TIER: "tier",
    "random search": "random",
    "regularized evolution": "evolution",
}


def make_searcher(method, data, seed, config, quick, *, ranker=None, noise=None):
    """One searcher of the comparison (tier search gets a NAR pipeline unless ``ranker``)."""
    from sklearn.pipeline import make_pipeline

    from sknar.encoding import NARFeatureEncoder
    from sknar.search import make_searcher as searcher_of

    if method not in STRATEGY_OF_METHOD:
        raise ValueError(f"unknown search method {method!r}")
    strategy, space = STRATEGY_OF_METHOD[method], data["search_space"]
    if strategy == "evolution":
        return searcher_of(strategy, space, random_state=seed, **config["evolution"])
    if strategy == "random":
        return searcher_of(strategy, space, random_state=seed)
    if method == DEFAULT_TIER:
        return searcher_of(strategy, space, dataset=data["cost_dataset"], random_state=seed)
    settings = dict(config["small_steps" if method in (SYNFLOW_TIER, SMALL_TIER) else
                           "tier_search"])
    if method == SYNFLOW_TIER:
        settings["initial_prior"] = synflow_prior(space)
    else:
        settings.pop("n_prior_pool", None)
    default_noise = settings.pop("noise")
    if ranker is None and method == FOREST_TIER:
        ranker = forest_ranker(space)
    if ranker is None:
        ranker = make_pipeline(
            NARFeatureEncoder(space, dataset=data["cost_dataset"], **config.get("nar_encoder", {})),
            common.nar_ranker(seed=seed, quick=quick, **config.get("nar_ranker", {})),
        )
    return searcher_of(
        strategy,
        space,
        dataset=data["cost_dataset"],
        ranker=ranker,
        random_state=seed,
        noise=default_noise if noise is None else noise,
        **settings,
    )


def synflow_prior(space):
    """The data-free SynFlow scorer of SYNFLOW_PRIOR, cached in SYNFLOW_CACHE."""
    from sknar.proxies import ZeroCostScorer

    return ZeroCostScorer(
        space,
        scores=["synflow"],
        cache=SYNFLOW_CACHE.format(space=space.name),
        **SYNFLOW_PRIOR,
    )


class _OptunaRun:
    """An Optuna study's trials in the shape of a search result (the optuna suite's study)."""

    def __init__(self, method, data, seed, config, quick, oracle):
        import time

        from .optuna import _run_study

        started = time.perf_counter()
        archs, values = _run_study(
            method, data, seed, {"budget": config["budget"],
                                 "merge_isomorphic": config.get("merge_isomorphic", True)},
            quick, oracle,
        )
        # The table oracle is a look-up: the study's wall time is the sampler's, measured as
        # the tier search's ask_time is (wall clock), so that both suffer the same load.
        self.ask_time = time.perf_counter() - started
        self.wall_time = self.ask_time
        hashes = [data["search_space"].hash(arch) for arch in archs]
        self.repeats = len(hashes) - len(set(hashes))
        self.values = np.asarray(values, dtype=float)
        self.n_queries = len(values)
        self.best_so_far = np.maximum.accumulate(self.values)
        self.best_value = float(self.best_so_far[-1])
        self.best_report_value = None  # NB201: the value is the test accuracy itself


def run_search(key, method, seed, config, quick, **searcher_kwargs):
    from sknar.datasets import benchmark_oracle

    data = common.load_benchmark(key)
    oracle = benchmark_oracle(data)
    with common.PeakMemory() as memory:
        if method in OPTUNA_METHODS:
            result = _OptunaRun(method, data, seed, config, quick, oracle)
        else:
            searcher = make_searcher(method, data, seed, config, quick, **searcher_kwargs)
            result = searcher.run(oracle, config["budget"])
    optimum = float(data["y"].max())
    best = result.best_so_far
    return {
        "benchmark": key,
        "method": method,
        "seed": seed,
        "budget": config["budget"],
        "n_queries": result.n_queries,
        "improvements": improvements(result.values),
        "best_at": {str(c): float(best[c - 1]) for c in CHECKPOINTS if c <= len(best)},
        "best": result.best_value,
        "best_report": result.best_report_value,
        "optimum": optimum,
        "found_optimum": bool(result.best_value >= optimum - 1e-9),
        "wall_s": result.wall_time,
        "search_s": result.ask_time,
        "repeats": getattr(result, "repeats", 0),
        "peak_mib": memory.peak_mib,
    }


def applies(key, method):
    """Whether ``method`` runs on benchmark ``key``: Optuna cannot be held to the NB101
    slice's 20,001 cells; the SynFlow prior's network settings are NB201's."""
    if method in OPTUNA_METHODS:
        return key.startswith("nb201") or key.startswith("graph")
    if method == SYNFLOW_TIER:
        return key.startswith("nb201")
    return True


def tasks(config, seeds, quick):
    # Seed-major order: a run stopped early still has every benchmark and method.
    out = []
    for seed in seeds:
        for key in config["benchmarks"]:
            for method in config["methods"]:
                if not applies(key, method):
                    continue
                out.append(
                    Task(
                        f"{key} seed={seed} {method}",
                        lambda k=key, m=method, s=seed: [run_search(k, m, s, config, quick)],
                    )
                )
    return out


def _grouped(records):
    groups = {}
    for record in records:
        groups.setdefault((record["benchmark"], record["method"]), []).append(record)
    return groups


def report(payload):
    records = payload["records"]
    budget = payload["config"]["budget"]
    checkpoints = sorted({c for c in CHECKPOINTS if c <= budget} | {budget})
    lines = [
        "## Search efficiency",
        "",
        f"Budget {payload['config']['budget']} oracle calls, seeds {_seed_text(payload)}. "
        "Best value found after n oracle calls: mean ± std over seeds; `optimum` counts "
        "the seeds that found the table's best architecture (by the selection metric). "
        "NAS-Bench-Graph values are validation accuracies; `test@end` is the test accuracy "
        "of the architecture chosen by validation.",
        "",
        "| benchmark | method | "
        + " | ".join(f"@{c}" for c in checkpoints)
        + " | optimum | test@end | searcher s |",
        "|---|---|" + "---|" * (len(checkpoints) + 3),
    ]
    for (key, method), runs in _grouped(records).items():
        row = [common.BENCHMARK_LABELS.get(key, key), method]
        digits = _digits(runs[0]["optimum"])
        for c in checkpoints:
            mean, std, n = common.mean_std([_best_at(r, c) for r in runs])
            row.append(f"{mean:.{digits}f} ± {std:.{digits}f}" if n else "–")
        found = sum(r["found_optimum"] for r in runs)
        row.append(f"{found}/{len(runs)} (best {_fmt(runs[0]['optimum'])})")
        report_mean = common.mean_std([r["best_report"] for r in runs])
        row.append(_fmt(report_mean[0]) if report_mean[2] else "–")
        row.append(f"{common.mean_std([r.get('search_s', r['wall_s']) for r in runs])[0]:.1f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines + _optimum_table(records, budget)) + "\n"


# Where the report counts the searches that found the optimum.
OPTIMUM_CHECKPOINTS = (50, 100, 200)


def _optimum_table(records, budget):
    """Searches that found the optimum, and the mean gap to it, after 100 and 200 calls."""
    checkpoints = [c for c in OPTIMUM_CHECKPOINTS if c <= budget]
    if not checkpoints:
        return []
    lines = [
        "",
        "Found the optimum (searches whose best value so far is the table's best, by the "
        "selection metric) and mean gap to the optimum, after "
        + " and ".join(str(c) for c in checkpoints)
        + " oracle calls:",
        "",
        "| benchmark | method | "
        + " | ".join(f"found @{c}" for c in checkpoints)
        + " | "
        + " | ".join(f"gap @{c}" for c in checkpoints)
        + " |",
        "|---|---|" + "---|" * (2 * len(checkpoints)),
    ]
    for (key, method), runs in _grouped(records).items():
        found, gaps = [], []
        for c in checkpoints:
            pairs = [(_best_at(r, c), r["optimum"]) for r in runs]
            pairs = [(best, optimum) for best, optimum in pairs if best is not None]
            hits = sum(best >= optimum - 1e-9 for best, optimum in pairs)
            found.append(f"{hits}/{len(pairs)}" if pairs else "–")
            gap = common.mean_std([optimum - best for best, optimum in pairs])
            gaps.append(_fmt(gap[0]) if gap[2] else "–")
        label = common.BENCHMARK_LABELS.get(key, key)
        lines.append(f"| {label} | {method} | " + " | ".join(found + gaps) + " |")
    return lines


def _seed_text(payload):
    seeds = sorted({r["seed"] for r in payload["records"]})
    return f"{seeds[0]}..{seeds[-1]} ({len(seeds)})" if len(seeds) > 3 else str(seeds)


def improvements(values):
    """The best-so-far curve as ``[call, value]`` pairs where it rises (calls from 1).

    It is what the report and plots need, in a few pairs per search instead of one value
    per query (which made the results file of a full run over 1 MB).
    """
    points, best = [], -np.inf
    for call, value in enumerate(np.asarray(values, dtype=float), start=1):
        if value > best:
            points.append([call, float(value)])
            best = value
    return points


def best_so_far(record):
    """The best value after each call, rebuilt from the record."""
    curve = np.full(record["n_queries"], np.nan)
    for call, value in record["improvements"]:
        curve[call - 1] = value
    return np.fmax.accumulate(curve)


def _best_at(record, calls):
    curve = best_so_far(record)
    return float(curve[calls - 1]) if len(curve) >= calls else None


def _digits(optimum):
    """Decimals for a metric: 2 for percentages, 4 for fractions."""
    return 2 if abs(optimum) > 2 else 4


def _fmt(value):
    return f"{value:.4f}" if abs(value) < 2 else f"{value:.2f}"


def answer(payload, budget=200):
    """Does tier search beat random search and evolution at the same budget?"""
    groups = _grouped(payload["records"])
    budget = min(budget, payload["config"]["budget"])
    lines = []
    for key, tier_method in groups:
        if tier_method not in TIER_METHODS:
            continue
        tier = common.mean_std([_best_at(r, budget) for r in groups[(key, tier_method)]])[0]
        means = {
            m: common.mean_std([_best_at(r, budget) for r in groups[(key, m)]])[0]
            for m in BASELINE_METHODS
            if (key, m) in groups
        }
        parts = [f"{m} {_fmt(v)} ({tier - v:+.4g})" for m, v in means.items()]
        wins = all(tier > v for v in means.values())
        optimum = groups[(key, tier_method)][0]["optimum"]
        lines.append(
            f"- {common.BENCHMARK_LABELS.get(key, key)} at {budget} calls: {tier_method} mean "
            f"{_fmt(tier)} (gap to optimum {optimum - tier:.4g}) vs "
            + ", ".join(parts)
            + ("; it is ahead of both." if wins else "; it is NOT ahead of both.")
        )
    return lines or ["- No search comparison in this run."]


def plot(payload, out_dir, label="search"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = _grouped(payload["records"])
    keys = list(dict.fromkeys(k for k, _ in groups))
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for (k, method), runs in groups.items():
            if k != key:
                continue
            curves = np.array([best_so_far(r) for r in runs])
            mean, std = curves.mean(axis=0), curves.std(axis=0)
            x = np.arange(1, curves.shape[1] + 1)
            ax.plot(x, mean, label=method)
            ax.fill_between(x, mean - std, mean + std, alpha=0.2)
        ax.axhline(
            groups[next(g for g in groups if g[0] == key)][0]["optimum"],
            color="k",
            linestyle=":",
            linewidth=1,
        )
        ax.set_xscale("log")
        ax.set_title(common.BENCHMARK_LABELS.get(key, key))
        ax.set_xlabel("oracle calls")
        ax.set_ylabel("best value found")
        low = np.percentile(
            [
                r["best_at"].get("25", r["best"])
                for r in sum((v for g, v in groups.items() if g[0] == key), [])
            ],
            5,
        )
        ax.set_ylim(bottom=low)
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path = out_dir / f"{label}_best_so_far.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
