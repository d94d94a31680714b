"""Tier-guided sampling of candidate architectures.

:class:`TierSampler` learns, from architectures labelled with global quality tiers, how the
cost and structure features (total FLOPs, parameter count, op counts, ...) of the top tier
are distributed, decides which of these features tell the top tier apart from the bottom
tiers, and draws new architectures whose features follow the top tier on those features.
"""

import warnings
from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np
from scipy.spatial.distance import jensenshannon
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from .search._history import SearchWarning
from .spaces import SearchSpace

__all__ = ["TierSampler"]

_COST_FEATURES = ("flops", "params")
_SEED_MAX = np.iinfo(np.int32).max


# --- features ---------------------------------------------------------------------------


def _expand_feature_names(space, features, example_arch, dataset):
    """Resolve ``features`` ("flops", "params", "structure" or structure keys) to names."""
    if isinstance(features, str):
        features = (features,)
    structure_keys = list(space.structure_features(example_arch))
    costs_available = _costs_available(space, example_arch, dataset)
    names = []
    for feature in features:
        if feature == "structure":
            expanded = structure_keys
        elif feature in _COST_FEATURES and not costs_available:
            # A space without whole-network costs (NAS-Bench-Graph) keeps its structure.
            expanded = []
        elif feature in _COST_FEATURES or feature in structure_keys:
            expanded = [feature]
        else:
            raise ValueError(
                f"unknown feature {feature!r} in features; use 'flops', 'params', "
                f"'structure' or one of the structure features of {space.name}: "
                f"{structure_keys}"
            )
        names.extend(name for name in expanded if name not in names)
    if not names:
        raise ValueError(
            f"no usable feature in features={tuple(features)!r}: {space.name} has no "
            "total_cost; add 'structure'."
        )
    return names


def _costs_available(space, example_arch, dataset):
    """Whether ``space.total_cost`` works (some spaces publish no costs)."""
    try:
        space.total_cost(example_arch, dataset)
    except NotImplementedError:
        return False
    return True


def _feature_matrix(space, archs, names, dataset):
    """Float matrix (n_archs, n_features) of the named features of canonical ``archs``."""
    need_structure = any(name not in _COST_FEATURES for name in names)
    costs = _total_costs(space, archs, dataset, names)
    rows = np.empty((len(archs), len(names)), dtype=np.float64)
    for row, arch in enumerate(archs):
        values = {name: column[row] for name, column in costs.items()}
        if need_structure:
            values.update(space.structure_features(arch))
        rows[row] = [values[name] for name in names]
    return rows


def _total_costs(space, archs, dataset, names):
    """The cost columns ``names`` asks for, from the space's vectorised ``total_costs``."""
    if not any(name in _COST_FEATURES for name in names) or not archs:
        return {name: np.zeros(0) for name in _COST_FEATURES if name in names}
    flops, params = space.total_costs(archs, dataset)
    return {"flops": np.asarray(flops), "params": np.asarray(params)}


def _shared_bin_edges(values, n_bins):
    """Bin edges shared by all tiers for one feature.

    A feature with at most ``n_bins`` distinct values gets one bin per value (edges halfway
    between neighbours); otherwise the inner edges are the distinct equal-frequency quantiles
    of the pooled values, so skewed features such as FLOPs do not leave most bins empty.
    """
    distinct = np.unique(values)
    if distinct.size <= n_bins:
        inner = (distinct[1:] + distinct[:-1]) / 2.0
    else:
        inner = np.unique(np.quantile(values, np.arange(1, n_bins) / n_bins))
        # An edge equal to the maximum would leave the last bin empty by construction.
        inner = inner[inner < distinct[-1]]
    return np.concatenate(([distinct[0]], inner, [distinct[-1]]))


def _assign_bins(values, edges):
    """Bin index of each value; values outside the fitted range go to the end bins."""
    return np.searchsorted(edges[1:-1], values, side="right")


def _js_divergence(p, q):
    """Jensen-Shannon divergence in bits (0 = same distribution, 1 = disjoint supports)."""
    return float(jensenshannon(p, q, base=2) ** 2)


def _group_divergence(bins_a, bins_b, n_feature_bins):
    """Jensen-Shannon divergence between the bin histograms of two groups."""
    counts_a = np.bincount(bins_a, minlength=n_feature_bins)
    counts_b = np.bincount(bins_b, minlength=n_feature_bins)
    return _js_divergence(counts_a / counts_a.sum(), counts_b / counts_b.sum())


# --- candidate pools --------------------------------------------------------------------


class _Pool:
    """Architectures that guided draws pick from, with their hashes and features."""

    def __init__(self, names):
        self.names = names
        self.listing = None
        self.archs = []
        self.hashes = []
        self.index_of = {}
        self.features = np.empty((0, len(names)))

    def extend(self, space, archs, dataset):
        fresh = []
        for arch in archs:
            key = space.hash(arch)
            if key not in self.index_of:
                self.index_of[key] = len(self.hashes)
                self.hashes.append(key)
                fresh.append(arch)
        self.archs.extend(fresh)
        if fresh:
            self.features = np.vstack(
                [self.features, _feature_matrix(space, fresh, self.names, dataset)]
            )
        return len(fresh)

    def __len__(self):
        return len(self.archs)


# --- the sampler ------------------------------------------------------------------------


class TierSampler(BaseEstimator):
    """Draw architectures whose cost and structure follow the top quality tier.

    ``fit`` takes architectures and their global quality tiers (0 = best), e.g. from a
    :class:`~sknar.tiers.TierTransformer` on measured accuracies or from a fitted ranker's
    ``predict_tier``. For each feature it builds normalised per-tier histograms on bin edges
    shared by all tiers and measures, with the Jensen-Shannon divergence (in bits, between 0
    and 1), how far the top tier's histogram is from that of the bottom tiers (the lower
    ``n_tiers // 2`` tiers pooled). A feature is selected when its divergence reaches
    ``divergence_threshold`` and, since small tiers inflate the divergence of any feature,
    also exceeds the ``1 - significance`` quantile of its divergence when the top and bottom
    architectures are shuffled between the two groups (a permutation test).

    ``sample(n)`` returns ``n`` distinct valid architectures:

    - the first ``round(n * (1 - noise))`` are *guided*: for each, a bin of every selected
      feature is drawn independently from the top tier's histogram, then an architecture whose
      features fall in all the drawn bins is picked uniformly among the candidates not yet
      returned nor excluded. A bin combination that no candidate fills is redrawn, so the
      guided share follows the product of the top tier's marginal histograms restricted to
      combinations the space can realise. When no feature is selected, every draw is uniform;
    - the rest are drawn uniformly from the space;
    - none is in ``exclude`` (matched by ``space.hash``) and none is returned twice.

    The candidates of guided draws come from one of two sources (``candidates``):

    - ``"enumerate"``: the whole space, listed with ``space.enumerate()`` at the first
      ``sample`` call after ``fit`` and kept with its features on the fitted sampler, also
      across refits on the same space, dataset and features (copies and pickles of the
      sampler leave it out), so each call
      filters the enumerated space by bin (exact; meant for small spaces such as
      NAS-Bench-201 or NAS-Bench-Graph, whose listing takes about a second);
    - ``"rejection"``: uniform draws of ``batch_size`` architectures from ``space.sample``,
      accumulated during one call; a drawn bin combination with no match among them makes the
      sampler draw another batch (at most ``max_batches`` per call) before the combination is
      redrawn. Nothing is ever enumerated, which suits large spaces such as NAS-Bench-101.
    - ``"auto"``: ``"enumerate"`` when the size of the space is known and at most
      ``max_enumerate``, ``"rejection"`` otherwise. The size is the space's ``size``:
      NAS-Bench-201 and NAS-Bench-Graph are small, NAS-Bench-101 is large, and user spaces
      that leave ``size`` at None (unknown) are sampled by rejection.

    Parameters
    ----------
    space : SearchSpace
        The search space: any :class:`~sknar.spaces.SearchSpace` (see the protocol of
        :mod:`sknar.spaces`).
    dataset : str, default=None
        Dataset whose macro network the costs refer to (``space.total_cost(arch, dataset)``).
    n_bins : int, default=8
        Largest number of histogram bins per feature.
    divergence_threshold : float, default=0.05
        Smallest Jensen-Shannon divergence (bits) between the top and the bottom tiers for a
        feature to be selected.
    significance : float in (0, 1) or None, default=0.05
        Level of the permutation test a feature must also pass; None selects on
        ``divergence_threshold`` alone.
    n_permutations : int, default=200
        Number of shuffles of the permutation test.
    noise : float in [0, 1], default=0.5
        Share of uniform draws in each sample.
    features : tuple of str, default=("flops", "params", "structure")
        Features to consider: ``"flops"`` and ``"params"`` (``space.total_cost``),
        ``"structure"`` (every entry of ``space.structure_features``) or the name of one
        structure feature (e.g. ``"n_edges"``). Cost features are skipped on spaces whose
        ``total_cost`` raises NotImplementedError (NAS-Bench-Graph).
    min_tier_size : int, default=3
        Fewest architectures each tier must hold in ``fit``.
    candidates : {"auto", "enumerate", "rejection"}, default="auto"
        Where guided draws find their architectures (see above).
    max_enumerate : int, default=100_000
        Largest space that ``candidates="auto"`` enumerates.
    batch_size : int, default=1000
        Architectures per uniform batch in the rejection mode.
    max_batches : int, default=5
        Most batches drawn per ``sample`` call in the rejection mode.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws; with an int, equal calls return equal architectures.

    Attributes
    ----------
    feature_names_ : list of str
        The features considered, in the column order of the histograms.
    n_tiers_ : int
        Number of tiers seen in ``fit``.
    bottom_tiers_ : ndarray of int
        The tiers pooled as "bottom" for the divergences.
    bin_edges_ : dict of str -> ndarray
        Shared bin edges per feature (first and last are the fitted minimum and maximum).
    histograms_ : dict of str -> ndarray of shape (n_tiers_, n_bins_feature)
        Normalised histogram of each tier per feature (rows sum to 1).
    divergences_ : dict of str -> float
        Jensen-Shannon divergence (bits) between the top tier and the bottom tiers.
    null_divergences_ : dict of str -> float
        The ``1 - significance`` quantile of the divergence under shuffled groups (0 when
        ``significance`` is None).
    selected_features_ : list of str
        Features whose divergence reaches ``divergence_threshold``.

    Examples
    --------
    >>> from sknar.sampler import TierSampler
    >>> from sknar.spaces.nasbench201 import NASBench201Space  # doctest: +SKIP
    >>> space = NASBench201Space()  # doctest: +SKIP
    >>> archs = space.sample(100, random_state=0)  # doctest: +SKIP
    >>> tiers = [i % 4 for i in range(100)]  # in practice from TierTransformer  # doctest: +SKIP
    >>> sampler = TierSampler(space, dataset="cifar10", random_state=0)  # doctest: +SKIP
    >>> new = sampler.fit(archs, tiers).sample(20, exclude=archs)  # doctest: +SKIP
    >>> len(new)  # doctest: +SKIP
    20
    """

    _parameter_constraints: dict = {
        "space": [SearchSpace],
        "dataset": [str, None],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "divergence_threshold": [Interval(Real, 0, None, closed="left")],
        "significance": [Interval(Real, 0, 1, closed="neither"), None],
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, 1, closed="both")],
        "features": [str, list, tuple],
        "min_tier_size": [Interval(Integral, 1, None, closed="left")],
        "candidates": [StrOptions({"auto", "enumerate", "rejection"})],
        "max_enumerate": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_batches": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        space,
        *,
        dataset=None,
        n_bins=8,
        divergence_threshold=0.05,
        significance=0.05,
        n_permutations=200,
        noise=0.5,
        features=("flops", "params", "structure"),
        min_tier_size=3,
        candidates="auto",
        max_enumerate=100_000,
        batch_size=1000,
        max_batches=5,
        random_state=None,
    ):
        self.space = space
        self.dataset = dataset
        self.n_bins = n_bins
        self.divergence_threshold = divergence_threshold
        self.significance = significance
        self.n_permutations = n_permutations
        self.noise = noise
        self.features = features
        self.min_tier_size = min_tier_size
        self.candidates = candidates
        self.max_enumerate = max_enumerate
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.random_state = random_state

    # --- fit ----------------------------------------------------------------------------

    def _check_tiers(self, tiers, n_archs):
        tiers = np.asarray(tiers)
        if tiers.ndim != 1 or tiers.shape[0] != n_archs:
            raise ValueError(
                f"tiers must be 1-D with one tier per architecture ({n_archs}), got shape "
                f"{tiers.shape}."
            )
        if tiers.dtype.kind not in "iuf" or not np.all(np.isfinite(tiers)):
            raise ValueError("tiers must be finite integers (0 = best tier).")
        if np.any(tiers != np.round(tiers)) or np.any(tiers < 0):
            bad = int(np.flatnonzero((tiers != np.round(tiers)) | (tiers < 0))[0])
            raise ValueError(
                f"tiers must be non-negative integers (0 = best tier); index {bad} holds "
                f"{tiers[bad]!r}."
            )
        tiers = tiers.astype(np.intp)
        n_tiers = int(tiers.max()) + 1
        counts = np.bincount(tiers, minlength=n_tiers)
        absent = np.flatnonzero(counts == 0)
        if n_tiers < 2 or absent.size:
            raise ValueError(
                f"tiers must hold every tier from 0 to their maximum and at least 2 tiers; "
                f"got {n_tiers} tier(s) with tier(s) {absent.tolist()} absent."
            )
        small = np.flatnonzero(counts < self.min_tier_size)
        if small.size:
            raise ValueError(
                f"too few architectures per tier: tier(s) {small.tolist()} hold "
                f"{counts[small].tolist()} architecture(s), min_tier_size={self.min_tier_size}. "
                "Fit on more architectures or use fewer tiers."
            )
        return tiers, n_tiers

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, archs, tiers):
        """Learn the per-tier feature histograms and select the separating features.

        Parameters
        ----------
        archs : sequence of architectures
            Architectures in any form ``space.validate`` accepts.
        tiers : array-like of int of shape (n_archs,)
            Tier of each architecture, 0 = best; every tier from 0 to the maximum must occur
            at least ``min_tier_size`` times.

        Returns
        -------
        self : TierSampler
            The fitted sampler.
        """
        archs = self.space.validate_all(archs)
        if not archs:
            raise ValueError("archs is empty; fit needs architectures with their tiers.")
        tiers, n_tiers = self._check_tiers(tiers, len(archs))
        self.feature_names_ = _expand_feature_names(
            self.space, self.features, archs[0], self.dataset
        )
        values = _feature_matrix(self.space, archs, self.feature_names_, self.dataset)
        self.n_tiers_ = n_tiers
        self.bottom_tiers_ = np.arange(n_tiers - n_tiers // 2, n_tiers)
        bottom = np.isin(tiers, self.bottom_tiers_)
        rng = check_random_state(self.random_state)
        self.bin_edges_, self.histograms_ = {}, {}
        self.divergences_, self.null_divergences_ = {}, {}
        for column, name in enumerate(self.feature_names_):
            edges = _shared_bin_edges(values[:, column], self.n_bins)
            bins = _assign_bins(values[:, column], edges)
            counts = np.zeros((n_tiers, edges.size - 1))
            np.add.at(counts, (tiers, bins), 1.0)
            self.bin_edges_[name] = edges
            self.histograms_[name] = counts / counts.sum(axis=1, keepdims=True)
            top_bins, bottom_bins = bins[tiers == 0], bins[bottom]
            self.divergences_[name] = _group_divergence(top_bins, bottom_bins, edges.size - 1)
            self.null_divergences_[name] = self._null_divergence(
                top_bins, bottom_bins, edges.size - 1, rng
            )
        previous = getattr(self, "_pool", None)
        self.selected_features_ = [
            name
            for name in self.feature_names_
            if self.divergences_[name] >= self.divergence_threshold
            and self.divergences_[name] > self.null_divergences_[name]
        ]
        # Refitting on the same space keeps the listing of the space (a search refits its
        # sampler every round; listing NAS-Bench-201 with its features takes a second).
        listing = (self.space, self.dataset, list(self.feature_names_))
        keep = previous is not None and previous.listing == listing
        self._pool = previous if keep else None
        return self

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_pool", None)
        return state

    def _null_divergence(self, top_bins, bottom_bins, n_feature_bins, rng):
        """Upper ``1 - significance`` quantile of the divergence under shuffled groups."""
        if self.significance is None:
            return 0.0
        pooled = np.concatenate([top_bins, bottom_bins])
        divergences = np.empty(self.n_permutations)
        for repeat in range(self.n_permutations):
            shuffled = rng.permutation(pooled)
            divergences[repeat] = _group_divergence(
                shuffled[: top_bins.size], shuffled[top_bins.size :], n_feature_bins
            )
        return float(np.quantile(divergences, 1.0 - self.significance))

    # --- sample -------------------------------------------------------------------------

    def _candidate_source(self):
        if self.candidates != "auto":
            return self.candidates
        size = self.space.size
        return "enumerate" if size is not None and size <= self.max_enumerate else "rejection"

    def _cell_keys(self, features):
        """One integer per row: the combination of bins of the selected features."""
        keys = np.zeros(features.shape[0], dtype=np.int64)
        for name in self.selected_features_:
            column = self.feature_names_.index(name)
            edges = self.bin_edges_[name]
            keys = keys * (edges.size - 1) + _assign_bins(features[:, column], edges)
        return keys

    def _draw_cell_key(self, rng):
        key = 0
        for name in self.selected_features_:
            histogram = self.histograms_[name][0]
            key = key * histogram.size + int(rng.choice(histogram.size, p=histogram))
        return key

    def _guided(self, n_guided, pool, blocked, excluded, rng, draw_batch):
        """Indices of ``n_guided`` pool entries drawn bin-by-bin from the top tier."""
        chosen = []
        keys = self._cell_keys(pool.features)
        max_redraws = 50 * n_guided + 100
        redraws = 0
        while len(chosen) < n_guided and redraws < max_redraws:
            target = self._draw_cell_key(rng)
            while True:
                members = np.flatnonzero((keys == target) & ~blocked[: keys.size])
                if members.size or draw_batch is None or not draw_batch():
                    break
                keys = self._cell_keys(pool.features)
                blocked = _extend_blocked(blocked, pool, excluded)
            if members.size == 0:
                redraws += 1
                continue
            index = int(rng.choice(members))
            blocked[index] = True
            chosen.append(index)
        return chosen, blocked

    @validate_params(
        {
            "n": [Interval(Integral, 0, None, closed="left")],
            "exclude": [Iterable],
            "random_state": ["random_state"],
        },
        prefer_skip_nested_validation=True,
    )
    def sample(self, n, *, exclude=(), random_state=None):
        """Return ``n`` distinct new architectures, guided by the top tier.

        Parameters
        ----------
        n : int
            Number of architectures.
        exclude : iterable of architectures, default=()
            Architectures never to return (e.g. those already evaluated), in any form
            ``space.validate`` accepts.
        random_state : int, RandomState instance or None, default=None
            Seeds this call's draws; None uses the sampler's ``random_state``.

        Returns
        -------
        archs : list
            ``n`` distinct canonical architectures; the first ``round(n * (1 - noise))`` are
            the guided draws, the rest uniform (all uniform if no feature was selected).

        Raises
        ------
        ValueError
            If the space cannot supply ``n`` distinct architectures outside ``exclude``.
        """
        check_is_fitted(self, "selected_features_")
        space = self.space
        excluded = {space.hash(arch) for arch in space.validate_all(exclude)}
        rng = check_random_state(self.random_state if random_state is None else random_state)
        n_guided = int(round(n * (1.0 - self.noise))) if self.selected_features_ else 0
        if self._candidate_source() == "enumerate":
            return self._sample_enumerated(n, n_guided, excluded, rng)
        return self._sample_by_rejection(n, n_guided, excluded, rng)

    def _enumerated_pool(self):
        """The whole space with its features, listed at the first draw after ``fit``."""
        if getattr(self, "_pool", None) is None:
            self._pool = _Pool(self.feature_names_)
            self._pool.listing = (self.space, self.dataset, list(self.feature_names_))
            self._pool.extend(self.space, list(self.space.enumerate()), self.dataset)
        return self._pool

    def _sample_enumerated(self, n, n_guided, excluded, rng):
        pool = self._enumerated_pool()
        blocked = np.fromiter((key in excluded for key in pool.hashes), bool, len(pool))
        n_available = int((~blocked).sum())
        if n_available < n:
            raise ValueError(
                f"the space {self.space.name} cannot supply {n} distinct new architectures: "
                f"only {n_available} of its {len(pool)} are not excluded."
            )
        chosen, blocked = self._guided(
            n_guided, pool, blocked, excluded, rng, draw_batch=None
        )
        self._warn_short(len(chosen), n_guided)
        rest = rng.choice(np.flatnonzero(~blocked), size=n - len(chosen), replace=False)
        return [pool.archs[index] for index in [*chosen, *rest.tolist()]]

    def _sample_by_rejection(self, n, n_guided, excluded, rng):
        space = self.space
        pool = _Pool(self.feature_names_)
        batches = [0]

        def draw_batch():
            if batches[0] >= self.max_batches:
                return False
            batches[0] += 1
            seed = int(rng.randint(_SEED_MAX))
            pool.extend(space, space.sample(self.batch_size, random_state=seed), self.dataset)
            return True

        blocked = np.zeros(0, dtype=bool)
        if n_guided:
            draw_batch()
            blocked = _extend_blocked(blocked, pool, excluded)
        chosen, blocked = self._guided(n_guided, pool, blocked, excluded, rng, draw_batch)
        self._warn_short(len(chosen), n_guided)
        found = [pool.archs[index] for index in chosen]
        taken = excluded | {pool.hashes[index] for index in chosen}
        found.extend(self._uniform_by_rejection(n - len(found), taken, rng))
        return found

    def _uniform_by_rejection(self, n, taken, rng):
        """``n`` uniform draws from ``space.sample`` outside ``taken`` (fresh batches)."""
        found = []
        for _ in range(self.max_batches):
            if len(found) == n:
                return found
            seed = int(rng.randint(_SEED_MAX))
            size = min(self.batch_size, max(2 * (n - len(found)), 16))
            for arch in self.space.sample(size, random_state=seed):
                key = self.space.hash(arch)
                if key not in taken and len(found) < n:
                    taken.add(key)
                    found.append(arch)
        if len(found) < n:
            raise ValueError(
                f"the space {self.space.name} could not supply {n} distinct new "
                f"architectures: {len(found)} found in {self.max_batches} batches of uniform "
                "draws outside the excluded ones."
            )
        return found

    @staticmethod
    def _warn_short(n_found, n_guided):
        if n_found < n_guided:
            warnings.warn(
                f"only {n_found} of the {n_guided} guided draws found an architecture in the "
                "top tier's bins that is not excluded; the rest are drawn uniformly.",
                SearchWarning,
                stacklevel=3,
            )


def _extend_blocked(blocked, pool, excluded):
    """Extend the mask of unusable pool entries to new entries (blocked if excluded)."""
    new = [key in excluded for key in pool.hashes[blocked.size :]]
    return np.concatenate([blocked, np.asarray(new, dtype=bool)])
