"""The NAR torch module and its losses (torch only: no scikit-learn, no skorch)."""

from ._losses import NARLoss, pairwise_logistic_rank_loss
from ._model import NARModule

__all__ = ["NARLoss", "NARModule", "pairwise_logistic_rank_loss"]
