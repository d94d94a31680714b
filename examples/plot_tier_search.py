"""
Tier-guided search against random search
========================================

NAR searches without a controller: the quality tiers of the architectures evaluated so far
say which FLOPs, parameter counts and structures the best ones share; the
:class:`~sknar.sampler.TierSampler` draws candidates from that region, the ranker orders them,
and only the few best are trained. This example runs that search on NAS-Bench-Graph (Cora,
26,206 graph neural networks; it ships with the ``nas-bench-graph`` package) with a budget of
100 oracle calls, beside random search and regularized evolution with the same oracle and
budget.

The oracle looks the validation accuracy up in the benchmark table; in a real search it would
train the network. The same code searches NAS-Bench-201 or NAS-Bench-101 once their files are
installed (see :ref:`datasets`): only the :func:`~sknar.datasets.load_benchmark` line changes.
"""

# %%
# The oracle and the searches
# ---------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from sknar.datasets import load_benchmark
from sknar.encoding import NARFeatureEncoder
from sknar.oracles import TabularOracle
from sknar.ranker import NARRanker
from sknar.sampler import TierSampler
from sknar.search import RandomSearch, RegularizedEvolution, TierSearch

data = load_benchmark("nasbench_graph", dataset="cora")
space = data.search_space
oracle = TabularOracle(data.archs, data.y, space=space)
best_possible = data.y.max()
budget = 100


def tier_search(seed):
    ranker = make_pipeline(
        NARFeatureEncoder(space=space, dataset=data.cost_dataset), NARRanker(max_epochs=30)
    )
    sampler = TierSampler(space, dataset=data.cost_dataset)
    return TierSearch(
        space, ranker=ranker, sampler=sampler, n_initial=30, n_candidates=300, top_k=10,
        random_state=seed,
    )


searchers = {
    "tier search (NAR)": tier_search,
    "regularized evolution": lambda seed: RegularizedEvolution(space, random_state=seed),
    "random search": lambda seed: RandomSearch(space, random_state=seed),
}

# %%
# Run each search with two seeds
# ------------------------------
seeds = (0, 1)
results = {
    name: [make(seed).run(oracle, budget) for seed in seeds] for name, make in searchers.items()
}
for name, runs in results.items():
    best = [run.best_value for run in runs]
    seconds = np.mean([run.wall_time for run in runs])
    shown = ", ".join(f"{value:.3f}" for value in best)
    print(f"{name:22s} best found {np.mean(best):.3f} (seeds: {shown}), {seconds:.1f}s per run")
print(f"{'best in the benchmark':22s} {best_possible:.3f}")

# %%
# Best accuracy found against oracle calls
# ----------------------------------------
# The curves are averaged over the seeds. Two seeds and a budget of 100 keep this example
# fast; :doc:`/benchmarks` has the comparison over many seeds and budgets.
fig, ax = plt.subplots(figsize=(7, 4))
for name, runs in results.items():
    curve = np.mean([run.best_so_far for run in runs], axis=0)
    ax.plot(np.arange(1, budget + 1), curve, label=name, lw=2)
ax.axhline(best_possible, color="k", ls="--", lw=1, label="best in the benchmark")
ax.set_xlabel("oracle calls")
ax.set_ylabel("best validation accuracy found")
ax.set_ylim(best_possible - 0.04, best_possible + 0.005)
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
