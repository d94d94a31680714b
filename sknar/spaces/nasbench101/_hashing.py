"""The official NAS-Bench-101 module hash and the vertex order the benchmark trained."""

import hashlib
import itertools
from functools import cache

import numpy as np

from ._cell import _OFFICIAL_LABEL, _OFFICIAL_OPS, NASBench101Cell, _edge_bit


def _official_hash(cell):
    """``graph_util.hash_module`` of the benchmark, on a canonical cell."""
    md5 = hashlib.md5
    matrix, vertices = cell.matrix, range(cell.n_vertices)
    in_neighbours = [[w for w in vertices if matrix[w][v]] for v in vertices]
    out_neighbours = [[w for w in vertices if row[w]] for row in matrix]
    labels = [_OFFICIAL_LABEL[op] for op in cell.ops]
    # str() of the official (out-degree, in-degree, label) tuple of Python ints.
    hashes = [
        md5(f"({len(out_)}, {len(in_)}, {label})".encode()).hexdigest()
        for in_, out_, label in zip(in_neighbours, out_neighbours, labels)
    ]
    for _ in vertices:
        hashes = [
            md5(
                (
                    "".join(sorted([hashes[w] for w in in_]))
                    + "|"
                    + "".join(sorted([hashes[w] for w in out_]))
                    + "|"
                    + own
                ).encode()
            ).hexdigest()
            for in_, out_, own in zip(in_neighbours, out_neighbours, hashes)
        ]
    return md5(str(sorted(hashes)).encode()).hexdigest()


@cache
def _interior_permutations(n_vertices):
    rows = list(itertools.permutations(range(1, n_vertices - 1)))
    perms = np.array(rows, dtype=np.intp).reshape(len(rows), n_vertices - 2)
    full = np.concatenate(
        [np.zeros((len(perms), 1), np.intp), perms, np.full((len(perms), 1), n_vertices - 1)],
        axis=1,
    )
    full.setflags(write=False)
    return full


def _ordering_keys(matrix, labeling):
    """Generator keys of every upper-triangular reordering of a labelled cell.

    ``matrix`` is an (n, n) 0/1 array and ``labeling`` the official labels of the interior
    vertices. Input and output are the only source and sink of a pruned cell, so only the
    interior vertices move. Returns ``(permutations, keys)`` for the reorderings that are
    upper-triangular: row ``p`` of ``permutations`` maps new vertex ``i`` to old vertex
    ``permutations[p, i]``, and ``keys`` orders the reorderings as the official generator
    meets them (matrix bit mask first, then the ops, first interior vertex most significant).
    """
    keys = _batch_ordering_keys(np.asarray(matrix)[None], np.asarray(labeling)[None])[0]
    perms = _interior_permutations(len(matrix))
    valid = keys >= 0
    return perms[valid], keys[valid]


def _batch_ordering_keys(matrices, labelings):
    """Generator keys of all interior permutations of a batch of cells of one size.

    Returns an int64 array (B, n_permutations), -1 where the reordering is not
    upper-triangular.
    """
    n_vertices = matrices.shape[1]
    perms = _interior_permutations(n_vertices)
    upper, lower, weights, label_weights = _ordering_tables(n_vertices)
    flat_index = (perms[:, :, None] * n_vertices + perms[:, None, :]).reshape(len(perms), -1)
    # 0/1 entries: one byte each keeps the (B, n_permutations, n * n) table small.
    permuted = matrices.reshape(len(matrices), -1).astype(np.uint8)[:, flat_index]
    keys = permuted[:, :, upper].astype(np.int64) @ weights
    labels = np.asarray(labelings, dtype=np.int64)[:, perms[:, 1:-1] - 1]
    keys = keys * len(_OFFICIAL_OPS) ** (n_vertices - 2) + labels @ label_weights
    return np.where(permuted[:, :, lower].any(axis=2), -1, keys)


def _benchmark_permutations(matrices, labelings, chunk=1024):
    """Trained vertex order of a batch of cells of one size, as (B, n) permutations."""
    perms = _interior_permutations(matrices.shape[1])
    found = []
    for start in range(0, len(matrices), chunk):
        keys = _batch_ordering_keys(
            matrices[start : start + chunk], labelings[start : start + chunk]
        )
        keys = np.where(keys < 0, np.iinfo(np.int64).max, keys)
        found.append(perms[keys.argmin(axis=1)])
    return np.concatenate(found) if found else np.empty((0, matrices.shape[1]), np.intp)


@cache
def _ordering_tables(n_vertices):
    """Flat indices of the upper and lower triangles, and the weights of generator keys."""
    rows, cols = np.divmod(np.arange(n_vertices * n_vertices), n_vertices)
    upper = np.flatnonzero(rows < cols)
    lower = np.flatnonzero(rows >= cols)
    weights = np.array([1 << _edge_bit(rows[i], cols[i]) for i in upper], dtype=np.int64)
    label_weights = len(_OFFICIAL_OPS) ** np.arange(n_vertices - 3, -1, -1, dtype=np.int64)
    return upper, lower, weights, label_weights


def _official_labels(cell):
    return np.array([_OFFICIAL_LABEL[op] for op in cell.ops[1:-1]], dtype=np.int64)


def _permute_cell(cell, permutation):
    """The cell whose vertex ``i`` is vertex ``permutation[i]`` of ``cell``."""
    matrix = np.asarray(cell.matrix)[np.ix_(permutation, permutation)]
    ops = tuple(cell.ops[v] for v in permutation)
    return NASBench101Cell(tuple(map(tuple, matrix.tolist())), ops)


def _benchmark_permutation(cell):
    """Vertex order of the network the benchmark trained for ``cell``.

    The official generator keeps the first ordering of each cell that it meets, and that
    ordering is the network that was built and trained (its channel split gives the extra
    channels to the first vertices that feed the output, so the parameter count depends on
    it). Returns a permutation: trained vertex ``i`` is vertex ``permutation[i]`` of ``cell``.
    """
    perms, keys = _ordering_keys(np.asarray(cell.matrix), _official_labels(cell))
    return tuple(perms[int(np.argmin(keys))].tolist())
