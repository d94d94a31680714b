"""Global quality tiers: accuracies -> tier labels or soft targets, and back.

NAR classifies every architecture into one of ``K`` global quality tiers, tier 0 holding the
best architectures. :class:`TierTransformer` learns the tier thresholds from training
accuracies and maps accuracies to tier labels, to soft (label-smoothed or ordinal) targets, and
tier labels back to representative accuracies.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .utils import check_accuracies

__all__ = ["TierTransformer"]


def _quantile_cuts(y_desc, n_tiers):
    """Cut positions in descending-sorted ``y`` for equal-frequency tiers.

    Cuts may only fall between two different values, so equal accuracies share a tier. Each
    cut goes to the allowed position nearest the ideal ``j * n / n_tiers`` (the earlier one on
    a draw), while leaving room for the remaining cuts so that no tier is empty.
    """
    n_samples = y_desc.shape[0]
    allowed = np.flatnonzero(y_desc[1:] != y_desc[:-1]) + 1
    if allowed.size < n_tiers - 1:
        raise ValueError(
            f"y has {allowed.size + 1} distinct value(s); at least n_tiers={n_tiers} are needed "
            "to form non-empty quantile tiers. Lower n_tiers."
        )
    cuts = []
    first_free = 0
    for j in range(1, n_tiers):
        last_free = allowed.size - (n_tiers - j)
        candidates = allowed[first_free : last_free + 1]
        ideal = j * n_samples / n_tiers
        best = int(np.argmin(np.abs(candidates - ideal)))
        cuts.append(candidates[best])
        first_free += best + 1
    return np.asarray(cuts, dtype=np.intp)


def _edge_between(better, worse):
    """Threshold halfway between two accuracies, never equal to the worse one."""
    middle = better / 2.0 + worse / 2.0
    return middle if worse < middle <= better else better


class TierTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Map accuracies to global quality tiers (0 = best) and back.

    A target transformer, like :class:`~sklearn.preprocessing.LabelEncoder`: ``fit`` and
    ``transform`` take the 1-D array of accuracies (higher is better), not a feature matrix.
    It turns a regression target into ordered classes, so any classifier can be trained on
    tiers, and it is what :class:`~sknar.ranker.NARRanker` uses for its tier head.

    Parameters
    ----------
    n_tiers : int, default=5
        Number of tiers ``K``.
    strategy : {"quantile", "uniform"}, default="quantile"
        - ``"quantile"``: equal-frequency tiers of the training accuracies (the global tiers of
          NAR). Equal accuracies always get the same tier, so a block of ties straddling an
          ideal boundary goes wholly to the tier whose side of the boundary it mostly lies on
          (to the worse tier when exactly half); tier sizes then differ from ``n / K`` by up
          to the size of the block. The result does not depend on the order of the samples.
          Every tier is non-empty; fitting fails when ``y`` has fewer than ``K`` distinct
          values.
        - ``"uniform"``: equal-width tiers between the lowest and highest training accuracy.
          Tiers may be empty (e.g. a long tail of failed architectures).
    soft_kernel : {"label_smoothing", "distance"}, default="distance"
        How :meth:`soft_transform` spreads probability over tiers (see ``smoothing``).
    smoothing : float in [0, 1), default=0.1
        Strength of the soft targets; 0 gives one-hot targets.

        - ``"label_smoothing"``: ``(1 - smoothing)`` on the true tier plus ``smoothing / K`` on
          every tier.
        - ``"distance"`` (ordinal): ``p_k`` proportional to ``smoothing ** |t - k|``, so
          neighbouring tiers get more mass than distant ones (a discrete Laplace kernel).

    Attributes
    ----------
    n_tiers_ : int
        Number of tiers (equal to ``n_tiers``).
    tier_edges_ : ndarray of shape (n_tiers_ + 1,)
        Accuracy thresholds in descending order: ``tier_edges_[0]`` is the highest and
        ``tier_edges_[-1]`` the lowest training accuracy; tier ``k`` holds accuracies ``a`` with
        ``tier_edges_[k + 1] <= a < tier_edges_[k]`` (tier 0 also holds ``a >= tier_edges_[0]``,
        the last tier also everything below ``tier_edges_[-1]``). For ``"quantile"`` the inner
        edges sit halfway between the neighbouring training accuracies of two tiers.
    tier_ranges_ : ndarray of shape (n_tiers_, 2)
        ``(low, high)`` accuracy range of each tier, from ``tier_edges_``.
    tier_values_ : ndarray of shape (n_tiers_,)
        Representative accuracy of each tier: the median of its training accuracies, or the
        middle of its range when it is empty.
    tier_counts_ : ndarray of shape (n_tiers_,)
        Number of training accuracies in each tier.

    See Also
    --------
    sknar.model_selection.TierStratifiedKFold : Cross-validation stratified by these tiers.

    Notes
    -----
    scikit-learn's ``parametrize_with_checks`` does not apply: the checks feed 2-D feature
    matrices through ``fit(X, y)``, while a target transformer takes a single 1-D array. The
    estimator declares ``input_tags.two_d_array=False``, ``input_tags.one_d_array=True`` and
    ``target_tags.one_d_labels=True``, as ``LabelEncoder`` does, so only the generic API checks
    (cloning) run and the rest are skipped. Cloning, pickling and parameter handling are tested
    directly.

    Examples
    --------
    >>> import numpy as np
    >>> from sknar.tiers import TierTransformer
    >>> acc = np.array([0.91, 0.72, 0.88, 0.95, 0.60, 0.83])
    >>> tiers = TierTransformer(n_tiers=3).fit(acc)
    >>> tiers.transform(acc)
    array([0, 2, 1, 0, 2, 1])
    >>> tiers.inverse_transform([0, 2])
    array([0.93, 0.66])
    >>> tiers.soft_transform([0.95]).round(3)
    array([[0.901, 0.09 , 0.009]])
    """

    _parameter_constraints: dict = {
        "n_tiers": [Interval(numbers.Integral, 2, None, closed="left")],
        "strategy": [StrOptions({"quantile", "uniform"})],
        "soft_kernel": [StrOptions({"label_smoothing", "distance"})],
        "smoothing": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(self, *, n_tiers=5, strategy="quantile", soft_kernel="distance", smoothing=0.1):
        self.n_tiers = n_tiers
        self.strategy = strategy
        self.soft_kernel = soft_kernel
        self.smoothing = smoothing

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, y):
        """Learn the tier thresholds from training accuracies.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Training accuracies, higher is better. Finite, at least ``n_tiers`` of them.

        Returns
        -------
        self : TierTransformer
            The fitted transformer.
        """
        y = check_accuracies(y, min_samples=self.n_tiers)
        if self.strategy == "quantile":
            edges = self._quantile_edges(y)
        else:
            edges = self._uniform_edges(y)
        self.n_tiers_ = int(self.n_tiers)
        self.tier_edges_ = edges
        self.tier_ranges_ = np.column_stack([edges[1:], edges[:-1]])
        labels = self._labels(y)
        self.tier_counts_ = np.bincount(labels, minlength=self.n_tiers_)
        self.tier_values_ = np.array(
            [
                np.median(y[labels == tier]) if count else edges[tier : tier + 2].mean()
                for tier, count in enumerate(self.tier_counts_)
            ]
        )
        return self

    def _quantile_edges(self, y):
        y_desc = np.sort(y)[::-1]
        cuts = _quantile_cuts(y_desc, self.n_tiers)
        inner = [_edge_between(y_desc[cut - 1], y_desc[cut]) for cut in cuts]
        return np.array([y_desc[0], *inner, y_desc[-1]], dtype=np.float64)

    def _uniform_edges(self, y):
        high, low = y.max(), y.min()
        if high == low:
            raise ValueError(f"y is constant ({high}); uniform tiers need a range of values.")
        return np.linspace(high, low, self.n_tiers + 1)

    def _labels(self, y):
        # Tier = number of inner edges strictly above the accuracy; searchsorted needs ascending.
        inner_ascending = self.tier_edges_[-2:0:-1]
        below = np.searchsorted(inner_ascending, y, side="right")
        return (self.n_tiers_ - 1 - below).astype(np.intp)

    def transform(self, y):
        """Tier label of each accuracy.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Accuracies. Values outside the training range go to tier 0 or the last tier.

        Returns
        -------
        tiers : ndarray of shape (n_samples,), dtype intp
            Tier labels, 0 = best.
        """
        check_is_fitted(self)
        return self._labels(check_accuracies(y))

    def fit_transform(self, y):
        """Fit the tiers on ``y`` and return its tier labels.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Training accuracies.

        Returns
        -------
        tiers : ndarray of shape (n_samples,), dtype intp
            Tier labels, 0 = best.
        """
        return self.fit(y).transform(y)

    def soft_transform(self, y):
        """Soft (smoothed or ordinal) tier targets of each accuracy.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Accuracies.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_tiers_)
            Rows sum to one; column ``k`` is tier ``k``. See ``soft_kernel`` and ``smoothing``.
        """
        return self.soft_labels(self.transform(y))

    def soft_labels(self, tiers):
        """Soft targets for given tier labels (see :meth:`soft_transform`).

        Parameters
        ----------
        tiers : array-like of shape (n_samples,)
            Tier labels in ``[0, n_tiers_)``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_tiers_)
            Rows sum to one.
        """
        tiers = self._check_tiers(tiers)
        columns = np.arange(self.n_tiers_)
        if self.soft_kernel == "label_smoothing":
            one_hot = (tiers[:, None] == columns).astype(np.float64)
            return (1.0 - self.smoothing) * one_hot + self.smoothing / self.n_tiers_
        distance = np.abs(tiers[:, None] - columns)
        weights = np.where(distance == 0, 1.0, float(self.smoothing) ** distance)
        return weights / weights.sum(axis=1, keepdims=True)

    def inverse_transform(self, tiers, *, return_range=False):
        """Representative accuracy (or accuracy range) of each tier label.

        Parameters
        ----------
        tiers : array-like of shape (n_samples,)
            Tier labels in ``[0, n_tiers_)``.
        return_range : bool, default=False
            If True, return each tier's ``(low, high)`` range instead of its representative.

        Returns
        -------
        accuracies : ndarray of shape (n_samples,) or (n_samples, 2)
            ``tier_values_`` or ``tier_ranges_`` rows of the given tiers.
        """
        tiers = self._check_tiers(tiers)
        return (self.tier_ranges_ if return_range else self.tier_values_)[tiers]

    def _check_tiers(self, tiers):
        check_is_fitted(self)
        array = np.asarray(tiers)
        if array.ndim != 1:
            raise ValueError(f"tiers must be 1-D, got shape {array.shape}.")
        if array.size and not np.issubdtype(array.dtype, np.integer):
            if not np.issubdtype(array.dtype, np.number) or np.any(array != np.round(array)):
                raise ValueError(f"tiers must be integer labels, got dtype {array.dtype}.")
        array = array.astype(np.intp)
        bad = np.flatnonzero((array < 0) | (array >= self.n_tiers_))
        if bad.size:
            raise ValueError(
                f"tier labels must lie in [0, {self.n_tiers_}); got {array[bad[0]]} at index "
                f"{bad[0]}."
            )
        return array

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.target_tags.one_d_labels = True
        return tags
