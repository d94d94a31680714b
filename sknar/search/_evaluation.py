"""Oracle calls: one evaluation as data, and the engines that run them.

An engine takes evaluations one at a time (``submit``) and hands back each one as it
finishes (``wait``), so that a search starts the next evaluation as soon as a worker is
free. The engines are existing ones: the calling process (one at a time), a thread pool,
loky's process pool (joblib's default backend; the oracle is sent once to each worker
process, by its initializer) and a dask cluster (the oracle is scattered to every worker
once) when the search runs under ``joblib.parallel_config(backend="dask")``. Any other
joblib backend (e.g. ray) runs the evaluations through ``joblib.Parallel``, batch by batch.
"""

import concurrent.futures
import math
import numbers
import os
import pickle
import re
import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from joblib.parallel import get_active_backend

from ..utils import check_oracle_value

__all__ = ["Outcome", "make_engine", "failure_outcome", "outcome_of_value"]

REPORT = "report"
# Seconds an idle loky worker waits for work before it exits: the workers of a search that
# was killed (SIGKILL: no clean-up ran) are gone within this time.
IDLE_WORKER_TIMEOUT = 10


@dataclass
class Outcome:
    """The result of one evaluation: a value and named metrics, or the error that replaced
    them.

    ``arch``, ``value`` (the value selection uses, None when failed), ``metrics`` (other
    named metrics, e.g. ``"report"``, the oracle's report value), ``fidelity`` (e.g. the
    epochs trained, None when not told), ``error`` (the failure as text, None when ok),
    ``wall_s`` (seconds the evaluation took) and ``ok``.
    """

    arch: Any
    value: Optional[float]
    error: Optional[str] = None
    exception: Optional[BaseException] = None
    metrics: dict = field(default_factory=dict)
    fidelity: Any = None
    wall_s: Optional[float] = None

    @property
    def ok(self):
        return self.error is None

    @property
    def report_value(self):
        return self.metrics.get(REPORT)


def _evaluate(oracle, arch, tag):
    """``(tag, outcome of oracle(arch))``, computed where the engine runs it.

    A failure comes back as data; only ``Exception`` is caught: KeyboardInterrupt and
    SystemExit stop the search.
    """
    started = time.perf_counter()
    try:
        answer = oracle(arch)
        if isinstance(answer, Mapping):
            # Several named metrics: the search takes its objectives' values from them.
            value, metrics = None, _oracle_metrics(answer, arch)
        else:
            value, metrics = check_oracle_value(answer, arch), {}
        report = getattr(oracle, "report", None)
        report_value = None if report is None else report(arch)
        if report_value is not None:
            metrics[REPORT] = float(report_value)
    except Exception as exc:  # noqa: BLE001 - any failure of user code is recorded
        return tag, failure_outcome(arch, _portable(exc), time.perf_counter() - started)
    wall_s = time.perf_counter() - started
    return tag, Outcome(arch, value, metrics=metrics, wall_s=wall_s)


# The oracle of this worker process, installed once by the pool's initializer.
_WORKER_ORACLE = {}
# Seconds between two looks of a worker at its search process.
_PARENT_POLL = 1.0


def _install_oracle(oracle, parent_pid):
    """Keep the oracle in this worker; exit when the search process is gone.

    A search killed with SIGKILL runs no clean-up: its workers would wait for work (loky's
    idle timeout, then half a minute for a lock). A thread that sees the worker's parent
    change ends the worker within a second or two.
    """
    _WORKER_ORACLE["oracle"] = oracle
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid):
    while os.getppid() == parent_pid:
        time.sleep(_PARENT_POLL)
    os._exit(1)


def _evaluate_installed(arch, tag):
    return _evaluate(_WORKER_ORACLE["oracle"], arch, tag)


def _oracle_metrics(answer, arch):
    """The named metrics an oracle returned, each a finite number."""
    metrics = {}
    for name, value in answer.items():
        if not isinstance(name, str):
            raise ValueError(
                f"the oracle returned a mapping with the key {name!r} for architecture "
                f"{arch!r}; name each metric by a string."
            )
        try:
            metrics[name] = check_oracle_value(value, arch)
        except ValueError as exc:
            raise ValueError(f"metric {name!r}: {exc}") from None
    return metrics


def failure_outcome(arch, exception, wall_s=None):
    """An outcome recording ``exception`` as the failure of ``arch``."""
    message = "".join(traceback.format_exception_only(type(exception), exception)).strip()
    return Outcome(arch, None, error=message, exception=exception, wall_s=wall_s)


def _check_metrics(arch, metrics):
    if metrics is None:
        return {}
    if not isinstance(metrics, dict) or not all(isinstance(k, str) for k in metrics):
        raise ValueError(
            f"the metrics told for architecture {arch!r} are {metrics!r}; tell a dict of "
            "named numbers."
        )
    checked = {}
    for name, value in metrics.items():
        if value is not None and (
            isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
        ):
            raise ValueError(
                f"metric {name!r} told for architecture {arch!r} is {value!r}; tell a real "
                "number or None."
            )
        checked[name] = None if value is None else float(value)
    return checked


def outcome_of_value(arch, value, report_value=None, wall_s=None, metrics=None, fidelity=None):
    """The outcome a user tells: a finite number, or a failure (None, NaN, an exception).

    Raises
    ------
    ValueError
        If ``value`` is neither a real number, None nor an exception: telling a string or
        an array is a mistake, not a failed evaluation.
    """
    metrics = _check_metrics(arch, metrics)
    if report_value is not None:
        metrics[REPORT] = float(report_value)
    if isinstance(value, Mapping):
        # Several named metrics: the search takes its objectives' values from them.
        try:
            named = _oracle_metrics(value, arch)
        except ValueError as exc:
            outcome = Outcome(arch, None, error=f"the value told is not valid: {exc}")
        else:
            outcome = Outcome(arch, None, wall_s=wall_s)
            metrics = {**named, **metrics}
    elif isinstance(value, BaseException):
        outcome = failure_outcome(arch, value, wall_s)
    elif value is None:
        outcome = Outcome(arch, None, error="no value (None) was told", wall_s=wall_s)
    elif isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"the value told for architecture {arch!r} is {value!r}; tell a real number, "
            "or None, NaN or the exception for a failed evaluation."
        )
    elif not math.isfinite(value):
        outcome = Outcome(arch, None, error=f"the value told is {float(value)}", wall_s=wall_s)
    else:
        outcome = Outcome(arch, float(value), wall_s=wall_s)
    outcome.metrics = metrics
    outcome.fidelity = fidelity
    return outcome


def _portable(exc):
    """``exc`` if it survives pickling (to come back from a worker), else a RuntimeError."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any pickling failure
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


# --- engines ----------------------------------------------------------------------------------


class _Sequential:
    """One evaluation at a time, in this process, in the order submitted."""

    capacity = 1
    asynchronous = False

    def __init__(self, oracle):
        self.oracle = oracle
        self.queue = deque()

    @property
    def n_running(self):
        return len(self.queue)

    def submit(self, tag, arch):
        self.queue.append((tag, arch))

    def wait(self):
        tag, arch = self.queue.popleft()
        return [_evaluate(self.oracle, arch, tag)]

    def stop(self):
        self.queue.clear()

    def close(self, abandon=False):
        self.queue.clear()


class _Futures:
    """Evaluations on a ``concurrent.futures`` executor (threads or loky processes).

    A worker process that dies breaks the loky pool, and every evaluation the pool was
    running fails with it, without saying which one killed it. When only one was running,
    it is the one: a failure. When several were, each is a suspect and runs again alone in a
    new pool (nothing else runs beside it, new submissions wait): the one that kills its
    worker again fails, the others finish as if nothing had happened.
    """

    asynchronous = True

    def __init__(self, oracle, capacity, processes):
        self.oracle = oracle
        self.capacity = capacity
        self.processes = processes
        self.running = {}
        self.executor = None
        self.suspects = deque()
        self.held = deque()
        self.alone = False

    def _executor(self):
        if self.executor is None:
            if self.processes:
                from joblib.externals.loky import ProcessPoolExecutor

                # The oracle travels once to each worker, not with every evaluation.
                self.executor = ProcessPoolExecutor(
                    max_workers=self.capacity,
                    timeout=IDLE_WORKER_TIMEOUT,
                    initializer=_install_oracle,
                    initargs=(self.oracle, os.getpid()),
                )
            else:
                self.executor = concurrent.futures.ThreadPoolExecutor(self.capacity)
        return self.executor

    @property
    def n_running(self):
        return len(self.running) + len(self.suspects) + len(self.held)

    def submit(self, tag, arch):
        if self.suspects or self.alone:
            self.held.append((tag, arch))
        else:
            self._start(tag, arch)

    def _start(self, tag, arch):
        if self.processes:
            future = self._executor().submit(_evaluate_installed, arch, tag)
        else:
            future = self._executor().submit(_evaluate, self.oracle, arch, tag)
        self.running[future] = (tag, arch)

    def wait(self):
        while True:
            if not self.running:
                if self.suspects:
                    self.alone = True
                    self._start(*self.suspects.popleft())
                else:
                    self.alone = False
                    while self.held:
                        self._start(*self.held.popleft())
            finished = self._wait_running()
            if finished or not self.n_running:
                return finished

    def _wait_running(self):
        done, _ = concurrent.futures.wait(
            list(self.running), return_when=concurrent.futures.FIRST_COMPLETED
        )
        finished, lost = [], []
        for future in done:
            tag, arch = self.running.pop(future)
            try:
                finished.append(future.result())
            except concurrent.futures.process.BrokenProcessPool as exc:
                lost.append((tag, arch, exc))
            except Exception as exc:  # noqa: BLE001 - e.g. an oracle that cannot be pickled
                finished.append((tag, failure_outcome(arch, _portable(exc))))
        if lost:
            # The pool is broken: every evaluation it still ran is lost with it.
            for future, (tag, arch) in self.running.items():
                future.cancel()
                lost.append((tag, arch, None))
            self.running.clear()
            self.executor.shutdown(wait=False)
            self.executor = None
            if len(lost) == 1:
                tag, arch, exc = lost[0]
                finished.append((tag, _worker_died(arch, exc)))
            else:
                self.suspects.extend((tag, arch) for tag, arch, _ in lost)
        if not self.running and self.alone and not lost:
            self.alone = False
        return finished

    def stop(self):
        """Start nothing more: what waits in the executor's queue is cancelled."""
        self.held.clear()
        for future in list(self.running):
            if future.cancel():
                del self.running[future]

    def close(self, abandon=False):
        self.suspects.clear()
        self.held.clear()
        if self.executor is None:
            return
        for future in self.running:
            future.cancel()
        if self.processes:
            self.executor.shutdown(wait=not abandon, kill_workers=abandon)
        else:
            self.executor.shutdown(wait=not abandon, cancel_futures=True)
        self.executor = None
        self.running.clear()


def _worker_died(arch, exc):
    codes = re.search(r"exit codes of the workers are (\{.*?\})", str(exc or ""))
    detail = f" (exit code {codes.group(1)})" if codes else ""
    return failure_outcome(
        arch, RuntimeError(f"the worker process running this evaluation died{detail}")
    )


class _Dask:
    """Evaluations on a dask cluster; the oracle is scattered to every worker once."""

    asynchronous = True

    def __init__(self, oracle, client, capacity):
        self.client = client
        self.capacity = capacity
        self.oracle = oracle
        self._oracle_future = None
        self.running = {}

    @property
    def n_running(self):
        return len(self.running)

    def submit(self, tag, arch):
        if self._oracle_future is None:
            self._oracle_future = self.client.scatter(self.oracle, broadcast=True, hash=False)
        future = self.client.submit(_evaluate, self._oracle_future, arch, tag, pure=False)
        self.running[future] = (tag, arch)

    def wait(self):
        from distributed import wait

        done, _ = wait(list(self.running), return_when="FIRST_COMPLETED")
        finished = []
        for future in done:
            tag, arch = self.running.pop(future)
            try:
                finished.append(future.result())
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker
                finished.append((tag, failure_outcome(arch, _portable(exc))))
        return finished

    def stop(self):
        """Nothing to do: the search submits no more."""

    def close(self, abandon=False):
        if self.running:
            self.client.cancel(list(self.running))
        self.running.clear()
        if self._oracle_future is not None:
            self._oracle_future.release()
            self._oracle_future = None


class _JoblibBatches:
    """Any other joblib backend: what is submitted runs as one ``joblib.Parallel`` call
    when the search waits, yielding evaluations as they finish."""

    asynchronous = False

    def __init__(self, oracle, n_jobs, capacity):
        self.oracle = oracle
        self.n_jobs = n_jobs
        self.capacity = capacity
        self.queue = []
        self.results = None
        self.n_left = 0
        self._stopped = threading.Event()

    @property
    def n_running(self):
        return len(self.queue) + self.n_left

    def submit(self, tag, arch):
        self.queue.append((tag, arch))

    def _calls(self, tagged):
        for tag, arch in tagged:
            if self._stopped.is_set():
                return
            yield delayed(_evaluate)(self.oracle, arch, tag)

    def wait(self):
        if self.results is None:
            tagged, self.queue = self.queue, []
            self.n_left = len(tagged)
            parallel = Parallel(
                n_jobs=self.n_jobs,
                return_as="generator_unordered",
                pre_dispatch="n_jobs",
                batch_size=1,
            )
            self.results = iter(parallel(self._calls(tagged)))
        try:
            item = next(self.results)
        except StopIteration:
            self.results, self.n_left = None, 0
            return []
        self.n_left -= 1
        if self.n_left == 0:
            self.results = None
        return [item]

    def stop(self):
        self._stopped.set()
        self.queue.clear()

    def close(self, abandon=False):
        close = getattr(self.results, "close", None)
        if close is not None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", ".* tasks have been successfully executed")
                close()
        self.results = None


def make_engine(oracle, n_jobs):
    """The engine that runs ``oracle`` for a search with ``n_jobs`` (joblib's meaning)."""
    backend, config_n_jobs = get_active_backend()
    name = type(backend).__name__
    if name == "DaskDistributedBackend":
        client = backend.client
        capacity = (
            sum(client.nthreads().values())
            if n_jobs is None or n_jobs < 0
            else int(n_jobs)
        )
        return _Dask(oracle, client, max(capacity, 1))
    capacity = effective_n_jobs(n_jobs)
    if capacity <= 1 or name == "SequentialBackend":
        return _Sequential(oracle)
    if name == "ThreadingBackend":
        return _Futures(oracle, capacity, processes=False)
    if name in ("LokyBackend", "MultiprocessingBackend"):
        return _Futures(oracle, capacity, processes=True)
    return _JoblibBatches(oracle, n_jobs, capacity)
