"""Tests of the budgeted searches, the oracles and the search result."""

import functools
import itertools

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks
from sklearn.utils._param_validation import InvalidParameterError

from sknar.oracles import TabularOracle
from sknar.sampler import TierSampler
from sknar.search import (
    EvaluationError,
    RandomSearch,
    RegularizedEvolution,
    SearchResult,
    TierSearch,
)
from sknar.utils import all_estimators
from sknar.utils.testing import ChainSpace, require_data

TOY_OPS = ("a", "b", "c")
TOY_SLOTS = 6


# The chain of 6 slots of 3 ops (729 architectures), of unknown size (drawn by rejection)
# or of known size (enumerated).
ToySpace = ChainSpace
SmallToySpace = functools.partial(ChainSpace, known_size=True)


ALL_TOY = list(itertools.product(TOY_OPS, repeat=TOY_SLOTS))


def toy_accuracy(arch):
    """A deterministic toy accuracy with a unique optimum at all ``c``."""
    weights = {"a": 0.0, "b": 1.0, "c": 3.0}
    return sum(weights[op] * (slot + 1) for slot, op in enumerate(arch)) + 0.01 * arch.count("b")


class CountingOracle:
    def __init__(self):
        self.calls = []

    def __call__(self, arch):
        self.calls.append(arch)
        return toy_accuracy(arch)


def toy_ranker(space):
    def features(archs):
        return np.array(
            [[op == name for op in arch for name in TOY_OPS] for arch in archs], dtype=float
        )

    return make_pipeline(
        FunctionTransformer(features), RandomForestRegressor(n_estimators=20)
    )


def make_tier_search(space, **params):
    settings = dict(n_initial=20, n_candidates=60, top_k=7, n_tiers=4, random_state=0)
    settings.update(params)
    sampler = TierSampler(space, batch_size=200)
    return TierSearch(space, ranker=toy_ranker(space), sampler=sampler, **settings)


def searchers(space):
    return {
        "tier": make_tier_search(space),
        "random": RandomSearch(space, random_state=0),
        "evolution": RegularizedEvolution(space, population_size=10, sample_size=3,
                                          random_state=0),
    }


SEARCHER_NAMES = ["tier", "random", "evolution"]


@pytest.fixture(scope="module")
def toy_runs():
    """One 53-query run of each searcher on the enumerable toy space."""
    space = SmallToySpace()
    runs = {}
    for name, searcher in searchers(space).items():
        oracle = CountingOracle()
        runs[name] = (searcher.run(oracle, budget=53), oracle)
    return space, runs


# --- the contract every searcher keeps ----------------------------------------------------


@pytest.mark.parametrize("name", SEARCHER_NAMES)
def test_budget_is_spent_exactly(toy_runs, name):
    _, runs = toy_runs
    result, oracle = runs[name]
    assert result.n_queries == 53 == len(oracle.calls)
    assert result.archs == oracle.calls


@pytest.mark.parametrize("name", SEARCHER_NAMES)
def test_no_architecture_is_evaluated_twice(toy_runs, name):
    space, runs = toy_runs
    result, _ = runs[name]
    assert len({space.hash(arch) for arch in result.archs}) == result.n_queries


@pytest.mark.parametrize("name", SEARCHER_NAMES)
def test_runs_are_reproducible(toy_runs, name):
    space, runs = toy_runs
    again = searchers(space)[name].run(CountingOracle(), budget=53)
    assert again.archs == runs[name][0].archs
    other = searchers(space)[name]
    other.random_state = 1
    assert other.run(CountingOracle(), budget=53).archs != again.archs


@pytest.mark.parametrize("name", SEARCHER_NAMES)
def test_result_is_consistent(toy_runs, name):
    _, runs = toy_runs
    result, _ = runs[name]
    expected = [toy_accuracy(arch) for arch in result.archs]
    np.testing.assert_array_equal(result.values, expected)
    assert np.all(np.diff(result.best_so_far) >= 0)
    assert result.best_value == max(expected) == result.best_so_far[-1]
    assert toy_accuracy(result.best_arch) == result.best_value
    assert result.report_values is None and result.best_report_value is None
    assert len(result.history) == 53 and result.history[-1]["best_so_far"] == max(expected)
    assert result.wall_time > 0


def test_tier_search_finds_better_than_its_initial_draws(toy_runs):
    _, runs = toy_runs
    result, _ = runs["tier"]
    # The 33 ranked queries beat the 20 uniform ones on average by a clear margin.
    assert result.values[20:].mean() > result.values[:20].mean() + 5.0


@pytest.mark.parametrize("name", SEARCHER_NAMES)
def test_selection_never_reads_the_report_metric(name):
    space = SmallToySpace()
    values = np.array([toy_accuracy(arch) for arch in ALL_TOY])
    honest = TabularOracle(ALL_TOY, values, space=space)
    # Adversarial report: the best architecture by value gets the worst report value.
    adversarial = TabularOracle(ALL_TOY, values, -values, space=space)
    plain = searchers(space)[name].run(honest, budget=40)
    reported = searchers(space)[name].run(adversarial, budget=40)
    assert reported.archs == plain.archs
    np.testing.assert_array_equal(reported.report_values, -reported.values)
    assert reported.best_value == reported.values.max()
    assert reported.best_report_value == -reported.best_value
    assert adversarial.n_calls == 40


def test_rejection_space_search_and_candidates_exclude_evaluated():
    space = ToySpace()
    search = make_tier_search(space, n_rounds=3)
    result = search.run(CountingOracle(), budget=100)
    # n_rounds caps the rounds: 20 initial + 3 rounds of 7.
    assert result.n_queries == 41
    assert len({space.hash(arch) for arch in result.archs}) == 41
    assert hasattr(search, "ranker_") and search.sampler_.selected_features_ is not None


def test_no_refit_keeps_the_first_fit():
    space = SmallToySpace()
    search = make_tier_search(space, refit=False)
    search.run(CountingOracle(), budget=41)
    first = search.ranker_
    assert search.sampler_.n_tiers_ == 4
    # Only fitted once, on the 20 initial evaluations.
    assert first[-1].n_features_in_ == 3 * TOY_SLOTS
    assert sum(search.sampler_.histograms_["n_c"].shape) > 0


class FitSizeRecorder(BaseEstimator, RegressorMixin):
    """A ranker that scores by the toy accuracy and records how many archs each fit saw."""

    def __init__(self, on_fit=None, random_state=None):
        self.on_fit = on_fit
        self.random_state = random_state

    def fit(self, archs, values):
        self.on_fit(len(archs))
        return self

    def predict(self, archs):
        return np.array([toy_accuracy(arch) for arch in archs])


@pytest.mark.parametrize(
    "refit, fit_sizes",
    [(True, [20, 27, 34, 41, 48]), (2, [20, 34, 48]), (3, [20, 41]), (False, [20])],
)
def test_refit_schedule(refit, fit_sizes):
    space = SmallToySpace()
    sizes = []

    def record(n_archs):  # a function: clone keeps it, so the fits of clones are recorded
        sizes.append(n_archs)

    search = make_tier_search(space, refit=refit)
    search.ranker = FitSizeRecorder(on_fit=record)
    # 20 initial evaluations, then 5 rounds of 7; a fit sees everything evaluated before it.
    result = search.run(CountingOracle(), budget=55)
    assert result.n_queries == 55
    assert sizes == fit_sizes
    assert search.n_fits_ == len(fit_sizes)


def test_user_ranker_random_state_is_kept():
    space = SmallToySpace()
    search = make_tier_search(space)
    search.ranker.set_params(randomforestregressor__random_state=7)
    search.run(CountingOracle(), budget=27)
    assert search.ranker_.get_params()["randomforestregressor__random_state"] == 7
    assert search.ranker.get_params()["randomforestregressor__random_state"] == 7


# --- searchers are estimators -------------------------------------------------------------


@pytest.mark.parametrize("name", SEARCHER_NAMES)
def test_clone_and_params_round_trip(name):
    searcher = searchers(SmallToySpace())[name]
    params = searcher.get_params(deep=False)
    twin = clone(searcher)
    assert type(twin) is type(searcher) and not hasattr(twin, "result_")
    assert twin.get_params(deep=False).keys() == params.keys()
    assert twin.set_params(**params).get_params(deep=False) == params
    # A clone searches exactly like the original.
    assert twin.run(CountingOracle(), 30).archs == searcher.run(CountingOracle(), 30).archs


def test_every_searcher_is_a_public_estimator():
    names = {name for name, _ in all_estimators()}
    assert {"RandomSearch", "RegularizedEvolution", "TierSearch"} <= names
    assert "BaseSearch" not in names  # abstract: it has no step of its own


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_param_validation,
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
        estimator_checks.check_parameters_default_constructible,
    ],
    ids=lambda check: check.__name__,
)
@pytest.mark.parametrize("name", SEARCHER_NAMES)
def test_scikit_learn_checks_of_the_constructor(name, check):
    """The checks that apply to an estimator without ``fit``."""
    searcher = searchers(SmallToySpace())[name]
    check(type(searcher).__name__, searcher)


@pytest.mark.parametrize("name", SEARCHER_NAMES)
def test_every_parameter_is_validated_when_a_search_starts(name):
    """check_param_validation's idea, on ask and run (searchers have no fit)."""
    bad_type = type("BadType", (), {})()
    searcher = searchers(SmallToySpace())[name]
    for param in searcher.get_params(deep=False):
        for start in (lambda s: s.ask(), lambda s: s.run(CountingOracle(), 30)):
            broken = clone(searcher).set_params(**{param: bad_type})
            pattern = rf"The '{param}' parameter of {type(searcher).__name__} must be"
            with pytest.raises(InvalidParameterError, match=pattern):
                start(broken)


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("tier", {"n_initial": 1}, "'n_initial' parameter of TierSearch must be an int in "
         r"the range \[2, inf\)"),
        ("tier", {"n_tiers": 1}, "'n_tiers' parameter of TierSearch"),
        ("tier", {"refit": 0}, "'refit' parameter of TierSearch"),
        ("tier", {"refit": 1.5}, "'refit' parameter of TierSearch"),
        ("tier", {"n_candidates": 0}, "'n_candidates' parameter"),
        ("tier", {"top_k": 2.5}, "'top_k' parameter"),
        ("tier", {"n_rounds": -1}, "'n_rounds' parameter"),
        ("tier", {"ranker": "forest"}, "'ranker' parameter"),
        ("tier", {"top_k": 100}, r"top_k \(100\) must not exceed n_candidates"),
        ("random", {"batch_size": 0}, "'batch_size' parameter of RandomSearch"),
        ("random", {"random_state": "zero"}, "'random_state' parameter"),
        ("random", {"space": "nasbench201"}, "'space' parameter of RandomSearch"),
        ("evolution", {"population_size": 0}, "'population_size' parameter"),
        ("evolution", {"sample_size": 2.0}, "'sample_size' parameter"),
        ("evolution", {"verbose": "yes"}, "'verbose' parameter"),
        ("evolution", {"population_size": 4, "sample_size": 5},
         r"sample_size \(5\) must not exceed population_size \(4\)"),
    ],
)
def test_bad_settings_are_named_when_a_search_starts(name, params, message):
    searcher = searchers(SmallToySpace())[name].set_params(**params)
    with pytest.raises(ValueError, match=message):
        searcher.ask()
    with pytest.raises(ValueError, match=message):
        searcher.run(CountingOracle(), 50)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"budget": 0}, r"'budget' parameter of RandomSearch.run must be an int in the range"),
        ({"budget": 2.5}, "'budget' parameter of RandomSearch.run"),
        ({"oracle": 42}, "'oracle' parameter of RandomSearch.run must be a callable"),
        ({"n_jobs": 1.5}, "'n_jobs' parameter"),
        ({"journal": 3}, "'journal' parameter"),
        ({"on_error": "ignore"}, "'on_error' parameter of RandomSearch.run must be a str among"),
    ],
)
def test_run_arguments_are_validated(kwargs, message):
    arguments = {"oracle": CountingOracle(), "budget": 10, **kwargs}
    with pytest.raises(InvalidParameterError, match=message):
        RandomSearch(SmallToySpace()).run(**arguments)


def test_tier_search_needs_an_initial_batch_within_the_budget():
    with pytest.raises(ValueError, match=r"n_initial \(30\) exceeds the budget \(20\)"):
        make_tier_search(SmallToySpace(), n_initial=30).run(CountingOracle(), 20)


# --- the space is given once ---------------------------------------------------------------


def test_tier_search_gives_its_space_to_the_sampler():
    space, other_instance = SmallToySpace(), SmallToySpace()
    search = TierSearch(
        space, ranker=toy_ranker(space), sampler=TierSampler(other_instance, batch_size=200),
        n_initial=20, n_candidates=60, top_k=7, n_tiers=4, random_state=0,
    )
    search.run(CountingOracle(), 27)
    assert search.sampler_.space is space
    assert search.sampler.space is other_instance  # the user's sampler is left alone


def test_tier_search_lists_an_enumerated_space_once_across_its_refits(monkeypatch):
    space = SmallToySpace()
    listings = []
    enumerate_space = space.enumerate
    monkeypatch.setattr(space, "enumerate", lambda verbose=False: listings.append(1) or
                        enumerate_space(verbose))
    search = make_tier_search(space, n_initial=20, n_candidates=60, top_k=7, refit=True)
    result = search.run(CountingOracle(), 41)
    assert search.n_fits_ == 3 and len(listings) == 1
    # The listing is shared, not recomputed: the queries equal those of a search that lists
    # the space at every refit.
    fresh = make_tier_search(SmallToySpace(), n_initial=20, n_candidates=60, top_k=7)
    fit = TierSampler.fit

    def fit_from_scratch(self, archs, tiers):
        self.__dict__.pop("_pool", None)  # forget the listing: the space is listed again
        return fit(self, archs, tiers)

    monkeypatch.setattr(TierSampler, "fit", fit_from_scratch)
    assert fresh.run(CountingOracle(), 41).archs == result.archs


def test_tier_search_refuses_a_sampler_of_another_kind_of_space():
    from sknar.spaces import NASBench201Space

    search = TierSearch(
        SmallToySpace(), ranker=toy_ranker(None), sampler=TierSampler(NASBench201Space())
    )
    with pytest.raises(ValueError, match="sampler was built for a NASBench201Space but the "
                       "search runs on a ChainSpace"):
        search.run(CountingOracle(), 60)


def test_tier_search_defaults_to_the_nar_pipeline_and_a_tier_sampler():
    from sknar.encoding import NARFeatureEncoder
    from sknar.ranker import NARRanker

    space = SmallToySpace()
    search = TierSearch(space)
    assert search.ranker is None and search.sampler is None
    encoder, ranker = [step for _, step in search._ranker().steps]
    assert isinstance(encoder, NARFeatureEncoder) and encoder.space is space
    assert isinstance(ranker, NARRanker)
    assert isinstance(search._sampler(), TierSampler) and search._sampler().space is space


def test_oracle_must_return_a_finite_number():
    space = SmallToySpace()
    with pytest.raises(EvaluationError, match="returned nan for architecture") as error:
        RandomSearch(space).run(lambda arch: float("nan"), budget=3)
    assert isinstance(error.value.__cause__, ValueError)
    with pytest.raises(EvaluationError, match="must return a real number"):
        RandomSearch(space).run(lambda arch: "high", budget=3)


def test_evolution_exhausting_a_small_space():
    # Budget = the whole space: every mutant is eventually evaluated, yet no duplicate.
    space = SmallToySpace()
    result = RegularizedEvolution(space, random_state=0).run(CountingOracle(), budget=729)
    assert len({space.hash(arch) for arch in result.archs}) == 729
    assert result.best_value == max(toy_accuracy(arch) for arch in ALL_TOY)


# --- oracles ------------------------------------------------------------------------------


def test_tabular_oracle_errors_and_lookups():
    space = SmallToySpace()
    with pytest.raises(ValueError, match="index 2 repeats the one at index 0"):
        TabularOracle([ALL_TOY[0], ALL_TOY[1], ALL_TOY[0]], [1.0, 2.0, 3.0], space=space)
    with pytest.raises(ValueError, match=r"values must have shape \(2,\)"):
        TabularOracle(ALL_TOY[:2], [1.0], space=space)
    with pytest.raises(ValueError, match=r"NaN or infinite value\(s\), at index 1"):
        TabularOracle(ALL_TOY[:2], [1.0, np.inf], space=space)
    oracle = TabularOracle(ALL_TOY[:2], [1.0, 2.0], [5.0, 6.0], space=space)
    assert oracle(list(ALL_TOY[1])) == 2.0 and oracle.report(ALL_TOY[1]) == 6.0
    with pytest.raises(ValueError, match="not in the table of 2"):
        oracle(ALL_TOY[5])
    assert oracle.n_calls == 1 and len(oracle) == 2


# --- mutation -----------------------------------------------------------------------------


def test_mutation_of_nasbench201_changes_one_edge():
    from sknar.spaces.nasbench201 import NASBench201Space

    space = NASBench201Space()
    rng = np.random.RandomState(0)
    for parent in space.sample(30, random_state=0):
        child = space.mutate(parent, rng)
        assert space.validate(child) == child
        parent_ops = space.to_networkx(parent)
        child_ops = space.to_networkx(child)
        changed = sum(
            parent_ops.edges[edge]["op"] != child_ops.edges[edge]["op"]
            for edge in parent_ops.edges
            if edge in child_ops.edges
        ) + len(set(parent_ops.edges) ^ set(child_ops.edges))
        assert changed == 1


@pytest.mark.parametrize("space_name", ["nasbench101", "nasbench_graph", "toy"])
def test_mutation_gives_valid_different_architectures(space_name):
    if space_name == "nasbench101":
        from sknar.spaces.nasbench101 import NASBench101Space as Space
    elif space_name == "nasbench_graph":
        from sknar.spaces.nasbench_graph import NASBenchGraphSpace as Space
    else:
        Space = ToySpace
    space = Space()
    rng = np.random.RandomState(0)
    children = set()
    for parent in space.sample(20, random_state=0):
        child = space.mutate(parent, rng)
        assert space.validate(child) == child
        assert space.hash(child) != space.hash(parent)
        children.add(space.hash(child))
    assert len(children) > 10


def test_toy_mutation_changes_exactly_one_op():
    space = ToySpace()
    parent = ("a",) * TOY_SLOTS
    child = space.mutate(parent, random_state=0)
    assert sum(p != c for p, c in zip(parent, child)) == 1


# --- result -------------------------------------------------------------------------------


def test_result_plot_draws_best_so_far():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    result = SearchResult("demo", ["x", "y", "z"], [1.0, 0.5, 2.0], None, 0.1, 3)
    ax = result.plot()
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 1.0, 2.0])
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    assert line.get_label() == "demo"


# --- benchmark oracles --------------------------------------------------------------------


def test_nasbench201_oracle_and_baselines():
    require_data("nasbench201/nats_tss_test_acc_200ep.csv")
    oracle = TabularOracle.from_nasbench201("cifar100")
    assert len(oracle) == 15625 and not oracle.has_report
    best = max(oracle.archs, key=oracle)
    assert round(oracle(best), 2) == 73.51
    space = oracle.space
    result = RegularizedEvolution(space, random_state=0).run(oracle, budget=60)
    assert result.n_queries == 60
    assert len({space.hash(arch) for arch in result.archs}) == 60
