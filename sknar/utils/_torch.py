"""Torch settings shared by what trains networks (NARRanker, TrainingOracle, the CLI).

torch is imported when a helper runs, not when this module is imported, so that the
command line and the spaces stay free of it.
"""

from contextlib import contextmanager

__all__ = ["check_device", "limit_threads"]


def check_device(device):
    """``device`` as a :class:`torch.device`, or a ValueError saying why it cannot be used.

    Parameters
    ----------
    device : str or torch.device
        E.g. ``"cpu"``, ``"cuda"``, ``"cuda:1"``.

    Returns
    -------
    device : torch.device

    Raises
    ------
    ValueError
        If ``device`` does not parse, or names a kind of device (or a CUDA index) this
        machine does not have.
    """
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as error:
        raise ValueError(
            f"device={device!r} is not a torch device (e.g. 'cpu', 'cuda', 'cuda:1'): {error}"
        ) from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} asks for a GPU, but torch finds no CUDA device on this "
                "machine (torch.cuda.is_available() is False); use device='cpu'."
            )
        if (parsed.index or 0) >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}: this machine has only {torch.cuda.device_count()} CUDA "
                "device(s)."
            )
    elif parsed.type != "cpu":
        backend = torch.backends.mps if parsed.type == "mps" else getattr(torch, parsed.type, None)
        if not getattr(backend, "is_available", lambda: False)():
            raise ValueError(
                f"device={device!r}: this machine (torch {torch.__version__}) has no "
                f"{parsed.type} device; use device='cpu'."
            )
    return parsed


@contextmanager
def limit_threads(n_threads, *, native_libraries=False):
    """Use at most ``n_threads`` torch threads inside the block, restoring the setting after.

    The networks sknar trains are small: extra threads add synchronisation, and on a machine
    whose cores are busy their spin-waiting can make training many times slower.

    Parameters
    ----------
    n_threads : int or None
        Torch intra-op threads; None leaves every setting alone.
    native_libraries : bool, default=False
        Also limit the BLAS and OpenMP pools of NumPy, SciPy and scikit-learn
        (threadpoolctl).
    """
    if n_threads is None:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        if native_libraries:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(int(n_threads)):
                yield
        else:
            yield
    finally:
        torch.set_num_threads(previous)
