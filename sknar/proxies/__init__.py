"""Training-free scores: what a network's untrained weights say about it.

:class:`ZeroCostScorer` builds the network of each cell of a space with
:func:`sknar.nn.build_network` and computes gradient norm, SynFlow, NASWOT and Jacobian
covariance, once per network (cached in memory and, optionally, in a file). The score
functions themselves take any torch module.
"""

from ._scorer import SCORES, ZeroCostScorer
from ._scores import grad_norm, jacob_cov, naswot, synflow

__all__ = ["SCORES", "ZeroCostScorer", "grad_norm", "jacob_cov", "naswot", "synflow"]
