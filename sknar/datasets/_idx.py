"""Image data sets in the IDX format (MNIST, Fashion-MNIST, KMNIST), split three ways.

An IDX file is a big-endian header, then the array's bytes: two zero bytes, a type byte
(0x08 unsigned bytes, ... 0x0E doubles), the number of dimensions, one 4-byte size per
dimension. Images are 3-d unsigned bytes (magic 0x00000803), labels 1-d (0x00000801).
"""

import gzip
import math
import zlib
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from ._base import GZIP_MAGIC, check_file

__all__ = ["load_idx_split", "read_idx"]

# The type byte of the header: numpy's big-endian dtype of the data.
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_HEADER_BYTES = 4
_IMAGES_MAGIC = 0x00000803
_LABELS_MAGIC = 0x00000801
_MAX_PIXEL = 255.0
EXPECTED = "an IDX file (the MNIST format)"


def read_idx(path):
    """Read one IDX file, gzip'd or not, into a NumPy array.

    Every rule of the format is checked and a broken one named with the file: the magic
    number (two zero bytes, a known type byte, a number of dimensions), the header's sizes
    against the bytes that follow (a truncated file, or trailing bytes), a gzip stream cut
    short or corrupt.

    Parameters
    ----------
    path : str or path-like
        The file; gzip'd or not, told by its first bytes (not its name).

    Returns
    -------
    array : numpy.ndarray
        Of the header's shape and type, in native byte order (``uint8`` for images and
        labels of MNIST-like data sets).

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        For a missing file or a directory.
    ValueError
        For a file that breaks the format; the message names the file and the rule.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sknar.datasets import read_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> with open(path, "wb") as handle:
    ...     _ = handle.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(path)
    array([7, 2, 1], dtype=uint8)
    """
    path = check_file(path, EXPECTED)
    data = _read_bytes(path)
    if len(data) < _HEADER_BYTES:
        raise ValueError(
            f"{path}: {len(data)} bytes, shorter than the 4-byte IDX magic number; "
            f"expected {EXPECTED}"
        )
    zeros, type_code, ndim = data[:2], data[2], data[3]
    if zeros != b"\x00\x00" or type_code not in _IDX_TYPES or ndim == 0:
        raise ValueError(
            f"{path}: bad IDX magic number 0x{data[:4].hex()} (expected two zero bytes, a "
            f"type byte among {', '.join(f'0x{code:02x}' for code in _IDX_TYPES)} and a "
            f"number of dimensions above 0, e.g. 0x{_IMAGES_MAGIC:08x} for images, "
            f"0x{_LABELS_MAGIC:08x} for labels); expected {EXPECTED}"
        )
    header_end = _HEADER_BYTES + 4 * ndim
    if len(data) < header_end:
        raise ValueError(
            f"{path}: the header is cut short: {ndim} dimension(s) need {header_end} bytes, "
            f"the file holds {len(data)}"
        )
    shape = tuple(int(size) for size in np.frombuffer(data, ">u4", ndim, _HEADER_BYTES))
    dtype = _IDX_TYPES[type_code]
    expected_bytes = math.prod(shape) * dtype.itemsize
    payload = len(data) - header_end
    dims = "x".join(map(str, shape))
    if payload < expected_bytes:
        raise ValueError(
            f"{path}: truncated: the header promises {dims} values ({expected_bytes:,} bytes), "
            f"the file holds {payload:,} bytes of data (an interrupted download?)"
        )
    if payload > expected_bytes:
        raise ValueError(
            f"{path}: {payload - expected_bytes:,} trailing bytes after the {dims} values the "
            "header announces (a wrong header, or two files joined?)"
        )
    array = np.frombuffer(data, dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _read_bytes(path):
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    if not compressed:
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read()
    except EOFError:
        raise ValueError(
            f"{path}: the gzip data ends early (a truncated download?); expected {EXPECTED}"
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path}: corrupt gzip data ({exc}); expected {EXPECTED}") from None


def read_idx_images_and_labels(images, labels):
    """Images (n, height, width) and labels (n,) of two IDX files that belong together.

    Parameters
    ----------
    images, labels : str or path-like
        The images file (magic 0x00000803) and the labels file (magic 0x00000801).

    Returns
    -------
    X : numpy.ndarray of uint8, shape (n, height, width)
    y : numpy.ndarray of uint8, shape (n,)
    """
    X = _read_kind(images, "images", 3)
    y = _read_kind(labels, "labels", 1)
    if len(X) != len(y):
        raise ValueError(
            f"{images} holds {len(X):,} images but {labels} holds {len(y):,} labels: the two "
            "files must come from the same set"
        )
    return X, y


def _read_kind(path, kind, ndim):
    array = read_idx(path)
    magic = _IMAGES_MAGIC if ndim == 3 else _LABELS_MAGIC
    if array.dtype != np.uint8 or array.ndim != ndim:
        raise ValueError(
            f"{Path(path)}: an IDX file of {array.ndim} dimension(s) of {array.dtype}, not "
            f"{kind} (magic 0x{magic:08x}: {ndim} dimension(s) of unsigned bytes)"
        )
    if len(array) == 0:
        raise ValueError(f"{Path(path)}: holds no {kind}")
    return array


def load_idx_split(
    train_images,
    train_labels,
    test_images,
    test_labels,
    *,
    n_train=None,
    n_validation=10_000,
    n_test=None,
    random_state=0,
):
    """Images of IDX files, split three ways: training, validation and test.

    The validation split is drawn from the training files, stratified by class; the
    training split from what remains (all of it, or ``n_train`` images, stratified); the
    test split from the test files (all of them, or ``n_test`` images, stratified). Pixels
    are scaled from 0-255 to [0, 1]. The same seed gives the same splits everywhere.

    Parameters
    ----------
    train_images, train_labels, test_images, test_labels : str or path-like
        The four IDX files (gzip'd or not), as MNIST ships them.
    n_train : int or None, default=None
        Images in the training split; None keeps every training image not in the
        validation split.
    n_validation : int, default=10_000
        Images in the validation split, taken from the training files.
    n_test : int or None, default=None
        Images in the test split; None keeps all of the test files.
    random_state : int, default=0
        Seed of the draws.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``train``, ``validation``, ``test``: ``(X, y)`` pairs, ``X`` float32 of shape
        ``(n, 1, height, width)`` in [0, 1], ``y`` int64 labels; ``n_classes`` (the
        largest training label plus one).

    Raises
    ------
    ValueError
        For a bad file (named, with the rule it breaks), files that do not match (image
        counts against label counts, image sizes of the training and test files), test
        labels the training files lack, or sizes the files cannot give.

    See Also
    --------
    load_fashion_mnist : The same for Fashion-MNIST, found where it is installed.
    read_idx : One IDX file as an array.

    Examples
    --------
    Four tiny files of 2x2 images in two classes, written here (MNIST's are the same, larger):

    >>> import os, tempfile
    >>> import numpy as np
    >>> from sknar.datasets import load_idx_split
    >>> folder = tempfile.mkdtemp()
    >>> def write(name, array):
    ...     header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    ...     with open(os.path.join(folder, name), "wb") as handle:
    ...         _ = handle.write(header + array.astype(np.uint8).tobytes())
    >>> for name, n in (("train", 20), ("test", 10)):
    ...     write(f"{name}-images", np.full((n, 2, 2), 255))
    ...     write(f"{name}-labels", np.arange(n) % 2)
    >>> paths = [os.path.join(folder, name) for name in
    ...          ("train-images", "train-labels", "test-images", "test-labels")]
    >>> data = load_idx_split(*paths, n_train=8, n_validation=4, n_test=6)
    >>> data.train[0].shape, np.bincount(data.validation[1]).tolist(), float(data.test[0].max())
    ((8, 1, 2, 2), [2, 2], 1.0)
    """
    X, y = read_idx_images_and_labels(train_images, train_labels)
    X_test, y_test = read_idx_images_and_labels(test_images, test_labels)
    if X.shape[1:] != X_test.shape[1:]:
        raise ValueError(
            f"the training images ({train_images}) are {X.shape[1]}x{X.shape[2]}, the test "
            f"images ({test_images}) {X_test.shape[1]}x{X_test.shape[2]}"
        )
    unseen = np.setdiff1d(y_test, y)
    if len(unseen):
        raise ValueError(f"{test_labels} holds labels {unseen.tolist()} that {train_labels} lacks")
    n_validation = _check_size(n_validation, "n_validation", len(y) - 1, train_labels)
    rest, validation = _stratified_split(y, np.arange(len(y)), n_validation, random_state)
    if n_train is not None:
        n_train = _check_size(n_train, "n_train", len(rest), train_labels, "after validation")
        rest = _stratified_subset(y, rest, n_train, random_state)
    test = np.arange(len(y_test))
    if n_test is not None:
        n_test = _check_size(n_test, "n_test", len(y_test), test_labels)
        test = _stratified_subset(y_test, test, n_test, random_state)
    return Bunch(
        train=_as_split(X, y, rest),
        validation=_as_split(X, y, validation),
        test=_as_split(X_test, y_test, test),
        n_classes=int(y.max()) + 1,
    )


def _check_size(value, name, available, file, where=""):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    if not 1 <= value <= available:
        raise ValueError(
            f"{name} must be in [1, {available:,}] ({file} holds {available:,} images"
            f"{' ' + where if where else ''}), got {value!r}"
        )
    return int(value)


def _stratified_split(y, indices, n_second, random_state):
    """Split ``indices`` in two, the second of ``n_second`` items, stratified by ``y``."""
    labels = y[indices]
    try:
        return train_test_split(
            indices, test_size=n_second, stratify=labels, random_state=random_state
        )
    except ValueError:
        # Too few images of a class to stratify: a plain seeded draw.
        return train_test_split(indices, test_size=n_second, random_state=random_state)


def _stratified_subset(y, indices, n, random_state):
    if n == len(indices):
        return indices
    return _stratified_split(y, indices, n, random_state)[1]


def _as_split(X, y, indices):
    indices = np.sort(indices)
    images = (X[indices].astype(np.float32) / _MAX_PIXEL)[:, None, :, :]
    return images, y[indices].astype(np.int64)
