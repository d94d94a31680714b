"""Results as JSON files: numpy values and paths written as plain JSON."""

import json
import sys
from pathlib import Path

import numpy as np

__all__ = ["write_json"]


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def write_json(payload, path=None, *, indent=2):
    """Write ``payload`` as JSON to a file (its folder created) or to stdout.

    numpy scalars and arrays, tuples, sets and paths are written as plain JSON values.

    Parameters
    ----------
    payload : object
        JSON data, possibly holding numpy values.
    path : str or path-like, default=None
        The file; None or ``"-"`` writes to stdout.
    indent : int, default=2
        Indentation of the JSON text.

    Returns
    -------
    path : pathlib.Path or None
        The file written, or None for stdout.

    Raises
    ------
    TypeError
        If the payload holds a value that has no JSON form; nothing is written then.
    OSError
        If the file cannot be written.

    Examples
    --------
    >>> import numpy as np
    >>> from sknar.utils import write_json
    >>> write_json({"tau": np.float64(0.5), "ranks": np.arange(2)}, indent=None)
    {"tau": 0.5, "ranks": [0, 1]}
    """
    # Encoded before the file is opened, so that a bad value leaves no partial file.
    text = json.dumps(payload, indent=indent, default=_plain) + "\n"
    if path is None or str(path) == "-":
        sys.stdout.write(text)
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
