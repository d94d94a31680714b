"""Loader of NAS-Bench-201 test accuracies (CSV export or NAR cell-information JSON)."""

import csv
import io
import json
import math

import numpy as np
from sklearn.utils import Bunch

from ..spaces.nasbench201 import NASBench201Space
from ._base import one_line, read_text, resolve_data_file, short_repr

__all__ = ["load_nasbench201", "load_nasbench201_12_epochs"]

CSV_RELATIVE_PATH = "nasbench201/nats_tss_test_acc_200ep.csv"
HOW_TO_GET = (
    "Export the NATS-Bench topology-space test accuracies (200 epochs) to "
    f"<data_home>/{CSV_RELATIVE_PATH} with the columns ArchitectureString, UniqueString, "
    "CIFAR10TestAccuracy200Epochs, CIFAR100TestAccuracy200Epochs, "
    "ImageNetTestAccuracy200Epochs, or pass path= (a CSV of that layout or a NAR "
    "NAS-Bench-201 cell-information JSON file)."
)
ARCH_COLUMN = "ArchitectureString"
UNIQUE_COLUMN = "UniqueString"
CSV_TARGETS = {
    "cifar10": "CIFAR10TestAccuracy200Epochs",
    "cifar100": "CIFAR100TestAccuracy200Epochs",
    "ImageNet16-120": "ImageNetTestAccuracy200Epochs",
}
# NAR JSON: accuracy field prefix and network name of each dataset
JSON_PREFIXES = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16"}
JSON_NETWORKS = {
    "cifar10": "cifar10-valid",
    "cifar100": "cifar100",
    "ImageNet16-120": "ImageNet16-120",
}
EXPECTED = "a NAS-Bench-201 CSV export or NAR NAS-Bench-201 JSON file"

DESCR_TEMPLATE = """NAS-Bench-201 ({dataset})
------------------------
{n} cells of the NAS-Bench-201 (NATS-Bench topology) space: 4 nodes, 6 edges, 5 ops.
{coverage}
archs: canonical arch strings, in the benchmark's index order (``index``).
y: {target} (test accuracy in percent).
flops, params: whole-network cost of the {dataset} macro network ({cost_source}).
Source file: {path}
"""


def load_nasbench201(dataset="cifar10", *, path=None, data_home=None, allow_subset=False):
    """Load NAS-Bench-201 architectures and their test accuracy on one dataset.

    Reads the NATS-Bench CSV export (``nasbench201/nats_tss_test_acc_200ep.csv`` under the
    data home) or, when ``path`` points to one, a NAR NAS-Bench-201 cell-information JSON file
    (``{index: {"arch_str": ..., "cifar10_test_acc": ..., ...}}``).

    Parameters
    ----------
    dataset : {"cifar10", "cifar100", "ImageNet16-120"}, default="cifar10"
        Whose test accuracy becomes ``y``.
    path : str or path-like, default=None
        An explicit CSV or JSON file; it wins over the data home.
    data_home : str or path-like, default=None
        Folder holding the benchmark files; see :func:`sknar.datasets.get_data_home`.
    allow_subset : bool, default=False
        Whether a file that holds only part of the 15,625 cells may load. By default such a
        file is refused, since a cut file (an interrupted download, ``head -c``) would
        otherwise load as a smaller benchmark. A CSV row cut short is refused either way.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``archs`` (list of canonical arch strings, benchmark index order), ``y`` (float64,
        test accuracy in percent), ``index`` (int64 benchmark indices; for a part of the
        CSV export, the row numbers, since the export has no index column), ``flops`` and
        ``params`` (int64, whole network; read from a JSON file that has them, else computed
        by :meth:`NASBench201Space.total_costs`), ``unique_string`` (CSV only: the
        benchmark's isomorphism key), ``y_valid`` (JSON only: validation accuracy),
        ``space``, ``dataset``, ``target_name`` and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        When the file is absent (the message says where it looked).
    ValueError
        For an unknown dataset, a bad file (the message names the file and line or
        record), or a file that does not hold the whole benchmark when ``allow_subset`` is
        False.

    Examples
    --------
    >>> from sknar.datasets import load_nasbench201  # doctest: +SKIP
    >>> data = load_nasbench201("cifar100")  # doctest: +SKIP
    >>> len(data.archs), round(data.y.max(), 3)  # doctest: +SKIP
    (15625, 73.513)
    """
    if dataset not in CSV_TARGETS:
        raise ValueError(
            f"unknown NAS-Bench-201 dataset {dataset!r}; expected one of {list(CSV_TARGETS)}"
        )
    if not isinstance(allow_subset, bool):
        raise ValueError(f"allow_subset must be True or False, got {allow_subset!r}")
    file = resolve_data_file(path, CSV_RELATIVE_PATH, HOW_TO_GET, data_home=data_home)
    space = NASBench201Space()
    text = read_text(file, EXPECTED)
    if text.lstrip()[:1] == "{":
        data, last = _read_nar_json(text, file, dataset, space), ""
    else:
        data = _read_csv(text, file, dataset, space)
        last = f" (the last row is line {data.pop('last_line')})"
    if len(data["archs"]) < space.size and not allow_subset:
        raise ValueError(
            f"{file}: holds {len(data['archs']):,} of the {space.size:,} NAS-Bench-201 "
            f"cells{last}: a cut or partial file? Pass allow_subset=True to load part of the "
            "benchmark on purpose"
        )
    cost_source = "read from the file"
    if "flops" not in data:
        data["flops"], data["params"] = space.total_costs(data["archs"], dataset)
        cost_source = "computed by NASBench201Space"
    data["DESCR"] = DESCR_TEMPLATE.format(
        dataset=dataset,
        n=len(data["archs"]),
        target=data["target_name"],
        cost_source=cost_source,
        path=file,
        coverage=_coverage(len(data["archs"]), space.size),
    )
    return Bunch(space=space, dataset=dataset, **data)


def _coverage(n, size):
    if n == size:
        return "Coverage: the whole benchmark."
    return f"Coverage: a part of the benchmark ({n:,} of {size:,} cells)."


def _parse_accuracy(text, where):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: accuracy {short_repr(text)} is not a number") from None
    if not math.isfinite(value) or not 0.0 <= value <= 100.0:
        raise ValueError(f"{where}: accuracy {value} is not a finite percentage in [0, 100]")
    return value


def _read_csv(text, file, dataset, space):
    target = CSV_TARGETS[dataset]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _next_row(reader, file)
    if header is None:
        raise ValueError(f"{file}: the file is empty (expected a CSV header line)")
    missing = [c for c in (ARCH_COLUMN, UNIQUE_COLUMN, target) if c not in header]
    if missing:
        raise ValueError(
            f"{file}, line 1: bad header, missing column(s) {missing}; got {short_repr(header)}"
        )
    columns = [header.index(c) for c in (ARCH_COLUMN, UNIQUE_COLUMN, target)]
    # a file cut inside its last row has no line end there; the errors of that row say so
    cut_line = None if text.endswith(("\n", "\r")) else text.count("\n") + 1
    archs, uniques, accuracies, first_line = [], [], [], {}
    while (row := _next_row(reader, file)) is not None:
        line = reader.line_num
        try:
            arch, unique, accuracy = _read_row(row, header, columns, space, f"{file}, line {line}")
            accuracy = _parse_accuracy(accuracy, f"{file}, line {line}, {target}")
            if line == cut_line and unique != space.isomorphism_key(arch):
                raise ValueError(
                    f"{file}, line {line}: {UNIQUE_COLUMN} {short_repr(unique)} is not the key "
                    f"of the cell, {space.isomorphism_key(arch)!r}"
                )
        except ValueError as exc:
            if line != cut_line:
                raise
            raise ValueError(
                f"{exc}; the file looks cut inside this row, its last (it has no line end)"
            ) from None
        if arch in first_line:
            raise ValueError(
                f"{file}, line {line}: duplicate architecture {arch} (also on line "
                f"{first_line[arch]})"
            )
        first_line[arch] = line
        accuracies.append(accuracy)
        archs.append(arch)
        uniques.append(unique)
    if not archs:
        raise ValueError(f"{file}: the file holds a header but no architectures")
    return {
        "archs": archs,
        "y": np.asarray(accuracies, dtype=np.float64),
        "index": np.arange(len(archs), dtype=np.int64),
        "unique_string": np.asarray(uniques, dtype=object),
        "target_name": target,
        "last_line": reader.line_num,
    }


def _next_row(reader, file):
    try:
        return next(reader, None)
    except csv.Error as exc:
        raise ValueError(
            f"{file}, line {reader.line_num}: not a CSV row ({one_line(exc)})"
        ) from None


def _read_row(row, header, columns, space, where):
    if len(row) != len(header):
        raise ValueError(f"{where}: expected {len(header)} fields, got {len(row)}")
    text, unique, accuracy = (row[c] for c in columns)
    try:
        arch = space.validate(text)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: bad architecture string: {one_line(exc)}") from None
    return arch, unique, accuracy


def _no_duplicate_keys(pairs):
    record = {}
    for key, value in pairs:
        if key in record:
            raise ValueError(f"duplicate key {short_repr(key)}")
        record[key] = value
    return record


def _read_nar_json(text, file, dataset, space):
    prefix, network = JSON_PREFIXES[dataset], JSON_NETWORKS[dataset]
    target, valid_name = f"{prefix}_test_acc", f"{prefix}_val_acc"
    flops_name, params_name = f"{network}_total_flops", f"{network}_total_params"
    try:
        records = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ValueError as exc:  # JSONDecodeError and duplicate keys
        raise ValueError(
            f"{file}: not a valid NAR NAS-Bench-201 JSON file: {one_line(exc)}"
        ) from None
    if not isinstance(records, dict) or not records:
        raise ValueError(f"{file}: expected a non-empty object mapping index -> record")
    rows, first_record, index_record = [], {}, {}
    for key, record in records.items():
        where = f"{file}, record {short_repr(key)}"
        index = _benchmark_index(key, space.size)
        if index is None:
            raise ValueError(
                f"{where}: the record key must be a benchmark index (digits, below "
                f"{space.size:,})"
            )
        if index in index_record:
            raise ValueError(f"{where}: index {index} is also record {index_record[index]!r}")
        index_record[index] = key
        if not isinstance(record, dict):
            raise ValueError(f"{where}: a record must be an object, got {type(record).__name__}")
        missing = [f for f in ("arch_str", target) if f not in record]
        if missing:
            raise ValueError(f"{where}: missing field(s) {missing}")
        try:
            arch = space.validate(record["arch_str"])
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: bad arch_str: {one_line(exc)}") from None
        if arch in first_record:
            raise ValueError(
                f"{where}: duplicate architecture {arch} (also in record {first_record[arch]!r})"
            )
        first_record[arch] = key
        rows.append(
            (
                index,
                arch,
                _parse_accuracy(record[target], f"{where}, {target}"),
                _parse_accuracy(record[valid_name], f"{where}, {valid_name}")
                if valid_name in record
                else math.nan,
                _parse_count(record.get(flops_name), f"{where}, {flops_name}"),
                _parse_count(record.get(params_name), f"{where}, {params_name}"),
            )
        )
    rows.sort(key=lambda row: row[0])
    index, archs, y, y_valid, flops, params = zip(*rows)
    data = {
        "archs": list(archs),
        "y": np.asarray(y, dtype=np.float64),
        "index": np.asarray(index, dtype=np.int64),
        "target_name": target,
    }
    if not any(math.isnan(v) for v in y_valid):
        data["y_valid"] = np.asarray(y_valid, dtype=np.float64)
    if None not in flops and None not in params:
        data["flops"] = np.asarray(flops, dtype=np.int64)
        data["params"] = np.asarray(params, dtype=np.int64)
    return data


def _benchmark_index(key, size):
    """The index a record key names, or None when it is not one below ``size``."""
    if not (key.isascii() and key.isdigit()) or len(key) > len(str(size)):
        return None
    index = int(key)
    return index if index < size else None


def _parse_count(value, where):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"{where}: expected a non-negative integer count, got {short_repr(value)}"
        )
    return value


SHORT_RELATIVE_PATH = "nasbench201/nats_tss_cifar10_12ep.csv"
SHORT_COLUMNS = {
    "y_valid_12": "CIFAR10ValidAccuracy12Epochs",
    "y_test_12": "CIFAR10TestAccuracy12Epochs",
}
SHORT_HOW_TO_GET = (
    "Export the NATS-Bench topology-space CIFAR-10 accuracies of the 12-epoch schedule "
    "(get_more_info(i, 'cifar10-valid', hp='12') and (i, 'cifar10', hp='12')) to "
    f"<data_home>/{SHORT_RELATIVE_PATH} with the columns ArchitectureString, "
    "CIFAR10ValidAccuracy12Epochs, CIFAR10TestAccuracy12Epochs, in the order of the main "
    "file, or pass path=."
)
SHORT_EXPECTED = "a CSV of NAS-Bench-201 CIFAR-10 accuracies after 12 epochs"

SHORT_DESCR = """NAS-Bench-201 (CIFAR-10), 12-epoch schedule
-------------------------------------------
{n} cells, in the benchmark's index order (the main file's rows, checked).
y_valid_12: validation accuracy (percent) after NATS-Bench's 12-epoch schedule, trained on
half of the CIFAR-10 training set (the cifar10-valid split); the low fidelity.
y_test_12: test accuracy (percent) after the 12-epoch schedule, trained on all of it.
y_200: test accuracy (percent) after 200 epochs, from the main file: the full fidelity.
Source files: {path}, {main}
"""


def load_nasbench201_12_epochs(*, path=None, main_path=None, data_home=None, allow_subset=False):
    """Load the NAS-Bench-201 CIFAR-10 accuracies of the 12-epoch schedule, a low fidelity.

    Reads ``nasbench201/nats_tss_cifar10_12ep.csv`` (NATS-Bench's ``hp="12"`` runs, mean
    over seeds) and checks it row by row against the main file read by
    :func:`load_nasbench201` (``nats_tss_test_acc_200ep.csv``): the same cells in the same
    order, so that the arrays line up with ``load_nasbench201().archs`` index by index. The
    200-epoch CIFAR-10 test accuracy of the main file comes along: a multi-fidelity search
    selects with ``y_valid_12`` and reports ``y_200`` of what it selected.

    Parameters
    ----------
    path : str or path-like, default=None
        The 12-epoch CSV file; it wins over the data home.
    main_path : str or path-like, default=None
        The main CSV file (see :func:`load_nasbench201`); it wins over the data home.
    data_home : str or path-like, default=None
        Folder holding the benchmark files; see :func:`sknar.datasets.get_data_home`.
    allow_subset : bool, default=False
        Whether files that hold only the first rows of the benchmark may load (both files
        must then hold the same rows).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``archs`` (canonical arch strings, benchmark index order), ``y_valid_12`` and
        ``y_test_12`` (float64, percent, 12 epochs), ``y_200`` (float64, percent, 200-epoch
        test accuracy), ``y`` (the same array as ``y_valid_12``), ``index``, ``space``,
        ``dataset`` (``"cifar10"``), ``target_name`` and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        When a file is absent (the message says where it looked and how to get it).
    ValueError
        For a bad file (the message names the file and the line), or rows that are not the
        main file's cells in its order.

    Examples
    --------
    >>> from sknar.datasets import load_nasbench201_12_epochs  # doctest: +SKIP
    >>> data = load_nasbench201_12_epochs()  # doctest: +SKIP
    >>> len(data.archs), data.y_valid_12.shape, data.y_200.shape  # doctest: +SKIP
    (15625, (15625,), (15625,))
    """
    if not isinstance(allow_subset, bool):
        raise ValueError(f"allow_subset must be True or False, got {allow_subset!r}")
    file = resolve_data_file(path, SHORT_RELATIVE_PATH, SHORT_HOW_TO_GET, data_home=data_home)
    main = load_nasbench201(
        "cifar10", path=main_path, data_home=data_home, allow_subset=allow_subset
    )
    space = main.space
    columns = _read_short_csv(read_text(file, SHORT_EXPECTED), file, space, main.archs)
    n = len(columns["archs"])
    if n != len(main.archs):
        raise ValueError(
            f"{file}: holds {n:,} cells, the main file {len(main.archs):,}: the two files "
            "must hold the same cells in the same order"
        )
    return Bunch(
        archs=columns["archs"],
        y=columns["y_valid_12"],
        y_valid_12=columns["y_valid_12"],
        y_test_12=columns["y_test_12"],
        y_200=main.y,
        index=main.index,
        space=space,
        dataset="cifar10",
        target_name=SHORT_COLUMNS["y_valid_12"],
        DESCR=SHORT_DESCR.format(
            n=n, path=file, main=main.DESCR.rsplit("Source file: ")[-1].strip()
        ),
    )


def _read_short_csv(text, file, space, main_archs):
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _next_row(reader, file)
    if header is None:
        raise ValueError(f"{file}: the file is empty (expected a CSV header line)")
    wanted = (ARCH_COLUMN, *SHORT_COLUMNS.values())
    missing = [c for c in wanted if c not in header]
    if missing:
        raise ValueError(
            f"{file}, line 1: bad header, missing column(s) {missing}; got {short_repr(header)}"
        )
    positions = [header.index(c) for c in wanted]
    archs, values = [], {key: [] for key in SHORT_COLUMNS}
    while (row := _next_row(reader, file)) is not None:
        where = f"{file}, line {reader.line_num}"
        if len(row) != len(header):
            raise ValueError(f"{where}: expected {len(header)} fields, got {len(row)}")
        text_arch, *accuracies = (row[p] for p in positions)
        try:
            arch = space.validate(text_arch)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: bad architecture string: {one_line(exc)}") from None
        i = len(archs)
        if i >= len(main_archs) or arch != main_archs[i]:
            expected = main_archs[i] if i < len(main_archs) else "no more rows"
            raise ValueError(
                f"{where}: cell {arch} where the main file has {expected} (row {i + 1}): "
                "the 12-epoch file must list the main file's cells in its order"
            )
        archs.append(arch)
        for (key, name), accuracy in zip(SHORT_COLUMNS.items(), accuracies):
            values[key].append(_parse_accuracy(accuracy, f"{where}, {name}"))
    if not archs:
        raise ValueError(f"{file}: the file holds a header but no architectures")
    return {"archs": archs, **{k: np.asarray(v, dtype=np.float64) for k, v in values.items()}}
