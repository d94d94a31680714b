"""The network of an architecture of any space that has a network builder."""

import torch

from ..spaces import NASBench101Space, NASBench201Space, TableSpace
from ._nasbench101 import NASBench101Network
from ._nasbench201 import NASBench201Network

__all__ = ["build_network", "count_parameters"]

_BUILDERS = (
    (NASBench201Space, NASBench201Network),
    (NASBench101Space, NASBench101Network),
)


def build_network(space, arch, **params):
    """Build the network of ``arch``, a cell of ``space``.

    Parameters
    ----------
    space : SearchSpace
        :class:`~sknar.spaces.NASBench201Space` or :class:`~sknar.spaces.NASBench101Space`,
        or a :class:`~sknar.spaces.TableSpace` of one of them.
    arch : architecture
        A cell in any form the space accepts.
    **params
        Keyword arguments of the network class (``C``, ``N``, ``in_channels``,
        ``n_classes``, ...).

    Returns
    -------
    network : NASBench201Network or NASBench101Network

    Raises
    ------
    ValueError
        If the space has no network builder, or from the space when ``arch`` is invalid.

    Examples
    --------
    >>> from sknar.nn import build_network
    >>> from sknar.spaces import NASBench201Space
    >>> net = build_network(NASBench201Space(), ["nor_conv_3x3"] * 6, C=8, N=1, n_classes=3)
    >>> type(net).__name__, net.classifier.out_features
    ('NASBench201Network', 3)
    """
    while isinstance(space, TableSpace):
        space = space.space
    for space_class, network_class in _BUILDERS:
        if isinstance(space, space_class):
            return network_class(arch, **params)
    raise ValueError(
        f"no network builder for the {getattr(space, 'name', type(space).__name__)!r} "
        "space; networks are built for NAS-Bench-201 and NAS-Bench-101 cells. Train your "
        "own network in an oracle function instead (arch -> accuracy)."
    )


def count_parameters(space, arch, **params):
    """Number of parameters of the network of ``arch`` built with ``params``.

    The network is built on PyTorch's ``meta`` device: shapes only, nothing is allocated or
    initialised, so any size counts in milliseconds. With the benchmark's sizes this is the
    space's ``total_cost(arch)["params"]``; with others (a smaller ``C`` or ``N``, other
    ``in_channels`` or ``n_classes``) it is the count the space's cost model does not give.

    Parameters
    ----------
    space : SearchSpace
        A space with a network builder (see :func:`build_network`).
    arch : architecture
        A cell in any form the space accepts.
    **params
        Keyword arguments of the network class (``C``, ``N``, ``in_channels``,
        ``n_classes``, ...).

    Returns
    -------
    n_parameters : int
        What ``sum(p.numel() for p in network.parameters())`` gives for the built network.

    Examples
    --------
    >>> from sknar.nn import count_parameters
    >>> from sknar.spaces import NASBench201Space
    >>> space, arch = NASBench201Space(), ["nor_conv_3x3"] * 6
    >>> count_parameters(space, arch) == space.total_cost(arch)["params"]
    True
    >>> count_parameters(space, arch, C=8, N=1, in_channels=1)
    91842
    """
    with torch.device("meta"):
        network = build_network(space, arch, **params)
    return sum(parameter.numel() for parameter in network.parameters())
