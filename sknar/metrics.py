"""Ranking metrics for architecture performance predictors, and scikit-learn scorers.

Everywhere, higher ``y_true`` (accuracy) and higher ``y_score`` (prediction) mean better.
Global rank correlations (:func:`kendall_tau`, :func:`spearman_rho`) say how well the whole
order is recovered; top-k metrics (:func:`precision_at_k`, :func:`best_rank_at_k`,
:func:`ndcg_at_k`) say how good the architectures a search would pick are.

Ties are treated the same way in every top-k metric:

- ties in ``y_true`` favour the predictor (tied architectures are equally good, so any of them
  counts as the true one);
- ties in ``y_score`` count against it: when the predicted top-k cut falls inside a block of
  equal scores, the truly worst architectures of that block are taken, because the predictor
  did not commit to an order. The result never depends on the order of the samples, and a
  constant prediction scores as badly as the data allow.

With several objectives (accuracy against FLOPs, parameters or latency), :func:`pareto_front`,
:func:`non_dominated_ranks` and :func:`hypervolume` say which architectures trade them off best
and how much of the trade-off a set of architectures covers.
"""

import numbers
import re

import numpy as np
from scipy import stats
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import make_scorer
from sklearn.utils._param_validation import Interval, validate_params

from ._pareto import hypervolume, non_dominated_ranks, pareto_front
from .utils import Substitution, check_accuracies

__all__ = [
    "kendall_tau",
    "spearman_rho",
    "precision_at_k",
    "best_rank_at_k",
    "ndcg_at_k",
    "ranking_report",
    "kendall_tau_scorer",
    "spearman_scorer",
    "precision_at_10_scorer",
    "best_rank_at_10_scorer",
    "ndcg_at_10_scorer",
    "get_scorer",
    "get_scorer_names",
    "pareto_front",
    "non_dominated_ranks",
    "hypervolume",
]


_DOCSTRINGS = Substitution(
    y_pair="""y_true : array-like of shape (n_samples,)
        True accuracies.
    y_score : array-like of shape (n_samples,)
        Predicted scores, higher = better.""",
    array_errors="""ValueError
        If the arrays are not 1-D, differ in length, hold fewer than 2 samples, or contain NaN or
        infinite values.""",
    top_k_errors="""ValueError
        On invalid arrays (see :func:`kendall_tau`) or ``k`` outside ``[1, n_samples]``.""",
)


def _check_pair(y_true, y_score, *, min_samples=2):
    y_true = check_accuracies(y_true, name="y_true")
    y_score = check_accuracies(y_score, name="y_score")
    if y_true.shape[0] != y_score.shape[0]:
        raise ValueError(
            f"y_true and y_score have different lengths: {y_true.shape[0]} != {y_score.shape[0]}."
        )
    if y_true.shape[0] < min_samples:
        raise ValueError(
            f"{y_true.shape[0]} sample(s) given; at least {min_samples} are required."
        )
    return y_true, y_score


def _check_k(k, n_samples):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"k must be an integer, got {k!r}.")
    if not 1 <= k <= n_samples:
        raise ValueError(f"k must lie in [1, n_samples={n_samples}], got k={k}.")
    return int(k)


def _is_constant(values):
    return values.min() == values.max()


@_DOCSTRINGS
def kendall_tau(y_true, y_score):
    """Kendall rank correlation (tau-b) between true and predicted performance.

    Parameters
    ----------
    %(y_pair)s

    Returns
    -------
    tau : float
        In [-1, 1]. Tau-b corrects for ties in both arrays (pairs tied in either array are
        neither concordant nor discordant, and the denominator discounts them), exactly as
        :func:`scipy.stats.kendalltau` with ``variant="b"``. When either array is constant
        (e.g. a predictor that outputs one value) tau-b is undefined; such a ranking carries no
        information, so 0.0 is returned instead of NaN, which keeps averages over
        cross-validation folds meaningful.

    Raises
    ------
    %(array_errors)s

    Examples
    --------
    >>> from sknar.metrics import kendall_tau
    >>> kendall_tau([0.9, 0.8, 0.7, 0.6], [4.0, 3.0, 1.0, 2.0])  # doctest: +ELLIPSIS
    0.666...
    >>> kendall_tau([0.9, 0.8, 0.7], [1.0, 1.0, 1.0])
    0.0
    """
    y_true, y_score = _check_pair(y_true, y_score)
    if _is_constant(y_true) or _is_constant(y_score):
        return 0.0
    return float(stats.kendalltau(y_true, y_score, variant="b").statistic)


@_DOCSTRINGS
def spearman_rho(y_true, y_score):
    """Spearman rank correlation between true and predicted performance.

    Parameters
    ----------
    %(y_pair)s

    Returns
    -------
    rho : float
        Pearson correlation of the average ranks (ties get the mean of their ranks), as
        :func:`scipy.stats.spearmanr`. 0.0 when either array is constant (see
        :func:`kendall_tau`).

    Raises
    ------
    %(array_errors)s

    Examples
    --------
    >>> from sknar.metrics import spearman_rho
    >>> round(spearman_rho([0.9, 0.8, 0.7, 0.6], [4.0, 3.0, 1.0, 2.0]), 6)
    0.8
    """
    y_true, y_score = _check_pair(y_true, y_score)
    if _is_constant(y_true) or _is_constant(y_score):
        return 0.0
    return float(stats.spearmanr(y_true, y_score).statistic)


def _predicted_order(y_true, y_score):
    """Indices from best to worst prediction; score ties put the truly worst first."""
    return np.lexsort((y_true, -y_score))


@_DOCSTRINGS
def precision_at_k(y_true, y_score, k):
    """Share of the true top-k architectures found in the predicted top-k.

    ``|true top-k ∩ predicted top-k| / k``, as in NASLib.

    Parameters
    ----------
    %(y_pair)s
    k : int
        Size of the top sets, ``1 <= k <= n_samples``.

    Returns
    -------
    precision : float
        In [0, 1]. When several architectures tie for the k-th best accuracy, any of them
        counts as a true top-k member (up to k in all); when several tie for the k-th best
        score, the truly worst of them enter the predicted top-k (see the module notes).

    Raises
    ------
    %(top_k_errors)s

    Examples
    --------
    >>> from sknar.metrics import precision_at_k
    >>> y_true = [0.95, 0.90, 0.85, 0.80, 0.75]
    >>> y_score = [0.2, 0.9, 0.8, 0.1, 0.3]
    >>> precision_at_k(y_true, y_score, k=2)  # predicted top-2: samples 1, 2; true: 0, 1
    0.5
    """
    y_true, y_score = _check_pair(y_true, y_score, min_samples=1)
    k = _check_k(k, y_true.shape[0])
    kth_best = np.sort(y_true)[::-1][k - 1]
    picked = y_true[_predicted_order(y_true, y_score)[:k]]
    strictly_better = np.count_nonzero(picked > kth_best)
    tie_slots = k - np.count_nonzero(y_true > kth_best)
    hits = strictly_better + min(np.count_nonzero(picked == kth_best), tie_slots)
    return float(hits / k)


@_DOCSTRINGS
def best_rank_at_k(y_true, y_score, k):
    """True rank of the best architecture among the predicted top-k (N@K; lower is better).

    Parameters
    ----------
    %(y_pair)s
    k : int
        Number of architectures the predictor picks, ``1 <= k <= n_samples``.

    Returns
    -------
    rank : int
        In ``[1, n_samples - k + 1]``; 1 means the predicted top-k holds a truly best
        architecture. Ranks are competition ranks (1 + number of strictly better
        architectures), so tied accuracies share the better rank; score ties at the cut count
        against the predictor (see the module notes).

    Raises
    ------
    %(top_k_errors)s

    Examples
    --------
    >>> from sknar.metrics import best_rank_at_k
    >>> y_true = [0.95, 0.90, 0.85, 0.80, 0.75]
    >>> y_score = [0.2, 0.3, 0.8, 0.9, 0.1]
    >>> best_rank_at_k(y_true, y_score, k=2)  # picks samples 3 and 2, true ranks 4 and 3
    3
    """
    y_true, y_score = _check_pair(y_true, y_score, min_samples=1)
    k = _check_k(k, y_true.shape[0])
    best_picked = y_true[_predicted_order(y_true, y_score)[:k]].max()
    return int(np.count_nonzero(y_true > best_picked) + 1)


def _dcg(gains):
    discounts = 1.0 / np.log2(np.arange(2, gains.shape[0] + 2))
    return float(gains @ discounts)


@_DOCSTRINGS
def ndcg_at_k(y_true, y_score, k):
    """Normalised discounted cumulative gain of the predicted top-k.

    Parameters
    ----------
    %(y_pair)s
    k : int
        Depth of the ranking considered, ``1 <= k <= n_samples``.

    Returns
    -------
    ndcg : float
        In [0, 1]. The gain of an architecture is its accuracy minus the lowest accuracy in
        ``y_true``, discounted by ``1 / log2(position + 1)``, and the sum is divided by that of
        the ideal order. The shift gives the worst architecture zero gain and makes the value
        invariant to ``a * y_true + b`` (``a > 0``): raw accuracies, all within a few points of
        each other, would put every ranking near 1. Without score ties it equals
        :func:`sklearn.metrics.ndcg_score` on the shifted gains; score ties at the cut count
        against the predictor (see the module notes). 0.0 when ``y_true`` is constant (no gain
        to collect), as :func:`sklearn.metrics.ndcg_score` does.

    Raises
    ------
    %(top_k_errors)s

    Examples
    --------
    >>> from sknar.metrics import ndcg_at_k
    >>> ndcg_at_k([3.0, 2.0, 1.0, 0.0], [0.9, 0.8, 0.7, 0.6], k=2)
    1.0
    """
    y_true, y_score = _check_pair(y_true, y_score, min_samples=1)
    k = _check_k(k, y_true.shape[0])
    gains = y_true - y_true.min()
    ideal = _dcg(np.sort(gains)[::-1][:k])
    if ideal == 0.0:
        return 0.0
    return _dcg(gains[_predicted_order(y_true, y_score)[:k]]) / ideal


kendall_tau_scorer = make_scorer(kendall_tau)
spearman_scorer = make_scorer(spearman_rho)
precision_at_10_scorer = make_scorer(precision_at_k, k=10)
best_rank_at_10_scorer = make_scorer(best_rank_at_k, greater_is_better=False, k=10)
ndcg_at_10_scorer = make_scorer(ndcg_at_k, k=10)

_CORRELATIONS = {"kendall_tau": kendall_tau, "spearman_rho": spearman_rho}
_TOP_K = {
    "precision": (precision_at_k, True),
    "best_rank": (best_rank_at_k, False),
    "ndcg": (ndcg_at_k, True),
}
_TOP_K_NAME = re.compile(r"^(precision|best_rank|ndcg)_at_([1-9][0-9]*)$")


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "k": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
    },
    prefer_skip_nested_validation=True,
)
@_DOCSTRINGS
def ranking_report(y_true, y_score, *, k=(10, 50)):
    """Every ranking metric of ``y_score`` against ``y_true``, by name.

    Parameters
    ----------
    %(y_pair)s
    k : int or sequence of int, default=(10, 50)
        Cut-offs of the top-k metrics. A cut-off larger than ``n_samples`` is left out (the
        top-k of fewer architectures is not defined).

    Returns
    -------
    report : dict of str -> float or int
        ``kendall_tau`` and ``spearman_rho``, then for each cut-off ``precision_at_<k>``,
        ``best_rank_at_<k>`` (an int) and ``ndcg_at_<k>``: the names :func:`get_scorer`
        accepts.

    Raises
    ------
    ValueError
        On invalid arrays (see :func:`kendall_tau`) or a cut-off below 1.

    Examples
    --------
    >>> from sknar.metrics import ranking_report
    >>> report = ranking_report([0.9, 0.8, 0.7, 0.6], [4.0, 3.0, 1.0, 2.0], k=2)
    >>> report["precision_at_2"], report["best_rank_at_2"]
    (1.0, 1)
    >>> sorted(ranking_report([0.9, 0.8, 0.7], [3.0, 2.0, 1.0], k=[2, 10]))
    ['best_rank_at_2', 'kendall_tau', 'ndcg_at_2', 'precision_at_2', 'spearman_rho']
    """
    y_true, y_score = _check_pair(y_true, y_score)
    cutoffs = np.atleast_1d(k).tolist()
    if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in cutoffs):
        raise ValueError(f"every cut-off k must be an int of at least 1, got {k!r}.")
    report = {name: metric(y_true, y_score) for name, metric in _CORRELATIONS.items()}
    for cutoff in (cutoff for cutoff in cutoffs if cutoff <= len(y_true)):
        for name, (metric, _) in _TOP_K.items():
            report[f"{name}_at_{cutoff}"] = metric(y_true, y_score, cutoff)
    return report


def get_scorer_names():
    """Names of the scorers sknar adds to scikit-learn's.

    Returns
    -------
    names : list of str
        The correlation scorers and the top-k scorers at k = 10; any ``<metric>_at_<k>`` with
        ``metric`` in ``precision``, ``best_rank``, ``ndcg`` is also accepted by
        :func:`get_scorer`.

    Examples
    --------
    >>> from sknar.metrics import get_scorer_names
    >>> get_scorer_names()[:2]
    ['kendall_tau', 'spearman_rho']
    """
    return [*_CORRELATIONS, *(f"{metric}_at_10" for metric in _TOP_K)]


def get_scorer(scoring):
    """Scorer for a sknar metric name, falling back to :func:`sklearn.metrics.get_scorer`.

    Parameters
    ----------
    scoring : str, callable or None
        ``"kendall_tau"``, ``"spearman_rho"``, ``"precision_at_<k>"``, ``"best_rank_at_<k>"``,
        ``"ndcg_at_<k>"`` (any positive ``k``), or anything
        :func:`sklearn.metrics.get_scorer` accepts (a scikit-learn scorer name, a callable,
        None).

    Returns
    -------
    scorer : callable
        A new scorer, usable as ``scoring=`` in :class:`~sklearn.model_selection.GridSearchCV`
        or :func:`~sklearn.model_selection.cross_val_score`. ``best_rank_at_<k>`` is a loss, so
        its scorer returns the negated rank (higher is better, as scikit-learn expects).

    Raises
    ------
    ValueError
        If the name is neither a sknar nor a scikit-learn scorer.

    Examples
    --------
    >>> from sknar.metrics import get_scorer
    >>> get_scorer("precision_at_5")
    make_scorer(precision_at_k, response_method='predict', k=5)
    """
    if isinstance(scoring, str):
        if scoring in _CORRELATIONS:
            return make_scorer(_CORRELATIONS[scoring])
        match = _TOP_K_NAME.match(scoring)
        if match:
            metric, greater_is_better = _TOP_K[match.group(1)]
            return make_scorer(
                metric, greater_is_better=greater_is_better, k=int(match.group(2))
            )
    try:
        return _sklearn_get_scorer(scoring)
    except ValueError as exc:
        raise ValueError(
            f"{scoring!r} is not a valid scoring value. sknar scorers: "
            f"{', '.join(get_scorer_names())} (any k in <metric>_at_<k>); scikit-learn scorers: "
            "see sklearn.metrics.get_scorer_names()."
        ) from exc
