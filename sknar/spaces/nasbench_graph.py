"""The NAS-Bench-Graph search space of graph neural networks.

An architecture has 4 op slots. Slot ``i`` (0-based) reads the graph input (``link[i] == 0``)
or the output of an earlier slot ``link[i] - 1`` and applies a GNN op; the slots that no other
slot reads are aggregated into the network output. The benchmark lists 9 canonical link
topologies and identifies isomorphic architectures (relabelled slots, reordered symmetric
slots, transparent ``skip`` slots) by a canonicalisation whose result it encodes as an integer
key. This module reproduces that canonicalisation and key exactly, without importing the
benchmark package.
"""

import functools
import itertools
from typing import NamedTuple

import networkx as nx
import numpy as np

from ..utils._docstrings import Substitution, _random_state_docstring, _verbose_docstring
from ._base import PatchFeatures, SearchSpace

__all__ = ["GraphArch", "NASBenchGraphSpace"]

_docs = Substitution(
    arch="""arch : GraphArch, (link, ops) pair, dict or networkx.DiGraph
            An architecture in any form :meth:`validate` accepts.""",
    archs="""archs : sequence
            Architectures in any form :meth:`validate` accepts.""",
    dataset="""dataset : None
            Unused: the space's costs do not depend on a dataset.""",
    random_state=_random_state_docstring,
    verbose=_verbose_docstring,
)

GNN_OPS = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
# The proteins benchmark was only run with these ops.
PROTEINS_OPS = ("gcn", "sage", "arma", "fc", "skip")
OP_SETS = {"full": GNN_OPS, "proteins": PROTEINS_OPS}
N_SLOTS = 4
INPUT_NODE, OUTPUT_NODE = 0, N_SLOTS + 1
N_NODES = N_SLOTS + 2
CANONICAL_LINKS = (
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (0, 0, 1, 1),
    (0, 0, 1, 2),
    (0, 0, 1, 3),
    (0, 1, 1, 1),
    (0, 1, 1, 2),
    (0, 1, 2, 2),
    (0, 1, 2, 3),
)
_LINK_INDEX = {link: i for i, link in enumerate(CANONICAL_LINKS)}
_GNN_INDEX = {op: i for i, op in enumerate(GNN_OPS)}
_KEY_BASE = len(GNN_OPS) + 1

# Non-canonical link -> (canonical link, new slot order as indices into the old ops). These
# relabellings are the benchmark's own; they list every other link a slot order can produce.
_RELABEL = {
    (0, 0, 0, 2): ((0, 0, 0, 1), (1, 0, 2, 3)),
    (0, 0, 0, 3): ((0, 0, 0, 1), (2, 0, 1, 3)),
    (0, 0, 1, 0): ((0, 0, 0, 1), (0, 1, 3, 2)),
    (0, 0, 2, 0): ((0, 0, 0, 1), (1, 0, 3, 2)),
    (0, 0, 2, 1): ((0, 0, 1, 2), (1, 0, 2, 3)),
    (0, 0, 2, 2): ((0, 0, 1, 1), (1, 0, 2, 3)),
    (0, 0, 2, 3): ((0, 0, 1, 3), (1, 0, 2, 3)),
    (0, 1, 0, 0): ((0, 0, 0, 1), (0, 2, 3, 1)),
    (0, 1, 0, 1): ((0, 0, 1, 1), (0, 2, 1, 3)),
    (0, 1, 0, 2): ((0, 0, 1, 3), (0, 2, 1, 3)),
    (0, 1, 0, 3): ((0, 0, 1, 2), (0, 2, 1, 3)),
    (0, 1, 1, 0): ((0, 0, 1, 1), (0, 3, 1, 2)),
    (0, 1, 1, 3): ((0, 1, 1, 2), (0, 2, 1, 3)),
    (0, 1, 2, 0): ((0, 0, 1, 3), (0, 3, 1, 2)),
    (0, 1, 2, 1): ((0, 1, 1, 2), (0, 1, 3, 2)),
}
# Links whose slots at these positions are interchangeable: their ops are sorted.
_SYMMETRIC_SLOTS = {
    (0, 0, 0, 0): (0, 1, 2, 3),
    (0, 0, 0, 1): (1, 2),
    (0, 0, 1, 1): (2, 3),
    (0, 1, 1, 1): (1, 2, 3),
    (0, 1, 2, 2): (2, 3),
}


class GraphArch(NamedTuple):
    """A NAS-Bench-Graph architecture (canonical when returned by the space).

    Parameters
    ----------
    link : tuple of 4 int
        ``link[i]`` is the node slot ``i`` reads: 0 for the input, ``k`` for slot ``k - 1``.
    ops : tuple of 4 str
        The op of each slot.

    Examples
    --------
    >>> from sknar.spaces.nasbench_graph import GraphArch
    >>> GraphArch((0, 1, 2, 3), ("gcn", "gat", "gin", "fc")).ops[1]
    'gat'
    """

    link: tuple
    ops: tuple


# --- the benchmark's canonicalisation -------------------------------------------------------


def _relabel(link, ops):
    if link in _RELABEL:
        link, order = _RELABEL[link]
        ops = tuple(ops[i] for i in order)
    return link, ops


def _reads_raw_input(slot, link, ops):
    """True when slot ``slot`` and every slot it reads from up to the input are ``skip``."""
    while slot > -1:
        if ops[slot] != "skip":
            return False
        slot = link[slot] - 1
    return True


def _move_slot_first(slot, link, ops):
    """Move a skip slot to the front; its readers read what it read."""
    ops = [ops[slot]] + ops[:slot] + ops[slot + 1 :]
    link = list(link)
    # Readers are redirected after the skip slot's own link was shifted (slots are updated in
    # order), which is how the benchmark computes its keys.
    for i, source in enumerate(list(link)):
        if source == slot + 1:
            link[i] = link[slot]
        if source <= slot:
            link[i] += 1
    link = [0] + link[:slot] + link[slot + 1 :]
    return link, ops


def _move_skip_slots(link, ops):
    link, ops = list(link), list(ops)
    for slot in range(N_SLOTS):
        if ops[slot] != "skip":
            continue
        has_reader = any(source == slot + 1 for source in link)
        has_sibling = any(j != slot and source == link[slot] for j, source in enumerate(link))
        if has_reader or not has_sibling or _reads_raw_input(slot, link, ops):
            link, ops = _move_slot_first(slot, link, ops)
    link = tuple(link)
    if link == (0, 1, 2, 1):
        link, ops = (0, 1, 1, 2), ops[:2] + [ops[3], ops[2]]
    elif link == (0, 1, 1, 3):
        link, ops = (0, 1, 1, 2), [ops[0], ops[2], ops[1], ops[3]]
    return link, tuple(ops)


def _sort_symmetric_slots(link, ops):
    ops = list(ops)
    if link in _SYMMETRIC_SLOTS:
        slots = _SYMMETRIC_SLOTS[link]
        for slot, op in zip(slots, sorted((ops[s] for s in slots), key=_GNN_INDEX.get)):
            ops[slot] = op
    elif link == (0, 0, 1, 2):
        # two parallel chains input -> slot 0 -> slot 2 and input -> slot 1 -> slot 3
        first, second = _GNN_INDEX[ops[0]], _GNN_INDEX[ops[1]]
        if first > second or (ops[0] == ops[1] and _GNN_INDEX[ops[2]] > _GNN_INDEX[ops[3]]):
            ops = [ops[1], ops[0], ops[3], ops[2]]
    return tuple(ops)


def _canonical(link, ops):
    link, ops = _relabel(link, ops)
    link, ops = _move_skip_slots(link, ops)
    return GraphArch(link, _sort_symmetric_slots(link, ops))


def _encode_key(arch):
    key = _LINK_INDEX[arch.link]
    for op in arch.ops:
        key = key * _KEY_BASE + _GNN_INDEX[op]
    return key


def _decode_key(key):
    digits = []
    for _ in range(N_SLOTS):
        key, digit = divmod(key, _KEY_BASE)
        digits.append(digit)
    if not 0 <= key < len(CANONICAL_LINKS) or max(digits) >= len(GNN_OPS):
        return None
    return GraphArch(CANONICAL_LINKS[key], tuple(GNN_OPS[d] for d in reversed(digits)))


@functools.cache
def _all_archs(op_set):
    ops_allowed = OP_SETS[op_set]
    found = []
    for link in CANONICAL_LINKS:
        for ops in itertools.product(ops_allowed, repeat=N_SLOTS):
            if all(op == "skip" for op in ops):
                continue
            arch = GraphArch(link, ops)
            if _canonical(link, ops) == arch:
                found.append(arch)
    found.sort(key=_encode_key)
    return tuple(found)


def _leaf_mask(links):
    """(n, 4) bool: slots that no other slot reads (they feed the output node)."""
    links = np.asarray(links)
    read = (links[:, :, None] == np.arange(1, N_SLOTS + 1)[None, None, :]).any(axis=1)
    return ~read


class NASBenchGraphSpace(SearchSpace):
    """The NAS-Bench-Graph GNN space: 9 link topologies x 4 op slots, 26,206 architectures.

    An architecture is a :class:`GraphArch` ``(link, ops)``: slot ``i`` applies ``ops[i]`` to
    node ``link[i]`` (0 = input, ``k`` = slot ``k - 1``), with ``link[i] <= i``; the slots that
    no other slot reads feed the output. :meth:`validate` also accepts a ``(link, ops)`` pair,
    a dict with those keys, an object with ``link`` and ``ops`` attributes, and a graph from
    :meth:`to_networkx`; it returns the benchmark's canonical representative of the
    isomorphism class. :meth:`key` is the benchmark's integer key of that class (the keys of
    its ``.bench`` files) and :meth:`hash` its string.

    Patches have ``max_nodes = 6`` nodes: 0 the input, 1-4 the op slots, 5 the output. Op
    codes: ``op_names[i]`` is ``i + 1``, ``"input"`` is ``n_ops + 1`` and ``"output"`` is
    ``n_ops + 2``; the op-code patch holds at ``[src, dst]`` the code of node ``dst``. The
    benchmark publishes no per-op costs, so there are no cost cells (``n_cells = 0``) and
    :meth:`total_cost` is not available.

    Parameters
    ----------
    op_set : {"full", "proteins"}, default="full"
        ``"full"``: the 9 ops ``gat, gcn, gin, cheb, sage, arma, graph, fc, skip``.
        ``"proteins"``: the 5 ops the proteins benchmark was run with (``gcn, sage, arma,
        fc, skip``; 2,021 architectures). Keys are the same in both.

    Notes
    -----
    The canonical architectures of an op set (26,206 for ``"full"``, 2,021 for
    ``"proteins"``) are listed once per process, when first needed, and kept: sampling,
    enumeration and :attr:`size` read that list.

    Examples
    --------
    >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
    >>> space = NASBenchGraphSpace()
    >>> arch = space.validate(([0, 1, 0, 0], ["gcn", "sage", "gat", "gin"]))
    >>> arch
    GraphArch(link=(0, 0, 0, 1), ops=('gcn', 'gat', 'gin', 'sage'))
    >>> space.key(arch)
    11024
    """

    name = "nasbench_graph"
    max_nodes = N_NODES
    n_cells = 0
    cost_datasets = None

    def __init__(self, *, op_set="full"):
        self.op_set = op_set

    @property
    def op_names(self):
        """The ops of this op set, in op-code order."""
        return OP_SETS[self._checked_op_set()]

    def _checked_op_set(self):
        if self.op_set not in OP_SETS:
            raise ValueError(f"op_set must be one of {sorted(OP_SETS)}, got {self.op_set!r}")
        return self.op_set

    # --- what an architecture is -------------------------------------------------------

    @_docs
    def validate(self, arch):
        """Return the canonical :class:`GraphArch` of ``arch``.

        Parameters
        ----------
        %(arch)s

        Raises
        ------
        ValueError
            Naming the rule broken: wrong shape, a slot reading a later slot, unknown op (or
            an op outside the op set), all four ops ``skip`` (the identity network, which the
            benchmark does not contain).

        Examples
        --------
        >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
        >>> NASBenchGraphSpace().validate({"link": [0, 0, 0, 0], "ops": ["gin", "gcn"] * 2})
        GraphArch(link=(0, 0, 0, 0), ops=('gcn', 'gcn', 'gin', 'gin'))
        """
        link, ops = self._link_and_ops(arch)
        link = self._check_link(link)
        ops = self._check_ops(ops)
        return _canonical(link, ops)

    def _link_and_ops(self, arch):
        if isinstance(arch, nx.DiGraph):
            return self._link_and_ops_from_graph(arch)
        if isinstance(arch, dict):
            missing = {"link", "ops"} - set(arch)
            if missing:
                raise ValueError(f"an architecture dict needs 'link' and 'ops', missing {missing}")
            return arch["link"], arch["ops"]
        if isinstance(arch, (tuple, list)):
            if len(arch) != 2:
                raise ValueError(
                    f"wrong shape: an architecture is a (link, ops) pair, got {len(arch)} items"
                )
            return arch
        if hasattr(arch, "link") and hasattr(arch, "ops"):
            return arch.link, arch.ops
        raise ValueError(
            "a NAS-Bench-Graph architecture is a (link, ops) pair, a dict, an object with "
            f"link and ops attributes or a networkx.DiGraph, got {type(arch).__name__}"
        )

    @staticmethod
    def _check_link(link):
        try:
            link = tuple(link)
        except TypeError:
            raise ValueError(f"wrong shape: link must be a sequence, got {link!r}") from None
        if len(link) != N_SLOTS:
            raise ValueError(f"wrong shape: link must have {N_SLOTS} entries, got {len(link)}")
        checked = []
        for slot, source in enumerate(link):
            if isinstance(source, (bool, np.bool_)) or not isinstance(source, (int, np.integer)):
                raise ValueError(f"link[{slot}] must be an int, got {source!r}")
            if not 0 <= source <= slot:
                raise ValueError(
                    f"link[{slot}] = {source}: slot {slot} may only read the input (0) or an "
                    f"earlier slot (1..{slot}); reading a later slot would make a cycle"
                )
            checked.append(int(source))
        return tuple(checked)

    def _check_ops(self, ops):
        if isinstance(ops, str) or not hasattr(ops, "__len__"):
            raise ValueError(f"wrong shape: ops must be a sequence of {N_SLOTS} op names")
        if len(ops) != N_SLOTS:
            raise ValueError(f"wrong shape: ops must have {N_SLOTS} entries, got {len(ops)}")
        for slot, op in enumerate(ops):
            if op not in self.op_names:
                raise ValueError(
                    f"unknown op {op!r} in slot {slot}; the {self.op_set!r} op set has "
                    f"{list(self.op_names)}"
                )
        if all(op == "skip" for op in ops):
            raise ValueError("all four ops are 'skip': the identity network is not in the space")
        return tuple(str(op) for op in ops)

    @_docs
    def key(self, arch):
        """The benchmark's integer key of ``arch`` (``Arch(link, ops).valid_hash()``).

        Parameters
        ----------
        %(arch)s

        Examples
        --------
        >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
        >>> NASBenchGraphSpace().key(([0, 0, 0, 0], ["gcn"] * 4))
        1111
        """
        return _encode_key(self.validate(arch))

    @_docs
    def hash(self, arch):
        """``str(key(arch))``.

        Parameters
        ----------
        %(arch)s

        Examples
        --------
        >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
        >>> NASBenchGraphSpace().hash(([0, 0, 0, 0], ["gcn"] * 4))
        '1111'
        """
        return str(self.key(arch))

    def from_key(self, key):
        """The canonical architecture of a benchmark key.

        Parameters
        ----------
        key : int
            A key of the benchmark's ``.bench`` files.

        Examples
        --------
        >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
        >>> NASBenchGraphSpace().from_key(1111)
        GraphArch(link=(0, 0, 0, 0), ops=('gcn', 'gcn', 'gcn', 'gcn'))
        """
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            raise ValueError(f"a key is a non-negative int, got {key!r}")
        arch = _decode_key(int(key)) if key >= 0 else None
        if arch is None or any(op not in self.op_names for op in arch.ops):
            raise ValueError(f"{key} is not the key of an architecture of {self!r}")
        canonical = self.validate(arch)
        if canonical != arch:
            raise ValueError(
                f"{key} encodes {arch}, which is not canonical (its key is "
                f"{_encode_key(canonical)})"
            )
        return arch

    # --- the architecture as named parameters -------------------------------------------

    def parameter_choices(self):
        """The input of each slot, then the op of each slot.

        ``link_<i>`` is the node slot ``i`` reads (0 the input, ``k`` slot ``k - 1``, so
        ``0..i``) and ``op_<i>`` its op. Every combination but four ``skip`` ops makes an
        architecture; several make the same one (the benchmark's isomorphism classes), and
        :meth:`from_parameters` returns the canonical one.

        Returns
        -------
        choices : dict
            ``{"link_0": (0,), "link_1": (0, 1), ..., "op_0": op_names, ..., "op_3": op_names}``.

        Examples
        --------
        >>> from sknar.spaces import NASBenchGraphSpace
        >>> choices = NASBenchGraphSpace(op_set="proteins").parameter_choices()
        >>> choices["link_2"], choices["op_0"]
        ((0, 1, 2), ('gcn', 'sage', 'arma', 'fc', 'skip'))
        """
        links = {f"link_{slot}": tuple(range(slot + 1)) for slot in range(N_SLOTS)}
        ops = {f"op_{slot}": tuple(self.op_names) for slot in range(N_SLOTS)}
        return {**links, **ops}

    def from_parameters(self, values):
        """The canonical architecture of the chosen links and ops, or a ValueError.

        Parameters
        ----------
        values : mapping
            ``{name: value}`` for every name of :meth:`parameter_choices`.

        Returns
        -------
        arch : GraphArch
            The canonical architecture (isomorphic choices give the same one).

        Examples
        --------
        >>> from sknar.spaces import NASBenchGraphSpace
        >>> space = NASBenchGraphSpace()
        >>> values = {"link_0": 0, "link_1": 0, "link_2": 0, "link_3": 1,
        ...           "op_0": "gcn", "op_1": "sage", "op_2": "gat", "op_3": "gin"}
        >>> space.from_parameters(values)
        GraphArch(link=(0, 0, 0, 1), ops=('gcn', 'gat', 'sage', 'gin'))
        """
        checked = self._checked_parameters(values)
        return self.validate((tuple(checked[:N_SLOTS]), tuple(checked[N_SLOTS:])))

    def to_parameters(self, arch):
        link, ops = self.validate(arch)
        return {
            **{f"link_{slot}": int(node) for slot, node in enumerate(link)},
            **{f"op_{slot}": op for slot, op in enumerate(ops)},
        }

    # --- drawing and listing -----------------------------------------------------------

    @_docs
    def enumerate(self, verbose=False):
        """Yield every canonical architecture once, in increasing key order.

        Parameters
        ----------
        %(verbose)s

        Examples
        --------
        >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
        >>> sum(1 for _ in NASBenchGraphSpace().enumerate())
        26206
        """
        yield from self._listed(_all_archs(self._checked_op_set()), verbose)

    def sample(self, n, random_state=None):
        return self._sample_listed(_all_archs(self._checked_op_set()), n, random_state)

    @property
    def size(self):
        """Number of canonical architectures of the op set (26,206 for ``"full"``)."""
        return len(_all_archs(self._checked_op_set()))

    @_docs
    def mutate(self, arch, random_state=None):
        """The architecture with one slot's op or, for a slot after the first, its input
        changed.

        Parameters
        ----------
        %(arch)s
        %(random_state)s

        Returns
        -------
        child : GraphArch
            The canonical form of a different network.

        Examples
        --------
        >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
        >>> space = NASBenchGraphSpace()
        >>> parent = space.validate(([0, 0, 0, 0], ["gcn"] * 4))
        >>> space.hash(space.mutate(parent, random_state=0)) != space.hash(parent)
        True
        """
        return self._first_valid_mutant(arch, _change_one_slot, random_state)

    # --- costs -------------------------------------------------------------------------

    @_docs
    def cost_features(self, arch, dataset=None):
        """Empty cost arrays of shape (0, 6): the benchmark publishes no per-op costs.

        Parameters
        ----------
        %(arch)s
        %(dataset)s

        Examples
        --------
        >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
        >>> NASBenchGraphSpace().cost_features(([0, 0, 0, 0], ["gcn"] * 4))["flops"].shape
        (0, 6)
        """
        self.validate(arch)
        empty = np.zeros((0, N_NODES), dtype=np.int64)
        return {"flops": empty, "params": empty.copy()}

    @_docs
    def total_cost(self, arch, dataset=None):
        """Not available: the parameter counts depend on the dataset's hyper-parameters.

        Parameters
        ----------
        %(arch)s
        %(dataset)s

        Raises
        ------
        NotImplementedError
            Always; use the ``params`` array of :func:`sknar.datasets.load_nasbench_graph`.
        """
        raise NotImplementedError(
            "NAS-Bench-Graph publishes whole-network parameter counts per dataset only; use "
            "the 'params' field of load_nasbench_graph"
        )

    @_docs
    def structure_features(self, arch):
        """Counts used by samplers.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        features : dict
            ``n_nodes`` (6: input, 4 slots, output), ``n_edges`` (4 slot inputs plus one
            edge per slot feeding the output), ``n_outputs`` (slots feeding the output),
            ``depth`` (longest input-output path in slots) and ``n_<op>`` for each op.

        Examples
        --------
        >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
        >>> NASBenchGraphSpace().structure_features(([0, 1, 2, 3], ["gcn"] * 4))["depth"]
        4
        """
        arch = self.validate(arch)
        n_outputs = int(_leaf_mask([arch.link])[0].sum())
        depth = [0] * (N_SLOTS + 1)
        for slot, source in enumerate(arch.link):
            depth[slot + 1] = depth[source] + 1
        features = {
            "n_nodes": N_NODES,
            "n_edges": N_SLOTS + n_outputs,
            "n_outputs": n_outputs,
            "depth": max(depth),
        }
        for op in self.op_names:
            features[f"n_{op}"] = arch.ops.count(op)
        return features

    @_docs
    def patch_features(self, archs, dataset=None):
        """NAR patches: the op-code patch (n, 6, 6) and empty cost patches (n, 0, 6, 6).

        Parameters
        ----------
        %(archs)s
        %(dataset)s

        Examples
        --------
        >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
        >>> patches = NASBenchGraphSpace().patch_features([([0, 1, 2, 3], ["gcn"] * 4)])
        >>> patches.ops[0].tolist()[0]
        [0.0, 2.0, 0.0, 0.0, 0.0, 0.0]
        """
        canonical = self.validate_all(archs)
        n = len(canonical)
        codes = {op: self.op_code(op) for op in self.op_names}
        links = np.array([arch.link for arch in canonical], dtype=np.intp).reshape(n, N_SLOTS)
        op_codes = np.array(
            [[codes[op] for op in arch.ops] for arch in canonical], dtype=np.float64
        ).reshape(n, N_SLOTS)
        rows = np.arange(n)[:, None]
        slot_nodes = np.arange(1, N_SLOTS + 1)[None, :]
        ops = np.zeros((n, N_NODES, N_NODES))
        ops[rows, links, slot_nodes] = op_codes
        leaves = _leaf_mask(links)
        output = ops[:, 1 : N_SLOTS + 1, OUTPUT_NODE]
        output[leaves] = self.op_code("output")
        empty = np.zeros((n, 0, N_NODES, N_NODES))
        return PatchFeatures(ops=ops, flops=empty, params=empty.copy())

    # --- graphs ------------------------------------------------------------------------

    @_docs
    def to_networkx(self, arch):
        """Nodes 0 (input), 1-4 (slots), 5 (output), each with an ``op`` attribute.

        Parameters
        ----------
        %(arch)s

        Examples
        --------
        >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
        >>> graph = NASBenchGraphSpace().to_networkx(([0, 1, 2, 3], ["gcn"] * 4))
        >>> sorted(graph.predecessors(5))
        [4]
        """
        arch = self.validate(arch)
        graph = nx.DiGraph(space=self.name)
        graph.add_node(INPUT_NODE, op="input")
        for slot, op in enumerate(arch.ops):
            graph.add_node(slot + 1, op=op)
        graph.add_node(OUTPUT_NODE, op="output")
        for slot, (source, leaf) in enumerate(zip(arch.link, _leaf_mask([arch.link])[0])):
            graph.add_edge(source, slot + 1)
            if leaf:
                graph.add_edge(slot + 1, OUTPUT_NODE)
        return graph

    def from_networkx(self, graph):
        """Inverse of :meth:`to_networkx`; returns the canonical architecture.

        Parameters
        ----------
        graph : networkx.DiGraph
            A graph laid out as :meth:`to_networkx` returns it.

        Examples
        --------
        >>> from sknar.spaces.nasbench_graph import NASBenchGraphSpace
        >>> space = NASBenchGraphSpace()
        >>> arch = space.validate(([0, 0, 1, 2], ["gcn", "gat", "gin", "sage"]))
        >>> space.from_networkx(space.to_networkx(arch)) == arch
        True
        """
        link, ops = self._link_and_ops_from_graph(graph)
        return self.validate((link, ops))

    def _link_and_ops_from_graph(self, graph):
        space = graph.graph.get("space", self.name)
        if space != self.name:
            raise ValueError(f"the graph belongs to the {space!r} space, not {self.name!r}")
        if set(graph.nodes) != set(range(N_NODES)):
            raise ValueError(
                f"wrong shape: a NAS-Bench-Graph graph has nodes 0..{N_NODES - 1}, got "
                f"{sorted(graph.nodes, key=repr)}"
            )
        for node, op in ((INPUT_NODE, "input"), (OUTPUT_NODE, "output")):
            if graph.nodes[node].get("op") != op:
                raise ValueError(f"node {node} must have op {op!r}")
        link, ops = [], []
        for node in range(1, N_SLOTS + 1):
            sources = list(graph.predecessors(node))
            if len(sources) != 1:
                raise ValueError(
                    f"slot node {node} must have exactly one input edge, got {len(sources)}"
                )
            link.append(sources[0])
            ops.append(graph.nodes[node].get("op"))
        leaves = {
            slot + 1 for slot, leaf in enumerate(_leaf_mask([self._check_link(link)])[0]) if leaf
        }
        if set(graph.predecessors(OUTPUT_NODE)) != leaves:
            raise ValueError(
                f"the output node must be fed by exactly the slots no other slot reads "
                f"({sorted(leaves)}), got {sorted(graph.predecessors(OUTPUT_NODE))}"
            )
        return link, ops


def _change_one_slot(space, arch, rng):
    link, ops = list(arch.link), list(arch.ops)
    slot = rng.randint(len(ops))
    if rng.rand() < 0.5 and slot > 0:
        link[slot] = rng.choice([source for source in range(slot + 1) if source != link[slot]])
    else:
        ops[slot] = rng.choice([op for op in space.op_names if op != ops[slot]])
    return link, ops
