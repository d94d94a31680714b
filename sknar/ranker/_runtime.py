"""The torch state around NARRanker's work: a forked random state."""

from contextlib import contextmanager

import torch


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
