"""The NAS-Bench-101 cell search space (Ying et al., ICML 2019).

A NAS-Bench-101 architecture is one cell (a "module" in the benchmark's words): a DAG of at
most 7 vertices and 9 edges whose first vertex is the input, whose last vertex is the output
and whose interior vertices each run one of three ops. The cell is stacked 9 times in a fixed
CIFAR-10 macro network (a 3x3 stem convolution with 128 channels, then 3 stacks of 3 cells
separated by a 2x2 max-pool that halves the resolution while the channels double, then global
average pooling and a 10-way dense layer).

Everything here reproduces the official ``nasbench`` code exactly: pruning of the vertices
that lie on no input-to-output path, the module hash used as the benchmark's key, the
exhaustive enumeration (423,624 distinct cells) and the number of trainable parameters. The
per-vertex FLOPs follow the counting of the NAR cell-information data set.
"""

import hashlib
import itertools
from functools import cache, lru_cache
from typing import NamedTuple

import networkx as nx
import numpy as np
from sklearn.utils import check_random_state

from ._base import PatchFeatures, SearchSpace

__all__ = ["NASBench101Cell", "NASBench101Space"]

INPUT = "input"
OUTPUT = "output"
CONV1X1 = "conv1x1-bn-relu"
CONV3X3 = "conv3x3-bn-relu"
MAXPOOL3X3 = "maxpool3x3"

MAX_VERTICES = 7
MAX_EDGES = 9

# The official generator and hash number the ops in this order (``available_ops`` of the
# benchmark's config); input and output are labelled -1 and -2.
_OFFICIAL_OPS = (CONV3X3, CONV1X1, MAXPOOL3X3)
_OFFICIAL_LABEL = {INPUT: -1, OUTPUT: -2, **{op: i for i, op in enumerate(_OFFICIAL_OPS)}}

# Op codes of the NAR op-code patch (0 is left for "no edge" and for padding).
_OP_CODES = {INPUT: 1, CONV1X1: 2, CONV3X3: 3, MAXPOOL3X3: 4, OUTPUT: 5}

# The CIFAR-10 macro network of the benchmark.
_STEM_CHANNELS = 128
_N_STACKS = 3
_CELLS_PER_STACK = 3
_IMAGE_SIZE = 32
_N_CLASSES = 10
_CELL_NAMES = tuple(
    f"stack{stack}/module{module}"
    for stack in range(_N_STACKS)
    for module in range(_CELLS_PER_STACK)
)
_KERNEL_SIZE = {CONV1X1: 1, CONV3X3: 3}


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

    Notes
    -----
    The parameter count and the FLOPs of a cell depend on its vertex order: when the
    output's channels do not split evenly among the vertices feeding it, the first of them
    get one channel more. Costs are always those of the network the benchmark trained
    (the vertex order of :meth:`benchmark_order`), reported per vertex of the order given.

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
    op_names = (CONV1X1, CONV3X3, MAXPOOL3X3)
    max_nodes = MAX_VERTICES
    n_cells = len(_CELL_NAMES)
    cost_datasets = None
    cell_names = _CELL_NAMES
    size = 423_624

    # --- what an architecture is -------------------------------------------------------

    def validate(self, arch):
        """Return the canonical (pruned) cell of ``arch``.

        Parameters
        ----------
        arch : NASBench101Cell, tuple, dict or networkx.DiGraph
            The cell in one of the forms listed in the class docstring.

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
            try:
                known = _VALIDATED.get(arch)
            except TypeError:  # a tuple holding lists or arrays
                known = None
            if known is not None:
                return known
        matrix, ops = _split_arch(arch, self)
        return _validate_cell(matrix, ops)

    def validate_all(self, archs):
        """Validate a sequence, naming the index of the first bad architecture in the error.

        Canonical cells are checked in one vectorised pass per cell size; anything else,
        and any cell that fails that pass, goes through :meth:`validate`.

        Parameters
        ----------
        archs : iterable
            Architectures in any form :meth:`validate` accepts.

        Returns
        -------
        canonical : list of NASBench101Cell

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> len(NASBench101Space().validate_all([([[0, 1], [0, 0]], ["input", "output"])]))
        1
        """
        archs = list(archs)
        canonical = [None] * len(archs)
        by_size = {}
        for index, arch in enumerate(archs):
            if type(arch) is NASBench101Cell and isinstance(arch.ops, tuple):
                by_size.setdefault(len(arch.ops), []).append(index)
        for n_vertices, indices in by_size.items():
            cells = [archs[i] for i in indices]
            for index, valid in zip(indices, _canonical_cells_are_valid(cells, n_vertices)):
                if valid:
                    canonical[index] = archs[index]
        for index, arch in enumerate(archs):
            if canonical[index] is None:
                try:
                    canonical[index] = self.validate(arch)
                except ValueError as exc:
                    raise ValueError(f"architecture at index {index} is invalid: {exc}") from exc
        return canonical

    def hash(self, arch):
        """Official NAS-Bench-101 module hash of ``arch`` (``graph_util.hash_module``).

        Two cells have the same hash iff they are the same network up to the order of their
        vertices; the hash is the key of the benchmark's records.

        Parameters
        ----------
        arch : NASBench101Cell, tuple, dict or networkx.DiGraph

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
        return _official_hash(self.validate(arch))

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
        arch : NASBench101Cell, tuple, dict or networkx.DiGraph

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
        return _remember(_permute_cell(cell, list(_benchmark_permutation(cell))))

    # --- drawing and listing -----------------------------------------------------------

    def sample(self, n, random_state=None, *, distribution="cells"):
        """Draw ``n`` distinct valid cells.

        Parameters
        ----------
        n : int
            Number of cells to draw.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw.
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
        n = _check_count(n)
        return self._sample_by_rejection(n, draw_one, check_random_state(random_state))

    def enumerate(self, verbose=False):
        """Iterate over the 423,624 distinct cells of the space.

        The official generator's order is kept: cells by number of vertices, then by the
        generator's bit mask of the matrix, then by ops. Each cell is yielded once, in the
        vertex order in which the generator first meets it, which is the order of the
        network the benchmark trained (see :meth:`benchmark_order`). Each cell size is
        built at once with vectorised fingerprints (a few seconds for the whole space).

        Parameters
        ----------
        verbose : bool, default=False
            Show a progress bar.

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
        cells = _enumerate_cells()
        if verbose:
            from tqdm.auto import tqdm

            cells = tqdm(cells, desc="NAS-Bench-101 cells", unit="cell")
        yield from cells

    def mutate(self, arch, random_state=None):
        """The cell with one edge flipped or one interior op changed.

        The pruned cell is first padded to 7 vertices with unconnected vertices before the
        output, so that an edge flip can also grow the cell; vertices left unconnected are
        pruned again.

        Parameters
        ----------
        arch : NASBench101Cell, (matrix, ops) pair, dict or networkx.DiGraph
            An architecture in any accepted form.
        random_state : int, RandomState instance or None, default=None
            Seed of the change.

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
        arch : NASBench101Cell, tuple, dict or networkx.DiGraph
        dataset : None or "cifar10", default=None
            The benchmark has only the CIFAR-10 network.

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
        return {"flops": costs.flops.copy(), "params": costs.params.copy()}

    def total_cost(self, arch, dataset=None):
        """FLOPs and trainable parameters of the whole CIFAR-10 network.

        Parameters
        ----------
        arch : NASBench101Cell, tuple, dict or networkx.DiGraph
        dataset : None or "cifar10", default=None

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
        """Whole-network FLOPs and parameters of a batch of cells (vectorised).

        Parameters
        ----------
        archs : sequence
            Cells in any form :meth:`validate` accepts.
        dataset : None or "cifar10", default=None

        Returns
        -------
        flops, params : ndarray of shape (n_archs,), int64
            As :meth:`total_cost` for each cell; ``params`` are the benchmark's
            ``trainable_parameters``.

        Examples
        --------
        >>> from sknar.spaces.nasbench101 import NASBench101Space
        >>> flops, params = NASBench101Space().total_costs(
        ...     [([[0, 1], [0, 0]], ["input", "output"])])
        >>> params.tolist()
        [882570]
        """
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

    def trainable_parameters(self, arch):
        """Number of trainable parameters of the network, as the official benchmark counts.

        Parameters
        ----------
        arch : NASBench101Cell, tuple, dict or networkx.DiGraph

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

    def structure_features(self, arch):
        """Counts of vertices, edges and of each op.

        Parameters
        ----------
        arch : NASBench101Cell, tuple, dict or networkx.DiGraph

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

    def patch_features(self, archs, dataset=None):
        """Raw NAR patches of a batch of cells.

        Entry ``[i, j]`` of the op-code patch is ``matrix[i][j] * code(ops[j])``; entry
        ``[c, i, j]`` of the FLOPs (params) patches is ``matrix[i][j]`` times the FLOPs
        (params) of vertex ``j`` in cell ``c``. A cell with ``n < 7`` vertices is padded as
        in the NAR reference: zero rows and columns are inserted before the output vertex, so
        the output stays last.

        Parameters
        ----------
        archs : sequence
            Cells in any form :meth:`validate` accepts.
        dataset : None or "cifar10", default=None

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

    # --- graphs ------------------------------------------------------------------------

    def to_networkx(self, arch):
        """The cell as a DiGraph with nodes ``0..n-1`` carrying an ``op`` attribute.

        Parameters
        ----------
        arch : architecture
            Any form :meth:`validate` accepts.

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


# --- validation ------------------------------------------------------------------------


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
        for interior in itertools.product(NASBench101Space.op_names, repeat=n_vertices - 2)
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
        if op not in NASBench101Space.op_names:
            raise ValueError(
                f"unknown op {op!r} at vertex {vertex}; allowed interior ops are "
                f"{list(NASBench101Space.op_names)}"
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


# --- the official hash -----------------------------------------------------------------


@lru_cache(maxsize=1 << 19)
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


# --- costs -----------------------------------------------------------------------------


class _CellCosts(NamedTuple):
    flops: np.ndarray
    params: np.ndarray
    total_flops: int
    total_params: int


def _check_dataset(dataset):
    if dataset not in (None, "cifar10"):
        raise ValueError(
            f"NAS-Bench-101 has only the CIFAR-10 network; dataset must be None or 'cifar10', "
            f"got {dataset!r}"
        )


def _macro_modules():
    """(input channels, output channels, pixels) of the 9 cells, and the fixed costs.

    The fixed costs are those of the stem (3x3 convolution + batch norm), of the 2x2
    max-pools between stacks (4 comparisons per output element), of the global average
    pooling (one addition per input element) and of the dense classifier.
    """
    size = _IMAGE_SIZE
    stem_flops, stem_params = _conv_bn(3, 3, _STEM_CHANNELS, size * size)
    fixed_flops, fixed_params = stem_flops, stem_params
    modules = []
    in_channels = out_channels = _STEM_CHANNELS
    for stack in range(_N_STACKS):
        if stack > 0:
            size //= 2
            fixed_flops += 4 * in_channels * size * size
            out_channels *= 2
        for _ in range(_CELLS_PER_STACK):
            modules.append((in_channels, out_channels, size * size))
            in_channels = out_channels
    fixed_flops += out_channels * size * size + 2 * out_channels * _N_CLASSES + _N_CLASSES
    fixed_params += out_channels * _N_CLASSES + _N_CLASSES
    return tuple(modules), fixed_flops, fixed_params


def _conv_bn(kernel, in_channels, out_channels, pixels):
    """(FLOPs, params) of a bias-free convolution followed by batch norm."""
    weights = kernel * kernel * in_channels * out_channels
    return 2 * weights * pixels, weights + 2 * out_channels


_MODULES, _FIXED_FLOPS, _FIXED_PARAMS = _macro_modules()


def _cost_arrays(matrices, ops):
    """Per-vertex FLOPs and params of cells of one size in the 9 cells of the network.

    ``matrices`` is an int64 array (B, n, n) of canonical cells and ``ops`` their op tuples.
    The costs are those of the network the benchmark trained, in each cell's own vertex
    order. Returns two int64 arrays of shape (B, 9, n).
    """
    n_cells, n_vertices = len(matrices), matrices.shape[1]
    output = n_vertices - 1
    kernel = np.array([[_KERNEL_SIZE.get(op, 0) for op in cell_ops] for cell_ops in ops])
    kernel = kernel.reshape(n_cells, 1, n_vertices)
    is_pool = np.array([[op == MAXPOOL3X3 for op in cell_ops] for cell_ops in ops])
    is_pool = is_pool.reshape(n_cells, 1, n_vertices)
    from_input = matrices[:, None, 0, :]
    n_inputs = matrices.sum(axis=1)[:, None, :]
    feeds_output = matrices[:, :, output].astype(bool)
    feeds_output[:, 0] = False
    feeder_rank = _feeder_ranks(matrices, ops, feeds_output)
    in_channels, out_channels, pixels = (
        np.array(column, dtype=np.int64)[None, :, None] for column in zip(*_MODULES)
    )
    widths = {
        channels: _vertex_channels(matrices, feeds_output, feeder_rank, channels)
        for channels in sorted({module[1] for module in _MODULES})
    }
    width = np.stack([widths[module[1]] for module in _MODULES], axis=1)  # (B, 9, n)
    flops = (n_inputs - 1) * width * pixels + from_input * 2 * in_channels * width * pixels
    flops += np.where(is_pool, 9 * width * pixels, 2 * kernel * kernel * width * width * pixels)
    params = from_input * (in_channels * width + 2 * width)
    params += np.where(is_pool, 0, kernel * kernel * width * width + 2 * width)
    flops[:, :, [0, output]] = 0
    params[:, :, [0, output]] = 0
    # The output owns the projection of an input-output edge (1x1 convolution + batch
    # norm), added to the concatenation of the interior inputs when there are any.
    has_projection = from_input[:, :, output]
    concat_sum = out_channels[..., 0] * pixels[..., 0] if n_vertices > 2 else 0
    flops[:, :, output] = has_projection * (
        2 * in_channels[..., 0] * out_channels[..., 0] * pixels[..., 0] + concat_sum
    )
    params[:, :, output] = has_projection * (
        in_channels[..., 0] * out_channels[..., 0] + 2 * out_channels[..., 0]
    )
    return flops, params


def _vertex_channels(matrices, feeds_output, feeder_rank, out_channels):
    """Channels of each vertex, as the official ``compute_vertex_channels``, for a batch.

    The output's channels are split evenly among the vertices that feed it, the remainder
    going one by one to the first of them in the trained network's order; every other
    interior vertex takes the largest width among its interior successors.
    """
    n_vertices = matrices.shape[1]
    fan_in = np.maximum(feeds_output.sum(axis=1), 1)[:, None]
    width = np.where(
        feeds_output,
        out_channels // fan_in + (feeder_rank < out_channels % fan_in),
        0,
    )
    for vertex in range(n_vertices - 3, 0, -1):
        successors = matrices[:, vertex, vertex + 1 : n_vertices - 1] * width[:, vertex + 1 : -1]
        width[:, vertex] = np.where(
            feeds_output[:, vertex], width[:, vertex], successors.max(axis=1)
        )
    return width


def _feeder_ranks(matrices, ops, feeds_output):
    """Rank of each vertex feeding the output among those feeders, in the trained order.

    Only cells whose output fan-in does not divide the channel counts (3 or 5 feeders) need
    the trained order; for the others the given order gives the same widths.
    """
    ranks = np.cumsum(feeds_output, axis=1) - 1
    fan_in = feeds_output.sum(axis=1)
    uneven = np.flatnonzero(_MODULES[0][1] % np.maximum(fan_in, 1) != 0)
    if len(uneven):
        labels = np.array(
            [[_OFFICIAL_LABEL[op] for op in ops[i][1:-1]] for i in uneven], dtype=np.int64
        ).reshape(len(uneven), -1)
        order = _benchmark_permutations(matrices[uneven], labels)
        position = np.empty_like(order)
        np.put_along_axis(position, order, np.arange(order.shape[1])[None, :], axis=1)
        feeders = feeds_output[uneven]
        before = feeders[:, None, :] & (position[:, None, :] < position[:, :, None])
        ranks[uneven] = before.sum(axis=2)
    return ranks


@lru_cache(maxsize=1 << 16)
def _cell_costs(cell):
    """Costs of a canonical cell in the 9 cells of the CIFAR-10 network (cached)."""
    flops, params = _cost_arrays(np.array([cell.matrix], dtype=np.int64), [cell.ops])
    flops, params = flops[0], params[0]
    flops.setflags(write=False)
    params.setflags(write=False)
    return _CellCosts(
        flops,
        params,
        int(flops.sum()) + _FIXED_FLOPS,
        int(params.sum()) + _FIXED_PARAMS,
    )


def _group_by_size(cells):
    """``(positions, cells)`` for each number of vertices among ``cells``."""
    groups = {}
    for position, cell in enumerate(cells):
        groups.setdefault(cell.n_vertices, []).append(position)
    for positions in groups.values():
        yield np.array(positions), [cells[i] for i in positions]


def _padded_slots(n_vertices):
    """Patch rows of the vertices of an ``n``-vertex cell: the output is always last."""
    return list(range(n_vertices - 1)) + [MAX_VERTICES - 1]


# --- enumeration -----------------------------------------------------------------------


def _mix(values):
    """splitmix64 finaliser on uint64 arrays (wrap-around arithmetic is intended)."""
    values = values + np.uint64(0x9E3779B97F4A7C15)
    values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def _edge_bit(source, target):
    """Bit of edge ``source -> target`` in the official generator's matrix encoding."""
    return target * (target - 1) // 2 + source


@cache
def _full_dag_masks(n_vertices):
    """Sorted bit masks of the ``n``-vertex matrices the official generator keeps.

    Every vertex but the output has an out-edge and every vertex but the input an in-edge
    (so nothing is pruned), and there are at most 9 edges.
    """
    n_bits = n_vertices * (n_vertices - 1) // 2
    masks = np.arange(1 << n_bits, dtype=np.int64)
    bits = (masks[:, None] >> np.arange(n_bits)) & 1
    keep = bits.sum(axis=1) <= MAX_EDGES
    for vertex in range(n_vertices):
        out_bits = sum(1 << _edge_bit(vertex, t) for t in range(vertex + 1, n_vertices))
        in_bits = sum(1 << _edge_bit(s, vertex) for s in range(vertex))
        if vertex < n_vertices - 1:
            keep &= (masks & out_bits) != 0
        if vertex > 0:
            keep &= (masks & in_bits) != 0
    masks = masks[keep]
    masks.setflags(write=False)
    return masks


def _masks_to_matrices(masks, n_vertices):
    matrices = np.zeros((len(masks), n_vertices, n_vertices), dtype=np.uint8)
    for target in range(n_vertices):
        for source in range(target):
            matrices[:, source, target] = (masks >> _edge_bit(source, target)) & 1
    return matrices


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


# --- sampling --------------------------------------------------------------------------


def _check_count(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return int(n)


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
    permuted = matrices.reshape(len(matrices), -1)[:, flat_index]
    keys = permuted[:, :, upper].astype(np.int64) @ weights
    labels = np.asarray(labelings, dtype=np.int64)[:, perms[:, 1:-1] - 1]
    keys = keys * len(_OFFICIAL_OPS) ** (n_vertices - 2) + labels @ label_weights
    return np.where(permuted[:, :, lower].any(axis=2), -1, keys)


def _benchmark_permutations(matrices, labelings, chunk=4096):
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


@lru_cache(maxsize=1 << 16)
def _benchmark_permutation(cell):
    """Vertex order of the network the benchmark trained for ``cell``.

    The official generator keeps the first ordering of each cell that it meets, and that
    ordering is the network that was built and trained (its channel split gives the extra
    channels to the first vertices that feed the output, so the parameter count depends on
    it). Returns a permutation: trained vertex ``i`` is vertex ``permutation[i]`` of ``cell``.
    """
    perms, keys = _ordering_keys(np.asarray(cell.matrix), _official_labels(cell))
    return tuple(perms[int(np.argmin(keys))].tolist())


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
    return _remember(_permute_cell(cell, list(perms[int(np.argmin(keys))])))


def _draw_random_spec(rng):
    matrix = np.triu(rng.randint(0, 2, size=(MAX_VERTICES, MAX_VERTICES)), k=1)
    interior = rng.randint(len(_OFFICIAL_OPS), size=MAX_VERTICES - 2)
    ops = (INPUT, *(_OFFICIAL_OPS[label] for label in interior), OUTPUT)
    try:
        return _validate_cell(matrix, ops)
    except ValueError:
        return None


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
