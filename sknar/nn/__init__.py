"""Torch modules (no scikit-learn, no skorch): the NAR module and its losses, and the
networks of NAS-Bench-201 and NAS-Bench-101 cells."""

from ._build import build_network, count_parameters
from ._losses import NARLoss, lambda_rank_loss, pairwise_logistic_rank_loss
from ._model import NAREnsemble, NARModule
from ._nasbench101 import NASBench101Network
from ._nasbench201 import NASBench201Network

__all__ = [
    "NAREnsemble",
    "NARLoss",
    "NARModule",
    "NASBench101Network",
    "NASBench201Network",
    "build_network",
    "count_parameters",
    "lambda_rank_loss",
    "pairwise_logistic_rank_loss",
]
