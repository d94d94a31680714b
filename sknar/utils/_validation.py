"""Checks of the numbers users hand to sknar: accuracies and oracle values."""

import math
import numbers

import numpy as np

__all__ = ["check_accuracies", "check_oracle_value"]


def check_accuracies(y, *, name="y", min_samples=1, n_samples=None):
    """Validate a 1-D array of finite accuracies.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Accuracies (or any score where higher is better).
    name : str, default="y"
        Name used in error messages.
    min_samples : int, default=1
        Smallest number of samples accepted.
    n_samples : int or None, default=None
        The exact number of samples required (e.g. one per architecture of a table); None
        accepts any number from ``min_samples`` on.

    Returns
    -------
    y : ndarray of shape (n_samples,), dtype float64
        A float view of ``y`` when possible, else a copy.

    Raises
    ------
    ValueError
        If ``y`` is None, not 1-D, not numeric, of the wrong length, or holds NaN or
        infinite values (the message names their indices).

    Examples
    --------
    >>> from sknar.utils import check_accuracies
    >>> check_accuracies([0.9, 0.8])
    array([0.9, 0.8])
    >>> check_accuracies([0.9, float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: y contains 1 NaN or infinite value(s), at index 1 (first bad value: nan).
    """
    if y is None:
        raise ValueError(f"{name} is required, got None.")
    try:
        array = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from exc
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D of shape (n_samples,), got shape {array.shape}; "
            "pass a flat array (e.g. y.ravel())."
        )
    if n_samples is not None and array.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape ({n_samples},), got {array.shape}.")
    if array.shape[0] < min_samples:
        raise ValueError(
            f"{name} has {array.shape[0]} sample(s); at least {min_samples} are required."
        )
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        shown = ", ".join(str(i) for i in bad[:10]) + (", ..." if bad.size > 10 else "")
        raise ValueError(
            f"{name} contains {bad.size} NaN or infinite value(s), at index {shown} "
            f"(first bad value: {array[bad[0]]})."
        )
    return array


def check_oracle_value(value, arch):
    """Return an oracle's answer as a finite float, or raise naming the architecture.

    Parameters
    ----------
    value : object
        What the oracle returned.
    arch : architecture
        The architecture it was asked about (named in the error).

    Returns
    -------
    value : float

    Raises
    ------
    ValueError
        If ``value`` is not a real number (a bool, None or a string is not) or not finite.

    Examples
    --------
    >>> from sknar.utils import check_oracle_value
    >>> check_oracle_value(0.93, "arch-a")
    0.93
    >>> check_oracle_value(float("inf"), "arch-a")
    Traceback (most recent call last):
    ...
    ValueError: the oracle returned inf for architecture 'arch-a'; it must be finite.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"the oracle returned {value!r} for architecture {arch!r}; it must return a "
            "real number (higher is better)."
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(
            f"the oracle returned {value} for architecture {arch!r}; it must be finite."
        )
    return value
