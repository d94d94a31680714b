"""Enumeration and uniform sampling of the NAS-Bench-101 cells, in the official generator's
order."""

import itertools
from functools import cache

import numpy as np

from ._cell import (
    _OFFICIAL_LABEL,
    _OFFICIAL_OPS,
    INPUT,
    MAX_VERTICES,
    OUTPUT,
    NASBench101Cell,
    _full_dag_masks,
    _masks_to_matrices,
)
from ._hashing import _ordering_keys, _permute_cell
from ._validation import _validate_cell


def _mix(values):
    """splitmix64 finaliser on uint64 arrays (wrap-around arithmetic is intended)."""
    values = values + np.uint64(0x9E3779B97F4A7C15)
    values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


@cache
def _labelings(n_vertices):
    """Interior op labels in the generator's order (``itertools.product``), shape (L, n-2)."""
    rows = list(itertools.product(range(len(_OFFICIAL_OPS)), repeat=n_vertices - 2))
    labels = np.array(rows, dtype=np.int64).reshape(len(rows), n_vertices - 2)
    labels.setflags(write=False)
    return labels


def _fingerprints(matrices, labelings):
    """64-bit analogue of the official hash for every (matrix, labeling) pair.

    Same refinement as ``hash_module`` (degrees and label, then ``n`` rounds combining the
    multisets of in- and out-neighbour hashes with the vertex's own hash) with multisets
    summed after mixing instead of sorted and concatenated, so two specs share a
    fingerprint iff they share the official hash (up to 64-bit collisions).
    Returns an array of shape (n_matrices, n_labelings).
    """
    n_matrices, n_vertices = matrices.shape[:2]
    edges = matrices.astype(np.uint64)
    out_degree = matrices.sum(axis=2).astype(np.uint64)
    in_degree = matrices.sum(axis=1).astype(np.uint64)
    labels = np.concatenate(
        [
            np.full((len(labelings), 1), _OFFICIAL_LABEL[INPUT]),
            labelings,
            np.full((len(labelings), 1), _OFFICIAL_LABEL[OUTPUT]),
        ],
        axis=1,
    )
    labels = (labels + 2).astype(np.uint64)
    degrees = (out_degree * np.uint64(16) + in_degree) * np.uint64(8)
    hashes = _mix(degrees[:, None, :] + labels[None, :, :])
    pairs = [(s, t) for t in range(n_vertices) for s in range(t)]
    for _ in range(n_vertices):
        into = _mix(hashes ^ np.uint64(0x5851F42D4C957F2D))
        out_of = _mix(hashes ^ np.uint64(0x14057B7EF767814F))
        in_sum = np.zeros_like(hashes)
        out_sum = np.zeros_like(hashes)
        for source, target in pairs:
            edge = edges[:, source, target][:, None]
            in_sum[:, :, target] += edge * into[:, :, source]
            out_sum[:, :, source] += edge * out_of[:, :, target]
        hashes = _mix(_mix(in_sum) ^ _mix(_mix(out_sum) + hashes))
    return _mix(_mix(hashes).sum(axis=2) + np.uint64(n_vertices))


def _generator_specs(n_vertices):
    """Fingerprints of the labelled full DAGs of ``n`` vertices, in the generator's order.

    Returns ``(masks, labelings, fingerprints)`` with fingerprints of shape
    (n_masks, n_labelings): row-major order is the order of the official generator.
    """
    masks = _full_dag_masks(n_vertices)
    labelings = _labelings(n_vertices)
    chunk = max(1, 200_000 // len(labelings))
    prints = [
        _fingerprints(_masks_to_matrices(masks[start : start + chunk], n_vertices), labelings)
        for start in range(0, len(masks), chunk)
    ]
    return masks, labelings, np.concatenate(prints)


def _enumerate_cells():
    """Every distinct cell once, as the generator first meets it, in generator order.

    Cells of different sizes are never the same, so each size is deduplicated on its own
    and yielded before the next one is built.
    """
    for n_vertices in range(2, MAX_VERTICES + 1):
        masks, labelings, fingerprints = _generator_specs(n_vertices)
        _, first = np.unique(fingerprints.ravel(), return_index=True)
        first.sort()
        matrices = [
            tuple(map(tuple, matrix.tolist())) for matrix in _masks_to_matrices(masks, n_vertices)
        ]
        op_lists = [
            (INPUT, *(_OFFICIAL_OPS[label] for label in labeling), OUTPUT)
            for labeling in labelings.tolist()
        ]
        for index in first.tolist():
            matrix_index, labeling_index = divmod(index, len(labelings))
            yield NASBench101Cell(matrices[matrix_index], op_lists[labeling_index])


@cache
def _generator_sizes():
    """Number of labelled full DAGs the generator lists per vertex count (2..7)."""
    return np.array(
        [
            len(_full_dag_masks(n)) * len(_OFFICIAL_OPS) ** (n - 2)
            for n in range(2, MAX_VERTICES + 1)
        ],
        dtype=np.int64,
    )


def _draw_uniform_cell(rng):
    sizes = _generator_sizes()
    draw = int(rng.randint(int(sizes.sum())))
    n_index = int(np.searchsorted(np.cumsum(sizes), draw, side="right"))
    n_vertices = n_index + 2
    draw -= int(sizes[:n_index].sum())
    labelings = _labelings(n_vertices)
    mask_index, labeling_index = divmod(draw, len(labelings))
    mask = _full_dag_masks(n_vertices)[mask_index : mask_index + 1]
    matrix = _masks_to_matrices(mask, n_vertices)[0]
    perms, keys = _ordering_keys(matrix, labelings[labeling_index])
    # The drawn cell has len(unique keys) orderings among the generator's specs: accepting
    # with probability one over that number makes every cell equally likely.
    if rng.random_sample() * len(np.unique(keys)) >= 1.0:
        return None
    cell = NASBench101Cell(
        tuple(map(tuple, matrix.tolist())),
        (INPUT, *(_OFFICIAL_OPS[label] for label in labelings[labeling_index]), OUTPUT),
    )
    return _permute_cell(cell, list(perms[int(np.argmin(keys))]))


def _draw_random_spec(rng):
    matrix = np.triu(rng.randint(0, 2, size=(MAX_VERTICES, MAX_VERTICES)), k=1)
    interior = rng.randint(len(_OFFICIAL_OPS), size=MAX_VERTICES - 2)
    ops = (INPUT, *(_OFFICIAL_OPS[label] for label in interior), OUTPUT)
    try:
        return _validate_cell(matrix, ops)
    except ValueError:
        return None
