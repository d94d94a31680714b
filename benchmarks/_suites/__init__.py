"""The benchmark suites.

Each module defines ``CONFIGS`` (``"full"`` and ``"quick"``), ``DEFAULT_SEEDS``,
``tasks(config, seeds, quick)`` (a list of ``Task`` whose ``run()`` returns records) and
``report(payload)`` (Markdown); most also define ``answer(payload)`` and ``plot``.
"""

from . import (
    ablation,
    cost,
    fashion,
    multifidelity,
    multiobjective,
    optuna,
    parallel,
    quality,
    search,
    training,
    transfer,
)

SUITES = {
    "quality": quality,
    "transfer": transfer,
    "search": search,
    "cost": cost,
    "ablation": ablation,
    "training": training,
    "parallel": parallel,
    "optuna": optuna,
    "multiobjective": multiobjective,
    "multifidelity": multifidelity,
    "fashion": fashion,
}

__all__ = ["SUITES"]
