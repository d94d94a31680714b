"""Tests for sknar.tiers.TierTransformer."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError, SkipTestWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from sknar.tiers import TierTransformer
from sknar.utils import check_accuracies
from sknar.utils.testing import require_data


@pytest.fixture(scope="module")
def accuracies():
    return np.random.default_rng(0).uniform(0.6, 0.95, size=503)


def test_quantile_tiers_are_equal_frequency_and_ordered(accuracies):
    transformer = TierTransformer(n_tiers=5).fit(accuracies)
    tiers = transformer.transform(accuracies)
    counts = np.bincount(tiers, minlength=5)
    assert counts.sum() == accuracies.size
    assert counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(counts, transformer.tier_counts_)
    # Every accuracy of a better tier beats every accuracy of a worse one.
    for tier in range(4):
        assert accuracies[tiers == tier].min() > accuracies[tiers == tier + 1].max()
    best = np.argsort(accuracies)[::-1][: counts[0]]
    assert set(np.flatnonzero(tiers == 0)) == set(best)


def test_tier_edges_are_descending_and_bracket_training_data(accuracies):
    transformer = TierTransformer(n_tiers=4).fit(accuracies)
    edges = transformer.tier_edges_
    assert edges.shape == (5,)
    assert np.all(np.diff(edges) < 0)
    assert edges[0] == accuracies.max() and edges[-1] == accuracies.min()
    tiers = transformer.transform(accuracies)
    low, high = transformer.tier_ranges_[tiers].T
    assert np.all((low <= accuracies) & (accuracies <= high))
    assert transformer.n_tiers_ == 4


def test_ties_share_a_tier_and_tiers_stay_non_empty():
    # Seven equal accuracies straddle the ideal boundaries of three tiers over ten samples.
    y = np.array([0.9] * 7 + [0.5, 0.4, 0.3])
    transformer = TierTransformer(n_tiers=3).fit(y)
    tiers = transformer.transform(y)
    assert len(set(tiers[:7])) == 1
    assert np.all(np.bincount(tiers, minlength=3) > 0)
    assert tiers[0] == 0 and tiers[-1] == 2
    # Order of the input does not change any tier.
    order = np.random.default_rng(1).permutation(y.size)
    np.testing.assert_array_equal(
        TierTransformer(n_tiers=3).fit(y[order]).transform(y[order]), tiers[order]
    )


def test_tie_block_goes_to_the_nearer_side_of_the_ideal_cut():
    # Ideal cut after 5 of 10 samples; the block of ties occupies positions 3..5 (three values),
    # so it can start tier 1 (cut at 3, off by 2) or end tier 0 (cut at 6, off by 1).
    y = np.array([1.0, 0.99, 0.98, 0.5, 0.5, 0.5, 0.4, 0.3, 0.2, 0.1])
    tiers = TierTransformer(n_tiers=2).fit_transform(y)
    np.testing.assert_array_equal(tiers, [0] * 6 + [1] * 4)


def test_too_few_distinct_values_for_quantile_tiers():
    with pytest.raises(ValueError, match="2 distinct value"):
        TierTransformer(n_tiers=3).fit([0.9, 0.9, 0.8, 0.8])


def test_transform_new_values_uses_learned_edges():
    y = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    transformer = TierTransformer(n_tiers=3).fit(y)
    np.testing.assert_allclose(transformer.tier_edges_, [0.6, 0.45, 0.25, 0.1])
    np.testing.assert_array_equal(
        transformer.transform([2.0, 0.45, 0.449, 0.25, 0.24, -1.0]), [0, 0, 1, 1, 2, 2]
    )


def test_uniform_strategy_equal_width_with_empty_tier():
    y = np.array([0.0, 0.05, 0.9, 0.95, 1.0])
    transformer = TierTransformer(n_tiers=4, strategy="uniform").fit(y)
    np.testing.assert_allclose(transformer.tier_edges_, [1.0, 0.75, 0.5, 0.25, 0.0])
    np.testing.assert_array_equal(transformer.transform(y), [3, 3, 0, 0, 0])
    np.testing.assert_array_equal(transformer.tier_counts_, [3, 0, 0, 2])
    # Empty tiers are represented by the middle of their range.
    np.testing.assert_allclose(transformer.tier_values_, [0.95, 0.625, 0.375, 0.025])


def test_uniform_strategy_rejects_constant_y():
    with pytest.raises(ValueError, match="constant"):
        TierTransformer(n_tiers=2, strategy="uniform").fit([0.5, 0.5, 0.5])


def test_inverse_transform_values_and_ranges():
    y = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    transformer = TierTransformer(n_tiers=3).fit(y)
    np.testing.assert_allclose(transformer.inverse_transform([0, 1, 2]), [0.55, 0.35, 0.15])
    ranges = transformer.inverse_transform([2, 0], return_range=True)
    np.testing.assert_allclose(ranges, [[0.1, 0.25], [0.45, 0.6]])
    # The representative of each tier maps back to the same tier.
    np.testing.assert_array_equal(
        transformer.transform(transformer.tier_values_), np.arange(3)
    )


def test_inverse_transform_rejects_bad_labels():
    transformer = TierTransformer(n_tiers=3).fit([0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match=r"\[0, 3\).*index 1"):
        transformer.inverse_transform([0, 3])
    with pytest.raises(ValueError, match="integer"):
        transformer.inverse_transform([0.5])
    with pytest.raises(ValueError, match="1-D"):
        transformer.inverse_transform([[0]])


@pytest.mark.parametrize("kernel", ["label_smoothing", "distance"])
def test_soft_transform_rows_are_distributions_peaked_at_tier(accuracies, kernel):
    transformer = TierTransformer(n_tiers=5, soft_kernel=kernel, smoothing=0.2).fit(accuracies)
    proba = transformer.soft_transform(accuracies)
    assert proba.shape == (accuracies.size, 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(proba > 0)
    np.testing.assert_array_equal(proba.argmax(axis=1), transformer.transform(accuracies))


def test_label_smoothing_values():
    transformer = TierTransformer(n_tiers=4, soft_kernel="label_smoothing", smoothing=0.2)
    transformer.fit([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(transformer.soft_labels([1]), [[0.05, 0.85, 0.05, 0.05]])


def test_distance_kernel_is_ordinal():
    transformer = TierTransformer(n_tiers=4, soft_kernel="distance", smoothing=0.5)
    transformer.fit([0.1, 0.2, 0.3, 0.4])
    proba = transformer.soft_labels([1])[0]
    np.testing.assert_allclose(proba, np.array([0.5, 1.0, 0.5, 0.25]) / 2.25)


def test_zero_smoothing_is_one_hot():
    transformer = TierTransformer(n_tiers=3, smoothing=0.0).fit([0.1, 0.2, 0.3])
    np.testing.assert_array_equal(transformer.soft_transform([0.3, 0.1]), [[1, 0, 0], [0, 0, 1]])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_accuracies_name_their_index(bad):
    y = np.array([0.1, 0.2, 0.3, bad, 0.5])
    with pytest.raises(ValueError, match="index 3"):
        TierTransformer(n_tiers=2).fit(y)
    fitted = TierTransformer(n_tiers=2).fit([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="index 3"):
        fitted.transform(y)


def test_fewer_samples_than_tiers():
    with pytest.raises(ValueError, match="at least 5"):
        TierTransformer(n_tiers=5).fit([0.1, 0.2, 0.3])


@pytest.mark.parametrize("y", [np.zeros((4, 1)), np.zeros((2, 3)), np.float64(0.5)])
def test_non_1d_y_rejected(y):
    with pytest.raises(ValueError, match="1-D"):
        TierTransformer(n_tiers=2).fit(y)


def test_non_numeric_y_rejected():
    with pytest.raises(ValueError, match="numeric"):
        TierTransformer(n_tiers=2).fit(["a", "b"])


def test_none_y_rejected():
    with pytest.raises(ValueError, match="None"):
        check_accuracies(None)


@pytest.mark.parametrize(
    "params",
    [{"n_tiers": 1}, {"n_tiers": 2.5}, {"strategy": "kmeans"}, {"smoothing": 1.0},
     {"soft_kernel": "gaussian"}],
)
def test_invalid_parameters(params):
    with pytest.raises(ValueError):
        TierTransformer(**params).fit([0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize("method", ["transform", "soft_transform", "inverse_transform"])
def test_unfitted_use_raises(method):
    with pytest.raises(NotFittedError):
        getattr(TierTransformer(), method)([0])


def test_clone_get_params_and_pickle(accuracies):
    transformer = TierTransformer(n_tiers=3, strategy="uniform", smoothing=0.3)
    params = transformer.get_params()
    assert params == {
        "n_tiers": 3, "strategy": "uniform", "soft_kernel": "distance", "smoothing": 0.3
    }
    cloned = clone(transformer.fit(accuracies))
    assert cloned.get_params() == params
    assert not hasattr(cloned, "tier_edges_")
    restored = pickle.loads(pickle.dumps(transformer))
    np.testing.assert_array_equal(restored.tier_edges_, transformer.tier_edges_)
    np.testing.assert_array_equal(restored.transform(accuracies), transformer.transform(accuracies))
    assert transformer.set_params(n_tiers=4).n_tiers == 4


def test_constructor_is_keyword_only():
    with pytest.raises(TypeError):
        TierTransformer(5)


def test_declares_itself_a_target_transformer():
    tags = get_tags(TierTransformer())
    assert tags.input_tags.two_d_array is False
    assert tags.target_tags.one_d_labels is True


with warnings.catch_warnings():
    # The skip of the feature-matrix checks is asserted in the next test.
    warnings.simplefilter("ignore", SkipTestWarning)
    _ESTIMATOR_CHECKS = parametrize_with_checks([TierTransformer()])


@_ESTIMATOR_CHECKS
def test_sklearn_estimator_checks(estimator, check):
    # Only the checks that apply to any estimator (cloning) are generated: the rest feed 2-D X
    # through fit(X, y) and are skipped for a target transformer (see the class Notes).
    check(estimator)


def test_sklearn_skips_feature_matrix_checks_with_a_warning():
    with pytest.warns(SkipTestWarning, match="TierTransformer"):
        results = check_estimator(TierTransformer(), on_fail=None)
    assert results and all(result["status"] == "passed" for result in results)


def test_tiers_train_an_ordinary_classifier(accuracies):
    rng = np.random.default_rng(2)
    X = np.column_stack([accuracies + rng.normal(0, 0.01, accuracies.size), rng.normal(size=503)])
    tiers = TierTransformer(n_tiers=3).fit_transform(accuracies)
    classifier = LogisticRegression().fit(X * 100, tiers)
    assert classifier.score(X * 100, tiers) > 0.8


def test_nasbench201_accuracies_many_ties():
    path = require_data("nasbench201/nats_tss_test_acc_200ep.csv")
    y = np.loadtxt(path, delimiter=",", skiprows=1, usecols=0)
    assert np.unique(y).size < y.size  # the benchmark repeats accuracies
    transformer = TierTransformer(n_tiers=10).fit(y)
    tiers = transformer.transform(y)
    counts = np.bincount(tiers, minlength=10)
    np.testing.assert_array_equal(counts, transformer.tier_counts_)
    # Blocks of equal accuracies move cuts by at most the largest block.
    largest_block = np.unique(y, return_counts=True)[1].max()
    assert np.all(np.abs(counts - y.size / 10) <= largest_block)
    for value in np.unique(y):
        assert np.unique(tiers[y == value]).size == 1
    assert np.all(np.diff(transformer.tier_values_) < 0)
