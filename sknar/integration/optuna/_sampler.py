"""NAR's tier search as an Optuna sampler."""

import math
import threading
import warnings

import numpy as np
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import StudyDirection
from optuna.trial import TrialState

from ._suggest import NETWORK_ATTR, _distributions, network_key

__all__ = ["NARSampler"]

# The system attribute under which Optuna's own samplers keep constraint values.
_CONSTRAINTS_KEY = "constraints"
_UNFINISHED = (TrialState.RUNNING, TrialState.WAITING)
# How many drawn networks a trial may lose to other workers' claims before it gives up
# its claim and draws uniformly.
_MAX_CLAIMS = 50


class NARSampler(BaseSampler):
    """Propose a study's next architecture the way :class:`~sknar.search.TierSearch` does.

    The objective declares the architecture with :func:`suggest_architecture`; this sampler
    chooses it (Optuna's relative sampling over the space's parameters) from what the study
    holds, whichever process or machine ran its trials:

    1. until ``n_startup_trials`` trials have completed, uniform draws of the space;
    2. then a :class:`~sknar.search.TierSearch` told every finished trial: it fits
       ``ranker`` on the completed ones and ``sampler`` on their tiers, draws
       ``n_candidates`` architectures, adds the mutants of the best (``n_parents``,
       ``n_mutants``) and keeps the ``top_k`` best ranked, which the next trials take in
       order. The fitted search is cached: it is rebuilt (the ranker refitted) only once
       ``refit_every`` more trials have completed since the last fit, because refitting NAR
       takes seconds to minutes; in between, newly finished trials are told to it without
       a refit, and an exhausted list is refilled with the same fitted ranker;
    3. never a network (:func:`network_key`, isomorphic twins merged by default) that the
       study has completed, failed, pruned or is running. Before it returns, the sampler
       claims the network (the trial's user attribute ``"sknar_network"``) and reads the
       running trials again: if another one claims the same network, it draws the next
       one. Of two workers that claim one network at once, at least one sees the other's
       claim (each writes before it reads), so two running trials never hold one network;
       both may give it up, which costs a draw, not an evaluation.

    Failed trials (an exception, a NaN value) are never proposed again and are not learnt
    from; pruned trials are failures too (a ranker aware of fidelities is future work), and
    so are completed trials whose parameters make no architecture.

    Several objectives (``study.directions``): each completed trial is scored by its
    non-dominated front (better fronts higher; inside a front, by the mean of its
    objectives scaled to [0, 1] and oriented by their directions) and the ranker learns that
    score. ``constraints_func`` (as Optuna's samplers take it): its values are stored on
    each finished trial (the system attribute ``"constraints"`` that Optuna's samplers and
    dashboard read); a trial with a value above 0 is infeasible and scored below every
    feasible one, less the larger its total violation.

    Parameters other than the space's (a learning rate next to the architecture) are drawn
    by ``independent_sampler``.

    Parameters
    ----------
    space : SearchSpace
        The space the objective's :func:`suggest_architecture` declares.
    ranker : estimator or None, default=None
        ``fit(archs, values)`` / ``predict(archs)`` with higher = better; NAR
        (``make_pipeline(NARFeatureEncoder(space), NARRanker())``) when None.
    sampler : TierSampler or None, default=None
        The tier sampler of the search; ``TierSampler(space)`` when None.
    n_startup_trials : int, default=50
        Completed trials before the ranker is used (the tier search's ``n_initial``).
    n_candidates : int, default=500
        Candidates drawn per list by the tier sampler.
    n_parents : int or "auto", default="auto"
        Best completed architectures whose mutants join the candidates (see TierSearch).
    n_mutants : int, default=30
        Mutants drawn per parent.
    top_k : int, default=10
        Best-ranked candidates kept per list.
    refit_every : int, default=10
        Refit once this many more trials have completed since the last fit (1 refits before
        every trial, as a sequential tier search with ``top_k=1`` would).
    n_tiers : int, default=5
        Quality tiers of the tier sampler.
    merge_isomorphic : bool, default=True
        A network's isomorphic twins count as that network (see :func:`network_key`).
    constraints_func : callable or None, default=None
        ``constraints_func(frozen_trial) -> sequence of float``, a value above 0 being a
        violation; called after each completed or pruned trial.
    independent_sampler : BaseSampler or None, default=None
        Draws the parameters that are not the space's; ``RandomSampler(seed)`` when None.
    seed : int or None, default=None
        Seeds the draws and the searches (each fit gets a seed from it).

    Attributes
    ----------
    n_fits_ : int
        Ranker fits made by this sampler object (in this process).

    Examples
    --------
    >>> import optuna
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sknar.integration.optuna import NARSampler, suggest_architecture
    >>> from sknar.spaces import NASBench201Space
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> space = NASBench201Space()
    >>> def features(archs):
    ...     return [list(space.structure_features(arch).values()) for arch in archs]
    >>> ranker = make_pipeline(FunctionTransformer(features),
    ...                        RandomForestRegressor(n_estimators=20, random_state=0))
    >>> sampler = NARSampler(space, ranker=ranker, n_startup_trials=15,
    ...                      n_candidates=100, n_tiers=3, seed=0)
    >>> def objective(trial):  # a toy accuracy: 3x3 convolutions, 1x1 ones, small cells
    ...     arch = suggest_architecture(trial, space)
    ...     params = space.total_cost(arch)["params"]
    ...     return 10.0 * arch.count("nor_conv_3x3") + arch.count("nor_conv_1x1") - params / 1e7
    >>> study = optuna.create_study(direction="maximize", sampler=sampler)
    >>> study.optimize(objective, n_trials=30)
    >>> keys = [t.user_attrs["sknar_network"] for t in study.trials]
    >>> len(set(keys)), study.best_value > 35
    (30, True)
    """

    def __init__(
        self,
        space,
        *,
        ranker=None,
        sampler=None,
        n_startup_trials=50,
        n_candidates=500,
        n_parents="auto",
        n_mutants=30,
        top_k=10,
        refit_every=10,
        n_tiers=5,
        merge_isomorphic=True,
        constraints_func=None,
        independent_sampler=None,
        seed=None,
    ):
        self.space = space
        self.ranker = ranker
        self.sampler = sampler
        self.n_startup_trials = n_startup_trials
        self.n_candidates = n_candidates
        self.n_parents = n_parents
        self.n_mutants = n_mutants
        self.top_k = top_k
        self.refit_every = refit_every
        self.n_tiers = n_tiers
        self.merge_isomorphic = merge_isomorphic
        self.constraints_func = constraints_func
        self.independent_sampler = independent_sampler
        self.seed = seed
        self._check_params()
        # Optuna builds its samplers once and keeps them: the working state lives here.
        self._rng = np.random.RandomState(seed)
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._search = None
        self._queue = []
        self._told = set()  # trial numbers told to the search
        self._n_fitted_on = 0
        self.n_fits_ = 0
        # study.optimize(n_jobs=k) shares one sampler between k threads.
        self._lock = threading.Lock()

    def __getstate__(self):
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _check_params(self):
        for name in ("n_startup_trials", "n_candidates", "n_mutants", "top_k", "refit_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if self.n_startup_trials < 2:
            raise ValueError(
                f"n_startup_trials must be at least 2 (the ranker's first fit needs two "
                f"values), got {self.n_startup_trials}"
            )
        if self.top_k > self.n_candidates:
            raise ValueError(
                f"top_k ({self.top_k}) must not exceed n_candidates ({self.n_candidates})"
            )
        if self.constraints_func is not None and not callable(self.constraints_func):
            raise ValueError(f"constraints_func must be callable, got {self.constraints_func!r}")
        try:
            self.space.parameter_choices()
        except (AttributeError, NotImplementedError) as exc:
            raise ValueError(
                f"the space {self.space!r} has no parameter_choices(); NARSampler needs a "
                "space that describes its parameters (see SearchSpace.parameter_choices): "
                f"{exc}"
            ) from exc

    def __repr__(self):
        return f"NARSampler({self.space!r}, seed={self.seed!r})"

    # --- Optuna's sampler interface -------------------------------------------------------

    def reseed_rng(self):
        """Reseed the draws (Optuna calls it in each thread of ``n_jobs > 1``)."""
        self._rng = np.random.RandomState()
        self._independent.reseed_rng()

    def infer_relative_search_space(self, study, trial):
        """The space's parameters as categorical distributions.

        Parameters
        ----------
        study : optuna.Study
            The study.
        trial : optuna.trial.FrozenTrial
            The trial about to be sampled.

        Returns
        -------
        search_space : dict
            ``{name: CategoricalDistribution}`` of the space's
            :meth:`~sknar.spaces.SearchSpace.parameter_choices`.
        """
        return _distributions(self.space)

    def sample_relative(self, study, trial, search_space):
        """Choose, claim and return the next architecture's parameters.

        Parameters
        ----------
        study : optuna.Study
            The study, whose storage holds every worker's trials.
        trial : optuna.trial.FrozenTrial
            The trial to sample; its ``"sknar_network"`` user attribute is set (the claim).
        search_space : dict
            From :meth:`infer_relative_search_space`.

        Returns
        -------
        params : dict
            ``{name: value}`` of the architecture; empty when every network is taken.
        """
        if not search_space:
            return {}
        with self._lock:
            return self._sample_and_claim(study, trial)

    def _sample_and_claim(self, study, trial):
        history = _History.read(self, study, exclude_trial_id=trial._trial_id)
        storage = study._storage
        for _ in range(_MAX_CLAIMS):
            arch = self._next_architecture(history)
            if arch is None:
                warnings.warn(
                    f"every network of {self.space!r} is completed, failed or running in "
                    f"study {study.study_name!r}; this trial's parameters are drawn by "
                    f"{type(self._independent).__name__} and may repeat a network.",
                    UserWarning,
                    stacklevel=3,
                )
                return {}
            key = network_key(self.space, arch, merge_isomorphic=self.merge_isomorphic)
            storage.set_trial_user_attr(trial._trial_id, NETWORK_ATTR, key)
            if key not in history.running_keys(self, study, exclude_trial_id=trial._trial_id):
                return self.space.to_parameters(arch)
            history.taken.add(key)  # another worker holds it: draw the next one
        storage.set_trial_user_attr(trial._trial_id, NETWORK_ATTR, None)
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        """Draw a parameter that is not the space's with ``independent_sampler``.

        Parameters
        ----------
        study : optuna.Study
            The study.
        trial : optuna.trial.FrozenTrial
            The trial.
        param_name : str
            The parameter's name.
        param_distribution : optuna.distributions.BaseDistribution
            Its distribution.

        Returns
        -------
        value : object
            The independent sampler's draw.
        """
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        """Pass the trial's start to the independent sampler.

        Parameters
        ----------
        study : optuna.Study
            The study.
        trial : optuna.trial.FrozenTrial
            The trial starting.
        """
        self._independent.before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        """Store the constraint values of a finished trial (with ``constraints_func``).

        Parameters
        ----------
        study : optuna.Study
            The study.
        trial : optuna.trial.FrozenTrial
            The finished trial.
        state : optuna.trial.TrialState
            Its final state.
        values : list of float or None
            Its values.
        """
        if self.constraints_func is not None and state in (
            TrialState.COMPLETE,
            TrialState.PRUNED,
        ):
            constraints = tuple(float(value) for value in self.constraints_func(trial))
            if any(math.isnan(value) for value in constraints):
                raise ValueError(f"constraints_func returned NaN for trial {trial.number}")
            study._storage.set_trial_system_attr(trial._trial_id, _CONSTRAINTS_KEY, constraints)
        self._independent.after_trial(study, trial, state, values)

    # --- proposing ----------------------------------------------------------------------

    def _next_architecture(self, history):
        """The next architecture whose network is not taken, or None if none is left."""
        if len(history.archs) < self.n_startup_trials:
            return self._uniform(history.taken)
        if self._search is None:
            self._search = self._new_search()
        self._tell_new(history)
        if self.n_fits_ == 0 or len(history.archs) - self._n_fitted_on >= self.refit_every:
            self._refill(history, refit=True)
        for attempt in range(2):
            while self._queue:
                arch = self._queue.pop(0)
                key = network_key(self.space, arch, merge_isomorphic=self.merge_isomorphic)
                if key not in history.taken:
                    return arch
            if attempt == 0:
                # The list is used up (or other workers took it): a new one, ranked by the
                # ranker fitted last unless no fit succeeded yet.
                self._refill(history, refit=self.n_fits_ == 0)
        return self._uniform(history.taken)

    def _new_search(self):
        from ...search import TierSearch

        # One search for the whole study, so that the tier sampler's listing of the space
        # is built once; a round (an ask) refits ranker and sampler when refit is True.
        return TierSearch(
            self.space,
            ranker=self.ranker,
            sampler=self.sampler,
            n_initial=self.n_startup_trials,
            n_candidates=self.n_candidates,
            n_parents=self.n_parents,
            n_mutants=self.n_mutants,
            top_k=self.top_k,
            refit=True,
            n_tiers=self.n_tiers,
            random_state=self._rng.randint(np.iinfo(np.int32).max),
        )

    def _refill(self, history, *, refit):
        """The ``top_k`` best-ranked new candidates, after a refit on everything told when
        ``refit``."""
        if refit:
            self._n_fitted_on = len(history.archs)
        self._search.set_params(refit=refit)
        try:
            self._queue = list(self._search.ask())
        except ValueError as exc:
            # e.g. too few architectures per tier when many values tie: draw uniformly
            # until more trials complete.
            warnings.warn(
                f"NARSampler could not fit on {len(history.archs)} completed trials "
                f"({exc}); this trial is drawn uniformly.",
                UserWarning,
                stacklevel=3,
            )
            self._queue = []
        self.n_fits_ = getattr(self._search, "n_fits_", 0)

    def _tell_new(self, history):
        """Tell the cached search the finished trials it has not heard of yet."""
        archs, values = [], []
        for number, arch, value in history.finished():
            if number not in self._told:
                self._told.add(number)
                archs.append(arch)
                values.append(value)
        if archs:
            self._search.tell(archs, values)

    def _uniform(self, taken):
        """A uniform draw whose network is not taken, or None when the space has none left."""
        size = self.space.size
        for attempt in range(20):
            n = 32 if size is None else min(size, 32 * (attempt + 1))
            try:
                draws = self.space.sample(n, random_state=self._rng)
            except ValueError:
                return None
            for arch in draws:
                key = network_key(self.space, arch, merge_isomorphic=self.merge_isomorphic)
                if key not in taken:
                    return arch
        if size is not None:  # a space nearly used up: look through all of it
            for arch in self.space.enumerate():
                key = network_key(self.space, arch, merge_isomorphic=self.merge_isomorphic)
                if key not in taken:
                    return arch
        return None


class _History:
    """What a study holds, as a searcher needs it: learnable values and taken networks."""

    def __init__(self):
        self.numbers = []  # completed, learnable trials
        self.archs = []
        self.values = []
        self.failed = []  # (number, arch) of failed, pruned, unscorable trials
        self.taken = set()

    @classmethod
    def read(cls, sampler, study, *, exclude_trial_id):
        history = cls()
        space = sampler.space
        completed = []
        for trial in study.get_trials(deepcopy=False):
            if trial._trial_id == exclude_trial_id:
                continue
            arch = _arch_of(space, trial)
            key = trial.user_attrs.get(NETWORK_ATTR)
            if arch is not None:
                key = network_key(space, arch, merge_isomorphic=sampler.merge_isomorphic)
            if key is not None:
                history.taken.add(key)
            if trial.state in _UNFINISHED or arch is None:
                continue
            if trial.state == TrialState.COMPLETE and _finite(trial.values):
                completed.append((trial, arch))
            else:
                history.failed.append((trial.number, arch))
        scores = _scores(study, [trial for trial, _ in completed])
        for (trial, arch), score in zip(completed, scores):
            history.numbers.append(trial.number)
            history.archs.append(arch)
            history.values.append(float(score))
        return history

    def finished(self):
        """``(number, arch, value)`` of every finished trial; None for the failed ones."""
        yield from zip(self.numbers, self.archs, self.values)
        for number, arch in self.failed:
            yield number, arch, None

    def running_keys(self, sampler, study, *, exclude_trial_id):
        """The networks of the other running trials, read from the storage now."""
        trials = study._storage.get_all_trials(study._study_id, deepcopy=False, states=_UNFINISHED)
        keys = set()
        for trial in trials:
            if trial._trial_id == exclude_trial_id:
                continue
            key = trial.user_attrs.get(NETWORK_ATTR)
            if key is not None:
                keys.add(key)
        return keys


def _arch_of(space, trial):
    try:
        return space.from_parameters(trial.params)
    except ValueError:
        return None


def _finite(values):
    return values is not None and all(math.isfinite(value) for value in values)


def _scores(study, trials):
    """Higher-is-better scores of completed trials: oriented values, fronts, constraints."""
    if not trials:
        return np.zeros(0)
    signs = np.array([1.0 if d == StudyDirection.MAXIMIZE else -1.0 for d in study.directions])
    values = np.array([trial.values for trial in trials], dtype=np.float64) * signs
    if values.shape[1] == 1:
        scores = values[:, 0]
    else:
        scores = _front_scores(values)
    violations = np.array([_violation(trial) for trial in trials])
    infeasible = violations > 0
    if infeasible.any():
        feasible = scores[~infeasible]
        floor = feasible.min() if feasible.size else 0.0
        spread = np.ptp(feasible) if feasible.size > 1 else 1.0
        spread = spread if spread > 0 else 1.0
        scaled = violations[infeasible] / violations[infeasible].max()
        scores = scores.copy()
        scores[infeasible] = floor - spread * (1.0 + scaled)
    return scores


def _violation(trial):
    constraints = trial.system_attrs.get(_CONSTRAINTS_KEY)
    if constraints is None:
        return 0.0
    return float(sum(max(0.0, float(value)) for value in constraints))


def _front_scores(values):
    """Minus the non-dominated front of each row (maximizing every column), plus a
    tie-break in [0, 0.5) by the mean of the columns scaled to [0, 1]."""
    n = len(values)
    at_least = (values[:, None, :] >= values[None, :, :]).all(axis=2)
    better = (values[:, None, :] > values[None, :, :]).any(axis=2)
    dominates = at_least & better  # dominates[i, j]: row i dominates row j
    fronts = np.full(n, -1)
    n_dominating = dominates.sum(axis=0)
    front, current = 0, np.flatnonzero(n_dominating == 0)
    while current.size:
        fronts[current] = front
        n_dominating = n_dominating - dominates[current].sum(axis=0)
        n_dominating[fronts >= 0] = -1
        current = np.flatnonzero(n_dominating == 0)
        front += 1
    low, span = values.min(axis=0), np.ptp(values, axis=0)
    scaled = (values - low) / np.where(span > 0, span, 1.0)
    return -fronts + 0.49 * scaled.mean(axis=1)
