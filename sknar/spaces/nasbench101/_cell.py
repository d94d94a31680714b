"""The canonical form of a NAS-Bench-101 cell and the constants of the benchmark."""

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


def _group_by_size(cells):
    """``(positions, cells)`` for each number of vertices among ``cells``."""
    groups = {}
    for position, cell in enumerate(cells):
        groups.setdefault(cell.n_vertices, []).append(position)
    for positions in groups.values():
        yield np.array(positions), [cells[i] for i in positions]
