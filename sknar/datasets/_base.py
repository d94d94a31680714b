"""Where benchmark files are found: explicit path > ``SKNAR_DATA`` > ``data_home``."""

import os
from pathlib import Path

DATA_ENV_VAR = "SKNAR_DATA"


def get_data_home(data_home=None):
    """Return the folder that holds sknar's benchmark files.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. When None, the ``SKNAR_DATA`` environment variable is used if set,
        else ``~/sknar_data``. Nothing is created or downloaded.

    Returns
    -------
    data_home : pathlib.Path
        The resolved folder (it may not exist).

    Examples
    --------
    >>> from sknar.datasets import get_data_home
    >>> str(get_data_home("/tmp/nas"))
    '/tmp/nas'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_ENV_VAR) or Path("~") / "sknar_data"
    return Path(data_home).expanduser()


def resolve_data_file(path, relative_path, how_to_get, data_home=None):
    """Return the file to read, or raise a FileNotFoundError that says where it looked.

    Parameters
    ----------
    path : str or path-like or None
        An explicit file given by the user; it wins over everything else.
    relative_path : str
        Where the file lives below the data home (e.g. ``"nasbench201/x.csv"``).
    how_to_get : str
        A sentence telling the user how to obtain the file.
    data_home : str or path-like, default=None
        Passed to :func:`get_data_home`.

    Returns
    -------
    path : pathlib.Path
    """
    if path is not None:
        candidate = Path(path).expanduser()
        if not candidate.is_file():
            raise FileNotFoundError(f"{candidate} does not exist or is not a file. {how_to_get}")
        return candidate
    home = get_data_home(data_home)
    candidate = home / relative_path
    if not candidate.is_file():
        raise FileNotFoundError(
            f"{relative_path} was not found in the sknar data home {home} (set by the "
            f"data_home argument, the {DATA_ENV_VAR} environment variable, or ~/sknar_data). "
            f"{how_to_get}"
        )
    return candidate
