"""What it costs: fit time and peak memory, predictions per second, encoding throughput and
the cost of a whole search, on this machine with the recorded number of torch threads."""

import time

import numpy as np

from sknar.datasets import split_benchmark
from sknar.metrics import kendall_tau

from .. import _common as common
from . import search as search_suite
from ._task import Task

CONFIGS = {
    "full": {
        "benchmark": "nb201-cifar10",
        "sizes": [100, 424, 1000, 1563],
        "models": ["NAR (default)", "NAR (paper)", "XGBoost / one-hot"],
        # The paper preset fits about 0.3 s per architecture on one CPU thread: two sizes
        # keep the suite near 20 minutes.
        "model_sizes": {"NAR (paper)": [100, 1000]},
        "encoding_benchmarks": ["nb201-cifar10", "nb101", "graph-cora"],
        "encoding_limit": None,
        "search": {**search_suite.CONFIGS["full"], "benchmarks": ["nb201-cifar10"], "budget": 200},
    },
    "quick": {
        "benchmark": "nb201-cifar10",
        "sizes": [60],
        "models": ["NAR (default)", "NAR (paper)", "XGBoost / one-hot"],
        "encoding_benchmarks": ["nb201-cifar10"],
        "encoding_limit": 2000,
        "search": {**search_suite.CONFIGS["quick"], "benchmarks": ["nb201-cifar10"]},
    },
}
DEFAULT_SEEDS = {"full": 1, "quick": 1}


def fit_cost(spec, key, n_train, seed):
    """Fit time, peak memory and whole-space prediction rate of one model."""
    import torch

    data = common.load_benchmark(key)
    n_archs = len(data["archs"])
    train_idx, _ = split_benchmark(n_archs, n_train, random_state=seed)
    every = np.arange(n_archs)
    X_train, X_all, encode_s = common.encode_split(data, spec.encoding, train_idx, every)
    estimator = spec.build(seed)
    with common.PeakMemory() as memory:
        scores, fit_s, predict_s = common.fit_and_score(
            estimator, X_train, data["y"][train_idx], X_all
        )
    return {
        "kind": "fit",
        "model": spec.name,
        "benchmark": key,
        "n_train": n_train,
        "seed": seed,
        "fit_s": fit_s,
        "peak_mib": memory.peak_mib,
        "n_predicted": n_archs,
        "predict_s": predict_s,
        "predictions_per_s": n_archs / predict_s,
        "encode_whole_space_s": encode_s,
        "torch_threads": torch.get_num_threads(),
        "kendall_tau_whole_space": kendall_tau(data["y"], scores),
    }


def encoding_cost(key, encoding, limit):
    data = common.load_benchmark(key)
    archs = data["archs"] if limit is None else data["archs"][:limit]
    encoder = common.make_encoder(encoding, data)
    started = time.perf_counter()
    encoder.fit(archs)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    width = 0
    for start in range(0, len(archs), common.PREDICT_CHUNK):
        width = np.shape(encoder.transform(archs[start : start + common.PREDICT_CHUNK]))[1]
    transform_s = time.perf_counter() - started
    return {
        "kind": "encoding",
        "benchmark": key,
        "encoding": encoding,
        "n_archs": len(archs),
        "n_features": int(width),
        "fit_s": fit_s,
        "transform_s": transform_s,
        "archs_per_s": len(archs) / transform_s,
    }


def tasks(config, seeds, quick):
    out = []
    specs = common.model_specs(config["models"], quick=quick)
    for seed in seeds:
        for n_train in config["sizes"]:
            for spec in specs:
                if n_train not in config.get("model_sizes", {}).get(spec.name, [n_train]):
                    continue
                out.append(
                    Task(
                        f"fit {spec.name} n={n_train}",
                        lambda s=spec, n=n_train, sd=seed: [
                            fit_cost(s, config["benchmark"], n, sd)
                        ],
                    )
                )
    for key in config["encoding_benchmarks"]:
        for encoding in common.ENCODINGS:
            out.append(
                Task(
                    f"encode {key} {encoding}",
                    lambda k=key, e=encoding: [encoding_cost(k, e, config["encoding_limit"])],
                )
            )
    search = config["search"]
    for key in search["benchmarks"]:
        for method in search["methods"]:
            out.append(
                Task(
                    f"search {key} {method}",
                    lambda k=key, m=method: [
                        {"kind": "search", **search_suite.run_search(k, m, seeds[0], search, quick)}
                    ],
                )
            )
    return out


def report(payload):
    records = payload["records"]
    machine = payload["machine"]
    lines = [
        "## Cost",
        "",
        f"Measured on {machine['cpu']} ({machine['usable_cpus']} usable CPUs; NARRanker fits "
        f"and predicts on {_ranker_threads()} torch thread(s), its `n_threads` default, "
        f"torch's global setting was {machine['torch_threads']}). Peak memory: highest "
        "resident-set growth during the fit and the prediction of the whole space (sampled "
        "every 10 ms; memory a previous task of the same process already holds is not "
        "counted again, so later rows can read 0).",
        "",
        "| model | n_train | fit s | peak MiB | predictions / s (whole space) | "
        "whole-space predict s |",
        "|---|---|---|---|---|---|",
    ]
    for r in (r for r in records if r["kind"] == "fit"):
        lines.append(
            f"| {r['model']} | {r['n_train']} | {r['fit_s']:.2f} | "
            f"{r['peak_mib']:.0f} | {r['predictions_per_s']:,.0f} | "
            f"{r['predict_s']:.2f} |"
        )
    lines += [
        "",
        "| space | encoding | archs | features | archs / s | fit s |",
        "|---|---|---|---|---|---|",
    ]
    for r in (r for r in records if r["kind"] == "encoding"):
        lines.append(
            f"| {common.BENCHMARK_LABELS.get(r['benchmark'], r['benchmark'])} | "
            f"{r['encoding']} | {r['n_archs']} | {r['n_features']} | "
            f"{r['archs_per_s']:,.0f} | {r['fit_s']:.2f} |"
        )
    lines += [
        "",
        "| whole search | budget | wall s | peak MiB | best found |",
        "|---|---|---|---|---|",
    ]
    for r in (r for r in records if r["kind"] == "search"):
        lines.append(
            f"| {common.BENCHMARK_LABELS.get(r['benchmark'], r['benchmark'])}, "
            f"{r['method']} | {r['budget']} | {r['wall_s']:.1f} | "
            f"{r['peak_mib']:.0f} | {r['best']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def _ranker_threads():
    from sknar.ranker import NARRanker

    return NARRanker().n_threads


def answer(payload):
    lines = []
    for r in payload["records"]:
        if r["kind"] == "fit" and r["model"].startswith("NAR"):
            lines.append(
                f"- {r['model']}: fit on {r['n_train']} archs {r['fit_s']:.1f} s, "
                f"peak {r['peak_mib']:.0f} MiB; scores the whole NB201 space "
                f"({r['n_predicted']}) in {r['predict_s']:.2f} s."
            )
        if r["kind"] == "search" and r["method"] == "tier search":
            lines.append(
                f"- A whole tier search ({r['budget']} oracle calls) takes {r['wall_s']:.0f} s."
            )
    return lines
