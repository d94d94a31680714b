"""The NAS-Bench-101 search space."""

import networkx as nx
import numpy as np
from sklearn.utils import check_random_state

from ...utils._docstrings import Substitution, _random_state_docstring, _verbose_docstring
from .._base import PatchFeatures, SearchSpace
from ._cell import _OP_CODES, INTERIOR_OPS, MAX_VERTICES, _group_by_size
from ._costs import (
    _CELL_NAMES,
    _FIXED_FLOPS,
    _FIXED_PARAMS,
    _cell_costs,
    _check_dataset,
    _cost_arrays,
)
from ._enumeration import _draw_random_spec, _draw_uniform_cell, _enumerate_cells
from ._hashing import _benchmark_permutation, _official_hash, _permute_cell
from ._validation import _graph_to_matrix, _known_canonical, _split_arch, _validate_cell

__all__ = ["NASBench101Space"]

_docs = Substitution(
    arch="""arch : NASBench101Cell, tuple, dict or networkx.DiGraph
            A cell in any of the forms listed in the class docstring.""",
    archs="""archs : sequence
            Cells in any form :meth:`validate` accepts.""",
    dataset="""dataset : None or "cifar10", default=None
            The benchmark has only the CIFAR-10 network.""",
    random_state=_random_state_docstring,
    verbose=_verbose_docstring,
)


class NASBench101Space(SearchSpace):
    """The NAS-Bench-101 search space of CIFAR-10 cells.

    An architecture may be given as

    - a :class:`NASBench101Cell` (the canonical form) or any pair ``(matrix, ops)``;
    - a dict with ``matrix`` and ``ops`` keys (the official ``ModelSpec`` arguments) or with
      ``module_adjacency`` and ``module_operations`` keys (official and NAR records);
    - a :class:`networkx.DiGraph` as returned by :meth:`to_networkx`.

    ``matrix`` is a square 0/1 upper-triangular adjacency matrix (vertex ``i`` may feed vertex
    ``j`` only if ``i < j``) and ``ops`` lists one op per vertex, ``"input"`` first and
    ``"output"`` last. As in the official ``ModelSpec``, the vertices that lie on no path from
    the input to the output are pruned first; the limits of at most 7 vertices and 9 edges
    apply to the pruned cell, whose remaining vertices keep their given order. Unknown op
    names are rejected on every vertex, pruned or not.

    Op codes (the op-code patch of :meth:`patch_features` and :meth:`op_code`) follow the NAR
    reference: input 1, conv1x1-bn-relu 2, conv3x3-bn-relu 3, maxpool3x3 4, output 5.

    Attributes
    ----------
    name : str
        ``"nasbench101"``.
    op_names : tuple of str
        ``("conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3")``.
    max_nodes : int
        7, the largest number of vertices of a cell.
    n_cells : int
        9, the cells of the macro network (``stack0/module0`` ... ``stack2/module2``).
    cost_datasets : None
        The benchmark only has a CIFAR-10 network.
    cell_names : tuple of str
        Names of the 9 cells, ``"stack0/module0"`` ... ``"stack2/module2"``, the row order
        of :meth:`cost_features`.
    hash_memo_size : int
        How many hashes the space remembers: 65,536. The official hash costs about 0.2 ms
        per cell, and searches and samplers hash the same cells again and again, so each
        space object keeps the hashes of the last 65,536 cells it hashed (about 15 MB at
        most). The memo lives and dies with the object; copies and pickles of the space
        start without it. Set it on the class or an instance before the first hash (0
        remembers nothing).

    Notes
    -----
    The parameter count and the FLOPs of a cell depend on its vertex order: when the
    output's channels do not split evenly among the vertices feeding it, the first of them
    get one channel more. Costs are always those of the network the benchmark trained
    (the vertex order of :meth:`benchmark_order`), reported per vertex of the order given.

    Apart from its hash memo (:attr:`hash_memo_size`), a space keeps nothing between calls.
    Constant tables (the canonical matrices and op tuples of each cell size, the official
    generator's bit masks and op labellings, the interior vertex permutations: under 1 MB
    together) are built once per process, when first needed.

    Examples
    --------
    >>> from sknar.spaces.nasbench101 import NASBench101Space
    >>> space = NASBench101Space()
    >>> cell = space.validate(([[0, 1, 1], [0, 0, 1], [0, 0, 0]],
    ...                        ["input", "conv3x3-bn-relu", "output"]))
    >>> cell.ops
    ('input', 'conv3x3-bn-relu', 'output')
    >>> space.hash(cell) == space.hash(cell._replace(ops=cell.ops))
    True
    >>> int(space.trainable_parameters(cell)) > 0
    True
    """

    name = "nasbench101"
    op_names = INTERIOR_OPS
    max_nodes = MAX_VERTICES
    n_cells = len(_CELL_NAMES)
    cost_datasets = None
    cell_names = _CELL_NAMES
    size = 423_624
    hash_memo_size = 1 << 16

    # --- what an architecture is -------------------------------------------------------

    @_docs
    def validate(self, arch):
        """Return the canonical (pruned) cell of ``arch``.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        cell : NASBench101Cell

        Raises
        ------
        ValueError
            Naming the rule broken: wrong shape, entries other than 0/1, a cycle, a matrix that
            is not upper-triangular, unknown ops, no path from input to output, too many
            vertices or edges.

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> matrix = [[0, 1, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]
        >>> ops = ["input", "conv1x1-bn-relu", "maxpool3x3", "output"]
        >>> NASBench101Space().validate((matrix, ops)).ops  # vertex 2 is pruned
        ('input', 'conv1x1-bn-relu', 'output')
        """
        if isinstance(arch, tuple):
            known = _known_canonical(arch)
            if known is not None:
                return known
        matrix, ops = _split_arch(arch, self)
        return _validate_cell(matrix, ops)

    @_docs
    def hash(self, arch):
        """Official NAS-Bench-101 module hash of ``arch`` (``graph_util.hash_module``).

        Two cells have the same hash iff they are the same network up to the order of their
        vertices; the hash is the key of the benchmark's records.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        hash : str
            32 hexadecimal digits.

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> space = NASBench101Space()
        >>> a = ([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
        ...      ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
        >>> b = ([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
        ...      ["input", "maxpool3x3", "conv3x3-bn-relu", "output"])
        >>> space.hash(a) == space.hash(b)
        True
        """
        return self._memoized(_official_hash, self.hash_memo_size)(self.validate(arch))

    @_docs
    def benchmark_order(self, arch):
        """The cell with its vertices in the order of the network the benchmark trained.

        A cell may be listed in several vertex orders (all with the same hash). The
        benchmark built and trained one of them, the first that the official generator
        meets, and the order matters for the network: when the output's channels do not
        split evenly, the first vertices feeding the output get one channel more. The
        official records, the NAR data, :meth:`enumerate` and :meth:`sample` use this
        order; other exports of the benchmark may not.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        cell : NASBench101Cell
            The same cell (same hash) in the benchmark's vertex order.

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> space = NASBench101Space()
        >>> cell = space.benchmark_order(
        ...     ([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
        ...      ["input", "maxpool3x3", "conv3x3-bn-relu", "output"]))
        >>> cell.ops
        ('input', 'conv3x3-bn-relu', 'maxpool3x3', 'output')
        """
        cell = self.validate(arch)
        return _permute_cell(cell, list(_benchmark_permutation(cell)))

    # --- drawing and listing -----------------------------------------------------------

    @_docs
    def sample(self, n, random_state=None, *, distribution="cells"):
        """Draw ``n`` distinct valid cells.

        Parameters
        ----------
        n : int
            Number of cells to draw.
        %(random_state)s
        distribution : {"cells", "specs"}, default="cells"
            ``"cells"`` draws uniformly over the 423,624 distinct cells of the space (each
            hash class equally likely), without enumerating it: a labelled full DAG is drawn
            uniformly from the 1,293,208 that the official generator lists (vertices 2 to 7,
            every vertex on an input-output path, at most 9 edges, any ops) and accepted with
            probability one over the number of those labelled DAGs that are the same cell.
            The cell is returned in the vertex order the official generator meets first
            (the order of :meth:`enumerate` and of the benchmark's records).
            ``"specs"`` follows the random-search baseline of the benchmark's own examples
            instead: each of the 21 upper-triangular entries of a 7x7 matrix is 1 with
            probability 1/2 and each interior op is uniform; specs that are invalid after
            pruning (no input-output path, more than 9 edges) are redrawn, and the pruned
            spec is returned in its drawn vertex order. As about 10 edges are drawn on
            average, mostly pruned cells survive: this favours cells of 5 and 6 vertices,
            while most cells of the space have 7.

        Returns
        -------
        cells : list of NASBench101Cell
            ``n`` cells with pairwise distinct hashes.

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> cells = NASBench101Space().sample(3, random_state=0)
        >>> len({NASBench101Space().hash(c) for c in cells})
        3
        """
        if distribution == "cells":
            draw_one = _draw_uniform_cell
        elif distribution == "specs":
            draw_one = _draw_random_spec
        else:
            raise ValueError(f"distribution must be 'cells' or 'specs', got {distribution!r}")
        return self._sample_by_rejection(n, draw_one, check_random_state(random_state))

    @_docs
    def enumerate(self, verbose=False):
        """Iterate over the 423,624 distinct cells of the space.

        The official generator's order is kept: cells by number of vertices, then by the
        generator's bit mask of the matrix, then by ops. Each cell is yielded once, in the
        vertex order in which the generator first meets it, which is the order of the
        network the benchmark trained (see :meth:`benchmark_order`). Each cell size is
        built at once with vectorised fingerprints (a few seconds for the whole space).

        Parameters
        ----------
        %(verbose)s

        Yields
        ------
        cell : NASBench101Cell

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> first = next(NASBench101Space().enumerate())
        >>> first.ops
        ('input', 'output')
        """
        yield from self._listed(_enumerate_cells(), verbose, total=self.size)

    @_docs
    def mutate(self, arch, random_state=None):
        """The cell with one edge flipped or one interior op changed.

        The pruned cell is first padded to 7 vertices with unconnected vertices before the
        output, so that an edge flip can also grow the cell; vertices left unconnected are
        pruned again.

        Parameters
        ----------
        %(arch)s
        %(random_state)s

        Returns
        -------
        child : NASBench101Cell
            A valid cell with another hash.

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> space = NASBench101Space()
        >>> parent = ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
        >>> space.hash(space.mutate(parent, random_state=0)) != space.hash(parent)
        True
        """
        return self._first_valid_mutant(arch, _flip_edge_or_change_op, random_state)

    # --- costs -------------------------------------------------------------------------

    @_docs
    def cost_features(self, arch, dataset=None):
        """Per-vertex FLOPs and trainable parameters of each of the 9 cells.

        The counting follows the NAR cell-information data: a vertex owns the 1x1 projections
        (convolution and batch norm) of its edge from the input, the sum of its inputs, and
        its op (convolution + batch norm + ReLU, or 3x3 max-pool); the output vertex owns the
        projection of an input-output edge and its sum with the concatenation. A convolution
        counts 2 FLOPs per multiply-add, a sum of ``k`` tensors ``k - 1`` per element, a
        max-pool 9 per output element; batch norm and ReLU count parameters (gamma and beta)
        but no FLOPs. The network is the one the benchmark trained for this cell (see
        :meth:`benchmark_order`); column ``j`` is the cost of vertex ``j`` of the cell as
        given.

        Parameters
        ----------
        %(arch)s
        %(dataset)s

        Returns
        -------
        costs : dict
            ``{"flops": ndarray of shape (9, n_vertices), "params": ndarray of shape
            (9, n_vertices)}``, int64, rows in the order of :attr:`cell_names`, columns in
            the vertex order of the canonical cell.

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> costs = NASBench101Space().cost_features(
        ...     ([[0, 1], [0, 0]], ["input", "output"]))
        >>> costs["params"].shape
        (9, 2)
        """
        _check_dataset(dataset)
        costs = _cell_costs(self.validate(arch))
        return {"flops": costs.flops, "params": costs.params}

    @_docs
    def total_cost(self, arch, dataset=None):
        """FLOPs and trainable parameters of the whole CIFAR-10 network.

        Parameters
        ----------
        %(arch)s
        %(dataset)s

        Returns
        -------
        cost : dict
            ``{"flops": int, "params": int}``; ``params`` equals the benchmark's
            ``trainable_parameters``.

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> sorted(NASBench101Space().total_cost(([[0, 1], [0, 0]], ["input", "output"])))
        ['flops', 'params']
        """
        _check_dataset(dataset)
        costs = _cell_costs(self.validate(arch))
        return {"flops": costs.total_flops, "params": costs.total_params}

    def total_costs(self, archs, dataset=None):
        _check_dataset(dataset)
        cells = self.validate_all(archs)
        flops = np.full(len(cells), _FIXED_FLOPS, dtype=np.int64)
        params = np.full(len(cells), _FIXED_PARAMS, dtype=np.int64)
        for rows, group in _group_by_size(cells):
            matrices = np.array([cell.matrix for cell in group], dtype=np.int64)
            group_flops, group_params = _cost_arrays(matrices, [cell.ops for cell in group])
            flops[rows] += group_flops.sum(axis=(1, 2))
            params[rows] += group_params.sum(axis=(1, 2))
        return flops, params

    @_docs
    def trainable_parameters(self, arch):
        """Number of trainable parameters of the network, as the official benchmark counts.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        n_params : int

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> NASBench101Space().trainable_parameters(([[0, 1], [0, 0]], ["input", "output"]))
        882570
        """
        return _cell_costs(self.validate(arch)).total_params

    @_docs
    def structure_features(self, arch):
        """Counts of vertices, edges and of each op.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        features : dict
            ``n_nodes`` (vertices of the pruned cell, input and output included), ``n_edges``
            and ``n_<op>`` for each op of :attr:`op_names`.

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> NASBench101Space().structure_features(([[0, 1], [0, 0]], ["input", "output"]))
        {'n_nodes': 2, 'n_edges': 1, 'n_conv1x1-bn-relu': 0, 'n_conv3x3-bn-relu': 0, \
'n_maxpool3x3': 0}
        """
        cell = self.validate(arch)
        features = {"n_nodes": cell.n_vertices, "n_edges": cell.n_edges}
        for op in self.op_names:
            features[f"n_{op}"] = cell.ops.count(op)
        return features

    def op_code(self, op_name):
        """Integer code of an op in the op-code patch (input 1 ... output 5).

        Parameters
        ----------
        op_name : str
            ``"input"``, ``"output"`` or one of ``op_names``.

        Returns
        -------
        code : int

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> NASBench101Space().op_code("maxpool3x3")
        4
        """
        try:
            return _OP_CODES[op_name]
        except (KeyError, TypeError):
            raise ValueError(
                f"unknown op {op_name!r}; expected one of {sorted(_OP_CODES)}"
            ) from None

    @_docs
    def patch_features(self, archs, dataset=None):
        """Raw NAR patches of a batch of cells.

        Entry ``[i, j]`` of the op-code patch is ``matrix[i][j] * code(ops[j])``; entry
        ``[c, i, j]`` of the FLOPs (params) patches is ``matrix[i][j]`` times the FLOPs
        (params) of vertex ``j`` in cell ``c``. A cell with ``n < 7`` vertices is padded as
        in the NAR reference: zero rows and columns are inserted before the output vertex, so
        the output stays last.

        Parameters
        ----------
        %(archs)s
        %(dataset)s

        Returns
        -------
        patches : PatchFeatures
            ``ops`` of shape (n, 7, 7), ``flops`` and ``params`` of shape (n, 9, 7, 7),
            float64, raw units.

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> patches = NASBench101Space().patch_features(
        ...     [([[0, 1], [0, 0]], ["input", "output"])])
        >>> float(patches.ops[0, 0, 6]), patches.flops.shape
        (5.0, (1, 9, 7, 7))
        """
        _check_dataset(dataset)
        cells = self.validate_all(archs)
        index_of, unique = {}, []
        inverse = np.empty(len(cells), dtype=np.intp)
        for position, cell in enumerate(cells):
            index = index_of.get(cell)
            if index is None:
                index = index_of[cell] = len(unique)
                unique.append(cell)
            inverse[position] = index
        size = self.max_nodes
        adjacency = np.zeros((len(unique), size, size))
        codes = np.zeros((len(unique), size))
        flops = np.zeros((len(unique), self.n_cells, size))
        params = np.zeros((len(unique), self.n_cells, size))
        for rows, group in _group_by_size(unique):
            slots = np.array(_padded_slots(group[0].n_vertices))
            matrices = np.array([cell.matrix for cell in group], dtype=np.int64)
            group_flops, group_params = _cost_arrays(matrices, [cell.ops for cell in group])
            adjacency[rows[:, None, None], slots[:, None], slots] = matrices
            codes[rows[:, None], slots] = [[_OP_CODES[op] for op in cell.ops] for cell in group]
            flops[rows[:, None, None], np.arange(self.n_cells)[:, None], slots] = group_flops
            params[rows[:, None, None], np.arange(self.n_cells)[:, None], slots] = group_params
        adjacency = adjacency[inverse]
        return PatchFeatures(
            ops=adjacency * codes[inverse][:, None, :],
            flops=adjacency[:, None] * flops[inverse][:, :, None, :],
            params=adjacency[:, None] * params[inverse][:, :, None, :],
        )

    # --- the architecture as named parameters -------------------------------------------

    def parameter_choices(self):
        """The 21 bits of a 7-vertex upper-triangular matrix, then the 5 interior ops.

        ``edge_<i>_<j>`` (0 or 1, ``i < j``) is the edge from vertex ``i`` to vertex ``j``
        (0 is the input, 6 the output) and ``op_<k>`` the op of interior vertex ``k``
        (1 to 5). The cell they make is pruned as :meth:`validate` prunes (vertices on no
        input-output path go, with their ops); many choices make no valid cell (no path to
        the output, more than 9 edges after pruning): :meth:`from_parameters` raises a
        ValueError saying why.

        Returns
        -------
        choices : dict
            ``{"edge_0_1": (0, 1), ..., "edge_5_6": (0, 1), "op_1": op_names, ...,
            "op_5": op_names}``.

        Examples
        --------
        >>> from sknar.spaces import NASBench101Space
        >>> choices = NASBench101Space().parameter_choices()
        >>> len(choices), choices["edge_0_6"], choices["op_1"]
        (26, (0, 1), ('conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3'))
        """
        n = MAX_VERTICES
        bits = {_bit_parameter(i, j): (0, 1) for i in range(n) for j in range(i + 1, n)}
        ops = {_op_parameter(vertex): tuple(self.op_names) for vertex in range(1, n - 1)}
        return {**bits, **ops}

    def from_parameters(self, values):
        """The canonical (pruned) cell of the bits and ops, or a ValueError.

        Parameters
        ----------
        values : mapping
            ``{name: value}`` for every name of :meth:`parameter_choices`.

        Returns
        -------
        cell : NASBench101Cell

        Raises
        ------
        ValueError
            A missing name, a value outside its choices, or choices that make no valid cell
            (the reason of :meth:`validate`: no path from input to output, too many edges).

        Examples
        --------
        >>> from sknar.spaces import NASBench101Space
        >>> space = NASBench101Space()
        >>> values = dict.fromkeys(space.parameter_choices(), 0)
        >>> values.update({"edge_0_1": 1, "edge_1_6": 1, "op_1": "maxpool3x3",
        ...                "op_2": "maxpool3x3", "op_3": "maxpool3x3", "op_4": "maxpool3x3",
        ...                "op_5": "maxpool3x3"})
        >>> space.from_parameters(values).ops
        ('input', 'maxpool3x3', 'output')
        """
        checked = dict(zip(self.parameter_choices(), self._checked_parameters(values)))
        n = MAX_VERTICES
        matrix = [[0] * n for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                matrix[i][j] = int(checked[_bit_parameter(i, j)])
        ops = ["input"] + [checked[_op_parameter(k)] for k in range(1, n - 1)] + ["output"]
        return _validate_cell(matrix, ops)

    def to_parameters(self, arch):
        """Bits and ops that make ``arch``: its vertices first, the output as vertex 6.

        The interior vertices a smaller cell lacks get no edge (pruned again by
        :meth:`from_parameters`) and the first op.

        Parameters
        ----------
        arch : NASBench101Cell, tuple, dict or networkx.DiGraph
            A cell in any form :meth:`validate` accepts.

        Returns
        -------
        values : dict
            ``{name: value}`` in the order of :meth:`parameter_choices`.

        Examples
        --------
        >>> from sknar.spaces import NASBench101Space
        >>> space = NASBench101Space()
        >>> cell = space.validate(([[0, 1], [0, 0]], ["input", "output"]))
        >>> values = space.to_parameters(cell)
        >>> values["edge_0_6"], sum(values[name] for name in values if name.startswith("edge"))
        (1, 1)
        >>> space.from_parameters(values) == cell
        True
        """
        cell = self.validate(arch)
        slots = _padded_slots(cell.n_vertices)
        n = MAX_VERTICES
        matrix = [[0] * n for _ in range(n)]
        ops = [self.op_names[0]] * n
        for vertex, slot in enumerate(slots):
            ops[slot] = cell.ops[vertex]
            for target, edge in enumerate(cell.matrix[vertex]):
                matrix[slot][slots[target]] = int(edge)
        bits = {_bit_parameter(i, j): matrix[i][j] for i in range(n) for j in range(i + 1, n)}
        return {**bits, **{_op_parameter(k): ops[k] for k in range(1, n - 1)}}

    # --- graphs ------------------------------------------------------------------------

    @_docs
    def to_networkx(self, arch):
        """The cell as a DiGraph with nodes ``0..n-1`` carrying an ``op`` attribute.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        graph : networkx.DiGraph

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> g = NASBench101Space().to_networkx(([[0, 1], [0, 0]], ["input", "output"]))
        >>> g.nodes[1]["op"], g.graph["space"]
        ('output', 'nasbench101')
        """
        cell = self.validate(arch)
        graph = nx.DiGraph(space=self.name)
        for vertex, op in enumerate(cell.ops):
            graph.add_node(vertex, op=op)
        for source, row in enumerate(cell.matrix):
            for target, edge in enumerate(row):
                if edge:
                    graph.add_edge(source, target)
        return graph

    def from_networkx(self, graph):
        """Inverse of :meth:`to_networkx`: the canonical cell of a DiGraph.

        The nodes must be the integers ``0..n-1`` (their order is the vertex order) and
        carry an ``op`` attribute.

        Parameters
        ----------
        graph : networkx.DiGraph
            A cell graph with an ``op`` attribute on every node.

        Returns
        -------
        cell : NASBench101Cell

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> space = NASBench101Space()
        >>> cell = space.validate(([[0, 1], [0, 0]], ["input", "output"]))
        >>> space.from_networkx(space.to_networkx(cell)) == cell
        True
        """
        if not isinstance(graph, nx.DiGraph):
            raise ValueError(f"expected a networkx.DiGraph, got {type(graph).__name__}")
        matrix, ops = _graph_to_matrix(graph, self)
        return _validate_cell(matrix, ops)


def _bit_parameter(source, target):
    return f"edge_{source}_{target}"


def _op_parameter(vertex):
    return f"op_{vertex}"


def _padded_slots(n_vertices):
    """Patch rows of the vertices of an ``n``-vertex cell: the output is always last."""
    return list(range(n_vertices - 1)) + [MAX_VERTICES - 1]


def _flip_edge_or_change_op(space, arch, rng):
    matrix = np.array(arch.matrix, dtype=np.int64)
    ops = list(arch.ops)
    n_pad = space.max_nodes - len(ops)
    if n_pad > 0:
        size = space.max_nodes
        padded = np.zeros((size, size), dtype=np.int64)
        inner = len(ops) - 1
        padded[:inner, :inner] = matrix[:inner, :inner]
        padded[:inner, size - 1] = matrix[:inner, inner]
        matrix = padded
        ops = ops[:-1] + [rng.choice(space.op_names) for _ in range(n_pad)] + ["output"]
    if rng.rand() < 0.5:
        source, target = sorted(rng.choice(len(ops), size=2, replace=False))
        matrix[source, target] = 1 - matrix[source, target]
    else:
        vertex = 1 + rng.randint(len(ops) - 2)
        ops[vertex] = rng.choice([op for op in space.op_names if op != ops[vertex]])
    return matrix.tolist(), ops
