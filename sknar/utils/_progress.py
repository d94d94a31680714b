"""A progress bar on stderr, the one the command line and the benchmark suites draw."""

import sys

__all__ = ["progress_bar"]


def progress_bar(total, desc, *, disable=False, unit="it"):
    """A tqdm bar over ``total`` steps on stderr; nothing is drawn when ``disable``.

    Parameters
    ----------
    total : int
        The number of steps.
    desc : str
        The label in front of the bar.
    disable : bool, default=False
        Draw nothing (``verbose=0``): ``bar.update`` then does nothing at all.
    unit : str, default="it"
        What a step is (``"arch"``, ``"eval"``, ...).

    Returns
    -------
    bar : tqdm.tqdm
        Use it as a context manager and call ``bar.update(n)``.

    Examples
    --------
    >>> from sknar.utils import progress_bar
    >>> with progress_bar(3, "steps", unit="step") as bar:  # drawn on stderr
    ...     for _ in range(3):
    ...         _ = bar.update(1)
    >>> bar.n
    3
    """
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc=desc, unit=unit, file=sys.stderr, disable=disable, dynamic_ncols=True
    )
