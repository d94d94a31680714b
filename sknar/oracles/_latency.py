"""The latency oracle: time the forward pass of an architecture's network."""

import numbers
import platform
import time

import numpy as np

from ..nn import build_network
from ..utils._torch import check_device, limit_threads

__all__ = ["LatencyOracle"]


def _check_count(value, name, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int of at least {low}; got {value!r}.")
    return int(value)


class LatencyOracle:
    """Time the forward pass of an architecture's network; return the median in milliseconds.

    Each call builds the network of the architecture (:func:`sknar.nn.build_network`), puts
    it in evaluation mode, runs ``n_warmup`` forward passes on a batch of ``batch_size``
    random images of ``input_shape``, then times ``n_repeats`` more one by one and returns
    their median. A value is what it says: the inference latency of this network on this
    machine, with this torch build, thread count and batch size. It changes with any of
    them, and with what else the machine is doing: compare latencies measured by one oracle
    in one session. Lower is better (use it as an objective to minimise).

    Parameters
    ----------
    space : SearchSpace
        The space of the architectures (one with a network builder, or a
        :class:`~sknar.spaces.TableSpace` of one).
    input_shape : tuple of int, default=(3, 32, 32)
        ``(channels, height, width)`` of one image; the network is built with that many
        input channels.
    batch_size : int, default=1
        Images per forward pass (1: the latency of one request).
    network_params : dict or None, default=None
        Keyword arguments of the network (``C``, ``N``, ``n_classes``, ...); by default the
        benchmark's network.
    n_warmup : int, default=3
        Untimed forward passes first (allocations, lazy initialisation, caches).
    n_repeats : int, default=20
        Timed forward passes; the median is returned.
    device : str, default="cpu"
        Where the network runs; on a GPU every pass is synchronised before the clock reads.
    n_threads : int or None, default=1
        Torch intra-op threads while timing; None keeps torch's global setting.
    cache : bool, default=True
        Remember each architecture's measurement (by the space's hash), so that a search
        asking twice, or two searches sharing the oracle, see one latency per network.

    Attributes
    ----------
    measurements_ : dict
        The cached measurements, by the space's hash of the architecture.

    Examples
    --------
    >>> from sknar.oracles import LatencyOracle
    >>> from sknar.spaces import NASBench201Space
    >>> oracle = LatencyOracle(NASBench201Space(), network_params={"C": 4, "N": 1},
    ...                        n_repeats=3)
    >>> latency_ms = oracle(["nor_conv_3x3"] * 6)
    >>> latency_ms > 0
    True
    >>> sorted(oracle.measure(["skip_connect"] * 6))[:3]
    ['batch_size', 'device', 'input_shape']
    """

    def __init__(
        self,
        space,
        *,
        input_shape=(3, 32, 32),
        batch_size=1,
        network_params=None,
        n_warmup=3,
        n_repeats=20,
        device="cpu",
        n_threads=1,
        cache=True,
    ):
        shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
        if shape is None or len(shape) != 3:
            raise ValueError(f"input_shape must be (channels, height, width); got {input_shape!r}.")
        self.space = space
        self.input_shape = tuple(_check_count(n, "input_shape entries", 1) for n in shape)
        self.batch_size = _check_count(batch_size, "batch_size", 1)
        self.network_params = dict(network_params or {})
        if "in_channels" in self.network_params:
            raise ValueError("network_params must not set in_channels: it comes from input_shape.")
        self.n_warmup = _check_count(n_warmup, "n_warmup", 0)
        self.n_repeats = _check_count(n_repeats, "n_repeats", 1)
        self.device = str(check_device(device))
        self.n_threads = None if n_threads is None else _check_count(n_threads, "n_threads", 1)
        self.cache = bool(cache)
        self.measurements_ = {}

    def __call__(self, arch):
        """The median latency of ``arch``'s network, in milliseconds."""
        return self.measure(arch)["median_ms"]

    def measure(self, arch):
        """Time ``arch``'s network; return the timings and what they were measured on.

        Parameters
        ----------
        arch : architecture
            A cell in any form the space accepts.

        Returns
        -------
        measurement : dict
            ``median_ms``, ``min_ms``, ``q25_ms``, ``q75_ms`` (over the timed passes), and
            ``n_repeats``, ``batch_size``, ``input_shape``, ``device``, ``n_threads``,
            ``torch_version``, ``machine``.
        """
        key = self.space.hash(self.space.validate(arch))
        if self.cache and key in self.measurements_:
            return dict(self.measurements_[key])
        times_ms = self._time(arch)
        q25, median, q75 = np.percentile(times_ms, [25, 50, 75])
        import torch

        measurement = {
            "median_ms": float(median),
            "min_ms": float(np.min(times_ms)),
            "q25_ms": float(q25),
            "q75_ms": float(q75),
            "n_repeats": self.n_repeats,
            "batch_size": self.batch_size,
            "input_shape": list(self.input_shape),
            "device": self.device,
            "n_threads": self.n_threads,
            "torch_version": torch.__version__,
            "machine": f"{platform.machine()} {platform.processor() or platform.system()}",
        }
        if self.cache:
            self.measurements_[key] = dict(measurement)
        return measurement

    def _time(self, arch):
        import torch

        device = torch.device(self.device)
        params = {"in_channels": self.input_shape[0], **self.network_params}
        network = build_network(self.space, arch, **params).to(device).eval()
        # Random images, not zeros: some kernels take shortcuts on zeros.
        generator = torch.Generator().manual_seed(0)
        images = torch.randn((self.batch_size, *self.input_shape), generator=generator)
        images = images.to(device)
        synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        times_ms = []
        with limit_threads(self.n_threads), torch.inference_mode():
            for _ in range(self.n_warmup):
                network(images)
            synchronize()
            for _ in range(self.n_repeats):
                started = time.perf_counter()
                network(images)
                synchronize()
                times_ms.append((time.perf_counter() - started) * 1e3)
        return np.asarray(times_ms)
