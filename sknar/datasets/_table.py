"""Reading architecture tables: CSV, JSON and JSON Lines files of architectures.

``read_table`` reads architectures (and accuracies) from:

- CSV (``.csv``, or ``.csv.gz``): a header line, then one architecture per line. The column
  named by ``arch_field`` (default ``arch``) holds the architecture: an arch string for
  NAS-Bench-201, or JSON for the other spaces (``{"matrix": [[...]], "ops": [...]}`` for
  NAS-Bench-101). The column named by ``target_field`` (default ``accuracy``) holds the
  accuracy, higher is better.
- JSON (``.json`` or ``.json.gz``): a list of objects with the same two fields. Records
  without the architecture field but with ``matrix`` and ``ops`` keys (the NAS-Bench-101
  record layout) are read as ``{"matrix": ..., "ops": ...}``.
- JSON Lines (``.jsonl``): one such object per line.

Every architecture is validated by the search space; the first bad one is reported with its
line (CSV, JSON Lines) or record index (JSON).
"""

import csv
import gzip
import io
import json
import math
from pathlib import Path

import numpy as np

__all__ = ["jsonable_arch", "read_table"]


def _open_text(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _table_format(path):
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
    kind = suffixes[-1] if suffixes else ""
    if kind not in {".csv", ".json", ".jsonl"}:
        raise ValueError(
            f"{path}: cannot tell the format from the file name; use .csv, .json or .jsonl "
            "(optionally .gz)"
        )
    return kind[1:]


def _parse_arch_cell(text, where):
    text = text.strip()
    if not text:
        raise ValueError(f"{where}: the architecture is empty")
    if text[0] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: the architecture is not valid JSON ({exc})") from None
    return text


def _parse_target(value, where, field):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {field} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{where}: {field} is {value!r}; it must be a finite number")
    return number


def _csv_rows(handle, path, arch_field, target_field, require_target):
    reader = csv.DictReader(handle)
    columns = reader.fieldnames or []
    _check_fields(path, columns, arch_field, target_field, require_target, kind="column")
    has_target = target_field in columns
    for line_number, row in enumerate(reader, start=2):
        where = f"{path} line {line_number}"
        if None in row or any(row.get(name) is None for name in columns):
            raise ValueError(f"{where}: expected {len(columns)} fields, got another number")
        arch = _parse_arch_cell(row[arch_field], where)
        target = _parse_target(row[target_field], where, target_field) if has_target else None
        yield where, arch, target


def _record_arch(record, arch_field):
    if arch_field in record:
        return record[arch_field]
    if "matrix" in record and "ops" in record:
        return {"matrix": record["matrix"], "ops": record["ops"]}
    return None


def _json_records(records, path, arch_field, target_field, require_target, where_of):
    has_target = None
    for index, record in enumerate(records):
        where = where_of(index)
        if not isinstance(record, dict):
            raise ValueError(f"{where}: expected an object, got {type(record).__name__}")
        arch = _record_arch(record, arch_field)
        if arch is None:
            raise ValueError(
                f"{where}: field {arch_field!r} not found (fields: {', '.join(record)})"
            )
        if has_target is None:
            has_target = target_field in record
            if require_target and not has_target:
                raise ValueError(
                    f"{where}: field {target_field!r} not found (fields: {', '.join(record)}); "
                    "name the accuracy field with --target-field"
                )
        if has_target and target_field not in record:
            raise ValueError(f"{where}: field {target_field!r} is missing")
        target = (
            _parse_target(record[target_field], where, target_field) if has_target else None
        )
        if isinstance(arch, str):
            arch = _parse_arch_cell(arch, where)
        yield where, arch, target


def _check_fields(path, present, arch_field, target_field, require_target, kind):
    if arch_field not in present:
        raise ValueError(
            f"{path}: {kind} {arch_field!r} not found ({kind}s: {', '.join(present) or 'none'}); "
            "name the architecture column with --arch-field"
        )
    if require_target and target_field not in present:
        raise ValueError(
            f"{path}: {kind} {target_field!r} not found ({kind}s: {', '.join(present)}); "
            "name the accuracy column with --target-field"
        )


def _load_json(handle, path):
    try:
        data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data = data["records"]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of records")
    return data


def _jsonl_records(handle, path):
    for line_number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield line_number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} line {line_number}: not valid JSON ({exc})") from None


def _raw_rows(path, arch_field, target_field, require_target):
    kind = _table_format(path)
    with _open_text(path) as handle:
        if kind == "csv":
            yield from _csv_rows(handle, path, arch_field, target_field, require_target)
        elif kind == "json":
            records = _load_json(handle, path)
            yield from _json_records(
                records, path, arch_field, target_field, require_target,
                lambda index: f"{path} record {index}",
            )
        else:
            numbered = list(_jsonl_records(handle, path))
            yield from _json_records(
                [record for _, record in numbered], path, arch_field, target_field,
                require_target, lambda index: f"{path} line {numbered[index][0]}",
            )


def read_table(path, space, *, arch_field="arch", target_field="accuracy", require_target=True):
    """Read and validate architectures (and accuracies) from a CSV, JSON or JSON Lines file.

    Parameters
    ----------
    path : str or path-like
        The file; see the module documentation for the layouts.
    space : SearchSpace
        The space whose ``validate`` checks (and canonicalises) every architecture.
    arch_field, target_field : str
        Names of the architecture and accuracy columns or fields.
    require_target : bool
        Whether the accuracy field must be present.

    Returns
    -------
    archs : list
        Canonical architectures, in file order.
    y : list of float or None
        Accuracies, or None when the file has none (and ``require_target`` is False).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        With the file and line (or record) of the first problem.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sknar.datasets import read_table
    >>> from sknar.spaces import NASBench201Space
    >>> path = Path(tempfile.mkdtemp()) / "archs.csv"
    >>> row = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10.0"
    >>> _ = path.write_text("arch,accuracy" + chr(10) + row + chr(10))
    >>> archs, y = read_table(path, NASBench201Space())
    >>> archs[0], y
    ('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', [10.0])
    """
    archs, targets = [], []
    for where, arch, target in _raw_rows(path, arch_field, target_field, require_target):
        try:
            archs.append(space.validate(arch))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: bad architecture: {exc}") from None
        targets.append(target)
    if not archs:
        raise ValueError(f"{path}: no architectures in the file")
    has_target = targets[0] is not None
    return archs, (targets if has_target else None)


def jsonable_arch(arch):
    """An architecture as JSON data that :func:`read_table` reads back.

    Named tuples become objects (``{"matrix", "ops"}``, ``{"link", "ops"}``), arrays and
    tuples lists; strings stay strings.

    Parameters
    ----------
    arch : architecture
        A canonical architecture of any space.

    Returns
    -------
    data : str, list or dict
        Plain JSON data.

    Examples
    --------
    >>> from sknar.datasets import jsonable_arch
    >>> from sknar.spaces import NASBench101Space
    >>> cell = NASBench101Space().validate(([[0, 1], [0, 0]], ["input", "output"]))
    >>> jsonable_arch(cell)
    {'matrix': [[0, 1], [0, 0]], 'ops': ['input', 'output']}
    """
    if hasattr(arch, "_asdict"):
        arch = arch._asdict()
    return json.loads(json.dumps(arch, default=_plain))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, tuple, set)):
        return list(value.tolist() if isinstance(value, np.ndarray) else value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")
