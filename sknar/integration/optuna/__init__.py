"""sknar inside Optuna: a space as a trial's parameters, a NAR sampler and pruning.

Optuna runs the study, its storage (SQL database or journal file), its workers on many
machines, its pruners and its dashboard; sknar brings the space (validation, hashing,
isomorphic twins, costs), the ranker and the tier sampler:

- :func:`suggest_architecture` declares a space's architecture on a trial, one categorical
  parameter per entry of :meth:`~sknar.spaces.SearchSpace.parameter_choices`, so that any
  Optuna sampler can drive it;
- :class:`NARSampler` proposes them the way :class:`~sknar.search.TierSearch` does, and
  never proposes a network completed, failed or running in the study, whatever process
  runs it;
- :func:`pruning_callback` turns a trial into the per-epoch hook of a training oracle, so
  that Optuna's pruners stop bad trainings early;
- :func:`within_budget` lets independent workers complete exactly a budget of trials.

This package needs Optuna (``pip install sknar[optuna]``); the rest of sknar does not.
"""

try:
    import optuna  # noqa: F401
except ImportError as exc:  # pragma: no cover - the extra is installed in CI
    raise ImportError(
        "sknar.integration.optuna needs Optuna (4 or later): pip install 'sknar[optuna]' "
        "or pip install 'optuna>=4'."
    ) from exc

from ._budget import within_budget
from ._pruning import pruning_callback
from ._sampler import NARSampler
from ._suggest import NETWORK_ATTR, architecture_of, network_key, suggest_architecture

__all__ = [
    "NETWORK_ATTR",
    "NARSampler",
    "architecture_of",
    "network_key",
    "pruning_callback",
    "suggest_architecture",
    "within_budget",
]
