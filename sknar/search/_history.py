"""What a search has done so far, as its searcher may read it, and the warning of searches."""

import time
from collections.abc import Set
from types import MappingProxyType

import numpy as np

__all__ = ["SearchHistory", "SearchWarning"]


class SearchWarning(RuntimeWarning):
    """Something a search met and went on with: a sampler short of guided draws, values
    too tied for the quality tiers asked for, a space that supplies no more architectures.

    Filter it by class (``warnings.filterwarnings("ignore", category=SearchWarning)``),
    not by message.

    Examples
    --------
    >>> import warnings
    >>> from sknar.search import SearchWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("values tie", SearchWarning)
    >>> caught[0].category.__name__
    'SearchWarning'
    """


class _ReadOnlySet(Set):
    """A set that cannot be changed through this view."""

    __slots__ = ("_items",)

    def __init__(self, items):
        self._items = items

    def __contains__(self, item):
        return item in self._items

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    @classmethod
    def _from_iterable(cls, iterable):
        return frozenset(iterable)

    def __repr__(self):
        return f"<{len(self)} hashes>"


class _Union(Set):
    """Two disjoint collections of hashes seen as one set, without copying them."""

    __slots__ = ("_first", "_second")

    def __init__(self, first, second):
        self._first, self._second = first, second

    def __contains__(self, item):
        return item in self._first or item in self._second

    def __iter__(self):
        yield from self._first
        yield from self._second

    def __len__(self):
        return len(self._first) + len(self._second)


class _State:
    """The evaluations of one search (private to the base class)."""

    def __init__(self, rng, budget):
        self.rng = rng
        self.budget = budget
        self.archs = []
        self.outcomes = []
        self.told_queries = []
        self.told = set()
        self.pending = {}
        self.taken = set()
        self.taken_archs = []
        self.query = {}
        self.success_archs = []
        self.success_values = []
        self.started = time.perf_counter()
        self.ask_time = 0.0
        self.stop_reason = None
        self.best = None
        self.n_failed_shown = 0
        self.n_resumed = 0
        # Architectures that break a cost constraint: never proposed, never evaluated.
        self.excluded = {}
        self.provisional = set()
        self.goals = None

    @property
    def n_told(self):
        return len(self.outcomes)

    def exclude(self, key, arch, provisional=False):
        if key not in self.taken and key not in self.excluded:
            self.excluded[key] = arch
            if provisional:
                self.provisional.add(key)

    def release_provisional(self):
        for key in self.provisional:
            self.excluded.pop(key, None)
        self.provisional.clear()

    def take(self, key, arch):
        if key not in self.taken:
            self.excluded.pop(key, None)
            self.query[key] = len(self.taken)
            self.taken.add(key)
            self.taken_archs.append(arch)


class SearchHistory:
    """A read-only view of a search: what was told, what is pending, what was taken.

    A searcher's proposal step reads it (see :class:`BaseSearch`); nothing a searcher does
    through it changes the search. Every attribute is computed from the search's state
    when read, so a view stays current.

    Parameters
    ----------
    state : object
        The search's private state (a searcher builds the view; users read
        ``searcher.history_``).
    space : SearchSpace
        The space searched.

    Attributes
    ----------
    archs : tuple
        The architectures told, in the order told (failed ones included).
    values : ndarray of shape (n_told,)
        Their values; NaN for a failed evaluation.
    failed : ndarray of bool of shape (n_told,)
        Which evaluations failed.
    errors : tuple of (str or None)
        The error of each failed evaluation, None for a successful one.
    metrics : tuple of mapping
        The named metrics of each evaluation (e.g. ``"report"``), read-only.
    fidelities : tuple
        The fidelity told with each evaluation (None when not told).
    success_archs : tuple
        The architectures of the successful evaluations, in the order told.
    success_values : ndarray
        Their values.
    pending : tuple
        The architectures asked and not yet told.
    taken : set-like
        The space's hashes of every architecture asked or told: never propose one again.
    taken_archs : tuple
        Those architectures, in the order first asked or told (then the ones a cost
        constraint excludes).
    objectives : mapping
        The search's objectives, ``{name: "max" | "min"}`` (``{"value": "max"}`` for a
        single value).
    success_scores : ndarray
        One number per successful evaluation, higher is better, that a searcher learns
        from: the values themselves in a single-objective search without constraints;
        otherwise NSGA-II's order (feasible first, then minus the band of non-dominated
        rank, plus within a band half the crowding distance scaled to [0, 1]; infeasible
        ones below every feasible one, by how much they violate).
    success_bands : ndarray of int or None
        The band of each successful evaluation (its non-dominated rank; infeasible ones
        after every feasible band); None in a single-objective search without
        constraints.
    n_resumed : int
        Evaluations told back from the search's journal when it was opened.
    n_told, n_ok, n_failed, n_pending : int
    budget : int or None
        The budget of a run; None under ask/tell.
    n_left : int or None
        Architectures of the space not yet taken; None when the space's size is unknown.
    rng : numpy.random.RandomState
        The search's random state: draw everything random from it, so that a seed gives
        the same queries.

    Examples
    --------
    >>> from sknar.search import RandomSearch
    >>> from sknar.spaces import NASBench201Space
    >>> search = RandomSearch(NASBench201Space(), random_state=0)
    >>> _ = search.run(lambda arch: float(arch.count("nor_conv_3x3")), budget=4)
    >>> history = search.history_
    >>> history.n_told, len(history.taken), dict(history.objectives)
    (4, 4, {'value': 'max'})
    """

    def __init__(self, state, space):
        self._state = state
        self._space = space

    @property
    def archs(self):
        return tuple(outcome.arch for outcome in self._state.outcomes)

    @property
    def values(self):
        return np.array(
            [np.nan if o.value is None else o.value for o in self._state.outcomes],
            dtype=np.float64,
        )

    @property
    def failed(self):
        return np.array([not o.ok for o in self._state.outcomes], dtype=bool)

    @property
    def errors(self):
        return tuple(outcome.error for outcome in self._state.outcomes)

    @property
    def metrics(self):
        return tuple(MappingProxyType(outcome.metrics) for outcome in self._state.outcomes)

    @property
    def fidelities(self):
        return tuple(outcome.fidelity for outcome in self._state.outcomes)

    @property
    def success_archs(self):
        return tuple(self._state.success_archs)

    @property
    def success_values(self):
        return np.array(self._state.success_values, dtype=np.float64)

    @property
    def pending(self):
        return tuple(self._state.pending.values())

    @property
    def taken(self):
        if self._state.excluded:
            return _ReadOnlySet(_Union(self._state.taken, self._state.excluded))
        return _ReadOnlySet(self._state.taken)

    @property
    def taken_archs(self):
        return (*self._state.taken_archs, *self._state.excluded.values())

    @property
    def objectives(self):
        goals = self._state.goals
        return MappingProxyType(dict(goals.objectives) if goals else {"value": "max"})

    @property
    def success_scores(self):
        goals = self._state.goals
        if goals is None or goals.trivial:
            return self.success_values  # exactly the values, as before objectives existed
        return goals.scores(self._state.outcomes)

    @property
    def success_bands(self):
        goals = self._state.goals
        return None if goals is None else goals.bands(self._state.outcomes)

    @property
    def n_resumed(self):
        return self._state.n_resumed

    @property
    def n_told(self):
        return self._state.n_told

    @property
    def n_ok(self):
        return len(self._state.success_values)

    @property
    def n_failed(self):
        return self.n_told - self.n_ok

    @property
    def n_pending(self):
        return len(self._state.pending)

    @property
    def budget(self):
        return self._state.budget

    @property
    def n_left(self):
        size = self._space.size
        n_taken = len(self._state.taken) + len(self._state.excluded)
        return None if size is None else max(int(size) - n_taken, 0)

    @property
    def rng(self):
        return self._state.rng

    def __repr__(self):
        return (
            f"SearchHistory(n_told={self.n_told}, n_failed={self.n_failed}, "
            f"n_pending={self.n_pending})"
        )
