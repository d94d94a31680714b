"""Utilities: input checks, shared docstring pieces and the list of estimators.

Test helpers live in :mod:`sknar.utils.testing`.
"""

from ._docstrings import Substitution
from ._json import write_json
from ._progress import progress_bar
from ._validation import check_accuracies, check_oracle_value
from .discovery import all_estimators

__all__ = [
    "Substitution",
    "all_estimators",
    "check_accuracies",
    "check_oracle_value",
    "progress_bar",
    "write_json",
]
