"""Tabular benchmarks by name, in one shape: what a ranking comparison or a search needs."""

from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["load_benchmark", "split_benchmark"]

BENCHMARKS = ("nasbench_graph", "nasbench201", "nasbench101")


def _load_nasbench_graph(dataset, path, data_home):
    from ._nasbench_graph import load_nasbench_graph

    dataset = dataset or "cora"
    if path is None and data_home is not None:
        path = Path(data_home).expanduser() / f"{dataset}.bench"
    data = load_nasbench_graph(dataset, metric="valid", path=path)
    # Searches select by validation accuracy; the test accuracy is only reported.
    data.y_report = data.y_test
    return data


def _load_nasbench201(dataset, path, data_home):
    from ._nasbench201 import load_nasbench201

    data = load_nasbench201(dataset or "cifar10", path=path, data_home=data_home)
    data.y_report = None
    return data


def _load_nasbench101(dataset, path, data_home):
    from ._nasbench101 import load_nasbench101

    if dataset not in (None, "cifar10"):
        raise ValueError(f"NAS-Bench-101 has one dataset, cifar10; got dataset={dataset!r}.")
    data = load_nasbench101(path=path, data_home=data_home)
    data.dataset = "cifar10"
    data.y_report = None
    return data


_LOADERS = {
    "nasbench_graph": _load_nasbench_graph,
    "nasbench201": _load_nasbench201,
    "nasbench101": _load_nasbench101,
}


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
    data = _LOADERS[name](dataset, path, data_home)
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
