"""The base class of the searchers: ask/tell, and ``run`` as a loop over them."""

import dataclasses
import numbers
import os
import time
import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)

from ._evaluation import BatchEvaluation, Outcome, outcome_of_value
from ._journal import Journal, hash_text, make_header
from ._result import EvaluationError, SearchResult
from ._uniform import draw_seed, space_left

__all__ = ["BaseSearch"]

_RUN_CONSTRAINTS = {
    "oracle": [callable],
    "budget": [Interval(numbers.Integral, 1, None, closed="left")],
    "n_jobs": [numbers.Integral, None],
    "journal": [str, os.PathLike, None],
    "on_error": [StrOptions({"raise", "skip"})],
}


class _SearchState:
    """The evaluations of one search: told outcomes, pending architectures, timings."""

    def __init__(self, rng, budget):
        self.rng = rng
        self.budget = budget
        self.outcomes = []
        self.told = set()
        self.pending = {}
        self.taken = set()
        self.taken_archs = []
        self.success_archs = []
        self.success_values = []
        self.started = time.perf_counter()
        self.ask_time = 0.0
        self.stop_reason = None
        self.best = None
        self.n_failed_shown = 0

    @property
    def n_told(self):
        return len(self.outcomes)

    def take(self, key, arch):
        self.taken.add(key)
        self.taken_archs.append(arch)


class BaseSearch(BaseEstimator, metaclass=ABCMeta):
    """Base class of the searchers: ask/tell, and ``run`` as a loop over ask and tell.

    A search is a sequence of batches. :meth:`ask` returns the next architectures to
    evaluate, :meth:`tell` records their values (any order, partial batches, failures), and
    :meth:`run` loops over both with an oracle, a budget, parallel evaluation, a journal
    and a failure policy. A searcher keeps the state of its current search: :meth:`ask` and
    :meth:`tell` continue it, :meth:`run` starts a new one. No architecture is asked twice.

    A subclass defines ``_propose(n_max)``, the next batch (at most ``n_max`` architectures
    when ``n_max`` is not None; an empty list when it waits for results, or when it has
    nothing left, after ``return self._exhausted()``), and may define ``_start()`` (set up
    its own state when a search starts), ``_observe(outcomes)`` (learn from the outcomes
    told, in the order told) and ``_check_params(budget)`` (checks that involve several
    parameters, or the budget: None under ask/tell). ``self._state`` holds the current
    search: ``rng`` (its RandomState: draw everything random from it), ``taken`` (the
    hashes of every architecture asked or told: never propose one of them),
    ``taken_archs``, ``pending`` (asked, not yet told), ``success_archs`` and
    ``success_values`` (what the searcher may learn from) and ``n_told``.

    Parameters
    ----------
    space : SearchSpace
        The space searched (any object implementing the :mod:`sknar.spaces` protocol).
    random_state : int, RandomState instance or None, default=None
        Seeds the search; an int gives the same queries on every run.
    verbose : int, default=0
        Show a progress bar over the oracle calls of :meth:`run` when positive.

    Attributes
    ----------
    result_ : SearchResult
        The evaluations of the current search: set by :meth:`run` (also when it stops on an
        error or an interruption) and by :meth:`tell`.

    Examples
    --------
    >>> from sknar.search import BaseSearch
    >>> from sknar.spaces import NASBench201Space
    >>> class FirstDraws(BaseSearch):
    ...     '''Evaluate uniform draws, two at a time.'''
    ...     def _propose(self, n_max):
    ...         state, n = self._state, 2 if n_max is None else min(2, n_max)
    ...         draws = self.space.sample(n + len(state.taken), random_state=state.rng)
    ...         return [a for a in draws if self.space.hash(a) not in state.taken][:n]
    >>> search = FirstDraws(NASBench201Space())
    >>> search.run(lambda arch: float(arch.count("skip")), budget=5).n_queries
    5
    """

    _parameter_constraints = {
        "space": [HasMethods(["validate", "hash", "sample"])],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _method = None

    def __init__(self, space, *, random_state=None, verbose=0):
        self.space = space
        self.random_state = random_state
        self.verbose = verbose

    # --- what a subclass writes -----------------------------------------------------------

    def _start(self):
        """Set up the subclass's own state when a search starts."""

    @abstractmethod
    def _propose(self, n_max):
        """The next architectures to evaluate (at most ``n_max`` when not None)."""

    def _observe(self, outcomes):
        """Learn from told outcomes (in the order told)."""

    def _check_params(self, budget):
        """Checks that involve several parameters, or the budget (None under ask/tell)."""

    # --- ask / tell -----------------------------------------------------------------------

    def ask(self):
        """Return the next batch of architectures to evaluate.

        The first call starts a search (parameters are checked then); later calls continue
        it, also after :meth:`run`. An architecture asked is never asked again, whether or
        not it is told.

        Returns
        -------
        archs : list
            Canonical architectures, in the order the searcher prefers them (a tier search's
            best-ranked first). Empty when the searcher waits for the results of earlier
            batches, or has nothing left to propose (the space is exhausted, or a tier
            search's ``n_rounds`` are done).
        """
        self._started()
        return self._ask(None)

    def tell(self, archs, values, *, report_values=None):
        """Record the values of evaluated architectures.

        Parameters
        ----------
        archs : sequence of architectures
            Evaluated architectures, asked or not (telling architectures evaluated
            elsewhere warm-starts the search), in any order; a part of a batch is fine.
        values : sequence
            The value of each architecture, higher is better. None, NaN, an infinite value
            or an exception instance records a failed evaluation: it stays in the result
            and is never proposed again, but no searcher learns from it.
        report_values : sequence of float or None, default=None
            A second metric per architecture, recorded only (e.g. test accuracy).

        Returns
        -------
        self : BaseSearch
            The searcher, whose ``result_`` now holds every evaluation told.
        """
        state = self._started()
        archs = list(archs)
        values = list(values)
        reports = [None] * len(archs) if report_values is None else list(report_values)
        if not len(archs) == len(values) == len(reports):
            raise ValueError(
                f"tell needs one value (and report value) per architecture; got "
                f"{len(archs)} architectures, {len(values)} values and {len(reports)} "
                "report values."
            )
        canonical = [self.space.validate(arch) for arch in archs]
        outcomes = [
            outcome_of_value(arch, value, report)
            for arch, value, report in zip(canonical, values, reports)
        ]
        self._record(outcomes)
        self.result_ = self._result(state.stop_reason)
        return self

    def _started(self):
        """The current search's state, starting a search (ask/tell: no budget) if none."""
        if getattr(self, "_state", None) is None:
            self._validate_params()
            self._check_params(None)
            self._begin(check_random_state(self.random_state), None)
        return self._state

    def _begin(self, rng, budget):
        self._state = _SearchState(rng, budget)
        self._start()
        return self._state

    def _ask(self, n_max):
        state = self._state
        started = time.perf_counter()
        archs = list(self._propose(n_max))
        state.ask_time += time.perf_counter() - started
        keys = [self.space.hash(arch) for arch in archs]
        if len(set(keys)) < len(keys) or any(key in state.taken for key in keys):
            raise RuntimeError(
                f"{type(self).__name__} proposed an architecture twice; this is a bug."
            )
        for arch, key in zip(archs, keys):
            state.pending[key] = arch
            state.take(key, arch)
        return archs

    def _record(self, outcomes):
        """Add told outcomes to the search (all or none: each is checked first)."""
        state = self._state
        keys = [self.space.hash(outcome.arch) for outcome in outcomes]
        seen = set()
        for outcome, key in zip(outcomes, keys):
            if key in state.told or key in seen:
                raise ValueError(
                    f"architecture {outcome.arch!r} was already told; each evaluation is "
                    "told once."
                )
            seen.add(key)
        for outcome, key in zip(outcomes, keys):
            if state.pending.pop(key, None) is None and key not in state.taken:
                state.take(key, outcome.arch)
            state.told.add(key)
            # The exception object is not kept: the searcher stays picklable.
            state.outcomes.append(dataclasses.replace(outcome, exception=None))
            if outcome.ok:
                state.success_archs.append(outcome.arch)
                state.success_values.append(outcome.value)
        self._observe(outcomes)

    def _result(self, stop_reason):
        state = self._state
        outcomes = state.outcomes
        successes = [outcome for outcome in outcomes if outcome.ok]
        has_report = bool(successes) and all(o.report_value is not None for o in successes)
        return SearchResult(
            self._method or type(self).__name__,
            [outcome.arch for outcome in outcomes],
            [np.nan if outcome.value is None else outcome.value for outcome in outcomes],
            (
                [np.nan if o.report_value is None else o.report_value for o in outcomes]
                if has_report
                else None
            ),
            time.perf_counter() - state.started,
            state.budget,
            errors=[outcome.error for outcome in outcomes],
            eval_times=[np.nan if o.wall_s is None else o.wall_s for o in outcomes],
            ask_time=state.ask_time,
            stop_reason=stop_reason,
        )

    # --- run ------------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def run(self, oracle, budget, *, n_jobs=None, journal=None, on_error="raise"):
        """Search for ``budget`` oracle calls; return a :class:`SearchResult`.

        A loop over :meth:`ask` and :meth:`tell`: each batch is evaluated with
        ``joblib.Parallel`` and told in the order it was asked, so the queries depend on
        ``random_state`` alone, not on ``n_jobs`` or the backend.

        Parameters
        ----------
        oracle : callable
            ``oracle(arch) -> float``, the value used for selection (higher is better),
            e.g. a :class:`~sknar.oracles.TabularOracle` or a function that trains a
            network. If it has a ``report(arch)`` method, its value is recorded beside each
            query and never used to choose. With parallel evaluation it must be picklable:
            it runs in worker processes, where its own state changes stay.
        budget : int
            Most oracle calls, failed ones included. The search ends earlier when the
            space is exhausted (or after a tier search's ``n_rounds``).
        n_jobs : int or None, default=None
            Evaluations run at once within a batch, by joblib: None means 1 unless inside
            a ``joblib.parallel_config`` context (e.g. ``backend="dask"`` with a
            ``dask.distributed.Client``, or ``backend="ray"``); -1 means all processors.
        journal : str, path-like or None, default=None
            A JSON Lines file that gets one line per finished evaluation, flushed as it
            arrives (see :func:`read_journal`). If it already holds evaluations of this
            search (same searcher, parameters, space and seed, else an error), they are
            replayed instead of evaluated: the search resumes and ends with the queries of
            an uninterrupted run. With ``random_state=None`` a seed is drawn and recorded,
            and a resumed run adopts it.
        on_error : {"raise", "skip"}, default="raise"
            What a failed evaluation (the oracle raises, or returns something that is not
            a finite number) does. ``"raise"``: start no further evaluation, let the ones
            running finish, then stop with an :class:`EvaluationError` chaining the
            oracle's exception; ``result_`` and the error hold the partial result, the
            journal every finished evaluation. ``"skip"``: record the failure
            (charged to the budget, never proposed again, never learnt from) and go on.
            A KeyboardInterrupt always stops at once, ``result_`` set and the journal
            intact, and is raised again. Failures already in a resumed journal are replayed
            as failures.

        Returns
        -------
        result : SearchResult
            Every query with its value, the best-so-far curve and the best architecture.
        """
        validate_parameter_constraints(
            _RUN_CONSTRAINTS,
            {
                "oracle": oracle,
                "budget": budget,
                "n_jobs": n_jobs,
                "journal": journal,
                "on_error": on_error,
            },
            caller_name=f"{type(self).__name__}.run",
        )
        self._check_params(budget)
        record = self._open_journal(journal)
        self._begin(
            check_random_state(self.random_state if record is None else record.seed), budget
        )
        replay = _Replay(record)
        bar = self._progress_bar(budget)
        stop_reason = "error"
        try:
            stop_reason = self._loop(oracle, budget, n_jobs, on_error, record, replay, bar)
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                stop_reason = "interrupted"
            self.result_ = self._result(stop_reason)
            if isinstance(error, EvaluationError):
                error.result = self.result_
            raise
        finally:
            bar.close()
            if record is not None:
                record.close()
        self.result_ = self._result(stop_reason)
        return self.result_

    def _loop(self, oracle, budget, n_jobs, on_error, record, replay, bar):
        state = self._state
        while state.n_told < budget:
            batch = self._ask(budget - state.n_told)
            if not batch:
                return state.stop_reason or "exhausted"
            failure = self._evaluate(batch, oracle, n_jobs, on_error, record, replay, bar)
            if failure is not None:
                raise EvaluationError(
                    f"the oracle failed on architecture {failure.arch!r}: {failure.error}. "
                    f"The {state.n_told} evaluations made, this one included, are kept in "
                    "the searcher's result_ (and the journal, if any); on_error='skip' "
                    "records failures and goes on.",
                    arch=failure.arch,
                ) from failure.exception
        return "budget"

    def _evaluate(self, batch, oracle, n_jobs, on_error, record, replay, bar):
        """Evaluate (or replay) one batch, tell it in batch order; return the failure to
        raise, if any."""
        state = self._state
        keys = [hash_text(self.space.hash(arch)) for arch in batch]
        position = {key: index for index, key in enumerate(keys)}
        outcomes = {}
        for key, arch in zip(keys, batch):
            outcome = replay.outcome(key, arch)
            if outcome is not None:
                outcomes[key] = outcome
                self._show(bar, outcome)
        todo = [(key, arch) for key, arch in zip(keys, batch) if key not in outcomes]
        if todo:
            replay.check_consumed(todo[0][1])
        failure = None
        evaluation = BatchEvaluation(oracle, todo, n_jobs)
        try:
            for key, outcome in evaluation:
                # The worker's copy of the architecture is replaced by the one asked.
                outcome.arch = batch[position[key]]
                outcomes[key] = outcome
                if record is not None:
                    record.write(state.n_told + position[key], key, outcome)
                self._show(bar, outcome)
                if not outcome.ok and on_error == "raise" and failure is None:
                    # Evaluations already running finish and are kept; no other starts.
                    failure = outcome
                    evaluation.stop()
        finally:
            evaluation.close()
            self._record([outcomes[key] for key in keys if key in outcomes])
        return failure

    # --- journal and progress ---------------------------------------------------------------

    def _open_journal(self, path):
        if path is None:
            return None
        params = self.get_params(deep=False)
        for name in ("space", "random_state", "verbose"):
            params.pop(name, None)
        seed = self.random_state
        if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
            seed = int(seed)
        else:
            seed = None
        header = make_header(type(self).__name__, params, self.space, seed)
        return Journal(path, header, fresh_seed=self._fresh_seed)

    def _fresh_seed(self):
        if self.random_state is None:
            return int(np.random.SeedSequence().generate_state(1)[0] % np.iinfo(np.int32).max)
        return draw_seed(check_random_state(self.random_state))

    def _progress_bar(self, budget):
        from tqdm.auto import tqdm

        return tqdm(
            total=budget,
            desc=self._method or type(self).__name__,
            unit="eval",
            disable=not self.verbose,
            leave=True,
        )

    def _show(self, bar, outcome):
        state = self._state
        if outcome.ok and (state.best is None or outcome.value > state.best):
            state.best = outcome.value
        state.n_failed_shown += not outcome.ok
        bar.update(1)
        if self.verbose:
            bar.set_postfix(best=state.best, failed=state.n_failed_shown, refresh=False)

    def _exhausted(self, reason="exhausted", message=None):
        """Mark the search finished (nothing left to propose); return an empty batch."""
        self._state.stop_reason = reason
        if message:
            warnings.warn(message, RuntimeWarning, stacklevel=3)
        return []

    def _space_left(self):
        return space_left(self.space, len(self._state.taken))


class _Replay:
    """The evaluations of a resumed journal, handed out as the search asks for them."""

    def __init__(self, journal):
        self.journal = journal
        self.recorded = {} if journal is None else journal.recorded
        self.consumed = set()

    def outcome(self, key, arch):
        entry = self.recorded.get(key)
        if entry is None:
            return None
        self.consumed.add(key)
        failed = entry["status"] == "failed"
        return Outcome(
            arch,
            None if failed else float(entry["value"]),
            error=(entry.get("error") or "failed") if failed else None,
            report_value=entry.get("report_value"),
            wall_s=entry.get("wall_s"),
        )

    def check_consumed(self, arch):
        """Before a new evaluation: every recorded one must have been asked again."""
        left = [key for key in self.recorded if key not in self.consumed]
        if left:
            raise ValueError(
                f"resuming from {self.journal.path}: the search asked for {arch!r}, which the "
                f"journal does not hold, while {len(left)} recorded evaluation(s) were not "
                f"asked again (e.g. {self.recorded[left[0]].get('arch')!r}). The search did "
                "not repeat itself: its ranker or space draws differently from run to run "
                "(an unseeded random_state inside the ranker, a GPU, other library versions)."
            )
