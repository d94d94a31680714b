"""A search's refit: NARRanker refitted cold against warm-started, after a few more labels.

Fits the default ranker on ``--first`` NAS-Bench-201 architectures (a random split, seed
``s``), then on ``--then`` of them (the first ones plus more): once from scratch, once with
``warm_start=True`` and ``--warm-epochs`` epochs from the first fit's weights. Records CPU
seconds of each refit and the Kendall tau on the architectures left out; writes JSON::

    PYTHONPATH=$PWD python benchmarks/ranker_warm_start.py --seeds 2
"""

import argparse
import json
import pickle
import time
from pathlib import Path

from benchmarks import _common as common
from sknar.datasets import split_benchmark
from sknar.metrics import kendall_tau
from sknar.ranker import NARRanker


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="nb201-cifar10")
    parser.add_argument("--first", type=int, default=400)
    parser.add_argument("--then", type=int, default=450)
    parser.add_argument("--warm-epochs", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/ranker-warm-start.json")
    args = parser.parse_args(argv)
    data = common.load_benchmark(args.benchmark)
    records = []
    for seed in range(args.seeds):
        train_idx, test_idx = split_benchmark(len(data["archs"]), args.then, random_state=seed)
        X, X_test, _ = common.encode_split(data, "nar", train_idx, test_idx)
        y, y_test = data["y"][train_idx], data["y"][test_idx]
        first = NARRanker(random_state=seed).fit(X[: args.first], y[: args.first])
        record = {"seed": seed, "kendall_tau_first": kendall_tau(y_test, first.predict(X_test))}
        refits = {"cold": NARRanker(random_state=seed)}
        for epochs in args.warm_epochs:
            warm = pickle.loads(pickle.dumps(first))
            refits[f"warm {epochs} epochs"] = warm.set_params(warm_start=True, max_epochs=epochs)
        for name, ranker in refits.items():
            started = time.process_time()
            ranker.fit(X, y)
            record[name] = {
                "cpu_s": time.process_time() - started,
                "kendall_tau": kendall_tau(y_test, ranker.predict(X_test)),
            }
        records.append(record)
        print(json.dumps(record), flush=True)
    payload = {"benchmark": args.benchmark, "first": args.first, "then": args.then,
               "records": records, "machine": common.machine_info()}
    Path(args.out).write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
