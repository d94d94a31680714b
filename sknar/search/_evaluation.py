"""Oracle calls: one evaluation as data, and a batch of them through joblib."""

import math
import numbers
import pickle
import threading
import time
import traceback
import warnings
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from joblib import Parallel, delayed

from ..utils import check_oracle_value

__all__ = ["BatchEvaluation", "Outcome", "failure_outcome", "outcome_of_value"]


@dataclass
class Outcome:
    """The result of one evaluation: a value, or the error that replaced it."""

    arch: Any
    value: Optional[float]
    error: Optional[str] = None
    exception: Optional[BaseException] = None
    report_value: Optional[float] = None
    wall_s: Optional[float] = None

    @property
    def ok(self):
        return self.error is None


def _evaluate(oracle, arch, tag):
    """``(tag, outcome of oracle(arch))``, computed where joblib runs it.

    A failure comes back as data; only ``Exception`` is caught: KeyboardInterrupt and
    SystemExit stop the search.
    """
    started = time.perf_counter()
    try:
        value = check_oracle_value(oracle(arch), arch)
        report = getattr(oracle, "report", None)
        report_value = None if report is None else report(arch)
        report_value = None if report_value is None else float(report_value)
    except Exception as exc:  # noqa: BLE001 - any failure of user code is recorded
        return tag, failure_outcome(arch, _portable(exc), time.perf_counter() - started)
    wall_s = time.perf_counter() - started
    return tag, Outcome(arch, value, report_value=report_value, wall_s=wall_s)


def failure_outcome(arch, exception, wall_s=None):
    """An outcome recording ``exception`` as the failure of ``arch``."""
    message = "".join(traceback.format_exception_only(type(exception), exception)).strip()
    return Outcome(arch, None, error=message, exception=exception, wall_s=wall_s)


def outcome_of_value(arch, value, report_value=None, wall_s=None):
    """The outcome a user tells: a finite number, or a failure (None, NaN, an exception).

    Raises
    ------
    ValueError
        If ``value`` is neither a real number, None nor an exception: telling a string or
        an array is a mistake, not a failed evaluation.
    """
    if isinstance(value, BaseException):
        return failure_outcome(arch, value, wall_s)
    if value is None:
        return Outcome(arch, None, error="no value (None) was told", wall_s=wall_s)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"the value told for architecture {arch!r} is {value!r}; tell a real number, "
            "or None, NaN or the exception for a failed evaluation."
        )
    if not math.isfinite(value):
        return Outcome(arch, None, error=f"the value told is {float(value)}", wall_s=wall_s)
    report_value = None if report_value is None else float(report_value)
    return Outcome(arch, float(value), report_value=report_value, wall_s=wall_s)


def _portable(exc):
    """``exc`` if it survives pickling (to come back from a worker), else a RuntimeError."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any pickling failure
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


class BatchEvaluation:
    """The evaluations of one batch, yielded as ``(tag, outcome)`` as each one finishes.

    With ``n_jobs`` None or 1 and no ``joblib.parallel_config`` asking for more, the calls
    run one after the other in this process; otherwise ``joblib.Parallel`` runs them on the
    active backend (loky processes by default, a dask or ray cluster under
    ``parallel_config``), and they finish in any order. :meth:`stop` starts no further
    evaluation: the ones running still finish and are yielded.
    """

    def __init__(self, oracle, tagged_archs, n_jobs):
        self._stopped = threading.Event()
        self._calls = self._delayed(oracle, tagged_archs)
        # One call per dispatch, and no more dispatched than there are workers: after
        # stop(), nothing queued is left to start.
        self._parallel = Parallel(
            n_jobs=n_jobs, return_as="generator_unordered", pre_dispatch="n_jobs", batch_size=1
        )
        self._results = self._parallel(self._calls) if tagged_archs else iter(())

    def _delayed(self, oracle, tagged_archs):
        for tag, arch in tagged_archs:
            if self._stopped.is_set():
                return
            yield delayed(_evaluate)(oracle, arch, tag)

    def __iter__(self):
        return iter(self._results)

    def stop(self):
        """Start no further evaluation."""
        self._stopped.set()

    def close(self):
        """Abandon the evaluations not yet finished (on KeyboardInterrupt)."""
        close = getattr(self._results, "close", None)
        if close is not None:
            with warnings.catch_warnings():
                # Abandoning running evaluations is meant; joblib's advice is not needed.
                warnings.filterwarnings("ignore", ".* tasks have been successfully executed")
                close()
