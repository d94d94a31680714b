"""Real trainings: NAS-Bench-201 cells trained on scikit-learn's digits, no benchmark table.

Every cell becomes its NAS-Bench-201 network (``C=8``, one cell per stage in the full
configuration) and trains with NAS-Bench-201's recipe for a few epochs on the digits'
training split (``sknar.oracles.load_digits_split``, seed 0); its accuracy is measured on the
validation split. Two questions:

- do the digits rank cells like CIFAR-10 does? A fixed sample of cells, each trained once
  with the same seed and recipe: Kendall tau between the digits validation accuracy and the
  NAS-Bench-201 CIFAR-10 table accuracy, and the time of one training on this machine;
- does tier search find better cells than random search at a small budget of trainings? The
  architecture each search selects (by validation accuracy) is trained once more and scored
  on the held-out test split.
"""

import functools
import time

import numpy as np

from .. import _common as common
from . import search as search_suite
from ._task import Task

CONFIGS = {
    "full": {
        "network_params": {"C": 8, "N": 1},
        "epochs": 3,
        "batch_size": 64,
        "learning_rate": 0.1,
        "train_size": None,
        "n_cells": 30,
        "cells_seed": 0,
        "budget": 30,
        "methods": ["tier search", "random search"],
        # training.json was measured before tier search ranked the mutants of its best
        # architectures (n_parents=0 reproduces it).
        "tier_search": {
            "n_initial": 10,
            "n_candidates": 300,
            "top_k": 5,
            "n_tiers": 3,
            "n_parents": 0,
        },
        "min_tier_size": 2,
        "nar_ranker": {"n_tiers": 3},
    },
    "quick": {
        "network_params": {"C": 2, "N": 1},
        "epochs": 1,
        "batch_size": 64,
        "learning_rate": 0.1,
        "train_size": 256,
        "n_cells": 4,
        "cells_seed": 0,
        "budget": 8,
        "methods": ["tier search", "random search"],
        "tier_search": {"n_initial": 6, "n_candidates": 20, "top_k": 2, "n_tiers": 2},
        "min_tier_size": 1,
        "nar_ranker": {"n_tiers": 2},
    },
}
DEFAULT_SEEDS = {"full": 3, "quick": 1}
# The oracle's seed: the same initial weights and batch order for every training, so that an
# architecture's accuracy is one number, whichever search asks.
ORACLE_SEED = 0
CIFAR10 = "nb201-cifar10"


def make_oracle(config):
    """The training oracle of the suite and the digits split it trains on."""
    from sknar.oracles import TrainingOracle, load_digits_split
    from sknar.spaces import NASBench201Space

    digits = load_digits_split(random_state=0)
    train = digits.train
    if config["train_size"] is not None:
        train = tuple(part[: config["train_size"]] for part in train)
    oracle = TrainingOracle(
        NASBench201Space(),
        train,
        digits.validation,
        network_params=config["network_params"],
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        learning_rate=config["learning_rate"],
        random_state=ORACLE_SEED,
    )
    return oracle, digits


@functools.cache
def _cifar10_accuracy():
    """``{arch string: CIFAR-10 test accuracy}`` of the NAS-Bench-201 table."""
    data = common.load_benchmark(CIFAR10)
    space = data["space"]
    return {space.hash(arch): float(y) for arch, y in zip(data["archs"], data["y"])}


def train_cell(arch, config):
    """One cell trained on the digits: its validation accuracy and the training's time."""
    oracle, _ = make_oracle(config)
    started = time.perf_counter()
    accuracy = oracle(arch)
    seconds = time.perf_counter() - started
    return {
        "kind": "cell",
        "arch": arch,
        "digits_accuracy": accuracy,
        "cifar10_accuracy": _cifar10_accuracy()[oracle.space.hash(arch)],
        "train_s": seconds,
    }


def make_searcher(method, space, seed, config, quick):
    """Tier search (a NAR ranker, tiers sized for a small budget) or random search."""
    from sklearn.pipeline import make_pipeline

    from sknar.encoding import NARFeatureEncoder
    from sknar.sampler import TierSampler
    from sknar.search import RandomSearch, TierSearch

    if method == "random search":
        return RandomSearch(space, random_state=seed)
    if method != "tier search":
        raise ValueError(f"unknown search method {method!r}")
    ranker = make_pipeline(
        NARFeatureEncoder(space),
        common.nar_ranker(seed=seed, quick=quick, **config["nar_ranker"]),
    )
    sampler = TierSampler(space, min_tier_size=config["min_tier_size"])
    return TierSearch(
        space, ranker=ranker, sampler=sampler, random_state=seed, **config["tier_search"]
    )


def run_search(method, seed, config, quick):
    """One search on the digits; the selected cell trained again and scored on test."""
    oracle, digits = make_oracle(config)
    space = oracle.space
    searcher = make_searcher(method, space, seed, config, quick)
    result = searcher.run(oracle, config["budget"])
    network = oracle.train_network(result.best_arch)
    return {
        "kind": "search",
        "method": method,
        "seed": seed,
        "budget": config["budget"],
        "n_queries": result.n_queries,
        "improvements": search_suite.improvements(result.values),
        "best_arch": result.best_arch,
        "best_validation": result.best_value,
        "best_test": oracle.score(network, digits.test),
        "best_cifar10": _cifar10_accuracy()[space.hash(result.best_arch)],
        "wall_s": result.wall_time,
    }


def tasks(config, seeds, quick):
    from sknar.spaces import NASBench201Space

    cells = NASBench201Space().sample(config["n_cells"], random_state=config["cells_seed"])
    out = [
        Task(f"cell {index}", lambda a=arch: [train_cell(a, config)])
        for index, arch in enumerate(cells)
    ]
    for seed in seeds:
        for method in config["methods"]:
            out.append(
                Task(
                    f"seed={seed} {method}",
                    lambda m=method, s=seed: [run_search(m, s, config, quick)],
                )
            )
    return out


# --- report ----------------------------------------------------------------------------


def _cells(payload):
    return [r for r in payload["records"] if r["kind"] == "cell"]


def _searches(payload):
    groups = {}
    for record in payload["records"]:
        if record["kind"] == "search":
            groups.setdefault(record["method"], []).append(record)
    return groups


def correlation(payload):
    """Kendall tau (and its p-value) between digits and CIFAR-10 accuracy of the cells."""
    from scipy import stats

    from sknar.metrics import kendall_tau

    cells = _cells(payload)
    if len(cells) < 2:
        return float("nan"), float("nan"), len(cells)
    digits = [r["digits_accuracy"] for r in cells]
    cifar = [r["cifar10_accuracy"] for r in cells]
    p_value = float(stats.kendalltau(digits, cifar).pvalue)
    return kendall_tau(cifar, digits), p_value, len(cells)


def report(payload):
    config = payload["config"]
    network = ", ".join(f"{k}={v}" for k, v in config["network_params"].items())
    tau, p_value, n_cells = correlation(payload)
    seconds = common.mean_std([r["train_s"] for r in _cells(payload)])
    digits = common.mean_std([r["digits_accuracy"] for r in _cells(payload)])
    lines = [
        "## Real trainings on digits",
        "",
        f"NAS-Bench-201 networks ({network}) trained on scikit-learn's digits for "
        f"{config['epochs']} epochs (SGD, Nesterov momentum 0.9, lr {config['learning_rate']}, "
        f"cosine decay, batch {config['batch_size']}, one seed for every training); accuracy "
        "on the validation split (360 images). One torch thread per training, "
        f"{payload.get('jobs', 1)} task(s) at once.",
        "",
        "| cells | Kendall tau, digits vs NB201 CIFAR-10 | p-value | digits accuracy | "
        "s / training |",
        "|---|---|---|---|---|",
        f"| {n_cells} | {tau:.3f} | {p_value:.3f} | {digits[0]:.4f} ± {digits[1]:.4f} | "
        f"{seconds[0]:.2f} ± {seconds[1]:.2f} |",
        "",
        f"Search: budget {config['budget']} trainings, seeds {len(payload['seeds'])}; the "
        "cell a search selects by validation accuracy is trained again and scored on the "
        "held-out test split (360 images). `CIFAR-10` is the table accuracy of that cell.",
        "",
        "| method | best validation | held-out test | CIFAR-10 (table) | s / search |",
        "|---|---|---|---|---|",
    ]
    for method, runs in _searches(payload).items():
        row = [method]
        for key, digits_ in (("best_validation", 4), ("best_test", 4), ("best_cifar10", 2)):
            mean, std, _ = common.mean_std([r[key] for r in runs])
            row.append(f"{mean:.{digits_}f} ± {std:.{digits_}f}")
        row.append(f"{common.mean_std([r['wall_s'] for r in runs])[0]:.0f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def answer(payload):
    """Do digits rank cells like CIFAR-10, and does tier search beat random search?"""
    tau, p_value, n_cells = correlation(payload)
    seconds = common.mean_std([r["train_s"] for r in _cells(payload)])[0]
    lines = [
        f"- {n_cells} cells trained on digits: Kendall tau {tau:.3f} with the NB201 "
        f"CIFAR-10 accuracy (p = {p_value:.3f}); one training takes {seconds:.1f} s here."
    ]
    groups = _searches(payload)
    means = {
        method: common.mean_std([r["best_test"] for r in runs])[0]
        for method, runs in groups.items()
    }
    if "tier search" in means and "random search" in means:
        gap = means["tier search"] - means["random search"]
        budget = payload["config"]["budget"]
        lines.append(
            f"- At {budget} trainings, mean held-out test accuracy of the selected cell: tier "
            f"search {means['tier search']:.4f}, random search {means['random search']:.4f} "
            f"({gap:+.4f}, i.e. {gap * 360:+.1f} of 360 test images)."
        )
    return lines


def plot(payload, out_dir, label="training"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (scatter, curves) = plt.subplots(1, 2, figsize=(9, 3.6))
    cells = _cells(payload)
    scatter.scatter(
        [r["cifar10_accuracy"] for r in cells], [r["digits_accuracy"] for r in cells], s=14
    )
    scatter.set_xlabel("NB201 CIFAR-10 test accuracy (%)")
    scatter.set_ylabel("digits validation accuracy")
    scatter.set_title(f"{len(cells)} cells, tau {correlation(payload)[0]:.2f}")
    for method, runs in _searches(payload).items():
        best = np.array([search_suite.best_so_far(r) for r in runs])
        x = np.arange(1, best.shape[1] + 1)
        curves.plot(x, best.mean(axis=0), label=method)
        curves.fill_between(x, best.min(axis=0), best.max(axis=0), alpha=0.2)
    curves.set_xlabel("trainings")
    curves.set_ylabel("best validation accuracy")
    curves.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path = out_dir / f"{label}_digits.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
