"""The search-space protocol shared by every space in :mod:`sknar.spaces`.

A search space says what an architecture is: which values are valid, which are the same
network (canonical form and hash), how to draw or list them, and what each node of each cell
costs in the macro network. Spaces know nothing of torch; encoders turn what they return into
model inputs.
"""

import functools
import inspect
from abc import ABC, abstractmethod
from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ..utils._docstrings import (
    Substitution,
    _arch_docstring,
    _archs_docstring,
    _dataset_docstring,
    _random_state_docstring,
    _verbose_docstring,
)

_docs = Substitution(
    arch=_arch_docstring,
    archs=_archs_docstring,
    dataset=_dataset_docstring,
    random_state=_random_state_docstring,
    verbose=_verbose_docstring,
)

# Every space's drawing, listing and changing methods check these arguments, with
# scikit-learn's constraints, before their own code runs (see SearchSpace.__init_subclass__).
_ARGUMENT_CONSTRAINTS = {
    "sample": {
        "n": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    "mutate": {"random_state": ["random_state"]},
    "enumerate": {"verbose": ["verbose"]},
}


class PatchFeatures(NamedTuple):
    """Raw (unscaled) ReNAS/NAR patches of a batch of architectures.

    Attributes
    ----------
    ops : ndarray of shape (n_archs, max_nodes, max_nodes)
        The op-code patch: the cell's adjacency with each entry replaced by the code of the op
        it leads to (node-op spaces) or carries (edge-op spaces).
    flops : ndarray of shape (n_archs, n_cells, max_nodes, max_nodes)
        Per-cell FLOPs patches: the FLOPs of a node (or edge) in the cell at the entries of the
        adjacency that the op-code patch uses for it.
    params : ndarray of shape (n_archs, n_cells, max_nodes, max_nodes)
        Per-cell parameter-count patches, laid out like ``flops``.

    Examples
    --------
    >>> from sknar.spaces import NASBench201Space
    >>> patches = NASBench201Space().patch_features(["|nor_conv_3x3~0|+|none~0|skip_connect~1|"
    ...                                              "+|none~0|none~1|avg_pool_3x3~2|"])
    >>> patches.ops.shape, patches.flops.shape
    ((1, 4, 4), (1, 15, 4, 4))
    """

    ops: np.ndarray
    flops: np.ndarray
    params: np.ndarray


class SearchSpace(ABC):
    """Base class of the cell-based search spaces.

    A subclass sets the class attributes below and implements the three abstract methods,
    :meth:`validate`, :meth:`hash` and :meth:`sample`; that is enough for random search and
    the graph-free parts of the library. Two more methods open the rest: :meth:`to_networkx`
    (with :meth:`from_networkx`) and :meth:`cost_features`. Everything else has a default
    built on them: :meth:`mutate` changes one op of the graph, :meth:`structure_features`
    counts its nodes, edges and ops, :meth:`patch_features` lays graph and costs out as NAR
    patches with the codes of :meth:`op_code`, :meth:`total_cost` sums the per-cell costs and
    :meth:`total_costs` loops over it; :attr:`size` is None (unknown) and the representation
    shows the constructor's arguments that are not defaults. A method whose space lacks what
    it needs raises :class:`NotImplementedError` naming the space and the features that need
    it (:meth:`enumerate` for listing the space, the graphs for the graph encoders and
    :meth:`mutate`, the costs for :class:`~sknar.sampler.TierSampler`'s cost features).

    The arguments shared by every space, ``n`` and ``random_state`` of :meth:`sample`,
    ``random_state`` of :meth:`mutate` and ``verbose`` of :meth:`enumerate`, are checked
    before a space's own code runs: a bad value raises scikit-learn's
    ``InvalidParameterError`` naming the parameter, and ``sample`` refuses to draw more
    architectures than a space of known :attr:`size` holds.

    Attributes
    ----------
    name : str
        Short name of the space, e.g. ``"nasbench201"``.
    op_names : tuple of str
        The ops a node (or edge) can take, in the order of their integer codes used by the
        encoders (code ``i + 1`` for ``op_names[i]`` unless the space documents otherwise).
    max_nodes : int
        Side of the square patches (the largest number of nodes of a cell).
    n_cells : int
        Number of cells of the macro network that have cost features (0 if none).
    cost_datasets : tuple of str or None
        The datasets whose macro network the cost methods accept (``dataset=`` argument), or
        None when the cost does not depend on a dataset.
    size : int or None
        Number of distinct architectures of the space, or None when it is not known cheaply.
        Samplers and searches enumerate a space whose size is small enough.

    Examples
    --------
    >>> from sknar.spaces import NASBench201Space, SearchSpace
    >>> space = NASBench201Space()
    >>> isinstance(space, SearchSpace), space.max_nodes, space.n_cells, space.size
    (True, 4, 15, 15625)
    """

    name = None
    op_names = ()
    max_nodes = None
    n_cells = 0
    cost_datasets = None
    size = None

    def __init_subclass__(cls, **kwargs):
        # A space's protocol methods read as the protocol's unless they say more, and check
        # their common arguments as the protocol's do.
        super().__init_subclass__(**kwargs)
        for name, value in vars(cls).items():
            protocol = getattr(SearchSpace, name, None)
            if callable(value) and not name.startswith("_") and protocol is not None:
                if not value.__doc__ and protocol.__doc__:
                    value.__doc__ = protocol.__doc__
        for name in _ARGUMENT_CONSTRAINTS:
            if name in vars(cls):
                setattr(cls, name, _checking_arguments(name, vars(cls)[name]))

    @property
    def n_ops(self):
        """Number of distinct ops."""
        return len(self.op_names)

    def _not_implemented(self, method, needed_by):
        """The error of a protocol method this space does not provide."""
        return NotImplementedError(
            f"{type(self).__name__} (space {self.name!r}) does not implement {method}(), "
            f"which {needed_by} needs; define it on the space to use that."
        )

    # --- what an architecture is -------------------------------------------------------

    @abstractmethod
    @_docs
    def validate(self, arch):
        """Return the canonical form of ``arch`` or raise a ValueError saying what is wrong.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        canonical : architecture
            The space's immutable canonical form.
        """

    @abstractmethod
    @_docs
    def hash(self, arch):
        """Return a string that is equal for two architectures iff they are the same network.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        key : str
        """

    @_docs
    def validate_all(self, archs):
        """Validate a sequence, naming the index of the first bad architecture in the error.

        Parameters
        ----------
        %(archs)s

        Returns
        -------
        canonical : list
            The canonical form of each architecture, in order.
        """
        canonical = []
        for index, arch in enumerate(archs):
            try:
                canonical.append(self.validate(arch))
            except ValueError as exc:
                raise ValueError(f"architecture at index {index} is invalid: {exc}") from exc
        return canonical

    @_docs
    def representatives(self, archs):
        """The architecture that stands for each one's network in encodings.

        Cells that compute the same network (the space's isomorphism classes) share one
        representative, which the encoders of :mod:`sknar.encoding` encode in their place
        (``merge_isomorphic=True``). This default returns the canonical forms
        (:meth:`validate_all`), which suits spaces whose canonical form is already one per
        network; spaces where several canonical forms compute one network override it.

        Parameters
        ----------
        %(archs)s

        Returns
        -------
        representatives : list
            Canonical forms, one per input, in input order.

        Examples
        --------
        >>> from sknar.spaces import NASBench201Space
        >>> node_1_feeds_nothing = "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
        >>> NASBench201Space().representatives([node_1_feeds_nothing])[0]
        '|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|'
        """
        return self.validate_all(archs)

    # --- drawing, listing and changing ---------------------------------------------------

    @abstractmethod
    @_docs
    def sample(self, n, random_state=None):
        """Return ``n`` distinct valid architectures drawn uniformly from the space.

        Parameters
        ----------
        n : int
            Number of architectures, at most :attr:`size` when the size is known.
        %(random_state)s

        Returns
        -------
        archs : list
            Canonical forms.
        """

    @validate_params(_ARGUMENT_CONSTRAINTS["enumerate"], prefer_skip_nested_validation=True)
    @_docs
    def enumerate(self, verbose=False):
        """Iterate over every distinct architecture of the space (canonical forms).

        Parameters
        ----------
        %(verbose)s

        Yields
        ------
        arch : architecture
            Each canonical form once.
        """
        raise self._not_implemented("enumerate", "listing the whole space")

    @validate_params(_ARGUMENT_CONSTRAINTS["mutate"], prefer_skip_nested_validation=True)
    @_docs
    def mutate(self, arch, random_state=None):
        """A valid architecture one change away from ``arch``, a different network.

        The default changes the op of one edge (edge-op spaces) or of one node (node-op
        spaces) of :meth:`to_networkx`'s graph and reads it back with :meth:`from_networkx`;
        spaces with a natural neighbourhood (edge flips, rewiring) override it. Invalid
        mutants are redrawn (see :meth:`_first_valid_mutant`).

        Parameters
        ----------
        %(arch)s
        %(random_state)s

        Returns
        -------
        child : architecture
            Canonical form whose :meth:`hash` differs from that of ``arch``.

        Raises
        ------
        ValueError
            If no valid mutant differing from ``arch`` is found in 100 tries.

        Examples
        --------
        >>> from sknar.spaces import NASBench201Space
        >>> child = NASBench201Space().mutate(["nor_conv_3x3"] * 6, random_state=0)
        >>> child.count("nor_conv_3x3")
        5
        """
        return self._first_valid_mutant(arch, _change_one_op, random_state)

    def _first_valid_mutant(self, arch, propose, random_state, max_tries=100):
        """Redraw ``propose(space, parent, rng)`` until it validates to another network."""
        rng = check_random_state(random_state)
        parent = self.validate(arch)
        parent_key = self.hash(parent)
        for _ in range(max_tries):
            try:
                child = self.validate(propose(self, parent, rng))
            except ValueError:
                continue
            if self.hash(child) != parent_key:
                return child
        raise ValueError(
            f"no valid mutant of {parent!r} differing from it was found in {max_tries} tries "
            f"in space {self.name!r}."
        )

    # --- the architecture as named parameters ---------------------------------------------

    def parameter_choices(self):
        """The architecture's parameters, each with its choices, as plain data.

        A space that implements this, :meth:`from_parameters` and :meth:`to_parameters` can
        be declared on a hyperparameter tool's trial one categorical parameter at a time (see
        :func:`sknar.integration.optuna.suggest_architecture`): an architecture is a choice
        for each parameter. Some combinations of choices may make no valid architecture
        (:meth:`from_parameters` says so); several may make the same one.

        Returns
        -------
        choices : dict
            Ordered mapping ``{name: tuple of choices}``; names are str, choices are str,
            int, float, bool or None, the same on every call.

        Examples
        --------
        >>> from sknar.spaces import NASBench201Space
        >>> choices = NASBench201Space().parameter_choices()
        >>> list(choices)[:2], choices["edge_1_0"][:2]
        (['edge_1_0', 'edge_2_0'], ('none', 'skip_connect'))
        """
        raise self._not_implemented(
            "parameter_choices", "declaring architectures as named parameters (Optuna)"
        )

    def from_parameters(self, values):
        """The canonical architecture that a choice for every parameter makes.

        Parameters
        ----------
        values : mapping
            ``{name: value}`` with a value of :meth:`parameter_choices` for every name
            (other keys are ignored, so a trial's whole parameter mapping can be passed).

        Returns
        -------
        arch : architecture
            The canonical form.

        Raises
        ------
        ValueError
            Naming a missing parameter or a value outside its choices, or saying why the
            choices make no valid architecture (e.g. a NAS-Bench-101 cell with more than 9
            edges).

        Examples
        --------
        >>> from sknar.spaces import NASBench201Space
        >>> space = NASBench201Space()
        >>> values = dict.fromkeys(space.parameter_choices(), "skip_connect")
        >>> space.from_parameters(values) == space.validate(["skip_connect"] * 6)
        True
        """
        raise self._not_implemented(
            "from_parameters", "declaring architectures as named parameters (Optuna)"
        )

    def to_parameters(self, arch):
        """A choice for every parameter that makes ``arch``: the inverse of
        :meth:`from_parameters`.

        ``from_parameters(to_parameters(arch))`` is ``validate(arch)``.

        Parameters
        ----------
        arch : architecture
            Any form :meth:`validate` accepts.

        Returns
        -------
        values : dict
            ``{name: value}`` in the order of :meth:`parameter_choices`.

        Examples
        --------
        >>> from sknar.spaces import NASBench201Space
        >>> NASBench201Space().to_parameters(["none"] * 6)["edge_3_2"]
        'none'
        """
        raise self._not_implemented(
            "to_parameters", "proposing architectures as named parameters (Optuna)"
        )

    def _checked_parameters(self, values):
        """``[values[name] for name in parameter_choices()]``, each checked, or a ValueError."""
        try:
            items = dict(values)
        except (TypeError, ValueError):
            raise ValueError(
                f"parameter values must be a mapping {{name: value}}, got {type(values).__name__}"
            ) from None
        checked = []
        for name, choices in self.parameter_choices().items():
            if name not in items:
                raise ValueError(
                    f"parameter {name!r} of space {self.name!r} is missing; every one of "
                    f"{list(self.parameter_choices())} needs a value."
                )
            value = items[name]
            if not any(value == choice and type(value) is type(choice) for choice in choices):
                if not any(_same_number(value, choice) for choice in choices):
                    raise ValueError(
                        f"parameter {name!r} of space {self.name!r} is {value!r}, not one of "
                        f"its choices {list(choices)}."
                    )
            checked.append(value)
        return checked

    # --- costs -------------------------------------------------------------------------

    @_docs
    def cost_features(self, arch, dataset=None):
        """Per-cell, per-node (or per-edge) FLOPs and parameter counts.

        Parameters
        ----------
        %(arch)s
        %(dataset)s

        Returns
        -------
        costs : dict
            ``{"flops": ndarray (n_cells, n_slots), "params": ndarray (n_cells, n_slots)}`` with
            integer counts, slots being the nodes (node-op spaces) or the edges (edge-op
            spaces) of :meth:`to_networkx`'s graph: nodes in sorted order, edges by target
            node, then source node (the order of a NAS-Bench-201 arch string).
        """
        raise self._not_implemented(
            "cost_features", "per-cell costs, the default total_cost and patch_features"
        )

    @_docs
    def total_cost(self, arch, dataset=None):
        """Whole-network cost.

        The default sums :meth:`cost_features`, a network made of its cells alone; spaces
        whose network has more (a stem, reductions, a classifier) override it.

        Parameters
        ----------
        %(arch)s
        %(dataset)s

        Returns
        -------
        cost : dict
            ``{"flops": int, "params": int}``.

        Examples
        --------
        >>> from sknar.utils.testing import ChainSpace
        >>> ChainSpace().total_cost(("a", "b", "c", "a", "b", "c"))
        {'flops': 222, 'params': 20}
        """
        costs = self.cost_features(arch, dataset)
        return {"flops": int(np.sum(costs["flops"])), "params": int(np.sum(costs["params"]))}

    @_docs
    def total_costs(self, archs, dataset=None):
        """Whole-network costs of a batch: :meth:`total_cost` of each, as two arrays.

        Spaces with a vectorised cost model override this to cost a whole space at once.

        Parameters
        ----------
        %(archs)s
        %(dataset)s

        Returns
        -------
        flops, params : ndarray of shape (n_archs,)
            int64 counts, in input order.

        Examples
        --------
        >>> from sknar.spaces import NASBench201Space
        >>> flops, params = NASBench201Space().total_costs([["none"] * 6])
        >>> params.tolist()
        [73306]
        """
        totals = [self.total_cost(arch, dataset) for arch in archs]
        flops = np.array([total["flops"] for total in totals], dtype=np.int64)
        params = np.array([total["params"] for total in totals], dtype=np.int64)
        return flops, params

    @_docs
    def structure_features(self, arch):
        """Structure summary used by samplers.

        The default counts the nodes, the edges and the ops (on nodes and edges) of
        :meth:`to_networkx`'s graph.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        features : dict
            ``{"n_nodes": int, "n_edges": int, "n_<op>": int for each op}``.

        Examples
        --------
        >>> from sknar.utils.testing import ChainSpace
        >>> ChainSpace(n_slots=3).structure_features(("a", "c", "c"))
        {'n_nodes': 3, 'n_edges': 2, 'n_a': 1, 'n_b': 0, 'n_c': 2}
        """
        graph = self.to_networkx(arch)
        ops = [op for _, op in graph.nodes(data="op")] + [op for *_, op in graph.edges(data="op")]
        features = {"n_nodes": graph.number_of_nodes(), "n_edges": graph.number_of_edges()}
        for op in self.op_names:
            features[f"n_{op}"] = ops.count(op)
        return features

    # --- patches -----------------------------------------------------------------------

    def op_code(self, op_name):
        """Integer code of an op in the op-code patch.

        The default numbers ``op_names[i]`` ``i + 1``, ``"input"`` ``n_ops + 1`` and
        ``"output"`` ``n_ops + 2``, leaving 0 to "no edge".

        Parameters
        ----------
        op_name : str
            One of ``op_names``, ``"input"`` or ``"output"``.

        Returns
        -------
        code : int

        Examples
        --------
        >>> from sknar.spaces import NASBenchGraphSpace
        >>> space = NASBenchGraphSpace()
        >>> space.op_code("gat"), space.op_code("output")
        (1, 11)
        """
        codes = {op: code for code, op in enumerate(self.op_names, start=1)}
        codes.setdefault("input", self.n_ops + 1)
        codes.setdefault("output", self.n_ops + 2)
        try:
            return codes[op_name]
        except (KeyError, TypeError):
            raise ValueError(f"unknown op {op_name!r}; expected one of {list(codes)}") from None

    @_docs
    def patch_features(self, archs, dataset=None):
        """Raw NAR patches of a batch of architectures.

        The default reads each architecture's :meth:`to_networkx` graph: its nodes, in
        sorted order, are the rows and columns of the patches (zero-padded up to
        ``max_nodes``). In a node-op space, the entry of an edge ``i -> j`` holds the
        :meth:`op_code` of node ``j`` and, in the cost patches of cell ``c``, the costs of
        node ``j`` (:meth:`cost_features`); in an edge-op space (edges with an ``op``), it
        holds the code and the costs of the edge itself. Spaces with many architectures
        override it with a vectorised version.

        Parameters
        ----------
        %(archs)s
        %(dataset)s

        Returns
        -------
        patches : PatchFeatures
            float64 arrays: ``ops`` of shape (n_archs, max_nodes, max_nodes), ``flops`` and
            ``params`` of shape (n_archs, n_cells, max_nodes, max_nodes).
        """
        archs = self.validate_all(archs)
        if self.max_nodes is None:
            raise self._not_implemented("patch_features", "NARFeatureEncoder (or max_nodes)")
        shape = (len(archs), self.n_cells, self.max_nodes, self.max_nodes)
        ops, flops, params = np.zeros(shape[:1] + shape[2:]), np.zeros(shape), np.zeros(shape)
        for index, arch in enumerate(archs):
            graph = self.to_networkx(arch)
            if graph.number_of_nodes() > self.max_nodes:
                raise ValueError(
                    f"architecture at index {index} has {graph.number_of_nodes()} nodes, more "
                    f"than max_nodes={self.max_nodes} of {self!r}."
                )
            position = {node: row for row, node in enumerate(sorted(graph.nodes))}
            edges = sorted(graph.edges(data="op"), key=lambda e: (position[e[1]], position[e[0]]))
            on_edges = any(op is not None for *_, op in edges)
            costs = self.cost_features(arch, dataset) if self.n_cells else None
            for slot, (source, target, edge_op) in enumerate(edges):
                i, j = position[source], position[target]
                ops[index, i, j] = self.op_code(edge_op if on_edges else graph.nodes[target]["op"])
                if costs is not None:
                    column = slot if on_edges else j
                    flops[index, :, i, j] = costs["flops"][:, column]
                    params[index, :, i, j] = costs["params"][:, column]
        return PatchFeatures(ops=ops, flops=flops, params=params)

    # --- graphs ------------------------------------------------------------------------

    @_docs
    def to_networkx(self, arch):
        """Return the cell as a :class:`networkx.DiGraph` with an ``op`` attribute.

        Parameters
        ----------
        %(arch)s

        Returns
        -------
        graph : networkx.DiGraph
        """
        raise self._not_implemented(
            "to_networkx",
            "the graph encoders, mutate and the default structure_features and patch_features",
        )

    def from_networkx(self, graph):
        """Inverse of :meth:`to_networkx`.

        Parameters
        ----------
        graph : networkx.DiGraph
            A graph as :meth:`to_networkx` makes it.

        Returns
        -------
        arch : architecture
            The canonical form.
        """
        raise self._not_implemented("from_networkx", "mutate")

    # --- shared helpers ----------------------------------------------------------------

    def _sample_listed(self, archs, n, random_state):
        """``n`` distinct architectures drawn uniformly from the sequence ``archs``."""
        rng = check_random_state(random_state)
        return [archs[index] for index in rng.choice(len(archs), size=n, replace=False)]

    def _listed(self, archs, verbose, total=None):
        """``archs``, behind a progress bar named after the space when ``verbose``."""
        if not verbose:
            return archs
        from tqdm.auto import tqdm

        return tqdm(archs, total=total, desc=f"{self.name} architectures", unit="arch")

    def _sample_by_rejection(self, n, draw_one, random_state, max_tries_per_arch=1000):
        """Draw distinct valid architectures with ``draw_one(rng)`` until ``n`` are found.

        ``draw_one`` returns a candidate or None (invalid); duplicates are rejected by hash.
        """
        rng = check_random_state(random_state)
        found, seen = [], set()
        tries = 0
        while len(found) < n:
            tries += 1
            if tries > max_tries_per_arch * max(n, 1):
                raise ValueError(
                    f"could only draw {len(found)} distinct architectures of {self.name} "
                    f"out of the {n} asked for; the space may be smaller than that"
                )
            arch = draw_one(rng)
            if arch is None:
                continue
            key = self.hash(arch)
            if key in seen:
                continue
            seen.add(key)
            found.append(arch)
        return found

    def _memoized(self, function, maxsize):
        """``function`` remembering its last ``maxsize`` results, for this space object only.

        The memo is not part of the space: equality, hashing, copies and pickles leave it
        out (a copy starts with an empty one), and it goes when the space object goes.
        """
        memos = self.__dict__.setdefault("_memos", {})
        memo = memos.get(function)
        if memo is None:
            memo = memos[function] = functools.lru_cache(maxsize=maxsize)(function)
        return memo

    def _state(self):
        """The attributes that make the space what it is: all but its memos."""
        return {name: value for name, value in vars(self).items() if name != "_memos"}

    def __getstate__(self):
        return self._state()

    def __repr__(self):
        # As scikit-learn prints estimators: the constructor arguments that are not defaults.
        changed = []
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            variadic = parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
            if name == "self" or variadic:
                continue
            value = getattr(self, name, parameter.default)
            if parameter.default is parameter.empty or not _equal(value, parameter.default):
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __eq__(self, other):
        return type(self) is type(other) and self._state() == other._state()

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self._state().items()))))


def _same_number(value, choice):
    """Whether ``value`` is the integer ``choice`` (e.g. numpy's int64 for an int 0/1 bit)."""
    return (
        isinstance(choice, Integral)
        and not isinstance(choice, bool)
        and isinstance(value, Integral)
        and not isinstance(value, bool)
        and value == choice
    )


def _equal(value, default):
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # arrays and other values without a plain equality
        return value is default


def _checking_arguments(name, method):
    """``method`` checking the arguments named in ``_ARGUMENT_CONSTRAINTS[name]`` first.

    Bad values raise scikit-learn's ``InvalidParameterError`` (a ValueError and a TypeError)
    naming the parameter and the method; ``sample`` also refuses to draw more distinct
    architectures than a space of known size holds.
    """
    if name == "sample":
        method = _within_size(method)
    return validate_params(_ARGUMENT_CONSTRAINTS[name], prefer_skip_nested_validation=True)(method)


def _within_size(sample):
    @functools.wraps(sample)
    def sample_within_size(self, n, *args, **kwargs):
        size = self.size
        if size is not None and n > size:
            raise ValueError(
                f"cannot draw {n} distinct architectures from {self!r}, which has {size}; "
                f"n must be at most {size}."
            )
        return sample(self, n, *args, **kwargs)

    return sample_within_size


def _change_one_op(space, arch, rng):
    """Any space: change the op of one edge (edge-op spaces) or one node (node-op spaces)."""
    graph = space.to_networkx(arch).copy()
    edges = [edge for edge in graph.edges if "op" in graph.edges[edge]]
    if edges:
        attrs = graph.edges[edges[rng.randint(len(edges))]]
    else:
        nodes = [node for node in graph.nodes if graph.nodes[node].get("op") in space.op_names]
        if not nodes:
            raise ValueError(f"no mutable op in architecture {arch!r} of {space.name}.")
        attrs = graph.nodes[nodes[rng.randint(len(nodes))]]
    attrs["op"] = rng.choice([op for op in space.op_names if op != attrs["op"]])
    return space.from_networkx(graph)
