"""Real trainings on Fashion-MNIST: do the searches separate where digits could not?

NAS-Bench-201 cells become small networks trained on a stratified subset of Fashion-MNIST
(:func:`sknar.datasets.load_fashion_mnist`, the split drawn with seed 0) with NAS-Bench-201's
recipe; the selection value is the validation accuracy. Two parts:

- **the room**: a fixed sample of random cells, each trained once: the spread of their
  validation accuracies (how much a search can gain) and the seconds per training;
- **the searches**, at the same budget of training epochs (``budget`` full trainings of
  ``epochs``): tier search, multi-fidelity tier search (every candidate trained for
  ``low_epochs`` first, the best quarter of each batch fully), random search, regularized
  evolution and Optuna's TPE. The cell each selects is trained afresh on train +
  validation and scored once on the test split.

Sizing (measured on this machine's idle core: one epoch on 2,000 images takes about 7 s
for a cell of 3x3 convolutions and 1 s for a cell of skips, with ``C=8, N=1``): the full
configuration's 5 searches x 3 seeds of 30 trainings of 4 epochs on 2,000 images, plus
20 random cells, is about 2 hours on the two cores (``--jobs 2``). The quick configuration
is a smoke run of every code path on 256 images.
"""

import time

import numpy as np

from .. import _common as common
from . import training as training_suite
from ._task import Task

SYNFLOW_TIER = "tier search (SynFlow start-up)"
METHODS = ("tier search", SYNFLOW_TIER, "multi-fidelity", "random search", "evolution", "TPE")
CONFIGS = {
    "full": {
        "network_params": {"C": 8, "N": 1},
        "sizes": {"n_train": 2000, "n_validation": 1000, "n_test": 5000},
        "epochs": 4,
        "low_epochs": 1,
        "batch_size": 64,
        "learning_rate": 0.1,
        "n_cells": 20,
        "cells_seed": 0,
        "budget": 30,
        "methods": list(METHODS),
        "tier_search": {"n_initial": 10, "n_candidates": 300, "top_k": 5, "n_tiers": 3},
        "n_prior_pool": 300,
        "multi_fidelity": {"n_initial": 16, "batch_size": 8, "eta": 4, "n_candidates": 300,
                           "n_tiers": 3},
        "min_tier_size": 2,
        "nar_ranker": {"n_tiers": 3},
    },
    "quick": {
        "network_params": {"C": 4, "N": 1},
        "sizes": {"n_train": 256, "n_validation": 256, "n_test": 512},
        "epochs": 2,
        "low_epochs": 1,
        "batch_size": 64,
        "learning_rate": 0.1,
        "n_cells": 4,
        "cells_seed": 0,
        "budget": 8,
        "methods": list(METHODS),
        "tier_search": {"n_initial": 6, "n_candidates": 20, "top_k": 2, "n_tiers": 2},
        "n_prior_pool": 20,
        "multi_fidelity": {"n_initial": 8, "batch_size": 4, "eta": 4, "n_candidates": 20,
                           "n_tiers": 2},
        "min_tier_size": 1,
        "nar_ranker": {"n_tiers": 2},
    },
}
DEFAULT_SEEDS = {"full": 3, "quick": 1}
ORACLE_SEED = 0


def make_oracle(config, *, refit=False):
    """The suite's training oracle; with ``refit`` it trains on train + validation."""
    from sknar.datasets import load_fashion_mnist
    from sknar.oracles import TrainingOracle
    from sknar.spaces import NASBench201Space

    data = load_fashion_mnist(random_state=0, **config["sizes"])
    train = data.train
    if refit:
        train = tuple(np.concatenate(parts) for parts in zip(data.train, data.validation))
    oracle = TrainingOracle(
        NASBench201Space(),
        train,
        data.validation,
        network_params=config["network_params"],
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        learning_rate=config["learning_rate"],
        random_state=ORACLE_SEED,
    )
    return oracle, data


def train_cell(arch, config):
    oracle, _ = make_oracle(config)
    started = time.perf_counter()
    accuracy = oracle(arch)
    return {"kind": "cell", "arch": arch, "accuracy": accuracy,
            "train_s": time.perf_counter() - started}


def _tpe(oracle, space, seed, budget):
    import optuna

    from sknar.integration.optuna import suggest_architecture

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(multivariate=True, seed=seed)
    )
    archs = []

    def objective(trial):
        arch = suggest_architecture(trial, space)
        archs.append(arch)
        return float(oracle(arch))

    study.optimize(objective, n_trials=budget)
    values = np.array([t.value for t in study.trials], dtype=float)
    best = int(np.nanargmax(values))
    return archs[best], float(values[best]), values


def synflow_prior(space, data, config):
    """SynFlow of each cell's network as the oracle builds it (one-channel 28x28 input).

    Chosen over NASWOT, Jacobian covariance and gradient norm (on the training split's first
    batch) by their Kendall tau with the validation accuracies of the suite's random cells
    (0.39 against 0.27, 0.25 and 0.10 on 20 cells), never by a search's result."""
    from sknar.proxies import ZeroCostScorer

    params = {**config["network_params"], "in_channels": data.train[0].shape[1]}
    return ZeroCostScorer(space, scores=["synflow"], data=data.train, network_params=params)


def run_search(method, seed, config, quick):
    """One search; the selected cell trained afresh on train + validation, scored on test."""
    from sknar.sampler import TierSampler
    from sknar.search import MultiFidelityTierSearch, RegularizedEvolution

    oracle, data = make_oracle(config)
    space = oracle.space
    started = time.perf_counter()
    extra = {}
    if method == "TPE":
        best_arch, best_value, values = _tpe(oracle, space, seed, config["budget"])
    else:
        if method == "multi-fidelity":
            searcher = MultiFidelityTierSearch(
                space,
                fidelities=(config["low_epochs"], config["epochs"]),
                ranker=training_suite.make_searcher("tier search", space, seed, config,
                                                    quick).ranker,
                sampler=TierSampler(space, min_tier_size=config["min_tier_size"]),
                random_state=seed,
                **config["multi_fidelity"],
            )
            result = searcher.run(oracle, config["budget"] * config["epochs"])
            extra["fidelity_costs"] = {str(e): c for e, c in result.fidelity_costs.items()}
        else:
            if method == "evolution":
                searcher = RegularizedEvolution(space, random_state=seed)
            elif method == SYNFLOW_TIER:
                searcher = training_suite.make_searcher("tier search", space, seed, config,
                                                        quick)
                searcher.set_params(initial_prior=synflow_prior(space, data, config),
                                    n_prior_pool=config["n_prior_pool"])
            else:
                searcher = training_suite.make_searcher(method, space, seed, config, quick)
            result = searcher.run(oracle, config["budget"])
        best_arch, best_value, values = result.best_arch, result.best_value, result.values
    search_s = time.perf_counter() - started
    refit, _ = make_oracle(config, refit=True)
    network = refit.train_network(best_arch)
    return {
        "kind": "search",
        "method": method,
        "seed": seed,
        "budget_epochs": config["budget"] * config["epochs"],
        "n_full_trainings": int(len(values)),
        "best_arch": best_arch,
        "best_validation": best_value,
        "test": refit.score(network, data.test),
        "search_s": search_s,
        **extra,
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
                Task(f"seed={seed} {method}",
                     lambda m=method, s=seed: [run_search(m, s, config, quick)])
            )
    return out


def report(payload):
    config = payload["config"]
    records = payload["records"]
    cells = [r for r in records if r["kind"] == "cell"]
    network = ", ".join(f"{k}={v}" for k, v in config["network_params"].items())
    sizes = config["sizes"]
    lines = [
        "## Real trainings on Fashion-MNIST",
        "",
        f"NAS-Bench-201 networks ({network}) trained for {config['epochs']} epochs on "
        f"{sizes['n_train']} Fashion-MNIST images (validation {sizes['n_validation']}, test "
        f"{sizes['n_test']}); budget {config['budget']} full trainings' epochs per search "
        f"(multi-fidelity: {config['low_epochs']}-epoch trainings first). The selected cell "
        "is trained afresh on train + validation and scored once on test.",
        "",
    ]
    if cells:
        acc = [r["accuracy"] for r in cells]
        secs = [r["train_s"] for r in cells]
        lines += [
            "| random cells | validation accuracy mean ± std | min | max | s / training |",
            "|---|---|---|---|---|",
            f"| {len(cells)} | {np.mean(acc):.4f} ± {np.std(acc):.4f} | {np.min(acc):.4f} | "
            f"{np.max(acc):.4f} | {np.mean(secs):.1f} ± {np.std(secs):.1f} |",
            "",
        ]
    lines += [
        "| method | seeds | best validation | test (refit on train + val) | full trainings | "
        "s / search |",
        "|---|---|---|---|---|---|",
    ]
    for method in METHODS:
        runs = [r for r in records if r["kind"] == "search" and r["method"] == method]
        if not runs:
            continue
        val = common.mean_std([r["best_validation"] for r in runs])
        test = common.mean_std([r["test"] for r in runs])
        lines.append(
            f"| {method} | {len(runs)} | {val[0]:.4f} ± {val[1]:.4f} | {test[0]:.4f} ± "
            f"{test[1]:.4f} | {np.mean([r['n_full_trainings'] for r in runs]):.0f} | "
            f"{np.mean([r['search_s'] for r in runs]):.0f} |"
        )
    return "\n".join(lines) + "\n"


def answer(payload):
    """Does tier search beat random search by more than the seeds' spread?"""
    runs = [r for r in payload["records"] if r["kind"] == "search"]
    tier = [r["test"] for r in runs if r["method"] == "tier search"]
    rand = [r["test"] for r in runs if r["method"] == "random search"]
    if not tier or not rand:
        return ["- No tier-vs-random comparison in this run."]
    gap = np.mean(tier) - np.mean(rand)
    spread = max(np.std(tier), np.std(rand))
    verdict = "more" if abs(gap) > spread else "less"
    return [
        f"- Fashion-MNIST, test accuracy of the selected cell: tier search {np.mean(tier):.4f}, "
        f"random search {np.mean(rand):.4f} ({gap:+.4f}); the seeds' spread is "
        f"{spread:.4f}: the gap is {verdict} than the spread ({len(tier)} seeds)."
    ]
