"""
Cross-dataset generalisation on NAS-Bench-201
=============================================

The NAR paper claims that a ranker trained on one dataset ranks architectures on another: the
global tiers of NAS-Bench-201 are much the same on CIFAR-10, CIFAR-100 and ImageNet16-120. This
example trains on CIFAR-10 accuracies and ranks the held-out architectures by their CIFAR-100
and ImageNet16-120 accuracies, beside rankers trained on those datasets directly. Each ranker
sees 300 architectures and ranks 5,000 others.

It needs the NAS-Bench-201 file under ``SKNAR_DATA`` (see :ref:`datasets`).
"""

# %%
# The same architectures on three datasets
# ----------------------------------------
# The loaders keep the benchmark's order, so index ``i`` is the same architecture in the
# three Bunches.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from sknar.datasets import load_nasbench201
from sknar.encoding import NARFeatureEncoder
from sknar.metrics import kendall_tau
from sknar.ranker import NARRanker

datasets = ("cifar10", "cifar100", "ImageNet16-120")
benchmarks = {name: load_nasbench201(dataset=name) for name in datasets}
assert benchmarks["cifar10"].archs == benchmarks["cifar100"].archs

rng = np.random.default_rng(0)
order = rng.permutation(len(benchmarks["cifar10"].archs))
train, test = order[:300], order[300:5300]
archs = benchmarks["cifar10"].archs
archs_train = [archs[i] for i in train]
archs_test = [archs[i] for i in test]

# %%
# One ranker per training dataset
# -------------------------------
# The encoder computes FLOPs and parameter counts for the macro network of the dataset it is
# given; the ranker trained on CIFAR-10 keeps the CIFAR-10 encoding everywhere.


def fit_ranker(dataset):
    model = make_pipeline(
        NARFeatureEncoder(space=benchmarks[dataset].space, dataset=dataset),
        NARRanker(max_epochs=30, random_state=0),
    )
    return model.fit(archs_train, benchmarks[dataset].y[train])


rankers = {name: fit_ranker(name) for name in datasets}
transfer = {
    target: kendall_tau(benchmarks[target].y[test], rankers["cifar10"].predict(archs_test))
    for target in datasets
}
direct = {
    target: kendall_tau(benchmarks[target].y[test], rankers[target].predict(archs_test))
    for target in datasets
}
for target in datasets:
    print(
        f"{target:15s} trained on CIFAR-10: {transfer[target]:.3f}   "
        f"trained on {target}: {direct[target]:.3f}"
    )

# %%
# Transfer against direct training
# --------------------------------
# Kendall tau on the held-out architectures of each target dataset.
positions = np.arange(len(datasets))
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.bar(positions - 0.2, [transfer[t] for t in datasets], 0.4, label="trained on CIFAR-10")
ax.bar(positions + 0.2, [direct[t] for t in datasets], 0.4, label="trained on the target")
ax.set_xticks(positions, datasets)
ax.set_ylabel("Kendall tau on the target")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
