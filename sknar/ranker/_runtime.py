"""The torch state around NARRanker's work: device, threads and a forked random state."""

from contextlib import contextmanager

import torch


def check_device(device):
    """``device`` as a torch device, or a ValueError saying why it cannot be used."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device={device!r} is not a torch device (e.g. 'cpu', 'cuda', 'cuda:1'): {error}"
        ) from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for a GPU, but torch finds no CUDA device on this "
            "machine (torch.cuda.is_available() is False); use device='cpu'."
        )
    return parsed


@contextmanager
def forked_torch_rng(seed, device):
    """Seed torch inside the block and restore the caller's RNG state afterwards."""
    devices = []
    if str(device).startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index
        devices = [torch.cuda.current_device() if index is None else index]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextmanager
def torch_threads(n_threads):
    """Use ``n_threads`` torch threads inside the block (None: leave the setting alone)."""
    if n_threads is None:
        yield
        return
    if int(n_threads) < 1:
        raise ValueError(f"n_threads must be a positive int or None, got {n_threads!r}.")
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
