"""The search journal: its format, resuming (also after SIGKILL), and refusing other searches."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from sknar.sampler import TierSampler
from sknar.search import RandomSearch, RegularizedEvolution, TierSearch, read_journal
from sknar.utils.testing import ChainSpace

OPS = ("a", "b", "c")
NAMES = ["tier", "random", "evolution"]
BUDGET = 45
REPO_ROOT = Path(__file__).resolve().parents[1]


def accuracy(arch):
    return sum((slot + 1) * OPS.index(op) for slot, op in enumerate(arch)) + 0.01 * arch.count("b")


def make_searcher(name, space, **params):
    if name == "tier":
        # Only scikit-learn parts: a subprocess builds the very same search.
        ranker = make_pipeline(
            OneHotEncoder(handle_unknown="ignore"), RandomForestRegressor(n_estimators=10)
        )
        settings = dict(n_initial=20, n_candidates=60, top_k=7, n_tiers=4, random_state=0)
        return TierSearch(
            space, ranker=ranker, sampler=TierSampler(space), **{**settings, **params}
        )
    if name == "random":
        return RandomSearch(space, **{"random_state": 0, **params})
    return RegularizedEvolution(space, **{"random_state": 0, **params})


class CountingOracle:
    def __init__(self):
        self.calls = []

    def __call__(self, arch):
        self.calls.append(arch)
        return accuracy(arch)


@pytest.fixture(scope="module")
def space():
    return ChainSpace(6, OPS, known_size=True)


@pytest.fixture(scope="module")
def uninterrupted(space):
    return {name: make_searcher(name, space).run(accuracy, BUDGET) for name in NAMES}


@pytest.fixture(scope="module")
def journals(space, tmp_path_factory):
    """A complete journal of each searcher."""
    folder = tmp_path_factory.mktemp("journals")
    paths = {}
    for name in NAMES:
        paths[name] = folder / f"{name}.jsonl"
        make_searcher(name, space).run(accuracy, BUDGET, journal=paths[name])
    return paths


def cut(journal, n_evaluations, target, partial_line=True, shuffle=False):
    """A copy of ``journal`` as a crash leaves it: the header, ``n_evaluations`` lines and
    half of the next line."""
    lines = journal.read_text().splitlines(keepends=True)
    kept = lines[1 : n_evaluations + 1]
    if shuffle:
        random.Random(0).shuffle(kept)
    tail = lines[n_evaluations + 1][:40] if partial_line else ""
    target.write_text(lines[0] + "".join(kept) + tail)
    return target


# --- the format -----------------------------------------------------------------------------


def test_journal_has_a_header_and_one_line_per_evaluation(space, journals, uninterrupted):
    header, evaluations = read_journal(journals["tier"])
    assert header["format"] == "sknar-search-journal" and header["version"] == 2
    assert header["searcher"] == "TierSearch" and header["random_state"] == 0
    assert header["params"]["top_k"] == 7 and header["space"]["class"].endswith("ChainSpace")
    assert len(evaluations) == BUDGET
    result = uninterrupted["tier"]
    for index, entry in enumerate(evaluations):
        assert entry["query"] == index and entry["status"] == "ok" and entry["error"] is None
        assert entry["hash"] == space.hash(result.archs[index])
        assert tuple(entry["arch"]) == result.archs[index]
        assert entry["value"] == result.values[index] and entry["wall_s"] >= 0
        assert entry["metrics"] == {} and entry["fidelity"] is None and "finished" in entry


def test_read_journal_rejects_what_is_not_a_journal(tmp_path):
    other = tmp_path / "notes.jsonl"
    other.write_text('{"hello": 1}\n')
    with pytest.raises(ValueError, match="is not a sknar search journal"):
        read_journal(other)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        read_journal(empty)


# --- resuming -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_a_finished_journal_resumes_without_a_call(space, journals, uninterrupted, name):
    oracle = CountingOracle()
    searcher = make_searcher(name, space)
    result = searcher.run(oracle, BUDGET, journal=journals[name])
    assert oracle.calls == []
    if name == "tier":
        assert searcher.n_fits_ == 0  # told back, nothing asked: no round, no fit
    assert result.archs == uninterrupted[name].archs
    np.testing.assert_array_equal(result.values, uninterrupted[name].values)
    assert len(read_journal(journals[name])[1]) == BUDGET  # nothing appended


@pytest.mark.parametrize("shuffle", [False, True], ids=["in-order", "any-order"])
@pytest.mark.parametrize("name", NAMES)
def test_a_cut_journal_resumes_without_repeating_an_evaluation(
    space, journals, uninterrupted, tmp_path, name, shuffle
):
    # 23 evaluations: inside a tier search round; lines in any order (parallel workers).
    journal = cut(journals[name], 23, tmp_path / "cut.jsonl", shuffle=shuffle)
    oracle = CountingOracle()
    searcher = make_searcher(name, space)
    result = searcher.run(oracle, BUDGET, journal=journal)
    # The recorded evaluations are told back in query order, then the search goes on.
    assert result.archs[:23] == uninterrupted[name].archs[:23]
    assert result.archs[23:] == oracle.calls and len(oracle.calls) == BUDGET - 23
    assert len({space.hash(arch) for arch in result.archs}) == BUDGET  # none repeated
    if name == "random":  # its queries are the draws of one seed: the same ones
        assert result.archs == uninterrupted[name].archs
    if name == "tier":  # one fit on the 23 told back, then one per round
        assert searcher.n_fits_ == searcher.n_rounds_ - 1 == 4  # not 1 + 5 (a replay)
    _, evaluations = read_journal(journal)
    assert len(evaluations) == BUDGET  # the half line was dropped
    assert sorted(entry["query"] for entry in evaluations) == list(range(BUDGET))


def test_a_resumed_search_may_spend_a_larger_budget(space, tmp_path):
    journal = tmp_path / "search.jsonl"
    first = make_searcher("tier", space).run(accuracy, 27, journal=journal)
    oracle = CountingOracle()
    result = make_searcher("tier", space).run(oracle, 41, journal=journal)
    assert result.archs[:27] == first.archs and len(oracle.calls) == 14
    assert len({space.hash(arch) for arch in result.archs}) == 41


@pytest.mark.slow  # worker processes
def test_a_journal_written_in_parallel_resumes_sequentially(space, tmp_path):
    journal = tmp_path / "search.jsonl"
    make_searcher("tier", space).run(accuracy, BUDGET, journal=journal, n_jobs=2)
    cut_journal = cut(journal, 30, tmp_path / "cut.jsonl", partial_line=False)
    recorded = {entry["hash"] for entry in read_journal(cut_journal)[1]}
    oracle = CountingOracle()
    result = make_searcher("tier", space).run(oracle, BUDGET, journal=cut_journal)
    assert result.n_queries == BUDGET and len(oracle.calls) == 15
    assert not recorded & {space.hash(arch) for arch in oracle.calls}


def test_failures_in_a_journal_are_replayed_as_failures(space, tmp_path):
    def flaky(arch):
        if arch.count("a") == 2:
            raise RuntimeError("node lost")
        return accuracy(arch)

    journal = tmp_path / "search.jsonl"
    with pytest.raises(Exception, match="node lost"):
        make_searcher("random", space).run(flaky, BUDGET, journal=journal)
    n_recorded = len(read_journal(journal)[1])
    oracle = CountingOracle()
    # The recorded failure is kept (never retried) even with on_error="raise".
    result = make_searcher("random", space).run(oracle, BUDGET, journal=journal)
    assert result.n_failed == 1 and "node lost" in result.errors[n_recorded - 1]
    assert len(oracle.calls) == BUDGET - n_recorded


def test_random_state_none_records_a_seed_that_a_resume_adopts(space, tmp_path):
    journal = tmp_path / "search.jsonl"
    first = make_searcher("evolution", space, random_state=None).run(
        accuracy, BUDGET, journal=journal
    )
    seed = read_journal(journal)[0]["random_state"]
    assert isinstance(seed, int)
    cut_journal = cut(journal, 12, tmp_path / "cut.jsonl")
    resumed = make_searcher("evolution", space, random_state=None).run(
        accuracy, BUDGET, journal=cut_journal
    )
    assert resumed.archs[:12] == first.archs[:12] and resumed.n_queries == BUDGET
    assert read_journal(cut_journal)[0]["random_state"] == seed
    assert make_searcher("evolution", space, random_state=seed).run(accuracy, BUDGET).archs == (
        first.archs
    )


# --- refusing another search ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("tier", {"top_k": 8}, r"top_k: journal 7, this search 8\. Resume"),
        ("tier", {"random_state": 1}, "written with random_state=0; this search has "
         "random_state=1"),
        ("tier", {"ranker": RandomForestRegressor()}, "ranker.class"),
        ("tier", {"ranker__randomforestregressor__n_estimators": 11},
         r"search: ranker.steps.randomforestregressor.n_estimators: journal 10, this search 11\."),
        ("random", {"batch_size": 5}, "batch_size: journal 10, this search 5"),
        ("evolution", {"space": ChainSpace(6, ("a", "b", "d"), known_size=True)},
         "space.repr"),
    ],
)
def test_a_journal_of_another_search_is_refused(space, journals, tmp_path, name, change,
                                                message):
    before = journals[name].read_bytes()
    with pytest.raises(ValueError, match=message) as error:
        make_searcher(name, space).set_params(**change).run(
            accuracy, BUDGET, journal=journals[name]
        )
    assert journals[name].read_bytes() == before  # left untouched
    message = str(error.value).replace(str(journals[name]), "")
    assert "\n" not in message and len(message) < 300


def test_a_journal_of_another_searcher_is_refused(space, journals):
    with pytest.raises(ValueError, match="was written by a TierSearch; this search is a "
                       "RandomSearch"):
        make_searcher("random", space).run(accuracy, BUDGET, journal=journals["tier"])


def test_a_corrupt_journal_is_refused(journals, space, tmp_path):
    lines = journals["random"].read_text().splitlines(keepends=True)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(lines[0] + lines[1] + "{not json\n" + "".join(lines[2:]))
    with pytest.raises(ValueError, match="line 3, is not valid JSON"):
        make_searcher("random", space).run(accuracy, BUDGET, journal=broken)
    twice = tmp_path / "twice.jsonl"
    twice.write_text(lines[0] + lines[1] + lines[1])
    with pytest.raises(ValueError, match="line 3, records architecture .* a second time"):
        make_searcher("random", space).run(accuracy, BUDGET, journal=twice)


class UnseededRanker(RandomForestRegressor):
    """A ranker that draws differently at every fit, whatever the seed (like a GPU)."""

    def fit(self, X, y, sample_weight=None):
        self.random_state = int(np.random.SeedSequence().generate_state(1)[0] % 2**31)
        return super().fit(X, y, sample_weight)


def test_a_journal_of_a_ranker_that_draws_differently_resumes(space, tmp_path):
    def searcher():
        return make_searcher("tier", space).set_params(
            ranker=make_pipeline(OneHotEncoder(handle_unknown="ignore"),
                                 UnseededRanker(n_estimators=5))
        )

    journal = tmp_path / "search.jsonl"
    searcher().run(accuracy, 34, journal=journal)
    oracle = CountingOracle()
    resumed = searcher()
    result = resumed.run(oracle, BUDGET, journal=journal)
    assert result.n_queries == BUDGET and len(oracle.calls) == BUDGET - 34
    assert len({space.hash(arch) for arch in result.archs}) == BUDGET
    assert resumed.n_fits_ == 2  # one on the 34 told back, one for the last round


def test_resuming_a_finished_search_costs_at_most_one_fit(space, tmp_path):
    fits = []

    class CountingRanker(RandomForestRegressor):
        def fit(self, X, y, sample_weight=None):
            fits.append(len(y))
            return super().fit(X, y, sample_weight)

    def searcher():
        return make_searcher("tier", space).set_params(
            ranker=make_pipeline(OneHotEncoder(handle_unknown="ignore"),
                                 CountingRanker(n_estimators=5))
        )

    journal = tmp_path / "search.jsonl"
    searcher().run(accuracy, 200, journal=journal)
    n_fits_first = len(fits)
    assert n_fits_first > 20
    fits.clear()
    resumed = searcher().open_journal(journal)  # ask/tell: resumed, nothing asked yet
    assert fits == [] and resumed.result_.n_queries == 200
    more = resumed.ask()  # the next round: one fit, on all 200
    assert fits == [200] and len(more) == 7
    resumed.close_journal()


def test_one_journal_one_writer(space, tmp_path):
    pytest.importorskip("fcntl")
    journal = tmp_path / "search.jsonl"

    def second_search(arch):
        if not second_search.tried:
            second_search.tried = True
            with pytest.raises(ValueError, match="in use by another running search"):
                make_searcher("random", space).run(accuracy, 5, journal=journal)
        return accuracy(arch)

    second_search.tried = False
    make_searcher("random", space).run(second_search, 5, journal=journal)
    assert second_search.tried


# --- a real crash ---------------------------------------------------------------------------

SLOW_SEARCH = """
import sys, time
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sknar.sampler import TierSampler
from sknar.search import TierSearch
from sknar.utils.testing import ChainSpace

OPS = ("a", "b", "c")
journal, calls = sys.argv[1], sys.argv[2]

def slow_oracle(arch):
    with open(calls, "a") as log:  # logged when a call starts
        log.write("-".join(arch) + "\\n")
    time.sleep(0.05)
    return sum((s + 1) * OPS.index(op) for s, op in enumerate(arch)) + 0.01 * arch.count("b")

space = ChainSpace(6, OPS, known_size=True)
ranker = make_pipeline(OneHotEncoder(handle_unknown="ignore"),
                       RandomForestRegressor(n_estimators=10))
search = TierSearch(space, ranker=ranker, sampler=TierSampler(space), n_initial=20,
                    n_candidates=60, top_k=7, n_tiers=4, random_state=0)
search.run(slow_oracle, {budget}, journal=journal)
"""


@pytest.mark.slow  # a subprocess killed mid-search
def test_a_search_killed_with_sigkill_resumes_without_repeating_an_evaluation(
    space, tmp_path
):
    budget = 60
    journal, calls = tmp_path / "search.jsonl", tmp_path / "calls.txt"
    script = tmp_path / "slow_search.py"
    script.write_text(textwrap.dedent(SLOW_SEARCH).replace("{budget}", str(budget)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
    )}
    process = subprocess.Popen([sys.executable, str(script), str(journal), str(calls)], env=env)
    try:
        deadline = time.monotonic() + 300
        # Wait until the search is inside its second round (27 evaluations: 20 + 7).
        while not journal.is_file() or len(journal.read_text().splitlines()) < 30:
            assert process.poll() is None, "the search ended before it could be killed"
            assert time.monotonic() < deadline, "the search did not start in time"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    killed_calls = calls.read_text().split()
    _, recorded = read_journal(journal)
    assert 29 <= len(recorded) < budget

    oracle = CountingOracle()
    result = make_searcher("tier", space).run(oracle, budget, journal=journal)
    assert result.n_queries == budget
    assert len({space.hash(arch) for arch in result.archs}) == budget
    resumed = ["-".join(arch) for arch in oracle.calls]
    # No recorded evaluation is made again; only one cut short by the kill may be.
    assert not {entry["hash"] for entry in recorded} & set(resumed)
    assert len(set(killed_calls) & set(resumed)) <= 1
    assert len(killed_calls) + len(resumed) <= budget + 1
    assert len(resumed) == budget - len(recorded)
