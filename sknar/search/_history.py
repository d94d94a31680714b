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

    @property
    def n_told(self):
        return len(self.outcomes)

    def take(self, key, arch):
        if key not in self.taken:
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
        The search's private state; the base class makes the view, users read it as
        ``searcher.history_``.
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
        Those architectures, in the order first asked or told.
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
    >>> search = RandomSearch(NASBench201Space(), batch_size=2, random_state=0)
    >>> archs = search.ask()
    >>> history = search.tell(archs[:1], [0.9]).history_
    >>> history.n_told, history.n_pending, history.success_values.tolist()
    (1, 1, [0.9])
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
        return _ReadOnlySet(self._state.taken)

    @property
    def taken_archs(self):
        return tuple(self._state.taken_archs)

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
        return None if size is None else max(int(size) - len(self._state.taken), 0)

    @property
    def rng(self):
        return self._state.rng

    def __repr__(self):
        return (
            f"SearchHistory(n_told={self.n_told}, n_failed={self.n_failed}, "
            f"n_pending={self.n_pending})"
        )
