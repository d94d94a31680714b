"""
NAR inside an Optuna study
==========================

Optuna runs studies on many machines through a shared storage, prunes bad trainings and
shows a dashboard; sknar knows the search space and ranks architectures. This example puts
them together on NAS-Bench-Graph (Cora), whose table ships with the ``nas-bench-graph``
package: the objective declares the architecture with
:func:`~sknar.integration.optuna.suggest_architecture`, and the same study runs once with
Optuna's TPE sampler and once with :class:`~sknar.integration.optuna.NARSampler`, on an
SQLite storage that other worker processes could join (see :ref:`optuna`).

It needs the Optuna extra: ``pip install sknar[optuna]``.
"""

# %%
# The objective: one architecture per trial
# -----------------------------------------
# A trial's parameters are the space's (:meth:`~sknar.spaces.SearchSpace.parameter_choices`:
# here the input and the op of each of the four slots); the table oracle stands in for a
# training.
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import optuna
from sklearn.pipeline import make_pipeline

from sknar.datasets import load_benchmark
from sknar.encoding import NARFeatureEncoder
from sknar.integration.optuna import NARSampler, suggest_architecture
from sknar.oracles import TabularOracle
from sknar.ranker import NARRanker

optuna.logging.set_verbosity(optuna.logging.WARNING)
data = load_benchmark("nasbench_graph", dataset="cora")
space = data.search_space
oracle = TabularOracle(data.archs, data.y, space=data.space)
print(space.parameter_choices())


def objective(trial):
    arch = suggest_architecture(trial, space)
    return oracle(arch)


# %%
# Two studies on one SQLite storage
# ---------------------------------
# The storage URL is all another worker needs to join a study
# (``optuna.load_study(study_name=..., storage=url, sampler=...)``); ``optuna-dashboard url``
# shows it. The NAR sampler draws uniformly for its first 20 trials, then fits NAR on the
# completed ones and proposes the best-ranked candidates of the tier sampler and the
# mutants of the best, refitting after every 10 completed trials.
budget = 60
url = f"sqlite:///{tempfile.mkdtemp()}/studies.db"
samplers = {
    "TPE (multivariate)": optuna.samplers.TPESampler(multivariate=True, seed=0),
    "NAR sampler": NARSampler(
        space,
        ranker=make_pipeline(NARFeatureEncoder(space), NARRanker(max_epochs=30, random_state=0)),
        n_startup_trials=20,
        n_candidates=300,
        refit_every=10,
        seed=0,
    ),
}
studies = {}
for name, sampler in samplers.items():
    study = optuna.create_study(study_name=name, storage=url, direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=budget)
    studies[name] = study
    keys = [trial.user_attrs["sknar_network"] for trial in study.trials]
    print(
        f"{name:20s} best {study.best_value:.4f}, {budget - len(set(keys))} trials repeated "
        "a network already evaluated"
    )
print(f"{'best in the table':20s} {data.y.max():.4f}")

# %%
# Best accuracy found against trials
# ----------------------------------
# One seed and 60 trials keep this example fast; the benchmark suite ``optuna`` compares
# the samplers over seeds on NAS-Bench-201.
fig, ax = plt.subplots(figsize=(7, 4))
for name, study in studies.items():
    values = [trial.value for trial in study.trials]
    ax.plot(np.arange(1, budget + 1), np.maximum.accumulate(values), label=name, lw=2)
ax.axhline(data.y.max(), color="k", ls="--", lw=1, label="best in the table")
ax.set_xlabel("trials")
ax.set_ylabel("best validation accuracy found")
ax.legend()
fig.tight_layout()
plt.show()
