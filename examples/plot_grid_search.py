"""
Tune NARRanker with GridSearchCV
================================

:class:`~sknar.ranker.NARRanker` is an ordinary scikit-learn estimator, so its
hyper-parameters can be tuned with :class:`~sklearn.model_selection.GridSearchCV`. Two sknar
pieces make the search meaningful for ranking:

- the scorer is Kendall tau (:data:`sknar.metrics.kendall_tau_scorer`), the quality of the
  order, not a regression error;
- :class:`~sknar.model_selection.TierStratifiedKFold` stratifies the folds by quality tier,
  so every fold holds its share of the rare top architectures.
"""

# %%
# A small training set
# --------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sknar.datasets import load_nasbench_graph
from sknar.encoding import NARFeatureEncoder
from sknar.metrics import kendall_tau, kendall_tau_scorer
from sknar.model_selection import TierStratifiedKFold
from sknar.ranker import NARRanker

data = load_nasbench_graph(dataset="cora")
rng = np.random.default_rng(1)
order = rng.permutation(len(data.archs))
train, test = order[:240], order[240:5240]
archs_train = [data.archs[i] for i in train]
archs_test = [data.archs[i] for i in test]

# %%
# Tier-stratified folds
# ---------------------
# Each of the three folds holds about a third of every tier of the training accuracies.
cv = TierStratifiedKFold(n_splits=3, n_tiers=5, shuffle=True, random_state=0)
for fold, (_, validation) in enumerate(cv.split(archs_train, data.y[train])):
    print(f"fold {fold}: {len(validation)} validation architectures")

# %%
# The grid
# --------
# The number of tiers and the weight of the pairwise rank loss, on a deliberately small model
# so that the twelve fits take seconds.
model = make_pipeline(
    NARFeatureEncoder(space=data.space),
    NARRanker(max_epochs=20, random_state=0),
)
grid = {
    "narranker__n_tiers": [3, 5],
    "narranker__rank_loss_weight": [0.0, 1.0],
}
search = GridSearchCV(model, grid, scoring=kendall_tau_scorer, cv=cv)
search.fit(archs_train, data.y[train])
print("best parameters:", search.best_params_)
print(f"cross-validated Kendall tau: {search.best_score_:.3f}")
print(f"held-out Kendall tau:        {kendall_tau(data.y[test], search.predict(archs_test)):.3f}")

# %%
# Every candidate, fold by fold
# -----------------------------
results = search.cv_results_
labels = [
    f"K={p['narranker__n_tiers']}, rank loss {p['narranker__rank_loss_weight']:g}"
    for p in results["params"]
]
fold_scores = np.array([results[f"split{i}_test_score"] for i in range(cv.get_n_splits())])
fig, ax = plt.subplots(figsize=(7, 3.5))
for i in range(len(labels)):
    ax.scatter(fold_scores[:, i], [i] * len(fold_scores), color="C0", alpha=0.6)
    ax.scatter(results["mean_test_score"][i], i, color="C3", marker="|", s=400)
ax.set_yticks(range(len(labels)), labels)
ax.set_xlabel("Kendall tau on the validation fold (red: mean)")
fig.tight_layout()
plt.show()
