"""sknar inside Optuna: the spaces' parameters, suggest_architecture, NARSampler, pruning."""

import math

import numpy as np
import pytest

optuna = pytest.importorskip("optuna", reason="the optuna extra is not installed")

from optuna.trial import TrialState  # noqa: E402
from sklearn.ensemble import RandomForestRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from sknar.integration.optuna import (  # noqa: E402
    NARSampler,
    architecture_of,
    network_key,
    pruning_callback,
    suggest_architecture,
    within_budget,
)
from sknar.integration.optuna._sampler import _front_scores  # noqa: E402
from sknar.spaces import (  # noqa: E402
    NASBench101Space,
    NASBench201Space,
    NASBenchGraphSpace,
    TableSpace,
)
from sknar.utils.testing import ChainSpace  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
NB201 = NASBench201Space()


def _forest(space, seed=0):
    def features(archs):
        return [list(space.structure_features(arch).values()) for arch in archs]

    return make_pipeline(
        FunctionTransformer(features),
        RandomForestRegressor(n_estimators=10, random_state=seed),
    )


def _toy_value(arch):
    """A toy NB201 accuracy without ties: 3x3 convolutions, then 1x1, then small cells."""
    params = NB201.total_cost(arch)["params"]
    return 10.0 * arch.count("nor_conv_3x3") + arch.count("nor_conv_1x1") - params / 1e7


def _sampler(**kwargs):
    settings = dict(n_startup_trials=12, n_candidates=60, top_k=4, refit_every=4, n_tiers=3)
    settings.update(kwargs)
    return NARSampler(NB201, ranker=_forest(NB201), **settings)


# --- the spaces' parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    "space",
    [NASBench201Space(), NASBench101Space(), NASBenchGraphSpace(op_set="proteins")],
    ids=lambda space: space.name,
)
def test_parameters_round_trip(space):
    choices = space.parameter_choices()
    for arch in space.sample(50, random_state=0):
        values = space.to_parameters(arch)
        assert list(values) == list(choices)
        assert all(values[name] in choices[name] for name in values)
        assert space.from_parameters(values) == space.validate(arch)


def test_parameters_bad_values_are_named():
    space = NASBench101Space()
    values = space.to_parameters(space.sample(1, random_state=0)[0])
    with pytest.raises(ValueError, match="'edge_0_1' .* is 2, not one of its choices"):
        space.from_parameters({**values, "edge_0_1": 2})
    missing = dict(values)
    del missing["op_3"]
    with pytest.raises(ValueError, match="parameter 'op_3' .* is missing"):
        space.from_parameters(missing)
    every_edge = {**values, **dict.fromkeys([n for n in values if n.startswith("edge")], 1)}
    with pytest.raises(ValueError, match="too many edges"):
        space.from_parameters(every_edge)


def test_table_space_refuses_architectures_outside_the_table():
    table = TableSpace(NB201, NB201.sample(20, random_state=0))
    draws = NB201.sample(100, random_state=1)
    outside = next(a for a in draws if NB201.hash(a) not in table.hashes)
    assert table.parameter_choices() == NB201.parameter_choices()
    with pytest.raises(ValueError, match="not in the table"):
        table.from_parameters(NB201.to_parameters(outside))


def test_a_space_without_parameters_says_so():
    with pytest.raises(NotImplementedError, match="parameter_choices"):
        ChainSpace().parameter_choices()
    with pytest.raises(ValueError, match="no parameter_choices"):
        NARSampler(ChainSpace())


# --- suggest_architecture -------------------------------------------------------------------


def test_suggest_architecture_under_tpe_records_the_network():
    def objective(trial):
        return _toy_value(suggest_architecture(trial, NB201))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=8)
    for trial in study.trials:
        arch = architecture_of(trial, NB201)
        assert trial.user_attrs["sknar_network"] == network_key(NB201, arch)
        assert trial.user_attrs["sknar_architecture"] == arch
        assert trial.value == pytest.approx(_toy_value(arch))


def test_invalid_choices_prune_or_fail():
    space = NASBench101Space()

    def objective(trial):
        suggest_architecture(trial, space, invalid=trial.number % 2 and "raise" or "prune")
        return 1.0

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=30, catch=(ValueError,))
    states = {trial.number: trial.state for trial in study.trials}
    invalid = [t for t in study.trials if architecture_of(t, space) is None]
    assert invalid, "random NB101 choices make some invalid cells"
    for trial in invalid:
        expected = TrialState.FAIL if trial.number % 2 else TrialState.PRUNED
        assert states[trial.number] == expected
    valid = [t for t in study.trials if architecture_of(t, space) is not None]
    assert all(t.state == TrialState.COMPLETE for t in valid)


# --- NARSampler -----------------------------------------------------------------------------


def test_nar_sampler_proposes_distinct_networks_and_refits_rarely():
    # Lists of 3, a refit every 6 completed trials: the lists in between are ranked by the
    # ranker fitted last.
    sampler = _sampler(seed=0, top_k=3, refit_every=6)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: _toy_value(suggest_architecture(t, NB201)), n_trials=32)
    keys = [t.user_attrs["sknar_network"] for t in study.trials]
    assert len(set(keys)) == 32
    assert sampler.n_fits_ == 4  # after 12, 18, 24 and 30 completed trials
    startup = np.mean([t.value for t in study.trials[:12]])
    guided = np.mean([t.value for t in study.trials[12:]])
    assert guided > startup


def test_failed_and_pruned_networks_are_never_proposed_again():
    failed = set()

    def objective(trial):
        arch = suggest_architecture(trial, NB201)
        if trial.number % 3 == 0:
            failed.add(network_key(NB201, arch))
            raise optuna.TrialPruned() if trial.number % 2 else RuntimeError("training died")
        return _toy_value(arch)

    study = optuna.create_study(direction="maximize", sampler=_sampler(seed=1))
    study.optimize(objective, n_trials=30, catch=(RuntimeError,))
    keys = [t.user_attrs["sknar_network"] for t in study.trials]
    assert len(set(keys)) == len(keys) == 30
    assert {TrialState.FAIL, TrialState.PRUNED} <= {t.state for t in study.trials}


def test_a_running_network_is_claimed_against_another_worker():
    # Two samplers with one seed draw the same first network; the second one sees the
    # first one's claim on the running trial and draws another.
    storage = optuna.storages.InMemoryStorage()
    first = optuna.create_study(storage=storage, study_name="s", sampler=_sampler(seed=0))
    second = optuna.load_study(storage=storage, study_name="s", sampler=_sampler(seed=0))
    running = first.ask()
    arch_a = suggest_architecture(running, NB201)
    other = second.ask()
    arch_b = suggest_architecture(other, NB201)
    assert network_key(NB201, arch_a) != network_key(NB201, arch_b)
    alone = optuna.create_study(sampler=_sampler(seed=0)).ask()
    assert suggest_architecture(alone, NB201) == arch_a  # the same first draw, alone


def test_isomorphic_twins_are_one_network():
    sampler = _sampler(seed=2)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: _toy_value(suggest_architecture(t, NB201)), n_trials=18)
    representatives = [NB201.representatives([architecture_of(t, NB201)])[0] for t in study.trials]
    assert len(set(representatives)) == 18


def test_multi_objective_and_constraints():
    def constraints(trial):  # at most a million parameters (values are not set yet)
        return [trial.user_attrs["params"] - 1.0e6]

    sampler = _sampler(seed=3, constraints_func=constraints)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)

    def objective(trial):
        arch = suggest_architecture(trial, NB201)
        params = float(NB201.total_cost(arch)["params"])
        trial.set_user_attr("params", params)
        return _toy_value(arch), params

    study.optimize(objective, n_trials=24)
    assert len({t.user_attrs["sknar_network"] for t in study.trials}) == 24
    assert all(t.system_attrs["constraints"] == (t.values[1] - 1.0e6,) for t in study.trials)
    assert sampler.n_fits_ >= 1


def test_front_scores_order_fronts():
    values = np.array([[3.0, 3.0], [1.0, 1.0], [3.0, 1.0], [0.0, 4.0], [0.5, 0.5]])
    scores = _front_scores(values)
    # [3, 3] dominates all but [0, 4]; [1, 1] and [3, 1] are dominated by it only.
    assert scores[0] > scores[2] > scores[1] > scores[4]
    assert math.floor(scores[0]) == math.floor(scores[3]) == 0
    assert scores[4] < -1


def test_parameters_outside_the_space_use_the_independent_sampler():
    study = optuna.create_study(direction="maximize", sampler=_sampler(seed=4))

    def objective(trial):
        arch = suggest_architecture(trial, NB201)
        rate = trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)
        return _toy_value(arch) + rate

    study.optimize(objective, n_trials=15)
    rates = [t.params["learning_rate"] for t in study.trials]
    assert len(set(rates)) == 15 and all(1e-4 <= r <= 1e-1 for r in rates)


# --- pruning ------------------------------------------------------------------------------


class EpochOracle:
    """A stand-in training oracle with the ``on_epoch`` hook: accuracy rises to a cell's
    final value over ``n_epochs``; it records how many epochs each call ran."""

    def __init__(self, n_epochs=10):
        self.n_epochs = n_epochs
        self.epochs_run = []

    def __call__(self, arch, *, epochs=None, on_epoch=None):
        n_epochs = epochs or self.n_epochs
        final = _toy_value(arch)
        ran = 0
        try:
            for epoch in range(1, n_epochs + 1):
                ran = epoch
                if on_epoch is not None:
                    on_epoch(epoch, final * epoch / n_epochs)
        finally:
            self.epochs_run.append(ran)
        return final


@pytest.mark.parametrize(
    "pruner",
    [
        optuna.pruners.MedianPruner(n_startup_trials=3),
        optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    ],
    ids=["median", "successive-halving"],
)
def test_pruned_trainings_stop_early(pruner):
    oracle = EpochOracle(n_epochs=10)

    def objective(trial):
        arch = suggest_architecture(trial, NB201)
        return oracle(arch, on_epoch=pruning_callback(trial))

    study = optuna.create_study(
        direction="maximize", pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    study.optimize(objective, n_trials=20)
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned
    for trial in study.trials:
        ran = oracle.epochs_run[trial.number]
        if trial.state == TrialState.PRUNED:
            assert ran < 10 and max(trial.intermediate_values) == ran
        else:
            assert trial.state == TrialState.COMPLETE and ran == 10


def test_within_budget_counts_completed_trials_only():
    def objective(trial):
        if not within_budget(trial, 6):
            raise optuna.TrialPruned("budget reached")
        if trial.number == 2:
            raise RuntimeError("a failed training does not count")
        return float(trial.number)

    study = optuna.create_study()
    study.optimize(objective, catch=(RuntimeError,))
    assert len(study.get_trials(states=[TrialState.COMPLETE])) == 6


def test_the_core_does_not_import_optuna():
    # The extra is optional: only sknar/integration may import optuna.
    import re
    from pathlib import Path

    import sknar

    package = Path(sknar.__file__).parent
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "integration" not in path.parts
        and re.search(r"^\s*(import|from)\s+optuna\b", path.read_text(), flags=re.M)
    ]
    assert not offenders


@pytest.mark.parametrize(
    "name",
    [
        "NARSampler",
        "architecture_of",
        "network_key",
        "pruning_callback",
        "suggest_architecture",
        "within_budget",
    ],
)
def test_public_docstrings(name):
    # The checks of tests/test_docs.py, for a package that needs its extra.
    validate = pytest.importorskip("numpydoc.validate").validate
    import inspect

    import sknar.integration.optuna as package

    obj = getattr(package, name)
    qualname = f"{obj.__module__}.{obj.__qualname__}"
    codes = {"GL08", "PR01", "PR02", "EX01"} | ({"RT01"} if inspect.isfunction(obj) else set())
    errors = [e for e in validate(qualname)["errors"] if e[0] in codes]
    if inspect.isclass(obj):
        for method in vars(obj):
            if not method.startswith("_") and callable(getattr(obj, method)):
                found = validate(f"{qualname}.{method}")["errors"]
                errors += [e for e in found if e[0] in {"GL08", "PR01", "PR02"}]
    assert not errors, errors


def test_threads_of_one_worker_share_the_sampler():
    import pickle

    sampler = _sampler(seed=5)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: _toy_value(suggest_architecture(t, NB201)), n_trials=20, n_jobs=2)
    keys = [t.user_attrs["sknar_network"] for t in study.trials]
    assert len(set(keys)) == 20
    copy = pickle.loads(pickle.dumps(NARSampler(NB201, seed=0)))  # the lock is rebuilt
    with copy._lock:
        assert copy.seed == 0
