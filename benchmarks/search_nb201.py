"""NAS-Bench-201 search benchmark: NAR tier search vs random search vs regularized evolution.

For each dataset (CIFAR-10, CIFAR-100, ImageNet16-120) and each seed, the three searches run
with the same oracle (the 200-epoch test accuracy, the only metric of the export) and the same
budget of oracle calls. The script reports, per dataset and method, the mean and standard
deviation of the best accuracy found, how often the global optimum was found, the mean best
accuracy after 50 and 100 queries, and the run time; it writes
``benchmarks/results/search_nb201.json`` and ``.md``.

Usage::

    python benchmarks/search_nb201.py                 # 20 seeds, budget 200, NAR ranker
    python benchmarks/search_nb201.py --seeds 3 --ranker forest   # quick look
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from sklearn.pipeline import make_pipeline

from sknar._oracles import TabularOracle
from sknar.sampler import TierSampler
from sknar.search import RandomSearch, RegularizedEvolution, TierSearch

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
OPTIMA = {"cifar10": 94.37, "cifar100": 73.51, "ImageNet16-120": 47.31}
RESULTS = Path(__file__).resolve().parent / "results"


def make_ranker(kind, space, dataset):
    """The ranker of the tier search: the NAR pipeline, or a forest on one-hot cells."""
    if kind == "nar":
        from sknar.ranker import NARRanker

        from sknar.encoding import NARFeatureEncoder

        return make_pipeline(
            NARFeatureEncoder(space, dataset=dataset), NARRanker(**NAR_SETTINGS)
        )
    from sklearn.ensemble import RandomForestRegressor

    from sknar.encoding import AdjacencyOneHotEncoder

    return make_pipeline(
        AdjacencyOneHotEncoder(space), RandomForestRegressor(n_estimators=100, n_jobs=1)
    )


# A small, fast NAR: the CPU budget of the whole benchmark is a few minutes per method.
NAR_SETTINGS = {}


def tier_search(space, dataset, ranker_kind, seed):
    sampler = TierSampler(space, dataset=dataset, noise=0.5)
    return TierSearch(
        make_ranker(ranker_kind, space, dataset),
        sampler,
        space,
        n_initial=40,
        n_candidates=1000,
        top_k=20,
        n_tiers=5,
        random_state=seed,
    )


def run(seeds, budget, ranker_kind):
    records = []
    for dataset in DATASETS:
        oracle = TabularOracle.from_nasbench201(dataset)
        space = oracle.space
        optimum = float(max(oracle(arch) for arch in oracle.archs))
        methods = {
            "NAR tier search": lambda seed, space=space, dataset=dataset: tier_search(
                space, dataset, ranker_kind, seed
            ),
            "random search": lambda seed, space=space: RandomSearch(space, random_state=seed),
            "regularized evolution": lambda seed, space=space: RegularizedEvolution(
                space, population_size=10, sample_size=3, random_state=seed
            ),
        }
        for seed in range(seeds):
            for method, build in methods.items():
                result = build(seed).run(oracle, budget)
                curve = result.best_so_far
                records.append(
                    {
                        "dataset": dataset,
                        "method": method,
                        "seed": seed,
                        "best": result.best_value,
                        "best_at_50": float(curve[49]),
                        "best_at_100": float(curve[99]),
                        "found_optimum": bool(result.best_value >= optimum - 1e-9),
                        "wall_time_s": result.wall_time,
                        "optimum": optimum,
                    }
                )
                print(
                    f"{dataset:15s} seed {seed:2d} {method:22s} best {result.best_value:.3f} "
                    f"({result.wall_time:.1f} s)",
                    flush=True,
                )
    return records


def summarise(records):
    rows = []
    for dataset in DATASETS:
        for method in dict.fromkeys(r["method"] for r in records):
            runs = [r for r in records if r["dataset"] == dataset and r["method"] == method]
            if not runs:
                continue
            best = np.array([r["best"] for r in runs])
            rows.append(
                {
                    "dataset": dataset,
                    "method": method,
                    "n_seeds": len(runs),
                    "mean_best": float(best.mean()),
                    "std_best": float(best.std(ddof=1)) if len(runs) > 1 else 0.0,
                    "min_best": float(best.min()),
                    "gap_to_optimum": float(runs[0]["optimum"] - best.mean()),
                    "optimum_found": int(sum(r["found_optimum"] for r in runs)),
                    "mean_best_at_50": float(np.mean([r["best_at_50"] for r in runs])),
                    "mean_best_at_100": float(np.mean([r["best_at_100"] for r in runs])),
                    "mean_wall_time_s": float(np.mean([r["wall_time_s"] for r in runs])),
                }
            )
    return rows


def markdown(rows, settings):
    lines = [
        "# NAS-Bench-201 search benchmark",
        "",
        f"Budget {settings['budget']} oracle calls (test accuracy, 200 epochs), "
        f"{settings['seeds']} seeds, ranker `{settings['ranker']}`, "
        f"total run time {settings['total_time_s'] / 60:.1f} min on {settings['machine']}.",
        "",
        "| dataset | method | mean best (%) | std | worst | gap to optimum | optimum found "
        "| best@50 | best@100 | s / search |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['dataset']} | {row['method']} | {row['mean_best']:.3f} | "
            f"{row['std_best']:.3f} | {row['min_best']:.2f} | {row['gap_to_optimum']:.3f} | "
            f"{row['optimum_found']}/{row['n_seeds']} | {row['mean_best_at_50']:.3f} | "
            f"{row['mean_best_at_100']:.3f} | {row['mean_wall_time_s']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--ranker", choices=("nar", "forest"), default="nar")
    parser.add_argument("--output", default="search_nb201")
    args = parser.parse_args()
    started = time.perf_counter()
    records = run(args.seeds, args.budget, args.ranker)
    settings = {
        "seeds": args.seeds,
        "budget": args.budget,
        "ranker": args.ranker,
        "nar_settings": NAR_SETTINGS if args.ranker == "nar" else None,
        "total_time_s": time.perf_counter() - started,
        "machine": f"{platform.machine()} CPU, {platform.python_version()}",
    }
    rows = summarise(records)
    RESULTS.mkdir(exist_ok=True)
    payload = {"settings": settings, "summary": rows, "runs": records}
    (RESULTS / f"{args.output}.json").write_text(json.dumps(payload, indent=2))
    (RESULTS / f"{args.output}.md").write_text(markdown(rows, settings))
    print(markdown(rows, settings))


if __name__ == "__main__":
    main()
