"""The Neural Architecture Ranker: the scikit-learn estimator, its skorch net and presets.

:class:`NARRanker` is the estimator; :func:`make_nar_pipeline` puts it behind the NAR
encoder; :class:`NARNet` is the skorch net it trains, for users who want skorch's machinery
(callbacks, ``module__`` parameters) directly.
"""

from ._net import NARNet, warmup_cosine_factor
from ._pipeline import make_nar_pipeline
from ._presets import PRESETS, SMALL_DATA_OVERRIDES, SMALL_DATA_SIZE
from ._ranker import NARRanker

__all__ = [
    "NARNet",
    "NARRanker",
    "PRESETS",
    "SMALL_DATA_OVERRIDES",
    "SMALL_DATA_SIZE",
    "make_nar_pipeline",
    "warmup_cosine_factor",
]
