"""Fashion-MNIST (Zalando Research): 70,000 28x28 grey images of clothes in 10 classes."""

from pathlib import Path

from ._base import DATA_ENV_VAR, get_data_home
from ._idx import load_idx_split

__all__ = ["FASHION_MNIST_CLASSES", "load_fashion_mnist"]

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FOLDER = "fashion-mnist"
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
HOW_TO_GET = (
    "Install Debian's package dataset-fashion-mnist (apt-get install dataset-fashion-mnist; "
    f"files under {DEBIAN_FOLDER}), or download the four files of Zalando Research "
    "(https://github.com/zalandoresearch/fashion-mnist, folder data/fashion: "
    + ", ".join(f"{name}.gz" for name in FILES.values())
    + f") into <data_home>/{FOLDER}/, or pass directory= to the folder that holds them."
)

DESCR = """Fashion-MNIST
-------------
Zalando Research's article images: 60,000 training and 10,000 test images of 28x28 grey
pixels, 10 balanced classes ({classes}). MIT licence.
Splits: validation ({n_validation:,}) and training ({n_train:,}) drawn from the training
files, stratified; test ({n_test:,}) from the test files. Pixels scaled to [0, 1].
Files: {folder}
"""


def load_fashion_mnist(
    *,
    n_train=None,
    n_validation=10_000,
    n_test=None,
    directory=None,
    data_home=None,
    random_state=0,
):
    """Fashion-MNIST as 1x28x28 images, split three ways: training, validation and test.

    The four IDX files are read (and checked) by :func:`load_idx_split`. They are looked for,
    gzip'd or not, in ``directory`` when given, else in ``<data home>/fashion-mnist/``
    (the ``SKNAR_DATA`` environment variable, or ``~/sknar_data``), then in
    ``/usr/share/datasets/fashion-mnist/``, where Debian's package
    ``dataset-fashion-mnist`` installs them. Nothing is downloaded.

    Parameters
    ----------
    n_train : int or None, default=None
        Images in the training split; None keeps the 50,000 (60,000 less the validation
        split). A search trains many networks: a few thousand images are usual.
    n_validation : int, default=10_000
        Images in the validation split, drawn from the training files.
    n_test : int or None, default=None
        Images in the test split; None keeps the 10,000 of the test files.
    directory : str or path-like, default=None
        The folder of the four files; it wins over the other places.
    data_home : str or path-like, default=None
        See :func:`sknar.datasets.get_data_home`.
    random_state : int, default=0
        Seed of the draws (stratified by class).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``train``, ``validation``, ``test``: ``(X, y)`` pairs, ``X`` float32 of shape
        ``(n, 1, 28, 28)`` in [0, 1], ``y`` int64 labels from 0 to 9; ``n_classes`` (10),
        ``classes`` (the class names), ``directory`` and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        When the files are in none of the places (the message lists them and says how to
        get the files).
    ValueError
        For a bad file (named, with the rule it breaks) or sizes the files cannot give.

    Examples
    --------
    >>> from sknar.datasets import load_fashion_mnist  # doctest: +SKIP
    >>> data = load_fashion_mnist(n_train=2000, n_validation=500, n_test=1000)  # doctest: +SKIP
    >>> data.train[0].shape, data.classes[9]  # doctest: +SKIP
    ((2000, 1, 28, 28), 'Ankle boot')
    """
    folder, files = _find_files(directory, data_home)
    data = load_idx_split(
        **files,
        n_train=n_train,
        n_validation=n_validation,
        n_test=n_test,
        random_state=random_state,
    )
    if data.n_classes != len(FASHION_MNIST_CLASSES):
        raise ValueError(
            f"{files['train_labels']}: labels from 0 to {data.n_classes - 1}; Fashion-MNIST "
            f"has {len(FASHION_MNIST_CLASSES)} classes (0 to 9). Another data set?"
        )
    data.classes = FASHION_MNIST_CLASSES
    data.directory = str(folder)
    data.DESCR = DESCR.format(
        classes=", ".join(FASHION_MNIST_CLASSES),
        n_train=len(data.train[1]),
        n_validation=len(data.validation[1]),
        n_test=len(data.test[1]),
        folder=folder,
    )
    return data


def _find_files(directory, data_home):
    """The first folder holding the four files, and their paths; or where it looked."""
    if directory is not None:
        folders = [Path(directory).expanduser()]
    else:
        folders = [get_data_home(data_home) / FOLDER, DEBIAN_FOLDER]
    for folder in folders:
        files = {key: _file(folder, name) for key, name in FILES.items()}
        if all(files.values()):
            return folder, files
        if any(files.values()):
            missing = [name for key, name in FILES.items() if files[key] is None]
            raise FileNotFoundError(
                f"{folder} holds some Fashion-MNIST files but not {missing} (plain or .gz). "
                f"{HOW_TO_GET}"
            )
    where = " nor ".join(str(folder) for folder in folders)
    env = "" if directory is not None else f" (the data home is set by {DATA_ENV_VAR})"
    raise FileNotFoundError(f"Fashion-MNIST was found neither in {where}{env}. {HOW_TO_GET}")


def _file(folder, name):
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None
