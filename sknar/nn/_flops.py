"""Operation counts of a network, measured by running it under ``FlopCounterMode``.

``torch.utils.flop_counter.FlopCounterMode`` sees every aten operation a forward pass runs.
A *counting rule* maps the operations a benchmark counts to their cost in that benchmark's
unit; the count of a network is then what one forward pass of a single image costs.
"""

import math

import torch
from torch.utils.flop_counter import FlopCounterMode

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


# Operations FlopCounterMode counts by default, silenced unless a rule names them: a rule
# states every cost it counts.
_DEFAULT_COUNTED = (aten.convolution, aten.mm, aten.addmm, aten.bmm, aten.baddbmm)


def count_operations(module, input_shape, rule):
    """Run one forward pass of ``module`` on zeros and return its cost under ``rule``.

    The module runs in eval mode without gradients (its training mode is restored), on the
    device of its parameters: a network built on the ``meta`` device is counted without
    computing anything.

    Parameters
    ----------
    module : torch.nn.Module
    input_shape : tuple of int
        Shape of the input batch, e.g. ``(1, 3, 32, 32)``.
    rule : dict
        ``{aten op packet: formula(*shapes, out_shape=...)}``.

    Returns
    -------
    count : int
    """
    parameter = next(module.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    inputs = torch.zeros(input_shape, device=device)
    mapping = {op: zero for op in _DEFAULT_COUNTED}
    mapping.update(rule)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=mapping) as counter:
            module(inputs)
    finally:
        module.train(was_training)
    return int(counter.get_total_flops())
