"""The public estimators of sknar, for common tests and documentation."""

import inspect
import pkgutil
from importlib import import_module

from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin

__all__ = ["all_estimators"]

_TYPES = {"transformer": TransformerMixin, "regressor": RegressorMixin}


def all_estimators(type_filter=None):
    """The public estimators of sknar: ``(name, class)`` pairs sorted by name.

    Every concrete class deriving from :class:`sklearn.base.BaseEstimator` that a public
    module of sknar defines; private modules (a name part starting with an underscore),
    ``sknar.utils`` and the command line are not searched, but the public names they
    re-export are found through the public modules.

    Parameters
    ----------
    type_filter : {"transformer", "regressor"} or None, default=None
        Keep only the estimators of this scikit-learn type; None keeps all.

    Returns
    -------
    estimators : list of (str, type)

    Examples
    --------
    >>> from sknar.utils import all_estimators
    >>> names = [name for name, _ in all_estimators()]
    >>> "NARRanker" in names and "TierSampler" in names
    True
    """
    if type_filter is not None and type_filter not in _TYPES:
        raise ValueError(
            f"type_filter must be one of {sorted(_TYPES)} or None, got {type_filter!r}."
        )
    import sknar

    found = {}
    for module_info in pkgutil.walk_packages(sknar.__path__, prefix="sknar."):
        parts = module_info.name.split(".")
        if any(part.startswith("_") for part in parts) or parts[1] in {"utils", "cli"}:
            continue
        module = import_module(module_info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseEstimator)
                and cls.__module__.startswith("sknar.")
                and not name.startswith("_")
                and not inspect.isabstract(cls)
            ):
                found[name] = cls
    return [
        (name, cls)
        for name, cls in sorted(found.items())
        if type_filter is None or issubclass(cls, _TYPES[type_filter])
    ]
