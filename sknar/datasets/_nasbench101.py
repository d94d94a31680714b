"""Loader of NAS-Bench-101 records (CIFAR-10) in three JSON layouts, plain or gzip'd.

The layout is recognised from the content, not the file name:

- ``"records"``: a list of ``{"hash", "matrix", "ops", "trainable_parameters",
  "final_training_time_108", "val_acc_4", "val_acc_12", "val_acc_36", "val_acc_108"}``
  (one training run per epoch budget; the default ``nasbench101/nb101_20k_val108.json.gz``);
- ``"official"``: the in-memory dict of the official ``nasbench`` API,
  ``{hash: {"fixed": {"module_adjacency", "module_operations", "trainable_parameters"},
  "computed": {epochs: [run, ...]}}}``, metrics averaged over the runs;
- ``"nar"``: the NAR cell-information list of ``{"module_adjacency", "module_operations",
  "unique_hash", "trainable_parameters", "avg_validation_accuracy", ..., "flops"}``.
"""

import hashlib
import json
import math

import numpy as np
from sklearn.utils import Bunch

from ..spaces.nasbench101 import NASBench101Space
from ._base import one_line, read_text, resolve_data_file, short_repr

__all__ = ["load_nasbench101", "NASBENCH101_METRICS"]

RELATIVE_PATH = "nasbench101/nb101_20k_val108.json.gz"
HOW_TO_GET = (
    f"Put the NAS-Bench-101 records file at <data_home>/{RELATIVE_PATH} (a gzip'd JSON list "
    "of records with hash, matrix, ops, trainable_parameters and val_acc_108), or pass path= "
    "to such a file, to an export of the official nasbench records or to a NAR "
    "NAS-Bench-101 cell-information JSON file."
)

EXPECTED = "a NAS-Bench-101 JSON file (records, official or NAR layout; plain or gzip'd)"
# Subsets published as files of their own, by the SHA-256 of their sorted hashes joined by
# newlines: a file that holds exactly one of them is a whole file, not a cut one.
PUBLISHED_SLICES = {
    "d8d657f582b605070801815de5b01a27bc4ff79799df07179820d88b5d6fcb9a": (
        "the published 20,001-cell slice (the first 20,001 hashes in sorted order)"
    ),
}

_EPOCHS = (4, 12, 36, 108)
_OFFICIAL_RUN_FIELDS = {
    f"{when}_{split}_accuracy": (when, split)
    for when in ("final", "halfway")
    for split in ("train", "validation", "test")
}


def _official_metrics():
    """Metric name -> (epoch budget, run field) of the official layout."""
    metrics = {}
    for epochs in _EPOCHS:
        for short, split in (("val", "validation"), ("test", "test"), ("train", "train")):
            metrics[f"{short}_acc_{epochs}"] = (str(epochs), f"final_{split}_accuracy")
    for field in _OFFICIAL_RUN_FIELDS:
        metrics[field] = ("108", field)
    return metrics


_OFFICIAL_METRICS = _official_metrics()
_RECORDS_METRICS = {f"val_acc_{epochs}": f"val_acc_{epochs}" for epochs in _EPOCHS}
_NAR_METRICS = {
    "avg_validation_accuracy": "avg_validation_accuracy",
    "avg_test_accuracy": "avg_test_accuracy",
    "avg_train_accuracy": "avg_train_accuracy",
    "val_acc_108": "avg_validation_accuracy",
    "test_acc_108": "avg_test_accuracy",
    "train_acc_108": "avg_train_accuracy",
}

#: Metric names accepted by :func:`load_nasbench101`, per file layout.
NASBENCH101_METRICS = {
    "records": tuple(_RECORDS_METRICS),
    "official": tuple(_OFFICIAL_METRICS),
    "nar": tuple(_NAR_METRICS),
}

DESCR_TEMPLATE = """NAS-Bench-101 (CIFAR-10)
------------------------
{n} cells of the NAS-Bench-101 space (at most 7 vertices and 9 edges; ops conv3x3-bn-relu,
conv1x1-bn-relu, maxpool3x3), each trained in a fixed 9-cell CIFAR-10 network.
archs: canonical NASBench101Cell (matrix, ops), vertices in the file's order.
hashes: the official module hash of each cell (checked against the cell).
{coverage}
y: {metric} ({explanation}, fraction).
params: trainable parameters; training_time: {time_explanation}.
Layout: {layout}. Source file: {path}
"""

_EXPLANATIONS = {
    "records": "accuracy of one training run",
    "official": "accuracy averaged over the training runs",
    "nar": "accuracy averaged over the training runs",
}


def load_nasbench101(path=None, *, metric="val_acc_108", data_home=None, allow_subset=False):
    """Load NAS-Bench-101 cells and one accuracy metric.

    Reads the default records file ``nasbench101/nb101_20k_val108.json.gz`` under the data
    home, or the file given by ``path`` in any of three layouts recognised from its content
    (plain or gzip'd JSON):

    ``"records"``
        A list of ``{"hash", "matrix", "ops", "trainable_parameters", "val_acc_108", ...}``.
        Metrics: ``val_acc_4``, ``val_acc_12``, ``val_acc_36``, ``val_acc_108`` (validation
        accuracy of one training run). ``training_time``: ``final_training_time_108``.
    ``"official"``
        The official API's dict ``{hash: {"fixed": ..., "computed": {epochs: [runs]}}}``.
        Metrics, averaged over the runs: ``val_acc_E``, ``test_acc_E``, ``train_acc_E``
        for ``E`` in 4, 12, 36, 108 (the runs' ``final_*_accuracy`` at ``E`` epochs), and the
        run fields ``final_validation_accuracy``, ``final_test_accuracy``,
        ``final_train_accuracy``, ``halfway_validation_accuracy``,
        ``halfway_test_accuracy``, ``halfway_train_accuracy`` at 108 epochs.
        ``training_time``: mean ``final_training_time`` at the metric's epochs.
    ``"nar"``
        The NAR cell-information list. Metrics: ``avg_validation_accuracy``,
        ``avg_test_accuracy``, ``avg_train_accuracy`` and their aliases ``val_acc_108``,
        ``test_acc_108``, ``train_acc_108``. ``training_time``: ``avg_training_time``;
        ``flops``: the record's whole-network ``flops``.

    Every record is checked: its cell must be valid, its hash must be the official hash of
    its cell, hashes must be unique and the metric must be a finite fraction in [0, 1].

    The file must hold the whole benchmark (423,624 cells) or a published slice of it,
    recognised by its hashes wherever the file lives (the default file is the 20,001-cell
    slice). Any other part of the benchmark is refused unless ``allow_subset`` is True. A
    JSON file cut short does not parse, and a cut gzip stream lacks its end marker: both
    are refused whatever ``allow_subset`` says.

    Parameters
    ----------
    path : str or path-like, default=None
        An explicit file; it wins over the data home.
    metric : str, default="val_acc_108"
        The accuracy that becomes ``y``; see above for the names each layout accepts
        (``NASBENCH101_METRICS`` lists them). The default works for every layout.
    data_home : str or path-like, default=None
        Folder holding the benchmark files; see :func:`sknar.datasets.get_data_home`.
    allow_subset : bool, default=False
        Whether a file that holds neither the whole benchmark nor a published slice may
        load (a sample of your own, a few records for a test).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``archs`` (list of :class:`~sknar.spaces.nasbench101.NASBench101Cell`, vertices in
        the file's order), ``y`` (float64), ``hashes`` (str array), ``params`` (int64
        trainable parameters), ``training_time`` (float64 seconds, NaN where a record has
        none, or None when no record has one), ``flops`` (int64, NAR layout only, else
        None), ``val_acc_by_epochs`` (``{epochs: float64 array}``, the validation accuracy
        after 4, 12, 36 and 108 epochs where every record has it, aligned with ``archs``:
        the fidelities of a multi-fidelity search; only 108 for the NAR layout), ``space``,
        ``metric``, ``target_name`` (same as ``metric``), ``layout``, ``filename`` and
        ``DESCR``.

    Raises
    ------
    FileNotFoundError
        When the file is absent (the message says where it looked and how to get it).
    ValueError
        For an unknown metric, an unrecognised or malformed file, a bad record (the
        message names the file, the record index and what is wrong), or a part of the
        benchmark when ``allow_subset`` is False.

    Examples
    --------
    >>> from sknar.datasets import load_nasbench101  # doctest: +SKIP
    >>> data = load_nasbench101()  # doctest: +SKIP
    >>> len(data.archs), round(float(data.y.max()), 3)  # doctest: +SKIP
    (20001, 0.949)
    """
    if not isinstance(allow_subset, bool):
        raise ValueError(f"allow_subset must be True or False, got {allow_subset!r}")
    file = resolve_data_file(path, RELATIVE_PATH, HOW_TO_GET, data_home=data_home)
    content = _read_json(file)
    layout = _detect_layout(content, file)
    accepted = NASBENCH101_METRICS[layout]
    if metric not in accepted:
        raise ValueError(
            f"unknown metric {metric!r} for a NAS-Bench-101 file in the {layout!r} layout "
            f"({file}); expected one of {list(accepted)}"
        )
    space = NASBench101Space()
    reader = {"records": _read_records, "official": _read_official, "nar": _read_nar}[layout]
    rows = reader(content, metric, file, space)
    data = _assemble(rows, file)
    data["val_acc_by_epochs"] = _validation_by_epochs(content, layout, file)
    coverage = _coverage(data["hashes"], space.size, file, allow_subset)
    has_time = not np.isnan(data["training_time"]).all()
    data["DESCR"] = DESCR_TEMPLATE.format(
        n=len(data["archs"]),
        metric=metric,
        explanation=_EXPLANATIONS[layout],
        time_explanation="training seconds" if has_time else "not in the file",
        layout=layout,
        path=file,
        coverage=coverage,
    )
    if not has_time:
        data["training_time"] = None
    return Bunch(
        space=space,
        metric=metric,
        target_name=metric,
        layout=layout,
        filename=str(file),
        **data,
    )


# --- reading and recognising ----------------------------------------------------------


def _read_json(file):
    text = read_text(file, EXPECTED)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{file}: not a valid JSON file: {one_line(exc)}") from None


def _coverage(hashes, size, file, allow_subset):
    """Say what part of the benchmark the file holds; refuse an unknown part unless allowed."""
    if len(hashes) == size:
        return "Coverage: the whole benchmark."
    fingerprint = hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()
    if fingerprint in PUBLISHED_SLICES:
        return f"Coverage: {PUBLISHED_SLICES[fingerprint]}."
    if not allow_subset:
        raise ValueError(
            f"{file}: holds {len(hashes):,} of the {size:,} NAS-Bench-101 cells and is not a "
            "published slice of them: a cut or partial file? Pass allow_subset=True to load "
            "part of the benchmark on purpose"
        )
    return f"Coverage: a part of the benchmark ({len(hashes):,} of {size:,} cells)."


def _detect_layout(content, file):
    if isinstance(content, dict) and content:
        first = next(iter(content.values()))
        if isinstance(first, dict) and "fixed" in first:
            return "official"
    elif isinstance(content, list) and content and isinstance(content[0], dict):
        if "module_adjacency" in content[0]:
            return "nar"
        if "matrix" in content[0]:
            return "records"
    raise ValueError(
        f"{file}: not a NAS-Bench-101 file: expected a non-empty JSON list of records with "
        "'matrix' or 'module_adjacency' keys, or the official dict {hash: {'fixed': ..., "
        "'computed': ...}}"
    )


# --- one reader per layout -------------------------------------------------------------


def _record_error(file, index, key=None):
    where = f"{file}, record {index}"
    return f"{where} ({one_line(key, limit=60)})" if key is not None else where


def _require(record, fields, where):
    if not isinstance(record, dict):
        raise ValueError(f"{where}: a record must be a JSON object, got {type(record).__name__}")
    missing = [field for field in fields if field not in record]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing}")


def _cell_and_hash(space, arch, expected_hash, where):
    try:
        cell = space.validate(arch)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: bad cell: {one_line(exc)}") from None
    actual = space.hash(cell)
    if actual != expected_hash:
        raise ValueError(
            f"{where}: the hash {short_repr(expected_hash)} does not match the cell, whose "
            f"official hash is {actual!r}"
        )
    return cell, actual


def _accuracy(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: accuracy {short_repr(value)} is not a number")
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"{where}: accuracy {short_repr(value)} is not a finite fraction in [0, 1]"
        )
    return float(value)


def _count(value, where):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: expected a non-negative integer, got {short_repr(value)}")
    return value


def _seconds(value, where):
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: training time {short_repr(value)} is not a number")
    if not math.isfinite(value) or value < 0:
        raise ValueError(
            f"{where}: training time {short_repr(value)} is not a finite number >= 0"
        )
    return float(value)


def _read_records(records, metric, file, space):
    field = _RECORDS_METRICS[metric]
    rows = []
    for index, record in enumerate(records):
        where = _record_error(file, index)
        _require(record, ("hash", "matrix", "ops", "trainable_parameters", field), where)
        cell, key = _cell_and_hash(space, (record["matrix"], record["ops"]), record["hash"], where)
        rows.append(
            (
                cell,
                key,
                _accuracy(record[field], f"{where}, {field}"),
                _count(record["trainable_parameters"], f"{where}, trainable_parameters"),
                _seconds(record.get("final_training_time_108"), f"{where}"),
                None,
                where,
            )
        )
    return rows


def _read_official(records, metric, file, space):
    epochs, field = _OFFICIAL_METRICS[metric]
    rows = []
    for index, (key, record) in enumerate(records.items()):
        where = _record_error(file, index, key)
        _require(record, ("fixed", "computed"), where)
        fixed, computed = record["fixed"], record["computed"]
        _require(
            fixed,
            ("module_adjacency", "module_operations", "trainable_parameters"),
            f"{where}, 'fixed'",
        )
        _require(computed, (epochs,), f"{where}, 'computed'")
        runs = computed[epochs]
        if not isinstance(runs, list) or not runs:
            raise ValueError(f"{where}: computed[{epochs!r}] must be a non-empty list of runs")
        for run_index, run in enumerate(runs):
            _require(run, (field,), f"{where}, computed[{epochs!r}][{run_index}]")
        cell, key = _cell_and_hash(
            space, (fixed["module_adjacency"], fixed["module_operations"]), key, where
        )
        accuracy = np.mean(
            [
                _accuracy(run[field], f"{where}, computed[{epochs!r}][{i}].{field}")
                for i, run in enumerate(runs)
            ]
        )
        times = [
            _seconds(run.get("final_training_time"), f"{where}, computed[{epochs!r}][{i}]")
            for i, run in enumerate(runs)
        ]
        rows.append(
            (
                cell,
                key,
                float(accuracy),
                _count(fixed["trainable_parameters"], f"{where}, trainable_parameters"),
                float(np.mean(times)),
                None,
                where,
            )
        )
    return rows


def _read_nar(records, metric, file, space):
    field = _NAR_METRICS[metric]
    required = ("module_adjacency", "module_operations", "unique_hash")
    rows = []
    for index, record in enumerate(records):
        where = _record_error(file, index)
        _require(record, (*required, "trainable_parameters", field), where)
        cell, key = _cell_and_hash(
            space,
            (record["module_adjacency"], record["module_operations"]),
            record["unique_hash"],
            where,
        )
        flops = record.get("flops")
        rows.append(
            (
                cell,
                key,
                _accuracy(record[field], f"{where}, {field}"),
                _count(record["trainable_parameters"], f"{where}, trainable_parameters"),
                _seconds(record.get("avg_training_time"), f"{where}"),
                None if flops is None else _count(flops, f"{where}, flops"),
                where,
            )
        )
    return rows


def _assemble(rows, file):
    first_index = {}
    for index, (_, key, *_, where) in enumerate(rows):
        if key in first_index:
            raise ValueError(
                f"{where}: duplicate cell with hash {key} (also record {first_index[key]})"
            )
        first_index[key] = index
    cells, keys, accuracies, params, times, flops, _ = zip(*rows)
    return {
        "archs": list(cells),
        "y": np.asarray(accuracies, dtype=np.float64),
        "hashes": np.asarray(keys, dtype=str),
        "params": np.asarray(params, dtype=np.int64),
        "training_time": np.asarray(times, dtype=np.float64),
        "flops": None if None in flops else np.asarray(flops, dtype=np.int64),
    }


def _validation_by_epochs(content, layout, file):
    """``{epochs: validation accuracies}`` for each budget that every record holds."""
    by_epochs = {}
    for epochs in _EPOCHS:
        if layout == "records":
            field = f"val_acc_{epochs}"
            if not all(field in record for record in content):
                continue
            values = [
                _accuracy(record[field], f"{_record_error(file, i)}, {field}")
                for i, record in enumerate(content)
            ]
        elif layout == "official":
            key = str(epochs)
            runs_of = [record["computed"].get(key) for record in content.values()]
            if not all(isinstance(runs, list) and runs for runs in runs_of):
                continue
            if not all("final_validation_accuracy" in run for runs in runs_of for run in runs):
                continue
            values = [
                np.mean(
                    [
                        _accuracy(
                            run["final_validation_accuracy"],
                            f"{_record_error(file, i)}, computed[{key!r}]",
                        )
                        for run in runs
                    ]
                )
                for i, runs in enumerate(runs_of)
            ]
        elif epochs == 108:
            values = [
                _accuracy(record["avg_validation_accuracy"], f"{_record_error(file, i)}")
                for i, record in enumerate(content)
            ]
        else:
            continue
        by_epochs[epochs] = np.asarray(values, dtype=np.float64)
    return by_epochs
