"""Loader of the NAS-Bench-Graph benchmark files (``.bench``), read without running code.

The ``.bench`` files of the ``nas-bench-graph`` package are pickles of
``{key: {"valid_perf", "perf", "latency", "para"}}``. A pickle can run arbitrary code when
loaded and can ask for any amount of memory, so they are read by
:func:`~sknar.datasets._plain_pickle.load_plain_pickle`, which builds only plain containers,
numbers and numeric numpy scalars, within fixed bounds; anything else is refused.
"""

import importlib.util
import math
import operator
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..spaces.nasbench_graph import NASBenchGraphSpace
from ._base import check_file, one_line, short_repr
from ._plain_pickle import PickleLimits, PickleRefused, load_plain_pickle

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
EXPECTED = "a NAS-Bench-Graph .bench file"
# The package's files are 2 MB and half a million opcodes; these bounds leave room for 8x that.
LIMITS = PickleLimits(max_bytes=16 * 2**20, max_opcodes=4_000_000, max_length=4096, max_depth=8)

# the number of architectures of the space of each op set (NASBenchGraphSpace.size, which
# enumerates the space: the loader needs only the count)
SPACE_SIZES = {"full": 26_206, "proteins": 2_021}

_NUMERIC_DTYPES = frozenset(["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"])
_NUMBER_TYPES = frozenset([int, float, *(np.dtype(code).type for code in _NUMERIC_DTYPES)])
_FIELD_SET = frozenset(RECORD_FIELDS)
_fields_of = operator.itemgetter(*RECORD_FIELDS)
_ACCURACY_COLUMNS = [RECORD_FIELDS.index(name) for name in METRICS.values()]

DESCR_TEMPLATE = """NAS-Bench-Graph ({dataset})
--------------------------
{n} GNN architectures of the NAS-Bench-Graph space (9 link topologies x 4 op slots).
{coverage}
archs: canonical GraphArch (link, ops); keys: the benchmark's integer keys.
y: {target} ({metric} accuracy, fraction); y_valid / y_test: validation / test accuracy.
params: parameters in millions; latency: seconds per inference.
Source file: {path}
"""


def _numeric_dtype(spec, align=False, copy=False):
    if not isinstance(spec, str) or spec not in _NUMERIC_DTYPES:
        raise ValueError(f"refusing to build numpy dtype {short_repr(spec)}")
    # a copy, as the pickle asks, so that its BUILD never touches numpy's shared dtype
    return np.dtype(spec, align=False, copy=True)


def _dtype_state(dtype, state):
    """BUILD of a numeric dtype: only the standard state, whose one free field is byte order."""
    if (
        not isinstance(dtype, np.dtype)
        or dtype.kind not in "fiu"
        or type(state) is not tuple
        or len(state) != 8
        or state[0] != 3
        or state[1] not in ("<", ">", "|", "=")
        or state[2:] != (None, None, None, -1, -1, 0)
    ):
        raise ValueError("only the state of a plain numeric numpy dtype is allowed")
    dtype.__setstate__(state)


def _numeric_scalar(dtype, payload=None):
    if not isinstance(dtype, np.dtype) or dtype.kind not in "fiu":
        raise ValueError(f"refusing to build a numpy scalar of dtype {short_repr(dtype)}")
    if not isinstance(payload, bytes) or len(payload) != dtype.itemsize:
        raise ValueError("malformed numpy scalar payload")
    return np.frombuffer(payload, dtype=dtype)[0]


def _latin1_bytes(text, encoding):
    """How pickle protocol 2 writes bytes: ``_codecs.encode(text, "latin1")``."""
    if not isinstance(text, str) or encoding != "latin1":
        raise ValueError("only the latin1 encoding of a string, as pickle protocol 2 writes bytes")
    return text.encode("latin1")


_ALLOWED_CALLS = {
    ("_codecs", "encode"): _latin1_bytes,
    ("numpy.core.multiarray", "scalar"): _numeric_scalar,
    ("numpy._core.multiarray", "scalar"): _numeric_scalar,
    ("numpy", "dtype"): _numeric_dtype,
}


def _locate_bench_file(dataset, path):
    if path is not None:
        candidate = Path(path).expanduser()
        if candidate.is_dir():
            raise IsADirectoryError(f"{candidate} is a directory, not a file. {HOW_TO_GET}")
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
    """The object a .bench file holds; its size and header are checked before it is read."""
    check_file(file, EXPECTED)
    size = file.stat().st_size
    if size > LIMITS.max_bytes:
        raise ValueError(
            f"{file}: not a readable NAS-Bench-Graph bench file: it holds {size:,} bytes, more "
            f"than the {LIMITS.max_bytes:,} a bench file may"
        )
    with open(file, "rb") as handle:
        data = handle.read()
    if not data:
        raise ValueError(f"{file}: the file is empty; expected {EXPECTED}")
    try:
        return load_plain_pickle(data, _ALLOWED_CALLS, _dtype_state, limits=LIMITS)
    except PickleRefused as exc:
        raise ValueError(f"{file}: not a readable NAS-Bench-Graph bench file: {exc}") from None


def _check_record(record, where):
    """Raise the first problem of a record, if it has one."""
    if not isinstance(record, dict):
        raise ValueError(f"{where}: a record must be a dict, got {type(record).__name__}")
    if set(record) != _FIELD_SET:
        raise ValueError(
            f"{where}: expected the fields {list(RECORD_FIELDS)}, got {short_repr(list(record))}"
        )
    for field in RECORD_FIELDS:
        value = record[field]
        if type(value) not in _NUMBER_TYPES:
            raise ValueError(f"{where}: {field} must be a number, got {short_repr(value)}")
        try:
            value = float(value)
        except OverflowError:
            raise ValueError(f"{where}: {field} = {short_repr(value)} is too large") from None
        if not math.isfinite(value):
            raise ValueError(f"{where}: {field} is {value}, not a finite number")
        if field in METRICS.values() and not 0.0 <= value <= 1.0:
            raise ValueError(f"{where}: {field} = {value} is not an accuracy in [0, 1]")
        if value < 0:
            raise ValueError(f"{where}: {field} = {value} is negative")


def _record_columns(bench, file, space):
    """Architectures, keys and the (n, 4) float64 table of the records, every one checked."""
    archs, keys, rows = [], [], []
    for key, record in bench.items():
        if type(key) is not int:
            raise ValueError(
                f"{file}, record {short_repr(key)}: bad architecture key: expected an integer, "
                f"got {type(key).__name__}"
            )
        try:
            archs.append(space.from_key(key))
        except ValueError as exc:
            raise ValueError(
                f"{file}, record {key!r}: bad architecture key: {one_line(exc)}"
            ) from None
        if (
            type(record) is not dict
            or record.keys() != _FIELD_SET
            or not _NUMBER_TYPES.issuperset(map(type, record.values()))
        ):
            _check_record(record, f"{file}, record {key!r}")
        keys.append(key)
        rows.append(_fields_of(record))
    try:
        table = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(RECORD_FIELDS))
        accuracies = table[:, _ACCURACY_COLUMNS]
        bad = ~np.isfinite(table).all(axis=1) | (table < 0).any(axis=1)
        bad |= (accuracies > 1).any(axis=1)
    except OverflowError:  # an integer beyond float64
        bad = np.ones(len(rows), dtype=bool)
    for key in np.asarray(keys)[bad]:
        _check_record(bench[int(key)], f"{file}, record {int(key)!r}")
    return archs, keys, table


def load_nasbench_graph(dataset="cora", *, metric="valid", path=None, allow_subset=False):
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
    allow_subset : bool, default=False
        Whether a file that holds only part of the space's architectures (26,206; 2,021 for
        ``"proteins"``) may load.

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
        For an unknown dataset or metric, a bad file (the message names the file and
        record key), or a part of the benchmark when ``allow_subset`` is False. Files
        holding anything but containers and numbers are refused, and so are files beyond
        the bounds of a benchmark file (16 MiB, 4 million pickle opcodes, strings of 4,096
        bytes, containers nested 8 deep, containers referenced twice): each is refused
        within about a second and a few megabytes of memory.

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
    if not isinstance(allow_subset, bool):
        raise ValueError(f"allow_subset must be True or False, got {allow_subset!r}")
    file = _locate_bench_file(dataset, path)
    op_set = "proteins" if dataset == "proteins" else "full"
    space, size = NASBenchGraphSpace(op_set=op_set), SPACE_SIZES[op_set]
    bench = _read_pickle(file)
    if not isinstance(bench, dict) or not bench:
        raise ValueError(f"{file}: expected a non-empty dict mapping key -> record")
    archs, keys, table = _record_columns(bench, file, space)
    if len(archs) < size and not allow_subset:
        raise ValueError(
            f"{file}: holds {len(archs):,} of the {size:,} architectures of "
            f"NAS-Bench-Graph ({dataset}): a partial file? Pass allow_subset=True to load part "
            "of the benchmark on purpose"
        )
    y_valid, y_test, latency, params = table.T  # in RECORD_FIELDS order
    target = METRICS[metric]
    coverage = (
        "Coverage: the whole benchmark."
        if len(archs) == size
        else f"Coverage: a part of the benchmark ({len(archs):,} of {size:,} architectures)."
    )
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
            dataset=dataset,
            n=len(archs),
            coverage=coverage,
            target=target,
            metric=metric,
            path=file,
        ),
    )
