"""
A search that trains for real: NAS-Bench-201 cells on handwritten digits
========================================================================

Every other example reads its accuracies from a benchmark table. Here the oracle trains: each
architecture the search asks about becomes its NAS-Bench-201 network
(:class:`~sknar.nn.NASBench201Network`), which a :class:`~sknar.oracles.TrainingOracle`
trains on scikit-learn's handwritten digits (8x8 images, 10 classes, bundled with
scikit-learn, so this runs offline) and scores on a validation split. NAR's tier search and
random search get the same oracle and the same budget of 30 trainings; the trainings of a
round run in parallel (``n_jobs``) and every finished training is written to a journal, so
that an interrupted search resumes without training anything twice. At the end the
architecture each search found is trained once more and scored on the held-out test split,
which no search has seen.

The networks are smaller than the benchmark's (``C=8`` channels in the first stage, one cell
per stage instead of five) and train for 3 epochs: a training takes a second or two on one
CPU thread, and the whole example a few minutes, so it is not run when the documentation is
built. Digits are easy: most cells reach 95% or more, and the differences between the
searches are of a few test images. :doc:`/benchmarks` measures them over seeds.
"""

# %%
# The data and the oracle
# -----------------------
# The split is fixed by its seed: a search selects on ``validation``; ``test`` is held out.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.pipeline import make_pipeline

from sknar.encoding import NARFeatureEncoder
from sknar.oracles import TrainingOracle, load_digits_split
from sknar.ranker import NARRanker
from sknar.sampler import TierSampler
from sknar.search import RandomSearch, TierSearch
from sknar.spaces import NASBench201Space

space = NASBench201Space()
digits = load_digits_split(random_state=0)
oracle = TrainingOracle(
    space,
    digits.train,
    digits.validation,
    network_params={"C": 8, "N": 1},
    epochs=3,
    random_state=0,
)
print(oracle)

BUDGET = 30  # trainings per search
N_JOBS = 2  # trainings at once
journal_dir = Path(tempfile.mkdtemp(prefix="sknar-digits-"))

# %%
# Tier search against random search
# ---------------------------------
# With 30 trainings the ranker learns from 10 to 25 architectures: three quality tiers, and
# a sampler that accepts tiers of two.
ranker = make_pipeline(NARFeatureEncoder(space), NARRanker(n_tiers=3, random_state=0))
searches = {
    "tier search": TierSearch(
        space,
        ranker=ranker,
        sampler=TierSampler(space, min_tier_size=2),
        n_initial=10,
        n_candidates=300,
        top_k=5,
        n_tiers=3,
        random_state=0,
    ),
    "random search": RandomSearch(space, random_state=0),
}
results = {}
for name, search in searches.items():
    journal = journal_dir / f"{name.replace(' ', '_')}.jsonl"
    results[name] = search.run(oracle, BUDGET, n_jobs=N_JOBS, journal=journal)
    result = results[name]
    print(
        f"{name:14s} best validation accuracy {result.best_value:.4f} after "
        f"{result.n_queries} trainings ({result.wall_time:.0f} s)"
    )

# %%
# Best validation accuracy against trainings
# ------------------------------------------
fig, ax = plt.subplots(figsize=(7, 4))
for result in results.values():
    result.plot(ax=ax, lw=2)
ax.set_xlabel("trainings")
ax.set_ylabel("best validation accuracy so far")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# The found architectures on the held-out test split
# --------------------------------------------------
# Training is deterministic for a seed, so training the best architecture once more gives
# the network the search measured; the test split scores it.
for name, result in results.items():
    network = oracle.train_network(result.best_arch)
    test_accuracy = oracle.score(network, digits.test)
    print(f"{name:14s} {result.best_arch}")
    print(f"{'':14s} validation {result.best_value:.4f}, held-out test {test_accuracy:.4f}")
