"""sknar: the Neural Architecture Ranker (NAR) for scikit-learn."""

from ._version import __version__
from .oracles import TabularOracle, TrainingOracle
from .ranker import NARRanker, make_nar_pipeline
from .sampler import TierSampler
from .search import RandomSearch, RegularizedEvolution, SearchResult, TierSearch
from .tiers import TierTransformer

__all__ = [
    "NARRanker",
    "RandomSearch",
    "RegularizedEvolution",
    "SearchResult",
    "TabularOracle",
    "TierSampler",
    "TierSearch",
    "TierTransformer",
    "TrainingOracle",
    "__version__",
    "make_nar_pipeline",
]
