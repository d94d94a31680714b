"""
Accuracy against size: the Pareto front a search finds
======================================================

A search for two objectives at once, the accuracy of a graph neural network (maximised)
and its number of parameters (minimised), on NAS-Bench-Graph (Cora), a benchmark that ships
with a Python package. Every network of the table is known, so the true front (the networks
no other one beats on both counts) can be drawn beside the front a search of 100 queries
finds.

The oracle returns both metrics of the table
(:meth:`~sknar.oracles.MetricsOracle.from_benchmark`); in a real search the accuracy would
come from a training and the size from the space (``"params"`` is an exact cost of
NAS-Bench-201 and NAS-Bench-101). Tier search fits its ranker on bands of non-dominated
rank, so its sampler draws from the region of the front (see :ref:`multiobjective`); a fast
random-forest ranker keeps the example to seconds.
"""

# %%
# The table, the oracle and the true front
# ----------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline

from sknar.datasets import load_benchmark
from sknar.encoding import AdjacencyOneHotEncoder
from sknar.metrics import hypervolume, pareto_front
from sknar.oracles import MetricsOracle
from sknar.sampler import TierSampler
from sknar.search import RandomSearch, TierSearch

data = load_benchmark("nasbench_graph", dataset="cora")
space = data["search_space"]
objectives = {"accuracy": "max", "params": "min"}
oracle = MetricsOracle.from_benchmark(data, list(objectives))

points = np.column_stack([data["y"], data["params"]])
true_front = points[pareto_front(points, ["max", "min"])]
# Where the trade-off matters: the median accuracy, the largest network.
reference = [np.median(points[:, 0]), points[:, 1].max()]
true_volume = hypervolume(true_front, reference, ["max", "min"])
print(f"{len(points)} networks, {len(true_front)} on the true front")

# %%
# Two searches of 100 queries
# ---------------------------
budget = 100
ranker = make_pipeline(
    AdjacencyOneHotEncoder(space), RandomForestRegressor(n_estimators=50, random_state=0)
)
searches = {
    "tier search": TierSearch(
        space, ranker=ranker, sampler=TierSampler(space), objectives=objectives,
        n_initial=30, n_candidates=300, top_k=10, n_tiers=3, random_state=0,
    ),
    "random search": RandomSearch(space, objectives=objectives, random_state=0),
}
fronts = {}
for name, search in searches.items():
    result = search.run(oracle, budget)
    fronts[name] = result.pareto_front()
    share = result.hypervolume(reference) / true_volume
    print(f"{name}: {len(fronts[name].archs)} networks on its front, "
          f"{share:.2f} of the true front's hypervolume")

# %%
# The fronts
# ----------
fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(points[:, 1], points[:, 0], s=2, color="0.85", label="every network")
order = np.argsort(true_front[:, 1])
ax.step(true_front[order, 1], true_front[order, 0], where="post", color="black",
        label="true front")
for (name, front), marker in zip(fronts.items(), ("o", "x")):
    ax.scatter(front.points[:, 1], front.points[:, 0], marker=marker, label=f"{name} front")
ax.set_xlabel("parameters (millions)")
ax.set_ylabel("accuracy")
ax.set_ylim(np.median(points[:, 0]), points[:, 0].max() + 0.005)
ax.legend(loc="lower right")
ax.set_title("NAS-Bench-Graph (Cora): accuracy against size")
plt.show()
