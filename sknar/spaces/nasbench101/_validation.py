"""Validation and pruning of NAS-Bench-101 cells, as the official ``ModelSpec`` does it."""

import networkx as nx
import numpy as np

from ._cell import (
    INPUT,
    INTERIOR_OPS,
    MAX_EDGES,
    MAX_VERTICES,
    OUTPUT,
    NASBench101Cell,
    _canonical_matrices,
    _canonical_op_tuples,
)


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


def _known_canonical(arch):
    """The canonical cell of a ``(matrix, ops)`` pair that is canonical already, else None.

    Two look-ups in the tables of canonical matrices and op tuples, so that a canonical cell
    passed around (the common case) is not validated again; the cell returned holds the
    tables' Python ints and strings even when ``arch`` holds equal bools or numpy scalars.
    """
    try:
        matrix, ops = arch
        canonical_ops = _canonical_op_tuples(len(ops)).get(ops)
        canonical_matrix = _canonical_matrices(len(ops)).get(matrix)
    except (TypeError, ValueError):  # not a pair, or unhashable parts (lists, arrays)
        return None
    if canonical_ops is None or canonical_matrix is None:
        return None
    return NASBench101Cell(canonical_matrix, canonical_ops)


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
    return NASBench101Cell(tuple(map(tuple, rows)), ops)


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
