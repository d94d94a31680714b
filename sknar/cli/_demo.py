"""``sknar demo``: the whole method on one benchmark, end to end.

Fit NARRanker and a gradient-boosting baseline on a small training set, rank every held-out
architecture with both, run tier search and random search with the same budget, then print a
results table and save a figure and ``results.json``.
"""

import textwrap
import time
from pathlib import Path

from ._checks import check_writable
from ._common import load_benchmark_of
from ._errors import EXIT_OK, reading
from ._progress import Progress, score_in_chunks

__all__ = ["cmd_demo", "run_demo"]

MAX_EPOCHS = 40
TOP_K = (50, 500)
WIDTH = 95
# Where a random order's precision@k is at most this, finding none of the top k is no sign
# of a bad ranker: it is what chance gives most of the time.
CHANCE_NEAR_ZERO = 0.01
STRATEGIES = ("tier", "random")


def cmd_demo(args):
    """``sknar demo``: rank, compare, search, report, on one benchmark."""
    from sknar.datasets import BENCHMARKS, split_benchmark

    progress = Progress(args.quiet)
    check_writable(args.output, "--output", folder=True)
    progress(f"loading {args.benchmark}" + (f" ({args.dataset})" if args.dataset else ""))
    data = load_benchmark_of(args)
    progress(f"{len(data.archs)} architectures; target: {data.get('target_name', 'y')}")
    n_train = args.n_train or BENCHMARKS[args.benchmark].demo_n_train
    with reading(f"--n-train {n_train}"):
        split_benchmark(len(data.archs), n_train)
    run_demo(data, n_train=n_train, budget=args.budget, max_epochs=args.max_epochs or MAX_EPOCHS,
             seed=args.seed, output=args.output, progress=progress)
    return EXIT_OK


def compare_rankers(data, n_train, max_epochs, seed, progress):
    """Fit NARRanker and a gradient-boosting baseline; score both on the held-out rest."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline

    from sknar.datasets import split_benchmark
    from sknar.encoding import AdjacencyOneHotEncoder
    from sknar.metrics import ranking_report
    from sknar.ranker import make_nar_pipeline

    train, test = split_benchmark(len(data.archs), n_train, random_state=seed)
    archs_train = [data.archs[i] for i in train]
    archs_test = [data.archs[i] for i in test]
    y_train, y_test = data.y[train], data.y[test]
    models = {
        "NARRanker": make_nar_pipeline(
            data.space, dataset=data.cost_dataset, max_epochs=max_epochs, random_state=seed,
            verbose=progress.verbose,
        ),
        "gradient boosting (one-hot)": make_pipeline(
            AdjacencyOneHotEncoder(space=data.space),
            HistGradientBoostingRegressor(random_state=seed),
        ),
    }
    results = {}
    for name, model in models.items():
        progress(f"fitting {name} on {len(train)} architectures")
        start = time.perf_counter()
        model.fit(archs_train, y_train)
        fit_seconds = time.perf_counter() - start
        progress(f"scoring {len(test)} held-out architectures with {name}")
        scores, _ = score_in_chunks(model, archs_test, verbose=progress.verbose, desc=name)
        results[name] = {
            "fit_seconds": fit_seconds,
            "scores": scores,
            **ranking_report(y_test, scores, k=TOP_K),
        }
    return results, y_test


def save_figure(path, curves, best_possible, y_test, scores, title):
    """Best-so-far against oracle calls, and predicted against true rank, side by side."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import rankdata

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, curve in curves.items():
        left.plot(np.arange(1, len(curve) + 1), curve, label=name, lw=2)
    left.axhline(best_possible, color="k", ls="--", lw=1, label="best in the benchmark")
    left.set(xlabel="oracle calls", ylabel="best accuracy found", title="Search")
    left.legend(loc="lower right")
    left.grid(alpha=0.3)

    true_rank = rankdata(-np.asarray(y_test), method="average")
    predicted_rank = rankdata(-np.asarray(scores), method="average")
    shown = np.random.default_rng(0).permutation(len(true_rank))[:3000]
    right.scatter(true_rank[shown], predicted_rank[shown], s=3, alpha=0.35)
    right.plot([1, len(true_rank)], [1, len(true_rank)], color="k", lw=1, ls="--")
    right.set(
        xlabel="true rank (1 = best)", ylabel="rank predicted by NARRanker",
        title="Held-out architectures",
    )
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def format_table(header, rows):
    """A plain-text table with aligned columns."""
    cells = [[str(value) for value in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def top_k_facts(y_test, ks=TOP_K):
    """What precision@k can be on this test set: for each k, the share ``k / n`` of the test
    set that the true top k are, which is also the precision a random order scores on average
    (each of its k picks is a true top-k member with probability k / n), and the accuracies of
    the best and the k-th best."""
    import numpy as np

    ordered = np.sort(np.asarray(y_test, dtype=float))[::-1]
    return {
        str(k): {"share": k / len(ordered), "best": float(ordered[0]),
                 "kth_best": float(ordered[k - 1])}
        for k in ks if k <= len(ordered)
    }


def _precision_cell(precision, k):
    return f"{precision:.2f} ({round(precision * k)}/{k})"


def _ranking_rows(ranking):
    header = ["ranker", "Kendall tau", *(f"precision@{k}" for k in TOP_K), "fit (s)"]
    rows = [
        [
            name, f"{result['kendall_tau']:.3f}",
            *(_precision_cell(result[f"precision_at_{k}"], k) for k in TOP_K),
            f"{result['fit_seconds']:.1f}",
        ]
        for name, result in ranking.items()
    ]
    return header, rows


def precision_note(summary, n_test):
    """Why precision@k may be 0 (or near it) for a ranker that orders the set well."""
    facts = summary["top_k"]
    if not facts:
        return ""
    k = min(facts, key=int)
    fact = facts[k]
    zero = any(result.get(f"precision_at_{k}") == 0 for result in summary["ranking"].values())
    lines = [
        f"precision@k: the share of the {n_test} held-out architectures' true top k that the "
        "ranker puts in its own top k (found/k).",
        f"The true top {k} are the best {100 * fact['share']:.2g} % of them, "
        f"{fact['best'] - fact['kth_best']:.4f} apart ({fact['best']:.4f} to "
        f"{fact['kth_best']:.4f}); a random order finds {int(k) * fact['share']:.2g} of them "
        f"on average (precision {fact['share']:.3f}).",
    ]
    if zero and fact["share"] <= CHANCE_NEAR_ZERO:
        lines.append(
            f"So 0.00 at k={k} (none found) is near chance, and a common score for a ranker "
            f"trained on {summary['n_train']} architectures even when its order of the whole "
            "set is good (Kendall tau); the larger k and the searches below say more."
        )
    elif zero:
        lines.append(
            f"0.00 at k={k} (none found) is below chance: the ranker misses the very top of "
            "this test set, whatever its Kendall tau; the larger k says more."
        )
    return textwrap.fill(" ".join(lines), width=WIDTH)


def _search_rows(searches):
    reported = any(result.get("best_report_value") is not None for result in searches.values())
    header = ["search", "oracle calls", "best found"]
    header += ["its test accuracy"] if reported else []
    header += ["time (s)"]
    rows = []
    for name, result in searches.items():
        row = [f"{name} search", result["budget"], f"{result['best_value']:.4f}"]
        if reported:
            row.append(f"{result['best_report_value']:.4f}")
        rows.append([*row, f"{result['wall_seconds']:.1f}"])
    return header, rows


def format_report(summary, n_test):
    """The demo's results table, as printed."""
    return "\n".join(
        [
            f"\n{summary['benchmark']} ({summary['dataset']}): {summary['n_architectures']} "
            f"architectures, trained on {summary['n_train']}, tested on the other {n_test}",
            "",
            format_table(*_ranking_rows(summary["ranking"])),
            precision_note(summary, n_test),
            "",
            format_table(*_search_rows(summary["search"])),
            f"(best {summary['target'] or 'accuracy'} in the whole benchmark: "
            f"{summary['best_in_benchmark']:.4f})",
        ]
    )


def run_demo(data, *, n_train, max_epochs, budget, seed, output, progress):
    """Rank, compare, search and report on one benchmark; return the results as JSON data.

    Parameters
    ----------
    data : Bunch
        A benchmark from :func:`~sknar.datasets.load_benchmark`.
    n_train, max_epochs, budget, seed : int
        Training architectures, NARRanker epochs, oracle calls of each search, seed.
    output : path-like
        Folder for ``demo.png`` and ``results.json``.
    progress : Progress
        Where the steps are reported (and whether bars are drawn).

    Returns
    -------
    summary : dict
    """
    import numpy as np

    from sknar.utils import write_json

    from ._searches import search_benchmark, search_summary

    start = time.perf_counter()
    rankers, y_test = compare_rankers(data, n_train, max_epochs, seed, progress)
    searches = {}
    for strategy in STRATEGIES:
        progress(f"{strategy} search with a budget of {budget} oracle calls")
        result = search_benchmark(
            data, strategy, budget, random_state=seed,
            ranker_params={"max_epochs": max_epochs}, verbose=progress.verbose,
        )
        progress(f"{strategy} search: best {result.best_value:.4f} ({result.wall_time:.1f}s)")
        searches[strategy] = search_summary(result, strategy, budget)
    output = Path(output)
    title = f"sknar demo: {data.benchmark} ({data.dataset}), seed {seed}"
    figure = save_figure(
        output / "demo.png",
        {f"{name} search": result["best_so_far"] for name, result in searches.items()},
        float(np.max(data.y)), y_test, rankers["NARRanker"]["scores"], title,
    )
    summary = {
        "benchmark": data.benchmark,
        "dataset": data.dataset,
        "target": data.get("target_name"),
        "seed": seed,
        "n_architectures": len(data.archs),
        "n_train": n_train,
        "max_epochs": max_epochs,
        "best_in_benchmark": float(np.max(data.y)),
        "top_k": top_k_facts(y_test),
        "ranking": {
            name: {key: value for key, value in result.items() if key != "scores"}
            for name, result in rankers.items()
        },
        "search": searches,
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    results = write_json(summary, output / "results.json")
    print(format_report(summary, len(y_test)))
    print(f"\nfigure: {figure.resolve()}\nresults: {results.resolve()}")
    progress(f"done in {summary['wall_seconds']:.0f}s")
    return summary
