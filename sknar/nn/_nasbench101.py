"""The NAS-Bench-101 network of a cell, as the benchmark builds it.

The skeleton, the cell wiring and the ops follow the benchmark's ``model_builder.py`` and
``base_ops.py``: a 3x3 conv-BN-ReLU stem; three stacks of ``N`` cells, a 2x2 max pooling and
a doubling of the channels before the second and third stacks; global average pooling and a
dense classifier. Inside a cell, the output's channels are split among the vertices feeding
it, a tensor flowing between interior vertices is truncated to the receiver's channels, a
tensor flowing out of the input is projected by a 1x1 conv-BN-ReLU, interior inputs are
summed and the output concatenates its interior inputs (plus the projected input when it is
connected to it).
"""

import math

import torch
from torch import nn

from ..spaces import NASBench101Space
from ._checks import check_positive_int
from ._flops import (
    BATCH_NORM_OPS,
    addmm_flops_with_bias,
    aten,
    conv_macs,
    count_operations,
    input_elements,
    max_pool_comparisons,
    output_elements,
)

__all__ = ["NASBench101Network"]

# TensorFlow's moving-average decay of the benchmark's batch norm (0.997), as a PyTorch
# momentum; its epsilon is PyTorch's default.
BN_MOMENTUM = 1 - 0.997
_N_STACKS = 3
_KERNEL_SIZE = {"conv1x1-bn-relu": 1, "conv3x3-bn-relu": 3}

# The space's counting rule (the NAR cell-information data): 2 FLOPs per multiply-add of the
# convolutions and the classifier, one per bias addition, one per element of each addition
# of tensors, the window size per output element of a max pooling, one per element read by
# the global average pooling; batch norm and ReLU count nothing.
_COUNTING_RULE = {
    aten.convolution: lambda *a, **k: 2 * conv_macs(*a, **k),
    aten.addmm: addmm_flops_with_bias,
    aten.add: output_elements,
    aten.max_pool2d_with_indices: max_pool_comparisons,
    aten.mean: input_elements,
    **{op: lambda *a, **k: 0 for op in BATCH_NORM_OPS},
}


class ConvBNReLU(nn.Sequential):
    """A bias-free 'same' convolution, batch norm and ReLU (the benchmark's
    ``conv_bn_relu``), initialised as TensorFlow's ``variance_scaling_initializer()``."""

    def __init__(self, in_channels, out_channels, kernel_size, bn_momentum):
        conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False
        )
        _variance_scaling_(conv.weight)
        super().__init__(
            conv,
            nn.BatchNorm2d(out_channels, eps=1e-5, momentum=bn_momentum),
            nn.ReLU(inplace=True),
        )


def _variance_scaling_(weight):
    # TensorFlow's default: a normal of std sqrt(1 / fan_in) truncated at two standard
    # deviations, the std corrected for the truncation.
    fan_in = math.prod(weight.shape[1:])
    std = math.sqrt(1.0 / fan_in) / 0.87962566103423978
    with torch.no_grad():
        nn.init.trunc_normal_(weight, std=std, a=-2 * std, b=2 * std)


def vertex_channels(in_channels, out_channels, matrix):
    """Channels of each vertex, as the benchmark's ``compute_vertex_channels``.

    The output's channels are split evenly among the interior vertices feeding it, the
    first of them taking one more while a remainder is left; every other interior vertex
    takes the most channels among the interior vertices it feeds.
    """
    n_vertices = len(matrix)
    channels = [0] * n_vertices
    channels[0], channels[-1] = in_channels, out_channels
    if n_vertices == 2:
        return channels
    output = n_vertices - 1
    fan_in = sum(matrix[v][output] for v in range(1, output))
    share, remainder = divmod(out_channels, fan_in)
    for v in range(1, output):
        if matrix[v][output]:
            channels[v] = share + (1 if remainder > 0 else 0)
            remainder -= 1
    for v in range(n_vertices - 3, 0, -1):
        if not matrix[v][output]:
            channels[v] = max(channels[dst] for dst in range(v + 1, output) if matrix[v][dst])
    return channels


class NASBench101Cell(nn.Module):
    """One cell (a "module" in the benchmark's words) between ``in_channels`` and
    ``out_channels``; only the vertices and edges of the pruned cell are built."""

    def __init__(self, matrix, ops, in_channels, out_channels, bn_momentum):
        super().__init__()
        self.matrix = tuple(tuple(row) for row in matrix)
        self.channels = vertex_channels(in_channels, out_channels, self.matrix)
        self.vertices = nn.ModuleDict()
        output = len(ops) - 1
        for v in range(1, output):
            width = self.channels[v]
            vertex = nn.Module()
            # Created in the benchmark's order (projection, then op) so that a seed gives
            # the same draws vertex by vertex.
            if self.matrix[0][v]:
                vertex.projection = ConvBNReLU(in_channels, width, 1, bn_momentum)
            if ops[v] == "maxpool3x3":
                vertex.op = nn.MaxPool2d(3, stride=1, padding=1)
            else:
                vertex.op = ConvBNReLU(width, width, _KERNEL_SIZE[ops[v]], bn_momentum)
            self.vertices[f"vertex_{v}"] = vertex
        if self.matrix[0][output]:
            self.output_projection = ConvBNReLU(in_channels, out_channels, 1, bn_momentum)

    def forward(self, x):
        output = len(self.matrix) - 1
        tensors = [x]
        concat = []
        for v in range(1, output):
            vertex = self.vertices[f"vertex_{v}"]
            width = self.channels[v]
            summands = [
                _truncate(tensors[src], width) for src in range(1, v) if self.matrix[src][v]
            ]
            if self.matrix[0][v]:
                summands.append(vertex.projection(x))
            total = summands[0]
            for summand in summands[1:]:
                total = total + summand
            tensors.append(vertex.op(total))
            if self.matrix[v][output]:
                concat.append(tensors[v])
        if not concat:
            return self.output_projection(x)
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if self.matrix[0][output]:
            out = out + self.output_projection(x)
        return out


def _truncate(tensor, channels):
    # A vertex feeding the output may hold one channel more than a vertex it feeds.
    return tensor if tensor.shape[1] == channels else tensor[:, :channels]


class NASBench101Network(nn.Module):
    """The NAS-Bench-101 network of a cell, built as the benchmark builds it.

    A 3x3 conv-BN-ReLU stem of ``C`` channels; three stacks of ``N`` cells, the second and
    third preceded by a 2x2 max pooling of stride 2 and a doubling of the channels; global
    average pooling and a dense classifier (with bias). In a cell, each interior vertex sums
    its inputs (a tensor from an interior vertex truncated to the vertex's channels, the
    cell input projected by a 1x1 conv-BN-ReLU) and applies its op: ``conv3x3-bn-relu`` and
    ``conv1x1-bn-relu`` (bias-free 'same' convolution, batch norm, ReLU) or ``maxpool3x3``
    (3x3 max pooling of stride 1); the output concatenates its interior inputs and adds the
    projected cell input if the input feeds it. The channels of each vertex are the
    benchmark's ``compute_vertex_channels``. Batch norm uses the benchmark's decay 0.997
    (``momentum=0.003`` in PyTorch's terms) and eps 1e-5; convolutions are initialised as
    TensorFlow's ``variance_scaling_initializer()``, the classifier as Glorot uniform with a
    zero bias.

    The cell is the space's pruned cell in the benchmark's vertex order
    (:meth:`~sknar.spaces.NASBench101Space.benchmark_order`): when the output's channels do
    not split evenly, that order decides which vertices get one channel more. With the
    defaults, the number of parameters equals the benchmark's ``trainable_parameters`` (the
    space's ``total_cost(arch)["params"]``) and :meth:`count_flops` equals the space's
    ``"flops"``.

    Parameters
    ----------
    arch : NASBench101Cell, (matrix, ops) pair, dict or networkx.DiGraph
        A cell in any form :class:`~sknar.spaces.NASBench101Space` accepts; invalid input
        raises the space's ValueError.
    C : int, default=128
        Channels of the stem, hence of the first stack.
    N : int, default=3
        Cells per stack.
    in_channels : int, default=3
        Channels of the input images.
    n_classes : int, default=10
        Outputs of the classifier.
    bn_momentum : float, default=0.003
        Momentum of the batch norms' running statistics. The benchmark's value suits its
        long trainings; a training of a few hundred steps needs a larger one (e.g. 0.1) for
        the running statistics to follow the weights.

    Attributes
    ----------
    cell : NASBench101Cell
        The canonical pruned cell, vertices in the benchmark's order.
    stem, stacks, classifier : torch.nn.Module
        The parts of the network, in forward order (``stacks`` holds the cells and the max
        poolings).

    Examples
    --------
    >>> import torch
    >>> from sknar.nn import NASBench101Network
    >>> from sknar.spaces import NASBench101Space
    >>> arch = ([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
    ...         ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    >>> net = NASBench101Network(arch, C=16, N=1)
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    >>> with torch.device("meta"):  # count without allocating the weights
    ...     full = NASBench101Network(arch)
    >>> sum(p.numel() for p in full.parameters()) == NASBench101Space().total_cost(arch)["params"]
    True
    """

    def __init__(self, arch, *, C=128, N=3, in_channels=3, n_classes=10, bn_momentum=BN_MOMENTUM):
        super().__init__()
        self.cell = NASBench101Space().benchmark_order(arch)
        C = check_positive_int(C, "C")
        N = check_positive_int(N, "N")
        in_channels = check_positive_int(in_channels, "in_channels")
        n_classes = check_positive_int(n_classes, "n_classes")
        if not 0.0 <= bn_momentum <= 1.0:
            raise ValueError(f"bn_momentum must be in [0, 1], got {bn_momentum!r}.")
        self.stem = ConvBNReLU(in_channels, C, 3, bn_momentum)
        layers = []
        in_width = out_width = C
        for stack in range(_N_STACKS):
            if stack > 0:
                # TensorFlow's 'same' 2x2 pooling: a last odd row or column is pooled alone.
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
                out_width *= 2
            for _ in range(N):
                layers.append(
                    NASBench101Cell(
                        self.cell.matrix, self.cell.ops, in_width, out_width, bn_momentum
                    )
                )
                in_width = out_width
        self.stacks = nn.Sequential(*layers)
        self.classifier = nn.Linear(out_width, n_classes)
        nn.init.xavier_uniform_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)
        self._in_channels = in_channels

    def forward(self, x):
        """Logits of a batch of images.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, in_channels, height, width)

        Returns
        -------
        logits : torch.Tensor of shape (batch, n_classes)
        """
        if x.ndim != 4:
            raise ValueError(
                f"{type(self).__name__} expects a batch of shape (batch, {self._in_channels}, "
                f"height, width), got {tuple(x.shape)}."
            )
        self.check_image_shape(tuple(x.shape[1:]))
        return self.classifier(self.stacks(self.stem(x)).mean(dim=(2, 3)))

    def check_image_shape(self, shape):
        """Refuse images the network cannot take, naming the shape it needs.

        The network pools with TensorFlow's 'same' rule and takes images of any size; their
        channels must be ``in_channels``. :meth:`forward` checks every batch.

        Parameters
        ----------
        shape : tuple of int
            ``(channels, height, width)`` of one image.

        Raises
        ------
        ValueError
            If the shape is not of 3 positive sizes with ``in_channels`` channels.

        Examples
        --------
        >>> from sknar.nn import NASBench101Network
        >>> cell = ([[0, 1], [0, 0]], ["input", "output"])
        >>> NASBench101Network(cell, C=4, N=1).check_image_shape((3, 5, 5)) is None
        True
        """
        if len(shape) != 3 or shape[0] != self._in_channels or min(shape) < 1:
            raise ValueError(
                f"{type(self).__name__} expects images of shape ({self._in_channels}, height, "
                f"width), got {tuple(shape)}."
            )

    def count_flops(self, image_size=32):
        """FLOPs of one forward pass of one image, counted as the space counts them.

        The network runs once under ``torch.utils.flop_counter.FlopCounterMode``; each
        operation is weighted by the space's rule: 2 FLOPs per multiply-add of the
        convolutions and the classifier (FLOPs, not multiply-accumulates), 1 per bias
        addition, 1 per element of each addition of two tensors, 9 per output element of a
        3x3 max pooling and 4 of a 2x2 one, 1 per element read by the global average pooling;
        batch norm and ReLU count nothing.

        Parameters
        ----------
        image_size : int, default=32
            Side of the square input.

        Returns
        -------
        flops : int
            With the default sizes, the space's ``total_cost(arch)["flops"]``.

        Examples
        --------
        >>> import torch
        >>> from sknar.nn import NASBench101Network
        >>> from sknar.spaces import NASBench101Space
        >>> arch = ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv1x1-bn-relu", "output"])
        >>> with torch.device("meta"):
        ...     net = NASBench101Network(arch)
        >>> net = net.to_empty(device="cpu")  # storage without initial values: enough here
        >>> net.count_flops() == NASBench101Space().total_cost(arch)["flops"]
        True
        """
        image_size = check_positive_int(image_size, "image_size")
        shape = (1, self._in_channels, image_size, image_size)
        return count_operations(self, shape, _COUNTING_RULE)

    def extra_repr(self):
        """The line printed beside the class name: the matrix and ops of the cell."""
        return f"matrix={self.cell.matrix!r}, ops={self.cell.ops!r}"
