"""The table oracle: look an architecture's accuracy up in a benchmark table."""

import numbers
import time

from ..utils import check_accuracies

__all__ = ["TabularOracle"]


class TabularOracle:
    """Look up the accuracy of an architecture in a benchmark table.

    Parameters
    ----------
    archs : sequence of architectures
        The architectures of the table, in any form ``space.validate`` accepts.
    values : array-like of shape (n_archs,)
        The value returned to the search (the selection metric), higher is better.
    report_values : array-like of shape (n_archs,), default=None
        A second metric recorded for each query but never returned to the search (e.g. test
        accuracy when selection uses validation accuracy).
    space : SearchSpace
        The space whose ``hash`` identifies the architectures.
    fidelities : dict or None, default=None
        Lower fidelities of the selection metric: ``{epochs: values}``, each array-like of
        shape (n_archs,), e.g. ``{12: accuracies after a 12-epoch training}``. With it, a
        call may ask for ``epochs`` (see :meth:`evaluate`), as of a
        :class:`~sknar.oracles.TrainingOracle`.
    epochs : int or None, default=None
        The training epochs behind ``values`` (the full fidelity, e.g. 200); required with
        ``fidelities`` and above each of their epochs.

    Attributes
    ----------
    n_calls : int
        Number of calls made so far on this object. A search that evaluates in worker
        processes (``run(..., n_jobs=4)``, a dask cluster) calls copies of the oracle there,
        whose counts stay there: count evaluations with the search's result or journal.

    Examples
    --------
    >>> from sknar.oracles import TabularOracle
    >>> from sknar.spaces.nasbench201 import NASBench201Space
    >>> space = NASBench201Space()
    >>> archs = [["nor_conv_3x3"] * 6, ["skip_connect"] * 6]
    >>> oracle = TabularOracle(archs, [94.0, 80.0], space=space)
    >>> oracle(["nor_conv_3x3"] * 6)
    94.0
    >>> oracle = TabularOracle(archs, [94.0, 80.0], space=space,
    ...                        fidelities={12: [70.0, 60.0]}, epochs=200)
    >>> oracle(["nor_conv_3x3"] * 6, epochs=12), oracle.evaluate(["skip_connect"] * 6)["epochs"]
    (70.0, 200)
    """

    def __init__(self, archs, values, report_values=None, *, space, fidelities=None, epochs=None):
        self.space = space
        canonical = space.validate_all(archs)
        self._values = check_accuracies(values, name="values", n_samples=len(canonical))
        self._report_values = (
            None
            if report_values is None
            else check_accuracies(report_values, name="report_values", n_samples=len(canonical))
        )
        self._row = {}
        for row, arch in enumerate(canonical):
            key = space.hash(arch)
            if key in self._row:
                raise ValueError(
                    f"architecture at index {row} repeats the one at index {self._row[key]} "
                    f"(same hash {key!r}); a table holds one value per architecture."
                )
            self._row[key] = row
        self.archs = canonical
        self.n_calls = 0
        self.epochs, self._fidelities = _check_fidelities(fidelities, epochs, len(canonical))

    @property
    def fidelity_epochs(self):
        """The epochs a call may ask for, lowest first (the last is the full fidelity)."""
        return (*sorted(self._fidelities), self.epochs) if self.epochs else ()

    @property
    def has_report(self):
        """Whether the table carries report values."""
        return self._report_values is not None

    def _lookup(self, arch):
        key = self.space.hash(self.space.validate(arch))
        try:
            return self._row[key]
        except KeyError:
            raise ValueError(
                f"architecture {arch!r} is not in the table of {len(self._row)} architectures."
            ) from None

    def __call__(self, arch, *, epochs=None, on_epoch=None):
        """The selection value of ``arch``, at ``epochs`` if given (see :meth:`evaluate`).

        Parameters
        ----------
        arch : architecture
            Any form the space accepts.
        epochs : int or None, default=None
            A fidelity of the table; None is the full one (``values``).
        on_epoch : callable or None, default=None
            ``on_epoch(epochs, value)`` for each fidelity of the table up to ``epochs``.

        Returns
        -------
        value : float
        """
        return self.evaluate(arch, epochs=epochs, on_epoch=on_epoch)["accuracy"]

    def evaluate(self, arch, *, epochs=None, on_epoch=None):
        """The value of ``arch`` with the fidelity it was recorded at.

        A table records a few fidelities, not every epoch: ``on_epoch(epochs, value)`` is
        called for each recorded fidelity up to the one asked for, lowest first, as a
        training would report them on its way (a pruner sees its rungs); an exception it
        raises propagates unchanged. Each call counts once in ``n_calls``.

        Parameters
        ----------
        arch : architecture
            Any form the space accepts.
        epochs : int or None, default=None
            One of :attr:`fidelity_epochs`; None is the full fidelity.
        on_epoch : callable or None, default=None
            Called with each recorded fidelity and its value.

        Returns
        -------
        result : dict
            ``"accuracy"`` (the table's value), ``"epochs"`` (its fidelity; None for a table
            without fidelities) and ``"seconds"`` (of the look-up).

        Examples
        --------
        >>> from sknar.oracles import TabularOracle
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> oracle = TabularOracle([["none"] * 6], [10.0], space=NASBench201Space(),
        ...                        fidelities={4: [9.0], 12: [9.5]}, epochs=108)
        >>> oracle.evaluate(["none"] * 6, epochs=12, on_epoch=print)["accuracy"]
        4 9.0
        12 9.5
        9.5
        """
        start = time.perf_counter()
        row = self._lookup(arch)
        epochs = self._check_epochs(epochs)
        self.n_calls += 1
        if on_epoch is not None:
            for budget in self.fidelity_epochs:
                if budget > epochs:
                    break
                on_epoch(budget, self._value(row, budget))
        value = self._value(row, epochs)
        return {"accuracy": value, "epochs": epochs, "seconds": time.perf_counter() - start}

    def _check_epochs(self, epochs):
        if epochs is None or epochs == self.epochs:
            return self.epochs
        if epochs not in self._fidelities:
            recorded = list(self.fidelity_epochs) or "none"
            raise ValueError(
                f"this table records no value at epochs={epochs!r}; its fidelities: {recorded}."
            )
        return int(epochs)

    def _value(self, row, epochs):
        values = self._values if epochs == self.epochs else self._fidelities[epochs]
        return float(values[row])

    def report(self, arch):
        """The report value of ``arch`` (None if the table has none); not counted as a call.

        Parameters
        ----------
        arch : architecture
            Any form the space accepts.

        Returns
        -------
        value : float or None
            The value reported beside the selection metric (e.g. test accuracy).
        """
        if self._report_values is None:
            return None
        return float(self._report_values[self._lookup(arch)])

    def describe(self):
        """The table as a search journal records it: its values and fidelities.

        Returns
        -------
        description : dict
            ``space``, ``n_archs``, ``values`` and ``report_values`` (arrays, which a
            journal records by shape and digest), ``epochs`` and ``fidelities``.

        Examples
        --------
        >>> from sknar.oracles import TabularOracle
        >>> from sknar.spaces.nasbench201 import NASBench201Space
        >>> oracle = TabularOracle([["none"] * 6], [10.0], space=NASBench201Space())
        >>> oracle.describe()["n_archs"]
        1
        """
        return {
            "space": self.space,
            "n_archs": len(self._row),
            "values": self._values,
            "report_values": self._report_values,
            "epochs": self.epochs,
            "fidelities": {str(e): v for e, v in sorted(self._fidelities.items())},
        }

    def __len__(self):
        return len(self._row)

    # --- benchmark tables ---------------------------------------------------------------

    @classmethod
    def from_nasbench201(cls, dataset="cifar10", *, multi_fidelity=False, **loader_kwargs):
        """NAS-Bench-201 oracle returning the 200-epoch test accuracy (the only metric).

        With ``multi_fidelity=True`` (CIFAR-10 only), ``epochs=12`` returns the 12-epoch
        validation accuracy of :func:`~sknar.datasets.load_nasbench201_12_epochs`, the low
        fidelity, and the full fidelity is ``epochs=200``.

        Examples
        --------
        >>> from sknar.oracles import TabularOracle
        >>> oracle = TabularOracle.from_nasbench201("cifar10")  # doctest: +SKIP
        >>> TabularOracle.from_nasbench201(multi_fidelity=True).fidelity_epochs  # doctest: +SKIP
        (12, 200)
        """
        if multi_fidelity:
            from ..datasets import load_nasbench201_12_epochs

            if dataset != "cifar10":
                raise ValueError(
                    f"multi_fidelity=True has a 12-epoch table for 'cifar10' only, not "
                    f"{dataset!r}."
                )
            data = load_nasbench201_12_epochs(**loader_kwargs)
            return cls(
                data.archs, data.y_200, space=data.space, fidelities={12: data.y_valid_12},
                epochs=200,
            )
        from ..datasets import load_nasbench201

        data = load_nasbench201(dataset, **loader_kwargs)
        return cls(data.archs, data.y, space=data.space)

    @classmethod
    def from_nasbench101(cls, *, multi_fidelity=False, **loader_kwargs):
        """NAS-Bench-101 oracle returning the 108-epoch validation accuracy.

        With ``multi_fidelity=True``, ``epochs`` 4, 12 and 36 return the validation accuracy
        after those budgets (the file's ``val_acc_by_epochs``), the full fidelity being 108.

        Examples
        --------
        >>> from sknar.oracles import TabularOracle
        >>> oracle = TabularOracle.from_nasbench101()  # doctest: +SKIP
        >>> TabularOracle.from_nasbench101(multi_fidelity=True).fidelity_epochs  # doctest: +SKIP
        (4, 12, 36, 108)
        """
        from ..datasets import load_nasbench101

        data = load_nasbench101(**loader_kwargs)
        if not multi_fidelity:
            return cls(data.archs, data.y, space=data.space)
        if data.metric not in ("val_acc_108", "avg_validation_accuracy"):
            raise ValueError(
                f"multi_fidelity=True pairs validation accuracies of several budgets; the "
                f"metric must be the 108-epoch validation accuracy, not {data.metric!r}."
            )
        lower = {e: v for e, v in data.val_acc_by_epochs.items() if e < 108}
        if not lower:
            raise ValueError(
                f"{data.filename} records no validation accuracy below 108 epochs: no "
                "lower fidelity to offer."
            )
        return cls(data.archs, data.y, space=data.space, fidelities=lower, epochs=108)

    @classmethod
    def from_nasbench_graph(cls, dataset="cora", **loader_kwargs):
        """NAS-Bench-Graph oracle: validation accuracy to select, test accuracy to report.

        Examples
        --------
        >>> from sknar.oracles import TabularOracle
        >>> oracle = TabularOracle.from_nasbench_graph("cora")  # doctest: +SKIP
        """
        from ..datasets import load_nasbench_graph

        valid = load_nasbench_graph(dataset, metric="valid", **loader_kwargs)
        test = load_nasbench_graph(dataset, metric="test", **loader_kwargs)
        space = valid.space
        test_by_hash = {space.hash(arch): value for arch, value in zip(test.archs, test.y)}
        report = [test_by_hash[space.hash(arch)] for arch in valid.archs]
        return cls(valid.archs, valid.y, report, space=space)


def _check_fidelities(fidelities, epochs, n_archs):
    """``(epochs, {epochs: values})``, checked; ``(None, {})`` for a table of one fidelity."""
    if fidelities is None:
        if epochs is not None:
            _check_epochs_value(epochs, "epochs")
        return (None if epochs is None else int(epochs)), {}
    if not isinstance(fidelities, dict) or not fidelities:
        raise ValueError(
            f"fidelities must be a non-empty dict {{epochs: values}}, got {fidelities!r:.80}."
        )
    if epochs is None:
        raise ValueError("epochs (the fidelity of values) is required with fidelities.")
    epochs = _check_epochs_value(epochs, "epochs")
    checked = {}
    for budget, values in fidelities.items():
        budget = _check_epochs_value(budget, "a key of fidelities")
        if budget >= epochs:
            raise ValueError(
                f"fidelities must lie below epochs={epochs} (the fidelity of values), got "
                f"{budget}."
            )
        checked[budget] = check_accuracies(
            values, name=f"fidelities[{budget}]", n_samples=n_archs
        )
    return epochs, checked


def _check_epochs_value(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(value)
