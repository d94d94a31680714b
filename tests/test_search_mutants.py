"""TierSearch ranks the mutants of its best architectures beside the sampler's draws."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from sknar.sampler import TierSampler
from sknar.search import TierSearch
from sknar.utils.testing import ChainSpace


class CountOfC(RegressorMixin, BaseEstimator):
    """Scores a chain by its number of ``c`` ops and keeps what it was asked to rank."""

    def fit(self, archs, values):
        self.asked_ = []
        return self

    def predict(self, archs):
        self.asked_.append(list(archs))
        return np.array([arch.count("c") for arch in archs], dtype=float)


def toy_accuracy(arch):
    return float(arch.count("c")) + 0.1 * arch.count("b")


def _search(space, **params):
    settings = dict(n_initial=20, n_candidates=10, top_k=3, n_tiers=4, random_state=0)
    settings.update(params)
    return TierSearch(space, ranker=CountOfC(), sampler=TierSampler(space, noise=1.0), **settings)


def _slots_differing(first, second):
    return sum(a != b for a, b in zip(first, second))


def test_mutants_of_the_best_evaluated_architectures_join_the_candidates():
    space = ChainSpace()
    search = _search(space, n_parents=2, n_mutants=12, n_rounds=1)
    result = search.run(toy_accuracy, budget=30)
    initial = result.archs[:20]
    parents = [initial[i] for i in np.argsort(-result.values[:20], kind="stable")[:2]]
    (candidates,) = search.ranker_.asked_
    sampled, mutants = candidates[:10], candidates[10:]
    assert len(sampled) == 10 and mutants, "no mutant was ranked"
    assert len({space.hash(arch) for arch in candidates}) == len(candidates)
    evaluated_before = {space.hash(arch) for arch in initial}
    for mutant in mutants:
        assert space.hash(mutant) not in evaluated_before
        assert min(_slots_differing(mutant, parent) for parent in parents) == 1


def _unmutable(space):
    def refuse(*args, **kwargs):
        raise NotImplementedError(f"{type(space).__name__} cannot mutate")

    space.mutate = refuse
    return space


def test_without_parents_nothing_is_mutated():
    space = _unmutable(ChainSpace())
    search = _search(space, n_parents=0)
    result = search.run(toy_accuracy, budget=29)
    assert search.n_parents_ == 0 and result.n_queries == 29
    assert [len(candidates) for candidates in search.ranker_.asked_] == [10]


def test_auto_parents_mutate_when_the_space_can():
    search = _search(ChainSpace(), n_rounds=1)
    search.run(toy_accuracy, budget=30)
    assert search.n_parents == "auto" and search.n_parents_ == 5
    (candidates,) = search.ranker_.asked_
    assert len(candidates) > 10


def test_auto_parents_fall_back_to_the_draws_when_the_space_cannot_mutate():
    search = _search(_unmutable(ChainSpace()))
    result = search.run(toy_accuracy, budget=29)
    assert search.n_parents_ == 0 and result.n_queries == 29
    with pytest.raises(NotImplementedError, match="cannot mutate"):
        _search(_unmutable(ChainSpace()), n_parents=2).run(toy_accuracy, budget=29)


def test_the_best_mutants_are_evaluated_when_the_ranker_prefers_them():
    # The all-"c" chain is one mutation from the chains with five "c"; uniform draws rarely
    # hold it, the mutants of the best do, and a ranker that knows the order takes them.
    space = ChainSpace()
    with_mutants = _search(space, n_parents=3, n_mutants=30).run(toy_accuracy, budget=50)
    assert with_mutants.best_arch == ("c",) * 6
    without = _search(space, n_parents=0).run(toy_accuracy, budget=50)
    assert without.best_value < with_mutants.best_value


def test_ask_tell_and_run_query_the_same_mutants():
    space = ChainSpace()
    ran = _search(space, n_parents=2, n_mutants=5).run(toy_accuracy, budget=35)
    search = _search(space, n_parents=2, n_mutants=5)
    asked = []
    while len(asked) < 35:
        batch = search.ask()  # 20 initial, then rounds of top_k = 3: 35 exactly
        search.tell(batch, [toy_accuracy(arch) for arch in batch])
        asked += batch
    assert asked == list(ran.archs)


@pytest.mark.parametrize(("name", "value"), [("n_parents", -1), ("n_mutants", 0)])
def test_bad_mutant_settings_are_named(name, value):
    with pytest.raises(ValueError, match=name):
        _search(ChainSpace(), **{name: value}).run(toy_accuracy, budget=25)
