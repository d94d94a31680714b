"""Encoders: architectures -> numeric feature matrices.

- :class:`NARFeatureEncoder`: the NAR (ReNAS) feature tensor, flattened, for
  :class:`~sknar.ranker.NARRanker`; its output is a :class:`PatchMatrix` that carries the token
  layout (read it back with :func:`get_patch_layout`).
- :class:`AdjacencyOneHotEncoder` and :class:`PathEncoder`: the standard encodings for
  baseline models (gradient boosting, random forests, MLPs).

Every encoder takes a sequence of architectures in any form the space accepts and works with
any space following the :class:`~sknar.spaces.SearchSpace` protocol.
"""

from ._graph import AdjacencyOneHotEncoder, PathEncoder
from ._nar import NARFeatureEncoder, PatchMatrix, get_patch_layout

__all__ = [
    "AdjacencyOneHotEncoder",
    "NARFeatureEncoder",
    "PatchMatrix",
    "PathEncoder",
    "get_patch_layout",
]
