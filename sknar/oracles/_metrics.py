"""An oracle of several named metrics, each measured by an oracle of its own."""

from collections.abc import Mapping

__all__ = ["MetricsOracle"]


class MetricsOracle:
    """Measure several named metrics of an architecture, one oracle each.

    ``MetricsOracle({"accuracy": table_oracle, "latency": latency_oracle})(arch)`` returns
    ``{"accuracy": ..., "latency": ...}``: the mapping a search with several objectives
    reads its measured objectives from (e.g. ``objectives={"accuracy": "max",
    "latency": "min"}``). The exact FLOPs and parameter counts need no oracle: the search
    computes them from the space.

    Parameters
    ----------
    oracles : dict
        ``{name: oracle}``, each a callable ``oracle(arch) -> float``, called in this order.
        The first one with a ``report(arch)`` method gives the report value.

    Examples
    --------
    >>> from sknar.oracles import LatencyOracle, MetricsOracle, TabularOracle
    >>> from sknar.spaces import NASBench201Space
    >>> space = NASBench201Space()
    >>> archs = [["nor_conv_3x3"] * 6, ["skip_connect"] * 6]
    >>> oracle = MetricsOracle({
    ...     "accuracy": TabularOracle(archs, [94.0, 80.0], space=space),
    ...     "latency": LatencyOracle(space, network_params={"C": 4, "N": 1}, n_repeats=3),
    ... })
    >>> sorted(oracle(archs[0]))
    ['accuracy', 'latency']
    """

    def __init__(self, oracles):
        if not isinstance(oracles, Mapping) or not oracles:
            raise ValueError(f"oracles must be a non-empty dict {{name: oracle}}; got {oracles!r}.")
        for name, oracle in oracles.items():
            if not isinstance(name, str) or not callable(oracle):
                raise ValueError(
                    f"oracles must map metric names to callables; got {name!r}: {oracle!r}."
                )
        self.oracles = dict(oracles)

    @classmethod
    def from_benchmark(cls, data, names, *, first="accuracy", latency_params=None):
        """The metrics ``names`` of a benchmark table, for a search with several objectives.

        ``first`` (and any name not found elsewhere that is no cost the space computes) is
        the table's selection metric ``data.y``; a name that is a column of the benchmark
        (NAS-Bench-Graph's ``"params"`` and ``"latency"``) is looked up there; ``"latency"``
        on a benchmark without that column is measured by a
        :class:`~sknar.oracles.LatencyOracle` on this machine.

        Parameters
        ----------
        data : Bunch
            A benchmark from :func:`~sknar.datasets.load_benchmark`.
        names : sequence of str
            The metrics the search needs (objectives and constraints); exact costs the space
            computes (``"flops"``, ``"params"``) are left to the search unless the table has
            them.
        first : str, default="accuracy"
            The name of the table's selection metric.
        latency_params : dict or None, default=None
            Parameters of the :class:`~sknar.oracles.LatencyOracle`.

        Returns
        -------
        oracle : MetricsOracle
        """
        from ..datasets import benchmark_oracle
        from ..search import COST_METRICS
        from ._latency import LatencyOracle
        from ._tabular import TabularOracle

        table = benchmark_oracle(data)
        oracles = {first: table}
        for name in names:
            if name in oracles:
                continue
            column = data.get(name) if name != "y" else None
            if column is not None and len(column) == len(data["archs"]):
                oracles[name] = TabularOracle(data["archs"], column, space=data["space"])
            elif name == "latency":
                oracles[name] = LatencyOracle(data["space"], **(latency_params or {}))
            elif name.partition("@")[0] not in COST_METRICS:
                raise ValueError(
                    f"the metric {name!r} is neither the table's {first!r}, a column of the "
                    f"benchmark, 'latency', nor an exact cost ({', '.join(COST_METRICS)})."
                )
        return cls(oracles)

    def __call__(self, arch):
        """``{name: oracle(arch)}`` for every oracle."""
        return {name: oracle(arch) for name, oracle in self.oracles.items()}

    def report(self, arch):
        """The report value of the first oracle that has one (None when none has).

        Parameters
        ----------
        arch : architecture
            Any form the space accepts.

        Returns
        -------
        value : float or None
        """
        for oracle in self.oracles.values():
            report = getattr(oracle, "report", None)
            if report is not None:
                return report(arch)
        return None

    def describe(self):
        """The oracles as a search journal records them."""
        from ..search._journal import describe_oracle

        return {name: describe_oracle(oracle) for name, oracle in self.oracles.items()}

    def __repr__(self):
        return f"MetricsOracle({sorted(self.oracles)})"
