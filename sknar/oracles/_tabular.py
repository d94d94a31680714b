"""The table oracle: look an architecture's accuracy up in a benchmark table."""

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
    """

    def __init__(self, archs, values, report_values=None, *, space):
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

    def __call__(self, arch):
        """The selection value of ``arch``."""
        value = float(self._values[self._lookup(arch)])
        self.n_calls += 1
        return value

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

    def __len__(self):
        return len(self._row)

    # --- benchmark tables ---------------------------------------------------------------

    @classmethod
    def from_nasbench201(cls, dataset="cifar10", **loader_kwargs):
        """NAS-Bench-201 oracle returning the 200-epoch test accuracy (the only metric).

        Examples
        --------
        >>> from sknar.oracles import TabularOracle
        >>> oracle = TabularOracle.from_nasbench201("cifar10")  # doctest: +SKIP
        """
        from ..datasets import load_nasbench201

        data = load_nasbench201(dataset, **loader_kwargs)
        return cls(data.archs, data.y, space=data.space)

    @classmethod
    def from_nasbench101(cls, **loader_kwargs):
        """NAS-Bench-101 oracle returning the 108-epoch validation accuracy.

        Examples
        --------
        >>> from sknar.oracles import TabularOracle
        >>> oracle = TabularOracle.from_nasbench101()  # doctest: +SKIP
        """
        from ..datasets import load_nasbench101

        data = load_nasbench101(**loader_kwargs)
        return cls(data.archs, data.y, space=data.space)

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
