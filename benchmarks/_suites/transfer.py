"""Generalisation across datasets: train on one NAS-Bench-201 dataset, rank the others.

One model is fitted per (source dataset, size, seed) and its ranking of the test
architectures (all not trained on) is scored against the accuracies of all three datasets, so
the same-dataset figure (the diagonal) and the transfer figures come from the same fit.
"""

from .. import _common as common
from ._task import Task

MODELS = (
    "NAR (default)",
    "XGBoost / one-hot",
    "LightGBM / one-hot",
    "random forest / one-hot",
    "MLP / one-hot",
)
CONFIGS = {
    "full": {"sources": list(common.NB201_DATASETS), "sizes": [424, 1563], "models": MODELS},
    "quick": {"sources": ["cifar10"], "sizes": [60], "models": MODELS[:2]},
}
DEFAULT_SEEDS = {"full": 3, "quick": 1}


def _targets():
    return {f"nb201-{d}": common.load_benchmark(f"nb201-{d}")["y"] for d in common.NB201_DATASETS}


def tasks(config, seeds, quick):
    specs = common.model_specs(config["models"], quick=quick)
    out = []
    for source in config["sources"]:
        key = f"nb201-{source}"
        for n_train in config["sizes"]:
            for seed in seeds:
                for spec in specs:
                    out.append(
                        Task(
                            f"{source}->all n={n_train} seed={seed} {spec.name}",
                            lambda s=spec, k=key, n=n_train, sd=seed: [
                                common.evaluate_model(s, k, n, sd, targets=_targets())
                            ],
                        )
                    )
    return out


def _cells(records):
    """{(source, target, n_train): {model: [tau per seed]}}."""
    cells = {}
    for record in records:
        for target, metrics in record.get("metrics", {}).items():
            cell = cells.setdefault((record["benchmark"], target, record["n_train"]), {})
            cell.setdefault(record["model"], []).append(metrics["kendall_tau"])
    return cells


def report(payload):
    records = payload["records"]
    models = list(dict.fromkeys(r["model"] for r in records))
    lines = [
        "## Transfer across NAS-Bench-201 datasets",
        "",
        "Kendall tau of a model trained on the source dataset's accuracies, against the "
        "target dataset's accuracies of the same held-out architectures (source = target "
        f"is the same-dataset figure). Mean ± std over seeds {payload['seeds']}.",
        "",
        "| source → target | n_train | " + " | ".join(models) + " |",
        "|---|---|" + "---|" * len(models),
    ]
    for (source, target, n_train), cell in sorted(_cells(records).items()):
        row = [
            f"{source[6:]} → {target[6:]}" + (" (same)" if source == target else ""),
            str(n_train),
        ]
        for model in models:
            mean, std, n = common.mean_std(cell.get(model, []))
            row.append(f"{mean:.3f} ± {std:.3f}" if n else "–")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def answer(payload):
    """Transfer tau of NAR vs the same-dataset tau and vs the best baseline's transfer tau."""
    lines = []
    cells = _cells(payload["records"])
    for (source, target, n_train), cell in sorted(cells.items()):
        if source == target or "NAR (default)" not in cell:
            continue
        nar = common.mean_std(cell["NAR (default)"])[0]
        same = common.mean_std(cells.get((target, target, n_train), {}).get("NAR (default)", []))[0]
        baselines = {m: common.mean_std(v)[0] for m, v in cell.items() if not m.startswith("NAR")}
        best = max(baselines, key=baselines.get) if baselines else None
        text = f"- {source[6:]} → {target[6:]}, {n_train} archs: NAR tau {nar:.3f}"
        if same == same:  # not NaN: the target was also a source in this run
            text += f" (trained on {target[6:]} itself: {same:.3f})"
        if best:
            text += f"; best baseline {best} {baselines[best]:.3f} ({nar - baselines[best]:+.3f})"
        lines.append(text + ".")
    return lines or ["- No transfer measurement in this run."]
