"""Checks of the size parameters of the network builders."""

import numbers


def check_positive_int(value, name):
    """Return ``value`` as an int, or raise a ValueError naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(value)
