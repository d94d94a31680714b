"""Tests for sknar.model_selection.TierStratifiedKFold."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import BaseCrossValidator, GridSearchCV, KFold, cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from sknar.metrics import kendall_tau_scorer
from sknar.model_selection import TierStratifiedKFold
from sknar.tiers import TierTransformer


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(103, 3))
    # Skewed accuracies, as in NAS benchmarks: most are good, a long tail is bad.
    y = 0.95 - rng.exponential(0.02, size=103) + 0.02 * X[:, 0]
    return X, y


def _folds(cv, X, y):
    return [(train, test) for train, test in cv.split(X, y)]


@pytest.mark.parametrize("shuffle", [False, True])
def test_every_test_fold_holds_every_tier_in_proportion(data, shuffle):
    X, y = data
    cv = TierStratifiedKFold(4, n_tiers=5, shuffle=shuffle, random_state=0 if shuffle else None)
    tiers = TierTransformer(n_tiers=5).fit_transform(y)
    overall = np.bincount(tiers) / y.size
    for train, test in _folds(cv, X, y):
        counts = np.bincount(tiers[test], minlength=5)
        assert np.all(counts > 0)
        assert np.all(np.abs(counts / test.size - overall) < 0.06)
        assert set(tiers[train]) == set(range(5))


def test_folds_partition_the_data(data):
    X, y = data
    folds = _folds(TierStratifiedKFold(5, n_tiers=4), X, y)
    assert len(folds) == 5
    tests = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(y.size))
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0
        assert train.size + test.size == y.size
    sizes = [test.size for _, test in folds]
    assert max(sizes) - min(sizes) <= 1


def test_plain_kfold_can_miss_a_tier_but_tier_folds_do_not():
    # Sorted accuracies: unshuffled KFold puts the whole top tier in the first test fold.
    y = np.linspace(0.5, 0.95, 50)
    X = np.zeros((50, 1))
    tiers = TierTransformer(n_tiers=5).fit_transform(y)
    kfold_tests = [test for _, test in KFold(5).split(X, y)]
    assert set(tiers[kfold_tests[0]]) == {4}
    for _, test in TierStratifiedKFold(5, n_tiers=5).split(X, y):
        assert np.all(np.bincount(tiers[test], minlength=5) == 2)


def test_random_state_reproducible_and_shuffle_changes_folds(data):
    X, y = data
    first = _folds(TierStratifiedKFold(3, shuffle=True, random_state=1), X, y)
    again = _folds(TierStratifiedKFold(3, shuffle=True, random_state=1), X, y)
    other = _folds(TierStratifiedKFold(3, shuffle=True, random_state=2), X, y)
    unshuffled = _folds(TierStratifiedKFold(3), X, y)
    for (_, a), (_, b) in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for (_, a), (_, b) in zip(first, other))
    assert any(not np.array_equal(a, b) for (_, a), (_, b) in zip(first, unshuffled))


def test_works_in_cross_val_score(data):
    X, y = data
    cv = TierStratifiedKFold(4, n_tiers=3, shuffle=True, random_state=0)
    scores = cross_val_score(Ridge(), X, y, cv=cv, scoring=kendall_tau_scorer)
    assert scores.shape == (4,)
    assert np.all(scores > 0.2)


def test_works_in_grid_search(data):
    X, y = data
    cv = TierStratifiedKFold(3, n_tiers=4)
    search = GridSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=cv, scoring=kendall_tau_scorer)
    search.fit(X, y)
    assert search.n_splits_ == 3
    assert {"split0_test_score", "split2_test_score"} <= set(search.cv_results_)


def test_is_a_cross_validator_with_n_splits_and_repr():
    cv = TierStratifiedKFold(4, n_tiers=3)
    assert isinstance(cv, BaseCrossValidator)
    assert cv.get_n_splits() == 4
    assert repr(cv) == (
        "TierStratifiedKFold(n_splits=4, n_tiers=3, random_state=None, shuffle=False)"
    )
    restored = pickle.loads(pickle.dumps(cv))
    assert repr(restored) == repr(cv)


def test_requires_y(data):
    X, _ = data
    with pytest.raises(ValueError, match="needs the target y"):
        next(TierStratifiedKFold(3).split(X, None))


def test_too_few_samples_per_tier():
    y = np.linspace(0.0, 1.0, 12)
    with pytest.raises(ValueError, match=r"tier \d holds 2 sample\(s\), fewer than n_splits=3"):
        next(TierStratifiedKFold(3, n_tiers=6).split(np.zeros((12, 1)), y))


def test_bad_targets_are_reported(data):
    X, y = data
    y = y.copy()
    y[7] = np.nan
    with pytest.raises(ValueError, match="index 7"):
        next(TierStratifiedKFold(3).split(X, y))
    with pytest.raises(ValueError, match="1-D"):
        next(TierStratifiedKFold(3).split(X, np.zeros((103, 2))))


def test_length_mismatch_between_x_and_y(data):
    X, y = data
    with pytest.raises(ValueError, match="X has 50 samples but y has 103"):
        next(TierStratifiedKFold(3).split(X[:50], y))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_splits": 1}, "The 'n_splits' parameter of TierStratifiedKFold"),
        ({"n_tiers": 1}, "The 'n_tiers' parameter of TierStratifiedKFold"),
        ({"n_splits": 2.5}, "The 'n_splits' parameter of TierStratifiedKFold"),
        ({"n_tiers": "5"}, "The 'n_tiers' parameter of TierStratifiedKFold"),
        ({"shuffle": "yes"}, "The 'shuffle' parameter of TierStratifiedKFold"),
        ({"shuffle": True, "random_state": "seed"}, "The 'random_state' parameter"),
    ],
)
def test_invalid_parameters_raise_invalid_parameter_error(data, params, message):
    X, y = data
    cv = TierStratifiedKFold(**{"n_splits": 3, **params})
    with pytest.raises(InvalidParameterError, match=message):
        next(cv.split(X, y))
    with pytest.raises(InvalidParameterError, match=message):
        cv.tiers(y)


def test_random_state_without_shuffle_has_no_effect_and_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="no effect"):
        next(TierStratifiedKFold(3, random_state=0).split(X, y))


def test_clone_keeps_parameters():
    cv = TierStratifiedKFold(4, n_tiers=2, shuffle=True, random_state=3)
    assert repr(clone(cv, safe=False)) == repr(cv)
