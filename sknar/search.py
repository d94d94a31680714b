"""Budgeted architecture search against an oracle.

Three searchers share one API, ``searcher.run(oracle, budget) -> SearchResult``, where the
oracle is any callable ``oracle(arch) -> float`` (higher is better) and the budget counts the
oracle calls:

- :class:`TierSearch`: NAR's search. A ranker fitted on the evaluated architectures scores
  candidates drawn by a :class:`~sknar.sampler.TierSampler` fitted on their quality tiers;
  only the best-ranked few are evaluated.
- :class:`RandomSearch`: uniform draws, the baseline every search must beat.
- :class:`RegularizedEvolution`: aging evolution (Real et al., 2019) with mutations on the
  space.

No searcher evaluates an architecture twice, and none reads anything but the values the
oracle returns: an oracle's ``report(arch)`` value (e.g. the test accuracy of a benchmark
table) is only recorded in the history.
"""

import numbers
import time
import warnings
from collections import deque

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from .tiers import TierTransformer
from .utils import check_oracle_value

__all__ = [
    "RandomSearch",
    "RegularizedEvolution",
    "SearchResult",
    "TierSearch",
]

_SEED_MAX = np.iinfo(np.int32).max
_MAX_ENUMERATE = 100_000


def _seed(rng):
    return int(rng.randint(_SEED_MAX))


def _check_int(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
    return int(value)


# --- results ----------------------------------------------------------------------------


class SearchResult:
    """What a search evaluated, in query order.

    Parameters
    ----------
    method : str
        Name of the searcher.
    archs : list
        The queried architectures (canonical forms), in query order.
    values : array-like of shape (n_queries,)
        The values the oracle returned (what selection used).
    report_values : array-like of shape (n_queries,) or None
        The oracle's report value of each query, if it has one.
    wall_time : float
        Seconds the search took.
    budget : int
        The budget the search was given.

    Attributes
    ----------
    best_so_far : ndarray of shape (n_queries,)
        Best value among the first ``i + 1`` queries.
    best_index : int
        Query index of the best value (the first one on ties).
    best_arch, best_value, best_report_value
        The best architecture by ``values``, its value and its report value (None without a
        report metric).

    Examples
    --------
    >>> from sknar.search import SearchResult
    >>> result = SearchResult("demo", ["a", "b", "c"], [0.5, 0.9, 0.7], None, 0.1, 3)
    >>> result.best_arch, result.best_so_far.tolist()
    ('b', [0.5, 0.9, 0.9])
    """

    def __init__(self, method, archs, values, report_values, wall_time, budget):
        self.method = method
        self.archs = list(archs)
        self.values = np.asarray(values, dtype=np.float64)
        self.report_values = (
            None if report_values is None else np.asarray(report_values, dtype=np.float64)
        )
        self.wall_time = float(wall_time)
        self.budget = budget

    @property
    def n_queries(self):
        """Number of oracle calls made."""
        return len(self.archs)

    @property
    def best_so_far(self):
        return np.maximum.accumulate(self.values) if self.n_queries else self.values.copy()

    @property
    def best_index(self):
        return int(np.argmax(self.values))

    @property
    def best_arch(self):
        return self.archs[self.best_index]

    @property
    def best_value(self):
        return float(self.values[self.best_index])

    @property
    def best_report_value(self):
        if self.report_values is None:
            return None
        return float(self.report_values[self.best_index])

    @property
    def history(self):
        """One dict per query: ``query``, ``arch``, ``value``, ``report_value``,
        ``best_so_far``."""
        best = self.best_so_far
        return [
            {
                "query": index,
                "arch": arch,
                "value": float(self.values[index]),
                "report_value": (
                    None if self.report_values is None else float(self.report_values[index])
                ),
                "best_so_far": float(best[index]),
            }
            for index, arch in enumerate(self.archs)
        ]

    def plot(self, ax=None, **plot_kwargs):
        """Draw the best value so far against the number of queries.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure's axes when None.
        **plot_kwargs
            Passed to ``ax.plot`` (``label`` defaults to the method name).

        Returns
        -------
        ax : matplotlib Axes
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError(
                "SearchResult.plot needs matplotlib (pip install matplotlib)."
            ) from exc
        if ax is None:
            _, ax = plt.subplots()
        plot_kwargs.setdefault("label", self.method)
        ax.plot(np.arange(1, self.n_queries + 1), self.best_so_far, **plot_kwargs)
        ax.set_xlabel("oracle queries")
        ax.set_ylabel("best value so far")
        return ax

    def __repr__(self):
        return (
            f"SearchResult(method={self.method!r}, n_queries={self.n_queries}, "
            f"best_value={self.best_value if self.n_queries else None}, "
            f"wall_time={self.wall_time:.2f})"
        )


class _Evaluations:
    """The oracle calls of one search: budget, duplicates, values and report values."""

    def __init__(self, space, oracle, budget):
        if not callable(oracle):
            raise ValueError(f"oracle must be callable, arch -> float; got {oracle!r}.")
        self.space = space
        self.oracle = oracle
        self.budget = _check_int(budget, "budget", 1)
        self._report = getattr(oracle, "report", None)
        self.archs, self.values, self.report_values = [], [], []
        self.hashes = set()
        self.started = time.perf_counter()

    @property
    def remaining(self):
        return self.budget - len(self.archs)

    def evaluate(self, arch):
        arch = self.space.validate(arch)
        key = self.space.hash(arch)
        if key in self.hashes:
            raise RuntimeError(f"architecture {arch!r} was about to be evaluated twice.")
        if self.remaining <= 0:
            raise RuntimeError("the budget is spent.")
        value = check_oracle_value(self.oracle(arch), arch)
        self.hashes.add(key)
        self.archs.append(arch)
        self.values.append(value)
        # Recorded only: no searcher reads report_values.
        self.report_values.append(None if self._report is None else self._report(arch))
        return value

    def result(self, method):
        reports = self.report_values
        has_report = bool(reports) and all(value is not None for value in reports)
        return SearchResult(
            method,
            self.archs,
            self.values,
            reports if has_report else None,
            time.perf_counter() - self.started,
            self.budget,
        )


# --- searchers --------------------------------------------------------------------------


def _seed_unset_random_states(estimator, rng):
    """Give every ``random_state`` parameter left at None a seed from ``rng``."""
    unset = {
        name: _seed(rng)
        for name, value in sorted(estimator.get_params(deep=True).items())
        if name.endswith("random_state") and value is None
    }
    return estimator.set_params(**unset) if unset else estimator


def _distinct_uniform(space, n, evaluations, rng, max_draws=20):
    """``n`` uniform architectures never evaluated before (duplicates redrawn).

    A small space whose draws keep hitting evaluated architectures is enumerated instead.
    """
    found = []
    for _ in range(max_draws):
        if len(found) == n:
            return found
        taken = evaluations.hashes | {space.hash(arch) for arch in found}
        batch = space.sample(n - len(found), random_state=_seed(rng))
        found.extend(arch for arch in batch if space.hash(arch) not in taken)
    size = space.size
    if len(found) < n and size is not None and size <= _MAX_ENUMERATE:
        taken = evaluations.hashes | {space.hash(arch) for arch in found}
        left = [arch for arch in space.enumerate() if space.hash(arch) not in taken]
        picks = rng.choice(len(left), size=min(n - len(found), len(left)), replace=False)
        found.extend(left[index] for index in picks)
    if len(found) < n:
        raise ValueError(f"the space {space.name} could not supply {n} new architectures.")
    return found


class RandomSearch:
    """Evaluate architectures drawn uniformly from the space, each once.

    Parameters
    ----------
    space : SearchSpace
    random_state : int, RandomState instance or None, default=None

    Examples
    --------
    >>> from sknar.search import RandomSearch
    >>> from sknar.spaces.nasbench201 import NASBench201Space
    >>> space = NASBench201Space()
    >>> def oracle(arch):  # count of 3x3 convolutions as a toy accuracy
    ...     return float(arch.count("nor_conv_3x3"))
    >>> result = RandomSearch(space, random_state=0).run(oracle, budget=50)
    >>> result.n_queries
    50
    """

    def __init__(self, space, *, random_state=None):
        self.space = space
        self.random_state = random_state

    def run(self, oracle, budget):
        """Spend ``budget`` oracle calls on distinct uniform draws; return a SearchResult.

        Parameters
        ----------
        oracle : callable or TabularOracle
            ``oracle(arch) -> float``, the accuracy used for selection (higher is better).
        budget : int
            Number of oracle calls to spend, counting every evaluation.

        Returns
        -------
        result : SearchResult
            Every query with its value, the best-so-far curve and the best architecture.
        """
        evaluations = _Evaluations(self.space, oracle, budget)
        rng = check_random_state(self.random_state)
        for arch in self.space.sample(evaluations.budget, random_state=_seed(rng)):
            evaluations.evaluate(arch)
        self.result_ = evaluations.result("random search")
        return self.result_


class RegularizedEvolution:
    """Aging evolution (Real et al., 2019) on a search space.

    A population of ``population_size`` uniform architectures is evaluated; then, until the
    budget is spent, ``sample_size`` members are drawn at random, the best of them is
    mutated (the space's :meth:`~sknar.spaces.SearchSpace.mutate`) into a child that was
    never evaluated, the child is evaluated and joins the population, and the oldest member
    dies.

    Parameters
    ----------
    space : SearchSpace
    population_size : int, default=10
    sample_size : int, default=3
    random_state : int, RandomState instance or None, default=None

    Examples
    --------
    >>> from sknar.search import RegularizedEvolution
    >>> from sknar.spaces.nasbench201 import NASBench201Space
    >>> space = NASBench201Space()
    >>> def oracle(arch):
    ...     return float(arch.count("nor_conv_3x3"))
    >>> result = RegularizedEvolution(space, random_state=0).run(oracle, budget=60)
    >>> result.n_queries
    60
    """

    def __init__(self, space, *, population_size=10, sample_size=3, random_state=None):
        self.space = space
        self.population_size = population_size
        self.sample_size = sample_size
        self.random_state = random_state

    def _new_child(self, parent, evaluations, rng, max_tries=50):
        for _ in range(max_tries):
            child = self.space.mutate(parent, rng)
            if self.space.hash(child) not in evaluations.hashes:
                return child
        # Every nearby mutant has been evaluated: jump to a new uniform architecture.
        return _distinct_uniform(self.space, 1, evaluations, rng)[0]

    def run(self, oracle, budget):
        """Evolve for ``budget`` oracle calls; return a SearchResult.

        Parameters
        ----------
        oracle : callable or TabularOracle
            ``oracle(arch) -> float``, the accuracy used for selection (higher is better).
        budget : int
            Number of oracle calls to spend, counting every evaluation.

        Returns
        -------
        result : SearchResult
            Every query with its value, the best-so-far curve and the best architecture.
        """
        population_size = _check_int(self.population_size, "population_size", 1)
        sample_size = _check_int(self.sample_size, "sample_size", 1)
        if sample_size > population_size:
            raise ValueError(
                f"sample_size ({sample_size}) must not exceed population_size "
                f"({population_size})."
            )
        evaluations = _Evaluations(self.space, oracle, budget)
        rng = check_random_state(self.random_state)
        population = deque()
        initial = self.space.sample(min(population_size, evaluations.budget), _seed(rng))
        for arch in initial:
            population.append((arch, evaluations.evaluate(arch)))
        while evaluations.remaining > 0:
            contenders = rng.choice(len(population), size=sample_size, replace=False)
            parent = max((population[i] for i in contenders), key=lambda member: member[1])[0]
            child = self._new_child(parent, evaluations, rng)
            population.append((child, evaluations.evaluate(child)))
            population.popleft()
        self.result_ = evaluations.result("regularized evolution")
        return self.result_


class TierSearch:
    """NAR's tier-guided search: rank sampled candidates, evaluate only the best few.

    ``run(oracle, budget)``:

    1. evaluate ``n_initial`` uniform architectures;
    2. fit a clone of ``ranker`` on the evaluated architectures and their values, and a clone
       of ``sampler`` on their quality tiers (a :class:`~sknar.tiers.TierTransformer` with
       ``n_tiers`` quantile tiers of the values);
    3. each round, draw ``n_candidates`` new architectures with the sampler (never one already
       evaluated), score them with the ranker and evaluate the ``top_k`` best;
    4. refit the ranker and the sampler on everything evaluated before the next round
       (``refit=True``), before every ``refit``-th round (an int: refits cost the most with
       a neural ranker), or never (``False``);
    5. stop when the budget (oracle calls, the initial ones included) is spent, or after
       ``n_rounds`` rounds.

    Parameters
    ----------
    ranker : estimator
        Fitted as ``ranker.fit(archs, values)``; ``ranker.predict(archs)`` must return scores,
        higher = better (e.g. ``make_pipeline(NARFeatureEncoder(space), NARRanker())``).
        Its ``random_state`` parameters left at None are seeded from ``random_state``.
    sampler : TierSampler
        Unfitted sampler of the same space (cloned, then fitted on the tiers).
    space : SearchSpace
    n_initial : int, default=50
        Uniform architectures evaluated first.
    n_candidates : int, default=500
        Candidates drawn per round.
    top_k : int, default=10
        Candidates evaluated per round (fewer in the last round if the budget is short).
    n_rounds : int or None, default=None
        Most rounds after the initial evaluations; None runs until the budget is spent.
    refit : bool or int, default=True
        Refit ranker and sampler on all evaluations before each round (True), before every
        ``refit``-th round (an int ``k >= 1``: before rounds 1, 1 + k, 1 + 2k, ...), or fit
        them only once, on the initial evaluations (False).
    n_tiers : int, default=5
        Quality tiers the sampler is fitted on.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        Print one line per round when positive.

    Attributes
    ----------
    ranker_, sampler_ : estimators
        The last fitted ranker and sampler.
    n_fits_ : int
        How many times the ranker was fitted in the last run.
    result_ : SearchResult
        The result of the last run.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sknar.sampler import TierSampler
    >>> from sknar.search import TierSearch
    >>> from sknar.spaces.nasbench201 import NASBench201Space
    >>> space = NASBench201Space()
    >>> def features(archs):
    ...     return [list(space.structure_features(arch).values()) for arch in archs]
    >>> ranker = make_pipeline(FunctionTransformer(features),
    ...                        RandomForestRegressor(n_estimators=20))
    >>> def oracle(arch):  # a toy accuracy: 3x3 convolutions, then 1x1 ones
    ...     return 10.0 * arch.count("nor_conv_3x3") + arch.count("nor_conv_1x1")
    >>> search = TierSearch(ranker, TierSampler(space), space, n_initial=30,
    ...                     n_candidates=100, top_k=10, random_state=0)
    >>> result = search.run(oracle, budget=60)
    >>> result.n_queries
    60
    """

    def __init__(
        self,
        ranker,
        sampler,
        space,
        *,
        n_initial=50,
        n_candidates=500,
        top_k=10,
        n_rounds=None,
        refit=True,
        n_tiers=5,
        random_state=None,
        verbose=0,
    ):
        self.ranker = ranker
        self.sampler = sampler
        self.space = space
        self.n_initial = n_initial
        self.n_candidates = n_candidates
        self.top_k = top_k
        self.n_rounds = n_rounds
        self.refit = refit
        self.n_tiers = n_tiers
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self, budget):
        n_initial = _check_int(self.n_initial, "n_initial", 2)
        _check_int(self.n_candidates, "n_candidates", 1)
        top_k = _check_int(self.top_k, "top_k", 1)
        _check_int(self.n_tiers, "n_tiers", 2)
        if self.n_rounds is not None:
            _check_int(self.n_rounds, "n_rounds", 0)
        refit_every = self._refit_every()
        if top_k > self.n_candidates:
            raise ValueError(
                f"top_k ({top_k}) must not exceed n_candidates ({self.n_candidates})."
            )
        if n_initial > budget:
            raise ValueError(f"n_initial ({n_initial}) exceeds the budget ({budget}).")
        return refit_every

    def _refit_every(self):
        """Rounds between refits; 0 means never refit."""
        if isinstance(self.refit, (bool, np.bool_)):
            return int(bool(self.refit))
        return _check_int(self.refit, "refit", 1)

    def _fit(self, evaluations, rng):
        archs, values = list(evaluations.archs), np.asarray(evaluations.values)
        self.ranker_ = _seed_unset_random_states(clone(self.ranker), rng)
        self.ranker_.fit(archs, values)
        tiers = TierTransformer(n_tiers=self.n_tiers).fit_transform(values)
        self.sampler_ = clone(self.sampler).set_params(random_state=_seed(rng))
        self.sampler_.fit(archs, tiers)
        self.n_fits_ += 1

    def run(self, oracle, budget):
        """Search for ``budget`` oracle calls; return a :class:`SearchResult`.

        Parameters
        ----------
        oracle : callable or TabularOracle
            ``oracle(arch) -> float``, the accuracy used for selection (higher is better).
        budget : int
            Number of oracle calls to spend, counting every evaluation.

        Returns
        -------
        result : SearchResult
            Every query with its value, the best-so-far curve and the best architecture.
        """
        evaluations = _Evaluations(self.space, oracle, budget)
        refit_every = self._check_params(evaluations.budget)
        rng = check_random_state(self.random_state)
        self.n_fits_ = 0
        for arch in self.space.sample(self.n_initial, random_state=_seed(rng)):
            evaluations.evaluate(arch)
        n_rounds = 0
        while evaluations.remaining > 0 and (self.n_rounds is None or n_rounds < self.n_rounds):
            if n_rounds == 0 or (refit_every and n_rounds % refit_every == 0):
                self._fit(evaluations, rng)
            self.sampler_.set_params(random_state=_seed(rng))
            with warnings.catch_warnings():
                # Late in a search the top tier's bins run dry; uniform draws fill in.
                warnings.filterwarnings("ignore", "only .* guided draws", RuntimeWarning)
                candidates = self.sampler_.sample(self.n_candidates, exclude=evaluations.archs)
            scores = np.asarray(self.ranker_.predict(candidates), dtype=np.float64).ravel()
            n_evaluate = min(self.top_k, evaluations.remaining)
            for index in np.argsort(-scores, kind="stable")[:n_evaluate]:
                evaluations.evaluate(candidates[index])
            n_rounds += 1
            if self.verbose > 0:
                print(
                    f"[TierSearch] round {n_rounds}: {len(evaluations.archs)} queries, "
                    f"best {max(evaluations.values):.4f}"
                )
        self.result_ = evaluations.result("tier search")
        return self.result_
