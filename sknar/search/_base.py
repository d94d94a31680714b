"""The base class of the searchers: ask/tell over a history, a journal that is the
search's record, and ``run`` as a loop over ask and tell."""

import dataclasses
import numbers
import os
import sys
import time
import warnings
from abc import ABCMeta, abstractmethod
from collections import deque

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)

from ._evaluation import Outcome, make_engine, outcome_of_value
from ._history import SearchHistory, SearchWarning, _State
from ._journal import Journal, describe_oracle, hash_text, make_header
from ._objectives import Goals
from ._result import EvaluationError, SearchResult
from ._uniform import distinct_uniform, draw_seed

__all__ = ["BaseSearch"]

# Proposals in a row that may all break the cost constraints before a search gives up.
_MAX_INFEASIBLE_ASKS = 50

_RUN_CONSTRAINTS = {
    "oracle": [callable],
    "budget": [Interval(numbers.Integral, 1, None, closed="left")],
    "n_jobs": [numbers.Integral, None],
    "journal": [str, os.PathLike, None],
    "on_error": [StrOptions({"raise", "skip"})],
    "schedule": [StrOptions({"asynchronous", "batch"})],
}


class BaseSearch(BaseEstimator, metaclass=ABCMeta):
    """Base class of the searchers: ask/tell over a history, a journal, and ``run``.

    :meth:`ask` returns the next architectures to evaluate and :meth:`tell` records their
    values (any order, partial batches, failures); :meth:`run` loops over both with an
    oracle, a budget, parallel evaluation, a journal and a failure policy. A searcher keeps
    the state of its current search: :meth:`ask` and :meth:`tell` continue it, :meth:`run`
    and :meth:`open_journal` start a new one. No architecture is asked twice.

    **The journal is the search's record.** :meth:`open_journal` gives the search a JSON
    Lines file: every evaluation told (by :meth:`tell` or by :meth:`run`) is appended and
    flushed as it arrives, and a journal that already holds evaluations is told back (the
    searcher learns from all of them at once: a tier search fits its ranker once) before
    the search goes on. No recorded evaluation is ever made again. ``run(...,
    journal=path)`` does the same for one run.

    **Writing a searcher.** A subclass writes its own logic only, against the read-only
    :class:`SearchHistory` it is given; the base class clips every request to the budget
    and to what the space has left, runs the start-up phase and replaces its failures:

    - ``_propose(history, n)`` (required): at most ``n`` new architectures (``n >= 1``,
      already clipped to the budget and to the space), none of them in ``history.taken``;
      an empty list when it waits for pending results, or ``return self._exhausted()``
      when it has nothing left;
    - ``_n_startup()``: successful uniform evaluations wanted before ``_propose`` is
      called (default 0); failed ones are replaced by new uniform draws;
    - ``_start(history)``: set up the searcher's own state when a search starts;
    - ``_observe(history, outcomes)``: learn from newly told evaluations (each with
      ``arch``, ``value``, ``ok``, ``metrics``, ``fidelity``, ``error``), in the order told;
    - ``_check_params(budget)``: checks that involve several parameters, or the budget
      (None under ask/tell).

    Draw everything random from ``history.rng``: a search that runs to its end in one
    sequential process then gives the same queries for the same seed.

    Parameters
    ----------
    space : SearchSpace
        The space searched (any object implementing the :mod:`sknar.spaces` protocol).
    objectives : dict or None, default=None
        ``{name: "max" | "min"}``: the metrics searched for together (see the
        multi-objective user guide); ``"flops"`` and ``"params"`` (or ``"params@<dataset>"``)
        are the space's exact costs and cost no oracle call, any other name is read from
        the mapping the oracle returns. None: one value, maximised (the oracle returns a
        number). With several objectives the result's :meth:`SearchResult.pareto_front`
        is the trade-off found.
    constraints : dict or None, default=None
        ``{name: (op, bound)}`` with ``op`` ``"<="`` or ``">="``, e.g.
        ``{"flops": ("<=", 1e8)}``. A constraint on an exact cost is kept before any query:
        no architecture breaking it is ever evaluated. A constraint on a measured metric
        (e.g. latency) is checked on each evaluation: an infeasible one is recorded and
        learnt from (below every feasible one), never returned as the best nor on the front.
    random_state : int, RandomState instance or None, default=None
        Seeds the search; an int gives the same queries on every sequential run.
    verbose : int, default=0
        Show a progress bar over the oracle calls of :meth:`run`, and say what a resumed
        journal held, on stderr, when positive.

    Attributes
    ----------
    result_ : SearchResult
        The evaluations of the current search: set by :meth:`run` (also when it stops on an
        error or an interruption), :meth:`tell` and :meth:`open_journal`.
    history_ : SearchHistory
        A read-only view of the current search.

    Examples
    --------
    >>> from sknar.search import BaseSearch
    >>> from sknar.spaces import NASBench201Space
    >>> class FirstDraws(BaseSearch):
    ...     '''Evaluate uniform draws, two at a time.'''
    ...     def _propose(self, history, n):
    ...         n = min(2, n)
    ...         draws = self.space.sample(n + len(history.taken), random_state=history.rng)
    ...         return [a for a in draws if self.space.hash(a) not in history.taken][:n]
    >>> search = FirstDraws(NASBench201Space())
    >>> search.run(lambda arch: float(arch.count("skip")), budget=5).n_queries
    5
    """

    _parameter_constraints = {
        "space": [HasMethods(["validate", "hash", "sample"])],
        "objectives": [dict, None],
        "constraints": [dict, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _method = None

    def __init__(self, space, *, objectives=None, constraints=None, random_state=None, verbose=0):
        self.space = space
        self.objectives = objectives
        self.constraints = constraints
        self.random_state = random_state
        self.verbose = verbose

    # --- what a subclass writes -----------------------------------------------------------

    def _start(self, history):
        """Set up the subclass's own state when a search starts."""

    def _n_startup(self):
        """Successful uniform evaluations wanted before ``_propose`` is called."""
        return 0

    @abstractmethod
    def _propose(self, history, n):
        """At most ``n`` new architectures to evaluate."""

    def _observe(self, history, outcomes):
        """Learn from told outcomes (in the order told)."""

    def _check_params(self, budget):
        """Checks that involve several parameters, or the budget (None under ask/tell)."""

    def _exhausted(self, reason="exhausted", message=None):
        """Mark the search finished (nothing left to propose); return an empty batch."""
        self._state.stop_reason = reason
        if message:
            warnings.warn(message, SearchWarning, stacklevel=3)
        return []

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

    def tell(self, archs, values, *, report_values=None, metrics=None, fidelities=None):
        """Record the values of evaluated architectures (and append them to the journal).

        Parameters
        ----------
        archs : sequence of architectures
            Evaluated architectures, asked or not (telling architectures evaluated
            elsewhere warm-starts the search), in any order; a part of a batch is fine.
        values : sequence
            The value of each architecture, higher is better, or a mapping ``{name:
            number}`` of its metrics (a search with ``objectives`` reads them from it; the
            exact costs are added by the search). None, NaN, an infinite value
            or an exception instance records a failed evaluation: it stays in the result
            and is never proposed again, but no searcher learns from it.
        report_values : sequence of float or None, default=None
            A second metric per architecture, recorded only (e.g. test accuracy); it is the
            metric named ``"report"``.
        metrics : sequence of dict or None, default=None
            Other named metrics per architecture (``{name: number}``), recorded only.
        fidelities : sequence or None, default=None
            The fidelity of each evaluation (e.g. the epochs trained), recorded only.

        Returns
        -------
        self : BaseSearch
            The searcher, whose ``result_`` now holds every evaluation told.
        """
        state = self._started()
        archs = list(archs)
        values = list(values)
        n = len(archs)
        columns = {
            "values": values,
            "report values": [None] * n if report_values is None else list(report_values),
            "metrics": [None] * n if metrics is None else list(metrics),
            "fidelities": [None] * n if fidelities is None else list(fidelities),
        }
        if any(len(column) != n for column in columns.values()):
            sizes = ", ".join(f"{len(column)} {name}" for name, column in columns.items())
            raise ValueError(
                f"tell needs one entry per architecture; got {n} architectures and {sizes}."
            )
        canonical = [self.space.validate(arch) for arch in archs]
        outcomes = [
            outcome_of_value(arch, value, report, metrics=metric, fidelity=fidelity)
            for arch, value, report, metric, fidelity in zip(
                canonical, *columns.values()
            )
        ]
        outcomes = [state.goals.complete(outcome) for outcome in outcomes]
        self._record(outcomes, write=True)
        self.result_ = self._result(state.stop_reason)
        return self

    @property
    def history_(self):
        self._check_started()
        return SearchHistory(self._state, self.space)

    def _check_started(self):
        if getattr(self, "_state", None) is None:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"this {type(self).__name__} has no search yet: ask, tell, run or "
                "open_journal starts one."
            )

    def _started(self):
        """The current search's state, starting a search (ask/tell: no budget) if none."""
        if getattr(self, "_state", None) is None:
            self._validate_params()
            self._check_params(None)
            self._begin(check_random_state(self.random_state), None)
        return self._state

    def _begin(self, rng, budget):
        goals = Goals(
            getattr(self, "objectives", None), getattr(self, "constraints", None), self.space
        )
        self._state = _State(rng, budget)
        self._state.goals = goals
        self._start(SearchHistory(self._state, self.space))
        return self._state

    def _ask(self, n_max):
        state = self._state
        history = SearchHistory(state, self.space)
        limits = [limit for limit in (n_max, history.n_left) if limit is not None]
        n = min(limits) if limits else sys.maxsize
        if n <= 0:
            return self._exhausted() if history.n_left == 0 else []
        started = time.perf_counter()
        try:
            self._dropped = False
            archs = self._feasible(history, list(self._startup(history, n))[:n])
            for _ in range(_MAX_INFEASIBLE_ASKS):
                if archs or state.stop_reason is not None or not self._dropped:
                    break
                # Every proposal broke a cost constraint: they are excluded now, ask again.
                self._dropped = False
                archs = self._feasible(history, list(self._startup(history, n))[:n])
            else:
                if not archs:
                    return self._exhausted(
                        message=f"{_MAX_INFEASIBLE_ASKS} proposals in a row broke the cost "
                        "constraints; the search ends."
                    )
        finally:
            state.ask_time += time.perf_counter() - started
        archs = archs[:n]
        keys = [self.space.hash(arch) for arch in archs]
        if len(set(keys)) < len(keys) or any(key in state.taken for key in keys):
            raise RuntimeError(
                f"{type(self).__name__} proposed an architecture twice; this is a bug."
            )
        for arch, key in zip(archs, keys):
            state.pending[key] = arch
            state.take(key, arch)
        return archs

    def _startup(self, history, n):
        """The start-up phase (uniform draws until ``_n_startup()`` succeed, failures
        replaced), then the subclass's proposals."""
        short = self._n_startup() - history.n_ok
        if short <= 0:
            return self._propose(history, n)
        short -= history.n_pending
        if short <= 0:
            return []  # wait for the start-up results already asked for
        draws = self._uniform(history, min(short, n))
        if not draws:
            return self._exhausted(
                message=f"the space {getattr(self.space, 'name', '')} supplied no new "
                "architecture for the start-up phase. The search ends."
            )
        return draws

    def _feasible(self, history, archs):
        """``archs`` that keep the cost constraints; the others are excluded from the
        search (never proposed nor evaluated)."""
        feasible, infeasible = self._state.goals.feasible_archs(archs)
        self._dropped = getattr(self, "_dropped", False) or bool(infeasible)
        for arch in infeasible:
            self._state.exclude(self.space.hash(arch), arch)
        return feasible

    def _uniform(self, history, n):
        """At most ``n`` new uniform architectures that keep the cost constraints."""
        if not self._state.goals.cost_constraints:
            return distinct_uniform(self.space, n, history.taken, history.rng, allow_fewer=True)
        found = []
        for _ in range(_MAX_INFEASIBLE_ASKS):
            draws = distinct_uniform(
                self.space, n - len(found), history.taken, history.rng, allow_fewer=True
            )
            if not draws:
                break
            found.extend(self._feasible(history, draws))
            # The feasible draws are not taken yet: exclude them from the next draw too.
            for arch in found:
                self._state.exclude(self.space.hash(arch), arch, provisional=True)
            if len(found) >= n:
                break
        self._state.release_provisional()
        return found[:n]

    def _record(self, outcomes, write):
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
        journal = getattr(self, "_journal", None)
        for outcome, key in zip(outcomes, keys):
            state.pending.pop(key, None)
            state.take(key, outcome.arch)
            state.told.add(key)
            # The exception object is not kept: the searcher stays picklable.
            state.outcomes.append(dataclasses.replace(outcome, exception=None))
            state.told_queries.append(state.query[key])
            if outcome.ok:
                state.success_archs.append(outcome.arch)
                state.success_values.append(outcome.value)
            if write and journal is not None:
                journal.write(state.query[key], hash_text(key), outcome)
        self._observe(SearchHistory(state, self.space), outcomes)

    def _result(self, stop_reason):
        state = self._state
        # In query order: the order asked, whatever the order the evaluations finished in.
        order = np.argsort(state.told_queries, kind="stable")
        outcomes = [state.outcomes[index] for index in order]
        successes = [outcome for outcome in outcomes if outcome.ok]
        goals = state.goals
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
            metrics=[dict(outcome.metrics) for outcome in outcomes],
            objectives=None if goals.trivial else dict(goals.objectives),
            feasible=None if not goals.constraints else goals.feasible(outcomes),
        )

    # --- the journal --------------------------------------------------------------------------

    def open_journal(self, path, *, oracle=None):
        """Start a search recorded in the journal ``path``; resume what it holds.

        The file is created (with a header naming the searcher, its parameters, the space,
        the seed and the oracle) when absent or empty. When it holds evaluations of this
        search (same searcher, parameters, space, seed and, when both are known, oracle;
        else an error naming the differing setting), they are told back: the searcher
        learns from all of them at once and the search goes on from there. With
        ``random_state=None`` a seed is drawn and recorded, and a resumed search adopts it.
        From then on every evaluation told is appended and flushed as it arrives, until
        :meth:`close_journal` or the next search.

        One process writes a journal at a time: a journal in use by another search (in this
        process or another, on this machine or another sharing the file system: a POSIX
        lock on ``<path>.lock``) is refused.

        Parameters
        ----------
        path : str or path-like
            The journal file (JSON Lines, see :func:`read_journal`).
        oracle : callable or None, default=None
            The oracle the evaluations come from, described in the header (its class, and
            its parameters where it has ``get_params`` or ``describe``); a journal written
            with another one is refused. None: not recorded, not checked.

        Returns
        -------
        self : BaseSearch
            The searcher, whose ``result_`` holds the evaluations resumed.
        """
        validate_parameter_constraints(
            {"path": [str, os.PathLike]}, {"path": path}, f"{type(self).__name__}.open_journal"
        )
        self._validate_params()
        self._check_params(None)
        self._open_journal(path, oracle, None)
        self.result_ = self._result(None)
        return self

    def close_journal(self):
        """Close the journal of the current search (and release its lock)."""
        journal = getattr(self, "_journal", None)
        if journal is not None:
            journal.close()
        self._journal = None
        return self

    def _open_journal(self, path, oracle, budget):
        self.close_journal()
        params = self.get_params(deep=False)
        for name in ("space", "random_state", "verbose"):
            params.pop(name, None)
        seed = self.random_state
        if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
            seed = int(seed)
        else:
            seed = None
        header = make_header(type(self).__name__, params, self.space, seed, oracle)
        journal = Journal(path, header, fresh_seed=self._fresh_seed)
        try:
            if journal.header.get("oracle") is None and oracle is not None:
                journal.header["oracle"] = describe_oracle(oracle)
            self._begin(check_random_state(journal.seed), budget)
            outcomes = self._recorded_outcomes(journal)
            self._record(outcomes, write=False)
            self._state.n_resumed = len(outcomes)
        except BaseException:
            journal.close()
            raise
        self._journal = journal
        if self.verbose and outcomes:
            n_failed = sum(not outcome.ok for outcome in outcomes)
            to_go = "" if budget is None else f"; {max(budget - len(outcomes), 0)} to go"
            print(
                f"resumed {len(outcomes)} evaluations from {path} ({len(outcomes) - n_failed}"
                f" ok, {n_failed} failed){to_go}",
                file=sys.stderr,
                flush=True,
            )

    def _recorded_outcomes(self, journal):
        """The journal's evaluations as outcomes, in query order."""
        numbered = list(enumerate(journal.evaluations, start=2))
        numbered.sort(key=lambda item: _query_order(item[1]))
        outcomes = []
        for number, entry in numbered:
            try:
                arch = self.space.validate(entry.get("arch"))
                key = self.space.hash(arch)
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"{journal.path}, line {number}: its architecture "
                    f"{entry.get('arch')!r} is not one of this space ({exc})."
                ) from None
            if hash_text(key) != entry["hash"]:
                raise ValueError(
                    f"{journal.path}, line {number}: the architecture's hash is "
                    f"{hash_text(key)!r} in this space, the journal says {entry['hash']!r}."
                )
            failed = entry["status"] == "failed"
            outcomes.append(
                Outcome(
                    arch,
                    None if failed else float(entry["value"]),
                    error=(entry.get("error") or "failed") if failed else None,
                    metrics=dict(entry["metrics"]),
                    fidelity=entry.get("fidelity"),
                    wall_s=entry.get("wall_s"),
                )
            )
        return outcomes

    def _fresh_seed(self):
        if self.random_state is None:
            return int(np.random.SeedSequence().generate_state(1)[0] % np.iinfo(np.int32).max)
        return draw_seed(check_random_state(self.random_state))

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_journal", None)  # an open file: a copy of the searcher has no journal
        return state

    # --- run ------------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def run(
        self,
        oracle,
        budget,
        *,
        n_jobs=None,
        journal=None,
        on_error="raise",
        schedule="asynchronous",
    ):
        """Search for ``budget`` oracle calls; return a :class:`SearchResult`.

        A loop over :meth:`ask` and :meth:`tell`. Evaluations run on joblib's active
        backend: in this process (``n_jobs`` 1), in loky worker processes (the oracle is
        sent once to each), in threads, or on a dask cluster under
        ``joblib.parallel_config(backend="dask")`` (the oracle is scattered once to each
        worker).

        Parameters
        ----------
        oracle : callable
            ``oracle(arch) -> float``, the value used for selection (higher is better),
            e.g. a :class:`~sknar.oracles.TabularOracle` or a function that trains a
            network. If it has a ``report(arch)`` method, its value is recorded beside each
            query (the metric ``"report"``) and never used to choose. With parallel
            evaluation it must be picklable: it runs in worker processes, where its own
            state changes stay.
        budget : int
            Most oracle calls, failed ones included (and the evaluations resumed from the
            journal). The search ends earlier when the space is exhausted (or after a tier
            search's ``n_rounds``).
        n_jobs : int or None, default=None
            Evaluations running at once: None means 1 unless inside a
            ``joblib.parallel_config`` context (e.g. ``backend="dask"`` with a
            ``dask.distributed.Client``, where None means every worker thread of the
            cluster); -1 means all processors.
        journal : str, path-like or None, default=None
            The search's journal for this run (see :meth:`open_journal`): every finished
            evaluation is appended as it arrives, and what the file already holds of this
            search is resumed, never evaluated again. Closed when the run ends. None: the
            journal given by :meth:`open_journal`, if any (resumed again, kept open).
        on_error : {"raise", "skip"}, default="raise"
            What a failed evaluation (the oracle raises, returns something that is not a
            finite number, or its worker process dies) does. ``"raise"``: start no further
            evaluation, let the ones running finish, then stop with an
            :class:`EvaluationError` chaining the oracle's exception; ``result_`` and the
            error hold the partial result, the journal every finished evaluation.
            ``"skip"``: record the failure (charged to the budget, never proposed again,
            never learnt from) and go on. A worker process that dies (out of memory, a
            segfault, ``os._exit``) breaks its pool: every evaluation that pool was running
            is recorded as failed, each naming its architecture, and a new pool takes the
            next ones. A KeyboardInterrupt always stops at once, ``result_`` set and the
            journal intact, and is raised again. Failures already in a resumed journal stay
            failures.
        schedule : {"asynchronous", "batch"}, default="asynchronous"
            With several evaluations at once: ``"asynchronous"`` starts the next evaluation
            as soon as one finishes (the searcher proposes while the others run), so no
            worker waits for the slowest; ``"batch"`` evaluates each batch asked, tells it
            in the order asked, then asks the next, so the queries depend on
            ``random_state`` alone, not on ``n_jobs``, the backend or the timings. One
            evaluation at a time, both are the same.

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
                "schedule": schedule,
            },
            caller_name=f"{type(self).__name__}.run",
        )
        if isinstance(budget, (bool, np.bool_)):
            raise ValueError(
                f"The 'budget' parameter of {type(self).__name__}.run must be an int in the "
                f"range [1, inf); got {budget!r}, a bool."
            )
        self._check_params(budget)
        opened = getattr(self, "_journal", None)
        path = journal if journal is not None else (None if opened is None else opened.path)
        if path is not None:
            self._open_journal(path, oracle, budget)
        else:
            self._begin(check_random_state(self.random_state), budget)
        keep_open = journal is None
        state = self._state
        bar = self._progress_bar(budget, state.n_told)
        engine = None
        stop_reason = "error"
        try:
            engine = make_engine(oracle, n_jobs)
            if schedule == "asynchronous" and engine.asynchronous:
                stop_reason = self._loop_asynchronous(engine, budget, on_error, bar)
            else:
                stop_reason = self._loop_batches(engine, budget, on_error, bar)
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                stop_reason = "interrupted"
            if engine is not None:
                engine.close(abandon=True)
                engine = None
            self.result_ = self._result(stop_reason)
            if isinstance(error, EvaluationError):
                error.result = self.result_
            raise
        finally:
            if engine is not None:
                engine.close()
            bar.close()
            if not keep_open:
                self.close_journal()
        self.result_ = self._result(stop_reason)
        return self.result_

    def _failure_error(self, failure):
        return EvaluationError(
            f"the oracle failed on architecture {failure.arch!r}: {failure.error}. "
            f"The {self._state.n_told} evaluations made, this one included, are kept in "
            "the searcher's result_ (and the journal, if any); on_error='skip' "
            "records failures and goes on.",
            arch=failure.arch,
        )

    def _finished(self, key, outcome, bar):
        """Journal and show one finished evaluation (told later, or at once)."""
        journal = getattr(self, "_journal", None)
        outcome.arch = self._state.pending.get(key, outcome.arch)
        self._state.goals.complete(outcome)
        if journal is not None:
            journal.write(self._state.query[key], hash_text(key), outcome)
        self._show(bar, outcome)

    def _loop_batches(self, engine, budget, on_error, bar):
        """Ask a batch, evaluate it, tell it in the order asked; repeat."""
        state = self._state
        while state.n_told < budget:
            batch = self._ask(budget - state.n_told)
            if not batch:
                return state.stop_reason or "exhausted"
            keys = [self.space.hash(arch) for arch in batch]
            outcomes, failure = {}, None
            todo = deque(keys)
            try:
                while todo or engine.n_running:
                    while todo and failure is None and engine.n_running < engine.capacity:
                        key = todo.popleft()
                        engine.submit(key, state.pending[key])
                    if not engine.n_running:
                        break
                    for key, outcome in engine.wait():
                        self._finished(key, outcome, bar)
                        outcomes[key] = outcome
                        if not outcome.ok and on_error == "raise" and failure is None:
                            # Evaluations already running finish and are kept.
                            failure = outcome
                            engine.stop()
            finally:
                self._record([outcomes[key] for key in keys if key in outcomes], write=False)
            if failure is not None:
                raise self._failure_error(failure) from failure.exception
        return "budget"

    def _loop_asynchronous(self, engine, budget, on_error, bar):
        """Keep every worker busy: the next evaluation starts as soon as one finishes.

        What the searcher proposes goes to the engine at once (it queues what the workers
        cannot start yet), and the searcher proposes again while fewer than two evaluations
        per worker are outstanding: its fits and rankings run while the workers evaluate.
        """
        state = self._state
        failure = None
        stopping = False
        while True:
            while not stopping and failure is None:
                room = budget - state.n_told - engine.n_running
                if room <= 0 or engine.n_running >= 2 * engine.capacity:
                    break
                asked = self._ask(room)
                if not asked:
                    stopping = state.stop_reason is not None or not engine.n_running
                    break
                for arch in asked:
                    engine.submit(self.space.hash(arch), arch)
            if not engine.n_running:
                if failure is not None:
                    raise self._failure_error(failure) from failure.exception
                if state.n_told >= budget:
                    return "budget"
                if stopping:
                    return state.stop_reason or "exhausted"
                continue
            for key, outcome in engine.wait():
                self._finished(key, outcome, bar)
                self._record([outcome], write=False)
                if not outcome.ok and on_error == "raise" and failure is None:
                    # Evaluations already running finish and are kept; none starts.
                    failure = outcome
                    engine.stop()

    # --- progress ---------------------------------------------------------------------------

    def _progress_bar(self, budget, n_done):
        from tqdm.auto import tqdm

        return tqdm(
            total=budget,
            initial=min(n_done, budget),
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


def _query_order(entry):
    query = entry.get("query")
    if isinstance(query, int) and not isinstance(query, bool):
        return (0, query)
    return (1, 0)
