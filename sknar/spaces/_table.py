"""A search space restricted to the architectures of a table."""

import copy
import functools

import numpy as np

from ..utils._docstrings import (
    Substitution,
    _arch_docstring,
    _random_state_docstring,
    _verbose_docstring,
)
from ._base import SearchSpace

__all__ = ["TableSpace"]

_docs = Substitution(
    arch=_arch_docstring, random_state=_random_state_docstring, verbose=_verbose_docstring
)


def _delegated(name):
    """A method of TableSpace that calls the wrapped space's, documented as the protocol's."""

    @functools.wraps(getattr(SearchSpace, name))
    def method(self, *args, **kwargs):
        return getattr(self.space, name)(*args, **kwargs)

    # wraps copies the protocol's abstract flag along with its docstring.
    method.__isabstractmethod__ = False
    return method


def _code(values, choices):
    """One architecture's parameters as the integer codes of their choices."""
    return np.array([choices[name][values[name]] for name in choices], dtype=np.int16)


class TableSpace(SearchSpace):
    """The architectures of a table, as a search space of their own.

    Everything but drawing, listing and mutating is the wrapped space's: validation, hashing,
    representatives, costs, patches and graphs. :meth:`sample`, :meth:`enumerate` and
    :meth:`mutate` only return architectures of the table, so that a table oracle (e.g. a
    benchmark that covers a slice of its space, like the 20,001 NAS-Bench-101 cells of the
    shared slice) can answer every query of a search.

    Parameters
    ----------
    space : SearchSpace
        The space the architectures belong to.
    archs : sequence of architectures
        The table's architectures, in any form ``space`` accepts; validated, one per network.

    Attributes
    ----------
    archs : list
        The canonical architectures, in table order.
    size : int
        Number of architectures of the table.

    Examples
    --------
    >>> from sknar.spaces import NASBench201Space, TableSpace
    >>> space = NASBench201Space()
    >>> table = TableSpace(space, space.sample(100, random_state=0))
    >>> table.size, len(table.sample(10, random_state=0))
    (100, 10)
    >>> table.hash(table.mutate(table.archs[0], random_state=0)) in table.hashes
    True
    """

    def __init__(self, space, archs):
        self.space = space
        self.archs = space.validate_all(archs)
        self.hashes = {}
        for index, arch in enumerate(self.archs):
            key = space.hash(arch)
            if key in self.hashes:
                raise ValueError(
                    f"architecture at index {index} repeats the one at index "
                    f"{self.hashes[key]} (same network); a table holds each once."
                )
            self.hashes[key] = index
        self.name = space.name
        self.op_names = space.op_names
        self.max_nodes = space.max_nodes
        self.n_cells = space.n_cells
        self.cost_datasets = space.cost_datasets

    validate = _delegated("validate")
    hash = _delegated("hash")
    representatives = _delegated("representatives")
    cost_features = _delegated("cost_features")
    total_cost = _delegated("total_cost")
    total_costs = _delegated("total_costs")
    structure_features = _delegated("structure_features")
    op_code = _delegated("op_code")
    patch_features = _delegated("patch_features")
    to_networkx = _delegated("to_networkx")
    parameter_choices = _delegated("parameter_choices")
    to_parameters = _delegated("to_parameters")
    from_networkx = _delegated("from_networkx")

    def from_parameters(self, values):
        """The wrapped space's architecture of ``values``, if the table holds it.

        Parameters
        ----------
        values : mapping
            ``{name: value}`` for every name of :meth:`parameter_choices`.

        Returns
        -------
        arch : architecture
            The canonical architecture, one of the table's.

        Raises
        ------
        ValueError
            As the wrapped space's :meth:`~SearchSpace.from_parameters`, or when the
            architecture is not in the table (so a tool choosing parameters learns that this
            choice has no value).

        Examples
        --------
        >>> from sknar.spaces import NASBench201Space, TableSpace
        >>> space = NASBench201Space()
        >>> table = TableSpace(space, space.sample(10, random_state=0))
        >>> table.from_parameters(table.to_parameters(table.archs[3])) == table.archs[3]
        True
        """
        arch = self.space.from_parameters(values)
        if self.space.hash(arch) not in self.hashes:
            raise ValueError(f"architecture {arch!r} is not in the table ({self!r}).")
        return arch

    @property
    def size(self):
        """Number of architectures of the table."""
        return len(self.archs)

    def __repr__(self):
        return f"TableSpace({self.space!r}, <{len(self.archs)} architectures>)"

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def sample(self, n, random_state=None):
        return self._sample_listed(self.archs, n, random_state)

    @_docs
    def enumerate(self, verbose=False):
        """Iterate over the table's architectures, in table order.

        Parameters
        ----------
        %(verbose)s

        Yields
        ------
        arch : architecture
        """
        yield from self._listed(self.archs, verbose)

    @_docs
    def mutate(self, arch, random_state=None, *, max_tries=20):
        """A mutant of ``arch`` that is in the table.

        The wrapped space's :meth:`~SearchSpace.mutate` is redrawn until a mutant lands in
        the table. After ``max_tries`` misses (on a slice of 4.7%% of NAS-Bench-101 most
        mutants miss: a search asked about 450 mutations per mutant), the child is drawn
        among the table's architectures nearest to ``arch`` by :meth:`to_parameters`
        (fewest differing choices, at least one), which costs a millisecond; a table of a
        space without parameters gives a random architecture of the table instead.

        Parameters
        ----------
        %(arch)s
        %(random_state)s
        max_tries : int, default=20
            Mutations of the wrapped space tried before drawing a nearest neighbour.

        Returns
        -------
        child : architecture
            A canonical architecture of the table, another network than ``arch``.
        """

        def propose(_, parent, rng):
            for _ in range(max_tries):
                child = self.space.mutate(parent, rng)
                if self.space.hash(child) in self.hashes:
                    return child
            return self._nearest(parent, rng)

        return self._first_valid_mutant(arch, propose, random_state)

    def _nearest(self, parent, rng):
        """A random one of the table's architectures nearest to ``parent`` by parameters."""
        try:
            codes, choices = self._parameter_codes()
            parent_code = _code(self.space.to_parameters(parent), choices)
        except NotImplementedError:
            return self.archs[rng.randint(len(self.archs))]
        distances = (codes != parent_code).sum(axis=1)
        distances[distances == 0] = codes.shape[1] + 1  # never the parent itself
        nearest = np.flatnonzero(distances == distances.min())
        return self.archs[nearest[rng.randint(len(nearest))]]

    def _parameter_codes(self):
        """The table's parameter choices as an integer matrix (built once) and the code
        of each choice."""
        if getattr(self, "_codes", None) is None:
            choices = {
                name: {value: code for code, value in enumerate(values)}
                for name, values in self.space.parameter_choices().items()
            }
            codes = np.array([_code(self.space.to_parameters(a), choices) for a in self.archs])
            self._codes = (codes, choices)
        return self._codes

    def _state(self):
        state = super()._state()
        state.pop("_codes", None)  # rebuilt on demand, neither compared nor shipped
        return state

    def __deepcopy__(self, memo):
        # A table is never changed once built: a copy (sklearn's clone of a sampler or an
        # encoder holding it) shares its architectures instead of copying thousands.
        return copy.copy(self)
