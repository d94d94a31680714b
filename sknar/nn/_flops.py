"""Operation counts of a network, measured by running it under a dispatch mode.

A ``TorchDispatchMode`` sees every aten operation a forward pass runs. A *counting rule*
maps the operations a benchmark counts to their cost in that benchmark's unit; the count of
a network is then what one forward pass of a single image costs.

The mode is a lean copy of what ``torch.utils.flop_counter.FlopCounterMode`` does for a
forward pass (formulas called on shapes, composite operations decomposed until a counted
one appears), without its module tracker and without the import of ``torch._dynamo`` that
a dispatch mode triggers at its first use (1.5 to 5 seconds, where the count itself takes a
few hundredths of a second on one thread).
"""

import math

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map

from ..utils._torch import limit_threads

aten = torch.ops.aten


# Batch norm reaches the counter as one of these, depending on the mode and the version.
BATCH_NORM_OPS = (
    aten.native_batch_norm,
    aten._native_batch_norm_legit,
    aten._native_batch_norm_legit_no_training,
)


def _numel(shape):
    return math.prod(shape)


def conv_macs(x_shape, w_shape, *args, out_shape=None, **kwargs):
    """Multiply-accumulates of ``aten.convolution``: each output element reads
    ``in_channels / groups * kernel area`` inputs (``w_shape[1:]``)."""
    return _numel(out_shape) * _numel(w_shape[1:])


def addmm_macs(bias_shape, a_shape, b_shape, *args, out_shape=None, **kwargs):
    """Multiply-accumulates of ``aten.addmm`` (the bias addition excluded)."""
    return a_shape[0] * a_shape[1] * b_shape[1]


def addmm_flops_with_bias(bias_shape, a_shape, b_shape, *args, out_shape=None, **kwargs):
    """FLOPs of ``aten.addmm``: 2 per multiply-accumulate plus one per bias addition."""
    return 2 * addmm_macs(bias_shape, a_shape, b_shape) + _numel(out_shape)


def batch_norm_elements(*args, out_shape=None, **kwargs):
    """Elements normalised by ``aten.native_batch_norm`` (its first output)."""
    return _numel(out_shape[0])


def input_elements(x_shape, *args, out_shape=None, **kwargs):
    """Elements read, e.g. by the global average pooling (``aten.mean.dim``)."""
    return _numel(x_shape)


def output_elements(*args, out_shape=None, **kwargs):
    """Elements written, e.g. by an element-wise addition (``aten.add.Tensor``)."""
    return _numel(out_shape)


def max_pool_comparisons(x_shape, kernel_size, *args, out_shape=None, **kwargs):
    """Window elements read by ``aten.max_pool2d_with_indices``: kernel area per output."""
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size,)
    kernel = tuple(kernel_size) * (2 // len(kernel_size))
    return _numel(out_shape[0]) * _numel(kernel)


def zero(*args, **kwargs):
    """An operation the rule does not count."""
    return 0


def _shape(value):
    return value.shape if isinstance(value, torch.Tensor) else value


def _count_dispatch(self, func, types, args=(), kwargs=None):
    kwargs = kwargs or {}
    packet = func._overloadpacket
    if packet not in self.rule:
        # A composite operation may hide a counted one: run its decomposition here.
        with self:
            result = func.decompose(*args, **kwargs)
        if result is not NotImplemented:
            return result
    out = func(*args, **kwargs)
    formula = self.rule.get(packet)
    if formula is not None:
        shapes, kw_shapes, out_shape = tree_map(_shape, (args, kwargs, out))
        self.total += formula(*shapes, out_shape=out_shape, **kw_shapes)
    return out


# Torch wraps every mode's __torch_dispatch__ so that torch.compile skips it, and the
# wrapper imports torch._dynamo (1.5 to 5 s) at its first call unless the function caches
# its own skipped version; a count is never compiled, so the function is its own.
setattr(_count_dispatch, "__dynamo_disable", _count_dispatch)  # noqa: B010


class _OperationCounter(TorchDispatchMode):
    """Adds up ``rule[op](*shapes, out_shape=...)`` over the aten operations that run."""

    def __init__(self, rule):
        super().__init__()
        self.rule = rule
        self.total = 0

    __torch_dispatch__ = _count_dispatch


def count_operations(module, input_shape, rule):
    """Run one forward pass of ``module`` on zeros and return its cost under ``rule``.

    The module runs in eval mode without gradients, on one thread (its training mode and the
    thread setting are restored), on the device of its parameters.

    Parameters
    ----------
    module : torch.nn.Module
    input_shape : tuple of int
        Shape of the input batch, e.g. ``(1, 3, 32, 32)``.
    rule : dict
        ``{aten op packet: formula(*shapes, out_shape=...)}``; operations it does not name
        count nothing.

    Returns
    -------
    count : int
    """
    parameter = next(module.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    counter = _OperationCounter(rule)
    was_training = module.training
    module.eval()
    try:
        # One image through a small network: more threads only spin against each other.
        with limit_threads(1), torch.no_grad(), counter:
            module(torch.zeros(input_shape, device=device))
    finally:
        module.train(was_training)
    return int(counter.total)
