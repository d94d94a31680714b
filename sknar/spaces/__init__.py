"""Search spaces: what an architecture is, how to draw it and what it costs."""

from ._base import PatchFeatures, SearchSpace
from ._table import TableSpace
from .nasbench101 import NASBench101Cell, NASBench101Space
from .nasbench201 import NASBench201Space
from .nasbench_graph import GraphArch, NASBenchGraphSpace

__all__ = [
    "GraphArch",
    "NASBench101Cell",
    "NASBench101Space",
    "NASBench201Space",
    "NASBenchGraphSpace",
    "PatchFeatures",
    "SearchSpace",
    "TableSpace",
]
