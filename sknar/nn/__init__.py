"""The NAR torch module and its losses (torch only: no scikit-learn, no skorch)."""

from ._losses import NARLoss, pairwise_logistic_rank_loss
from ._model import NAREnsemble, NARModule

__all__ = ["NAREnsemble", "NARLoss", "NARModule", "pairwise_logistic_rank_loss"]
