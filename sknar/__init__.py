"""sknar: the Neural Architecture Ranker (NAR) for scikit-learn."""

from ._version import __version__
from .tiers import TierTransformer

__all__ = ["TierTransformer", "__version__"]
