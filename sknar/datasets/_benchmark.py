"""Tabular benchmarks by name, in one shape: what a ranking comparison or a search needs.

:data:`BENCHMARKS` is the one registry of the benchmarks: each :class:`Benchmark` says how
its table loads, which space and datasets it has, the network of its cells and the sizes the
demo uses. The command line, the benchmark suites and :func:`load_benchmark` all read it.
"""

import importlib
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from types import MappingProxyType

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._nasbench201 import CSV_TARGETS as NB201_TARGETS
from ._nasbench_graph import DATASETS as GRAPH_DATASETS

__all__ = ["BENCHMARKS", "Benchmark", "benchmark_oracle", "load_benchmark", "split_benchmark"]


def _load_nasbench_graph(dataset, path, data_home):
    from ._nasbench_graph import load_nasbench_graph

    if path is None and data_home is not None:
        path = Path(data_home).expanduser() / f"{dataset}.bench"
    data = load_nasbench_graph(dataset, metric="valid", path=path)
    # Searches select by validation accuracy; the test accuracy is only reported.
    data.y_report = data.y_test
    return data


def _load_nasbench201(dataset, path, data_home):
    from ._nasbench201 import load_nasbench201

    data = load_nasbench201(dataset, path=path, data_home=data_home)
    data.y_report = None
    return data


def _load_nasbench101(dataset, path, data_home):
    from ._nasbench101 import load_nasbench101

    data = load_nasbench101(path=path, data_home=data_home)
    data.dataset = dataset
    data.y_report = None
    return data


@dataclass(frozen=True)
class Benchmark:
    """What sknar knows of one tabular benchmark: an entry of :data:`BENCHMARKS`.

    Parameters
    ----------
    name : str
        The name :func:`load_benchmark` and ``sknar --benchmark`` take.
    title : str
        The benchmark's name in prose.
    short_name : str
        The prefix of the benchmark suites' keys (``"nb201"`` in ``"nb201-cifar10"``).
    space : str
        The class of :mod:`sknar.spaces` of its architectures.
    datasets : tuple of str
        Its datasets; the first is the default.
    network : str or None
        The class of :mod:`sknar.nn` that builds the network of a cell, or None when sknar
        builds none (NAS-Bench-Graph's GNNs).
    demo_n_train : int
        The training architectures of ``sknar demo``'s ranking comparison.
    loader : callable
        ``loader(dataset, path, data_home) -> Bunch``, the benchmark's loader called with the
        metric searches select by.

    Examples
    --------
    >>> from sknar.datasets import BENCHMARKS
    >>> benchmark = BENCHMARKS["nasbench201"]
    >>> benchmark.datasets[0], type(benchmark.make_space()).__name__
    ('cifar10', 'NASBench201Space')
    """

    name: str
    title: str
    short_name: str
    space: str
    datasets: tuple
    network: object
    demo_n_train: int
    loader: object

    def make_space(self):
        """A new instance of the benchmark's search space.

        Returns
        -------
        space : SearchSpace
        """
        from .. import spaces

        return getattr(spaces, self.space)()

    def network_class(self):
        """The :mod:`sknar.nn` class that builds the network of a cell (imports torch).

        Returns
        -------
        network_class : type

        Raises
        ------
        ValueError
            When sknar builds no network for this benchmark's cells.
        """
        if self.network is None:
            raise ValueError(
                f"sknar builds no network for {self.title} cells; train your own network in "
                "an oracle function instead (arch -> accuracy)."
            )
        return getattr(importlib.import_module("sknar.nn"), self.network)

    def check_dataset(self, dataset):
        """``dataset``, or the default dataset when None.

        Parameters
        ----------
        dataset : str or None

        Returns
        -------
        dataset : str

        Raises
        ------
        ValueError
            For a dataset the benchmark does not have.
        """
        if dataset is None:
            return self.datasets[0]
        if dataset not in self.datasets and len(self.datasets) == 1:
            raise ValueError(
                f"{self.title} has one dataset, {self.datasets[0]}; got dataset={dataset!r}."
            )
        if dataset not in self.datasets:
            raise ValueError(
                f"unknown {self.title} dataset {dataset!r}; expected one of {list(self.datasets)}"
            )
        return dataset


#: The benchmarks sknar loads, by name: one :class:`Benchmark` each.
BENCHMARKS = MappingProxyType(
    {
        benchmark.name: benchmark
        for benchmark in (
            Benchmark(
                name="nasbench_graph", title="NAS-Bench-Graph", short_name="graph",
                space="NASBenchGraphSpace",
                datasets=GRAPH_DATASETS,
                network=None, demo_n_train=200, loader=_load_nasbench_graph,
            ),
            Benchmark(
                name="nasbench201", title="NAS-Bench-201", short_name="nb201",
                space="NASBench201Space", datasets=tuple(NB201_TARGETS),
                network="NASBench201Network", demo_n_train=200, loader=_load_nasbench201,
            ),
            Benchmark(
                name="nasbench101", title="NAS-Bench-101", short_name="nb101",
                space="NASBench101Space", datasets=("cifar10",),
                # 424 cells: the NAR paper's 0.1 % of the 423,624-cell space.
                network="NASBench101Network", demo_n_train=424, loader=_load_nasbench101,
            ),
        )
    }
)


def _search_space(space, archs):
    """The benchmark's space when the table covers all of it, else the table's architectures.

    A search on a slice of a space (the NAS-Bench-101 records) must draw from the slice, so
    that every query has an answer.
    """
    if space.size is not None and len(archs) >= space.size:
        return space
    from ..spaces import TableSpace

    return TableSpace(space, archs)


@validate_params(
    {
        "name": [StrOptions(set(BENCHMARKS))],
        "dataset": [str, None],
        "path": [str, Path, None],
        "data_home": [str, Path, None],
    },
    prefer_skip_nested_validation=True,
)
def load_benchmark(name, dataset=None, *, path=None, data_home=None):
    """Load a tabular NAS benchmark by name, with the fields a comparison or a search needs.

    Each benchmark's loader (:func:`load_nasbench_graph`, :func:`load_nasbench201`,
    :func:`load_nasbench101`) is called with the selection metric searches use: validation
    accuracy for NAS-Bench-Graph (its test accuracy becomes ``y_report``), test accuracy for
    NAS-Bench-201 (the only 200-epoch metric of the export), 108-epoch validation accuracy
    for NAS-Bench-101.

    Parameters
    ----------
    name : {"nasbench_graph", "nasbench201", "nasbench101"}
        The benchmark. ``"nasbench_graph"`` ships with the ``nas-bench-graph`` package
        (``pip install sknar[graph]``); the others read files from the data home.
    dataset : str, default=None
        The benchmark's dataset: ``"cora"`` (default) and the others of
        :func:`load_nasbench_graph`; ``"cifar10"`` (default), ``"cifar100"`` or
        ``"ImageNet16-120"`` for NAS-Bench-201; only ``"cifar10"`` for NAS-Bench-101.
    path : str or path-like, default=None
        An explicit benchmark file; it wins over ``data_home``.
    data_home : str or path-like, default=None
        Folder holding the benchmark files (see :func:`get_data_home`). NAS-Bench-Graph
        reads ``<data_home>/<dataset>.bench`` from it; without a folder or a path, the file
        of the installed package.

    Returns
    -------
    data : sklearn.utils.Bunch
        The loader's fields (``archs``, ``y``, ``space``, ``target_name``, ``DESCR``, ...)
        and, for every benchmark:

        - ``benchmark``: ``name``;
        - ``dataset``: the dataset loaded;
        - ``y_report``: a second metric to report beside ``y`` but never to select with
          (NAS-Bench-Graph test accuracy), or None;
        - ``cost_dataset``: the ``dataset`` argument of
          :class:`~sknar.encoding.NARFeatureEncoder` and
          :class:`~sknar.sampler.TierSampler` for this benchmark (None when the space
          has a single cost model);
        - ``search_space``: the space a search on the table draws from: the benchmark's
          space when the table covers all of it, else a :class:`~sknar.spaces.TableSpace`
          of the table's architectures (the NAS-Bench-101 slice).

    Raises
    ------
    FileNotFoundError
        When the benchmark file is absent (the message says where the loader looked).
    ValueError
        For a dataset the benchmark does not have, or a bad file (the message names it).

    Examples
    --------
    >>> from sknar.datasets import load_benchmark
    >>> data = load_benchmark("nasbench_graph", "cora")  # doctest: +SKIP
    >>> len(data.archs), data.y_report is not None, data.search_space is data.space
    ... # doctest: +SKIP
    (26206, True, True)
    """
    benchmark = BENCHMARKS[name]
    dataset = benchmark.check_dataset(dataset)
    data = benchmark.loader(dataset, path, data_home)
    data.benchmark = name
    data.archs = list(data.archs)
    choices = data.space.cost_datasets
    data.cost_dataset = data.dataset if choices and data.dataset in choices else None
    data.search_space = _search_space(data.space, data.archs)
    return data


@validate_params(
    {
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "n_train": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def split_benchmark(n_samples, n_train, *, random_state=None):
    """Draw ``n_train`` training rows of a benchmark table; the test set is all the others.

    The rows are the first ``n_train`` of a permutation drawn with
    ``check_random_state(random_state)``, so an int seed gives the split of the benchmark
    suite and of ``sknar demo`` alike.

    Parameters
    ----------
    n_samples : int
        Number of rows of the table.
    n_train : int
        Number of training rows, at most ``n_samples - 1``.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutation.

    Returns
    -------
    train, test : ndarray of int
        Sorted row indices; together they are ``0 .. n_samples - 1``.

    Raises
    ------
    ValueError
        When ``n_train`` leaves no row to test on.

    Examples
    --------
    >>> from sknar.datasets import split_benchmark
    >>> train, test = split_benchmark(10, 3, random_state=0)
    >>> train.tolist(), len(test)
    ([2, 4, 8], 7)
    """
    if n_train >= n_samples:
        raise ValueError(
            f"n_train={n_train} leaves nothing held out of {n_samples} architectures; "
            f"give at most {n_samples - 1}."
        )
    order = check_random_state(random_state).permutation(n_samples)
    return np.sort(order[:n_train]), np.sort(order[n_train:])


def benchmark_oracle(data):
    """The table oracle of a :func:`load_benchmark` Bunch.

    It returns ``data.y`` (the selection metric) and reports ``data.y_report`` beside it
    (NAS-Bench-Graph's test accuracy) without a search ever reading it.

    Parameters
    ----------
    data : Bunch
        A benchmark from :func:`load_benchmark`.

    Returns
    -------
    oracle : TabularOracle

    Examples
    --------
    >>> from sknar.datasets import benchmark_oracle, load_benchmark
    >>> data = load_benchmark("nasbench_graph", "cora")  # doctest: +SKIP
    >>> oracle = benchmark_oracle(data)  # doctest: +SKIP
    >>> oracle(data.archs[0]) == data.y[0]  # doctest: +SKIP
    True
    """
    from ..oracles import TabularOracle

    return TabularOracle(data["archs"], data["y"], data["y_report"], space=data["space"])
