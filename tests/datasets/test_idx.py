"""The IDX reader and Fashion-MNIST: tiny files written here, good and broken in each way,
and the real files where they are."""

import gzip

import numpy as np
import pytest

from sknar.datasets import (
    FASHION_MNIST_CLASSES,
    _fashion_mnist,
    load_fashion_mnist,
    load_idx_split,
    read_idx,
)
from sknar.utils.testing import require_data


def idx_bytes(array, type_code=0x08):
    """The IDX encoding of ``array`` (big-endian header, then the values)."""
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    header = bytes([0, 0, type_code, array.ndim])
    header += np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.asarray(array, dtype=dtype[type_code]).tobytes()


def write(path, content, compress=False):
    path.write_bytes(gzip.compress(content) if compress else content)
    return path


def tiny_set(n, n_classes=4, side=4, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
    labels = (np.arange(n) % n_classes).astype(np.uint8)
    return images, labels


@pytest.fixture
def tiny_files(tmp_path):
    """Four IDX files of a tiny MNIST-like set: 80 training and 40 test images, 4 classes."""
    (train_x, train_y), (test_x, test_y) = tiny_set(80), tiny_set(40, seed=1)
    return {
        "train_images": write(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(train_x), True),
        "train_labels": write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(train_y)),
        "test_images": write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(test_x)),
        "test_labels": write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(test_y), True),
    }


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    "array, type_code",
    [
        (np.arange(24, dtype=np.uint8).reshape(2, 3, 4), 0x08),
        (np.array([-3, 0, 5], dtype=np.int8), 0x09),
        (np.array([[-300, 7]], dtype=np.int16), 0x0B),
        (np.array([70000, -1], dtype=np.int32), 0x0C),
        (np.array([0.5, -2.25], dtype=np.float32), 0x0D),
        (np.array([1e300], dtype=np.float64), 0x0E),
    ],
)
def test_read_idx_round_trips_every_type(tmp_path, array, type_code, compress):
    path = write(tmp_path / "data.idx", idx_bytes(array, type_code), compress)
    read = read_idx(path)
    np.testing.assert_array_equal(read, array)
    assert read.dtype == array.dtype and read.dtype.isnative


GOOD = idx_bytes(np.zeros((3, 2, 2), dtype=np.uint8))
BROKEN = {
    "shorter than the magic": (b"\x00\x00", "2 bytes, shorter than the 4-byte IDX magic"),
    "a non-zero first byte": (b"\x01" + GOOD[1:], r"bad IDX magic number 0x01000803"),
    "an unknown type byte": (GOOD[:2] + b"\x07" + GOOD[3:], r"bad IDX magic number 0x00000703"),
    "no dimension": (b"\x00\x00\x08\x00", r"bad IDX magic number 0x00000800"),
    "a cut header": (GOOD[:9], "the header is cut short: 3 dimension"),
    "truncated data": (GOOD[:-1], r"truncated: the header promises 3x2x2 values \(12 bytes\)"),
    "trailing bytes": (GOOD + b"\x00\x00", "2 trailing bytes after the 3x2x2 values"),
    "a text file": (b"label\n1\n2\n", "bad IDX magic number 0x6c616265"),
}


@pytest.mark.parametrize("case", BROKEN)
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_names_the_file_and_the_broken_rule(tmp_path, case, compress):
    content, message = BROKEN[case]
    path = write(tmp_path / "broken-idx3-ubyte", content, compress)
    with pytest.raises(ValueError, match=message) as raised:
        read_idx(path)
    assert str(path) in str(raised.value)


def test_read_idx_refuses_broken_gzip_and_missing_files(tmp_path):
    cut = write(tmp_path / "cut.gz", gzip.compress(GOOD * 50)[:-20])
    with pytest.raises(ValueError, match=rf"{cut}: the gzip data ends early"):
        read_idx(cut)
    corrupt = write(tmp_path / "corrupt.gz", b"\x1f\x8b" + b"not gzip" * 10)
    with pytest.raises(ValueError, match=rf"{corrupt}: corrupt gzip data"):
        read_idx(corrupt)
    with pytest.raises(FileNotFoundError, match="absent-idx3-ubyte: no such file"):
        read_idx(tmp_path / "absent-idx3-ubyte")
    with pytest.raises(IsADirectoryError):
        read_idx(tmp_path)


def test_load_idx_split_sizes_strata_and_seed(tiny_files):
    data = load_idx_split(**tiny_files, n_train=40, n_validation=20, n_test=20)
    sizes = [len(split[1]) for split in (data.train, data.validation, data.test)]
    assert sizes == [40, 20, 20] and data.n_classes == 4
    for X, y in (data.train, data.validation, data.test):
        assert X.dtype == np.float32 and X.shape[1:] == (1, 4, 4) and y.dtype == np.int64
        assert 0.0 <= X.min() and X.max() <= 1.0
        assert np.bincount(y).tolist() == [len(y) // 4] * 4  # stratified: balanced as given
    train_x = read_idx(tiny_files["train_images"]).reshape(80, -1) / 255.0
    rows = {row.astype(np.float32).tobytes(): i for i, row in enumerate(train_x)}
    picked = [
        {rows[x.reshape(-1).tobytes()] for x in split[0]} for split in (data.train, data.validation)
    ]
    assert not picked[0] & picked[1]  # validation drawn from the training files, disjoint
    again = load_idx_split(**tiny_files, n_train=40, n_validation=20, n_test=20)
    np.testing.assert_array_equal(again.train[0], data.train[0])
    other = load_idx_split(**tiny_files, n_train=40, n_validation=20, n_test=20, random_state=1)
    assert not np.array_equal(other.train[0], data.train[0])
    everything = load_idx_split(**tiny_files, n_validation=20)
    assert [len(everything.train[1]), len(everything.test[1])] == [60, 40]


def test_load_idx_split_refuses_files_that_do_not_belong_together(tiny_files, tmp_path):
    few_labels = write(tmp_path / "few-labels", idx_bytes(np.zeros(79, dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"holds 80 images but .*few-labels holds 79 labels"):
        load_idx_split(**{**tiny_files, "train_labels": few_labels})
    with pytest.raises(ValueError, match=r"not images \(magic 0x00000803"):
        load_idx_split(**{**tiny_files, "train_images": tiny_files["train_labels"]})
    with pytest.raises(ValueError, match=r"not labels \(magic 0x00000801"):
        load_idx_split(**{**tiny_files, "test_labels": tiny_files["test_images"]})
    wide = write(tmp_path / "wide", idx_bytes(np.zeros((40, 4, 6), dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"training images .* are 4x4, the test images .* 4x6"):
        load_idx_split(**{**tiny_files, "test_images": wide})
    new_class = write(tmp_path / "new-class", idx_bytes(np.full(40, 7, dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"holds labels \[7\] that .* lacks"):
        load_idx_split(**{**tiny_files, "test_labels": new_class})
    floats = write(tmp_path / "floats", idx_bytes(np.zeros((80, 4, 4)), 0x0D))
    with pytest.raises(ValueError, match="of float32, not images"):
        load_idx_split(**{**tiny_files, "train_images": floats})


def test_load_idx_split_refuses_sizes_the_files_cannot_give(tiny_files):
    with pytest.raises(ValueError, match=r"n_validation must be in \[1, 79\]"):
        load_idx_split(**tiny_files, n_validation=80)
    with pytest.raises(ValueError, match=r"n_train must be in \[1, 60\] .* after validation"):
        load_idx_split(**tiny_files, n_validation=20, n_train=61)
    with pytest.raises(ValueError, match=r"n_test must be in \[1, 40\]"):
        load_idx_split(**tiny_files, n_validation=20, n_test=0)
    with pytest.raises(ValueError, match="n_train must be a positive int, got 0.5"):
        load_idx_split(**tiny_files, n_validation=20, n_train=0.5)


def test_fashion_mnist_is_looked_for_in_the_data_home_then_debian(tmp_path, monkeypatch):
    monkeypatch.setattr(_fashion_mnist, "DEBIAN_FOLDER", tmp_path / "debian" / "fashion-mnist")
    with pytest.raises(FileNotFoundError) as raised:
        load_fashion_mnist(data_home=tmp_path / "home")
    message = str(raised.value)
    assert str(tmp_path / "home" / "fashion-mnist") in message
    assert str(tmp_path / "debian" / "fashion-mnist") in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "zalandoresearch/fashion-mnist" in message
    # the Debian folder serves when the data home has nothing; tiny files of 10 classes
    debian = tmp_path / "debian" / "fashion-mnist"
    debian.mkdir(parents=True)
    for name, n in (("train", 100), ("t10k", 50)):
        images, labels = tiny_set(n, n_classes=10, side=28)
        write(debian / f"{name}-images-idx3-ubyte", idx_bytes(images))
        write(debian / f"{name}-labels-idx1-ubyte.gz", idx_bytes(labels), True)
    data = load_fashion_mnist(n_validation=20, n_test=20, data_home=tmp_path / "home")
    assert data.directory == str(debian) and data.classes == FASHION_MNIST_CLASSES
    assert data.train[0].shape == (80, 1, 28, 28) and data.n_classes == 10
    (debian / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"some Fashion-MNIST files but not \['t10k-lab"):
        load_fashion_mnist(directory=debian)


def test_fashion_mnist_real_files():
    folder = require_data("fashion-mnist/train-images-idx3-ubyte.gz").parent
    train = read_idx(folder / "train-images-idx3-ubyte.gz")
    train_labels = read_idx(folder / "train-labels-idx1-ubyte.gz")
    test_labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz")
    assert train.shape == (60000, 28, 28) and train.dtype == np.uint8
    assert test_labels.shape == (10000,)
    assert np.bincount(train_labels).tolist() == [6000] * 10
    assert np.bincount(test_labels).tolist() == [1000] * 10
    data = load_fashion_mnist(
        n_train=1000, n_validation=500, n_test=2000, directory=folder, random_state=3
    )
    assert [len(s[1]) for s in (data.train, data.validation, data.test)] == [1000, 500, 2000]
    assert data.train[0].shape[1:] == (1, 28, 28) and data.n_classes == 10
    for split, n in ((data.train, 100), (data.validation, 50), (data.test, 200)):
        assert np.bincount(split[1]).tolist() == [n] * 10
    again = load_fashion_mnist(
        n_train=1000, n_validation=500, n_test=2000, directory=folder, random_state=3
    )
    np.testing.assert_array_equal(again.validation[0], data.validation[0])
