"""
Driving a search with your own scheduler (ask/tell)
===================================================

In a real search each evaluation trains a network, on machines that a scheduler (SLURM,
Kubernetes, a notebook's thread pool) hands out. Every sknar searcher can be driven from
outside: :meth:`~sknar.search.BaseSearch.ask` returns the next batch of architectures to
train, :meth:`~sknar.search.BaseSearch.tell` records the results as they come back, in any
order, failed trainings included. This example drives NAR's tier search on NAS-Bench-Graph
(Cora, 26,206 graph neural networks; it ships with the ``nas-bench-graph`` package) with a
thread pool standing in for the cluster, and a lookup in the benchmark table standing in for
the training. The same code runs on NAS-Bench-201 or NAS-Bench-101: only the
:func:`~sknar.datasets.load_benchmark` line changes.
"""

# %%
# The search and the "cluster"
# ----------------------------
# The ranker is a random forest on one-hot cells to keep the example fast; NAR's own ranker
# is ``make_pipeline(NARFeatureEncoder(space), NARRanker())``, the default.
import pickle
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline

from sknar.datasets import load_benchmark
from sknar.encoding import AdjacencyOneHotEncoder
from sknar.oracles import TabularOracle
from sknar.sampler import TierSampler
from sknar.search import TierSearch

# ``y`` is the validation accuracy (a fraction): the search selects with it.
data = load_benchmark("nasbench_graph", dataset="cora")
space = data.search_space
table = TabularOracle(data.archs, data.y, space=space)


def make_search():
    ranker = make_pipeline(
        AdjacencyOneHotEncoder(space), RandomForestRegressor(n_estimators=50, n_jobs=1)
    )
    return TierSearch(
        space,
        ranker=ranker,
        sampler=TierSampler(space, dataset=data.cost_dataset),
        n_initial=20,
        n_candidates=200,
        top_k=8,
        random_state=0,
    )


def train(arch):
    """Stands in for a training job: the table's accuracy; about one job in ten crashes."""
    if zlib.crc32(str(arch).encode()) % 10 == 0:
        raise RuntimeError("the node ran out of memory")
    return table(arch)


# %%
# The loop a scheduler runs
# -------------------------
# Ask for a batch, submit one job per architecture, collect the results as the jobs end (in
# any order), and tell them. A failed job is told as its exception (``None`` or ``NaN`` work
# too): the search records it, charges it to the budget and never proposes the
# architecture again. ``tell`` also takes a part of a batch, in any order, as soon as it is
# known; telling each batch in the order it was asked, as here, makes the queries depend on
# the seed alone, not on which job ended first. Between batches the searcher is pickled, so a
# scheduler that restarts can load it and go on.
budget = 60
checkpoint = Path(tempfile.mkdtemp()) / "search.pkl"
search = make_search()
with ThreadPoolExecutor(max_workers=4) as cluster:
    n_told = 0
    while n_told < budget:
        batch = search.ask()[: budget - n_told]
        if not batch:
            break
        jobs = {cluster.submit(train, arch): index for index, arch in enumerate(batch)}
        values = [None] * len(batch)
        for job in as_completed(jobs):
            values[jobs[job]] = job.exception() or job.result()
        search.tell(batch, values)
        n_told += len(batch)
        checkpoint.write_bytes(pickle.dumps(search))
        search = pickle.loads(checkpoint.read_bytes())

result = search.result_
print(result)
errors = [error for error in result.errors if error is not None]
print(f"{result.n_failed} failed trainings recorded, e.g. {errors[0]!r}" if errors else
      "no failed training")
print(f"best found: {result.best_value:.3f} (best in the benchmark {data.y.max():.3f})")

# %%
# The same search with ``run``
# ----------------------------
# :meth:`~sknar.search.BaseSearch.run` is this loop with an oracle, a budget, parallel
# evaluation through joblib (``n_jobs``, or a dask or ray cluster), a journal to resume from
# and a failure policy. Failures are skipped here (``on_error="skip"``), as the loop above
# did. With the same ``random_state`` it evaluates the same architectures in the same order.
again = make_search().run(train, budget, n_jobs=None, on_error="skip")
print("same queries as the ask/tell loop:", again.archs == result.archs)

# %%
# Best accuracy found
# -------------------
fig, ax = plt.subplots(figsize=(7, 4))
ax = result.plot(ax=ax, label="tier search driven by ask/tell", lw=2)
ax.axhline(data.y.max(), color="k", ls=":", lw=1, label="best in the benchmark")
ax.legend()
plt.show()
