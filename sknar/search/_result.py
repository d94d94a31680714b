"""What a search evaluated, and the error that stops a search with its partial result."""

import numpy as np

__all__ = ["EvaluationError", "SearchResult"]


class SearchResult:
    """What a search evaluated, in query order.

    A failed evaluation (the oracle raised, or returned something that is not a finite
    number) is a query like any other: it was charged to the budget, its value is NaN and
    its error message is kept. The best-so-far curve and the best architecture ignore it.

    Parameters
    ----------
    method : str
        Name of the searcher.
    archs : list
        The queried architectures (canonical forms), in query order.
    values : array-like of shape (n_queries,)
        The values the oracle returned (what selection used); NaN for a failed query.
    report_values : array-like of shape (n_queries,) or None
        The oracle's report value of each query, if it has one.
    wall_time : float
        Seconds the search took.
    budget : int or None
        The budget the search was given (None for a search driven by ask/tell).
    errors : list of (str or None) or None, default=None
        The error of each failed query, None for a successful one; None when every query
        succeeded.
    eval_times : array-like of shape (n_queries,) or None, default=None
        Seconds each evaluation took, where it was measured.
    ask_time : float, default=0.0
        Seconds the searcher spent choosing architectures (fitting its ranker, sampling and
        ranking candidates): the part of ``wall_time`` that is not spent waiting for the
        oracle.
    metrics : list of dict or None, default=None
        The named metrics of each query (the oracle's, the exact costs of a search with
        cost objectives, ``"report"``).
    objectives : dict or None, default=None
        The objectives of the search, ``{name: "max" | "min"}``; None for a single value,
        maximised. The first objective is what ``values``, the best-so-far curve and the
        best architecture follow (in its direction).
    feasible : array-like of bool or None, default=None
        Which queries kept the search's constraints; an infeasible query is never the best
        nor on the front. None: every successful query.
    stop_reason : str or None, default=None
        Why the search ended: ``"budget"`` (spent), ``"n_rounds"`` (the rounds a tier search
        was allowed), ``"exhausted"`` (no architecture of the space is left), ``"error"``
        (an evaluation failed with ``on_error="raise"``, or the searcher raised),
        ``"interrupted"`` (KeyboardInterrupt); None for a search still running.

    Attributes
    ----------
    n_queries : int
        Number of oracle calls made, failed ones included.
    n_failed : int
        Number of failed queries.
    failed : ndarray of bool of shape (n_queries,)
        Which queries failed.
    best_so_far : ndarray of shape (n_queries,)
        Best value among the first ``i + 1`` queries (NaN until the first success).
    best_index : int
        Query index of the best value (the first one on ties).
    best_arch, best_value, best_report_value
        The best architecture by ``values``, its value and its report value (None without a
        report metric).
    history : list of dict
        One dict per query.

    Examples
    --------
    >>> from sknar.search import SearchResult
    >>> result = SearchResult("demo", ["a", "b", "c"], [0.5, 0.9, 0.7], None, 0.1, 3)
    >>> result.best_arch, result.best_so_far.tolist()
    ('b', [0.5, 0.9, 0.9])
    """

    def __init__(
        self,
        method,
        archs,
        values,
        report_values,
        wall_time,
        budget,
        *,
        errors=None,
        eval_times=None,
        ask_time=0.0,
        stop_reason=None,
        metrics=None,
        objectives=None,
        feasible=None,
    ):
        self.method = method
        self.archs = list(archs)
        self.values = np.asarray(values, dtype=np.float64).reshape(-1)
        self.report_values = (
            None if report_values is None else np.asarray(report_values, dtype=np.float64)
        )
        self.wall_time = float(wall_time)
        self.budget = budget
        self.errors = [None] * len(self.archs) if errors is None else list(errors)
        self.eval_times = (
            None if eval_times is None else np.asarray(eval_times, dtype=np.float64)
        )
        self.ask_time = float(ask_time)
        self.stop_reason = stop_reason
        self.metrics = [{} for _ in self.archs] if metrics is None else list(metrics)
        self.objectives = None if objectives is None else dict(objectives)
        self.feasible = None if feasible is None else np.asarray(feasible, dtype=bool)
        if not len(self.values) == len(self.archs) == len(self.errors):
            raise ValueError(
                f"archs ({len(self.archs)}), values ({len(self.values)}) and errors "
                f"({len(self.errors)}) must have one entry per query."
            )

    @property
    def n_queries(self):
        """Number of oracle calls made, failed ones included."""
        return len(self.archs)

    @property
    def failed(self):
        """Boolean mask of the failed queries."""
        return np.array([error is not None for error in self.errors], dtype=bool)

    @property
    def n_failed(self):
        """Number of failed queries."""
        return int(self.failed.sum())

    def _sign(self):
        """+1 when the first objective is maximised, -1 when minimised."""
        if self.objectives and next(iter(self.objectives.values())) == "min":
            return -1.0
        return 1.0

    def _eligible(self):
        """Successful queries that keep the constraints."""
        eligible = ~self.failed
        if self.feasible is not None:
            eligible &= self.feasible
        return eligible

    @property
    def best_so_far(self):
        if not self.n_queries:
            return self.values.copy()
        sign = self._sign()
        gains = np.where(self._eligible(), sign * self.values, np.nan)
        return sign * np.fmax.accumulate(gains)

    @property
    def best_index(self):
        values = np.where(self._eligible(), self._sign() * self.values, np.nan)
        if not self.n_queries or np.all(np.isnan(values)):
            raise ValueError(
                "no query of this search succeeded (and kept the constraints): there is no "
                "best one."
            )
        return int(np.nanargmax(values))

    @property
    def best_arch(self):
        return self.archs[self.best_index]

    @property
    def best_value(self):
        return float(self.values[self.best_index])

    @property
    def best_report_value(self):
        if self.report_values is None:
            return None
        return float(self.report_values[self.best_index])

    @property
    def history(self):
        """One dict per query: ``query``, ``arch``, ``value``, ``report_value``, ``status``
        (``"ok"`` or ``"failed"``), ``error``, ``best_so_far``, and with objectives or
        constraints ``metrics`` and ``feasible``."""
        best = self.best_so_far
        eligible = self._eligible()
        return [
            {
                "query": index,
                "arch": arch,
                "value": float(self.values[index]),
                "report_value": (
                    None if self.report_values is None else float(self.report_values[index])
                ),
                "status": "ok" if self.errors[index] is None else "failed",
                "error": self.errors[index],
                "best_so_far": float(best[index]),
                **(
                    {
                        "metrics": dict(self.metrics[index]),
                        "feasible": bool(eligible[index]),
                    }
                    if self.objectives is not None or self.feasible is not None
                    else {}
                ),
            }
            for index, arch in enumerate(self.archs)
        ]

    def _front_points(self):
        names = list(self.objectives or {"value": "max"})
        directions = list((self.objectives or {"value": "max"}).values())
        rows = np.flatnonzero(self._eligible())
        points = np.array(
            [
                [
                    self.values[row] if index == 0 and name not in self.metrics[row]
                    else self.metrics[row][name]
                    for index, name in enumerate(names)
                ]
                for row in rows
            ],
            dtype=np.float64,
        ).reshape(len(rows), len(names))
        return names, directions, rows, points

    def pareto_front(self):
        """The non-dominated evaluations: the best trade-offs between the objectives found.

        Only successful queries that keep the constraints count. With one objective the
        front is the best query (and those tied with it).

        Returns
        -------
        front : sklearn.utils.Bunch
            ``queries`` (query indices, sorted by the first objective, best first),
            ``archs``, ``points`` (ndarray of shape (n_front, n_objectives)), ``objectives``
            (names) and ``directions``.

        Examples
        --------
        >>> from sknar.search import SearchResult
        >>> result = SearchResult(
        ...     "demo", ["a", "b", "c"], [0.9, 0.8, 0.7], None, 0.1, 3,
        ...     metrics=[{"accuracy": 0.9, "params": 5.0}, {"accuracy": 0.8, "params": 2.0},
        ...              {"accuracy": 0.7, "params": 3.0}],
        ...     objectives={"accuracy": "max", "params": "min"})
        >>> result.pareto_front().archs
        ['a', 'b']
        """
        from sklearn.utils import Bunch

        from .._pareto import pareto_front

        names, directions, rows, points = self._front_points()
        if len(rows):
            mask = pareto_front(points, directions)
            rows, points = rows[mask], points[mask]
            sign = 1.0 if directions[0] == "max" else -1.0
            order = np.lexsort((rows, -sign * points[:, 0]))
            rows, points = rows[order], points[order]
        return Bunch(
            queries=rows.tolist(),
            archs=[self.archs[row] for row in rows],
            points=points,
            objectives=names,
            directions=directions,
        )

    def hypervolume(self, reference):
        """The hypervolume of the front found, up to ``reference``.

        Parameters
        ----------
        reference : array-like of shape (n_objectives,)
            One value per objective, in the objectives' units (e.g. the median accuracy and
            the largest parameter count): only what is better in every objective counts.

        Returns
        -------
        volume : float

        Examples
        --------
        >>> from sknar.search import SearchResult
        >>> result = SearchResult(
        ...     "demo", ["a", "b"], [90.0, 80.0], None, 0.1, 2,
        ...     metrics=[{"accuracy": 90.0, "params": 10.0}, {"accuracy": 80.0, "params": 5.0}],
        ...     objectives={"accuracy": "max", "params": "min"})
        >>> result.hypervolume([50.0, 20.0])
        550.0
        """
        from .._pareto import hypervolume

        names, directions, rows, points = self._front_points()
        if not len(rows):
            return 0.0
        return hypervolume(points, reference, directions)

    def plot(self, ax=None, **plot_kwargs):
        """Draw the best value so far against the number of queries.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure's axes when None.
        **plot_kwargs
            Passed to ``ax.plot`` (``label`` defaults to the method name).

        Returns
        -------
        ax : matplotlib Axes
            The axes drawn on.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError(
                "SearchResult.plot needs matplotlib (pip install matplotlib)."
            ) from exc
        if ax is None:
            _, ax = plt.subplots()
        plot_kwargs.setdefault("label", self.method)
        ax.plot(np.arange(1, self.n_queries + 1), self.best_so_far, **plot_kwargs)
        ax.set_xlabel("oracle queries")
        ax.set_ylabel("best value so far")
        return ax

    def __repr__(self):
        has_best = bool(self._eligible().any())
        failed = f", n_failed={self.n_failed}" if self.n_failed else ""
        return (
            f"SearchResult(method={self.method!r}, n_queries={self.n_queries}{failed}, "
            f"best_value={self.best_value if has_best else None}, "
            f"wall_time={self.wall_time:.2f})"
        )


class EvaluationError(RuntimeError):
    """An evaluation failed during ``run(..., on_error="raise")``.

    The oracle's own exception is chained (``__cause__``); nothing evaluated before it is
    lost: the partial result is attached here and set as the searcher's ``result_``, and the
    journal, if any, holds every finished evaluation, the failed one included.

    Parameters
    ----------
    message : str
        What failed, naming the architecture.
    arch : architecture
        The architecture whose evaluation failed.
    result : SearchResult
        The evaluations made so far, the failed one included.

    Examples
    --------
    >>> from sknar.search import EvaluationError, RandomSearch
    >>> from sknar.spaces import NASBench201Space
    >>> def oracle(arch):
    ...     raise MemoryError("out of GPU memory")
    >>> try:
    ...     RandomSearch(NASBench201Space(), random_state=0).run(oracle, budget=5)
    ... except EvaluationError as error:
    ...     print(error.result.n_queries, type(error.__cause__).__name__)
    1 MemoryError
    """

    def __init__(self, message, arch=None, result=None):
        super().__init__(message)
        self.arch = arch
        self.result = result
