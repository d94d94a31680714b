"""
The best network in 50 trainings: tier search beside Optuna's TPE
=================================================================

When every query is a training, what counts is the best network found after a few dozen of
them. This example gives NAR's tier search and Optuna's multivariate TPE sampler the same 50
queries on NAS-Bench-Graph (Cora; the table ships with the ``nas-bench-graph`` package) and
says what each found. The tier search takes small steps: 10 start-up architectures, then
rounds of 5 that the ranker chose among 300 candidates and the mutants of the best, the
ranker refitted after every round.

On NAS-Bench-201 and NAS-Bench-101 cells, ``initial_prior`` chooses the start-up by
training-free scores instead of uniform draws (e.g. data-free SynFlow,
``initial_prior=ZeroCostScorer(space, scores=["synflow"])`` of :mod:`sknar.proxies`); the
graph networks of this table are not built by :mod:`sknar.nn`, so here the start-up is
uniform.

It needs the Optuna extra: ``pip install sknar[optuna]``.
"""

# %%
# One table, two searchers, 50 queries each
# -----------------------------------------
# The table oracle stands in for a training: it returns the validation accuracy the search
# selects on. A small NAR ensemble (one member, 30 epochs) keeps the eight refits fast.
import matplotlib.pyplot as plt
import numpy as np
import optuna

from sknar.datasets import load_benchmark
from sknar.integration.optuna import suggest_architecture
from sknar.oracles import TabularOracle
from sknar.ranker import make_nar_pipeline
from sknar.search import TierSearch

optuna.logging.set_verbosity(optuna.logging.WARNING)
data = load_benchmark("nasbench_graph", dataset="cora")
space = data.search_space
oracle = TabularOracle(data.archs, data.y, space=data.space)
budget = 50

search = TierSearch(
    space,
    ranker=make_nar_pipeline(space, n_members=1, max_epochs=30, random_state=0),
    n_initial=10,
    n_candidates=300,
    top_k=5,
    random_state=0,
)
tier = search.run(oracle, budget)


def objective(trial):
    return oracle(suggest_architecture(trial, space))


study = optuna.create_study(
    direction="maximize", sampler=optuna.samplers.TPESampler(multivariate=True, seed=0)
)
study.optimize(objective, n_trials=budget)
tpe_values = np.array([trial.value for trial in study.trials])

# %%
# What each found
# ---------------
# The rank of the best accuracy found among the table's distinct values (1 = the table's
# best) says how close each came to the optimum.
levels = np.unique(data.y)[::-1]


def rank_in_table(value):
    return int(np.searchsorted(-levels, -value)) + 1


curves = {
    "tier search (NAR)": np.maximum.accumulate(tier.values),
    "Optuna TPE (multivariate)": np.maximum.accumulate(tpe_values),
}
for name, curve in curves.items():
    print(
        f"{name:26s} best after 25: {curve[24]:.4f}, after 50: {curve[-1]:.4f} "
        f"(rank {rank_in_table(curve[-1])} of {len(levels)} accuracy levels)"
    )
print(f"{'best in the table':26s} {data.y.max():.4f}")
print(f"tier search's own time: {tier.ask_time:.1f} s for {budget} queries")

# %%
# Best accuracy found against queries
# -----------------------------------
# One seed keeps this example fast; the benchmark suite ``search`` compares the searchers
# over seeds on NAS-Bench-201 at 25, 50 and 100 queries.
fig, ax = plt.subplots(figsize=(7, 4))
for name, curve in curves.items():
    ax.plot(np.arange(1, budget + 1), curve, label=name, lw=2)
ax.axhline(data.y.max(), color="k", ls="--", lw=1, label="best in the table")
ax.set_xlabel("queries (trainings)")
ax.set_ylabel("best validation accuracy found")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
