"""Failures are data: on_error, KeyboardInterrupt, exhausted spaces and progress."""

import itertools
import json
import time
import warnings

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.base import BaseEstimator, RegressorMixin

from sknar.sampler import TierSampler
from sknar.search import (
    EvaluationError,
    RandomSearch,
    RegularizedEvolution,
    SearchResult,
    TierSearch,
)
from sknar.spaces import TableSpace
from sknar.utils.testing import ChainSpace

OPS = ("a", "b", "c")
NAMES = ["tier", "random", "evolution"]


def accuracy(arch):
    return sum((slot + 1) * OPS.index(op) for slot, op in enumerate(arch)) + 0.01 * arch.count("b")


class ToyRanker(BaseEstimator, RegressorMixin):
    """Scores by the toy accuracy (no training cost); ``on_fit`` sees what each fit sees."""

    def __init__(self, on_fit=None, random_state=None):
        self.on_fit = on_fit
        self.random_state = random_state

    def fit(self, archs, values):
        if self.on_fit is not None:
            self.on_fit(list(archs), np.asarray(values))
        return self

    def predict(self, archs):
        return np.array([accuracy(arch) for arch in archs])


def make_searcher(name, space, **params):
    if name == "tier":
        settings = dict(n_initial=20, n_candidates=60, top_k=7, n_tiers=4, random_state=0)
        return TierSearch(
            space, ranker=ToyRanker(), sampler=TierSampler(space), **{**settings, **params}
        )
    if name == "random":
        return RandomSearch(space, **{"random_state": 0, **params})
    return RegularizedEvolution(space, **{"random_state": 0, **params})


class FailingOracle:
    """The toy accuracy, except at the calls in ``at`` (1-based), which fail as ``kind``."""

    def __init__(self, kind, at):
        self.kind = kind
        self.at = set(at)
        self.calls = []

    def __call__(self, arch):
        self.calls.append(arch)
        if len(self.calls) not in self.at:
            return accuracy(arch)
        if self.kind == "raise":
            raise RuntimeError("the training diverged")
        if self.kind == "interrupt":
            raise KeyboardInterrupt
        return {"nan": float("nan"), "none": None, "string": "high"}[self.kind]


FAILURES = {
    "raise": (RuntimeError, "RuntimeError: the training diverged"),
    "nan": (ValueError, "the oracle returned nan for architecture"),
    "none": (ValueError, "the oracle returned None for architecture"),
    "string": (ValueError, "the oracle returned 'high' for architecture"),
}


@pytest.fixture(scope="module")
def space():
    return ChainSpace(6, OPS, known_size=True)


def journal_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


# --- on_error="raise" keeps what was evaluated ----------------------------------------------


@pytest.mark.parametrize("kind", FAILURES)
@pytest.mark.parametrize("name", NAMES)
def test_a_failure_at_call_20_of_30_keeps_the_19_before(space, tmp_path, name, kind):
    oracle = FailingOracle(kind, at=[20])
    searcher = make_searcher(name, space)
    journal = tmp_path / "search.jsonl"
    with pytest.raises(EvaluationError) as error:
        searcher.run(oracle, 30, journal=journal)
    cause, message = FAILURES[kind]
    failed_arch = oracle.calls[19]
    assert isinstance(error.value.__cause__, cause) and message in str(error.value)
    assert repr(failed_arch) in str(error.value) and error.value.arch == failed_arch
    result = searcher.result_
    assert error.value.result is result and result.stop_reason == "error"
    assert result.archs == oracle.calls and result.n_queries == 20
    assert result.failed.tolist() == [False] * 19 + [True]
    assert message in result.errors[-1]
    lines = journal_lines(journal)
    assert [line["status"] for line in lines] == ["ok"] * 19 + ["failed"]
    assert lines[-1]["value"] is None and message in lines[-1]["error"]


def test_evaluations_running_when_one_fails_finish_and_are_kept(space, tmp_path):
    first_batch = make_searcher("random", space).ask()

    def oracle(arch):
        if arch == first_batch[1]:
            raise RuntimeError("the training diverged")
        time.sleep(0.2)  # the others are still running when the failure comes back
        return accuracy(arch)

    with pytest.raises(EvaluationError):  # one after the other: nothing runs after it
        make_searcher("random", space).run(oracle, 30)
    journal = tmp_path / "search.jsonl"
    searcher = make_searcher("random", space)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is abandoned: joblib has nothing to say
        with parallel_config(backend="threading", n_jobs=3), pytest.raises(EvaluationError):
            searcher.run(oracle, 30, journal=journal)
    result = searcher.result_
    # The evaluations running beside the failed one, and the few joblib had queued, finish
    # and are kept; the rest of the batch never starts.
    assert 3 <= result.n_queries <= 6 and result.n_failed == 1
    assert set(result.archs) <= set(first_batch[:6])
    assert len(journal_lines(journal)) == result.n_queries


def test_a_sequential_search_stops_at_the_failure(space):
    first_batch = make_searcher("random", space).ask()
    oracle = FailingOracle("raise", at=[2])
    searcher = make_searcher("random", space)
    with pytest.raises(EvaluationError):
        searcher.run(oracle, 30)
    assert oracle.calls == first_batch[:2] and searcher.result_.n_queries == 2


def test_a_failure_does_not_leave_the_previous_result(space):
    searcher = make_searcher("random", space)
    searcher.run(accuracy, 30)
    with pytest.raises(EvaluationError):
        searcher.run(FailingOracle("raise", at=[5]), 30)
    assert searcher.result_.n_queries == 5


def test_an_error_of_the_searcher_itself_keeps_the_partial_result(space):
    class BrokenRanker(ToyRanker):
        def fit(self, archs, values):
            raise ArithmeticError("the ranker cannot fit")

    searcher = make_searcher("tier", space).set_params(ranker=BrokenRanker())
    with pytest.raises(ArithmeticError, match="cannot fit"):
        searcher.run(accuracy, 30)
    assert searcher.result_.n_queries == 20 and searcher.result_.stop_reason == "error"


# --- on_error="skip" goes on ----------------------------------------------------------------


@pytest.mark.parametrize("kind", FAILURES)
@pytest.mark.parametrize("name", NAMES)
def test_skip_records_failures_charges_them_and_goes_on(space, name, kind):
    oracle = FailingOracle(kind, at=range(5, 41, 5))
    result = make_searcher(name, space).run(oracle, 40, on_error="skip")
    assert result.n_queries == 40 == len(oracle.calls) and result.n_failed == 8
    assert np.flatnonzero(result.failed).tolist() == list(range(4, 40, 5))
    assert len({space.hash(arch) for arch in result.archs}) == 40  # none asked again
    succeeded = [v for v, failed in zip(result.values, result.failed) if not failed]
    assert result.best_value == max(succeeded) and result.stop_reason == "budget"
    assert np.isnan(result.values[4]) and FAILURES[kind][1] in result.errors[4]


def test_failures_never_reach_the_ranker(space):
    fits = []

    def record(archs, values):  # a function: the search's clones of the ranker share it
        fits.append((archs, values))

    oracle = FailingOracle("raise", at=[3, 7, 21, 30])
    search = make_searcher("tier", space).set_params(ranker=ToyRanker(on_fit=record))
    result = search.run(oracle, 48, on_error="skip")
    failed = {space.hash(arch) for arch in np.array(result.archs, dtype=object)[result.failed]}
    assert len(failed) == 4
    for archs, values in fits:
        assert not failed & {space.hash(arch) for arch in archs}
        assert np.all(np.isfinite(values))
    # Two failed initial evaluations were replaced: the first fit saw n_initial values.
    assert len(fits[0][0]) == 20 and result.n_queries == 48


def test_evolution_refills_a_population_that_failures_emptied(space):
    oracle = FailingOracle("raise", at=range(1, 9))
    search = make_searcher("evolution", space)
    result = search.run(oracle, 30, on_error="skip")
    assert result.n_failed == 8 and result.n_queries == 30
    assert len(search.population_) == 10


# --- Ctrl-C ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_keyboard_interrupt_stops_at_once_and_resumes(space, tmp_path, name):
    journal = tmp_path / "search.jsonl"
    searcher = make_searcher(name, space)
    interrupted = FailingOracle("interrupt", at=[15])
    with pytest.raises(KeyboardInterrupt):
        searcher.run(interrupted, 40, journal=journal, on_error="skip")
    assert len(interrupted.calls) == 15  # nothing ran after the interrupt
    assert searcher.result_.n_queries == 14 and searcher.result_.stop_reason == "interrupted"
    assert len(journal_lines(journal)) == 14
    resumed = FailingOracle("interrupt", at=[])  # the same oracle (its header says so)
    result = make_searcher(name, space).run(resumed, 40, journal=journal)
    uninterrupted = make_searcher(name, space).run(accuracy, 40)
    assert result.archs[:14] == uninterrupted.archs[:14] and result.n_queries == 40
    assert result.archs[14:] == resumed.calls  # the 14 journaled are never redone
    assert len({space.hash(arch) for arch in result.archs}) == 40


# --- spaces smaller than the budget ---------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_a_space_smaller_than_the_budget_ends_the_search_cleanly(space, name):
    table = TableSpace(space, list(itertools.product(OPS, repeat=6))[::18][:40])
    assert table.size == 40
    searcher = make_searcher(name, table)
    if name == "tier":
        # n_candidates (60) and top_k are clipped to the architectures left.
        searcher.set_params(n_initial=10, n_tiers=2)
    result = searcher.run(accuracy, 100)
    assert result.n_queries == 40 and result.stop_reason == "exhausted"
    assert {table.hash(arch) for arch in result.archs} == {table.hash(a) for a in table.archs}
    assert searcher.ask() == []


def test_a_space_of_unknown_size_ends_when_it_supplies_no_more(space):
    tiny = ChainSpace(1, OPS)  # 3 architectures, size unknown
    with pytest.warns(RuntimeWarning, match="supplied no more uniform draws"):
        result = RandomSearch(tiny, random_state=0).run(accuracy, 5)
    assert result.n_queries == 3 and result.stop_reason == "exhausted"


def test_n_rounds_ends_a_tier_search(space):
    result = make_searcher("tier", space, n_rounds=2).run(accuracy, 100)
    assert result.n_queries == 34 and result.stop_reason == "n_rounds"


# --- progress -------------------------------------------------------------------------------


def test_progress_bar_only_when_verbose(space, capsys):
    make_searcher("random", space).run(accuracy, 25)
    assert capsys.readouterr().err == ""
    make_searcher("random", space, verbose=1).run(FailingOracle("nan", at=[3]), 25,
                                                   on_error="skip")
    err = capsys.readouterr().err
    assert "random search" in err and "25/25" in err
    assert "best=" in err and "failed=1" in err and "eval/s" in err


# --- the result with failures ---------------------------------------------------------------


def test_result_ignores_failures_when_choosing_the_best():
    result = SearchResult(
        "demo", ["x", "y", "z"], [np.nan, 0.5, 0.2], None, 0.1, 3,
        errors=["RuntimeError: out of memory", None, None],
    )
    assert result.best_arch == "y" and result.n_failed == 1
    np.testing.assert_array_equal(result.best_so_far, [np.nan, 0.5, 0.5])
    assert [row["status"] for row in result.history] == ["failed", "ok", "ok"]
    assert "n_failed=1" in repr(result)
    nothing = SearchResult("demo", ["x"], [np.nan], None, 0.1, 1, errors=["boom"])
    with pytest.raises(ValueError, match="no query of this search succeeded"):
        _ = nothing.best_arch
    assert "best_value=None" in repr(nothing)
    with pytest.raises(ValueError, match="one entry per query"):
        SearchResult("demo", ["x"], [1.0, 2.0], None, 0.1, 1)
