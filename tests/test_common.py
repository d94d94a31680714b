"""Common checks over every public estimator of sknar, as found by ``all_estimators``.

Each estimator needs a row in ``ESTIMATORS``: how to build it with valid parameters and how
to feed it (the call that checks its parameters, on data it accepts: the encoders and the
sampler take architectures, not a numeric X). A new public estimator without a row fails
``test_every_public_estimator_has_a_row`` until one is added.
"""

from numbers import Integral
from typing import Callable, NamedTuple

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    generate_invalid_param_val,
    make_constraint,
)
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from sknar import NARRanker, TierSampler, TierTransformer
from sknar.encoding import AdjacencyOneHotEncoder, NARFeatureEncoder, PathEncoder
from sknar.proxies import ZeroCostScorer
from sknar.ranker import NARNet
from sknar.search import MultiFidelityTierSearch, RandomSearch, RegularizedEvolution, TierSearch
from sknar.spaces import NASBench201Space
from sknar.utils import all_estimators
from sknar.utils.testing import ChainSpace


class Row(NamedTuple):
    """How to build an estimator with valid parameters, and the call that checks them."""

    build: Callable[[], object]
    feed: Callable[[object], object]


def _archs():
    return NASBench201Space().sample(40, random_state=0)


def _accuracies(archs):
    return np.array([a.count("conv_3x3") + 0.5 * a.count("conv_1x1") for a in archs])


def _fit_on_archs(estimator):
    archs = _archs()
    return estimator.fit(archs, _accuracies(archs))


def _fit_sampler(sampler):
    archs = _archs()
    tiers = TierTransformer(n_tiers=2).fit_transform(_accuracies(archs))
    return sampler.fit(archs, tiers)


def _fit_on_numbers(estimator):
    rng = np.random.RandomState(0)
    X = rng.rand(40, 2 * 2 * 2).astype(np.float32)
    y = X.sum(axis=1)
    if isinstance(estimator, NARNet):
        y = np.column_stack([y > np.median(y), y]).astype(np.float32)
    return estimator.fit(X, y)


def _fit_on_accuracies(estimator):
    return estimator.fit(_accuracies(_archs()))


CHAIN = ChainSpace(known_size=True)


def _chain_accuracy(arch):
    return float(sum((slot + 1) * (op == "c") + 0.1 * (op == "b") for slot, op in enumerate(arch)))


def _search(budget):
    return lambda searcher: searcher.run(_chain_accuracy, budget)


def _chain_features(archs):
    return np.array([[arch.count(op) for op in CHAIN.op_names] for arch in archs], dtype=float)


def _tier_search():
    ranker = make_pipeline(FunctionTransformer(_chain_features),
                           RandomForestRegressor(n_estimators=5, random_state=0))
    return TierSearch(CHAIN, ranker=ranker, sampler=TierSampler(CHAIN, min_tier_size=1),
                      n_initial=6, n_candidates=10, top_k=2, n_tiers=2, random_state=0)


def _chain_accuracy_at(arch, epochs):
    # A longer training scores higher, in the same order of architectures.
    return _chain_accuracy(arch) * epochs / (epochs + 1)


def _multi_fidelity_search():
    ranker = make_pipeline(FunctionTransformer(_chain_features),
                           RandomForestRegressor(n_estimators=5, random_state=0))
    return MultiFidelityTierSearch(
        CHAIN, fidelities=(1, 2), ranker=ranker, sampler=TierSampler(CHAIN, min_tier_size=1),
        n_initial=6, batch_size=2, eta=2, n_candidates=10, n_tiers=2, random_state=0,
    )


TINY_RANKER = dict(n_tiers=2, d_model=8, n_heads=2, d_ff=8, max_epochs=2, random_state=0)

ESTIMATORS = {
    "AdjacencyOneHotEncoder": Row(lambda: AdjacencyOneHotEncoder(NASBench201Space()),
                                  _fit_on_archs),
    "NARFeatureEncoder": Row(lambda: NARFeatureEncoder(NASBench201Space()), _fit_on_archs),
    "NARNet": Row(
        lambda: NARNet(module__n_patches=2, module__patch_size=2, module__n_tiers=2,
                       module__d_model=8, module__n_heads=2, module__d_ff=8, max_epochs=1),
        _fit_on_numbers,
    ),
    "MultiFidelityTierSearch": Row(
        _multi_fidelity_search, lambda searcher: searcher.run(_chain_accuracy_at, 16)
    ),
    "NARRanker": Row(lambda: NARRanker(**TINY_RANKER), _fit_on_numbers),
    "PathEncoder": Row(lambda: PathEncoder(NASBench201Space()), _fit_on_archs),
    "RandomSearch": Row(lambda: RandomSearch(CHAIN, random_state=0), _search(4)),
    "RegularizedEvolution": Row(
        lambda: RegularizedEvolution(CHAIN, population_size=3, sample_size=2, random_state=0),
        _search(5),
    ),
    "TierSampler": Row(lambda: TierSampler(NASBench201Space()), _fit_sampler),
    "TierSearch": Row(_tier_search, _search(10)),
    "TierTransformer": Row(lambda: TierTransformer(n_tiers=2), _fit_on_accuracies),
    "ZeroCostScorer": Row(
        lambda: ZeroCostScorer(NASBench201Space(), batch_size=2, image_size=8,
                               network_params={"C": 2, "N": 1}),
        lambda scorer: scorer.fit().transform(_archs()[:2]),
    ),
}

# Estimators that do not pass scikit-learn's parameter check, and why.
EXPECTED_FAILURES = {
    "NARNet": (
        "a skorch NeuralNet: its parameters are open-ended by skorch's design (module__*, "
        "optimizer__*, callbacks__*) and skorch checks them itself; it has no "
        "_parameter_constraints"
    ),
}

FIT_METHODS = ("fit", "partial_fit", "fit_transform", "fit_predict")


def _public_estimators():
    return [
        pytest.param(
            name,
            cls,
            id=name,
            marks=pytest.mark.xfail(reason=EXPECTED_FAILURES[name], strict=True)
            if name in EXPECTED_FAILURES
            else (),
        )
        for name, cls in all_estimators()
    ]


def _row(name):
    if name not in ESTIMATORS:
        pytest.fail(
            f"{name} is a public estimator without a row in tests/test_common.py: add one to "
            "ESTIMATORS saying how to build it and how to feed it."
        )
    return ESTIMATORS[name]


def test_every_public_estimator_has_a_row():
    found = {name for name, _ in all_estimators()}
    assert found - set(ESTIMATORS) == set(), "public estimators without a row in ESTIMATORS"
    assert set(ESTIMATORS) - found == set(), "rows in ESTIMATORS for no public estimator"
    assert set(EXPECTED_FAILURES) <= found


@pytest.mark.parametrize("name", [name for name, _ in all_estimators()])
def test_the_table_builds_estimators_that_accept_their_data(name):
    row = _row(name)
    estimator = row.build()
    assert type(estimator).__name__ == name
    row.feed(estimator)


@pytest.mark.parametrize("name, cls", _public_estimators())
def test_param_validation(name, cls):
    row = _row(name)
    estimator = row.build()
    if any(hasattr(estimator, method) for method in FIT_METHODS):
        # scikit-learn's check: parameters are validated before the data is looked at, so
        # its numeric X reaches the check even for estimators that take architectures.
        check_param_validation(name, estimator)
    else:
        _check_param_validation_at(name, estimator, row.feed)


def _check_param_validation_at(name, estimator_orig, call):
    """scikit-learn's ``check_param_validation`` for estimators without a fit method.

    Searchers and the like check their parameters where their work starts (``run``,
    ``ask``); ``call`` runs that method on valid data.
    """
    params = estimator_orig.get_params(deep=False)
    constraints = estimator_orig._parameter_constraints
    assert set(constraints) == set(params), f"{name}: constraints and parameters differ"
    not_valid = type("BadType", (), {})()
    for param, param_constraints in constraints.items():
        if param_constraints == "no_validation":
            continue
        bad_values = [not_valid]
        for constraint in map(make_constraint, param_constraints):
            try:
                bad_values.append(generate_invalid_param_val(constraint))
            except NotImplementedError:
                continue
        for bad_value in bad_values:
            estimator = clone(estimator_orig).set_params(**{param: bad_value})
            match = rf"The '{param}' parameter of {name} must be .* Got .* instead."
            with pytest.raises(InvalidParameterError, match=match):
                call(estimator)


# --- scikit-learn's estimator checks for the ranker -------------------------------------

RANKER_EXPECTED_FAILED_CHECKS = {
    "check_regressors_no_decision_function": (
        "predict_proba gives the probabilities of the quality tiers, a documented part of "
        "NAR's output beside the ranking score."
    ),
    "check_methods_subset_invariance": (
        "float32 transformer inference differs by about 1e-5 between batch sizes (different "
        "matrix-multiplication blocking); rankings are unaffected."
    ),
}


@parametrize_with_checks(
    [NARRanker(n_tiers=2, d_model=8, n_heads=2, d_ff=8, max_epochs=2, batch_size=64,
               random_state=0)],
    expected_failed_checks=lambda estimator: RANKER_EXPECTED_FAILED_CHECKS,
)
def test_ranker_passes_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


# --- the check for estimators without a fit method ---------------------------------------


class _Runner(BaseEstimator):
    """An estimator whose work starts in ``run``, as a searcher's does."""

    _parameter_constraints: dict = {"budget": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, *, budget=3):
        self.budget = budget

    def run(self):
        self._validate_params()
        return self


class _UncheckedRunner(_Runner):
    def run(self):
        return self


def test_the_check_at_another_call_passes_and_fails_as_scikit_learns_does():
    _check_param_validation_at("_Runner", _Runner(), lambda runner: runner.run())
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        _check_param_validation_at(
            "_UncheckedRunner", _UncheckedRunner(), lambda runner: runner.run()
        )
