"""scikit-learn's handwritten digits as images: a real data set on every machine."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

__all__ = ["load_digits_split"]

# Pixels of the digits are integers from 0 to 16.
_MAX_PIXEL = 16.0


def load_digits_split(*, validation_size=0.2, test_size=0.2, random_state=0):
    """scikit-learn's handwritten digits as 8x8 one-channel images, split three ways.

    The 1,797 images of :func:`sklearn.datasets.load_digits` (bundled with scikit-learn, so
    available offline) are scaled to [0, 1] and split, stratified by class, into a training,
    a validation and a held-out test split. A search selects on the validation split; the
    test split measures the architecture it finds.

    Parameters
    ----------
    validation_size, test_size : float, default=0.2
        Fractions of all images in the validation and test splits.
    random_state : int, default=0
        Seed of the split: the same seed gives the same split everywhere.

    Returns
    -------
    data : Bunch
        ``train``, ``validation``, ``test``: ``(X, y)`` pairs, ``X`` float32 of shape
        ``(n, 1, 8, 8)``, ``y`` int64 labels; ``n_classes`` (10).

    Examples
    --------
    >>> from sknar.oracles import load_digits_split
    >>> digits = load_digits_split()
    >>> X, y = digits.train
    >>> X.shape, len(digits.validation[1]), len(digits.test[1])
    ((1077, 1, 8, 8), 360, 360)
    """
    for name, size in (("validation_size", validation_size), ("test_size", test_size)):
        if not 0 < size < 1:
            raise ValueError(f"{name} must be in (0, 1), got {size!r}.")
    if validation_size + test_size >= 1:
        raise ValueError(
            f"validation_size + test_size must be below 1, got {validation_size + test_size}."
        )
    digits = load_digits()
    X = (digits.images / _MAX_PIXEL).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=random_state
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest,
        y_rest,
        test_size=validation_size / (1 - test_size),
        stratify=y_rest,
        random_state=random_state,
    )
    return Bunch(
        train=(X_train, y_train),
        validation=(X_val, y_val),
        test=(X_test, y_test),
        n_classes=int(y.max()) + 1,
    )
