"""NARRanker against XGBoost and random forests on NAS-Bench-201, side by side in one run.

For every training size and seed, ``n_train`` architectures are drawn with
``numpy.random.RandomState(seed)``; the test set is every other architecture of the space.
Each model is fitted on the same training architectures and scored on the same test set
(Kendall tau-b, precision@50), and its fit and whole-test-set prediction times are recorded.
Encoders are fitted on the training architectures only.

Models: ``nar-fast`` (the default ``NARRanker()``), ``nar-paper`` (``preset="paper"``),
``xgboost`` (XGBoost on one-hot cells) and ``forest`` / ``forest-path`` (random forests on
one-hot and path encodings).

Run from the repository root, e.g.::

    python -m benchmarks.ranker_nb201 --sizes 100 424 781 1563 --seeds 0 1 2
    python -m benchmarks.ranker_nb201 --models nar-paper --sizes 781 --device cuda

It prints a table and writes ``ranker_nb201.json`` and ``ranker_nb201.md`` (or
``ranker_nb201-<tag>.*``) under ``benchmarks/results/``. The data home is ``SKNAR_DATA``,
else ``../shared/data`` beside the repository.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MODELS = ("nar-fast", "nar-paper", "xgboost", "forest", "forest-path")
ENCODINGS = {
    "nar-fast": "nar", "nar-paper": "nar", "xgboost": "onehot", "forest": "onehot",
    "forest-path": "path",
}


def _data_home():
    if os.environ.get("SKNAR_DATA"):
        return os.environ["SKNAR_DATA"]
    candidate = Path(__file__).resolve().parents[2] / "shared" / "data"
    return str(candidate) if candidate.is_dir() else None


def _encoder(kind, space, dataset):
    from sknar.encoding import AdjacencyOneHotEncoder, NARFeatureEncoder, PathEncoder

    if kind == "nar":
        return NARFeatureEncoder(space, dataset=dataset)
    return AdjacencyOneHotEncoder(space) if kind == "onehot" else PathEncoder(space)


def _model(name, seed, device, n_threads):
    if name.startswith("nar-"):
        from sknar.ranker import NARRanker

        preset = name.split("-", 1)[1]
        return NARRanker(preset=preset, device=device, n_threads=n_threads, random_state=seed)
    if name == "xgboost":
        from xgboost import XGBRegressor

        return XGBRegressor(
            n_estimators=500, max_depth=6, learning_rate=0.05, subsample=0.8,
            colsample_bytree=0.8, n_jobs=n_threads, random_state=seed,
        )
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(
        n_estimators=500, max_features=0.5, n_jobs=n_threads, random_state=seed
    )


def _predict(model, X, chunk=4096):
    # Baselines predict in chunks like NARRanker does, so the timings compare like with like.
    return np.concatenate([model.predict(X[i:i + chunk]) for i in range(0, len(X), chunk)])


def run_one(name, X_train, y_train, X_test, y_test, seed, args):
    """Fit one model on one split; its metrics and timings."""
    from sknar.metrics import kendall_tau, precision_at_k

    model = _model(name, seed, args.device, args.threads)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = _predict(model, X_test)
    predict_s = time.perf_counter() - start
    return {
        "kendall_tau": float(kendall_tau(y_test, scores)),
        "precision@50": float(precision_at_k(y_test, scores, 50)),
        "fit_s": round(fit_s, 2),
        "predict_s": round(predict_s, 3),
    }


def run(args):
    from sknar.datasets._nasbench201 import load_nasbench201

    bench = load_nasbench201(args.dataset, data_home=_data_home())
    archs = np.asarray(bench.archs, dtype=object)
    records = []
    for n_train in args.sizes:
        for seed in args.seeds:
            order = np.random.RandomState(seed).permutation(len(archs))
            train, test = order[:n_train], order[n_train:]
            encoded = {}
            for name in args.models:
                kind = ENCODINGS[name]
                if kind not in encoded:
                    encoder = _encoder(kind, bench.space, args.dataset).fit(list(archs[train]))
                    encoded[kind] = (
                        encoder.transform(list(archs[train])),
                        encoder.transform(list(archs[test])),
                    )
                X_train, X_test = encoded[kind]
                result = run_one(
                    name, X_train, bench.y[train], X_test, bench.y[test], seed, args
                )
                record = {"model": name, "n_train": n_train, "seed": seed, **result}
                records.append(record)
                print(
                    f"{name:12s} n={n_train:5d} seed={seed} tau={result['kendall_tau']:.4f} "
                    f"p@50={result['precision@50']:.2f} fit={result['fit_s']:.1f}s "
                    f"predict={result['predict_s']:.2f}s",
                    flush=True,
                )
                _write(args, records, partial=True)
    return records


def summary(records):
    """Mean and standard deviation of each metric per (model, n_train)."""
    rows = {}
    for record in records:
        rows.setdefault((record["model"], record["n_train"]), []).append(record)
    table = []
    for (model, n_train), group in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        taus = np.array([r["kendall_tau"] for r in group])
        table.append({
            "model": model,
            "n_train": n_train,
            "n_seeds": len(group),
            "kendall_tau_mean": float(taus.mean()),
            "kendall_tau_std": float(taus.std()),
            "precision@50_mean": float(np.mean([r["precision@50"] for r in group])),
            "fit_s_mean": float(np.mean([r["fit_s"] for r in group])),
            "predict_s_mean": float(np.mean([r["predict_s"] for r in group])),
        })
    return table


def markdown(table, meta):
    lines = [
        f"# NARRanker vs baselines, NAS-Bench-201 {meta['dataset']}",
        "",
        f"Test set: every architecture not trained on. Seeds: {meta['seeds']}. "
        f"Device: {meta['device']}; threads per model: {meta['threads']}; "
        f"machine: {meta['machine']}; commit {meta['commit']}.",
        "",
        "| n_train | model | Kendall tau (mean ± std) | precision@50 | fit (s) | predict (s) |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for row in table:
        lines.append(
            f"| {row['n_train']} | {row['model']} | {row['kendall_tau_mean']:.4f} ± "
            f"{row['kendall_tau_std']:.4f} (n={row['n_seeds']}) | "
            f"{row['precision@50_mean']:.2f} | {row['fit_s_mean']:.1f} | "
            f"{row['predict_s_mean']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def _meta(args):
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
            cwd=Path(__file__).resolve().parent, check=False,
        ).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    return {
        "dataset": args.dataset, "sizes": args.sizes, "seeds": args.seeds,
        "models": args.models, "device": args.device, "threads": args.threads,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "python": sys.version.split()[0], "commit": commit,
    }


def _write(args, records, partial=False):
    stem = "ranker_nb201" + (f"-{args.tag}" if args.tag else "")
    args.out.mkdir(parents=True, exist_ok=True)
    meta = _meta(args)
    table = summary(records)
    payload = {"meta": meta, "partial": partial, "summary": table, "records": records}
    (args.out / f"{stem}.json").write_text(json.dumps(payload, indent=1))
    (args.out / f"{stem}.md").write_text(markdown(table, meta))
    return table, meta


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset", default="cifar10",
                        choices=["cifar10", "cifar100", "ImageNet16-120"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 424, 781, 1563])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--device", default="cpu", help="torch device of the NAR models")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per model (torch, XGBoost and the forest)")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    records = run(args)
    table, meta = _write(args, records)
    print()
    print(markdown(table, meta))


if __name__ == "__main__":
    main()
