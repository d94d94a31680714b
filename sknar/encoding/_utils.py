"""Helpers shared by the encoders: reading a batch of architectures, locating a bad one."""

from collections.abc import Mapping

import networkx as nx
import numpy as np


def as_arch_list(archs):
    """Return ``archs`` as a list of single architectures, refusing a lone architecture.

    A string, a dict, a graph or an ``(matrix, ops)`` pair would otherwise be iterated into
    meaningless pieces (characters, keys, nodes), so they are rejected with a hint.
    """
    if archs is None:
        raise ValueError("expected a sequence of architectures, got None.")
    if isinstance(archs, (str, bytes, Mapping, nx.Graph)):
        raise ValueError(
            f"expected a sequence of architectures, got a single {type(archs).__name__}; "
            "wrap it in a list: [arch]."
        )
    if hasattr(archs, "columns") and hasattr(archs, "iloc"):
        raise ValueError(
            "expected a sequence of architectures, got a DataFrame; pass the column that "
            "holds the architectures (a Series) or a list."
        )
    if isinstance(archs, np.ndarray) and archs.ndim == 0:
        raise ValueError("expected a sequence of architectures, got a 0-d array.")
    try:
        return list(archs)
    except TypeError as exc:
        raise ValueError(
            f"expected a sequence of architectures, got {type(archs).__name__}."
        ) from exc


def require_non_empty(archs):
    """Raise when fitting on no architecture at all."""
    if len(archs) == 0:
        raise ValueError("cannot fit on an empty sequence of architectures; pass at least one.")


def invalid_arch_error(index, exc):
    """The ValueError raised for the architecture at ``index`` (position in the input)."""
    return ValueError(f"architecture at index {index} is invalid: {exc}")


def locate_invalid(space, chunk, offset):
    """Error naming the first architecture of ``chunk`` that ``space`` rejects, or None.

    Used after a batch call of the space failed: the space reports indices within the chunk,
    this names the index within the whole input.
    """
    for position, arch in enumerate(chunk):
        try:
            space.validate(arch)
        except ValueError as exc:
            return invalid_arch_error(offset + position, exc)
    return None
