"""Many workers on one Optuna study with the NAR sampler: SQLite (heartbeat) and journal file.

Each worker is a process of its own running ``study.optimize``; one is killed with SIGKILL
in the middle of a trial.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna", reason="the optuna extra is not installed")

from optuna.trial import TrialState  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 15

# A worker: a toy NB201 objective that sleeps, the NAR sampler with a small forest ranker.
WORKER = r"""
import os, sys, time
import optuna
from optuna.storages import JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sknar.integration.optuna import NARSampler, suggest_architecture, within_budget
from sknar.spaces import NASBench201Space

kind, where = sys.argv[1], sys.argv[2]
budget, seed, sleep_s = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
optuna.logging.set_verbosity(optuna.logging.WARNING)
space = NASBench201Space()

def features(archs):
    return [list(space.structure_features(arch).values()) for arch in archs]

forest = RandomForestRegressor(n_estimators=10, random_state=seed)
ranker = make_pipeline(FunctionTransformer(features), forest)
sampler = NARSampler(space, ranker=ranker, n_startup_trials=6, n_candidates=50, top_k=3,
                     refit_every=3, n_tiers=2, seed=seed)
if kind == "rdb":
    storage = RDBStorage(where, heartbeat_interval=1, grace_period=3)
else:
    storage = JournalStorage(JournalFileBackend(where))
study = optuna.load_study(study_name="workers", storage=storage, sampler=sampler)

def objective(trial):
    if not within_budget(trial, budget, poll_s=0.2):
        raise optuna.TrialPruned("budget reached")
    trial.set_user_attr("pid", os.getpid())
    arch = suggest_architecture(trial, space)
    time.sleep(sleep_s)
    params = space.total_cost(arch)["params"]
    return 10.0 * arch.count("nor_conv_3x3") + arch.count("nor_conv_1x1") - params / 1e7

study.optimize(objective)
"""


def _storage(kind, tmp_path):
    if kind == "rdb":
        url = f"sqlite:///{tmp_path / 'study.db'}"
        return url, optuna.storages.RDBStorage(url)
    from optuna.storages.journal import JournalFileBackend

    path = str(tmp_path / "study.log")
    return path, optuna.storages.JournalStorage(JournalFileBackend(path))


def _start_workers(kind, where, n, sleep_s=0.4):
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, kind, where, str(BUDGET), str(seed), str(sleep_s)],
            env=env,
            cwd=ROOT,
        )
        for seed in range(n)
    ]


def _wait_for_running_trial(study, timeout=120):
    """A running trial that has its worker's pid, once a few trials completed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        trials = study.get_trials(deepcopy=False)
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        running = [t for t in trials if t.state == TrialState.RUNNING and "pid" in t.user_attrs]
        if len(complete) >= 3 and running:
            return running[0]
        time.sleep(0.1)
    raise AssertionError("no running trial after 3 completed ones")


def _check_completed(study):
    complete = study.get_trials(states=[TrialState.COMPLETE])
    assert len(complete) == BUDGET
    keys = [t.user_attrs["sknar_network"] for t in complete]
    assert len(set(keys)) == BUDGET, "a network was completed twice"
    cells = [tuple(sorted(t.params.items())) for t in complete]
    assert len(set(cells)) == BUDGET


def test_three_workers_on_sqlite_and_a_killed_one(tmp_path):
    where, storage = _storage("rdb", tmp_path)
    study = optuna.create_study(study_name="workers", storage=storage, direction="maximize")
    workers = _start_workers("rdb", where, 3)
    try:
        victim = _wait_for_running_trial(study)
        os.kill(victim.user_attrs["pid"], signal.SIGKILL)
        codes = {worker.pid: worker.wait(timeout=300) for worker in workers}
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert codes.pop(victim.user_attrs["pid"]) == -signal.SIGKILL
    assert list(codes.values()) == [0, 0]  # the others carried on to the end
    _check_completed(study)
    killed = study.trials[victim.number]
    assert killed.state == TrialState.FAIL  # failed by the heartbeat of the survivors
    keys = [t.user_attrs["sknar_network"] for t in study.get_trials(states=[TrialState.COMPLETE])]
    assert killed.user_attrs["sknar_network"] not in keys  # a failed network is not redone


def test_workers_on_a_journal_file_and_what_a_killed_one_leaves(tmp_path):
    where, storage = _storage("journal", tmp_path)
    study = optuna.create_study(study_name="workers", storage=storage, direction="maximize")
    workers = _start_workers("journal", where, 3)
    try:
        victim = _wait_for_running_trial(study)
        os.kill(victim.user_attrs["pid"], signal.SIGKILL)
        workers_left = [w for w in workers if w.pid != victim.user_attrs["pid"]]
        # No heartbeat: the trial stays RUNNING, fail_stale_trials does nothing, and the
        # budget keeps a place for it; the survivors wait until someone fails it by hand.
        time.sleep(4)
        optuna.storages.fail_stale_trials(study)
        assert study.trials[victim.number].state == TrialState.RUNNING
        study.tell(victim.number, state=TrialState.FAIL)
        codes = [worker.wait(timeout=300) for worker in workers_left]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert codes == [0, 0]
    _check_completed(study)
    assert study.trials[victim.number].state == TrialState.FAIL
