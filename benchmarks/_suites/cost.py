"""What it costs: fit time and peak memory, predictions per second, encoding throughput and
the cost of a whole search, on this machine with the recorded number of torch threads."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
        # NARRanker's default fit here and in a baseline checkout, alternating, same data.
        "side_by_side": {"sizes": [1000], "repeats": 3},
    },
    "quick": {
        "benchmark": "nb201-cifar10",
        "sizes": [60],
        "models": ["NAR (default)", "NAR (paper)", "XGBoost / one-hot"],
        "encoding_benchmarks": ["nb201-cifar10"],
        "encoding_limit": 2000,
        "search": {**search_suite.CONFIGS["quick"], "benchmarks": ["nb201-cifar10"]},
        "side_by_side": {"sizes": [60], "repeats": 1},
    },
}
DEFAULT_SEEDS = {"full": 1, "quick": 1}
# The parts of the suite: all by default; SKNAR_BENCH_COST_PARTS="side by side,fit" runs some.
PARTS = ("fit", "encoding", "search", "side by side")
# A baseline checkout (e.g. main's) to time NARRanker's fit against, side by side.
BASELINE_ENV = "SKNAR_BENCH_BASELINE"
_REPO_ROOT = Path(__file__).resolve().parents[2]
# Run in a fresh interpreter with one checkout first on the path: fit the default ranker on
# the saved training split, score the rest.
_FIT_ONCE = """
import json, sys, time
import numpy as np
import sknar
from sknar.metrics import kendall_tau
from sknar.ranker import NARRanker
data = np.load(sys.argv[1])
ranker = NARRanker(random_state=int(sys.argv[2]))
started, cpu = time.perf_counter(), time.process_time()
ranker.fit(data["X_train"], data["y_train"])
fit_s, fit_cpu_s = time.perf_counter() - started, time.process_time() - cpu
tau = kendall_tau(data["y_test"], ranker.predict(data["X_test"]))
print(json.dumps({"fit_s": fit_s, "fit_cpu_s": fit_cpu_s, "kendall_tau_rest": tau,
                  "max_epochs": ranker.settings_["max_epochs"], "sknar": sknar.__file__}))
"""


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


def fit_side_by_side(key, n_train, seed, baseline, repeat):
    """NARRanker's default fit in a baseline checkout and in this one, one after the other.

    Each fit runs in a fresh interpreter with its checkout first on ``PYTHONPATH``, on the
    same encoded split (encoded here); which goes first alternates with ``repeat`` so that
    both see the same load of a shared machine. Records wall and CPU seconds of the fit and
    the Kendall tau on the architectures left out.
    """
    data = common.load_benchmark(key)
    n_archs = len(data["archs"])
    train_idx, test_idx = split_benchmark(n_archs, n_train, random_state=seed)
    X_train, X_test, _ = common.encode_split(data, "nar", train_idx, test_idx)
    checkouts = {"baseline": str(Path(baseline).resolve()), "this checkout": str(_REPO_ROOT)}
    records = []
    with tempfile.TemporaryDirectory() as folder:
        split = Path(folder) / "split.npz"
        np.savez(split, X_train=np.asarray(X_train), y_train=data["y"][train_idx],
                 X_test=np.asarray(X_test), y_test=data["y"][test_idx])
        order = list(checkouts) if repeat % 2 == 0 else list(checkouts)[::-1]
        for name in order:
            env = dict(os.environ, PYTHONPATH=checkouts[name])
            # From the temporary folder: with ``-c`` the working directory comes first on
            # the path, before PYTHONPATH, and would import the sknar found there.
            done = subprocess.run(
                [sys.executable, "-c", _FIT_ONCE, str(split), str(seed)],
                env=env, cwd=folder, capture_output=True, text=True, check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if not result["sknar"].startswith(checkouts[name]):
                raise RuntimeError(
                    f"the {name} fit imported sknar from {result['sknar']}, not from "
                    f"{checkouts[name]}"
                )
            records.append({
                "kind": "side by side", "checkout": name, "path": checkouts[name],
                "commit": _commit_of(checkouts[name]), "benchmark": key,
                "n_train": n_train, "seed": seed, "repeat": repeat, **result,
            })
    return records


def _commit_of(path):
    try:
        return subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


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
    parts = os.environ.get("SKNAR_BENCH_COST_PARTS")
    parts = PARTS if not parts else [p.strip() for p in parts.split(",")]
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"SKNAR_BENCH_COST_PARTS names {sorted(unknown)}; parts: {PARTS}")
    out = []
    if "side by side" in parts and os.environ.get(BASELINE_ENV):
        side = config["side_by_side"]
        for n_train in side["sizes"]:
            for repeat in range(side["repeats"]):
                out.append(
                    Task(
                        f"fit side by side n={n_train} repeat {repeat}",
                        lambda n=n_train, r=repeat: fit_side_by_side(
                            config["benchmark"], n, seeds[0], os.environ[BASELINE_ENV], r
                        ),
                    )
                )
    specs = common.model_specs(config["models"], quick=quick) if "fit" in parts else []
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
    for key in config["encoding_benchmarks"] if "encoding" in parts else []:
        for encoding in common.ENCODINGS:
            out.append(
                Task(
                    f"encode {key} {encoding}",
                    lambda k=key, e=encoding: [encoding_cost(k, e, config["encoding_limit"])],
                )
            )
    search = config["search"]
    for key in search["benchmarks"] if "search" in parts else []:
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
    lines += _side_by_side_lines(records)
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


def _side_by_side_lines(records):
    """NARRanker's fit in the baseline checkout and in this one, with the ratios."""
    side = [r for r in records if r["kind"] == "side by side"]
    if not side:
        return []
    by_repeat = {}
    for r in side:
        by_repeat.setdefault((r["n_train"], r["repeat"]), {})[r["checkout"]] = r
    lines = [
        "",
        "NARRanker's default fit side by side, each in a fresh process, alternating, on the "
        "same split (`SKNAR_BENCH_BASELINE` names the baseline checkout; wall and CPU "
        "seconds of the fit; Kendall tau on the architectures left out):",
        "",
        "| n_train | repeat | baseline fit s (CPU s) | this fit s (CPU s) | wall ratio | "
        "CPU ratio | tau baseline | tau this | epochs baseline / this |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (n_train, repeat), pair in sorted(by_repeat.items()):
        old, new = pair.get("baseline"), pair.get("this checkout")
        if old is None or new is None:
            continue
        lines.append(
            f"| {n_train} | {repeat} | {old['fit_s']:.1f} ({old['fit_cpu_s']:.1f}) | "
            f"{new['fit_s']:.1f} ({new['fit_cpu_s']:.1f}) | "
            f"{old['fit_s'] / new['fit_s']:.2f} | {old['fit_cpu_s'] / new['fit_cpu_s']:.2f} | "
            f"{old['kendall_tau_rest']:.4f} | {new['kendall_tau_rest']:.4f} | "
            f"{old['max_epochs']} / {new['max_epochs']} |"
        )
    return lines


def _median_ratio(records, n_train):
    """The baseline's fit time over this checkout's, median of the repeats (wall, CPU)."""
    pairs = {}
    for r in records:
        if r["kind"] == "side by side" and r["n_train"] == n_train:
            pairs.setdefault(r["repeat"], {})[r["checkout"]] = r
    wall, cpu = [], []
    for pair in pairs.values():
        if len(pair) == 2:
            wall.append(pair["baseline"]["fit_s"] / pair["this checkout"]["fit_s"])
            cpu.append(pair["baseline"]["fit_cpu_s"] / pair["this checkout"]["fit_cpu_s"])
    return (
        f"the baseline checkout: this checkout {np.median(wall):.2f}x faster in wall time, "
        f"{np.median(cpu):.2f}x in CPU time (median of {len(wall)} pairs)"
    )


def _ranker_threads():
    from sknar.ranker import NARRanker

    return NARRanker().n_threads


def answer(payload):
    lines = []
    compared = set()
    for r in payload["records"]:
        if r["kind"] == "fit" and r["model"].startswith("NAR"):
            lines.append(
                f"- {r['model']}: fit on {r['n_train']} archs {r['fit_s']:.1f} s, "
                f"peak {r['peak_mib']:.0f} MiB; scores the whole NB201 space "
                f"({r['n_predicted']}) in {r['predict_s']:.2f} s."
            )
        if r["kind"] == "side by side" and r["n_train"] not in compared:
            compared.add(r["n_train"])
            lines.append(
                f"- NARRanker's default fit on {r['n_train']} archs, side by side with "
                f"{_median_ratio(payload['records'], r['n_train'])}."
            )
        if r["kind"] == "search" and r["method"] == "tier search":
            lines.append(
                f"- A whole tier search ({r['budget']} oracle calls) takes {r['wall_s']:.0f} s."
            )
    return lines
