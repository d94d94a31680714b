"""The canonical form of a NAS-Bench-101 cell and the constants of the benchmark."""

import itertools
from functools import cache
from typing import NamedTuple

import numpy as np

INPUT = "input"
OUTPUT = "output"
CONV1X1 = "conv1x1-bn-relu"
CONV3X3 = "conv3x3-bn-relu"
MAXPOOL3X3 = "maxpool3x3"
# The ops of the interior vertices, in the order of the space's op codes.
INTERIOR_OPS = (CONV1X1, CONV3X3, MAXPOOL3X3)

MAX_VERTICES = 7
MAX_EDGES = 9

# The official generator and hash number the ops in this order (``available_ops`` of the
# benchmark's config); input and output are labelled -1 and -2.
_OFFICIAL_OPS = (CONV3X3, CONV1X1, MAXPOOL3X3)
_OFFICIAL_LABEL = {INPUT: -1, OUTPUT: -2, **{op: i for i, op in enumerate(_OFFICIAL_OPS)}}

# Op codes of the NAR op-code patch (0 is left for "no edge" and for padding).
_OP_CODES = {INPUT: 1, CONV1X1: 2, CONV3X3: 3, MAXPOOL3X3: 4, OUTPUT: 5}


class NASBench101Cell(NamedTuple):
    """Canonical, immutable form of a NAS-Bench-101 cell.

    Attributes
    ----------
    matrix : tuple of tuple of int
        The pruned upper-triangular 0/1 adjacency matrix, ``matrix[i][j] == 1`` for an edge
        from vertex ``i`` to vertex ``j``.
    ops : tuple of str
        The op of each vertex, ``"input"`` first and ``"output"`` last.

    Examples
    --------
    >>> from sknar.spaces.nasbench101 import NASBench101Cell
    >>> cell = NASBench101Cell(((0, 1, 0), (0, 0, 1), (0, 0, 0)),
    ...                        ("input", "conv3x3-bn-relu", "output"))
    >>> cell.n_vertices
    3
    """

    matrix: tuple
    ops: tuple

    @property
    def n_vertices(self):
        """Number of vertices, input and output included."""
        return len(self.ops)

    @property
    def n_edges(self):
        """Number of edges."""
        return sum(map(sum, self.matrix))


def _edge_bit(source, target):
    """Bit of edge ``source -> target`` in the official generator's matrix encoding."""
    return target * (target - 1) // 2 + source


@cache
def _full_dag_masks(n_vertices):
    """Sorted bit masks of the ``n``-vertex matrices the official generator keeps.

    Every vertex but the output has an out-edge and every vertex but the input an in-edge
    (so nothing is pruned), and there are at most 9 edges. The masks grow one target vertex
    at a time: the in-edges of vertex ``t`` are bits ``t(t-1)/2`` to ``t(t+1)/2 - 1``, above
    those of every earlier vertex, so putting each non-empty set of in-edges above the
    partial masks keeps them sorted, and a partial mask with more than 9 edges is dropped
    at once. For 7 vertices this never holds more than about 615,000 partial masks, where
    filtering all 2,097,152 matrices needed a table of 2,097,152 x 21 bits.
    """
    masks = np.zeros(1, dtype=np.int64)
    n_edges = np.zeros(1, dtype=np.int64)
    for target in range(1, n_vertices):
        sources = np.arange(1, 1 << target, dtype=np.int64)
        source_counts = ((sources[:, None] >> np.arange(target)) & 1).sum(axis=1)
        grown = (sources[:, None] << _edge_bit(0, target)) | masks[None, :]
        n_edges = source_counts[:, None] + n_edges[None, :]
        within_limit = n_edges <= MAX_EDGES
        masks, n_edges = grown[within_limit], n_edges[within_limit]
    for vertex in range(n_vertices - 1):
        out_bits = sum(1 << _edge_bit(vertex, t) for t in range(vertex + 1, n_vertices))
        masks = masks[(masks & out_bits) != 0]
    masks.setflags(write=False)
    return masks


def _masks_to_matrices(masks, n_vertices):
    matrices = np.zeros((len(masks), n_vertices, n_vertices), dtype=np.uint8)
    for target in range(n_vertices):
        for source in range(target):
            matrices[:, source, target] = (masks >> _edge_bit(source, target)) & 1
    return matrices


@cache
def _canonical_matrices(n_vertices):
    """Every canonical ``n``-vertex matrix, as a dict mapping each to itself.

    The canonical matrices are those the official generator keeps; a look-up maps any equal
    tuple of tuples (bools or numpy integers included) to the table's tuple of Python ints.
    Rows are shared between the matrices of a table: under 1 MB for all sizes together.
    """
    if not 2 <= n_vertices <= MAX_VERTICES:
        return {}
    rows = {}
    table = {}
    for matrix in _masks_to_matrices(_full_dag_masks(n_vertices), n_vertices).tolist():
        matrix = tuple(rows.setdefault(tuple(row), tuple(row)) for row in matrix)
        table[matrix] = matrix
    return table


@cache
def _canonical_op_tuples(n_vertices):
    """Every valid op tuple of an ``n``-vertex cell, as a dict mapping each to itself."""
    if not 2 <= n_vertices <= MAX_VERTICES:
        return {}
    table = {}
    for interior in itertools.product(INTERIOR_OPS, repeat=n_vertices - 2):
        ops = (INPUT, *interior, OUTPUT)
        table[ops] = ops
    return table


def _group_by_size(cells):
    """``(positions, cells)`` for each number of vertices among ``cells``."""
    groups = {}
    for position, cell in enumerate(cells):
        groups.setdefault(cell.n_vertices, []).append(position)
    for positions in groups.values():
        yield np.array(positions), [cells[i] for i in positions]
