"""Pareto fronts, non-dominated ranks and hypervolume against brute-force definitions."""

import itertools

import numpy as np
import pytest

from sknar.metrics import hypervolume, non_dominated_ranks, pareto_front


def _dominates(a, b):
    return bool(np.all(a <= b) and np.any(a < b))


def _brute_front(costs):
    return np.array([not any(_dominates(other, point) for other in costs) for point in costs])


def _union_of_boxes(costs, reference):
    """Inclusion-exclusion over every subset of the boxes [point, reference]."""
    total = 0.0
    for size in range(1, len(costs) + 1):
        for subset in itertools.combinations(costs, size):
            corner = np.max(subset, axis=0)
            total += (-1) ** (size + 1) * np.prod(np.clip(reference - corner, 0, None))
    return total


@pytest.mark.parametrize("n_objectives", [2, 3, 4])
def test_front_matches_the_definition(n_objectives):
    rng = np.random.RandomState(n_objectives)
    costs = rng.randint(0, 6, size=(60, n_objectives)).astype(float)  # many ties
    mask = pareto_front(costs, ["min"] * n_objectives)
    np.testing.assert_array_equal(mask, _brute_front(costs))


def test_max_columns_are_negated():
    points = np.array([[0.9, 10.0], [0.8, 5.0], [0.7, 8.0], [0.95, 20.0], [0.9, 10.0]])
    mask = pareto_front(points, ["max", "min"])
    np.testing.assert_array_equal(mask, [True, True, False, True, True])
    flipped = pareto_front(points * [-1, 1], ["min", "min"])
    np.testing.assert_array_equal(mask, flipped)


def test_ranks_peel_fronts_one_after_another():
    rng = np.random.RandomState(0)
    costs = rng.rand(80, 3)
    ranks = non_dominated_ranks(costs, ["min"] * 3)
    left = np.arange(len(costs))
    for rank in range(ranks.max() + 1):
        front = _brute_front(costs[left])
        np.testing.assert_array_equal(np.sort(left[front]), np.flatnonzero(ranks == rank))
        left = left[~front]
    assert left.size == 0


def test_dominance_test_in_chunks_gives_the_same_front(monkeypatch):
    from sknar import _pareto

    rng = np.random.RandomState(1)
    costs = rng.rand(300, 2)
    whole = pareto_front(costs, ["min", "min"])
    monkeypatch.setattr(_pareto, "_CHUNK_ELEMENTS", 10)
    np.testing.assert_array_equal(pareto_front(costs, ["min", "min"]), whole)


@pytest.mark.parametrize("n_objectives", [1, 2, 3, 4])
def test_hypervolume_equals_inclusion_exclusion(n_objectives):
    rng = np.random.RandomState(10 + n_objectives)
    for _ in range(5):
        costs = rng.rand(7, n_objectives)
        reference = np.full(n_objectives, 0.9)
        expected = _union_of_boxes(costs, reference)
        got = hypervolume(costs, reference, ["min"] * n_objectives)
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_hypervolume_by_hand_with_mixed_directions():
    # accuracy up, cost down; the reference sits at accuracy 50 and cost 20.
    points = [[90, 10], [80, 5], [40, 1], [95, 25]]
    # [40, 1] is worse than the reference accuracy, [95, 25] costs more than the reference:
    # neither adds anything; the other two cover 40 x 10 + 30 x 5.
    assert hypervolume(points, [50, 20], ["max", "min"]) == 550.0
    assert hypervolume([[40, 1]], [50, 20], ["max", "min"]) == 0.0


@pytest.mark.parametrize(
    "points, reference, directions, match",
    [
        ([1.0, 2.0], [0.0], ["min"], "2-D array"),
        ([[1.0, np.nan]], [0.0, 0.0], ["min", "min"], "row 0"),
        ([[1.0, 2.0]], [0.0, 0.0], ["min"], "directions"),
        ([[1.0, 2.0]], [0.0, 0.0], ["min", "up"], "directions"),
        ([[1.0, 2.0]], [0.0], ["min", "min"], "reference"),
        ([[1.0, 2.0]], [0.0, np.inf], ["min", "min"], "reference"),
    ],
)
def test_bad_input_is_named(points, reference, directions, match):
    with pytest.raises(ValueError, match=match):
        hypervolume(points, reference, directions)
