"""Graph-based encodings for baseline models: adjacency + one-hot ops, and paths.

Both work on the cells as ``space.to_networkx`` returns them, so every space following the
protocol works: node-op spaces (each node has an ``op``, ``"input"`` and ``"output"`` marking
the ends) and edge-op spaces (each edge has an ``op``; ``"none"`` is no edge).
"""

import numbers

import networkx as nx
import numpy as np
from sklearn.utils._param_validation import Interval

from ..utils import Substitution
from ._base import _ArchitectureEncoder, _fill_encoder_docstring

INPUT_OP, OUTPUT_OP, NONE_OP = "input", "output", "none"
_MAX_PATH_FEATURES = 1_000_000

# The shared encoder pieces plus the attributes every graph encoder learns.
_fill_graph_encoder_docstring = Substitution(
    **_fill_encoder_docstring.pieces,
    graph_attributes="""op_location_ : {"node", "edge"}
        Where the space's graphs carry their ops.
    max_nodes_ : int
        ``P``, the number of node slots."""
)


class _CellGraph:
    """One cell graph read into slots: ``slot[node]`` in ``[0, max_nodes)``, ends fixed.

    Nodes are taken in topological order; the last one (the output) goes to the last slot, so
    cells with fewer nodes are padded before their output, as in the NAR feature tensor.
    """

    def __init__(self, graph, max_nodes, index):
        self.graph = graph
        self.index = index
        self.op_location = _op_location(graph)
        if self.op_location is None:
            raise self.error(
                "its graph has neither an 'op' on every node nor an 'op' on every edge"
            )
        self.order = _topological_order(graph, index)
        if len(self.order) > max_nodes:
            raise self.error(f"its graph has {len(self.order)} nodes, more than {max_nodes}")
        if self.op_location == "edge":
            # Edge-op cells have a fixed node set 0..P-1: the label is the slot.
            if not all(
                isinstance(node, numbers.Integral) and 0 <= node < max_nodes for node in self.order
            ):
                raise self.error(f"edge-op graphs must number their nodes 0..{max_nodes - 1}")
            self.slot = {node: int(node) for node in self.order}
            return
        self.slot = {node: position for position, node in enumerate(self.order)}
        self.slot[self.order[-1]] = max_nodes - 1

    def error(self, message):
        return ValueError(f"architecture at index {self.index}: {message}.")

    def node_op(self, node, vocabulary_index):
        """Index of the node's op in the vocabulary, or None for an input/output end."""
        op = self.graph.nodes[node]["op"]
        if op in (INPUT_OP, OUTPUT_OP):
            return None
        if op not in vocabulary_index:
            raise self.error(f"node {node!r} has op {op!r}, not one of {tuple(vocabulary_index)}")
        return vocabulary_index[op]


def _topological_order(graph, index):
    nodes = list(graph.nodes)
    try:
        # Canonical cells number their nodes in topological order: skip the generic sort.
        if all(source < target for source, target in graph.edges):
            return sorted(nodes)
    except TypeError:
        pass
    try:
        return list(nx.lexicographical_topological_sort(graph, key=str))
    except nx.NetworkXUnfeasible as exc:
        raise ValueError(f"architecture at index {index}: its graph has a cycle.") from exc


def _op_location(graph):
    if graph.number_of_nodes() and all("op" in data for _, data in graph.nodes(data=True)):
        return "node"
    # An edge-op cell of "none" edges only has no edge at all: that is still an edge-op cell.
    if all("op" in data for _, _, data in graph.edges(data=True)):
        return "edge"
    return None


def _upper_triangle_index(size):
    """``table[i, j]`` = position of entry (i, j), i < j, in the row-major upper triangle."""
    table = np.full((size, size), -1, dtype=np.intp)
    rows, cols = np.triu_indices(size, k=1)
    table[rows, cols] = np.arange(rows.size)
    return table


class _CellGraphEncoder(_ArchitectureEncoder):
    """Shared machinery: read graphs, learn the layout, fill an indicator matrix."""

    def _fit(self, archs):
        self._fit_graphs(self._read_graphs(archs, fitting=True))

    def _fit_transform(self, archs):
        cells = self._read_graphs(archs, fitting=True)
        self._fit_graphs(cells)
        return self._encode(cells)

    def _transform(self, archs):
        return self._encode(self._read_graphs(archs, fitting=False))

    def _read_graphs(self, archs, fitting):
        size = int(self.space.max_nodes)
        cells = [
            _CellGraph(self.space.to_networkx(arch), size, index)
            for index, arch in enumerate(self._network_forms(archs))
        ]
        location = cells[0].op_location if fitting else self.op_location_
        for cell in cells:
            if cell.op_location != location:
                raise cell.error(
                    f"its graph carries ops on {cell.op_location}s, the space's on {location}s"
                )
        return cells

    def _fit_graphs(self, cells):
        self.op_location_ = cells[0].op_location
        self.max_nodes_ = int(self.space.max_nodes)
        ops_seen = set()
        if self.op_location_ == "node":
            for cell in cells:
                ops_seen.update(op for _, op in cell.graph.nodes(data="op"))
        self.ends_ = tuple(op for op in (INPUT_OP, OUTPUT_OP) if op in ops_seen)
        self._fit_layout()

    def _encode(self, cells):
        columns = [self._active_columns(cell) for cell in cells]
        out = np.zeros((len(cells), len(self._feature_names())), dtype=np.float32)
        rows = np.repeat(np.arange(len(cells)), [len(active) for active in columns])
        if rows.size:
            out[rows, np.concatenate(columns)] = 1.0
        return out


@_fill_graph_encoder_docstring
class AdjacencyOneHotEncoder(_CellGraphEncoder):
    """Adjacency upper triangle plus one-hot ops: the standard baseline encoding.

    Node-op spaces (NAS-Bench-101, ...): the upper triangle of the ``P x P`` adjacency
    (``P = space.max_nodes``, cells with fewer nodes padded before the output node, nodes in
    topological order), then one-hot op columns for every node slot that is not a fixed
    ``input`` / ``output`` end. NAS-Bench-101: 21 + 5 x 3 = 36 columns.

    Edge-op spaces (NAS-Bench-201, ...): one-hot op columns for every possible edge ``i < j``;
    an absent edge counts as ``none`` when the space has that op (otherwise its columns are
    all zero). NAS-Bench-201: 6 x 5 = 30 columns.

    Read more in the :ref:`User Guide <encoding>`.

    Parameters
    ----------
    %(space)s
    %(merge_isomorphic)s

    Attributes
    ----------
    %(graph_attributes)s
    ends_ : tuple of str
        The fixed end markers (``"input"``, ``"output"``) found in the training graphs; their
        slots (first and last) get no one-hot columns.
    vocabulary_ : tuple of str
        The ops of the one-hot columns, in column order.
    op_slots_ : tuple of int
        Node slots with one-hot columns (node-op spaces).

    See Also
    --------
    PathEncoder : Path encoding.
    NARFeatureEncoder : The NAR feature tensor.

    %(architecture_input_notes)s

    Examples
    --------
    >>> from sknar.encoding import AdjacencyOneHotEncoder
    >>> from sknar.spaces import NASBench201Space
    >>> space = NASBench201Space()
    >>> arch = (
    ...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    ...     "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    ... )
    >>> encoder = AdjacencyOneHotEncoder(space).fit([arch])
    >>> X = encoder.transform([arch])
    >>> X.shape, int(X.sum())
    ((1, 30), 6)
    >>> encoder.get_feature_names_out()[:2].tolist()
    ['edge_0_1_none', 'edge_0_1_skip_connect']
    """

    def __init__(self, space, *, merge_isomorphic=True):
        self.space = space
        self.merge_isomorphic = merge_isomorphic

    def _fit_layout(self):
        size = self.max_nodes_
        self._pair_index = _upper_triangle_index(size)
        if self.op_location_ == "edge":
            self.vocabulary_ = tuple(self.space.op_names)
            self.op_slots_ = ()
            self._op_index = {op: i for i, op in enumerate(self.vocabulary_)}
            return
        self.vocabulary_ = tuple(op for op in self.space.op_names if op not in self.ends_)
        reserved = {0} if INPUT_OP in self.ends_ else set()
        reserved |= {size - 1} if OUTPUT_OP in self.ends_ else set()
        self.op_slots_ = tuple(slot for slot in range(size) if slot not in reserved)
        self._op_index = {op: i for i, op in enumerate(self.vocabulary_)}
        self._slot_offset = {
            slot: size * (size - 1) // 2 + position * len(self.vocabulary_)
            for position, slot in enumerate(self.op_slots_)
        }

    def _feature_names(self):
        size = self.max_nodes_
        pairs = [(i, j) for i in range(size) for j in range(i + 1, size)]
        if self.op_location_ == "edge":
            return [f"edge_{i}_{j}_{op}" for i, j in pairs for op in self.vocabulary_]
        return [f"adj_{i}_{j}" for i, j in pairs] + [
            f"op_n{slot}_{op}" for slot in self.op_slots_ for op in self.vocabulary_
        ]

    def _active_columns(self, cell):
        if self.op_location_ == "edge":
            return self._edge_columns(cell)
        return self._node_columns(cell)

    def _node_columns(self, cell):
        slot = cell.slot
        active = [
            self._pair_index[slot[source], slot[target]] for source, target in cell.graph.edges
        ]
        for node in cell.order:
            code = cell.node_op(node, self._op_index)
            expected_end = {0: INPUT_OP, self.max_nodes_ - 1: OUTPUT_OP}.get(slot[node])
            if code is None:
                if cell.graph.nodes[node]["op"] != expected_end:
                    raise cell.error(
                        f"node {node!r} ({cell.graph.nodes[node]['op']}) is not at its end "
                        "of the topological order"
                    )
                continue
            if slot[node] not in self._slot_offset:
                raise cell.error(f"node {node!r} takes the slot of the {expected_end} node")
            active.append(self._slot_offset[slot[node]] + code)
        return np.asarray(active, dtype=np.intp)

    def _edge_columns(self, cell):
        slot = cell.slot
        n_ops = len(self.vocabulary_)
        ops_at = {}
        for source, target, op in cell.graph.edges(data="op"):
            if op not in self._op_index:
                raise cell.error(
                    f"edge ({source!r}, {target!r}) has op {op!r}, not one of {self.vocabulary_}"
                )
            ops_at[self._pair_index[slot[source], slot[target]]] = self._op_index[op]
        none_code = self._op_index.get(NONE_OP)
        if none_code is not None:
            n_pairs = self.max_nodes_ * (self.max_nodes_ - 1) // 2
            for pair in range(n_pairs):
                ops_at.setdefault(pair, none_code)
        return np.asarray([pair * n_ops + code for pair, code in ops_at.items()], dtype=np.intp)


@_fill_graph_encoder_docstring
class PathEncoder(_CellGraphEncoder):
    """Path encoding (BANANAS): one indicator per possible input-to-output op sequence.

    A column is 1 when the cell has at least one path from its input to its output whose
    sequence of ops is that column's. Node-op spaces: the ops of the nodes on the path between
    the ``input`` and ``output`` ends (the direct input -> output edge is the empty sequence,
    column ``path_direct``); NAS-Bench-101 has ``1 + 3 + 3**2 + ... + 3**5 = 364`` columns.
    Edge-op spaces: the ops of the edges along the path from the first to the last node,
    ``none`` edges being absent; NAS-Bench-201 has ``4 + 4**2 + 4**3 = 84`` columns.
    Columns are ordered by path length, then lexicographically by op (in ``vocabulary_``
    order).

    Read more in the :ref:`User Guide <encoding>`.

    Parameters
    ----------
    %(space)s
    max_path_length : int, default=None
        Longest path (in ops) with columns; longer paths are ignored (the truncated encoding
        of BANANAS). None keeps every length the space allows.
    %(merge_isomorphic)s

    Attributes
    ----------
    %(graph_attributes)s
    ends_ : tuple of str
        The fixed end markers (``"input"``, ``"output"``) found in the training graphs.
    vocabulary_ : tuple of str
        The ops paths are made of.
    path_lengths_ : tuple of int
        ``(shortest, longest)`` path length with columns.

    See Also
    --------
    NARFeatureEncoder : The NAR feature tensor.
    AdjacencyOneHotEncoder : Adjacency plus one-hot ops.

    %(architecture_input_notes)s

    Examples
    --------
    >>> from sknar.encoding import PathEncoder
    >>> from sknar.spaces import NASBench101Space
    >>> cell = (
    ...     [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
    ...     ["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
    ... )
    >>> encoder = PathEncoder(NASBench101Space()).fit([cell])
    >>> X = encoder.transform([cell])
    >>> X.shape
    (1, 364)
    >>> encoder.get_feature_names_out()[X[0] == 1].tolist()
    ['path_conv3x3-bn-relu', 'path_maxpool3x3']
    """

    _parameter_constraints: dict = {
        **_ArchitectureEncoder._parameter_constraints,
        "max_path_length": [Interval(numbers.Integral, 0, None, closed="left"), None],
    }

    def __init__(self, space, *, max_path_length=None, merge_isomorphic=True):
        self.space = space
        self.max_path_length = max_path_length
        self.merge_isomorphic = merge_isomorphic

    def _fit_layout(self):
        size = self.max_nodes_
        if self.op_location_ == "edge":
            self.vocabulary_ = tuple(op for op in self.space.op_names if op != NONE_OP)
            shortest, longest = 1, size - 1
        else:
            self.vocabulary_ = tuple(op for op in self.space.op_names if op not in self.ends_)
            shortest = 0 if len(self.ends_) == 2 else 1
            longest = size - len(self.ends_)
        if self.max_path_length is not None:
            longest = min(longest, self.max_path_length)
        if longest < shortest:
            raise ValueError(
                f"max_path_length={self.max_path_length} leaves no path: the shortest path of "
                f"space {self.space.name!r} has {shortest} op(s)."
            )
        n_ops = len(self.vocabulary_)
        counts = [n_ops**length for length in range(shortest, longest + 1)]
        if sum(counts) > _MAX_PATH_FEATURES:
            raise ValueError(
                f"the path encoding of space {self.space.name!r} would have {sum(counts)} "
                f"columns; lower max_path_length (now {self.max_path_length})."
            )
        self.path_lengths_ = (shortest, longest)
        self._op_index = {op: i for i, op in enumerate(self.vocabulary_)}
        self._length_offset = dict(
            zip(range(shortest, longest + 1), np.cumsum([0] + counts[:-1]).tolist())
        )

    def _feature_names(self):
        names = []
        shortest, longest = self.path_lengths_
        for length in range(shortest, longest + 1):
            for sequence in np.ndindex(*([len(self.vocabulary_)] * length)):
                ops = [self.vocabulary_[code] for code in sequence]
                names.append("path_" + (">".join(ops) if ops else "direct"))
        return names

    def _active_columns(self, cell):
        if self.op_location_ == "edge":
            sequences = self._edge_paths(cell)
        else:
            sequences = self._node_paths(cell)
        longest = self.path_lengths_[1]
        n_ops = len(self.vocabulary_)
        active = set()
        for sequence in sequences:
            if len(sequence) > longest:
                continue
            position = 0
            for code in sequence:
                position = position * n_ops + code
            active.add(self._length_offset[len(sequence)] + position)
        return np.fromiter(active, dtype=np.intp, count=len(active))

    def _node_paths(self, cell):
        graph = cell.graph
        ops = {node: cell.node_op(node, self._op_index) for node in cell.order}
        by_op = {}
        for node, op in graph.nodes(data="op"):
            by_op.setdefault(op, []).append(node)
        sources = by_op.get(INPUT_OP) or [n for n in cell.order if graph.in_degree(n) == 0]
        sinks = set(by_op.get(OUTPUT_OP) or [n for n in cell.order if graph.out_degree(n) == 0])

        def walk(node, prefix):
            sequence = prefix if ops[node] is None else prefix + (ops[node],)
            if node in sinks:
                yield sequence
            for successor in graph.successors(node):
                yield from walk(successor, sequence)

        for source in sources:
            yield from walk(source, ())

    def _edge_paths(self, cell):
        graph = cell.graph
        source, sink = 0, self.max_nodes_ - 1
        for tail, head, op in graph.edges(data="op"):
            if op != NONE_OP and op not in self._op_index:
                raise cell.error(
                    f"edge ({tail!r}, {head!r}) has op {op!r}, not one of "
                    f"{self.vocabulary_ + (NONE_OP,)}"
                )

        def walk(node, prefix):
            if node == sink:
                yield prefix
                return
            for successor, data in graph[node].items():
                if data["op"] != NONE_OP:
                    yield from walk(successor, prefix + (self._op_index[data["op"]],))

        if source in graph:
            yield from walk(source, ())
