"""Pareto dominance over several objectives: fronts, non-dominated ranks, hypervolume.

Everything is computed on costs to minimise: a column to maximise is negated first, so that
one dominance rule serves every mix of directions.
"""

import numpy as np

__all__ = ["check_points", "hypervolume", "non_dominated_ranks", "pareto_front"]

# Comparisons held at once by the dominance test (points x chunk x objectives): about 32 MB.
_CHUNK_ELEMENTS = 4_000_000


def check_points(points, directions, *, name="points"):
    """``points`` as a 2-D float array of costs to minimise (maximised columns negated).

    Raises
    ------
    ValueError
        If ``points`` is not 2-D, has no column, holds NaN or infinite values, or if
        ``directions`` does not give one of "max" or "min" per column.
    """
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] == 0:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_points, n_objectives); got shape "
            f"{array.shape}."
        )
    if not np.isfinite(array).all():
        row = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
        raise ValueError(f"{name} holds a NaN or infinite value at row {row}: {array[row]}.")
    directions = [directions] if isinstance(directions, str) else list(directions)
    if len(directions) != array.shape[1] or any(d not in ("max", "min") for d in directions):
        raise ValueError(
            f"directions must give 'max' or 'min' for each of the {array.shape[1]} "
            f"objectives; got {directions!r}."
        )
    signs = np.array([-1.0 if d == "max" else 1.0 for d in directions])
    return array * signs, signs


def _dominated(costs, candidates):
    """For each row of ``candidates``, whether some row of ``costs`` dominates it."""
    n, m = costs.shape
    chunk = max(1, _CHUNK_ELEMENTS // max(1, n * m))
    dominated = np.zeros(len(candidates), dtype=bool)
    for start in range(0, len(candidates), chunk):
        block = candidates[start : start + chunk]
        no_worse = (costs[:, None, :] <= block[None, :, :]).all(axis=2)
        better = (costs[:, None, :] < block[None, :, :]).any(axis=2)
        dominated[start : start + chunk] = (no_worse & better).any(axis=0)
    return dominated


def pareto_front(points, directions):
    """Mask of the points that no other point dominates (the Pareto front).

    A point dominates another when it is at least as good in every objective and strictly
    better in one. Equal points are both on the front when nothing dominates them.

    Parameters
    ----------
    points : array-like of shape (n_points, n_objectives)
        The objective values of each point.
    directions : sequence of {"max", "min"}
        Whether each objective is maximised or minimised.

    Returns
    -------
    mask : ndarray of bool of shape (n_points,)
        True for the non-dominated points.

    Raises
    ------
    ValueError
        If ``points`` is not a 2-D finite array, or ``directions`` does not match it.

    Examples
    --------
    >>> from sknar.metrics import pareto_front
    >>> points = [[0.9, 10.0], [0.8, 5.0], [0.7, 8.0], [0.95, 20.0]]
    >>> pareto_front(points, ["max", "min"]).tolist()
    [True, True, False, True]
    """
    costs, _ = check_points(points, directions)
    if costs.shape[1] == 2:
        return _front_2d(costs)
    return ~_dominated(costs, costs)


def _front_2d(costs):
    """The front of two objectives by one sort (n log n: a whole table of 26,000 networks in
    milliseconds, where the pairwise test takes seconds)."""
    order = np.lexsort((costs[:, 1], costs[:, 0]))
    first, second = costs[order, 0], costs[order, 1]
    on_front = np.zeros(len(costs), dtype=bool)
    best_before = np.inf  # least second cost among points of a strictly smaller first cost
    start = 0
    while start < len(order):
        stop = start
        while stop < len(order) and first[stop] == first[start]:
            stop += 1
        group_best = second[start]  # sorted: the group's least second cost
        for index in range(start, stop):
            on_front[order[index]] = second[index] < best_before and second[index] <= group_best
        best_before = min(best_before, group_best)
        start = stop
    return on_front


def non_dominated_ranks(points, directions):
    """The non-dominated sorting rank of each point: 0 for the front, 1 for the front of
    what is left, and so on.

    Parameters
    ----------
    points : array-like of shape (n_points, n_objectives)
        The objective values of each point.
    directions : sequence of {"max", "min"}
        Whether each objective is maximised or minimised.

    Returns
    -------
    ranks : ndarray of int of shape (n_points,)

    Raises
    ------
    ValueError
        If ``points`` is not a 2-D finite array, or ``directions`` does not match it.

    Examples
    --------
    >>> from sknar.metrics import non_dominated_ranks
    >>> non_dominated_ranks([[1, 1], [2, 2], [3, 3], [1, 3]], ["min", "min"]).tolist()
    [0, 1, 2, 1]
    """
    costs, _ = check_points(points, directions)
    ranks = np.full(len(costs), -1, dtype=np.int64)
    left = np.arange(len(costs))
    rank = 0
    while left.size:
        front = ~_dominated(costs[left], costs[left])
        ranks[left[front]] = rank
        left = left[~front]
        rank += 1
    return ranks


def _hypervolume_2d(costs, reference):
    order = np.lexsort((costs[:, 1], costs[:, 0]))
    volume, best_y = 0.0, reference[1]
    for x, y in costs[order]:
        if y < best_y:
            volume += (reference[0] - x) * (best_y - y)
            best_y = y
    return volume


def _hypervolume(costs, reference):
    """Volume dominated by ``costs`` (all strictly better than ``reference``), by slicing
    along the last objective (exact; fine for the fronts of a search, hundreds of points)."""
    if len(costs) == 0:
        return 0.0
    if costs.shape[1] == 1:
        return float(reference[0] - costs[:, 0].min())
    if costs.shape[1] == 2:
        return _hypervolume_2d(costs, reference)
    costs = costs[~_dominated(costs, costs)]
    order = np.argsort(costs[:, -1], kind="stable")
    costs = costs[order]
    bounds = np.append(costs[:, -1], reference[-1])
    volume = 0.0
    for index in range(len(costs)):
        depth = bounds[index + 1] - bounds[index]
        if depth > 0:
            volume += depth * _hypervolume(costs[: index + 1, :-1], reference[:-1])
    return volume


def hypervolume(points, reference, directions):
    """The hypervolume of ``points``: the volume they dominate up to ``reference``.

    Points no better than the reference in every objective add nothing. The fraction
    ``hypervolume(found) / hypervolume(true front)`` with one reference says how much of a
    trade-off a search recovered; choose the reference where the trade-off matters (e.g.
    the median accuracy and the largest cost), not at the worst corner, where nearly any set
    of points scores close to the whole.

    Parameters
    ----------
    points : array-like of shape (n_points, n_objectives)
        The objective values of each point.
    reference : array-like of shape (n_objectives,)
        The reference point, in the objectives' own units and directions.
    directions : sequence of {"max", "min"}
        Whether each objective is maximised or minimised.

    Returns
    -------
    volume : float
        In the product of the objectives' units.

    Raises
    ------
    ValueError
        If ``points`` is not a 2-D finite array, ``directions`` does not match it, or
        ``reference`` is not one finite value per objective.

    Examples
    --------
    >>> from sknar.metrics import hypervolume
    >>> hypervolume([[90, 10], [80, 5]], reference=[50, 20], directions=["max", "min"])
    550.0
    """
    costs, signs = check_points(points, directions)
    reference = np.asarray(reference, dtype=np.float64)
    if reference.shape != (costs.shape[1],) or not np.isfinite(reference).all():
        raise ValueError(
            f"reference must be {costs.shape[1]} finite values, one per objective; got "
            f"{reference.tolist()!r}."
        )
    reference = reference * signs
    inside = (costs < reference).all(axis=1)
    return float(_hypervolume(costs[inside], reference))
