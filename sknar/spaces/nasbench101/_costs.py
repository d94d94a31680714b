"""FLOPs and trainable parameters of the CIFAR-10 network of a NAS-Bench-101 cell."""

from typing import NamedTuple

import numpy as np

from ._cell import _OFFICIAL_LABEL, CONV1X1, CONV3X3, MAXPOOL3X3
from ._hashing import _benchmark_permutations

# The CIFAR-10 macro network of the benchmark.
_STEM_CHANNELS = 128
_N_STACKS = 3
_CELLS_PER_STACK = 3
_IMAGE_SIZE = 32
_N_CLASSES = 10
_CELL_NAMES = tuple(
    f"stack{stack}/module{module}"
    for stack in range(_N_STACKS)
    for module in range(_CELLS_PER_STACK)
)
_KERNEL_SIZE = {CONV1X1: 1, CONV3X3: 3}


class _CellCosts(NamedTuple):
    flops: np.ndarray
    params: np.ndarray
    total_flops: int
    total_params: int


def _check_dataset(dataset):
    if dataset not in (None, "cifar10"):
        raise ValueError(
            f"NAS-Bench-101 has only the CIFAR-10 network; dataset must be None or 'cifar10', "
            f"got {dataset!r}"
        )


def _macro_modules():
    """(input channels, output channels, pixels) of the 9 cells, and the fixed costs.

    The fixed costs are those of the stem (3x3 convolution + batch norm), of the 2x2
    max-pools between stacks (4 comparisons per output element), of the global average
    pooling (one addition per input element) and of the dense classifier.
    """
    size = _IMAGE_SIZE
    stem_flops, stem_params = _conv_bn(3, 3, _STEM_CHANNELS, size * size)
    fixed_flops, fixed_params = stem_flops, stem_params
    modules = []
    in_channels = out_channels = _STEM_CHANNELS
    for stack in range(_N_STACKS):
        if stack > 0:
            size //= 2
            fixed_flops += 4 * in_channels * size * size
            out_channels *= 2
        for _ in range(_CELLS_PER_STACK):
            modules.append((in_channels, out_channels, size * size))
            in_channels = out_channels
    fixed_flops += out_channels * size * size + 2 * out_channels * _N_CLASSES + _N_CLASSES
    fixed_params += out_channels * _N_CLASSES + _N_CLASSES
    return tuple(modules), fixed_flops, fixed_params


def _conv_bn(kernel, in_channels, out_channels, pixels):
    """(FLOPs, params) of a bias-free convolution followed by batch norm."""
    weights = kernel * kernel * in_channels * out_channels
    return 2 * weights * pixels, weights + 2 * out_channels


_MODULES, _FIXED_FLOPS, _FIXED_PARAMS = _macro_modules()


def _cost_arrays(matrices, ops):
    """Per-vertex FLOPs and params of cells of one size in the 9 cells of the network.

    ``matrices`` is an int64 array (B, n, n) of canonical cells and ``ops`` their op tuples.
    The costs are those of the network the benchmark trained, in each cell's own vertex
    order. Returns two int64 arrays of shape (B, 9, n).
    """
    n_cells, n_vertices = len(matrices), matrices.shape[1]
    output = n_vertices - 1
    kernel = np.array([[_KERNEL_SIZE.get(op, 0) for op in cell_ops] for cell_ops in ops])
    kernel = kernel.reshape(n_cells, 1, n_vertices)
    is_pool = np.array([[op == MAXPOOL3X3 for op in cell_ops] for cell_ops in ops])
    is_pool = is_pool.reshape(n_cells, 1, n_vertices)
    from_input = matrices[:, None, 0, :]
    n_inputs = matrices.sum(axis=1)[:, None, :]
    feeds_output = matrices[:, :, output].astype(bool)
    feeds_output[:, 0] = False
    feeder_rank = _feeder_ranks(matrices, ops, feeds_output)
    in_channels, out_channels, pixels = (
        np.array(column, dtype=np.int64)[None, :, None] for column in zip(*_MODULES)
    )
    widths = {
        channels: _vertex_channels(matrices, feeds_output, feeder_rank, channels)
        for channels in sorted({module[1] for module in _MODULES})
    }
    width = np.stack([widths[module[1]] for module in _MODULES], axis=1)  # (B, 9, n)
    flops = (n_inputs - 1) * width * pixels + from_input * 2 * in_channels * width * pixels
    flops += np.where(is_pool, 9 * width * pixels, 2 * kernel * kernel * width * width * pixels)
    params = from_input * (in_channels * width + 2 * width)
    params += np.where(is_pool, 0, kernel * kernel * width * width + 2 * width)
    flops[:, :, [0, output]] = 0
    params[:, :, [0, output]] = 0
    # The output owns the projection of an input-output edge (1x1 convolution + batch
    # norm), added to the concatenation of the interior inputs when there are any.
    has_projection = from_input[:, :, output]
    concat_sum = out_channels[..., 0] * pixels[..., 0] if n_vertices > 2 else 0
    flops[:, :, output] = has_projection * (
        2 * in_channels[..., 0] * out_channels[..., 0] * pixels[..., 0] + concat_sum
    )
    params[:, :, output] = has_projection * (
        in_channels[..., 0] * out_channels[..., 0] + 2 * out_channels[..., 0]
    )
    return flops, params


def _vertex_channels(matrices, feeds_output, feeder_rank, out_channels):
    """Channels of each vertex, as the official ``compute_vertex_channels``, for a batch.

    The output's channels are split evenly among the vertices that feed it, the remainder
    going one by one to the first of them in the trained network's order; every other
    interior vertex takes the largest width among its interior successors.
    """
    n_vertices = matrices.shape[1]
    fan_in = np.maximum(feeds_output.sum(axis=1), 1)[:, None]
    width = np.where(
        feeds_output,
        out_channels // fan_in + (feeder_rank < out_channels % fan_in),
        0,
    )
    for vertex in range(n_vertices - 3, 0, -1):
        successors = matrices[:, vertex, vertex + 1 : n_vertices - 1] * width[:, vertex + 1 : -1]
        width[:, vertex] = np.where(
            feeds_output[:, vertex], width[:, vertex], successors.max(axis=1)
        )
    return width


def _feeder_ranks(matrices, ops, feeds_output):
    """Rank of each vertex feeding the output among those feeders, in the trained order.

    Only cells whose output fan-in does not divide the channel counts (3 or 5 feeders) need
    the trained order; for the others the given order gives the same widths.
    """
    ranks = np.cumsum(feeds_output, axis=1) - 1
    fan_in = feeds_output.sum(axis=1)
    uneven = np.flatnonzero(_MODULES[0][1] % np.maximum(fan_in, 1) != 0)
    if len(uneven):
        labels = np.array(
            [[_OFFICIAL_LABEL[op] for op in ops[i][1:-1]] for i in uneven], dtype=np.int64
        ).reshape(len(uneven), -1)
        order = _benchmark_permutations(matrices[uneven], labels)
        position = np.empty_like(order)
        np.put_along_axis(position, order, np.arange(order.shape[1])[None, :], axis=1)
        feeders = feeds_output[uneven]
        before = feeders[:, None, :] & (position[:, None, :] < position[:, :, None])
        ranks[uneven] = before.sum(axis=2)
    return ranks


def _cell_costs(cell):
    """Costs of a canonical cell in the 9 cells of the CIFAR-10 network."""
    flops, params = _cost_arrays(np.array([cell.matrix], dtype=np.int64), [cell.ops])
    flops, params = flops[0], params[0]
    return _CellCosts(
        flops,
        params,
        int(flops.sum()) + _FIXED_FLOPS,
        int(params.sum()) + _FIXED_PARAMS,
    )
