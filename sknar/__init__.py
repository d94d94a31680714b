"""sknar: the Neural Architecture Ranker (NAR) for scikit-learn."""

import importlib

from ._version import __version__

# The public names load on first use (PEP 562), so that ``import sknar.cli`` or
# ``import sknar.spaces`` does not pay for torch and skorch.
_LAZY = {
    "NARRanker": "ranker",
    "RandomSearch": "search",
    "RegularizedEvolution": "search",
    "SearchResult": "search",
    "TabularOracle": "oracles",
    "TierSampler": "sampler",
    "TierSearch": "search",
    "TierTransformer": "tiers",
    "TrainingOracle": "oracles",
    "make_nar_pipeline": "ranker",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'sknar' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
