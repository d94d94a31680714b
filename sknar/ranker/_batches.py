"""Mini-batches cut from whole tensors: what NARRanker trains and predicts with."""

import numpy as np
import torch


class TensorBatches:
    """An iterable of ``(X, y)`` mini-batches for skorch, sliced from whole tensors.

    A drop-in for ``torch.utils.data.DataLoader`` on an in-memory skorch ``Dataset``: the
    same batches in the same order (one permutation of the rows per epoch when
    ``shuffle``, drawn from ``generator`` exactly as a DataLoader's ``RandomSampler``
    draws it), but each batch is one index operation on a tensor instead of ``batch_size``
    calls to ``Dataset.__getitem__`` and a collate, which on a CPU cost as much as a
    training step of a small network.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holds ``X`` (an array or tensor) and ``y`` (an array, tensor or None).
    batch_size : int
        Rows per batch; the last batch may be smaller.
    shuffle : bool, default=False
        Draw a new order of the rows for every pass.
    generator : torch.Generator or None, default=None
        Source of the orders; None uses torch's global random state.
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None):
        self.X = _as_tensor(dataset.X)
        self.y = None if dataset.y is None else _as_tensor(dataset.y)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        n = len(self.X)
        if self.shuffle:
            order = _data_loader_order(n, self.generator)
            X, y = self.X[order], None if self.y is None else self.y[order]
        else:
            X, y = self.X, self.y
        for start in range(0, n, self.batch_size):
            stop = start + self.batch_size
            yield X[start:stop], None if y is None else y[start:stop]


def _as_tensor(values):
    if isinstance(values, torch.Tensor):
        return values
    return torch.from_numpy(np.ascontiguousarray(values))


def _data_loader_order(n, generator):
    """The order of one epoch of a shuffling DataLoader with this generator.

    Each pass of a DataLoader draws a base seed for its workers, then its RandomSampler
    draws a permutation and, on running out, a second (empty-sliced) one: drawing the same
    numbers keeps the batches of every epoch those of a DataLoader seeded alike.
    """
    torch.empty((), dtype=torch.int64).random_(generator=generator)
    order = torch.randperm(n, generator=generator)
    torch.randperm(n, generator=generator)
    return order
