"""ZeroCostScorer: the training-free scores of a space's cells, computed once per network."""

import hashlib
import json
import numbers
import os
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ..utils._torch import limit_threads

__all__ = ["SCORES", "ZeroCostScorer"]

#: The scores ZeroCostScorer computes, by name.
SCORES = ("synflow", "grad_norm", "naswot", "jacov")
_DATA_FREE = {"synflow"}
_CACHE_FORMAT = 1


class ZeroCostScorer(TransformerMixin, BaseEstimator):
    """Training-free scores of architectures: gradient norm, SynFlow, NASWOT, Jacobian cov.

    Each cell's network is built with :func:`sknar.nn.build_network` (NAS-Bench-201 and
    NAS-Bench-101 cells) from the weights torch draws with a seed fixed by
    ``random_state``, and scored without training, in seconds on a CPU:

    - ``"synflow"`` (:func:`~sknar.proxies.synflow`): data-free; absolute weights, no batch
      normalisation, one all-ones input, double precision.
    - ``"grad_norm"`` (:func:`~sknar.proxies.grad_norm`): summed norms of the weights'
      cross-entropy gradient on one batch.
    - ``"naswot"`` (:func:`~sknar.proxies.naswot`): log-determinant of the kernel of the
      ReLU activation patterns of one batch.
    - ``"jacov"`` (:func:`~sknar.proxies.jacob_cov`): Jacobian covariance of one batch.

    The batch is the first ``batch_size`` rows of ``data``; without data, a stand-in batch
    of standard normal images with random labels (drawn from ``random_state``), which the
    data-dependent scores then measure instead of the user's images. Cells that compute the
    same network (the space's :meth:`~sknar.spaces.SearchSpace.representatives`) are built
    once, from the representative, and share their scores, which are kept in ``cache_`` by
    the space's hash of the network and, with ``cache`` set, in a JSON file that later
    scorers with the same settings read instead of computing again.

    Parameters
    ----------
    space : SearchSpace
        :class:`~sknar.spaces.NASBench201Space`, :class:`~sknar.spaces.NASBench101Space`,
        or a :class:`~sknar.spaces.TableSpace` of one of them.
    scores : sequence of str, default=SCORES
        Which scores, in the order of :meth:`transform`'s columns; names of :data:`SCORES`.
    data : tuple (X, y) or None, default=None
        Images of shape (n, channels, height, width) and integer labels of shape (n,);
        only the first ``batch_size`` are used. None uses a stand-in batch.
    batch_size : int, default=64
        Size of the one batch of the data-dependent scores, at least 2.
    image_size : int, default=32
        Side of the stand-in images and of SynFlow's all-ones input when ``data`` is None;
        otherwise the data's shape is used.
    network_params : dict or None, default=None
        Keyword arguments of the network class (``C``, ``N``, ``in_channels``,
        ``n_classes``, ...; see :class:`~sknar.nn.NASBench201Network`). None builds the
        benchmark's network (10 classes, 3 input channels).
    cache : str, path or None, default=None
        A JSON file of computed scores: read in :meth:`fit` when it exists (it must have
        been written with the same settings), written after each :meth:`transform` that
        computed new ones. None keeps the scores in memory only.
    random_state : int, RandomState instance or None, default=0
        Seeds the networks' initial weights (each network from the same seed, whatever
        the order in which cells are scored) and the stand-in batch.
    n_threads : int or None, default=1
        Torch intra-op threads while scoring; None keeps torch's global setting.

    Attributes
    ----------
    cache_ : dict
        Scores computed so far: network hash -> {score name: value}.
    settings_ : dict
        What the scores depend on: network parameters, batch shape, data fingerprint and
        seed; a cache file must match them.
    seed_ : int
        The torch seed of every network's initial weights.

    Examples
    --------
    >>> from sknar.proxies import ZeroCostScorer
    >>> from sknar.spaces import NASBench201Space
    >>> scorer = ZeroCostScorer(NASBench201Space(), batch_size=4, image_size=8,
    ...                         network_params={"C": 4, "N": 1})
    >>> cells = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|"
    ...          "nor_conv_3x3~1|nor_conv_3x3~2|", "|avg_pool_3x3~0|+|none~0|none~1|"
    ...          "+|skip_connect~0|none~1|none~2|"]
    >>> scores = scorer.fit().compute(cells)
    >>> sorted(scores), scores["synflow"].shape
    (['grad_norm', 'jacov', 'naswot', 'synflow'], (2,))
    >>> bool(scores["synflow"][0] > scores["synflow"][1])  # convolutions carry the flow
    True
    """

    _parameter_constraints: dict = {
        "space": "no_validation",
        "scores": [list, tuple],
        "data": [tuple, None],
        "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "image_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "network_params": [dict, None],
        "cache": [str, os.PathLike, None],
        "random_state": ["random_state"],
        "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        space,
        *,
        scores=SCORES,
        data=None,
        batch_size=64,
        image_size=32,
        network_params=None,
        cache=None,
        random_state=0,
        n_threads=1,
    ):
        self.space = space
        self.scores = scores
        self.data = data
        self.batch_size = batch_size
        self.image_size = image_size
        self.network_params = network_params
        self.cache = cache
        self.random_state = random_state
        self.n_threads = n_threads

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Check the settings, draw the batch, and read the cache file if there is one.

        Parameters
        ----------
        X, y : None
            Ignored: the scores need no training data.

        Returns
        -------
        self : ZeroCostScorer
        """
        unknown = [name for name in self.scores if name not in SCORES]
        if unknown or not self.scores:
            raise ValueError(
                f"scores must name some of {list(SCORES)}; got {list(self.scores)!r}"
                + (f" ({unknown} unknown)." if unknown else ".")
            )
        rng = check_random_state(self.random_state)
        self.seed_ = int(rng.randint(np.iinfo(np.int32).max))
        self._check_space()
        self.batch_X_, self.batch_y_ = self._batch(rng)
        self.settings_ = {
            "space": getattr(self.space, "name", type(self.space).__name__),
            "network_params": dict(self.network_params or {}),
            "batch_shape": list(self.batch_X_.shape),
            "data": _fingerprint(self.batch_X_, self.batch_y_) if self.data is not None
            else "stand-in: standard normal images, random labels",
            "seed": self.seed_,
        }
        self.cache_ = self._read_cache()
        return self

    def compute(self, archs):
        """Scores of each architecture, by name.

        Parameters
        ----------
        archs : sequence of architectures
            Cells in any form the space accepts.

        Returns
        -------
        scores : dict of str -> ndarray of shape (n_archs,)
            One array per name in ``scores``, float64.
        """
        check_is_fitted(self)
        representatives = self.space.representatives(list(archs))
        keys = [self.space.hash(arch) for arch in representatives]
        computed = False
        for key, arch in zip(keys, representatives):
            missing = [n for n in self.scores if n not in self.cache_.get(key, {})]
            if missing:
                self.cache_.setdefault(key, {}).update(self._score_network(arch, missing))
                computed = True
        if computed and self.cache is not None:
            self._write_cache()
        return {
            name: np.array([self.cache_[key][name] for key in keys], dtype=np.float64)
            for name in self.scores
        }

    def transform(self, archs):
        """The scores as columns, in the order of ``scores``.

        Parameters
        ----------
        archs : sequence of architectures

        Returns
        -------
        X : ndarray of shape (n_archs, len(scores))
        """
        scores = self.compute(archs)
        return np.column_stack([scores[name] for name in self.scores])

    def get_feature_names_out(self, input_features=None):
        """Names of the columns of :meth:`transform`: the score names.

        Parameters
        ----------
        input_features : None
            Ignored: the input is architectures, not named columns.

        Returns
        -------
        names : ndarray of str
        """
        return np.asarray(list(self.scores), dtype=object)

    # --- internals ----------------------------------------------------------------------

    def _check_space(self):
        from ..nn import build_network

        try:
            build_network(self.space, self.space.sample(1, random_state=0)[0],
                          **self._network_params())
        except (TypeError, ValueError) as error:
            raise ValueError(f"ZeroCostScorer cannot build this space's networks: {error}") \
                from None

    def _network_params(self):
        return dict(self.network_params or {})

    def _batch(self, rng):
        import torch

        if self.data is None:
            channels = self._network_params().get("in_channels", 3)
            n_classes = self._network_params().get("n_classes", 10)
            shape = (self.batch_size, channels, self.image_size, self.image_size)
            X = rng.standard_normal(shape).astype(np.float32)
            y = rng.randint(n_classes, size=self.batch_size)
        else:
            if len(self.data) != 2:
                raise ValueError("data must be a pair (X, y) of images and labels.")
            X, y = (np.asarray(part) for part in self.data)
            if X.ndim != 4 or y.shape != (len(X),):
                raise ValueError(
                    "data must hold images X of shape (n, channels, height, width) and "
                    f"labels y of shape (n,); got X {X.shape} and y {y.shape}."
                )
            if len(X) < 2:
                raise ValueError(f"data holds {len(X)} image; the scores need at least 2.")
            X = X[: self.batch_size].astype(np.float32)
            y = y[: self.batch_size].astype(np.int64)
        return torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(y.astype(np.int64))

    def _score_network(self, arch, names):
        import torch

        from ..nn import build_network
        from ._scores import grad_norm, jacob_cov, naswot, synflow

        with torch.random.fork_rng(devices=[]), limit_threads(self.n_threads):
            torch.manual_seed(self.seed_)
            network = build_network(self.space, arch, **self._network_params())
            functions = {
                "synflow": lambda: synflow(network, tuple(self.batch_X_.shape[1:])),
                "grad_norm": lambda: grad_norm(network, self.batch_X_, self.batch_y_),
                "naswot": lambda: naswot(network, self.batch_X_),
                "jacov": lambda: jacob_cov(network, self.batch_X_),
            }
            return {name: float(functions[name]()) for name in names}

    def _read_cache(self):
        if self.cache is None or not Path(self.cache).exists():
            return {}
        with open(self.cache) as file:
            stored = json.load(file)
        if stored.get("format") != _CACHE_FORMAT or stored.get("settings") != self.settings_:
            raise ValueError(
                f"the cache file {os.fspath(self.cache)!r} holds scores computed with other "
                f"settings ({stored.get('settings')!r}, here {self.settings_!r}); use "
                "another file, or the settings it was written with."
            )
        return {key: dict(values) for key, values in stored["scores"].items()}

    def _write_cache(self):
        path = Path(self.cache)
        partial = path.with_name(path.name + ".partial")
        with open(partial, "w") as file:
            json.dump({"format": _CACHE_FORMAT, "settings": self.settings_,
                       "scores": self.cache_}, file)
        os.replace(partial, path)


def _fingerprint(X, y):
    digest = hashlib.sha256()
    for part in (X, y):
        digest.update(np.ascontiguousarray(part.numpy()).tobytes())
    return digest.hexdigest()[:16]
