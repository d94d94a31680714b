"""Cross-validation splitters for continuous targets such as accuracies."""

import numbers

import numpy as np
from sklearn.model_selection import BaseCrossValidator, StratifiedKFold
from sklearn.utils._param_validation import Interval, validate_parameter_constraints
from sklearn.utils.validation import _num_samples

from .tiers import TierTransformer
from .utils import check_accuracies

__all__ = ["TierStratifiedKFold"]


class TierStratifiedKFold(BaseCrossValidator):
    """K-fold cross-validation stratified by quality tiers of a continuous target.

    The accuracies are cut into ``n_tiers`` equal-frequency tiers (as
    :class:`~sknar.tiers.TierTransformer` with ``strategy="quantile"`` does, equal accuracies in
    the same tier) and the tiers are stratified as classes by
    :class:`~sklearn.model_selection.StratifiedKFold`, so every training and test fold holds
    architectures of every quality tier in about the same proportions. A plain
    :class:`~sklearn.model_selection.KFold` on a small sample can leave a fold without any top
    architecture, which makes top-k metrics on that fold meaningless.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    n_tiers : int, default=5
        Number of quantile tiers to stratify on, at least 2. Each tier needs at least
        ``n_splits`` samples, so ``y`` needs about ``n_splits * n_tiers`` samples.
    shuffle : bool, default=False
        Whether to shuffle each tier's samples before splitting into folds.
    random_state : int, RandomState instance or None, default=None
        Controls the shuffling when ``shuffle`` is True; pass an int for reproducible folds.
        Must be None when ``shuffle`` is False.

    See Also
    --------
    sknar.tiers.TierTransformer : The tiers used for stratification.
    sklearn.model_selection.StratifiedKFold : The underlying splitter for class labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sknar.model_selection import TierStratifiedKFold
    >>> y = np.linspace(0.5, 0.95, 12)
    >>> X = np.zeros((12, 1))
    >>> cv = TierStratifiedKFold(n_splits=3, n_tiers=4)
    >>> [test.tolist() for _, test in cv.split(X, y)]
    [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8, 11]]
    """

    # A splitter is not an estimator (no fit), so split checks these itself.
    _parameter_constraints: dict = {
        "n_splits": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_tiers": [Interval(numbers.Integral, 2, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_splits=5, *, n_tiers=5, shuffle=False, random_state=None):
        self.n_splits = n_splits
        self.n_tiers = n_tiers
        self.shuffle = shuffle
        self.random_state = random_state

    def _check_params(self):
        validate_parameter_constraints(
            self._parameter_constraints,
            {name: getattr(self, name) for name in self._parameter_constraints},
            caller_name=type(self).__name__,
        )
        if not self.shuffle and self.random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False; "
                "leave random_state=None or set shuffle=True."
            )

    def tiers(self, y):
        """Tier label (0 = best) of each sample, as used for stratification.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Continuous target, higher is better.

        Returns
        -------
        tiers : ndarray of shape (n_samples,)
            Quantile tier of each sample.
        """
        self._check_params()
        if y is None:
            raise ValueError(
                "TierStratifiedKFold needs the target y to stratify on; got y=None."
            )
        y = check_accuracies(y, min_samples=self.n_tiers)
        tiers = TierTransformer(n_tiers=self.n_tiers, strategy="quantile").fit_transform(y)
        counts = np.bincount(tiers, minlength=self.n_tiers)
        if counts.min() < self.n_splits:
            smallest = int(np.argmin(counts))
            raise ValueError(
                f"tier {smallest} holds {counts[smallest]} sample(s), fewer than "
                f"n_splits={self.n_splits}; every tier needs at least n_splits samples "
                f"(tier sizes: {counts.tolist()}). Use more samples, fewer tiers or fewer splits."
            )
        return tiers

    def split(self, X, y, groups=None):
        """Generate train/test indices, stratified by the quantile tiers of ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; only its length is used.
        y : array-like of shape (n_samples,)
            Continuous target (accuracies), higher is better.
        groups : None
            Ignored, present for API compatibility.

        Yields
        ------
        train : ndarray
            Training indices of the split.
        test : ndarray
            Test indices of the split.
        """
        tiers = self.tiers(y)
        if _num_samples(X) != tiers.shape[0]:
            raise ValueError(
                f"X has {_num_samples(X)} samples but y has {tiers.shape[0]}."
            )
        splitter = StratifiedKFold(
            n_splits=self.n_splits, shuffle=bool(self.shuffle), random_state=self.random_state
        )
        yield from splitter.split(np.zeros((tiers.shape[0], 1)), tiers)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splitting iterations.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.

        Returns
        -------
        n_splits : int
            ``n_splits``.
        """
        return self.n_splits
