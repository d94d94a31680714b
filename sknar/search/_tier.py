"""NAR's tier-guided search: rank sampled candidates, evaluate only the best few."""

import math
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ..tiers import TierTransformer
from ._base import BaseSearch
from ._history import SearchWarning
from ._objectives import band_tiers
from ._uniform import distinct_uniform, draw_seed
from ._warm import PriorStartup

# Parents of n_parents="auto": chosen on NB201 searches with seeds outside the search suite's
# (see the search user guide).
_AUTO_PARENTS = 5

__all__ = ["TierSearch"]


def _levels(values, bands):
    if bands is not None:
        return f"{len(np.unique(bands))} band(s) of non-dominated rank or feasibility"
    return f"{len(np.unique(values))} distinct level(s)"


def _seed_unset_random_states(estimator, rng):
    """Give every ``random_state`` parameter left at None a seed from ``rng``."""
    unset = {
        name: draw_seed(rng)
        for name, value in sorted(estimator.get_params(deep=True).items())
        if name.endswith("random_state") and value is None
    }
    return estimator.set_params(**unset) if unset else estimator


class TierSearch(BaseSearch):
    """NAR's tier-guided search: rank sampled candidates, evaluate only the best few.

    1. evaluate ``n_initial`` uniform architectures (the first :meth:`ask`; failed ones
       are replaced by new uniform draws, so that the first fit sees ``n_initial`` values),
       or, with an ``initial_prior``, the ``n_initial`` best of ``n_prior_pool`` uniform
       draws by that prior's training-free scores (one per network of the space);
    2. fit a clone of ``ranker`` on the evaluated architectures and their values, and a clone
       of ``sampler`` on their quality tiers (a :class:`~sknar.tiers.TierTransformer` with
       ``n_tiers`` quantile tiers of the values);
    3. each round (each later :meth:`ask`), draw ``n_candidates`` new architectures with the
       sampler (never one already asked), add the mutants of the ``n_parents`` best
       architectures evaluated so far (``n_mutants`` draws of ``space.mutate`` each), score
       them all with the ranker and evaluate the ``top_k`` best: a round's ``top_k``
       evaluations can run at once;
    4. refit the ranker and the sampler on everything evaluated before the next round
       (``refit=True``), before every ``refit``-th round (an int: refits cost the most with
       a neural ranker), or never (``False``);
    5. stop when the budget (oracle calls, the initial ones included) is spent, after
       ``n_rounds`` rounds, or when the space is exhausted (``n_candidates`` and ``top_k``
       are clipped to the architectures left).

    The space is given once, here: the search sets it on its clone of the sampler. A sampler
    built for a space of another class is refused.

    Parameters
    ----------
    space : SearchSpace
        The space searched.
    ranker : estimator or None, default=None
        Fitted as ``ranker.fit(archs, values)``; ``ranker.predict(archs)`` must return scores,
        higher = better (e.g. ``make_pipeline(NARFeatureEncoder(space), NARRanker())``, the
        ranker used when None). Its ``random_state`` parameters left at None are seeded from
        ``random_state``.
    sampler : TierSampler or None, default=None
        Unfitted sampler (cloned, given the search's space, then fitted on the tiers);
        ``TierSampler(space)`` when None.
    n_initial : int, default=50
        Uniform architectures evaluated first.
    initial_prior : callable, transformer or None, default=None
        Knowledge that costs no training, used to choose the start-up queries: a callable
        ``initial_prior(archs) -> scores`` (higher = more promising; e.g. a parameter count)
        or a transformer whose first column of ``transform(archs)`` is such a score (e.g.
        ``ZeroCostScorer(space, scores=["synflow"])`` of :mod:`sknar.proxies`, fitted with
        ``fit()`` when unfitted, never cloned, so that its cache serves later searches).
        None draws the start-up uniformly.
    n_prior_pool : int, default=1000
        Uniform draws the ``initial_prior`` scores, once per search; the start-up evaluates
        the best ``n_initial`` of them. Ignored without ``initial_prior``.
    n_candidates : int, default=500
        Candidates drawn per round by the sampler.
    n_parents : int or "auto", default="auto"
        Best evaluated architectures whose mutants join each round's candidates: the
        networks next to the best found so far, where the best of a space often lie (a
        parent with no valid mutant adds none). 0 ranks the sampler's draws alone, as the
        NAR paper's search does. ``"auto"`` is 5 when the space implements
        :meth:`~sknar.spaces.SearchSpace.mutate` and 0 when it raises
        ``NotImplementedError`` (an int other than 0 lets that error through).
    n_mutants : int, default=30
        Draws of ``space.mutate`` per parent; mutants already asked or drawn are dropped.
    top_k : int, default=10
        Candidates evaluated per round (fewer in the last round if the budget is short).
    n_rounds : int or None, default=None
        Most rounds after the initial evaluations; None runs until the budget is spent.
    refit : bool or int, default=True
        Refit ranker and sampler on all evaluations before each round (True), before every
        ``refit``-th round (an int ``k >= 1``: before rounds 1, 1 + k, 1 + 2k, ...), or fit
        them only once, on the initial evaluations (False).
    n_tiers : int, default=5
        Quality tiers the sampler is fitted on. With several objectives or constraints the
        tiers are whole bands of non-dominated rank (see
        :func:`~sknar.search._objectives.band_tiers`): tier 0 is the first band (the front
        of what was evaluated) and the bands after it until the tier holds about
        ``1 / n_tiers`` of the evaluations; the ranker learns NSGA-II's order (see
        :attr:`SearchHistory.success_scores`).
    objectives : dict or None, default=None
        ``{name: "max" | "min"}`` searched for together; see :class:`BaseSearch`.
    constraints : dict or None, default=None
        ``{name: (op, bound)}``; see :class:`BaseSearch`.
    warm_refit : dict or None, default=None
        Parameters set on the last fitted ranker for each refit after the first, which then
        refits it in place instead of a fresh clone: e.g. ``{"narranker__warm_start": True,
        "narranker__max_epochs": 10}`` makes the refits of small rounds start from the
        previous fit's weights at a fraction of its epochs. None fits a fresh clone of
        ``ranker`` every time.
    random_state : int, RandomState instance or None, default=None
        Seeds the search; an int gives the same queries on every run.
    verbose : int, default=0
        Show a progress bar over the oracle calls of :meth:`run` when positive.

    Attributes
    ----------
    ranker_, sampler_ : estimators
        The last fitted ranker and sampler.
    n_fits_ : int
        How many times the ranker was fitted in the current search (once when a search
        resumes from its journal, however long it was).
    n_tiers_ : int or None
        The tiers the sampler follows after the last fit: fewer than ``n_tiers`` when the
        values tie too much for ``n_tiers``, None when they cannot form two tiers (the
        round's candidates are then uniform draws).
    n_rounds_ : int
        Rounds proposed so far in the current search.
    n_parents_ : int
        The ``n_parents`` in use (``"auto"`` resolved).
    result_ : SearchResult
        The evaluations of the current search.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sknar.search import TierSearch
    >>> from sknar.spaces import NASBench201Space
    >>> space = NASBench201Space()
    >>> def features(archs):
    ...     return [list(space.structure_features(arch).values()) for arch in archs]
    >>> ranker = make_pipeline(FunctionTransformer(features),
    ...                        RandomForestRegressor(n_estimators=20))
    >>> def oracle(arch):  # a toy accuracy: 3x3 convolutions, then 1x1 ones
    ...     return 10.0 * arch.count("nor_conv_3x3") + arch.count("nor_conv_1x1")
    >>> search = TierSearch(space, ranker=ranker, n_initial=30, n_candidates=100,
    ...                     top_k=10, random_state=0)
    >>> result = search.run(oracle, budget=60)
    >>> result.n_queries
    60
    """

    _parameter_constraints = {
        **BaseSearch._parameter_constraints,
        "ranker": [HasMethods(["fit", "predict"]), None],
        "sampler": [HasMethods(["fit", "sample", "set_params"]), None],
        "n_initial": [Interval(Integral, 2, None, closed="left")],
        "initial_prior": [callable, HasMethods(["transform"]), None],
        "n_prior_pool": [Interval(Integral, 1, None, closed="left")],
        "n_candidates": [Interval(Integral, 1, None, closed="left")],
        "n_parents": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "n_mutants": [Interval(Integral, 1, None, closed="left")],
        "top_k": [Interval(Integral, 1, None, closed="left")],
        "n_rounds": [Interval(Integral, 0, None, closed="left"), None],
        "refit": ["boolean", Interval(Integral, 1, None, closed="left")],
        "n_tiers": [Interval(Integral, 2, None, closed="left")],
        "warm_refit": [dict, None],
    }
    _method = "tier search"

    def __init__(
        self,
        space,
        *,
        ranker=None,
        sampler=None,
        n_initial=50,
        initial_prior=None,
        n_prior_pool=1000,
        n_candidates=500,
        n_parents="auto",
        n_mutants=30,
        top_k=10,
        n_rounds=None,
        refit=True,
        n_tiers=5,
        objectives=None,
        constraints=None,
        warm_refit=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            space,
            objectives=objectives,
            constraints=constraints,
            random_state=random_state,
            verbose=verbose,
        )
        self.ranker = ranker
        self.sampler = sampler
        self.n_initial = n_initial
        self.initial_prior = initial_prior
        self.n_prior_pool = n_prior_pool
        self.n_candidates = n_candidates
        self.n_parents = n_parents
        self.n_mutants = n_mutants
        self.top_k = top_k
        self.n_rounds = n_rounds
        self.refit = refit
        self.n_tiers = n_tiers
        self.warm_refit = warm_refit

    def _check_params(self, budget):
        if self.top_k > self.n_candidates:
            raise ValueError(
                f"top_k ({self.top_k}) must not exceed n_candidates ({self.n_candidates})."
            )
        if budget is not None and self.n_initial > budget:
            raise ValueError(f"n_initial ({self.n_initial}) exceeds the budget ({budget}).")
        sampler_space = None if self.sampler is None else self.sampler.get_params().get("space")
        if sampler_space is not None and type(sampler_space) is not type(self.space):
            raise ValueError(
                f"the sampler was built for a {type(sampler_space).__name__} but the search "
                f"runs on a {type(self.space).__name__}; TierSearch gives its sampler its own "
                "space, so build the sampler for the same kind of space (or leave sampler "
                "at None)."
            )

    def _refit_every(self):
        """Rounds between refits; 0 means never refit."""
        if isinstance(self.refit, (bool, np.bool_)):
            return int(bool(self.refit))
        return int(self.refit)

    def _n_startup(self):
        return self.n_initial

    def _start(self, history):
        self.n_fits_ = 0
        self.n_rounds_ = 0
        self.n_parents_ = _AUTO_PARENTS if self.n_parents == "auto" else self.n_parents
        self.n_tiers_ = None
        self.sampler_ = None
        self._prior_startup = (
            None
            if self.initial_prior is None
            else PriorStartup(self.space, self.initial_prior, self.n_prior_pool)
        )

    def _startup(self, history, n):
        """Uniform start-up draws, or the best of a pool by ``initial_prior``."""
        short = self._n_startup() - history.n_ok - history.n_pending
        if self._prior_startup is None or self._n_startup() <= history.n_ok:
            return super()._startup(history, n)
        if short <= 0:
            return []  # wait for the start-up results already asked for
        draws = self._prior_startup.next(history, min(short, n))
        return draws if draws else super()._startup(history, n)

    def _propose(self, history, n):
        if self.n_rounds_ == 0 and history.n_told > self.n_initial:
            # A resumed search: its rounds so far, as its journal's length tells them.
            self.n_rounds_ = math.ceil((history.n_told - self.n_initial) / self.top_k)
        if self.n_rounds is not None and self.n_rounds_ >= self.n_rounds:
            return self._exhausted("n_rounds")
        refit_every = self._refit_every()
        if self.n_fits_ == 0 or (refit_every and self.n_rounds_ % refit_every == 0):
            self._fit(history)
        candidates = self._candidates(history)
        if not candidates:
            return self._exhausted(
                message=f"the space {self.space.name} supplied no new candidate. The search "
                "ends."
            )
        candidates = candidates + self._mutants_of_best(history, candidates)
        candidates = self._feasible(history, candidates)  # cost constraints: before ranking
        if not candidates:
            return []
        scores = np.asarray(self.ranker_.predict(candidates), dtype=np.float64).ravel()
        self.n_rounds_ += 1
        top_k = min(self.top_k, n)
        return [candidates[index] for index in np.argsort(-scores, kind="stable")[:top_k]]

    def _candidates(self, history):
        """The round's draws: the sampler's, or uniform ones when it has no tiers to follow
        or the space (of unknown size) cannot supply ``n_candidates``."""
        n_left = history.n_left
        n_candidates = self.n_candidates if n_left is None else min(self.n_candidates, n_left)
        seed = draw_seed(history.rng)
        if self.n_tiers_ is not None:
            try:
                with warnings.catch_warnings():
                    # Late in a search the top tier's bins run dry; uniform draws fill in.
                    warnings.filterwarnings("ignore", category=SearchWarning)
                    return list(
                        self.sampler_.sample(
                            n_candidates, exclude=history.taken_archs, random_state=seed
                        )
                    )
            except ValueError:
                if n_left is not None:
                    raise
        return distinct_uniform(
            self.space, n_candidates, history.taken, history.rng, allow_fewer=True
        )

    def _mutants_of_best(self, history, candidates):
        """New mutants of the ``n_parents`` best evaluated architectures, none already
        asked or among ``candidates``, none twice."""
        taken = set(history.taken) | {self.space.hash(arch) for arch in candidates}
        success_archs = history.success_archs
        best_first = np.argsort(-history.success_scores, kind="stable")
        mutants = []
        for index in best_first[: self.n_parents_]:
            for _ in range(self.n_mutants):
                try:
                    child = self.space.mutate(success_archs[index], random_state=history.rng)
                except NotImplementedError:
                    if self.n_parents != "auto":
                        raise
                    self.n_parents_ = 0  # the space cannot mutate: its draws alone
                    return mutants
                except ValueError:
                    break  # no valid mutant of this parent
                key = self.space.hash(child)
                if key not in taken:
                    taken.add(key)
                    mutants.append(child)
        return mutants

    def _fit(self, history):
        # With several objectives or constraints: the scores (bands of non-dominated rank).
        archs, values = list(history.success_archs), history.success_scores
        if self.warm_refit is not None and self.n_fits_:
            self.ranker_.set_params(**self.warm_refit)
        else:
            self.ranker_ = _seed_unset_random_states(clone(self._ranker()), history.rng)
        self.ranker_.fit(archs, values)
        self._fit_sampler(archs, values, history.rng, history.success_bands)
        self.n_fits_ += 1

    def _fit_sampler(self, archs, values, rng, bands=None):
        """Fit the sampler on the most tiers (up to ``n_tiers``) the values allow.

        Ties are data: values with fewer distinct levels than ``n_tiers`` (a constant
        oracle, chance-level accuracies) get fewer tiers; with no two tiers to tell apart,
        the round's candidates are uniform draws.
        """
        if self.sampler_ is None:
            # One sampler, refitted each time: it keeps its listing of the space.
            self.sampler_ = clone(self._sampler()).set_params(space=self.space)
        seed = draw_seed(rng)
        previous = self.n_tiers_ if self.n_fits_ else self.n_tiers
        for n_tiers in range(self.n_tiers, 1, -1):
            try:
                tiers = (
                    TierTransformer(n_tiers=n_tiers).fit_transform(values)
                    if bands is None
                    else band_tiers(bands, n_tiers)
                )
                self.sampler_.set_params(random_state=seed).fit(archs, tiers)
            except ValueError:
                continue
            self.n_tiers_ = n_tiers
            break
        else:
            self.n_tiers_ = None
        if self.n_tiers_ != self.n_tiers and self.n_tiers_ != previous:
            warnings.warn(
                f"the {len(values)} values hold {_levels(values, bands)}: "
                f"the sampler follows {self.n_tiers_ or 'no'} tier(s) instead of "
                f"{self.n_tiers}{'' if self.n_tiers_ else ' (uniform candidates)'}; the "
                "search goes on.",
                SearchWarning,
                stacklevel=2,
            )

    def _ranker(self):
        if self.ranker is not None:
            return self.ranker
        from sklearn.pipeline import make_pipeline

        from ..encoding import NARFeatureEncoder
        from ..ranker import NARRanker

        return make_pipeline(NARFeatureEncoder(self.space), NARRanker())

    def _sampler(self):
        if self.sampler is not None:
            return self.sampler
        from ..sampler import TierSampler

        return TierSampler(self.space)
