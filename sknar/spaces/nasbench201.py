"""The NAS-Bench-201 (NATS-Bench topology) search space.

A NAS-Bench-201 cell is a DAG of 4 nodes with an op on each of its 6 edges ``j <- i``
(``i < j``). The benchmark writes a cell as an architecture string::

    |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|

one ``+``-separated group per node 1..3, each edge written ``op~source``. The macro network
repeats the cell 5 times in each of 3 stages, with residual reduction blocks between stages.
"""

import functools
import itertools
import re

import networkx as nx
import numpy as np

from ..utils._docstrings import Substitution, _random_state_docstring, _verbose_docstring
from ._base import PatchFeatures, SearchSpace

__all__ = ["NASBench201Space"]

_docs = Substitution(
    arch="""arch : str, sequence of str or networkx.DiGraph
            An arch string, its 6 edge ops in edge order, or a graph from :meth:`to_networkx`.""",
    archs="""archs : sequence
            Architectures in any form :meth:`validate` accepts.""",
    dataset="""dataset : {"cifar10", "cifar100", "ImageNet16-120"} or None, default=None
            The macro network; None means ``"cifar10"``.""",
    random_state=_random_state_docstring,
    verbose=_verbose_docstring,
)

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
N_NODES = 4
# Edges (source, destination) in the order the arch string lists them.
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
N_EDGES = len(EDGES)
N_ARCHS = len(OPS) ** N_EDGES
_EDGE_SRC = np.array([src for src, _ in EDGES])
_EDGE_DST = np.array([dst for _, dst in EDGES])
_OP_INDEX = {op: code for code, op in enumerate(OPS)}
# product index of a cell's op codes: the first edge is the most significant digit
_PRODUCT_WEIGHTS = len(OPS) ** np.arange(N_EDGES - 1, -1, -1)

# Macro network: stem of 16 channels, 3 stages of 5 cells at C = 16, 32, 64 channels, the
# spatial side halving at each stage.
STEM_CHANNELS = 16
STAGE_CHANNELS = (16, 32, 64)
CELLS_PER_STAGE = 5
N_CELLS = CELLS_PER_STAGE * len(STAGE_CHANNELS)
_CELL_STAGE = np.repeat(np.arange(len(STAGE_CHANNELS)), CELLS_PER_STAGE)
# input side and number of classes of each benchmark dataset's network
_DATASETS = {"cifar10": (32, 10), "cifar100": (32, 100), "ImageNet16-120": (16, 120)}
# the NAR cell-information files name the CIFAR-10 network after its training split
_DATASET_ALIASES = {"cifar10-valid": "cifar10"}

_NODE_RE = re.compile(r"^\|(?:[^|~+]+~[^|~+]+\|)+$")


def _check_dataset(dataset):
    if dataset is None:
        return "cifar10"
    dataset = _DATASET_ALIASES.get(dataset, dataset)
    if dataset not in _DATASETS:
        raise ValueError(
            f"unknown NAS-Bench-201 dataset {dataset!r}; expected one of {sorted(_DATASETS)} "
            "(or 'cifar10-valid', an alias of 'cifar10')"
        )
    return dataset


def _stage_geometry(dataset):
    """``(channels, spatial positions)`` of each stage and the number of classes."""
    side, n_classes = _DATASETS[dataset]
    stages = [(channels, (side >> stage) ** 2) for stage, channels in enumerate(STAGE_CHANNELS)]
    return stages, n_classes


# --- counting rules -----------------------------------------------------------------------
# These reproduce the NAR cell-information files: a convolution costs in*out*k*k
# multiply-accumulates per output position (no bias), a batch norm 2 FLOPs per element and
# 2 parameters per channel; ReLU and the pooling inside cells and residual blocks are free;
# the global average pooling costs one FLOP per input element; the classifier costs in*out
# FLOPs and in*out + out parameters.


def _conv_bn(c_in, c_out, kernel, positions):
    """FLOPs and params of a bias-free k x k convolution followed by batch norm."""
    flops = c_in * c_out * kernel * kernel * positions + 2 * c_out * positions
    params = c_in * c_out * kernel * kernel + 2 * c_out
    return flops, params


def _edge_cost_table(dataset):
    """Per-edge cost of each op in each stage: two int64 arrays of shape (n_stages, n_ops)."""
    stages, _ = _stage_geometry(dataset)
    flops = np.zeros((len(stages), len(OPS)), dtype=np.int64)
    params = np.zeros_like(flops)
    for stage, (channels, positions) in enumerate(stages):
        for op, kernel in (("nor_conv_1x1", 1), ("nor_conv_3x3", 3)):
            code = _OP_INDEX[op]
            flops[stage, code], params[stage, code] = _conv_bn(
                channels, channels, kernel, positions
            )
    return flops, params


def _fixed_cost(dataset):
    """FLOPs and params of everything outside the cells (stem, reductions, head)."""
    stages, n_classes = _stage_geometry(dataset)
    first_positions = stages[0][1]
    flops, params = _conv_bn(3, STEM_CHANNELS, 3, first_positions)
    for (c_in, _), (c_out, positions) in zip(stages[:-1], stages[1:]):
        # residual block: 3x3 stride-2 conv-bn, 3x3 conv-bn, pooled 1x1 projection
        for block_in, kernel in ((c_in, 3), (c_out, 3)):
            block_flops, block_params = _conv_bn(block_in, c_out, kernel, positions)
            flops, params = flops + block_flops, params + block_params
        flops += c_in * c_out * positions
        params += c_in * c_out
    last_channels, last_positions = stages[-1]
    flops += 2 * last_channels * last_positions  # final batch norm
    params += 2 * last_channels
    flops += last_channels * last_positions  # global average pooling
    flops += last_channels * n_classes
    params += last_channels * n_classes + n_classes
    return int(flops), int(params)


@functools.cache
def _cost_tables(dataset):
    edge_flops, edge_params = _edge_cost_table(dataset)
    edge_flops.flags.writeable = edge_params.flags.writeable = False
    return edge_flops, edge_params, _fixed_cost(dataset)


# --- parsing ------------------------------------------------------------------------------


def _format_arch_string(ops):
    nodes = []
    start = 0
    for dst in range(1, N_NODES):
        edges = [f"{ops[start + src]}~{src}" for src in range(dst)]
        nodes.append("|" + "|".join(edges) + "|")
        start += dst
    return "+".join(nodes)


def _check_op(op, where):
    if not isinstance(op, str) or op not in _OP_INDEX:
        raise ValueError(f"unknown op {op!r} on {where}; expected one of {list(OPS)}")


@functools.lru_cache(maxsize=65536)
def _parse_arch_string(text):
    """Arch string -> tuple of the 6 edge ops, in edge order."""
    groups = text.strip().split("+")
    if len(groups) != N_NODES - 1:
        raise ValueError(
            f"malformed arch string {text!r}: expected {N_NODES - 1} node groups separated by "
            f"'+', got {len(groups)}"
        )
    ops = [None] * N_EDGES
    start = 0
    for dst, group in enumerate(groups, start=1):
        if not _NODE_RE.match(group):
            raise ValueError(
                f"malformed arch string {text!r}: node {dst} group {group!r} is not of the "
                "form |op~source|op~source|"
            )
        edges = group.strip("|").split("|")
        if len(edges) != dst:
            raise ValueError(
                f"wrong number of edges into node {dst} in {text!r}: expected {dst} (one from "
                f"each earlier node), got {len(edges)}"
            )
        for edge in edges:
            op, source = edge.split("~")
            if not source.isdigit() or int(source) >= dst:
                raise ValueError(
                    f"bad source index {source!r} for an edge into node {dst} in {text!r}: "
                    f"sources must be 0..{dst - 1}"
                )
            source = int(source)
            if ops[start + source] is not None:
                raise ValueError(
                    f"bad source index in {text!r}: node {dst} has two edges from node {source}"
                )
            _check_op(op, f"edge {source}->{dst}")
            ops[start + source] = op
        start += dst
    return tuple(ops)


def _ops_from_sequence(ops):
    if len(ops) != N_EDGES:
        raise ValueError(
            f"wrong number of edges: a NAS-Bench-201 cell has {N_EDGES} edge ops "
            f"(1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2), got {len(ops)}"
        )
    for (src, dst), op in zip(EDGES, ops):
        _check_op(op, f"edge {src}->{dst}")
    return tuple(ops)


def _isomorphism_key(ops):
    """The benchmark's ``UniqueString`` of a cell given as its 6 edge ops."""
    expressions = ["0"]
    start = 0
    for dst in range(1, N_NODES):
        terms = []
        for src in range(dst):
            op, source = ops[start + src], expressions[src]
            if op == "none" or source == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(source)
            else:
                terms.append(f"({source})@{op}")
        expressions.append("+".join(sorted(terms)))
        start += dst
    return expressions[-1]


@functools.cache
def _arch_strings():
    """The 15,625 arch strings, in product order of ``OPS`` over the 6 edges."""
    return tuple(_format_arch_string(ops) for ops in itertools.product(OPS, repeat=N_EDGES))


@functools.cache
def _representative_strings():
    """Arch string of the representative of each cell, indexed by product index."""
    cells = list(itertools.product(OPS, repeat=N_EDGES))
    keys = [_isomorphism_key(ops) for ops in cells]
    best = {}
    for ops, key in zip(cells, keys):
        candidate = (N_EDGES - ops.count("none"), _format_arch_string(ops))
        best[key] = min(best.get(key, candidate), candidate)
    return tuple(best[key][1] for key in keys)


class NASBench201Space(SearchSpace):
    """The NAS-Bench-201 cell space: 4 nodes, 6 edges, 5 ops, 15,625 architectures.

    Architectures are accepted as an arch string, a list or tuple of the 6 edge ops in the
    string's edge order (``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2``), or a networkx graph from
    :meth:`to_networkx`. The canonical form is the normalised arch string. The benchmark
    treats all 15,625 strings as distinct networks, so :meth:`hash` is the canonical string;
    :meth:`isomorphism_key` groups strings that the benchmark marks as the same cell, and
    :meth:`representatives` gives the simplest cell of each such group, which the encoders of
    :mod:`sknar.encoding` encode by default.

    Op codes (the op-code patch, as in the NAR reference encoding): ``none`` 0,
    ``skip_connect`` 1, ``nor_conv_1x1`` 2, ``nor_conv_3x3`` 3, ``avg_pool_3x3`` 4, i.e. the
    position in ``op_names``; a ``none`` edge thus reads as no edge.

    Cost features follow the benchmark's macro networks for ``"cifar10"`` (alias
    ``"cifar10-valid"``), ``"cifar100"`` and ``"ImageNet16-120"``: a 3x3 stem of 16 channels,
    3 stages of 5 cells at 16/32/64 channels (32/16/8 pixels for CIFAR, 16/8/4 for
    ImageNet16-120), residual reduction blocks between stages, global pooling and a linear
    classifier. Per-edge FLOPs and params of the 15 cells and the network totals equal those
    of the NAR cell-information files: convolutions count ``in*out*k*k`` per output position
    plus 2 FLOPs per element for batch norm, pooling and ReLU inside cells are free.

    Attributes
    ----------
    name : str
        ``"nasbench201"``.
    op_names : tuple of str
        The 5 edge ops, in op-code order.
    max_nodes : int
        4, the side of the patches.
    n_cells : int
        15 normal cells with cost features.
    cost_datasets : tuple of str
        ``("cifar10", "cifar100", "ImageNet16-120")``.

    Notes
    -----
    Arch strings already parsed are remembered for the whole process, at most 65,536 of
    them (a few MB; the space has 15,625 cells). The list of the 15,625 arch strings, the
    representative of each and the cost tables of the three datasets are built once per
    process, when first needed.

    Examples
    --------
    >>> from sknar.spaces.nasbench201 import NASBench201Space
    >>> space = NASBench201Space()
    >>> arch = space.validate(["nor_conv_3x3"] * 6)
    >>> arch
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
    >>> space.total_cost(arch)["params"]
    1531546
    >>> space.patch_features([arch]).flops.shape
    (1, 15, 4, 4)
    """

    name = "nasbench201"
    op_names = OPS
    max_nodes = N_NODES
    n_cells = N_CELLS
    cost_datasets = tuple(_DATASETS)
    size = N_ARCHS

    # --- what an architecture is -------------------------------------------------------

    @_docs
    def validate(self, arch):
        """Return the canonical arch string of ``arch``.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        arch : str
            The normalised arch string.

        Raises
        ------
        ValueError
            Naming the rule broken: malformed string, wrong number of edges, bad source
            index, unknown op.
        """
        return _format_arch_string(self._edge_ops(arch))

    def _edge_ops(self, arch):
        if isinstance(arch, str):
            return _parse_arch_string(arch)
        if isinstance(arch, nx.DiGraph):
            return self._edge_ops_from_graph(arch)
        if isinstance(arch, (list, tuple, np.ndarray)):
            return _ops_from_sequence(tuple(arch))
        raise ValueError(
            f"a NAS-Bench-201 architecture is an arch string, a sequence of {N_EDGES} edge "
            f"ops or a networkx.DiGraph, got {type(arch).__name__}"
        )

    @_docs
    def hash(self, arch):
        """The canonical arch string (the benchmark's 15,625 strings are distinct networks).

        Parameters
        ----------
        %(arch)s

        Examples
        --------
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> NASBench201Space().hash(["skip_connect"] * 6)[:15]
        '|skip_connect~0'
        """
        return self.validate(arch)

    @_docs
    def isomorphism_key(self, arch):
        """Key shared by the cells the benchmark identifies as the same network.

        Each node is written as the sorted sum of its incoming terms: ``skip_connect`` passes
        its source through unchanged, another op wraps it as ``(source)@op``, and a ``none``
        edge (or an edge leaving a node whose only input is ``none``) becomes a zero term
        ``#``. The key of the cell is the expression of its output node. This is the rule of
        the benchmark's ``UniqueString`` column (6,466 classes); note that it keeps the zero
        terms, so two cells that differ only in how many ``none`` edges enter a node get
        different keys.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        key : str

        Examples
        --------
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> space = NASBench201Space()
        >>> space.isomorphism_key("|nor_conv_3x3~0|+|none~0|skip_connect~1|"
        ...                       "+|none~0|none~1|skip_connect~2|")
        '#+#+#+(0)@nor_conv_3x3'
        """
        return _isomorphism_key(self._edge_ops(arch))

    @_docs
    def representatives(self, archs):
        """The simplest cell of each architecture's isomorphism class.

        Among the cells with the same :meth:`isomorphism_key`, the one with the fewest edges
        that are not ``none``, ties broken by the smaller arch string. Ops that do not change
        the network under the benchmark's rule thus become ``none`` (an op whose result never
        reaches the output node, or that only carries the zero output of a node 1 fed by
        ``none``), and an op reached through ``skip_connect`` edges moves to a direct edge
        where that keeps the key. The representative computes the same network as the cell,
        and its cost features count only the ops taking part in the computation. The 15,625
        cells have 6,466 representatives.

        Parameters
        ----------
        %(archs)s

        Returns
        -------
        representatives : list of str
            Arch strings, one per input.

        Raises
        ------
        ValueError
            Naming the index of the first invalid architecture.

        Examples
        --------
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> space = NASBench201Space()
        >>> conv_after_skip = "|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|"
        >>> space.representatives([conv_after_skip])[0]
        '|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|'
        >>> len(set(space.representatives(space.enumerate())))
        6466
        """
        codes = self._codes(self.validate_all(archs))
        table = _representative_strings()
        return [table[index] for index in codes @ _PRODUCT_WEIGHTS]

    def op_code(self, op_name):
        """Integer code of an op in the op-code patch (its position in ``op_names``).

        Parameters
        ----------
        op_name : str
            One of ``op_names``.

        Examples
        --------
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> NASBench201Space().op_code("nor_conv_3x3")
        3
        """
        _check_op(op_name, "the op_code query")
        return _OP_INDEX[op_name]

    # --- drawing and listing -----------------------------------------------------------

    def sample(self, n, random_state=None):
        return self._sample_listed(_arch_strings(), n, random_state)

    @_docs
    def enumerate(self, verbose=False):
        """Yield the 15,625 arch strings in product order of ``op_names`` over the 6 edges.

        Parameters
        ----------
        %(verbose)s

        Yields
        ------
        arch : str

        Examples
        --------
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> sum(1 for _ in NASBench201Space().enumerate())
        15625
        """
        yield from self._listed(_arch_strings(), verbose)

    @_docs
    def mutate(self, arch, random_state=None):
        """The cell with the op of one of its 6 edges changed.

        Parameters
        ----------
        %(arch)s
        %(random_state)s

        Returns
        -------
        child : str
            The canonical arch string, a different cell.

        Examples
        --------
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> child = NASBench201Space().mutate(["nor_conv_3x3"] * 6, random_state=0)
        >>> child.count("nor_conv_3x3")
        5
        """
        return self._first_valid_mutant(arch, _change_one_edge_op, random_state)

    # --- costs -------------------------------------------------------------------------

    @_docs
    def cost_features(self, arch, dataset=None):
        """Per-edge FLOPs and params of the 15 normal cells.

        Parameters
        ----------
        %(arch)s
        %(dataset)s

        Returns
        -------
        costs : dict
            ``{"flops": int64 (15, 6), "params": int64 (15, 6)}``, columns in edge order;
            rows are the cells of stage 1, 2, 3 (the residual blocks are not cells).

        Examples
        --------
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> costs = NASBench201Space().cost_features(["nor_conv_1x1"] * 6)
        >>> int(costs["params"][0, 0]), int(costs["params"][14, 0])
        (288, 4224)
        """
        codes = self._codes([self.validate(arch)])[0]
        edge_flops, edge_params, _ = _cost_tables(_check_dataset(dataset))
        return {
            "flops": edge_flops[_CELL_STAGE][:, codes],
            "params": edge_params[_CELL_STAGE][:, codes],
        }

    @_docs
    def total_cost(self, arch, dataset=None):
        """FLOPs and params of the whole macro network.

        Parameters
        ----------
        %(arch)s
        %(dataset)s

        Examples
        --------
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> NASBench201Space().total_cost(["none"] * 6, dataset="cifar100")["params"]
        79156
        """
        flops, params = self.total_costs([arch], dataset)
        return {"flops": int(flops[0]), "params": int(params[0])}

    def total_costs(self, archs, dataset=None):
        codes = self._codes(self.validate_all(archs))
        edge_flops, edge_params, (fixed_flops, fixed_params) = _cost_tables(_check_dataset(dataset))
        cells_per_stage = np.bincount(_CELL_STAGE)
        stage_weight = cells_per_stage[:, None]
        per_arch_flops = (edge_flops * stage_weight).sum(axis=0)[codes].sum(axis=1)
        per_arch_params = (edge_params * stage_weight).sum(axis=0)[codes].sum(axis=1)
        return per_arch_flops + fixed_flops, per_arch_params + fixed_params

    @_docs
    def structure_features(self, arch):
        """Counts used by samplers.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        features : dict
            ``n_nodes`` (always 4), ``n_edges`` (edges whose op is not ``none``) and
            ``n_<op>`` for each of the 5 ops.

        Examples
        --------
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> NASBench201Space().structure_features(["none"] * 5 + ["nor_conv_3x3"])["n_edges"]
        1
        """
        ops = self._edge_ops(arch)
        features = {"n_nodes": N_NODES, "n_edges": sum(op != "none" for op in ops)}
        for op in OPS:
            features[f"n_{op}"] = ops.count(op)
        return features

    @_docs
    def patch_features(self, archs, dataset=None):
        """NAR patches of a batch: op codes and per-cell FLOPs/params at ``[src, dst]``.

        Parameters
        ----------
        %(archs)s
        %(dataset)s

        Returns
        -------
        patches : PatchFeatures
            ``ops`` (n, 4, 4), ``flops`` and ``params`` (n, 15, 4, 4), float64, raw units.

        Examples
        --------
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> patches = NASBench201Space().patch_features([["nor_conv_3x3"] * 6])
        >>> patches.ops[0].tolist()[0]
        [0.0, 3.0, 3.0, 3.0]
        """
        codes = self._codes(self.validate_all(archs))
        edge_flops, edge_params, _ = _cost_tables(_check_dataset(dataset))
        n = codes.shape[0]
        ops = np.zeros((n, N_NODES, N_NODES))
        ops[:, _EDGE_SRC, _EDGE_DST] = codes
        flops = np.zeros((n, N_CELLS, N_NODES, N_NODES))
        params = np.zeros_like(flops)
        # (n, n_cells, n_edges) gathers of the per-stage op cost tables
        stage = _CELL_STAGE[None, :, None]
        flops[:, :, _EDGE_SRC, _EDGE_DST] = edge_flops[stage, codes[:, None, :]]
        params[:, :, _EDGE_SRC, _EDGE_DST] = edge_params[stage, codes[:, None, :]]
        return PatchFeatures(ops=ops, flops=flops, params=params)

    @staticmethod
    def _codes(canonical_archs):
        """Op codes (n, 6) of canonical arch strings."""
        codes = np.empty((len(canonical_archs), N_EDGES), dtype=np.intp)
        for row, arch in enumerate(canonical_archs):
            codes[row] = [_OP_INDEX[op] for op in _parse_arch_string(arch)]
        return codes

    # --- the architecture as named parameters -------------------------------------------

    def parameter_choices(self):
        """One parameter per edge, ``edge_<target>_<source>`` in arch-string order, whose
        choices are the 5 ops; every combination is a valid cell.

        Returns
        -------
        choices : dict
            ``{"edge_1_0": op_names, "edge_2_0": op_names, ..., "edge_3_2": op_names}``.

        Examples
        --------
        >>> from sknar.spaces import NASBench201Space
        >>> list(NASBench201Space().parameter_choices())
        ['edge_1_0', 'edge_2_0', 'edge_2_1', 'edge_3_0', 'edge_3_1', 'edge_3_2']
        """
        return {_edge_parameter(src, dst): OPS for src, dst in EDGES}

    def from_parameters(self, values):
        return _format_arch_string(tuple(self._checked_parameters(values)))

    def to_parameters(self, arch):
        ops = self._edge_ops(arch)
        return {_edge_parameter(src, dst): op for (src, dst), op in zip(EDGES, ops)}

    # --- graphs ------------------------------------------------------------------------

    @_docs
    def to_networkx(self, arch):
        """The cell as a DiGraph: nodes 0..3, all 6 edges with an ``op`` attribute.

        Parameters
        ----------
        %(arch)s

        Examples
        --------
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> graph = NASBench201Space().to_networkx(["skip_connect"] * 6)
        >>> graph.edges[2, 3]["op"]
        'skip_connect'
        """
        ops = self._edge_ops(arch)
        graph = nx.DiGraph(space=self.name)
        graph.add_nodes_from(range(N_NODES))
        for (src, dst), op in zip(EDGES, ops):
            graph.add_edge(src, dst, op=op)
        return graph

    def from_networkx(self, graph):
        """The canonical arch string of a graph; a missing edge means ``none``.

        Parameters
        ----------
        graph : networkx.DiGraph
            Nodes 0..3; edges ``src -> dst`` (``src < dst``) with an ``op`` attribute.

        Examples
        --------
        >>> import networkx as nx
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> graph = nx.DiGraph()
        >>> graph.add_edge(0, 3, op="nor_conv_3x3")
        >>> NASBench201Space().from_networkx(graph)
        '|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|'
        """
        return _format_arch_string(self._edge_ops_from_graph(graph))

    def _edge_ops_from_graph(self, graph):
        space = graph.graph.get("space", self.name)
        if space != self.name:
            raise ValueError(f"the graph belongs to the {space!r} space, not {self.name!r}")
        bad_nodes = sorted(set(graph.nodes) - set(range(N_NODES)), key=repr)
        if bad_nodes:
            raise ValueError(f"a NAS-Bench-201 cell has nodes 0..3, the graph has {bad_nodes}")
        ops = ["none"] * N_EDGES
        position = {edge: i for i, edge in enumerate(EDGES)}
        for src, dst, data in graph.edges(data=True):
            if (src, dst) not in position:
                raise ValueError(
                    f"bad edge {src}->{dst}: edges must go from a lower to a higher node"
                )
            if "op" not in data:
                raise ValueError(f"edge {src}->{dst} has no 'op' attribute")
            _check_op(data["op"], f"edge {src}->{dst}")
            ops[position[(src, dst)]] = data["op"]
        return tuple(ops)


def _edge_parameter(source, target):
    return f"edge_{target}_{source}"


def _change_one_edge_op(space, arch, rng):
    ops = list(space._edge_ops(arch))
    edge = rng.randint(len(ops))
    ops[edge] = rng.choice([op for op in OPS if op != ops[edge]])
    return ops
