"""Search spaces: what an architecture is, how to draw it and what it costs."""

from ._base import PatchFeatures, SearchSpace

__all__ = ["PatchFeatures", "SearchSpace"]
