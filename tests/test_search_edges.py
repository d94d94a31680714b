"""What a search meets at its edges: hostile journals, dead workers, ties, tiny spaces,
several processes on one journal, and evaluations that take different times."""

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from sknar.oracles import TabularOracle
from sknar.sampler import TierSampler
from sknar.search import (
    RandomSearch,
    RegularizedEvolution,
    SearchHistory,
    SearchWarning,
    TierSearch,
    read_journal,
)
from sknar.utils.testing import ChainSpace

OPS = ("a", "b", "c")
REPO_ROOT = Path(__file__).resolve().parents[1]


def accuracy(arch):
    return sum((slot + 1) * OPS.index(op) for slot, op in enumerate(arch)) + 0.01 * arch.count("b")


def tier_search(space, **params):
    ranker = make_pipeline(
        OneHotEncoder(handle_unknown="ignore"), RandomForestRegressor(n_estimators=5)
    )
    settings = dict(n_initial=20, n_candidates=60, top_k=7, n_tiers=4, random_state=0)
    return TierSearch(space, ranker=ranker, sampler=TierSampler(space), **{**settings, **params})


class CountingOracle:
    def __init__(self):
        self.calls = []

    def __call__(self, arch):
        self.calls.append(arch)
        return accuracy(arch)


@pytest.fixture(scope="module")
def space():
    return ChainSpace(6, OPS, known_size=True)


@pytest.fixture
def journal(space, tmp_path):
    """A journal of 10 evaluations of a random search."""
    path = tmp_path / "search.jsonl"
    RandomSearch(space, random_state=0).run(accuracy, 10, journal=path)
    return path


def env_with_repo():
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
    )}


# --- journals that are not what they seem ---------------------------------------------------


@pytest.mark.parametrize("content", [b"my notes, no newline", b"line one\nline two\n"])
def test_a_file_that_is_not_a_journal_is_refused_and_left_untouched(space, tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"{path} is not a sknar search journal"):
        RandomSearch(space, random_state=0).run(accuracy, 5, journal=path)
    assert path.read_bytes() == content


def test_a_binary_journal_is_named(space, tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    with pytest.raises(ValueError, match=f"{path} is not a sknar search journal"):
        RandomSearch(space, random_state=0).run(accuracy, 5, journal=path)


def test_a_complete_last_entry_without_its_newline_is_kept(space, journal):
    journal.write_bytes(journal.read_bytes().rstrip(b"\n"))
    oracle = CountingOracle()
    result = RandomSearch(space, random_state=0).run(oracle, 12, journal=journal)
    assert len(oracle.calls) == 2 and result.n_queries == 12  # the tenth is not redone
    _, evaluations = read_journal(journal)
    assert [entry["query"] for entry in evaluations] == list(range(12))


@pytest.mark.parametrize(
    "bad_line, message",
    [
        (b'"value": NaN', "whose value is NaN"),
        (b'"value": Infinity', "whose value is Infinity"),
        (b'"value": null', "whose value is null"),
        (b'"value": "0.93"', "whose value is '0.93'"),
        (b"[1, 2]", "is JSON but not an evaluation"),
        (b"42", "is JSON but not an evaluation"),
        (b'{"hash": "\xff\xfe", "status": "ok"}', "is not UTF-8 text"),
    ],
)
def test_a_bad_journal_line_is_named_by_file_and_line(space, journal, bad_line, message):
    lines = journal.read_bytes().splitlines(keepends=True)
    if bad_line.startswith(b'"value"'):
        entry = json.loads(lines[2])
        text = json.dumps(entry).encode()
        bad_line = text.replace(
            b'"value": ' + json.dumps(entry["value"]).encode(), bad_line
        )
    lines[2] = bad_line + b"\n"
    journal.write_bytes(b"".join(lines))
    with pytest.raises(ValueError, match=f"{journal}, line 3,.*{message}"):
        RandomSearch(space, random_state=0).run(accuracy, 12, journal=journal)
    with pytest.raises(ValueError, match=f"{journal}, line 3,"):
        read_journal(journal)


def test_a_journal_linked_to_dev_null_is_refused(space, tmp_path):
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null on this system")
    link = tmp_path / "search.jsonl"
    link.symlink_to("/dev/null")
    with pytest.raises(ValueError, match=f"{link} is not a regular file.*/dev/null"):
        RandomSearch(space, random_state=0).run(accuracy, 5, journal=link)


def test_a_journal_of_format_1_still_resumes(space, journal):
    lines = journal.read_text().splitlines()
    header = {**json.loads(lines[0]), "version": 1}
    header.pop("oracle")
    old = [header]
    for line in lines[1:]:
        entry = json.loads(line)
        entry.pop("metrics"), entry.pop("fidelity")
        old.append({**entry, "report_value": 0.5})
    journal.write_text("".join(json.dumps(entry) + "\n" for entry in old))
    oracle = CountingOracle()
    result = RandomSearch(space, random_state=0).run(oracle, 12, journal=journal)
    assert len(oracle.calls) == 2 and result.n_queries == 12
    _, evaluations = read_journal(journal)
    assert evaluations[0]["metrics"] == {"report": 0.5} and evaluations[-1]["metrics"] == {}


def test_the_header_records_the_oracle_and_refuses_another(space, tmp_path):
    archs = space.enumerate()
    archs = list(archs)
    table = TabularOracle(archs, [accuracy(arch) for arch in archs], space=space)
    other = TabularOracle(archs, [-accuracy(arch) for arch in archs], space=space)
    path = tmp_path / "search.jsonl"
    RandomSearch(space, random_state=0).run(table, 10, journal=path)
    header, _ = read_journal(path)
    assert header["oracle"]["class"].endswith("TabularOracle")
    with pytest.raises(ValueError, match="written by another oracle: oracle.values"):
        RandomSearch(space, random_state=0).run(other, 12, journal=path)
    copy = pickle.loads(pickle.dumps(table))  # the same table: resumed
    assert RandomSearch(space, random_state=0).run(copy, 12, journal=path).n_queries == 12


# --- the journal belongs to the search ------------------------------------------------------


def test_ask_and_tell_write_the_journal_and_reopening_resumes(space, tmp_path, capsys):
    path = tmp_path / "search.jsonl"
    searcher = RegularizedEvolution(space, random_state=0).open_journal(path)
    batch = searcher.ask()
    searcher.tell(batch, [None] + [accuracy(arch) for arch in batch[1:]],
                  metrics=[{"flops": 1.0}] * len(batch), fidelities=[3] * len(batch))
    more = searcher.ask()
    searcher.tell(more, [accuracy(arch) for arch in more])
    told = searcher.result_.archs
    searcher.close_journal()
    _, evaluations = read_journal(path)
    assert len(evaluations) == len(told) == 11
    assert evaluations[0]["status"] == "failed" and evaluations[1]["fidelity"] == 3
    assert evaluations[1]["metrics"] == {"flops": 1.0}

    resumed = RegularizedEvolution(space, random_state=0, verbose=1).open_journal(path)
    assert capsys.readouterr().err.strip() == (
        f"resumed 11 evaluations from {path} (10 ok, 1 failed)"
    )
    assert resumed.result_.archs == told and resumed.history_.n_failed == 1
    assert len(resumed.population_) == 10
    nxt = resumed.ask()
    assert not {space.hash(arch) for arch in nxt} & {space.hash(arch) for arch in told}
    resumed.close_journal()
    RandomSearch(space, random_state=0, verbose=1)  # nothing printed without a journal
    result = RegularizedEvolution(space, random_state=0, verbose=1).run(
        accuracy, 30, journal=path
    )
    assert f"resumed 11 evaluations from {path} (10 ok, 1 failed); 19 to go" in (
        capsys.readouterr().err
    )
    assert result.n_queries == 30


def test_the_history_is_read_only(space):
    searcher = RandomSearch(space, random_state=0)
    batch = searcher.ask()
    searcher.tell(batch[:3], [1.0, None, 2.0])
    history = searcher.history_
    assert isinstance(history, SearchHistory)
    assert history.n_told == 3 and history.n_ok == 2 and history.n_pending == 7
    assert len(history.taken) == 10 and space.hash(batch[5]) in history.taken
    with pytest.raises(AttributeError):
        history.taken.add("x")
    with pytest.raises(AttributeError):
        history.n_told = 0
    np.testing.assert_array_equal(history.success_values, [1.0, 2.0])


def test_run_refuses_a_boolean_budget(space):
    with pytest.raises(ValueError, match="'budget' .* got True, a bool"):
        RandomSearch(space, random_state=0).run(accuracy, True)


SLOW_WRITER = """
import sys, time
from sknar.search import RandomSearch
from sknar.utils.testing import ChainSpace

def slow(arch):
    time.sleep(0.1)
    return float(arch.count("b"))

RandomSearch(ChainSpace(6, ("a", "b", "c"), known_size=True), batch_size=1,
             random_state=0).run(slow, 40, journal=sys.argv[1])
"""


@pytest.mark.slow  # a second process
def test_a_second_process_on_a_journal_in_use_is_refused_and_the_first_loses_nothing(
    space, tmp_path
):
    pytest.importorskip("fcntl")
    path = tmp_path / "search.jsonl"
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(SLOW_WRITER))
    process = subprocess.Popen([sys.executable, str(script), str(path)], env=env_with_repo())
    try:
        deadline = time.monotonic() + 120
        while not path.is_file() or len(path.read_text().splitlines()) < 4:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        with pytest.raises(ValueError, match=f"{path} is in use by another running search "
                           rf"\(pid {process.pid} on "):
            RandomSearch(space, batch_size=1, random_state=0).run(accuracy, 40, journal=path)
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
    header, evaluations = read_journal(path)
    assert header["searcher"] == "RandomSearch" and len(evaluations) == 40
    assert sorted(entry["query"] for entry in evaluations) == list(range(40))


# --- ties, and spaces of unknown size -------------------------------------------------------


@pytest.mark.parametrize("n_tiers", [2, 5])
def test_ties_are_data_a_tier_search_goes_on(space, n_tiers):
    def chance_level(arch):  # most cells at chance level
        return 0.1 if int(accuracy(arch)) % 5 else accuracy(arch)

    with pytest.warns(SearchWarning, match="1 distinct level"):
        result = tier_search(space, n_tiers=n_tiers).run(lambda arch: 0.5, 41)
    assert result.n_queries == 41 and result.stop_reason == "budget"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        result = tier_search(space, n_tiers=n_tiers).run(chance_level, 41)
    assert result.n_queries == 41 and result.stop_reason == "budget"


def test_a_tier_search_on_a_space_of_unknown_size_evaluates_every_cell():
    tiny = ChainSpace(2, ("a", "b"))  # 4 cells, size unknown
    searcher = tier_search(tiny, n_initial=2, n_candidates=10, top_k=2, n_tiers=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SearchWarning)
        result = searcher.run(lambda arch: float(arch.count("a")), 10)
    assert sorted(result.archs) == [("a", "a"), ("a", "b"), ("b", "a"), ("b", "b")]
    assert result.stop_reason == "exhausted"


# --- workers --------------------------------------------------------------------------------


class DyingOracle:
    """Kills its worker process on one architecture."""

    def __init__(self, killer):
        self.killer = killer

    def __call__(self, arch):
        if arch == self.killer:
            os._exit(3)  # the worker process dies
        time.sleep(0.2)  # the others are still running when it dies
        return accuracy(arch)


@pytest.mark.slow  # worker processes
def test_a_dead_worker_is_a_failed_evaluation_of_a_named_architecture(space):
    killer = RandomSearch(space, batch_size=4, random_state=0).ask()[1]
    oracle = DyingOracle(killer)
    result = RandomSearch(space, batch_size=4, random_state=0).run(
        oracle, 6, n_jobs=2, on_error="skip"
    )
    assert result.n_queries == 6 and result.stop_reason == "budget"
    # Only the evaluation that killed its worker failed: the one lost beside it ran again,
    # alone, and succeeded.
    assert result.failed.tolist() == [arch == killer for arch in result.archs]
    assert "the worker process running this evaluation died" in (
        result.errors[result.archs.index(killer)]
    )


PICKLED = []


class PickleCountingOracle:
    def __call__(self, arch):
        return accuracy(arch)

    def __getstate__(self):
        PICKLED.append(1)
        return {}


@pytest.mark.slow  # worker processes
def test_the_oracle_travels_once_per_worker(space):
    PICKLED.clear()
    result = RandomSearch(space, random_state=0).run(PickleCountingOracle(), 40, n_jobs=2)
    assert result.n_queries == 40 and 1 <= len(PICKLED) <= 2


def test_asynchronous_evaluation_starts_the_next_one_when_a_worker_is_free(space, tmp_path):
    slow = RandomSearch(space, batch_size=4, random_state=0).ask()[0]

    def oracle(arch):
        time.sleep(1.0 if arch == slow else 0.01)
        return accuracy(arch)

    finished = {}
    with parallel_config(backend="threading", n_jobs=2):
        for schedule in ("batch", "asynchronous"):
            journal = tmp_path / f"{schedule}.jsonl"  # one line per evaluation, as it ends
            result = RandomSearch(space, batch_size=4, random_state=0).run(
                oracle, 12, schedule=schedule, journal=journal
            )
            finished[schedule] = [tuple(e["arch"]) for e in read_journal(journal)[1]]
            assert result.archs[0] == slow  # the result is in query order
    # Batch by batch, the other worker waited for the slow one at the end of its batch;
    # asynchronously, it went on with the next batches while the slow one ran.
    assert finished["batch"].index(slow) == 3
    assert finished["asynchronous"].index(slow) >= 6
    assert set(finished["asynchronous"]) == set(finished["batch"])


@pytest.mark.parametrize("name", ["tier", "evolution"])
def test_asynchronous_runs_spend_the_budget_and_repeat_nothing(space, name):
    searcher = tier_search(space) if name == "tier" else RegularizedEvolution(
        space, random_state=0
    )
    with parallel_config(backend="threading", n_jobs=3):
        result = searcher.run(accuracy, 45)
    assert result.n_queries == 45 and len({space.hash(a) for a in result.archs}) == 45


KILLED_SEARCH = """
import sys, time
from sknar.search import RandomSearch
from sknar.utils.testing import ChainSpace

def slow(arch):
    time.sleep(0.2)
    return float(arch.count("b"))

RandomSearch(ChainSpace(6, ("a", "b", "c"), known_size=True), random_state=0).run(
    slow, 200, n_jobs=2, journal=sys.argv[1])
"""


@pytest.mark.slow  # a subprocess and its workers
def test_the_workers_of_a_killed_search_exit(tmp_path):
    path = tmp_path / "search.jsonl"
    script = tmp_path / "search.py"
    script.write_text(textwrap.dedent(KILLED_SEARCH))
    process = subprocess.Popen([sys.executable, str(script), str(path)], env=env_with_repo())
    try:
        deadline = time.monotonic() + 180
        while not path.is_file() or len(path.read_text().splitlines()) < 4:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True,
                                  text=True).stdout.split()
        workers = [int(pid) for pid in children
                   if "loky" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="ignore")
                   and "popen" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(
                       errors="ignore")]
        assert workers
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "the workers outlived their search by 30 s"
        time.sleep(0.2)
