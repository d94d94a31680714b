"""Kendall tau of each training-free score against NAS-Bench-201 accuracies.

Draws ``--n-cells`` cells of NAS-Bench-201 (distinct networks, seed ``--seed``), scores
them with :class:`sknar.proxies.ZeroCostScorer` and reports, per score, the Kendall tau
against the table's test accuracy, with the seconds per network. CIFAR images are not
shipped: the data-dependent scores see the scorer's stand-in batch (standard normal
images, random labels) and SynFlow is data-free. Writes JSON and prints a markdown table::

    PYTHONPATH=$PWD python benchmarks/proxies_tau.py --n-cells 200 --C 8 --N 1
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks import _common as common
from sknar.metrics import kendall_tau
from sknar.proxies import SCORES, ZeroCostScorer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="nb201-cifar10")
    parser.add_argument("--n-cells", type=int, default=200)
    parser.add_argument("--C", type=int, default=16, help="channels of the first stage")
    parser.add_argument("--N", type=int, default=5, help="cells per stage")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/proxies-tau.json")
    parser.add_argument("--cache", default=None, help="ZeroCostScorer's cache file")
    args = parser.parse_args(argv)
    data = common.load_benchmark(args.benchmark)
    space = data["space"]
    rng = np.random.RandomState(args.seed)
    chosen, seen = [], set()
    for index in rng.permutation(len(data["archs"])):
        key = space.hash(space.representatives([data["archs"][index]])[0])
        if key not in seen:
            seen.add(key)
            chosen.append(index)
        if len(chosen) == args.n_cells:
            break
    scorer = ZeroCostScorer(
        space, batch_size=args.batch_size, image_size=args.image_size,
        network_params={"C": args.C, "N": args.N}, random_state=args.seed, cache=args.cache,
    ).fit()
    started, cpu = time.perf_counter(), time.process_time()
    scores = scorer.compute([data["archs"][i] for i in chosen])
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    # NAS-Bench-201's y is the test accuracy (its y_report is None).
    target = data["y"] if data.get("y_report") is None else data["y_report"]
    accuracy = np.asarray(target)[chosen]
    record = {
        "benchmark": args.benchmark,
        "target": "y" if data.get("y_report") is None else "y_report",
        "n_cells": len(chosen),
        "seed": args.seed,
        "network_params": {"C": args.C, "N": args.N},
        "batch": f"stand-in: {args.batch_size} standard normal images of "
                 f"{args.image_size}x{args.image_size}, random labels",
        "wall_s_per_network": wall_s / len(chosen),
        "cpu_s_per_network": cpu_s / len(chosen),
        "kendall_tau": {name: kendall_tau(accuracy, _worst_last(scores[name]))
                        for name in SCORES},
        "n_not_finite": {name: int(np.sum(~np.isfinite(scores[name]))) for name in SCORES},
        "machine": common.machine_info(),
    }
    Path(args.out).write_text(json.dumps(record, indent=1))
    print(f"| score | Kendall tau vs {args.benchmark} test accuracy ({len(chosen)} cells) |")
    print("|---|---|")
    for name, tau in record["kendall_tau"].items():
        print(f"| {name} | {tau:.3f} |")
    print(f"not finite (ranked last): {record['n_not_finite']}")
    print(f"CPU s per network (all four scores): {record['cpu_s_per_network']:.2f}")


def _worst_last(values):
    """NaN and -inf (a singular NASWOT kernel, a constant Jacobian) ranked below the rest."""
    finite = np.isfinite(values)
    floor = values[finite].min() - 1.0 if finite.any() else 0.0
    return np.where(finite, values, floor)


if __name__ == "__main__":
    main()
