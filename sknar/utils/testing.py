"""Helpers for the tests of sknar and of projects that build on it.

Nothing here is imported by the library itself; pytest is imported only when a helper that
needs it runs.
"""

import itertools
import os
from pathlib import Path

import networkx as nx
import numpy as np

from ..spaces import SearchSpace

__all__ = ["ChainSpace", "data_root", "require_data"]

_REPO_ROOT = Path(__file__).resolve().parents[2]


def data_root():
    """Folder of the benchmark data: ``SKNAR_DATA`` if set, else ``../shared/data`` beside
    the repository.

    Returns
    -------
    path : pathlib.Path
        The folder (it may not exist).

    Examples
    --------
    >>> from sknar.utils.testing import data_root
    >>> data_root().name
    'data'
    """
    env = os.environ.get("SKNAR_DATA")
    return Path(env) if env else _REPO_ROOT.parent / "shared" / "data"


def require_data(relative_path):
    """Return the path of a benchmark file, skipping the calling test when it is absent.

    On CI (the ``CI`` environment variable set) an absent file fails the test instead: the
    data must be there and the tests that need it must run.

    Parameters
    ----------
    relative_path : str
        Path of the file under :func:`data_root`, e.g.
        ``"nasbench201/nats_tss_test_acc_200ep.csv"``.

    Returns
    -------
    path : pathlib.Path
        The file's path.

    Examples
    --------
    >>> from sknar.utils.testing import require_data
    >>> def test_loads_the_nasbench201_table():
    ...     path = require_data("nasbench201/nats_tss_test_acc_200ep.csv")
    ...     assert path.stat().st_size > 0
    """
    import pytest

    path = data_root() / relative_path
    if not path.is_file():
        message = (
            f"benchmark file {relative_path} not found under {data_root()} "
            "(set SKNAR_DATA to the folder that holds it)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


class ChainSpace(SearchSpace):
    """A toy space for tests: a chain of op slots, each one of a few ops.

    The canonical form is the tuple of ops. Each op has a fixed cost, summed over the slots
    (one cost cell), so the space exercises every part of the protocol that samplers and
    searches use while staying small enough to enumerate. It writes the three abstract
    methods, the enumeration, the graphs and the costs; the protocol's defaults give the
    rest (structure features, total costs, mutation, representation).

    Parameters
    ----------
    n_slots : int, default=6
        Length of the chain.
    ops : tuple of str, default=("a", "b", "c")
        The ops of a slot.
    known_size : bool, default=False
        Whether :attr:`size` reports the number of architectures (``len(ops) ** n_slots``);
        False makes the space look large to samplers, which then draw by rejection.

    Examples
    --------
    >>> from sknar.utils.testing import ChainSpace
    >>> space = ChainSpace(known_size=True)
    >>> space.size, space.total_cost(("a", "b", "c", "a", "b", "c"))
    (729, {'flops': 222, 'params': 20})
    """

    name = "chain"
    n_cells = 1
    flops_of = {"a": 1, "b": 10, "c": 100}
    params_of = {"a": 0, "b": 3, "c": 7}

    def __init__(self, n_slots=6, ops=("a", "b", "c"), *, known_size=False):
        self.n_slots = n_slots
        self.ops = tuple(ops)
        self.known_size = known_size

    @property
    def op_names(self):
        return self.ops

    @property
    def max_nodes(self):
        return self.n_slots

    @property
    def size(self):
        return len(self.ops) ** self.n_slots if self.known_size else None

    def validate(self, arch):
        if isinstance(arch, nx.DiGraph):
            return self.from_networkx(arch)
        if isinstance(arch, str):
            raise ValueError(f"a chain architecture is a sequence of ops, got the string {arch!r}")
        ops = tuple(str(op) for op in arch)
        if len(ops) != self.n_slots:
            raise ValueError(f"wrong shape: {len(ops)} ops, expected {self.n_slots}")
        unknown = [op for op in ops if op not in self.ops]
        if unknown:
            raise ValueError(f"unknown op {unknown[0]!r}")
        return ops

    def hash(self, arch):
        return "-".join(self.validate(arch))

    def sample(self, n, random_state=None):
        def draw_one(rng):
            return tuple(rng.choice(self.ops, size=self.n_slots).tolist())

        return self._sample_by_rejection(n, draw_one, random_state)

    def enumerate(self, verbose=False):
        yield from itertools.product(self.ops, repeat=self.n_slots)

    def cost_features(self, arch, dataset=None):
        ops = self.validate(arch)
        flops = [self.flops_of.get(op, 1) for op in ops]
        params = [self.params_of.get(op, 0) for op in ops]
        return {"flops": np.array([flops], np.int64), "params": np.array([params], np.int64)}

    def to_networkx(self, arch):
        graph = nx.DiGraph(space=self.name)
        for node, op in enumerate(self.validate(arch)):
            graph.add_node(node, op=op)
            if node:
                graph.add_edge(node - 1, node)
        return graph

    def from_networkx(self, graph):
        return self.validate(graph.nodes[node]["op"] for node in sorted(graph.nodes))
