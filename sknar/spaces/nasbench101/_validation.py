"""Validation and pruning of NAS-Bench-101 cells, as the official ``ModelSpec`` does it."""

import itertools
from functools import cache

import networkx as nx
import numpy as np

from ._cell import INPUT, INTERIOR_OPS, MAX_EDGES, MAX_VERTICES, OUTPUT, NASBench101Cell
from ._hashing import _ordering_tables


def _split_arch(arch, space):
    """Return ``(matrix, ops)`` of any accepted form, or raise a ValueError."""
    if isinstance(arch, nx.DiGraph):
        return _graph_to_matrix(arch, space)
    if isinstance(arch, dict):
        for matrix_key, ops_key in (("matrix", "ops"), ("module_adjacency", "module_operations")):
            if matrix_key in arch and ops_key in arch:
                return arch[matrix_key], arch[ops_key]
        raise ValueError(
            "a dict architecture needs the keys 'matrix' and 'ops' or 'module_adjacency' and "
            f"'module_operations'; got keys {sorted(map(str, arch))}"
        )
    if isinstance(arch, (tuple, list)) and len(arch) == 2:
        return arch[0], arch[1]
    raise ValueError(
        "a NAS-Bench-101 architecture is a (matrix, ops) pair, a dict with matrix/ops keys or "
        f"a networkx.DiGraph; got {type(arch).__name__}"
    )


def _graph_to_matrix(graph, space):
    label = graph.graph.get("space", space.name)
    if label != space.name:
        raise ValueError(f"the graph belongs to space {label!r}, not {space.name!r}")
    n = graph.number_of_nodes()
    if sorted(graph.nodes, key=repr) != sorted(range(n), key=repr):
        raise ValueError(f"graph nodes must be the integers 0..{n - 1}, got {list(graph.nodes)}")
    ops = []
    for vertex in range(n):
        if "op" not in graph.nodes[vertex]:
            raise ValueError(f"graph node {vertex} has no 'op' attribute")
        ops.append(graph.nodes[vertex]["op"])
    matrix = np.zeros((n, n), dtype=np.int64)
    for source, target in graph.edges:
        matrix[source, target] = 1
    return matrix, ops


# Canonical cells already validated, so that passing canonical cells around (the common
# case) costs a dict look-up. Bounded: cleared when it would outgrow the whole space.
_VALIDATED = {}
_MAX_VALIDATED = 1 << 20


def _remember(cell):
    if len(_VALIDATED) >= _MAX_VALIDATED:
        _VALIDATED.clear()
    _VALIDATED[cell] = cell
    return cell


def _validate_cell(matrix, ops):
    rows = _check_matrix(matrix).tolist()
    ops = _check_ops(ops, len(rows))
    _check_dag(rows)
    keep = _on_input_output_path(rows)
    if not keep[0]:
        raise ValueError("the output is not reachable from the input")
    if not all(keep):
        kept = [vertex for vertex, on_path in enumerate(keep) if on_path]
        rows = [[rows[i][j] for j in kept] for i in kept]
        ops = tuple(ops[vertex] for vertex in kept)
    if len(ops) > MAX_VERTICES:
        raise ValueError(
            f"too many vertices: {len(ops)} after pruning, at most {MAX_VERTICES} allowed"
        )
    n_edges = sum(map(sum, rows))
    if n_edges > MAX_EDGES:
        raise ValueError(f"too many edges: {n_edges} after pruning, at most {MAX_EDGES} allowed")
    return _remember(NASBench101Cell(tuple(map(tuple, rows)), ops))


@cache
def _valid_op_tuples(n_vertices):
    return frozenset(
        (INPUT, *interior, OUTPUT)
        for interior in itertools.product(INTERIOR_OPS, repeat=n_vertices - 2)
    )


def _canonical_cells_are_valid(cells, n_vertices):
    """Vectorised check that cells of one size are valid and already pruned.

    Returns a boolean per cell; False only means "check it one by one".
    """
    if not 2 <= n_vertices <= MAX_VERTICES:
        return np.zeros(len(cells), dtype=bool)
    try:
        matrices = np.array([cell.matrix for cell in cells])
    except ValueError:  # ragged
        return np.zeros(len(cells), dtype=bool)
    if matrices.shape != (len(cells), n_vertices, n_vertices) or matrices.dtype.kind != "i":
        return np.zeros(len(cells), dtype=bool)
    valid_ops = _valid_op_tuples(n_vertices)
    ok = np.array(
        [
            cell.ops in valid_ops
            and all(type(op) is str for op in cell.ops)
            and type(cell.matrix) is tuple
            and all(type(row) is tuple for row in cell.matrix)
            for cell in cells
        ]
    )
    flat = matrices.reshape(len(cells), -1)
    _, lower, _, _ = _ordering_tables(n_vertices)
    ok &= ((flat == 0) | (flat == 1)).all(axis=1)
    ok &= ~flat[:, lower].any(axis=1)
    ok &= flat.sum(axis=1) <= MAX_EDGES
    # nothing to prune: every vertex but the output has an out-edge, every vertex but the
    # input an in-edge (vertices are in topological order)
    ok &= matrices[:, :-1, :].any(axis=2).all(axis=1)
    ok &= matrices[:, :, 1:].any(axis=1).all(axis=1)
    return ok


def _check_matrix(matrix):
    try:
        array = np.asarray(matrix)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the adjacency matrix is not a rectangular array: {exc}") from None
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"the adjacency matrix must be square, got shape {array.shape}")
    if array.shape[0] < 2:
        raise ValueError(
            f"a cell needs at least an input and an output vertex, got {array.shape[0]}"
        )
    if array.dtype.kind not in "biuf":
        raise ValueError(f"the adjacency matrix must be numeric, got dtype {array.dtype}")
    bad = (array != 0) & (array != 1)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"adjacency matrix entries must be 0 or 1, got {array[where].item()!r} at {where}"
        )
    return array.astype(np.int64)


def _check_ops(ops, n_vertices):
    if isinstance(ops, str) or not hasattr(ops, "__len__"):
        raise ValueError(f"ops must be a sequence of op names, got {ops!r}")
    ops = tuple(ops)
    if len(ops) != n_vertices:
        raise ValueError(f"ops has {len(ops)} entries but the matrix has {n_vertices} vertices")
    if ops[0] != INPUT:
        raise ValueError(f"the first op must be 'input', got {ops[0]!r}")
    if ops[-1] != OUTPUT:
        raise ValueError(f"the last op must be 'output', got {ops[-1]!r}")
    for vertex, op in enumerate(ops[1:-1], start=1):
        if op not in INTERIOR_OPS:
            raise ValueError(
                f"unknown op {op!r} at vertex {vertex}; allowed interior ops are "
                f"{list(INTERIOR_OPS)}"
            )
    return tuple(map(str, ops))


def _check_dag(rows):
    lower = [(i, j) for i, row in enumerate(rows) for j in range(i + 1) if row[j]]
    if not lower:
        return
    try:
        cycle = nx.find_cycle(nx.DiGraph(np.array(rows)))
    except nx.NetworkXNoCycle:
        source, target = lower[0]
        raise ValueError(
            "the adjacency matrix must be upper-triangular (vertices in topological order), "
            f"but it has an edge {source} -> {target}"
        ) from None
    path = " -> ".join(str(edge[0]) for edge in cycle) + f" -> {cycle[0][0]}"
    raise ValueError(f"the cell has a cycle: {path}")


def _on_input_output_path(rows):
    """Which vertices lie on a path from the input to the output (all False if none)."""
    n = len(rows)
    vertices = range(n)
    from_input = [True] + [False] * (n - 1)
    to_output = [False] * (n - 1) + [True]
    # Vertices are in topological order, so one sweep each way suffices.
    for v in vertices[1:]:
        from_input[v] = any(from_input[u] and rows[u][v] for u in range(v))
    for v in reversed(vertices[:-1]):
        to_output[v] = any(rows[v][w] and to_output[w] for w in range(v + 1, n))
    if not (from_input[-1] and to_output[0]):
        return [False] * n
    return [a and b for a, b in zip(from_input, to_output)]
