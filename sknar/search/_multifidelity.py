"""Multi-fidelity tier search: brief trainings for every candidate, full trainings for the
top tier only, successive-halving style, with a budget counted in training epochs."""

import math
import numbers
import os
import time
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)

from ._evaluation import REPORT, Outcome
from ._journal import Journal, make_header
from ._result import SearchResult
from ._tier import TierSearch, _seed_unset_random_states
from ._uniform import distinct_uniform

__all__ = ["FidelityQuery", "MultiFidelityResult", "MultiFidelityTierSearch"]


class FidelityQuery(NamedTuple):
    """One evaluation a multi-fidelity search asks for: train ``arch`` for ``epochs``.

    Parameters
    ----------
    arch : architecture
        The architecture, in the space's canonical form.
    epochs : int
        The fidelity: the epochs of the training asked for.

    Examples
    --------
    >>> from sknar.search import FidelityQuery
    >>> query = FidelityQuery(("a", "b"), 12)
    >>> query.epochs, tuple(query)
    (12, (('a', 'b'), 12))
    """

    arch: Any
    epochs: int


class MultiFidelityResult(SearchResult):
    """A :class:`SearchResult` over the full-fidelity evaluations, with what each fidelity
    cost.

    ``archs``, ``values``, ``best_arch`` ... are those of the full-fidelity evaluations
    (the only values comparable with a full-fidelity search); ``budget`` is in epochs.

    Parameters
    ----------
    *args, **kwargs
        Those of :class:`SearchResult`, over the full-fidelity evaluations.
    fidelity_costs : dict
        What each fidelity cost (see Attributes).
    epochs_spent : array-like of shape (n_queries,)
        Epochs spent when each full-fidelity evaluation was told.
    evaluations : list of dict
        Every evaluation, all fidelities.

    Attributes
    ----------
    fidelity_costs : dict
        ``{epochs: {"evaluations": n, "epochs": n * epochs, "seconds": s}}`` per fidelity.
    epochs_spent : ndarray of shape (n_queries,)
        Training epochs spent (all fidelities) when each full-fidelity evaluation was told:
        the x axis of a best-so-far curve in epochs.
    evaluations : list of dict
        Every evaluation, all fidelities, in the order told: ``arch``, ``epochs``,
        ``value``, ``error``.

    Examples
    --------
    >>> from sknar.search import MultiFidelityResult
    >>> result = MultiFidelityResult(
    ...     "demo", ["a", "b"], [0.7, 0.9], None, 1.0, 100,
    ...     fidelity_costs={4: {"evaluations": 8, "epochs": 32, "seconds": 1.0},
    ...                     12: {"evaluations": 2, "epochs": 24, "seconds": 1.0}},
    ...     epochs_spent=[44, 56], evaluations=[])
    >>> result.epochs_used, result.best_within(50), result.best_within(60)
    (56, 0.7, 0.9)
    """

    def __init__(self, *args, fidelity_costs, epochs_spent, evaluations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fidelity_costs = fidelity_costs
        self.epochs_spent = np.asarray(epochs_spent, dtype=np.float64)
        self.evaluations = evaluations

    @property
    def epochs_used(self):
        """Training epochs spent in all, every fidelity included."""
        return int(sum(cost["epochs"] for cost in self.fidelity_costs.values()))

    def best_within(self, epochs):
        """The best full-fidelity value told within ``epochs`` training epochs (NaN if none).

        Parameters
        ----------
        epochs : int
            Training epochs, every fidelity counted.

        Returns
        -------
        value : float
        """
        inside = (self.epochs_spent <= epochs) & ~self.failed
        return float(np.max(self.values[inside])) if inside.any() else float("nan")


class _View:
    """What TierSearch's candidate helpers read of a history."""

    def __init__(self, search, space):
        self.rng = search._rng
        self.taken = search._taken
        self.taken_archs = list(search._taken_archs)
        archs, values = search._rung_values(0)
        self.success_archs = archs
        self.success_values = np.asarray(values, dtype=np.float64)
        # One objective: the ranker learns the values themselves, with no bands of fronts.
        self.success_scores = self.success_values
        self.success_bands = None
        size = space.size
        self.n_left = None if size is None else max(int(size) - len(self.taken), 0)


class MultiFidelityTierSearch(BaseEstimator):
    """Tier search whose candidates are trained briefly first; only the best are promoted.

    Each round, a ranker fitted on the low-fidelity values (every candidate has one) ranks
    the candidates drawn by a :class:`~sknar.sampler.TierSampler`; the ``batch_size`` best
    are evaluated at ``fidelities[0]`` epochs. When a batch is told at fidelity ``i``, its
    best ``ceil(n / eta)`` are promoted to fidelity ``i + 1`` (successive halving), up to
    the last (full) fidelity. The first batch is ``n_initial`` uniform draws.

    A fidelity is a whole training on a shorter schedule (see
    ``docs/user_guide/real_search.rst``): a promotion trains afresh, and its cost is the
    full number of epochs of the higher fidelity.

    **Ask / tell.** :meth:`ask` returns :class:`FidelityQuery` pairs ``(arch, epochs)``;
    :meth:`tell` takes the same pairs (or ``(arch, epochs)`` tuples) and their values. The
    same architecture is asked once per fidelity, never twice at one fidelity.
    :meth:`run` loops over both with an oracle that takes ``epochs`` (a
    :class:`~sknar.oracles.TrainingOracle` or a :class:`~sknar.oracles.TabularOracle` with
    fidelities) until the budget, counted in training epochs, is spent.

    **The journal** (:meth:`open_journal` or ``run(..., journal=path)``) records every
    evaluation with its fidelity (journal format 2); reopening it tells them back and the
    search goes on, none of them evaluated again.

    Parameters
    ----------
    space : SearchSpace
        The space searched.
    fidelities : sequence of int
        The epochs of each fidelity, increasing; the last is the full training.
    ranker : estimator or None, default=None
        As :class:`TierSearch`'s (``make_pipeline(NARFeatureEncoder(space), NARRanker())``
        when None).
    sampler : TierSampler or None, default=None
        As :class:`TierSearch`'s.
    n_initial : int, default=64
        Uniform architectures evaluated first, at the lowest fidelity.
    batch_size : int, default=32
        Candidates evaluated at the lowest fidelity per round.
    eta : int, default=4
        Promotion ratio: the best ``ceil(n / eta)`` of a batch of ``n`` go up a fidelity.
    rank_by : {"highest", "lowest"}, default="highest"
        The values the ranker is fitted on: the highest fidelity's (few, but exact) once
        ``n_initial / eta`` of them are known and the ranker can learn from them (the
        lowest fidelity's until then, and while they tie), or the lowest fidelity's (every
        evaluated architecture has one). "highest" was ahead on
        the validation seeds of the multi-fidelity suite (NAS-Bench-201 CIFAR-10 at 25
        trainings' epochs: 94.26 against 93.89; NAS-Bench-101 at 100: 0.9470 against
        0.9437; level elsewhere).
    n_candidates, n_parents, n_mutants, n_tiers
        As :class:`TierSearch`'s.
    random_state : int, RandomState instance or None, default=None
        Seeds the search.

    Attributes
    ----------
    result_ : MultiFidelityResult
        The evaluations of the current search.
    n_rounds_ : int
        Rounds of ranked candidates proposed so far.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sknar.search import MultiFidelityTierSearch
    >>> from sknar.spaces import NASBench201Space
    >>> space = NASBench201Space()
    >>> def features(archs):
    ...     return [list(space.structure_features(arch).values()) for arch in archs]
    >>> ranker = make_pipeline(FunctionTransformer(features),
    ...                        RandomForestRegressor(n_estimators=10))
    >>> def oracle(arch, epochs):  # a toy accuracy, noisier when trained briefly
    ...     return arch.count("nor_conv_3x3") + (0.5 * arch.count("skip") if epochs < 200 else 0)
    >>> search = MultiFidelityTierSearch(space, fidelities=(12, 200), ranker=ranker,
    ...                                  n_initial=16, batch_size=8, n_candidates=50,
    ...                                  random_state=0)
    >>> result = search.run(oracle, budget=2000)
    >>> result.epochs_used <= 2000, sorted(result.fidelity_costs)
    (True, [12, 200])
    """

    _parameter_constraints = {
        "space": [HasMethods(["validate", "hash", "sample"])],
        "fidelities": ["array-like"],
        "ranker": [HasMethods(["fit", "predict"]), None],
        "sampler": [HasMethods(["fit", "sample", "set_params"]), None],
        "n_initial": [Interval(Integral, 2, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "eta": [Interval(Integral, 2, None, closed="left")],
        "rank_by": [StrOptions({"lowest", "highest"})],
        "n_candidates": [Interval(Integral, 1, None, closed="left")],
        "n_parents": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "n_mutants": [Interval(Integral, 1, None, closed="left")],
        "n_tiers": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }
    _method = "multi-fidelity tier search"

    def __init__(
        self,
        space,
        *,
        fidelities,
        ranker=None,
        sampler=None,
        n_initial=64,
        batch_size=32,
        eta=4,
        rank_by="highest",
        n_candidates=500,
        n_parents="auto",
        n_mutants=30,
        n_tiers=5,
        random_state=None,
    ):
        self.space = space
        self.fidelities = fidelities
        self.ranker = ranker
        self.sampler = sampler
        self.n_initial = n_initial
        self.batch_size = batch_size
        self.eta = eta
        self.rank_by = rank_by
        self.n_candidates = n_candidates
        self.n_parents = n_parents
        self.n_mutants = n_mutants
        self.n_tiers = n_tiers
        self.random_state = random_state

    # --- set-up ---------------------------------------------------------------------------

    def _check_fidelities(self):
        fidelities = list(self.fidelities)
        if not fidelities or any(
            not isinstance(e, numbers.Integral) or isinstance(e, bool) or e < 1
            for e in fidelities
        ):
            raise ValueError(
                f"fidelities must be positive ints (epochs), lowest first; got "
                f"{self.fidelities!r}."
            )
        if any(a >= b for a, b in zip(fidelities, fidelities[1:])):
            raise ValueError(f"fidelities must increase; got {self.fidelities!r}.")
        if self.batch_size > self.n_candidates:
            raise ValueError(
                f"batch_size ({self.batch_size}) must not exceed n_candidates "
                f"({self.n_candidates})."
            )
        return [int(e) for e in fidelities]

    def _begin(self, rng, budget):
        self._validate_params()
        self._fidelities = self._check_fidelities()
        self._rng = rng
        self._budget = budget
        self._started_at = time.perf_counter()
        self._ask_time = 0.0
        self._evaluations = []  # dicts, in the order told
        self._told = set()  # (hash, epochs)
        self._asked = set()  # (hash, epochs)
        self._taken = set()  # hashes asked at any fidelity
        self._taken_archs = []
        self._queue = []  # FidelityQuery waiting to be asked
        self._open_batches = []  # [rung, [hashes]] not yet promoted
        self._epochs_asked = 0
        self._stop_reason = None
        self.n_rounds_ = 0
        self._initial_done = False
        self._tier = TierSearch(
            self.space,
            ranker=self.ranker,
            sampler=self.sampler,
            n_candidates=self.n_candidates,
            n_parents=self.n_parents,
            n_mutants=self.n_mutants,
            n_tiers=self.n_tiers,
            top_k=self.batch_size,
        )
        self._tier._start(None)

    def _started(self):
        if getattr(self, "_rng", None) is None:
            self._validate_params()
            self._begin(check_random_state(self.random_state), None)

    # --- ask / tell -----------------------------------------------------------------------

    def ask(self):
        """Return the next evaluations to make, as :class:`FidelityQuery` ``(arch, epochs)``.

        Promotions come first (an architecture whose batch was told and ranked in its top
        ``1 / eta``, at the next fidelity), then new candidates at the lowest fidelity. Empty
        when the search waits for pending results or the budget is spent.
        """
        self._started()
        return self._ask(None)

    def _ask(self, epochs_left):
        started = time.perf_counter()
        try:
            if not self._queue:
                self._promote()
            if not self._queue and not self._pending_low():
                self._queue.extend(self._new_batch())
        finally:
            self._ask_time += time.perf_counter() - started
        asked = []
        while self._queue:
            query = self._queue[0]
            if epochs_left is not None and query.epochs > epochs_left:
                break
            self._queue.pop(0)
            key = self.space.hash(query.arch)
            self._asked.add((key, query.epochs))
            if key not in self._taken:
                self._taken.add(key)
                self._taken_archs.append(query.arch)
            self._epochs_asked += query.epochs
            if epochs_left is not None:
                epochs_left -= query.epochs
            asked.append(query)
        return asked

    def _pending_low(self):
        """Whether a lowest-fidelity batch is still out (wait: its promotions come first)."""
        return any(rung == 0 for rung, _ in self._open_batches)

    def _new_batch(self):
        if self._open_batches:
            return []  # a higher rung is still out: its promotions decide the next round
        if not self._initial_done:
            self._initial_done = True
            archs = distinct_uniform(
                self.space, self.n_initial, self._taken, self._rng, allow_fewer=True
            )
        else:
            archs = self._ranked_candidates()
            self.n_rounds_ += 1
        if not archs:
            self._stop_reason = "exhausted"
            return []
        low = self._fidelities[0]
        self._open_batches.append([0, [self.space.hash(arch) for arch in archs]])
        return [FidelityQuery(arch, low) for arch in archs]

    def _ranked_candidates(self):
        view = _View(self, self.space)
        tier = self._tier
        if not self._fit_ranker(view):
            return distinct_uniform(
                self.space, self.batch_size, self._taken, self._rng, allow_fewer=True
            )
        tier._fit_sampler(list(view.success_archs), view.success_values, self._rng)
        tier.n_fits_ += 1
        candidates = tier._candidates(view)
        if not candidates:
            return []
        candidates = candidates + tier._mutants_of_best(view, candidates)
        scores = np.asarray(tier.ranker_.predict(candidates), dtype=np.float64).ravel()
        order = np.argsort(-scores, kind="stable")[: self.batch_size]
        return [candidates[index] for index in order]

    def _fit_ranker(self, view):
        """Fit the ranker on the preferred values it can learn from; False if none."""
        tier = self._tier
        options = self._ranker_data(view)
        for number, (archs, values) in enumerate(options, start=1):
            if len(archs) < 2 or len(np.unique(values)) < 2:
                continue  # one level teaches nothing (a small validation split ties often)
            tier.ranker_ = _seed_unset_random_states(clone(tier._ranker()), self._rng)
            try:
                tier.ranker_.fit(archs, values)
            except ValueError:
                if number == len(options):
                    raise
                # Fewer distinct full-fidelity values than the ranker's tiers: the lowest
                # fidelity's serve until there are enough.
                continue
            return True
        return False

    def _ranker_data(self, view):
        """The ``(archs, values)`` the ranker may learn from, preferred first."""
        lowest = (list(view.success_archs), view.success_values)
        if self.rank_by == "highest":
            archs, values = self._rung_values(len(self._fidelities) - 1)
            if len(archs) >= max(2, self.n_initial // self.eta):
                return [(archs, values), lowest]
        return [lowest]

    def _rung_values(self, rung):
        epochs = self._fidelities[rung]
        pairs = [
            (e["arch"], e["value"])
            for e in self._evaluations
            if e["epochs"] == epochs and e["error"] is None
        ]
        return [a for a, _ in pairs], [v for _, v in pairs]

    def _promote(self):
        """Queue the promotions of every batch fully told; drop finished batches."""
        by_key = {}
        for e in self._evaluations:
            by_key[(e["key"], e["epochs"])] = e
        still_open = []
        for rung, keys in self._open_batches:
            epochs = self._fidelities[rung]
            if any((key, epochs) not in self._told for key in keys):
                still_open.append([rung, keys])
                continue
            if rung + 1 >= len(self._fidelities):
                continue
            ok = [by_key[(key, epochs)] for key in keys if by_key[(key, epochs)]["error"] is None]
            n_up = math.ceil(len(keys) / self.eta)
            ok.sort(key=lambda e: -e["value"])
            up = self._fidelities[rung + 1]
            chosen = [e for e in ok[:n_up] if (e["key"], up) not in self._asked]
            if chosen:
                self._queue.extend(FidelityQuery(e["arch"], up) for e in chosen)
                still_open.append([rung + 1, [e["key"] for e in chosen]])
        self._open_batches = still_open

    def tell(self, queries, values, *, report_values=None, seconds=None):
        """Record evaluations (and append them to the journal).

        Parameters
        ----------
        queries : sequence of FidelityQuery or (arch, epochs) pairs
            The evaluations made, asked or not, each at most once per fidelity.
        values : sequence
            Their values, higher is better; None, NaN, infinite or an exception instance
            records a failure (never promoted, never learnt from).
        report_values : sequence of float or None, default=None
            A recorded-only metric per evaluation (the metric ``"report"``).
        seconds : sequence of float or None, default=None
            The seconds each evaluation took, recorded.

        Returns
        -------
        self : MultiFidelityTierSearch
        """
        self._started()
        queries = [FidelityQuery(*query) for query in queries]
        values = list(values)
        n = len(queries)
        reports = [None] * n if report_values is None else list(report_values)
        seconds = [None] * n if seconds is None else list(seconds)
        if not len(values) == len(reports) == len(seconds) == n:
            raise ValueError(
                f"tell needs one value per query; got {n} queries, {len(values)} values, "
                f"{len(reports)} report values and {len(seconds)} seconds."
            )
        entries = []
        seen = set()
        for query, value, report, wall in zip(queries, values, reports, seconds):
            arch = self.space.validate(query.arch)
            epochs = int(query.epochs)
            if epochs not in self._fidelities:
                raise ValueError(
                    f"{query!r} is at {epochs} epochs, not one of this search's fidelities "
                    f"{self._fidelities}."
                )
            key = self.space.hash(arch)
            if (key, epochs) in self._told or (key, epochs) in seen:
                raise ValueError(
                    f"architecture {arch!r} was already told at {epochs} epochs; each "
                    "evaluation is told once."
                )
            seen.add((key, epochs))
            error = _error_of(value)
            entries.append(
                {
                    "arch": arch,
                    "key": key,
                    "epochs": epochs,
                    "value": None if error else float(value),
                    "error": error,
                    "report": None if report is None else float(report),
                    "seconds": wall,
                }
            )
        self._record(entries, write=True)
        self.result_ = self._result()
        return self

    def _record(self, entries, write):
        journal = getattr(self, "_journal", None)
        for entry in entries:
            key, epochs = entry["key"], entry["epochs"]
            self._told.add((key, epochs))
            if (key, epochs) not in self._asked:
                self._asked.add((key, epochs))
                self._epochs_asked += epochs
            if key not in self._taken:
                self._taken.add(key)
                self._taken_archs.append(entry["arch"])
            entry["spent"] = sum(e["epochs"] for e in self._evaluations) + epochs
            self._evaluations.append(entry)
            if write and journal is not None:
                metrics = {} if entry["report"] is None else {REPORT: entry["report"]}
                journal.write(
                    len(self._evaluations) - 1,
                    f"{key!r}@{epochs}",
                    Outcome(
                        entry["arch"],
                        entry["value"],
                        error=entry["error"],
                        metrics=metrics,
                        fidelity=epochs,
                        wall_s=entry["seconds"],
                    ),
                )

    def _resume(self, entries):
        """Rebuild the batches of a recorded search from its journal's order.

        A sequential search records a lowest-fidelity batch, then its promotions, fidelity
        by fidelity: consecutive evaluations at one fidelity are one batch. The last batch
        stays open: its missing promotions are asked again, and a lowest-fidelity batch cut
        short is promoted from what it holds.
        """
        groups = []
        for entry in entries:
            if groups and groups[-1][0] == entry["epochs"]:
                groups[-1][1].append(entry)
            else:
                groups.append((entry["epochs"], [entry]))
        if not groups:
            return
        self._initial_done = True
        low = self._fidelities[0]
        self.n_rounds_ = max(sum(epochs == low for epochs, _ in groups) - 1, 0)
        epochs, last = groups[-1]
        rung = self._fidelities.index(epochs)
        keys = [entry["key"] for entry in last]
        if rung > 0 and len(groups) > 1:
            previous = [e for e in groups[-2][1] if e["error"] is None]
            previous.sort(key=lambda e: -e["value"])
            wanted = previous[: math.ceil(len(groups[-2][1]) / self.eta)]
            missing = [e for e in wanted if (e["key"], epochs) not in self._told]
            self._queue.extend(FidelityQuery(e["arch"], epochs) for e in missing)
            for e in missing:
                self._asked.add((e["key"], epochs))
                self._epochs_asked += epochs
            keys += [e["key"] for e in missing]
        self._open_batches = [[rung, keys]]

    # --- result ---------------------------------------------------------------------------

    def _result(self):
        full = self._fidelities[-1]
        finals = [e for e in self._evaluations if e["epochs"] == full]
        has_report = bool(finals) and all(
            e["report"] is not None for e in finals if e["error"] is None
        )
        costs = {}
        for epochs in self._fidelities:
            done = [e for e in self._evaluations if e["epochs"] == epochs]
            costs[epochs] = {
                "evaluations": len(done),
                "epochs": epochs * len(done),
                "seconds": float(sum(e["seconds"] or 0.0 for e in done)),
            }
        return MultiFidelityResult(
            self._method,
            [e["arch"] for e in finals],
            [np.nan if e["value"] is None else e["value"] for e in finals],
            [np.nan if e["report"] is None else e["report"] for e in finals]
            if has_report
            else None,
            time.perf_counter() - self._started_at,
            self._budget,
            errors=[e["error"] for e in finals],
            eval_times=[np.nan if e["seconds"] is None else e["seconds"] for e in finals],
            ask_time=self._ask_time,
            stop_reason=self._stop_reason,
            fidelity_costs=costs,
            epochs_spent=[e["spent"] for e in finals],
            evaluations=[
                {k: e[k] for k in ("arch", "epochs", "value", "error")}
                for e in self._evaluations
            ],
        )

    # --- journal ----------------------------------------------------------------------------

    def open_journal(self, path, *, oracle=None):
        """Start a search recorded in the journal ``path``; resume what it holds.

        As :meth:`BaseSearch.open_journal`: each evaluation is recorded with its fidelity
        (the epochs trained) and its hash is the architecture's at that fidelity.

        Parameters
        ----------
        path : str or path-like
            The journal file (JSON Lines, see :func:`read_journal`).
        oracle : callable or None, default=None
            The oracle the evaluations come from, described in the header and checked on
            resuming; None: not recorded, not checked.

        Returns
        -------
        self : MultiFidelityTierSearch
        """
        validate_parameter_constraints(
            {"path": [str, os.PathLike]}, {"path": path}, f"{type(self).__name__}.open_journal"
        )
        self._open_journal(path, oracle, None)
        self.result_ = self._result()
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
        self._validate_params()
        params = self.get_params(deep=False)
        for name in ("space", "random_state"):
            params.pop(name, None)
        params["fidelities"] = [int(e) for e in self.fidelities]
        seed = self.random_state
        is_int = isinstance(seed, numbers.Integral) and not isinstance(seed, bool)
        seed = int(seed) if is_int else None
        header = make_header(type(self).__name__, params, self.space, seed, oracle)
        journal = Journal(path, header, fresh_seed=lambda: int(
            np.random.SeedSequence().generate_state(1)[0] % np.iinfo(np.int32).max
        ))
        try:
            self._begin(check_random_state(journal.seed), budget)
            entries = []
            for number, item in enumerate(journal.evaluations, start=2):
                try:
                    arch = self.space.validate(item.get("arch"))
                except (ValueError, TypeError) as exc:
                    raise ValueError(
                        f"{journal.path}, line {number}: its architecture "
                        f"{item.get('arch')!r} is not one of this space ({exc})."
                    ) from None
                epochs = item.get("fidelity")
                if epochs not in self._fidelities:
                    raise ValueError(
                        f"{journal.path}, line {number}: fidelity {epochs!r} is not one of "
                        f"this search's {self._fidelities}."
                    )
                failed = item["status"] == "failed"
                entries.append(
                    {
                        "arch": arch,
                        "key": self.space.hash(arch),
                        "epochs": int(epochs),
                        "value": None if failed else float(item["value"]),
                        "error": (item.get("error") or "failed") if failed else None,
                        "report": item["metrics"].get(REPORT),
                        "seconds": item.get("wall_s"),
                    }
                )
            self._record(entries, write=False)
            self._resume(entries)
        except BaseException:
            journal.close()
            raise
        self._journal = journal
        self.n_resumed_ = len(entries)

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_journal", None)
        return state

    # --- run ------------------------------------------------------------------------------

    def run(self, oracle, budget, *, journal=None, on_error="raise"):
        """Search until ``budget`` training epochs are spent; return a
        :class:`MultiFidelityResult`.

        Parameters
        ----------
        oracle : callable
            ``oracle(arch, epochs=e) -> float``, or an object with ``evaluate(arch,
            epochs=e)`` returning ``{"accuracy", "seconds", ...}`` (a
            :class:`~sknar.oracles.TrainingOracle`, a :class:`~sknar.oracles.TabularOracle`
            with fidelities). Its ``report(arch)``, if any, is recorded for full-fidelity
            evaluations. Evaluations run one at a time, in this process.
        budget : int
            Most training epochs, every fidelity counted (and the evaluations resumed).
        journal : str, path-like or None, default=None
            The search's journal for this run (see :meth:`open_journal`).
        on_error : {"raise", "skip"}, default="raise"
            ``"raise"`` stops at the first failed evaluation; ``"skip"`` records it.

        Returns
        -------
        result : MultiFidelityResult
        """
        validate_parameter_constraints(
            {
                "oracle": [callable, HasMethods(["evaluate"])],
                "budget": [Interval(Integral, 1, None, closed="left")],
                "journal": [str, os.PathLike, None],
                "on_error": [StrOptions({"raise", "skip"})],
            },
            {"oracle": oracle, "budget": budget, "journal": journal, "on_error": on_error},
            caller_name=f"{type(self).__name__}.run",
        )
        self._validate_params()  # before the seed is read: a bad random_state is named
        opened = getattr(self, "_journal", None)
        path = journal if journal is not None else (None if opened is None else opened.path)
        if path is not None:
            self._open_journal(path, oracle, budget)
        else:
            self._begin(check_random_state(self.random_state), budget)
        try:
            while True:
                batch = self._ask(budget - self._epochs_asked)
                if not batch:
                    self._stop_reason = self._stop_reason or "budget"
                    break
                for query in batch:
                    value, report, seconds = _call(oracle, query, self._fidelities[-1])
                    self.tell([query], [value], report_values=[report], seconds=[seconds])
                    if on_error == "raise" and _error_of(value):
                        self._stop_reason = "error"
                        raise RuntimeError(
                            f"the oracle failed on {query!r}: {_error_of(value)}"
                        ) from (value if isinstance(value, BaseException) else None)
        finally:
            self.result_ = self._result()
            if journal is not None:
                self.close_journal()
        return self.result_


def _call(oracle, query, full):
    started = time.perf_counter()
    try:
        if hasattr(oracle, "evaluate"):
            value = oracle.evaluate(query.arch, epochs=query.epochs)["accuracy"]
        else:
            value = oracle(query.arch, epochs=query.epochs)
    except Exception as exc:  # recorded as a failure (on_error decides)
        value = exc
    seconds = time.perf_counter() - started
    report = None
    if query.epochs == full and hasattr(oracle, "report") and not isinstance(value, Exception):
        report = oracle.report(query.arch)
    return value, report, seconds


def _error_of(value):
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    if value is None:
        return "no value"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"not a number: {value!r}"
    if not math.isfinite(number):
        return f"not finite: {number}"
    return None
