"""Loader of the NAS-Bench-Graph benchmark files (``.bench``), read without running code.

The ``.bench`` files of the ``nas-bench-graph`` package are pickles of
``{key: {"valid_perf", "perf", "latency", "para"}}``. A pickle can run arbitrary code when
loaded, so they are read with an unpickler that only builds plain containers and numeric numpy
scalars; anything else is refused.
"""

import importlib.util
import math
import pickle
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..spaces.nasbench_graph import NASBenchGraphSpace

__all__ = ["load_nasbench_graph"]

PACKAGE = "nas_bench_graph"
DATASETS = (
    "cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv", "proteins"
)
METRICS = {"valid": "valid_perf", "test": "perf"}
RECORD_FIELDS = ("valid_perf", "perf", "latency", "para")
HOW_TO_GET = (
    "Install the benchmark files with `pip install sknar[graph]` (the nas-bench-graph "
    "package), or pass path= to a NAS-Bench-Graph .bench file."
)

_NUMERIC_DTYPES = frozenset(["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"])

DESCR_TEMPLATE = """NAS-Bench-Graph ({dataset})
--------------------------
{n} GNN architectures of the NAS-Bench-Graph space (9 link topologies x 4 op slots).
archs: canonical GraphArch (link, ops); keys: the benchmark's integer keys.
y: {target} ({metric} accuracy, fraction); y_valid / y_test: validation / test accuracy.
params: parameters in millions; latency: seconds per inference.
Source file: {path}
"""


def _numeric_dtype(spec, align=False, copy=False):
    if not isinstance(spec, str) or spec not in _NUMERIC_DTYPES:
        raise pickle.UnpicklingError(f"refusing to build numpy dtype {spec!r}")
    return np.dtype(spec)


def _numeric_scalar(dtype, payload=None):
    if not isinstance(dtype, np.dtype) or dtype.kind not in "fiu":
        raise pickle.UnpicklingError(f"refusing to build a numpy scalar of dtype {dtype!r}")
    if not isinstance(payload, bytes) or len(payload) != dtype.itemsize:
        raise pickle.UnpicklingError("malformed numpy scalar payload")
    return np.frombuffer(payload, dtype=dtype)[0]


class _BenchUnpickler(pickle.Unpickler):
    """Unpickler that resolves only numeric numpy scalars and dtypes, nothing else."""

    _ALLOWED = {
        ("numpy.core.multiarray", "scalar"): _numeric_scalar,
        ("numpy._core.multiarray", "scalar"): _numeric_scalar,
        ("numpy", "dtype"): _numeric_dtype,
    }

    def find_class(self, module, name):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a benchmark file may only hold plain "
                "containers and numbers"
            ) from None


def _locate_bench_file(dataset, path):
    if path is not None:
        candidate = Path(path).expanduser()
        if not candidate.is_file():
            raise FileNotFoundError(f"{candidate} does not exist or is not a file. {HOW_TO_GET}")
        return candidate
    # find_spec on a top-level name locates the package without importing it
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the {PACKAGE} package, which holds the NAS-Bench-Graph files, is not installed. "
            f"{HOW_TO_GET}"
        )
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "light" / f"{dataset}.bench"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{dataset}.bench was not found in the light/ folder of the installed {PACKAGE} "
        f"package ({list(spec.submodule_search_locations)}). {HOW_TO_GET}"
    )


def _read_pickle(file):
    try:
        with open(file, "rb") as handle:
            return _BenchUnpickler(handle).load()
    except Exception as exc:  # any failure to decode means a bad file, never a crash
        raise ValueError(f"{file}: not a readable NAS-Bench-Graph bench file: {exc}") from exc


def _check_record(record, where):
    if not isinstance(record, dict):
        raise ValueError(f"{where}: a record must be a dict, got {type(record).__name__}")
    if set(record) != set(RECORD_FIELDS):
        raise ValueError(
            f"{where}: expected the fields {list(RECORD_FIELDS)}, got {sorted(record, key=str)}"
        )
    values = []
    for field in RECORD_FIELDS:
        value = record[field]
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)
        ):
            raise ValueError(f"{where}: {field} must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{where}: {field} is {value}, not a finite number")
        if field in METRICS.values() and not 0.0 <= value <= 1.0:
            raise ValueError(f"{where}: {field} = {value} is not an accuracy in [0, 1]")
        if value < 0:
            raise ValueError(f"{where}: {field} = {value} is negative")
        values.append(value)
    return values


def load_nasbench_graph(dataset="cora", *, metric="valid", path=None):
    """Load the NAS-Bench-Graph results of one dataset.

    The ``.bench`` files come with the ``nas-bench-graph`` package (``pip install
    sknar[graph]``); they are located without importing it, or read from ``path``.

    Parameters
    ----------
    dataset : {"cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", \
"arxiv", "proteins"}, default="cora"
        The node-classification dataset. ``"proteins"`` uses the reduced op set
        (``NASBenchGraphSpace(op_set="proteins")``, 2,021 architectures).
    metric : {"valid", "test"}, default="valid"
        Which accuracy becomes ``y``: the benchmark's ``valid_perf`` or ``perf``.
    path : str or path-like, default=None
        An explicit ``.bench`` file.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``archs`` (list of :class:`~sknar.spaces.nasbench_graph.GraphArch`, file order),
        ``bench_keys`` (int64, the benchmark's own key of each architecture), ``y``
        (float64, the chosen accuracy as a fraction),
        ``y_valid``, ``y_test``, ``params`` (millions), ``latency`` (seconds), ``space``,
        ``dataset``, ``metric``, ``target_name`` and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        When the package is not installed and no path is given, or the file is absent.
    ValueError
        For an unknown dataset or metric, or a bad file (the message names the file and
        record key). Files holding anything but containers and numbers are refused.

    Examples
    --------
    >>> from sknar.datasets import load_nasbench_graph  # doctest: +SKIP
    >>> data = load_nasbench_graph("cora")  # doctest: +SKIP
    >>> len(data.archs)  # doctest: +SKIP
    26206
    """
    if dataset not in DATASETS:
        raise ValueError(
            f"unknown NAS-Bench-Graph dataset {dataset!r}; expected one of {list(DATASETS)}"
        )
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}")
    file = _locate_bench_file(dataset, path)
    space = NASBenchGraphSpace(op_set="proteins" if dataset == "proteins" else "full")
    bench = _read_pickle(file)
    if not isinstance(bench, dict) or not bench:
        raise ValueError(f"{file}: expected a non-empty dict mapping key -> record")
    archs, keys, rows = [], [], []
    for key, record in bench.items():
        where = f"{file}, record {key!r}"
        try:
            archs.append(space.from_key(key))
        except ValueError as exc:
            raise ValueError(f"{where}: bad architecture key: {exc}") from exc
        keys.append(int(key))
        rows.append(_check_record(record, where))
    columns = np.asarray(rows, dtype=np.float64).T
    y_valid, y_test, latency, params = columns  # in RECORD_FIELDS order
    target = METRICS[metric]
    return Bunch(
        archs=archs,
        bench_keys=np.asarray(keys, dtype=np.int64),
        y=(y_valid if metric == "valid" else y_test).copy(),
        y_valid=y_valid,
        y_test=y_test,
        params=params,
        latency=latency,
        space=space,
        dataset=dataset,
        metric=metric,
        target_name=target,
        DESCR=DESCR_TEMPLATE.format(
            dataset=dataset, n=len(archs), target=target, metric=metric, path=file
        ),
    )
