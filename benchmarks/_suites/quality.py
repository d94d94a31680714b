"""Ranking quality: NARRanker against gradient boosting, random forests and an MLP."""

import numpy as np

from .. import _common as common
from ._task import Task

ALL_MODELS = (
    "NAR (default)",
    "NAR (paper)",
    "XGBoost / one-hot",
    "XGBoost / path",
    "LightGBM / one-hot",
    "LightGBM / path",
    "random forest / one-hot",
    "random forest / path",
    "MLP / one-hot",
    "MLP / path",
    # cells encoded as written, as in the reference figures and the NAR paper
    "XGBoost / one-hot (as written)",
    "random forest / path (as written)",
)
CONFIGS = {
    "full": {
        "benchmarks": {
            "nb201-cifar10": [100, 424, 781, 1563],
            "nb201-cifar100": [100, 424, 781, 1563],
            "nb201-ImageNet16-120": [100, 424, 781, 1563],
            "nb101": [424, 1000, 4236],
            "graph-cora": [0.01, 0.05],
            "graph-pubmed": [0.01, 0.05],
        },
        "models": ALL_MODELS,
    },
    "quick": {
        "benchmarks": {"nb201-cifar10": [60], "nb101": [60], "graph-cora": [0.005]},
        "models": ALL_MODELS,
    },
}
DEFAULT_SEEDS = {"full": 3, "quick": 1}
METRICS = (
    "kendall_tau",
    "spearman_rho",
    "precision_at_10",
    "precision_at_50",
    "best_rank_at_10",
    "best_rank_at_50",
    "ndcg_at_10",
)
# The metrics of the NAR-against-the-best-baseline and unseen-networks tables, and whether
# higher is better.
TOP_METRICS = {
    "kendall_tau": True,
    "precision_at_10": True,
    "precision_at_50": True,
    "best_rank_at_10": False,
    "ndcg_at_10": True,
}


def tasks(config, seeds, quick):
    specs = common.model_specs(config["models"], quick=quick)
    out = []
    for key, sizes in config["benchmarks"].items():
        n_archs = len(common.load_benchmark(key)["archs"])
        for size in sizes:
            n_train = common.n_train_for(size, n_archs)
            for seed in seeds:
                for spec in specs:
                    out.append(
                        Task(
                            f"{key} n={n_train} seed={seed} {spec.name}",
                            lambda s=spec, k=key, n=n_train, sd=seed: [
                                common.evaluate_model(s, k, n, sd)
                            ],
                        )
                    )
    return out


# --- report ---------------------------------------------------------------------------------


def summary_table(records, metric="kendall_tau", field="metrics"):
    """{(benchmark, n_train): {model: (mean, std, n)}} of one metric on the training target.

    ``field="metrics_unseen"`` restricts it to the test architectures whose network has no
    twin in the training set.
    """
    table = {}
    for record in records:
        if metric not in record.get(field, {}).get(record["benchmark"], {}):
            continue
        cell = table.setdefault((record["benchmark"], record["n_train"]), {})
        cell.setdefault(record["model"], []).append(record[field][record["benchmark"]][metric])
    return {
        cell: {model: common.mean_std(values) for model, values in models.items()}
        for cell, models in table.items()
    }


def _models_in(records):
    return list(dict.fromkeys(r["model"] for r in records))


def verdicts(records):
    """Per cell: NAR (default) against each baseline on mean Kendall tau."""
    rows = []
    for (key, n_train), models in summary_table(records).items():
        if "NAR (default)" not in models:
            continue
        nar = models["NAR (default)"][0]
        baselines = {m: v[0] for m, v in models.items() if not m.startswith("NAR")}
        if not baselines:
            continue
        best_name = max(baselines, key=baselines.get)
        rows.append(
            {
                "benchmark": key,
                "n_train": n_train,
                "nar": nar,
                "best_baseline": best_name,
                "best_baseline_tau": baselines[best_name],
                "margin": nar - baselines[best_name],
                "beats": {m: nar > v for m, v in baselines.items()},
            }
        )
    return rows


def report(payload):
    records = payload["records"]
    lines = ["## Ranking quality", ""]
    lines += [
        "Test set: every architecture of the table not used for training. Mean ± standard "
        f"deviation over seeds {payload['seeds']}. Kendall tau on the training target.",
        "",
    ]
    models = _models_in(records)
    table = summary_table(records)
    lines += [
        "| benchmark | n_train | " + " | ".join(models) + " |",
        "|---|---|" + "---|" * len(models),
    ]
    for (key, n_train), cell in table.items():
        row = [common.BENCHMARK_LABELS.get(key, key), str(n_train)]
        best = max((v[0] for v in cell.values()), default=np.nan)
        for model in models:
            if model not in cell:
                row.append("–")
                continue
            mean, std, _ = cell[model]
            text = f"{mean:.3f} ± {std:.3f}"
            row.append(f"**{text}**" if mean == best else text)
        lines.append("| " + " | ".join(row) + " |")
    skipped = sorted({f"{r['model']}: {r['skipped']}" for r in records if "skipped" in r})
    if skipped:
        lines += ["", "Skipped: " + "; ".join(skipped) + "."]
    lines += [
        "",
        "Top-k metrics (mean over seeds; best_rank@k: true rank of the best "
        "architecture in the predicted top k, 1 is best):",
        "",
        "| benchmark | n_train | model | spearman | precision@10 | precision@50 | "
        "best_rank@10 | best_rank@50 | NDCG@10 | fit s | predict s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, n_train in table:
        for model in models:
            runs = [
                r
                for r in records
                if r.get("metrics")
                and r["benchmark"] == key
                and r["n_train"] == n_train
                and r["model"] == model
            ]
            if not runs:
                continue
            means = {
                m: common.mean_std([r["metrics"][key].get(m) for r in runs])[0] for m in METRICS
            }
            fit_s = common.mean_std([r["fit_s"] for r in runs])[0]
            predict_s = common.mean_std([r["predict_s"] for r in runs])[0]
            lines.append(
                f"| {common.BENCHMARK_LABELS.get(key, key)} | {n_train} | {model} | "
                f"{means['spearman_rho']:.3f} | {means['precision_at_10']:.2f} | "
                f"{means['precision_at_50']:.2f} | {means['best_rank_at_10']:.1f} | "
                f"{means['best_rank_at_50']:.1f} | {_fmt(means['ndcg_at_10'], 3)} | "
                f"{fit_s:.2f} | {predict_s:.2f} |"
            )
    lines += _against_best_baseline(records)
    lines += _unseen_networks(records, models)
    return "\n".join(lines) + "\n"


def _fmt(value, digits):
    return "–" if np.isnan(value) else f"{value:.{digits}f}"


def _metric_label(metric):
    return metric.replace("_at_", "@").replace("ndcg", "NDCG")


def _best_baseline(cell, higher_is_better):
    """(model, mean) of the best model not named NAR in one cell, or None."""
    baselines = {m: v[0] for m, v in cell.items() if not m.startswith("NAR")}
    if not baselines:
        return None
    pick = max if higher_is_better else min
    name = pick(baselines, key=baselines.get)
    return name, baselines[name]


def _against_best_baseline(records):
    """NAR (default) beside the best baseline of each cell on every top-k metric."""
    tables = {metric: summary_table(records, metric) for metric in TOP_METRICS}
    cells = [cell for cell, models in tables["kendall_tau"].items() if "NAR (default)" in models]
    if not cells:
        return []
    lines = [
        "",
        "NAR (default) against the best baseline of each cell, metric by metric (mean over "
        "seeds; NAR / best baseline; **bold** where NAR is at least as good):",
        "",
        "| benchmark | n_train | " + " | ".join(map(_metric_label, TOP_METRICS)) + " |",
        "|---|---|" + "---|" * len(TOP_METRICS),
    ]
    for key, n_train in cells:
        row = [common.BENCHMARK_LABELS.get(key, key), str(n_train)]
        for metric, higher in TOP_METRICS.items():
            cell = tables[metric].get((key, n_train), {})
            best = _best_baseline(cell, higher)
            if "NAR (default)" not in cell or best is None:
                row.append("–")
                continue
            nar = cell["NAR (default)"][0]
            digits = 1 if metric.startswith("best_rank") else 3
            text = f"{nar:.{digits}f} / {best[1]:.{digits}f}"
            at_least_as_good = nar >= best[1] if higher else nar <= best[1]
            row.append(f"**{text}**" if at_least_as_good else text)
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _unseen_networks(records, models):
    """The ranking metrics on the test architectures whose network has no training twin.

    Only cells where some test architectures have a twin in the training set are listed (on
    the other benchmarks every test architecture is an unseen network).
    """
    twinned = [r for r in records if "metrics_unseen" in r and r["n_test_unseen"] < r["n_test"]]
    if not twinned:
        return []
    tables = {metric: summary_table(twinned, metric, "metrics_unseen") for metric in TOP_METRICS}
    lines = [
        "",
        "### Unseen networks",
        "",
        "The same metrics restricted to the test architectures whose network has no "
        "isomorphic twin in the training set (mean over seeds; `unseen`: how many test "
        "architectures that is, mean over seeds).",
        "",
        "| benchmark | n_train | model | unseen | "
        + " | ".join(map(_metric_label, TOP_METRICS))
        + " |",
        "|---|---|---|---|" + "---|" * len(TOP_METRICS),
    ]
    for key, n_train in tables["kendall_tau"]:
        cell_records = [r for r in twinned if (r["benchmark"], r["n_train"]) == (key, n_train)]
        unseen = common.mean_std([r["n_test_unseen"] for r in cell_records])[0]
        for model in models:
            if model not in tables["kendall_tau"][(key, n_train)]:
                continue
            values = []
            for metric in TOP_METRICS:
                mean = tables[metric].get((key, n_train), {}).get(model, (np.nan,))[0]
                values.append(_fmt(mean, 1 if metric.startswith("best_rank") else 3))
            lines.append(
                f"| {common.BENCHMARK_LABELS.get(key, key)} | {n_train} | {model} | "
                f"{unseen:.0f} | " + " | ".join(values) + " |"
            )
    return lines


def answer(payload):
    """Bullet lines: does NARRanker beat each baseline, and by how much."""
    rows = verdicts(payload["records"])
    table = summary_table(payload["records"])
    if not rows and all(all(m.startswith("NAR") for m in cell) for cell in table.values()):
        return ["- No baseline in this run: NARRanker alone, mean Kendall tau:"] + [
            f"  - {common.BENCHMARK_LABELS.get(key, key)}, {n_train}: "
            + ", ".join(f"{m} {v[0]:.3f}" for m, v in cell.items())
            for (key, n_train), cell in table.items()
        ]
    if not rows:
        return [
            "- NARRanker was not in this run; the best baseline of each cell (mean Kendall "
            "tau) is the bar it must clear:"
        ] + [
            f"  - {common.BENCHMARK_LABELS.get(key, key)}, {n_train}: "
            + "{} {:.3f}".format(*max(((m, v[0]) for m, v in cell.items()), key=lambda t: t[1]))
            for (key, n_train), cell in summary_table(payload["records"]).items()
        ]
    lines = []
    for row in rows:
        lost = [m for m, won in row["beats"].items() if not won]
        verdict = "beats every baseline" if not lost else "loses to " + ", ".join(lost)
        lines.append(
            f"- {common.BENCHMARK_LABELS.get(row['benchmark'], row['benchmark'])}, "
            f"{row['n_train']} training archs: NAR (default) tau {row['nar']:.3f} vs best "
            f"baseline {row['best_baseline']} {row['best_baseline_tau']:.3f} "
            f"(margin {row['margin']:+.3f}); {verdict}."
        )
    return lines


def plot(payload, out_dir, label="quality"):
    """Kendall tau against training size, one panel per benchmark; returns PNG paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = summary_table(payload["records"])
    keys = list(dict.fromkeys(key for key, _ in table))
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys):
        sizes = sorted(n for k, n in table if k == key)
        for model in _models_in(payload["records"]):
            points = [(n, table[(key, n)][model]) for n in sizes if model in table[(key, n)]]
            if points:
                ax.errorbar(
                    [p[0] for p in points],
                    [p[1][0] for p in points],
                    yerr=[p[1][1] for p in points],
                    marker="o",
                    capsize=2,
                    label=model,
                    linewidth=2 if model.startswith("NAR") else 1,
                )
        ax.set_xscale("log")
        ax.set_title(common.BENCHMARK_LABELS.get(key, key))
        ax.set_xlabel("training architectures")
        ax.set_ylabel("Kendall tau")
    axes[0][-1].legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    path = out_dir / f"{label}_kendall_tau.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
