"""The NAS-Bench-201 network of a cell, as the benchmark builds it.

The macro skeleton and the ops follow the benchmark's own code (``TinyNetwork``,
``InferCell``, ``ResNetBasicblock``, ``ReLUConvBN`` and ``POOLING`` of NATS-Bench / xautodl):
a 3x3 stem convolution with batch norm; three stages of ``N`` cells at ``C``, ``2C`` and
``4C`` channels, joined by residual reduction blocks; batch norm, ReLU, global average
pooling and a linear classifier.
"""

import torch
from torch import nn

from ..spaces import NASBench201Space
from ._checks import check_positive_int
from ._flops import (
    BATCH_NORM_OPS,
    addmm_macs,
    aten,
    batch_norm_elements,
    conv_macs,
    count_operations,
    input_elements,
)

__all__ = ["NASBench201Network"]

# The arch string lists a cell's edges in this order; sources before destinations.
_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
_N_NODES = 4

# The space's counting rule: multiply-accumulates of convolutions and of the classifier, two
# operations per batch-normalised element, one per element read by the global pooling;
# ReLU, the pooling inside cells and reduction blocks, and the additions are free.
_COUNTING_RULE = {
    aten.convolution: conv_macs,
    aten.addmm: addmm_macs,
    **{op: lambda *a, **k: 2 * batch_norm_elements(*a, **k) for op in BATCH_NORM_OPS},
    aten.mean: input_elements,
}


class ReLUConvBN(nn.Sequential):
    """ReLU, a bias-free convolution, batch norm: the convolution op of NAS-Bench-201."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=padding,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels),
        )


def _edge_op(op, channels):
    """The module of a cell edge; ``none`` edges are never built."""
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"no module for the NAS-Bench-201 op {op!r}")


class NASBench201Cell(nn.Module):
    """One cell: node ``j`` sums the ops of its edges from nodes ``i < j``; node 3 is the
    output.

    Only the edges whose op is not ``none`` are built. A node without such an edge holds
    zeros, which is what the benchmark's ``none`` op (a multiplication by zero) gives, and
    the ops leaving it still run, as in the benchmark's network.
    """

    def __init__(self, edge_ops, channels):
        super().__init__()
        self.edges = nn.ModuleDict()
        self._inputs = [[] for _ in range(_N_NODES)]
        for (src, dst), op in zip(_EDGES, edge_ops):
            if op == "none":
                continue
            key = f"{dst}<-{src}"
            self.edges[key] = _edge_op(op, channels)
            self._inputs[dst].append((key, src))

    def forward(self, x):
        nodes = [x]
        for inputs in self._inputs[1:]:
            terms = [self.edges[key](nodes[src]) for key, src in inputs]
            nodes.append(_sum(terms) if terms else torch.zeros_like(x))
        return nodes[-1]


def _sum(terms):
    # Left to right, as Python's sum over the benchmark's edge list adds them.
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


class ResidualReduction(nn.Module):
    """The reduction block between stages (the benchmark's ``ResNetBasicblock``, stride 2):
    two ReLU-conv-BN 3x3 layers, the first of stride 2, plus a 2x2 average pooling and a
    bias-free 1x1 convolution on the shortcut."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv_a = ReLUConvBN(in_channels, out_channels, 3, 2, 1)
        self.conv_b = ReLUConvBN(out_channels, out_channels, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
        )

    def forward(self, x):
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NASBench201Network(nn.Module):
    """The NAS-Bench-201 network of a cell, built as the benchmark builds it.

    A 3x3 stem convolution (``C`` channels, no bias) and batch norm; three stages of ``N``
    cells at ``C``, ``2C`` and ``4C`` channels with a residual reduction block between
    stages (3x3 ReLU-conv-BN of stride 2, 3x3 ReLU-conv-BN, and a shortcut of 2x2 average
    pooling and 1x1 convolution); batch norm, ReLU, global average pooling and a linear
    classifier. Cell ops: ``nor_conv_1x1`` and ``nor_conv_3x3`` are ReLU, bias-free
    convolution and batch norm; ``avg_pool_3x3`` is a 3x3 average pooling that does not count
    the padding; ``skip_connect`` is the identity; ``none`` edges are not built (a node
    without an incoming op holds zeros). Batch norms are PyTorch's defaults (affine, running
    statistics, momentum 0.1, eps 1e-5), as in the benchmark, and so are the initial weights.

    With the defaults, the number of parameters equals the space's
    ``total_cost(arch, dataset)["params"]`` (``n_classes=10`` for ``"cifar10"``, 100 for
    ``"cifar100"``, 120 for ``"ImageNet16-120"``), and :meth:`count_flops` equals its
    ``"flops"`` for 32x32 (CIFAR) or 16x16 (ImageNet16-120) images. Every op of the cell is
    built and run, including ops whose result never reaches the output node, as in the
    benchmark's network; build ``space.representatives([arch])[0]`` instead to drop them.

    Parameters
    ----------
    arch : str, sequence of str or networkx.DiGraph
        A cell in any form :class:`~sknar.spaces.NASBench201Space` accepts; invalid input
        raises the space's ValueError.
    C : int, default=16
        Channels of the first stage (the stem's output).
    N : int, default=5
        Cells per stage.
    in_channels : int, default=3
        Channels of the input images.
    n_classes : int, default=10
        Outputs of the classifier.

    Attributes
    ----------
    arch : str
        The canonical arch string of the cell.
    stem, cells, lastact, classifier : torch.nn.Module
        The parts of the network, in forward order (``cells`` holds the cells and the
        reduction blocks).

    Examples
    --------
    >>> import torch
    >>> from sknar.nn import NASBench201Network
    >>> from sknar.spaces import NASBench201Space
    >>> arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|none~2|"
    >>> net = NASBench201Network(arch)
    >>> n_params = sum(p.numel() for p in net.parameters())
    >>> n_params == NASBench201Space().total_cost(arch)["params"]
    True
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """

    def __init__(self, arch, *, C=16, N=5, in_channels=3, n_classes=10):
        super().__init__()
        space = NASBench201Space()
        self.arch = space.validate(arch)
        C = check_positive_int(C, "C")
        N = check_positive_int(N, "N")
        in_channels = check_positive_int(in_channels, "in_channels")
        n_classes = check_positive_int(n_classes, "n_classes")
        graph = space.to_networkx(self.arch)
        edge_ops = [graph.edges[edge]["op"] for edge in _EDGES]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, C, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(C),
        )
        layers = []
        channels = C
        for stage in range(3):
            if stage > 0:
                layers.append(ResidualReduction(channels, 2 * channels))
                channels *= 2
            layers.extend(NASBench201Cell(edge_ops, channels) for _ in range(N))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(channels, n_classes)
        self._in_channels = in_channels

    def forward(self, x):
        """Logits of a batch of images.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, in_channels, height, width)
            Images whose sides are multiples of 4 (each reduction block halves them).

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
        features = self.lastact(self.cells(self.stem(x)))
        return self.classifier(features.mean(dim=(2, 3)))

    def check_image_shape(self, shape):
        """Refuse images the network cannot take, naming the shape it needs.

        Each reduction block halves the sides and adds its two branches: sides that are not
        multiples of 4 make them disagree deep inside the network (``The size of tensor a
        (7) must match the size of tensor b (8)``). :meth:`forward` checks every batch;
        this checks a shape without running anything.

        Parameters
        ----------
        shape : tuple of int
            ``(channels, height, width)`` of one image.

        Raises
        ------
        ValueError
            If the channels are not ``in_channels`` or a side is not a multiple of 4.

        Examples
        --------
        >>> from sknar.nn import NASBench201Network
        >>> network = NASBench201Network(["skip_connect"] * 6, C=2, N=1)
        >>> network.check_image_shape((3, 28, 28)) is None
        True
        >>> try:
        ...     network.check_image_shape((3, 30, 30))
        ... except ValueError as error:
        ...     print(str(error)[-31:])
        e.g. 32x32 or 28x28; got 30x30.
        """
        if len(shape) != 3 or shape[0] != self._in_channels:
            raise ValueError(
                f"{type(self).__name__} expects images of shape ({self._in_channels}, height, "
                f"width), got {tuple(shape)}."
            )
        height, width = int(shape[1]), int(shape[2])
        if height % 4 or width % 4 or not height or not width:
            raise ValueError(
                f"{type(self).__name__} expects images whose height and width are multiples "
                f"of 4 (its two reduction blocks halve them), e.g. 32x32 or 28x28; got "
                f"{height}x{width}."
            )

    def count_flops(self, image_size=32):
        """Operations of one forward pass of one image, counted as NAS-Bench-201 counts them.

        The network runs once under ``torch.utils.flop_counter.FlopCounterMode``; each
        operation is weighted by the space's rule: multiply-accumulates of the convolutions
        and of the classifier (not FLOPs: a multiply-add counts one), 2 per element for batch
        norm, 1 per element read by the global average pooling; ReLU, additions and the
        pooling inside cells and reduction blocks count nothing.

        Parameters
        ----------
        image_size : int, default=32
            Side of the square input: 32 for CIFAR, 16 for ImageNet16-120.

        Returns
        -------
        flops : int
            With the default sizes, the space's ``total_cost(arch, dataset)["flops"]``.

        Examples
        --------
        >>> from sknar.nn import NASBench201Network
        >>> from sknar.spaces import NASBench201Space
        >>> arch = ["nor_conv_1x1"] * 6
        >>> flops = NASBench201Network(arch, n_classes=120).count_flops(image_size=16)
        >>> flops == NASBench201Space().total_cost(arch, "ImageNet16-120")["flops"]
        True
        """
        image_size = check_positive_int(image_size, "image_size")
        shape = (1, self._in_channels, image_size, image_size)
        return count_operations(self, shape, _COUNTING_RULE)

    def extra_repr(self):
        """The line printed beside the class name: the arch string of the cell."""
        return f"arch={self.arch!r}"
