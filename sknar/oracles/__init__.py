"""Oracles: what a search asks for the quality of an architecture.

An oracle is any callable ``oracle(arch) -> float`` (higher is better), e.g. a function that
trains a network. A table oracle looks the value up in a benchmark table; it may also carry
a *report* value (e.g. test accuracy) that a search records beside each query but never uses
to choose. A latency oracle times the network of an architecture on this machine (a cost to
minimise, beside accuracy, in a search with several objectives); a metrics oracle returns
several named metrics at once, one oracle each.
"""

from ._digits import load_digits_split
from ._latency import LatencyOracle
from ._metrics import MetricsOracle
from ._tabular import TabularOracle
from ._training import TrainingError, TrainingOracle

__all__ = [
    "LatencyOracle",
    "MetricsOracle",
    "TabularOracle",
    "TrainingError",
    "TrainingOracle",
    "load_digits_split",
]
