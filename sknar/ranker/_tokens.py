"""How NARRanker reads X as tokens: the patch layout, op codes and identical tokens."""

from math import isqrt

import numpy as np

from ..encoding import get_patch_layout

_MAX_AUTO_PATCH_SIZE = 16


def token_layout(X, *, n_patches=None, patch_size=None):
    """``(n_patches, patch_size)`` of X: given, carried by X, or the largest square patch.

    The encoder's output (and a DataFrame of it) carries its layout; for a plain array
    without an explicit layout the patch size is the largest ``P <= 16`` whose square
    divides the width.
    """
    try:
        return get_patch_layout(X, n_patches=n_patches, patch_size=patch_size)
    except ValueError:
        if n_patches is not None or patch_size is not None or np.ndim(X) != 2:
            raise
    width = np.shape(X)[1]
    patch_size = max(
        p for p in range(1, min(_MAX_AUTO_PATCH_SIZE, isqrt(max(width, 1))) + 1)
        if width % (p * p) == 0
    )
    return width // (patch_size * patch_size), patch_size


def count_op_codes(op_patches, max_codes=64):
    """Number of op codes if the first patch holds small non-negative integers, else None.

    NAR's first patch is the op-code patch; treating its entries as categories lets the model
    tell ops apart that cost nothing (skip, pooling, zero). Generic tabular X, whose first
    values are not such codes, keeps a plain linear embedding.
    """
    if op_patches.size == 0 or not np.all(np.isfinite(op_patches)):
        return None
    if op_patches.min() < 0 or not np.array_equal(op_patches, np.round(op_patches)):
        return None
    n_codes = int(op_patches.max()) + 1
    return n_codes if 2 <= n_codes <= max_codes else None


def token_view(X, patch_size):
    """X as (n_samples, n_tokens, patch_size ** 2)."""
    return X.reshape(len(X), -1, patch_size * patch_size)


def identical_tokens(X, n_patches, patch_size, *, merge):
    """Kept token indices and, for every token, the kept token it equals.

    Tokens are compared over all training rows; the first of each group of identical tokens
    is kept, so the op-code patch (token 0) stays first.
    """
    if not merge:
        everything = np.arange(n_patches)
        return everything, everything
    tokens = token_view(X, patch_size)
    first_seen = {}
    twins = np.empty(n_patches, dtype=np.intp)
    for token in range(n_patches):
        values = np.ascontiguousarray(tokens[:, token]).tobytes()
        twins[token] = first_seen.setdefault(values, token)
    return np.unique(twins), twins


def check_merged_tokens(X, token_twins, patch_size):
    """Raise a ValueError naming the first merged token of X that differs from its twin."""
    tokens = token_view(X, patch_size)
    for token, twin in enumerate(token_twins):
        if token == twin:
            continue
        differs = np.flatnonzero(np.any(tokens[:, token] != tokens[:, twin], axis=1))
        if differs.size:
            raise ValueError(
                f"token {token} of X differs from token {twin} at row {differs[0]}, "
                "but the two were identical in every training architecture and were "
                "merged (merge_identical_tokens=True). Fit on architectures that show "
                "the difference, or with merge_identical_tokens=False."
            )
