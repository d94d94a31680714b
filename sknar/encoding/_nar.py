"""The NAR (ReNAS) feature tensor as a scikit-learn transformer."""

import numbers
import warnings
from math import isqrt

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _ArchitectureEncoder, _fill_encoder_docstring

_COST_KINDS = ("flops", "params")


class PatchMatrix(np.ndarray):
    """A 2-D float array of flattened patches that remembers its token layout.

    :class:`NARFeatureEncoder` returns this ndarray subclass so that the next step of a
    pipeline (e.g. :class:`~sknar.ranker.NARRanker`) can read the layout without the user
    repeating it. It behaves as a plain ndarray everywhere; ``np.asarray`` gives the plain
    array. The attributes survive row slicing and pickling; an operation that changes the
    width (e.g. selecting columns) drops them (they become None).

    Parameters
    ----------
    array : array-like of shape (n_samples, n_patches * patch_size ** 2)
        The flattened patches (viewed, not copied, when already an ndarray).
    n_patches : int
        Number of patches (tokens) per row.
    patch_size : int
        Side ``P`` of the square patches.

    Attributes
    ----------
    n_patches : int or None
        Number of patches (tokens) per row.
    patch_size : int or None
        Side ``P`` of the square patches; each row holds ``n_patches * P * P`` values, patch
        after patch, each patch row-major.

    Examples
    --------
    >>> import numpy as np
    >>> from sknar.encoding import PatchMatrix
    >>> X = PatchMatrix(np.zeros((3, 2 * 4 * 4), dtype=np.float32), n_patches=2, patch_size=4)
    >>> X[:2].n_patches, X[:2].patch_size
    (2, 4)
    >>> type(np.asarray(X)).__name__
    'ndarray'
    """

    def __new__(cls, array, n_patches, patch_size):
        obj = np.asarray(array).view(cls)
        obj.n_patches = n_patches
        obj.patch_size = patch_size
        obj._drop_layout_if_inconsistent()
        return obj

    def __array_finalize__(self, obj):
        self.n_patches = getattr(obj, "n_patches", None)
        self.patch_size = getattr(obj, "patch_size", None)
        self._drop_layout_if_inconsistent()

    def _drop_layout_if_inconsistent(self):
        if self.n_patches is None or self.patch_size is None:
            return
        if self.ndim != 2 or self.shape[1] != self.n_patches * self.patch_size**2:
            self.n_patches = self.patch_size = None

    def __reduce__(self):
        constructor, args, state = super().__reduce__()
        return constructor, args, (state, self.n_patches, self.patch_size)

    def __setstate__(self, state):
        array_state, self.n_patches, self.patch_size = state
        super().__setstate__(array_state)


def get_patch_layout(X, *, n_patches=None, patch_size=None):
    """Token layout ``(n_patches, patch_size)`` of a flattened NAR feature matrix.

    The layout given explicitly wins; otherwise it is read from a :class:`PatchMatrix`
    (what :class:`NARFeatureEncoder` returns) or from the column names of a DataFrame made by
    the encoder's ``set_output(transform="pandas")``. Giving one of the two is enough when
    the width determines the other.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_patches * patch_size ** 2)
        Flattened patches.
    n_patches : int, default=None
        Number of patches per row.
    patch_size : int, default=None
        Side of the square patches.

    Returns
    -------
    n_patches : int
        Number of patches (tokens) per row.
    patch_size : int
        Side of the square patches.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, the layout cannot be found, or it does not match the width.

    Examples
    --------
    >>> import numpy as np
    >>> from sknar.encoding import get_patch_layout
    >>> get_patch_layout(np.zeros((5, 19 * 49)), patch_size=7)
    (19, 7)
    """
    shape = np.shape(X)
    if len(shape) != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {shape}.")
    width = shape[1]
    if n_patches is None and patch_size is None:
        n_patches, patch_size = _layout_carried_by(X)
    if n_patches is None and patch_size is None:
        raise ValueError(
            f"cannot tell the patch layout of X (width {width}): pass n_patches and/or "
            "patch_size, or use the output of NARFeatureEncoder."
        )
    if patch_size is None:
        patch_size = isqrt(width // n_patches) if n_patches > 0 else 0
    elif n_patches is None:
        n_patches = width // (patch_size**2) if patch_size > 0 else 0
    n_patches, patch_size = int(n_patches), int(patch_size)
    if n_patches < 1 or patch_size < 1 or n_patches * patch_size**2 != width:
        raise ValueError(
            f"wrong feature width: X has {width} columns, which is not n_patches * "
            f"patch_size ** 2 with n_patches={n_patches}, patch_size={patch_size}."
        )
    return n_patches, patch_size


def _layout_carried_by(X):
    """Layout stored on a PatchMatrix, or parsed from encoder column names, else Nones."""
    n_patches = getattr(X, "n_patches", None)
    patch_size = getattr(X, "patch_size", None)
    if n_patches is not None and patch_size is not None:
        return n_patches, patch_size
    columns = getattr(X, "columns", None)
    if columns is None:
        return None, None
    op_columns = [name for name in columns if isinstance(name, str) and name.startswith("ops_r")]
    if not op_columns or str(columns[0]) != "ops_r0_c0":
        return None, None
    patch_size = isqrt(len(op_columns))
    return (len(columns) // max(len(op_columns), 1)), patch_size


def _patch_feature_names(n_cells, patch_size):
    prefixes = ["ops"] + [f"cell{cell}_{kind}" for cell in range(n_cells) for kind in _COST_KINDS]
    entries = [f"r{row}_c{col}" for row in range(patch_size) for col in range(patch_size)]
    names = [f"{prefix}_{entry}" for prefix in prefixes for entry in entries]
    return np.asarray(names, dtype=object)


@_fill_encoder_docstring
class NARFeatureEncoder(_ArchitectureEncoder):
    """Encode architectures as the flattened NAR (ReNAS) feature tensor.

    Each architecture becomes ``n_patches`` square patches of side ``P = space.max_nodes``:
    patch 0 is the op-code patch (the cell adjacency with each entry replaced by the code of
    the op it leads to, or carries in edge-op spaces); then, for each of the ``n_cells`` cells
    of the macro network, its FLOPs patch and its parameter-count patch (the same adjacency
    entries holding the cost of that node or edge in that cell). Patches are concatenated in
    that order, each row-major: NAS-Bench-101 gives 19 patches of 7x7 (931 columns),
    NAS-Bench-201 31 patches of 4x4 (496 columns) for the chosen dataset's macro network, and
    a space without cost features (``n_cells == 0``) the op-code patch only. The raw patches
    come from ``space.patch_features``, so any space following the
    :class:`~sknar.spaces.SearchSpace` protocol works, user spaces included.

    Read more in the :ref:`User Guide <encoding>`.

    Parameters
    ----------
    %(space)s
    dataset : str, default=None
        Whose macro network the costs are computed for (one of ``space.cost_datasets``);
        None uses the space's default. Must be None for spaces whose cost does not depend on
        a dataset.
    scale : {"log", "linear"} or None, default="log"
        How FLOPs and parameter counts are scaled (the op codes are never scaled).
        ``fit`` learns one reference value per kind, ``s_flops`` and ``s_params``: the
        geometric mean of the non-zero entries of that kind over the training patches.

        - ``"log"``: ``log1p(x / s)``; zero stays zero and a cost equal to the reference
          maps to ``log 2``.
        - ``"linear"``: ``x / s``.
        - None: raw counts, as the space reports them.
    %(merge_isomorphic)s
    chunk_size : int, default=4096
        Architectures encoded at a time; bounds the float64 working memory of a transform to
        about ``chunk_size * n_patches * P * P * 8`` bytes beyond the float32 output.

    Attributes
    ----------
    n_patches_ : int
        Number of patches (tokens) per architecture, ``1 + 2 * n_cells_``.
    patch_size_ : int
        Side ``P`` of each patch (``space.max_nodes``).
    n_cells_ : int
        Number of cells with cost patches (``space.n_cells``).
    scale_ : dict or None
        ``{"flops": s_flops, "params": s_params}``, the learned references (None when
        ``scale=None`` or the space has no cost cells). A kind with no non-zero entry in
        the training data gets 1.0, with a warning.

    See Also
    --------
    get_patch_layout : Read the layout back from the encoded matrix.
    AdjacencyOneHotEncoder : Adjacency and one-hot op encoding for baseline models.
    PathEncoder : Path (BANANAS) encoding for baseline models.

    %(architecture_input_notes)s

    ``transform`` returns a float32 :class:`PatchMatrix` (an ndarray subclass carrying
    ``n_patches`` and ``patch_size``) so that ``make_pipeline(NARFeatureEncoder(space),
    NARRanker())`` needs no layout argument; with ``set_output(transform="pandas")`` the
    column names (``ops_r0_c1``, ``cell3_flops_r0_c1``, ``cell3_params_r0_c1``, ...) carry it.

    Examples
    --------
    >>> from sknar.encoding import NARFeatureEncoder
    >>> from sknar.spaces import NASBench201Space
    >>> space = NASBench201Space()
    >>> archs = space.sample(8, random_state=0)
    >>> encoder = NARFeatureEncoder(space).fit(archs)
    >>> X = encoder.transform(archs)
    >>> X.shape, X.dtype, (encoder.n_patches_, encoder.patch_size_)
    ((8, 496), dtype('float32'), (31, 4))
    >>> encoder.get_feature_names_out()[[0, 16, 32]].tolist()
    ['ops_r0_c0', 'cell0_flops_r0_c0', 'cell0_params_r0_c0']
    """

    _parameter_constraints: dict = {
        **_ArchitectureEncoder._parameter_constraints,
        "dataset": [str, None],
        "scale": [StrOptions({"log", "linear"}), None],
        "chunk_size": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, space, *, dataset=None, scale="log", merge_isomorphic=True, chunk_size=4096):
        self.space = space
        self.dataset = dataset
        self.scale = scale
        self.merge_isomorphic = merge_isomorphic
        self.chunk_size = chunk_size

    def _fit(self, archs):
        self._set_layout()
        stats = _CostStatistics()
        for _, features in self._iter_patch_chunks(archs):
            stats.update(features)
        self._set_scale(stats)

    def _fit_transform(self, archs):
        self._set_layout()
        stats = _CostStatistics()
        out = self._empty_output(len(archs))
        for start, features in self._iter_patch_chunks(archs):
            stats.update(features)
            self._write_raw(out, start, features)
        self._set_scale(stats)
        for start in range(0, len(archs), self.chunk_size):
            self._scale_rows(out, start, min(start + self.chunk_size, len(archs)))
        return PatchMatrix(out, self.n_patches_, self.patch_size_)

    def _transform(self, archs):
        out = self._empty_output(len(archs))
        for start, features in self._iter_patch_chunks(archs):
            self._write_raw(out, start, features)
            self._scale_rows(out, start, start + features.ops.shape[0])
        return PatchMatrix(out, self.n_patches_, self.patch_size_)

    def _feature_names(self):
        return _patch_feature_names(self.n_cells_, self.patch_size_)

    def _check_space_settings(self):
        if self.dataset is not None and self.space.cost_datasets is None:
            raise ValueError(
                f"dataset={self.dataset!r} was given but the costs of space "
                f"{self.space.name!r} do not depend on a dataset; leave dataset=None."
            )

    def _set_layout(self):
        self.n_cells_ = int(self.space.n_cells)
        self.patch_size_ = int(self.space.max_nodes)
        self.n_patches_ = 1 + 2 * self.n_cells_

    def _empty_output(self, n_archs):
        return np.empty((n_archs, self.n_patches_ * self.patch_size_**2), dtype=np.float32)

    def _iter_patch_chunks(self, archs):
        """Yield ``(start, PatchFeatures)`` chunk by chunk, with errors naming input indices."""
        for start in range(0, len(archs), self.chunk_size):
            chunk = archs[start : start + self.chunk_size]
            with self._naming_bad_architectures(chunk, offset=start):
                features = self.space.patch_features(
                    self._network_forms(chunk), dataset=self.dataset
                )
            self._check_patch_shapes(features, len(chunk))
            yield start, features

    def _check_patch_shapes(self, features, n_archs):
        side = self.patch_size_
        expected = {
            "ops": (n_archs, side, side),
            "flops": (n_archs, self.n_cells_, side, side),
            "params": (n_archs, self.n_cells_, side, side),
        }
        for field, shape in expected.items():
            got = np.shape(getattr(features, field))
            if got != shape:
                raise ValueError(
                    f"space {self.space.name!r} returned {field} patches of shape {got}, "
                    f"expected {shape} (max_nodes={side}, n_cells={self.n_cells_})."
                )
        for kind in _COST_KINDS:
            if np.any(getattr(features, kind) < 0):
                raise ValueError(f"space {self.space.name!r} returned negative {kind}.")

    def _patch_view(self, out, start, stop):
        side = self.patch_size_
        return out[start:stop].reshape(stop - start, self.n_patches_, side, side)

    def _write_raw(self, out, start, features):
        block = self._patch_view(out, start, start + features.ops.shape[0])
        block[:, 0] = features.ops
        block[:, 1::2] = features.flops
        block[:, 2::2] = features.params

    def _scale_rows(self, out, start, stop):
        if self.scale_ is None:
            return
        block = self._patch_view(out, start, stop)
        for offset, kind in enumerate(_COST_KINDS, start=1):
            patches = block[:, offset::2]
            patches *= np.float32(1.0 / self.scale_[kind])
            if self.scale == "log":
                np.log1p(patches, out=patches)

    def _set_scale(self, stats):
        if self.scale is None or self.n_cells_ == 0:
            self.scale_ = None
            return
        self.scale_ = {}
        for kind in _COST_KINDS:
            reference = stats.geometric_mean(kind)
            if reference is None:
                # Frames above: _fit, fit, scikit-learn's _fit_context, then the caller of fit.
                warnings.warn(
                    f"no non-zero {kind} in the training architectures; scaling {kind} "
                    "by 1.0. Fit on more varied architectures for a meaningful scale.",
                    UserWarning,
                    stacklevel=5,
                )
                reference = 1.0
            self.scale_[kind] = reference


class _CostStatistics:
    """Running geometric mean of the non-zero FLOPs and params entries."""

    def __init__(self):
        self.log_sum = dict.fromkeys(_COST_KINDS, 0.0)
        self.count = dict.fromkeys(_COST_KINDS, 0)

    def update(self, features):
        for kind in _COST_KINDS:
            values = np.asarray(getattr(features, kind))
            positive = values[values > 0]
            self.log_sum[kind] += float(np.log(positive).sum())
            self.count[kind] += int(positive.size)

    def geometric_mean(self, kind):
        if self.count[kind] == 0:
            return None
        return float(np.exp(self.log_sum[kind] / self.count[kind]))
