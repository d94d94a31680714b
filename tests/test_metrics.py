"""Tests for sknar.metrics."""

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import Ridge
from sklearn.metrics import ndcg_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from sknar.metrics import (
    best_rank_at_10_scorer,
    best_rank_at_k,
    get_scorer,
    get_scorer_names,
    kendall_tau,
    kendall_tau_scorer,
    ndcg_at_10_scorer,
    ndcg_at_k,
    precision_at_10_scorer,
    precision_at_k,
    ranking_report,
    spearman_rho,
    spearman_scorer,
)

TOP_K_METRICS = [precision_at_k, best_rank_at_k, ndcg_at_k]


def _random_pair(seed, n, ties):
    rng = np.random.default_rng(seed)
    if ties:
        y_true = rng.integers(0, 8, size=n).astype(float)
        y_score = rng.integers(0, 5, size=n) + 0.5 * y_true
    else:
        y_true = rng.normal(size=n)
        y_score = y_true + rng.normal(scale=1.0, size=n)
    return y_true, y_score


# -- correlations --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_kendall_tau_matches_scipy_tau_b(seed, ties):
    y_true, y_score = _random_pair(seed, 57, ties)
    expected = stats.kendalltau(y_true, y_score, variant="b").statistic
    assert kendall_tau(y_true, y_score) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_spearman_rho_matches_scipy(seed, ties):
    y_true, y_score = _random_pair(seed, 57, ties)
    expected = stats.spearmanr(y_true, y_score).statistic
    assert spearman_rho(y_true, y_score) == pytest.approx(expected, abs=1e-12)


def test_kendall_tau_hand_checked_with_ties():
    # Pairs: (0,1) C, (0,2) tie in y_score, (1,2) D, others concordant: n_c=4, n_d=1.
    # Tied pairs: y_true none, y_score one -> tau_b = 3 / sqrt(6 * 5).
    y_true = [4.0, 3.0, 2.0, 1.0]
    y_score = [3.0, 1.0, 3.0, 0.0]
    assert kendall_tau(y_true, y_score) == pytest.approx(3 / np.sqrt(30))


@pytest.mark.parametrize("metric", [kendall_tau, spearman_rho])
def test_correlations_of_perfect_and_reversed_rankings(metric):
    y = np.arange(10.0)
    assert metric(y, 3 * y + 1) == pytest.approx(1.0)
    assert metric(y, -y) == pytest.approx(-1.0)


@pytest.mark.parametrize("metric", [kendall_tau, spearman_rho])
def test_constant_input_gives_zero_without_warning(metric):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metric([0.9, 0.8, 0.7], [1.0, 1.0, 1.0]) == 0.0
        assert metric([0.5, 0.5, 0.5], [1.0, 2.0, 3.0]) == 0.0


@pytest.mark.parametrize("metric", [kendall_tau, spearman_rho])
def test_correlations_return_python_floats(metric):
    assert type(metric([1, 2, 3], [1, 3, 2])) is float


# -- top-k metrics: hand-checked -----------------------------------------------------------


def test_precision_at_k_hand_checked():
    y_true = [10.0, 9.0, 8.0, 7.0, 6.0, 5.0]
    y_score = [0.1, 0.9, 0.8, 0.7, 0.95, 0.0]
    # Predicted top-3: samples 4, 1, 2; true top-3: samples 0, 1, 2.
    assert precision_at_k(y_true, y_score, 3) == pytest.approx(2 / 3)
    assert precision_at_k(y_true, y_score, 1) == 0.0
    assert precision_at_k(y_true, y_score, 6) == 1.0


def test_best_rank_at_k_hand_checked():
    y_true = [10.0, 9.0, 8.0, 7.0, 6.0, 5.0]
    y_score = [0.1, 0.9, 0.8, 0.7, 0.95, 0.0]
    assert best_rank_at_k(y_true, y_score, 1) == 5  # picks sample 4
    assert best_rank_at_k(y_true, y_score, 2) == 2  # picks 4 and 1
    assert best_rank_at_k(y_true, y_score, 5) == 1
    assert best_rank_at_k(y_true, -np.asarray(y_true), 2) == 5  # reversed: n - k + 1


def test_ndcg_at_k_hand_checked():
    y_true = [3.0, 2.0, 1.0, 0.0]
    y_score = [0.2, 0.9, 0.5, 0.1]
    # Gains (y - min) are 3, 2, 1, 0. Predicted order: 1, 2, 0 -> DCG@2 = 2 + 1/log2(3).
    ideal = 3 + 2 / np.log2(3)
    assert ndcg_at_k(y_true, y_score, 2) == pytest.approx((2 + 1 / np.log2(3)) / ideal)
    assert ndcg_at_k(y_true, y_score, 1) == pytest.approx(2 / 3)


def test_ndcg_is_invariant_to_affine_accuracy_changes():
    y_true, y_score = _random_pair(3, 40, ties=False)
    assert ndcg_at_k(y_true, y_score, 7) == pytest.approx(ndcg_at_k(0.01 * y_true + 90, y_score, 7))


@pytest.mark.parametrize("seed", range(4))
def test_ndcg_matches_sklearn_on_shifted_gains_without_score_ties(seed):
    y_true, y_score = _random_pair(seed, 30, ties=False)
    gains = y_true - y_true.min()
    expected = ndcg_score(gains[None, :], y_score[None, :], k=8)
    assert ndcg_at_k(y_true, y_score, 8) == pytest.approx(expected)


def test_ndcg_constant_truth_is_zero():
    assert ndcg_at_k([0.5, 0.5, 0.5], [1.0, 2.0, 3.0], 2) == 0.0


def test_true_ties_favour_the_predictor():
    # Samples 1, 2, 3 tie for second place, so the true top-2 is {0, any of them}.
    y_true = [0.9, 0.8, 0.8, 0.8, 0.1]
    assert precision_at_k(y_true, [5, 1, 2, 4, 0], 2) == 1.0
    # Two tied samples picked, but only one slot for the tie: the best was missed.
    assert precision_at_k(y_true, [0, 1, 5, 4, 0], 2) == 0.5
    assert best_rank_at_k(y_true, [0, 1, 2, 4, 0], 1) == 2


def test_score_ties_count_against_the_predictor():
    y_true = [0.9, 0.8, 0.7, 0.6]
    constant = [1.0, 1.0, 1.0, 1.0]
    assert precision_at_k(y_true, constant, 2) == 0.0
    assert best_rank_at_k(y_true, constant, 2) == 3
    # Worst order of the tie: gains (y - min) 0.0 then 0.1 against the ideal 0.3 then 0.2.
    expected = (0.1 / np.log2(3)) / (0.3 + 0.2 / np.log2(3))
    assert ndcg_at_k(y_true, constant, 2) == pytest.approx(expected)


@pytest.mark.parametrize("metric", TOP_K_METRICS)
def test_top_k_metrics_do_not_depend_on_sample_order(metric):
    y_true, y_score = _random_pair(7, 40, ties=True)
    order = np.random.default_rng(8).permutation(40)
    assert metric(y_true, y_score, 5) == pytest.approx(metric(y_true[order], y_score[order], 5))


# -- top-k metrics: brute force over every admissible tie-breaking -------------------------


def _admissible_top_sets(values, k):
    """All k-subsets that some tie-breaking of a descending sort puts first."""
    values = np.asarray(values)
    for subset in itertools.combinations(range(values.size), k):
        rest = np.setdiff1d(np.arange(values.size), subset)
        if rest.size == 0 or values[list(subset)].min() >= values[rest].max():
            yield list(subset)


def _admissible_orders(values):
    values = np.asarray(values)
    for order in itertools.permutations(range(values.size)):
        if np.all(np.diff(values[list(order)]) <= 0):
            yield list(order)


def _tied_cases():
    rng = np.random.default_rng(11)
    for _ in range(15):
        yield rng.integers(0, 3, size=6).astype(float), rng.integers(0, 3, size=6).astype(float)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_precision_is_worst_case_over_score_ties_best_case_over_true_ties(k):
    for y_true, y_score in _tied_cases():
        expected = min(
            max(len(set(picked) & set(true_top)) for true_top in _admissible_top_sets(y_true, k))
            for picked in _admissible_top_sets(y_score, k)
        ) / k
        assert precision_at_k(y_true, y_score, k) == pytest.approx(expected)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_best_rank_is_worst_case_over_score_ties(k):
    for y_true, y_score in _tied_cases():
        expected = max(
            1 + np.count_nonzero(y_true > y_true[picked].max())
            for picked in _admissible_top_sets(y_score, k)
        )
        assert best_rank_at_k(y_true, y_score, k) == expected


@pytest.mark.parametrize("k", [1, 3, 6])
def test_ndcg_is_worst_case_over_score_ties(k):
    discounts = 1 / np.log2(np.arange(2, k + 2))
    for y_true, y_score in _tied_cases():
        gains = y_true - y_true.min()
        ideal = np.sort(gains)[::-1][:k] @ discounts
        if ideal == 0:
            continue
        expected = min(gains[order[:k]] @ discounts for order in _admissible_orders(y_score))
        assert ndcg_at_k(y_true, y_score, k) == pytest.approx(expected / ideal)


# -- validation ----------------------------------------------------------------------------

ALL_METRICS = [
    (kendall_tau, {}),
    (spearman_rho, {}),
    (precision_at_k, {"k": 1}),
    (best_rank_at_k, {"k": 1}),
    (ndcg_at_k, {"k": 1}),
]


@pytest.mark.parametrize(("metric", "kwargs"), ALL_METRICS)
def test_length_mismatch(metric, kwargs):
    with pytest.raises(ValueError, match="different lengths: 3 != 2"):
        metric([1, 2, 3], [1, 2], **kwargs)


@pytest.mark.parametrize(("metric", "kwargs"), ALL_METRICS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_name_the_array_and_index(metric, kwargs, bad):
    with pytest.raises(ValueError, match="y_score.*index 2"):
        metric([1, 2, 3, 4], [1, 2, bad, 4], **kwargs)
    with pytest.raises(ValueError, match="y_true.*index 0"):
        metric([bad, 2, 3, 4], [1, 2, 3, 4], **kwargs)


@pytest.mark.parametrize(("metric", "kwargs"), ALL_METRICS)
def test_non_1d_input(metric, kwargs):
    with pytest.raises(ValueError, match="y_true must be 1-D"):
        metric([[1, 2], [3, 4]], [1, 2], **kwargs)


@pytest.mark.parametrize("metric", [kendall_tau, spearman_rho])
def test_correlations_need_two_samples(metric):
    with pytest.raises(ValueError, match="at least 2"):
        metric([1.0], [1.0])


@pytest.mark.parametrize("metric", TOP_K_METRICS)
@pytest.mark.parametrize("k", [0, 5, -1, 2.0, True, None])
def test_k_out_of_range_or_not_integer(metric, k):
    with pytest.raises(ValueError, match="k must"):
        metric([1, 2, 3, 4], [1, 2, 3, 4], k)


@pytest.mark.parametrize("metric", TOP_K_METRICS)
def test_k_accepts_numpy_integers(metric):
    assert metric([1, 2, 3, 4], [1, 2, 3, 4], np.int64(2)) == 1


# -- scorers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = X @ np.array([1.0, -0.5, 0.2, 0.0]) + rng.normal(scale=0.3, size=120)
    return X, y


@pytest.mark.parametrize(
    ("scorer", "metric", "kwargs"),
    [
        (kendall_tau_scorer, kendall_tau, {}),
        (spearman_scorer, spearman_rho, {}),
        (precision_at_10_scorer, precision_at_k, {"k": 10}),
        (ndcg_at_10_scorer, ndcg_at_k, {"k": 10}),
    ],
)
def test_ready_scorers_apply_their_metric_to_predictions(regression_data, scorer, metric, kwargs):
    X, y = regression_data
    model = Ridge().fit(X[:80], y[:80])
    expected = metric(y[80:], model.predict(X[80:]), **kwargs)
    assert scorer(model, X[80:], y[80:]) == pytest.approx(expected)


def test_best_rank_scorer_is_negated(regression_data):
    X, y = regression_data
    model = Ridge().fit(X[:80], y[:80])
    rank = best_rank_at_k(y[80:], model.predict(X[80:]), 10)
    assert best_rank_at_10_scorer(model, X[80:], y[80:]) == -rank


def test_scorers_in_cross_val_score(regression_data):
    X, y = regression_data
    cv = KFold(4, shuffle=True, random_state=0)
    taus = cross_val_score(Ridge(), X, y, cv=cv, scoring=kendall_tau_scorer)
    assert taus.shape == (4,) and np.all(taus > 0.3)
    ranks = cross_val_score(Ridge(), X, y, cv=cv, scoring=get_scorer("best_rank_at_3"))
    assert np.all(ranks <= -1)


def test_scorers_in_grid_search(regression_data):
    X, y = regression_data
    cv = KFold(3, shuffle=True, random_state=0)
    scoring = {name: get_scorer(name) for name in get_scorer_names()}
    grid = {"alpha": [1e-3, 1e4]}
    search = GridSearchCV(Ridge(), grid, scoring=scoring, refit="kendall_tau", cv=cv).fit(X, y)
    for name, scorer in scoring.items():
        expected = [
            cross_val_score(Ridge(alpha=alpha), X, y, cv=cv, scoring=scorer).mean()
            for alpha in grid["alpha"]
        ]
        np.testing.assert_allclose(search.cv_results_[f"mean_test_{name}"], expected)
    taus = search.cv_results_["mean_test_kendall_tau"]
    assert search.best_params_ == {"alpha": grid["alpha"][int(np.argmax(taus))]}
    # A model fitted on noise ranks far worse than one fitted on the signal.
    noise = np.random.default_rng(1).normal(size=(120, 1))
    useless = cross_val_score(Ridge(), noise, y, cv=cv, scoring=kendall_tau_scorer).mean()
    assert search.best_score_ > useless + 0.3


def test_get_scorer_names_and_any_k():
    assert get_scorer_names() == [
        "kendall_tau", "spearman_rho", "precision_at_10", "best_rank_at_10", "ndcg_at_10"
    ]
    scorer = get_scorer("ndcg_at_25")
    assert scorer._score_func is ndcg_at_k and scorer._kwargs == {"k": 25}
    assert get_scorer("best_rank_at_1")._sign == -1
    assert get_scorer("precision_at_10")._sign == 1


def test_get_scorer_falls_back_to_sklearn(regression_data):
    X, y = regression_data
    model = Ridge().fit(X, y)
    assert get_scorer("r2")(model, X, y) == pytest.approx(model.score(X, y))
    assert get_scorer(None) is None


@pytest.mark.parametrize("name", ["kendall", "precision_at_0", "ndcg_at_", "best_rank_at_x"])
def test_get_scorer_unknown_name(name):
    with pytest.raises(ValueError, match="sknar scorers: kendall_tau"):
        get_scorer(name)


# -- the ranking report --------------------------------------------------------------------


def test_ranking_report_holds_every_metric_under_its_scorer_name(regression_data):
    y_true, y_score = _random_pair(3, 60, ties=True)
    report = ranking_report(y_true, y_score, k=[5, 20])
    assert list(report) == [
        "kendall_tau", "spearman_rho",
        "precision_at_5", "best_rank_at_5", "ndcg_at_5",
        "precision_at_20", "best_rank_at_20", "ndcg_at_20",
    ]
    assert report["kendall_tau"] == kendall_tau(y_true, y_score)
    assert report["ndcg_at_20"] == ndcg_at_k(y_true, y_score, 20)
    assert isinstance(report["best_rank_at_5"], int)
    # Each name scores a model exactly as the report does.
    X, y = regression_data
    model = Ridge().fit(X, y)
    from_model = ranking_report(y, model.predict(X), k=10)
    for name, value in from_model.items():
        sign = -1 if name.startswith("best_rank") else 1
        assert get_scorer(name)(model, X, y) == pytest.approx(sign * value)


def test_ranking_report_leaves_out_cutoffs_above_the_sample_count():
    report = ranking_report([3.0, 2.0, 1.0], [3.0, 1.0, 2.0], k=(2, 10))
    assert "precision_at_2" in report and not any(name.endswith("_10") for name in report)


@pytest.mark.parametrize("k", [0, [5, 0], [2.5], [True], "10"])
def test_ranking_report_refuses_bad_cutoffs(k):
    with pytest.raises(ValueError, match="k"):
        ranking_report([3.0, 2.0, 1.0], [3.0, 1.0, 2.0], k=k)
