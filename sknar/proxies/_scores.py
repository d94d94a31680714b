"""Training-free scores of a network: gradient norm, SynFlow, NASWOT and Jacobian covariance.

Each takes any torch module that maps a batch of inputs to logits, follows the reference
implementation of the zero-cost proxies (Abdelfattah et al., ICLR 2021) and of the papers
that introduced them, and leaves the module as it found it (weights, mode, gradients).
"""

import copy
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

__all__ = ["grad_norm", "jacob_cov", "naswot", "synflow"]

# The layers whose weights the per-layer scores sum over, as in the reference code.
_SCORED_LAYERS = (nn.Conv2d, nn.Linear)
_JACOB_COV_EPSILON = 1e-5


def grad_norm(network, X, y):
    """Sum over the convolution and linear layers of the norm of the loss gradient.

    The cross-entropy of ``network(X)`` against ``y`` is back-propagated once; the score is
    ``sum_l ||dL/dW_l||_2`` over the weights ``W_l`` of every ``Conv2d`` and ``Linear``
    layer (Frobenius norms; biases are not counted). The network runs in training mode
    (batch norm uses the batch's statistics).

    Parameters
    ----------
    network : torch.nn.Module
        Maps ``X`` to logits of shape (n, n_classes).
    X : torch.Tensor of shape (n, ...)
        One batch of inputs.
    y : torch.LongTensor of shape (n,)
        Class labels.

    Returns
    -------
    score : float

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sknar.proxies import grad_norm
    >>> net = nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     _ = net.weight.zero_(), net.bias.zero_()
    >>> # Uniform logits: the gradient is (softmax - one-hot) x^T / n.
    >>> round(grad_norm(net, torch.tensor([[2.0, 0.0]]), torch.tensor([0])), 4)
    1.4142
    """
    with _scratch(network) as net:
        net.train()
        loss = nn.functional.cross_entropy(net(X), y)
        loss.backward()
        total = 0.0
        for layer in _scored_layers(net):
            if layer.weight.grad is not None:
                total += float(layer.weight.grad.norm())
    return total


def synflow(network, input_shape):
    """SynFlow: the data-free synaptic flow of the network with its weights made positive.

    As in Tanaka et al. (2020) and the zero-cost proxies' code: every parameter is replaced
    by its absolute value, batch normalisation is removed (so no batch statistic enters),
    the network is computed in double precision on one all-ones input of ``input_shape``,
    and ``R = sum(network(ones))`` is back-propagated. The score is
    ``sum_l sum |W_l * dR/dW_l|`` over the weights of every ``Conv2d`` and ``Linear``
    layer. The products grow with depth, hence double precision.

    Parameters
    ----------
    network : torch.nn.Module
        Maps a batch to outputs; it is copied, not changed.
    input_shape : tuple of int
        Shape of one input without the batch axis, e.g. ``(3, 32, 32)``.

    Returns
    -------
    score : float

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sknar.proxies import synflow
    >>> net = nn.Linear(3, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = net.weight.copy_(torch.tensor([[1.0, -2.0, 3.0]]))
    >>> synflow(net, (3,))  # R = sum |w| and dR/dw = 1: the score is sum |w|
    6.0
    """
    net = copy.deepcopy(network)
    _remove_batch_norm(net)
    net.double().eval()
    with torch.no_grad():
        for value in net.state_dict().values():
            if value.is_floating_point():
                value.abs_()
    net.zero_grad(set_to_none=True)
    output = net(torch.ones((1, *input_shape), dtype=torch.float64))
    torch.sum(output).backward()
    total = 0.0
    for layer in _scored_layers(net):
        if layer.weight.grad is not None:
            total += float(torch.sum(torch.abs(layer.weight.detach() * layer.weight.grad)))
    return total


def naswot(network, X):
    """NASWOT: log-determinant of the kernel of the ReLU binary codes on one batch.

    Mellor et al. (2021): at every ``nn.ReLU`` module, each input of the batch gets the
    binary code of which units are active (``pre-activation > 0``); the kernel counts,
    for each pair of inputs, the units where their codes agree,
    ``K = sum_relus (c c^T + (1 - c)(1 - c)^T)``, and the score is ``log |det K|``.
    Networks that separate the inputs well (codes far apart) score higher. The network
    runs in training mode, without gradients.

    Parameters
    ----------
    network : torch.nn.Module
        Its ReLUs must be ``nn.ReLU`` modules (functional ReLUs are not seen).
    X : torch.Tensor of shape (n, ...)
        One batch of inputs; ``n`` distinct inputs.

    Returns
    -------
    score : float
        ``-inf`` when the kernel is singular (e.g. two inputs with the same codes).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sknar.proxies import naswot
    >>> net = nn.Sequential(nn.Identity(), nn.ReLU())
    >>> X = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])  # codes (1, 0) and (0, 1)
    >>> naswot(net, X)  # K = [[2, 0], [0, 2]]: log 4
    1.3862943611198906
    """
    kernel = relu_code_kernel(network, X)
    sign, logdet = np.linalg.slogdet(kernel)
    return float(logdet) if sign > 0 else float("-inf")


def relu_code_kernel(network, X):
    """The NASWOT kernel ``K`` of :func:`naswot`, shape (n, n), float64.

    Parameters
    ----------
    network : torch.nn.Module
    X : torch.Tensor of shape (n, ...)

    Returns
    -------
    kernel : ndarray of shape (n, n)
    """
    n = X.shape[0]
    kernel = torch.zeros((n, n), dtype=torch.float64)

    def add_codes(module, inputs, output):
        codes = (inputs[0].detach().reshape(n, -1) > 0).to(torch.float64)
        kernel.add_(codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T)

    with _scratch(network) as net:
        net.train()
        hooks = [m.register_forward_hook(add_codes) for m in net.modules()
                 if isinstance(m, nn.ReLU)]
        try:
            with torch.no_grad():
                net(X)
        finally:
            for hook in hooks:
                hook.remove()
    return kernel.numpy()


def jacob_cov(network, X):
    """Jacobian covariance: how differently the network's output moves with each input.

    Mellor et al. (2020, the first version of NASWOT) as in the zero-cost proxies' code:
    ``J`` holds, per input, the gradient of the sum of its outputs with respect to that
    input (flattened); with the eigenvalues ``v`` of the correlation matrix of the rows of
    ``J``, the score is ``-sum(log(v + k) + 1 / (v + k))``, ``k = 1e-5``. Uncorrelated
    Jacobians (eigenvalues near 1) score higher. Training mode, one batch.

    Parameters
    ----------
    network : torch.nn.Module
    X : torch.Tensor of shape (n, ...)
        One batch of inputs, ``n >= 2``.

    Returns
    -------
    score : float
        NaN when a Jacobian row is constant (its correlation is undefined).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sknar.proxies import jacob_cov
    >>> net = nn.Sequential(nn.ReLU(), nn.Linear(2, 1, bias=False))
    >>> with torch.no_grad():
    ...     _ = net[1].weight.copy_(torch.tensor([[1.0, 2.0]]))
    >>> X = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])  # rows of J: (1, 0) and (0, 2)
    >>> round(jacob_cov(net, X), 2)  # correlation -1: eigenvalues 0 and 2; 1 / k dominates
    -99989.68
    """
    jacobian = input_jacobian(network, X)
    with np.errstate(invalid="ignore", divide="ignore"):
        correlations = np.corrcoef(jacobian)
    if not np.all(np.isfinite(correlations)):
        return float("nan")
    eigenvalues = np.linalg.eigvalsh(correlations)
    shifted = eigenvalues + _JACOB_COV_EPSILON
    return float(-np.sum(np.log(shifted) + 1.0 / shifted))


def input_jacobian(network, X):
    """Gradient of each input's output sum with respect to that input, shape (n, d).

    Parameters
    ----------
    network : torch.nn.Module
    X : torch.Tensor of shape (n, ...)

    Returns
    -------
    jacobian : ndarray of shape (n, prod(X.shape[1:])), float64
    """
    X = X.detach().clone().requires_grad_(True)
    with _scratch(network) as net:
        net.train()
        output = net(X)
        output.backward(torch.ones_like(output))
    if X.grad is None:
        # The output does not depend on the input (e.g. a cell that connects nothing).
        return np.zeros((X.shape[0], X[0].numel()))
    return X.grad.reshape(X.shape[0], -1).double().numpy()


@contextmanager
def _scratch(network):
    """A copy of the network to score: the caller's weights, mode, buffers (batch-norm
    running statistics) and gradients stay as they were."""
    net = copy.deepcopy(network)
    net.zero_grad(set_to_none=True)
    yield net


def _scored_layers(network):
    return [m for m in network.modules() if isinstance(m, _SCORED_LAYERS)]


def _remove_batch_norm(network):
    for name, child in network.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(network, name, nn.Identity())
        else:
            _remove_batch_norm(child)
