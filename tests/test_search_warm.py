"""Tier search's start-up chosen by training-free knowledge (``initial_prior``), and a search
warm-started from known evaluations."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

from sknar.search import TierSearch
from sknar.search._warm import prior_scores
from sknar.spaces import NASBench201Space
from sknar.utils.testing import ChainSpace

OPS = ("a", "b", "c")


def accuracy(arch):
    return float(sum((slot + 1) * OPS.index(op) for slot, op in enumerate(arch)))


def one_hot(archs):
    return np.array([[op == name for op in arch for name in OPS] for arch in archs], float)


def forest():
    return make_pipeline(FunctionTransformer(one_hot), RandomForestRegressor(n_estimators=10))


@pytest.fixture(scope="module")
def space():
    return ChainSpace(6, OPS, known_size=True)


def tier(space, **params):
    settings = dict(ranker=forest(), n_initial=6, n_candidates=40, top_k=5, n_tiers=2,
                    random_state=0)
    return TierSearch(space, **{**settings, **params})


def prior(archs):
    return [accuracy(arch) for arch in archs]


def test_the_start_up_is_the_best_of_the_pool_by_the_prior(space):
    search = tier(space, initial_prior=prior, n_prior_pool=100)
    first = search.ask()
    assert len(first) == 6
    # The same pool, drawn by the same seed, scored by hand: its best six are asked first.
    pool_search = tier(space, initial_prior=lambda archs: np.zeros(len(archs)),
                       n_prior_pool=100)
    asked = pool_search.ask()
    pool = pool_search._prior_startup.order_ + asked
    pool = [tuple(arch) for arch in pool]
    best = sorted(pool, key=accuracy, reverse=True)[:6]
    assert sorted(map(accuracy, first)) == sorted(map(accuracy, best))
    uniform = tier(space).ask()
    assert np.mean([accuracy(a) for a in first]) > np.mean([accuracy(a) for a in uniform])


def test_rounds_follow_a_prior_start_up(space):
    search = tier(space, initial_prior=prior, n_prior_pool=30)
    result = search.run(accuracy, 21)
    assert result.n_queries == 21
    assert search.n_fits_ == 3  # start-up of 6, then 3 rounds of 5
    assert len({space.hash(arch) for arch in result.archs}) == 21


def test_failed_start_up_evaluations_are_replaced_by_the_next_best(space):
    search = tier(space, initial_prior=prior, n_prior_pool=50)
    first = search.ask()
    values = [accuracy(arch) for arch in first]
    search.tell(first[:2], [ValueError("diverged"), ValueError("diverged")])
    search.tell(first[2:], values[2:])
    refill = search.ask()
    assert len(refill) == 2 and not set(refill) & set(first)
    assert max(accuracy(arch) for arch in refill) <= min(values)  # next in the prior's order
    search.tell(refill, [accuracy(arch) for arch in refill])
    search.ask()
    assert search.n_fits_ == 1


def test_a_pool_smaller_than_the_start_up_is_filled_uniformly(space):
    search = tier(space, initial_prior=prior, n_prior_pool=2)
    first = search.ask()
    assert len(first) == 6 and len(set(first)) == 6


def test_isomorphic_twins_are_asked_once_in_the_start_up():
    space = NASBench201Space()
    search = TierSearch(space, ranker=forest(), n_initial=20, n_candidates=40, top_k=5,
                        initial_prior=lambda archs: [a.count("none") for a in archs],
                        n_prior_pool=300, random_state=0)
    first = search.ask()
    networks = {space.hash(arch) for arch in space.representatives(first)}
    assert len(networks) == 20


def test_a_transformer_prior_is_fitted_once_and_its_first_column_ranks():
    from sknar.proxies import ZeroCostScorer

    space = NASBench201Space()
    scorer = ZeroCostScorer(space, scores=["synflow"], image_size=8,
                            network_params={"C": 4, "N": 1})
    search = TierSearch(space, ranker=forest(), n_initial=3, n_candidates=10, top_k=2,
                        initial_prior=scorer, n_prior_pool=12, random_state=0)
    first = search.ask()
    assert hasattr(scorer, "cache_")  # fitted in place, not cloned: its cache is shared
    top = scorer.compute(first)["synflow"]
    pool_left = search._prior_startup.order_
    assert top.min() >= scorer.compute(pool_left)["synflow"].max()


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda archs: [1.0], "returned 1 score"),
        (lambda archs: [np.nan] * len(archs), "non-finite"),
    ],
)
def test_a_bad_prior_is_named(space, bad, message):
    with pytest.raises(ValueError, match=message):
        tier(space, initial_prior=bad).ask()


def test_a_prior_that_is_neither_callable_nor_a_transformer_is_refused(space):
    with pytest.raises(InvalidParameterError, match="initial_prior"):
        tier(space, initial_prior="synflow").ask()
    with pytest.raises(TypeError, match="callable"):
        prior_scores(object(), ["x"])


def test_a_search_warm_started_from_a_table_skips_its_start_up(space):
    known = [arch for arch in space.sample(12, random_state=1)]
    search = tier(space, n_initial=10)
    search.tell(known, [accuracy(arch) for arch in known])
    first = search.ask()
    assert search.n_fits_ == 1 and len(first) == 5  # a ranked round at once
    assert not {space.hash(a) for a in first} & {space.hash(a) for a in known}


def test_warm_refits_refit_the_same_ranker_with_the_given_parameters(space):
    search = tier(space, warm_refit={"randomforestregressor__warm_start": True,
                                     "randomforestregressor__n_estimators": 15})
    result = search.run(accuracy, 21)
    assert search.n_fits_ == 3 and result.n_queries == 21
    forest = search.ranker_[-1]
    # Warm refits grew the first fit's 10 trees to 15 instead of starting afresh.
    assert forest.warm_start and len(forest.estimators_) == 15
    cold = tier(space)
    cold.run(accuracy, 21)
    assert len(cold.ranker_[-1].estimators_) == 10 and not cold.ranker_[-1].warm_start


def test_a_bad_warm_refit_parameter_is_named(space):
    search = tier(space, warm_refit={"no_such_parameter": 1})
    with pytest.raises(ValueError, match="no_such_parameter"):
        search.run(accuracy, 16)


def test_a_prior_search_keeps_a_journal_and_resumes_from_it(space, tmp_path):
    path = tmp_path / "journal.jsonl"
    tier(space, initial_prior=prior, n_prior_pool=50).run(accuracy, 11, journal=path)
    resumed = tier(space, initial_prior=prior, n_prior_pool=50)
    result = resumed.run(accuracy, 16, journal=path)
    assert result.n_queries == 16 and len({space.hash(a) for a in result.archs}) == 16
    assert resumed.n_fits_ == 1  # the journal's 11 evaluations told back, one fit
