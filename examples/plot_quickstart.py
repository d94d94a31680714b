"""
Quickstart: rank architectures with NAR
=======================================

The shortest useful pipeline: load a benchmark, encode the architectures, fit a
:class:`~sknar.ranker.NARRanker` on a few hundred of them and rank all the others. The data is
NAS-Bench-Graph on Cora, which ships with the ``nas-bench-graph`` package: 26,206 graph
neural networks with their validation and test accuracy.
"""

# %%
# Load the benchmark
# ------------------
# A loader returns a scikit-learn ``Bunch``: ``archs`` (architectures as the search space
# understands them), ``y`` (the accuracy to rank by, here validation accuracy) and ``space``.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from sknar.datasets import load_nasbench_graph
from sknar.encoding import NARFeatureEncoder
from sknar.metrics import best_rank_at_k, kendall_tau, precision_at_k
from sknar.ranker import NARRanker

data = load_nasbench_graph(dataset="cora")
print(len(data.archs), "architectures, e.g.", data.archs[0])

rng = np.random.default_rng(0)
order = rng.permutation(len(data.archs))
# 300 architectures to train on, 5,000 others to rank (all of them would do; this is faster).
train, test = order[:300], order[300:5300]
archs_train = [data.archs[i] for i in train]
archs_test = [data.archs[i] for i in test]

# %%
# Fit the ranker
# --------------
# :class:`~sknar.encoding.NARFeatureEncoder` turns each architecture into NAR's patch tokens
# and tells the ranker their layout, so the pipeline needs no further argument. Thirty epochs
# keep the example fast; the default preset trains for 150.
model = make_pipeline(
    NARFeatureEncoder(space=data.space),
    NARRanker(max_epochs=30, random_state=0),
)
model.fit(archs_train, data.y[train])

# %%
# Rank the held-out architectures
# -------------------------------
# ``predict`` gives a score, higher is better; only its order matters. Kendall tau says how
# often a pair is ordered correctly (``(1 + tau) / 2`` of the pairs); precision at *k* how much
# of the true top *k* the predicted top *k* recovers; best rank at *k* the true rank of the
# best architecture among the predicted top *k*.
scores = model.predict(archs_test)
y_test = data.y[test]
print(f"Kendall tau     {kendall_tau(y_test, scores):.3f}")
print(f"precision@250   {precision_at_k(y_test, scores, 250):.2f}")
print(f"best rank@10    {best_rank_at_k(y_test, scores, 10)} of {len(test)}")

# %%
# The ranker also says which global quality tier each architecture belongs to:
# ``predict_proba`` has one column per tier, column 0 being the best fifth of the training
# accuracies. The plot shows the held-out accuracies grouped by the tier the ranker predicts.
proba = model.predict_proba(archs_test)
predicted_tier = proba.argmax(axis=1)
fig, ax = plt.subplots(figsize=(7, 3.5))
groups = [y_test[predicted_tier == tier] for tier in range(proba.shape[1])]
ax.boxplot([g for g in groups if len(g)], showfliers=False)
ax.set_xticks(
    range(1, sum(len(g) > 0 for g in groups) + 1),
    [f"tier {t}" for t, g in enumerate(groups) if len(g)],
)
ax.set_xlabel("tier predicted by NARRanker (0 = best)")
ax.set_ylabel("true validation accuracy")
fig.tight_layout()
plt.show()
