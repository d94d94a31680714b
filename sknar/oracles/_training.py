"""The training oracle: build an architecture's network, train it, return its accuracy."""

import math
import numbers
import time

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, TensorDataset

from ..nn import build_network
from ..utils._torch import check_device, limit_threads

__all__ = ["TrainingError", "TrainingOracle"]

_SEED_MAX = np.iinfo(np.int32).max
_EVAL_BATCH = 512
_OUT_OF_MEMORY = (torch.cuda.OutOfMemoryError, getattr(torch, "OutOfMemoryError", MemoryError))


class TrainingError(RuntimeError):
    """A training that produced no accuracy: a non-finite loss, or out of memory.

    The message names the architecture; a search records the evaluation as failed.

    Examples
    --------
    >>> from sknar.oracles import TrainingError
    >>> issubclass(TrainingError, RuntimeError)
    True
    """


class _CallbackFailed(Exception):
    """Carries an exception of a per-epoch callback out of the training unchanged."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


class TrainingOracle:
    """Train the network of an architecture on given data; return its validation accuracy.

    Each call builds the network of the architecture (:func:`sknar.nn.build_network`, so
    NAS-Bench-201 and NAS-Bench-101 cells), trains it from scratch on ``train`` for
    ``epochs`` epochs and returns its accuracy on ``validation``, a fraction in [0, 1]. The
    recipe is NAS-Bench-201's: cross-entropy, SGD with Nesterov momentum 0.9 and weight decay
    5e-4, the learning rate decayed from ``learning_rate`` to 0 by a cosine over all steps,
    batches reshuffled every epoch. Every call starts from the same seed: the same
    architecture gets the same accuracy, and two architectures the same initial draws and
    batch order where their networks allow.

    Parameters
    ----------
    space : SearchSpace
        The space of the architectures (one with a network builder, or a
        :class:`~sknar.spaces.TableSpace` of one).
    train, validation : (X, y) pair or torch.utils.data.Dataset
        The two splits, given explicitly (nothing is split off silently). ``X`` is an array
        of images of shape ``(n, channels, height, width)``, ``y`` the integer labels; a
        ``Dataset`` yields ``(image, label)`` pairs.
    network_params : dict or None, default=None
        Keyword arguments of the network (e.g. ``{"C": 8, "N": 1}``: a smaller network than
        the benchmark's). ``in_channels`` and ``n_classes`` are taken from the data.
    epochs : int, default=5
    batch_size : int, default=64
    learning_rate : float, default=0.1
    momentum : float, default=0.9
    weight_decay : float, default=5e-4
    n_classes : int or None, default=None
        Number of classes; None infers it from the labels of ``(X, y)`` pairs (the largest
        label plus one). Required with a ``Dataset``.
    device : str or torch.device, default="cpu"
        Where the network trains, e.g. ``"cuda"``.
    n_threads : int or None, default=1
        Torch intra-op threads during a training or an evaluation; the previous setting is
        restored afterwards. One thread per training suits small networks and parallel
        searches (one training per core); threads of a training on a busy machine spin
        against each other. None keeps torch's global setting.
    random_state : int, RandomState instance or None, default=0
        Seed of the initial weights and of the batch order (the same for every call); None
        draws a new seed at each call. The global random generators are left untouched.
    verbose : bool, default=False
        Show a progress bar over the epochs of each training.

    Attributes
    ----------
    in_channels, n_classes : int
        The network's input channels and outputs, from the data.

    Raises
    ------
    ValueError
        On data of the wrong shape or type, labels out of range, or bad parameters.

    See Also
    --------
    sknar.oracles.load_digits_split : scikit-learn's digits as images, split three ways.

    Notes
    -----
    The data are checked at construction: two training classes or more, no validation label
    that the training split lacks, images the network can take (their size and channels),
    a device that exists. A call raises :class:`TrainingError`, naming
    the architecture, when the loss stops being finite or the device runs out of memory. The
    oracle pickles (with its data), so that a parallel search can ship it to its workers. On
    a GPU, training is deterministic only as far as cuDNN's kernels are.

    Examples
    --------
    >>> from sknar.oracles import TrainingOracle, load_digits_split
    >>> from sknar.spaces import NASBench201Space
    >>> digits = load_digits_split()
    >>> oracle = TrainingOracle(NASBench201Space(), digits.train, digits.validation,
    ...                         network_params={"C": 4, "N": 1}, epochs=1)
    >>> accuracy = oracle(["nor_conv_3x3"] * 6)
    >>> 0.0 <= accuracy <= 1.0
    True
    >>> accuracy == oracle(["nor_conv_3x3"] * 6)  # the same seed at every call
    True
    """

    def __init__(
        self,
        space,
        train,
        validation,
        *,
        network_params=None,
        epochs=5,
        batch_size=64,
        learning_rate=0.1,
        momentum=0.9,
        weight_decay=5e-4,
        n_classes=None,
        device="cpu",
        n_threads=1,
        random_state=0,
        verbose=False,
    ):
        self.space = space
        self.network_params = dict(network_params or {})
        self.epochs = _check_int(epochs, "epochs")
        self.batch_size = _check_int(batch_size, "batch_size")
        self.learning_rate = _check_real(learning_rate, "learning_rate", low=0, low_open=True)
        self.momentum = _check_real(momentum, "momentum", low=0, high=1)
        self.weight_decay = _check_real(weight_decay, "weight_decay", low=0)
        self.device = str(check_device(device))
        self.n_threads = None if n_threads is None else _check_int(n_threads, "n_threads")
        self.random_state = random_state
        self.verbose = verbose
        self.train = _check_split(train, "train")
        self.validation = _check_split(validation, "validation")
        self.in_channels = _image_channels(self.train, "train")
        self.n_classes = _check_n_classes(n_classes, self.train, self.validation)
        for name in ("in_channels", "n_classes"):
            if name in self.network_params:
                raise ValueError(
                    f"network_params must not set {name!r}: it is taken from the data "
                    f"({getattr(self, name)})."
                )
        # Fail now, not in the middle of a search, if the space has no network or a network
        # parameter is wrong (built on the meta device: nothing is allocated).
        with torch.device("meta"):
            network = build_network(
                space, space.sample(1, random_state=0)[0], **self._network_kwargs()
            )
        self._check_image_size(network)

    def _check_image_size(self, network):
        """Refuse images the network cannot take, before any training (nothing runs)."""
        shape = _image_shape(self.train)
        validation_shape = _image_shape(self.validation)
        if validation_shape != shape:
            raise ValueError(
                f"the validation images are of shape {validation_shape}, the training images "
                f"of shape {shape}: a network scores images of the size it was trained on."
            )
        check = getattr(network, "check_image_shape", None)
        if check is None:
            return
        try:
            check(shape)
        except ValueError as exc:
            raise ValueError(
                f"the images of the train split do not fit the network: {exc}"
            ) from None

    def _network_kwargs(self):
        return {**self.network_params, "in_channels": self.in_channels, "n_classes": self.n_classes}

    def __call__(self, arch, *, epochs=None, on_epoch=None):
        """Validation accuracy (a fraction) of ``arch``'s network trained on ``train``.

        Parameters
        ----------
        arch : architecture
            Any form the space accepts.
        epochs : int or None, default=None
            The fidelity: epochs of this training, over a cosine schedule of that length
            (see :meth:`evaluate`). None trains the oracle's ``epochs``.
        on_epoch : callable or None, default=None
            ``on_epoch(epoch, accuracy)``, called after every epoch (counted from 1) with
            the validation accuracy so far. An exception it raises stops the training and
            propagates unchanged (a pruner stops an unpromising training this way).

        Returns
        -------
        accuracy : float
        """
        return self.evaluate(arch, epochs=epochs, on_epoch=on_epoch)["accuracy"]

    def evaluate(self, arch, data=None, *, epochs=None, on_epoch=None):
        """Train ``arch``'s network and return its validation accuracy with its fidelity.

        A fidelity is a whole training with a shorter schedule: ``epochs=12`` trains 12
        epochs with the learning rate decayed to 0 by a cosine over those 12 epochs, as
        NATS-Bench's 12-epoch runs are, not the first 12 epochs of the long schedule (whose
        learning rate would still be high, its accuracy that of a network in mid-training).
        A promotion to a higher fidelity trains afresh from the same seed: nothing is kept
        between calls, so the oracle stays a pure function of ``(arch, epochs)`` that any
        worker can evaluate, and a low fidelity costs its epochs once more at promotion.

        Parameters
        ----------
        arch : architecture
            Any form the space accepts.
        data : None
            Kept for the former use ``evaluate(network, data)``, the accuracy of a trained
            network on a split: it still works, and :meth:`score` is its name now.
        epochs : int or None, default=None
            Epochs of this training (the fidelity); None trains the oracle's ``epochs``.
        on_epoch : callable or None, default=None
            ``on_epoch(epoch, accuracy)``, called after every epoch (counted from 1) with
            the validation accuracy so far; the last call's accuracy is the result's. An
            exception it raises stops the training and propagates unchanged. Without it, the
            validation split is scored once, at the end.

        Returns
        -------
        result : dict
            ``"accuracy"`` (validation accuracy, a fraction), ``"epochs"`` (the fidelity it
            was measured at) and ``"seconds"`` (wall time of the training and scoring).

        Raises
        ------
        TrainingError
            If the loss is not finite or the device runs out of memory.

        Examples
        --------
        >>> from sknar.oracles import TrainingOracle, load_digits_split
        >>> from sknar.spaces import NASBench201Space
        >>> digits = load_digits_split()
        >>> oracle = TrainingOracle(NASBench201Space(), digits.train, digits.validation,
        ...                         network_params={"C": 4, "N": 1}, epochs=3)
        >>> seen = []
        >>> result = oracle.evaluate(["nor_conv_3x3"] * 6, epochs=2,
        ...                          on_epoch=lambda epoch, acc: seen.append(epoch))
        >>> result["epochs"], seen, result["accuracy"] == oracle(["nor_conv_3x3"] * 6, epochs=2)
        (2, [1, 2], True)
        """
        if isinstance(arch, nn.Module):
            if data is None:
                raise ValueError("evaluate(network, data) needs the split to score.")
            return self.score(arch, data)
        if data is not None:
            raise ValueError(
                "evaluate(arch) trains the architecture and scores the validation split; "
                "score a trained network on another split with score(network, data)."
            )
        epochs = self.epochs if epochs is None else _check_int(epochs, "epochs")
        if on_epoch is not None and not callable(on_epoch):
            raise ValueError(f"on_epoch must be callable or None, got {on_epoch!r}.")
        start = time.perf_counter()
        scores = []

        def after_epoch(network, epoch):
            scores.append(self.score(network, self.validation))
            on_epoch(epoch, scores[-1])

        network = self.train_network(
            arch, epochs=epochs, after_epoch=None if on_epoch is None else after_epoch
        )
        accuracy = scores[-1] if scores else self.score(network, self.validation)
        return {"accuracy": accuracy, "epochs": epochs, "seconds": time.perf_counter() - start}

    def train_network(self, arch, *, epochs=None, after_epoch=None):
        """Build the network of ``arch`` and train it with the oracle's recipe.

        Parameters
        ----------
        arch : architecture
            Any form the space accepts.
        epochs : int or None, default=None
            Epochs of the training (its cosine schedule spans them); None trains the
            oracle's ``epochs``.
        after_epoch : callable or None, default=None
            ``after_epoch(network, epoch)``, called after every epoch (counted from 1) with
            the network in training; an exception it raises stops the training and
            propagates unchanged.

        Returns
        -------
        network : torch.nn.Module
            The trained network, in eval mode, on the oracle's device.

        Raises
        ------
        TrainingError
            If the loss is not finite or the device runs out of memory.

        Examples
        --------
        >>> from sknar.oracles import TrainingOracle, load_digits_split
        >>> from sknar.spaces import NASBench201Space
        >>> digits = load_digits_split()
        >>> oracle = TrainingOracle(NASBench201Space(), digits.train, digits.validation,
        ...                         network_params={"C": 4, "N": 1}, epochs=1)
        >>> network = oracle.train_network(["nor_conv_1x1"] * 6)
        >>> 0.0 <= oracle.score(network, digits.test) <= 1.0
        True
        """
        arch = self.space.validate(arch)
        epochs = self.epochs if epochs is None else _check_int(epochs, "epochs")
        seed = _training_seed(self.random_state)
        device = torch.device(self.device)
        try:
            with limit_threads(self.n_threads), torch.random.fork_rng(_cuda_devices(device)):
                torch.manual_seed(seed)
                network = build_network(self.space, arch, **self._network_kwargs())
                self._fit(network.to(device), arch, seed, epochs, after_epoch)
        except _CallbackFailed as failed:
            error = failed.error
        except _OUT_OF_MEMORY as exc:
            raise TrainingError(
                f"training architecture {arch!r} ran out of memory on {self.device}: {exc}"
            ) from exc
        except RuntimeError as exc:
            if "out of memory" not in str(exc) and "can't allocate memory" not in str(exc):
                raise
            raise TrainingError(
                f"training architecture {arch!r} ran out of memory on {self.device}: {exc}"
            ) from exc
        else:
            return network.eval()
        # Raised outside the handlers: the callback's exception as it was, with no context.
        raise error

    def _fit(self, network, arch, seed, epochs, after_epoch=None):
        batches = _training_batches(self.train, self.batch_size, seed)
        optimizer = torch.optim.SGD(
            network.parameters(),
            lr=self.learning_rate,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            nesterov=self.momentum > 0,
        )
        # The schedule spans this training's epochs: a low fidelity is a short schedule.
        total_steps = epochs * len(batches)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
        device = next(network.parameters()).device
        network.train()
        for epoch in self._epochs(arch, epochs):
            for step, (images, labels) in enumerate(batches):
                images, labels = images.to(device), labels.to(device)
                loss = nn.functional.cross_entropy(network(images), labels)
                if not torch.isfinite(loss):
                    raise TrainingError(
                        f"training architecture {arch!r} failed: the loss is {loss.item()} at "
                        f"epoch {epoch + 1}, step {step + 1}."
                    )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
            if after_epoch is not None:
                try:
                    after_epoch(network, epoch + 1)
                except Exception as exc:
                    # Carried past the out-of-memory translation of train_network.
                    raise _CallbackFailed(exc) from None
                finally:
                    network.train()

    def _epochs(self, arch, epochs):
        epochs = range(epochs)
        if not self.verbose:
            return epochs
        from tqdm.auto import tqdm

        return tqdm(epochs, desc=f"training {arch!r}"[:60], unit="epoch", leave=False)

    def score(self, network, data):
        """Accuracy (a fraction) of a network on a split.

        Parameters
        ----------
        network : torch.nn.Module
            A network returning logits, e.g. from :meth:`train_network`.
        data : (X, y) pair or torch.utils.data.Dataset
            The split to score, e.g. a held-out test split.

        Returns
        -------
        accuracy : float
        """
        data = data if isinstance(data, Dataset) else _check_split(data, "data")
        device = next(network.parameters()).device
        was_training = network.training
        network.eval()
        correct = total = 0
        try:
            with torch.no_grad(), limit_threads(self.n_threads):
                for images, labels in _evaluation_batches(data):
                    predicted = network(images.to(device)).argmax(dim=1).cpu()
                    correct += int((predicted == labels).sum())
                    total += len(labels)
        finally:
            network.train(was_training)
        return correct / total

    def describe(self):
        """What makes this oracle's accuracies what they are, as a search journal records it.

        The space, the network's parameters, the recipe, the seed and the data (as arrays,
        which a journal records by shape and digest); not the device, the threads or the
        progress bar, which change how a training runs, not what it measures. A journal
        whose oracle is described otherwise belongs to another experiment.

        Returns
        -------
        description : dict

        Examples
        --------
        >>> from sknar.oracles import TrainingOracle, load_digits_split
        >>> from sknar.spaces import NASBench201Space
        >>> digits = load_digits_split()
        >>> oracle = TrainingOracle(NASBench201Space(), digits.train, digits.validation,
        ...                         network_params={"C": 4, "N": 1}, epochs=1)
        >>> description = oracle.describe()
        >>> description["epochs"], description["train"][0].shape
        (1, (1077, 1, 8, 8))
        """
        random_state = self.random_state
        if not (random_state is None or isinstance(random_state, numbers.Integral)):
            random_state = type(random_state).__name__  # a generator: its state is not kept
        return {
            "space": self.space,
            "network_params": self.network_params,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "in_channels": self.in_channels,
            "n_classes": self.n_classes,
            "random_state": random_state,
            "train": _describe_split(self.train),
            "validation": _describe_split(self.validation),
        }

    def __repr__(self):
        return (
            f"TrainingOracle(space={self.space!r}, n_train={len(self.train)}, "
            f"n_validation={len(self.validation)}, epochs={self.epochs}, "
            f"network_params={self.network_params!r}, device={self.device!r})"
        )


def _image_shape(data):
    return tuple(torch.as_tensor(np.asarray(data[0][0])).shape)


def _describe_split(data):
    if isinstance(data, TensorDataset):
        return tuple(tensor.numpy() for tensor in data.tensors)
    return {"dataset": f"{type(data).__module__}.{type(data).__qualname__}", "length": len(data)}


def _training_seed(random_state):
    if random_state is None:
        # Fresh entropy, not numpy's global generator: the caller's state stays as it was.
        return int(np.random.SeedSequence().generate_state(1)[0] % _SEED_MAX)
    return int(check_random_state(random_state).randint(_SEED_MAX))


def _cuda_devices(device):
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def _evaluation_batches(data):
    if isinstance(data, TensorDataset):
        images, labels = data.tensors
        for start in range(0, len(labels), _EVAL_BATCH):
            yield images[start : start + _EVAL_BATCH], labels[start : start + _EVAL_BATCH]
        return
    # A generator of its own: a DataLoader without one draws from the global generator.
    yield from DataLoader(data, batch_size=_EVAL_BATCH, generator=torch.Generator())


def _training_batches(data, batch_size, seed):
    """Batches of a split, reshuffled at each pass by a generator seeded with ``seed``."""
    generator = torch.Generator().manual_seed(int(seed))
    if isinstance(data, TensorDataset):
        # In-memory tensors are indexed one batch at a time, not one sample at a time.
        sampler = BatchSampler(RandomSampler(data, generator=generator), batch_size, False)
        return DataLoader(data, sampler=sampler, batch_size=None)
    return DataLoader(data, batch_size=batch_size, shuffle=True, generator=generator)


# --- checks of the data and parameters -------------------------------------------------


def _check_split(data, name):
    """A Dataset as is, or an ``(X, y)`` pair as a TensorDataset of float32 and int64."""
    if isinstance(data, Dataset):
        if len(data) == 0:
            raise ValueError(f"the {name} split is empty.")
        return data
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(
            f"the {name} split must be an (X, y) pair of arrays or a torch Dataset, got "
            f"{type(data).__name__}."
        )
    X, y = (np.asarray(part.cpu() if torch.is_tensor(part) else part) for part in data)
    if X.ndim != 4:
        raise ValueError(
            f"X of the {name} split must be images of shape (n, channels, height, width), "
            f"got shape {X.shape}."
        )
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(
            f"y of the {name} split must have shape ({len(X)},) to match X, got {y.shape}."
        )
    if len(X) == 0:
        raise ValueError(f"the {name} split is empty.")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.issubdtype(y.dtype, np.number) or np.any(y != np.round(y)):
            raise ValueError(f"y of the {name} split must hold integer class labels.")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"X of the {name} split holds NaN or infinite values.")
    return TensorDataset(
        torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y.astype(np.int64))
    )


def _image_channels(data, name):
    image = data[0][0]
    if not torch.is_tensor(image):
        image = torch.as_tensor(np.asarray(image))
    if image.ndim != 3:
        raise ValueError(
            f"the {name} split must hold images of shape (channels, height, width), got an "
            f"item of shape {tuple(image.shape)}."
        )
    return int(image.shape[0])


def _labels(data):
    return data.tensors[1] if isinstance(data, TensorDataset) else None


def _check_n_classes(n_classes, train, validation):
    labels = {"train": _labels(train), "validation": _labels(validation)}
    if labels["train"] is not None:
        _check_classes_agree(labels["train"], labels["validation"])
    if n_classes is None:
        if any(split is None for split in labels.values()):
            raise ValueError(
                "n_classes is required when a split is a torch Dataset (it cannot be read "
                "from the labels without a pass over the data)."
            )
        n_classes = int(labels["train"].max()) + 1
    n_classes = _check_int(n_classes, "n_classes")
    for name, split in labels.items():
        if split is not None and (split.min() < 0 or split.max() >= n_classes):
            raise ValueError(
                f"the labels of the {name} split must be in [0, {n_classes}), got labels "
                f"from {int(split.min())} to {int(split.max())}."
            )
    return n_classes


def _check_classes_agree(train_labels, validation_labels):
    """Two classes or more to learn, and none to validate that training never shows."""
    trained = torch.unique(train_labels)
    if len(trained) < 2:
        raise ValueError(
            f"the train split holds a single class ({int(trained[0])}): a network trained "
            "on it predicts that class and every architecture scores alike. Give training "
            "images of two classes or more."
        )
    if validation_labels is None:
        return
    unseen = torch.unique(validation_labels)
    unseen = unseen[~torch.isin(unseen, trained)]
    if len(unseen):
        raise ValueError(
            f"the validation split holds labels the train split lacks: {_label_list(unseen)} "
            f"(train labels: {_label_list(trained)}); a network cannot learn a class it "
            "never sees. Are both splits labelled the same way?"
        )


def _label_list(labels, limit=12):
    values = [int(label) for label in labels[:limit]]
    return str(values)[:-1] + (", ...]" if len(labels) > limit else "]")


def _check_int(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(value)


def _check_real(value, name, *, low=None, high=None, low_open=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value >= high
    if too_low or too_high:
        lower = "(" if low_open else "["
        upper = f"{high})" if high is not None else "inf)"
        raise ValueError(f"{name} must be in {lower}{low}, {upper}, got {value!r}.")
    return value
