"""
Full-size tier search on NAS-Bench-201
======================================

The gallery examples use tiny settings so that the documentation builds in minutes. This
walkthrough runs the search with the library's defaults: the default ``NARRanker``, 50
initial architectures, 500 candidates per round, the 10 best evaluated, a budget of 200
oracle calls, on the three NAS-Bench-201 datasets and five seeds, beside random search and
regularized evolution. It takes tens of minutes on a laptop CPU and is not run when the
documentation is built; run it as a script (it needs ``SKNAR_DATA``).
"""

# %%
import numpy as np
from sklearn.pipeline import make_pipeline

from sknar.encoding import NARFeatureEncoder
from sknar.oracles import TabularOracle
from sknar.ranker import NARRanker
from sknar.sampler import TierSampler
from sknar.search import RandomSearch, RegularizedEvolution, TierSearch

BUDGET = 200
SEEDS = range(5)


def searchers(space, dataset):
    """The three searches, each a function of the seed."""

    def tier(seed):
        ranker = make_pipeline(NARFeatureEncoder(space=space, dataset=dataset), NARRanker())
        sampler = TierSampler(space, dataset=dataset)
        return TierSearch(space, ranker=ranker, sampler=sampler, random_state=seed)

    return {
        "tier search": tier,
        "regularized evolution": lambda seed: RegularizedEvolution(space, random_state=seed),
        "random search": lambda seed: RandomSearch(space, random_state=seed),
    }


# %%
for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
    oracle = TabularOracle.from_nasbench201(dataset)
    print(f"\n{dataset}")
    for name, make in searchers(oracle.space, dataset).items():
        best = np.array([make(seed).run(oracle, BUDGET).best_value for seed in SEEDS])
        print(f"  {name:22s} best test accuracy {best.mean():.2f} +- {best.std():.2f}")
