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

Whether a file is gzip'd is told by its content, not its name. Every architecture is
validated by the search space, and a network listed twice (same ``space.hash``) is refused;
the first problem is reported with its line (CSV, JSON Lines) or record index (JSON).
"""

import csv
import json
import math
from pathlib import Path

import numpy as np

from ._base import one_line, open_text, short_repr

__all__ = ["jsonable_arch", "read_table"]

_EXPECTED = {
    "csv": "a CSV table of architectures",
    "json": "a JSON list of architecture records",
    "jsonl": "a JSON Lines file of architecture records",
}


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
        except ValueError as exc:
            raise ValueError(
                f"{where}: the architecture is not valid JSON ({one_line(exc)})"
            ) from None
    return text


def _parse_target(value, where, field):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {field} {short_repr(value)} is not a number") from None
    except OverflowError:
        raise ValueError(f"{where}: {field} {short_repr(value)} is too large") from None
    if not math.isfinite(number):
        raise ValueError(f"{where}: {field} is {short_repr(value)}; it must be a finite number")
    return number


def _csv_rows(handle, path, arch_field, target_field, require_target):
    reader = csv.reader(handle)
    columns = _next_csv_row(reader, path) or []
    _check_fields(path, columns, arch_field, target_field, require_target, kind="column")
    arch_column = columns.index(arch_field)
    target_column = columns.index(target_field) if target_field in columns else None
    while (row := _next_csv_row(reader, path)) is not None:
        where = f"{path} line {reader.line_num}"
        if not row:
            continue  # a blank line
        if len(row) != len(columns):
            raise ValueError(f"{where}: expected {len(columns)} fields, got {len(row)}")
        arch = _parse_arch_cell(row[arch_column], where)
        target = (
            None
            if target_column is None
            else _parse_target(row[target_column], where, target_field)
        )
        yield where, arch, target


def _next_csv_row(reader, path):
    try:
        return next(reader, None)
    except csv.Error as exc:
        raise ValueError(
            f"{path} line {reader.line_num}: not a CSV row ({one_line(exc)})"
        ) from None


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
                f"{where}: field {arch_field!r} not found (fields: {_field_list(record)})"
            )
        if has_target is None:
            has_target = target_field in record
            if require_target and not has_target:
                raise ValueError(
                    f"{where}: field {target_field!r} not found (fields: "
                    f"{_field_list(record)}); name the accuracy field with --target-field"
                )
        if has_target and target_field not in record:
            raise ValueError(f"{where}: field {target_field!r} is missing")
        target = (
            _parse_target(record[target_field], where, target_field) if has_target else None
        )
        if isinstance(arch, str):
            arch = _parse_arch_cell(arch, where)
        yield where, arch, target


def _field_list(names):
    names = [str(name) for name in names]
    listed = ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
    return one_line(listed) or "none"


def _check_fields(path, present, arch_field, target_field, require_target, kind):
    if arch_field not in present:
        raise ValueError(
            f"{path}: {kind} {arch_field!r} not found ({kind}s: {_field_list(present)}); "
            "name the architecture column with --arch-field"
        )
    if require_target and target_field not in present:
        raise ValueError(
            f"{path}: {kind} {target_field!r} not found ({kind}s: {_field_list(present)}); "
            "name the accuracy column with --target-field"
        )


def _load_json(handle, path):
    try:
        data = json.load(handle)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{path}: not valid JSON ({one_line(exc)})") from None
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data = data["records"]
    if not isinstance(data, list):
        raise ValueError(
            f"{path}: expected a JSON list of records (or an object whose 'records' is one), "
            f"got {_json_kind(data)}"
        )
    return data


def _json_kind(data):
    if isinstance(data, dict):
        return f"an object with the keys {_field_list(data)}"
    return f"a JSON {type(data).__name__}"


def _jsonl_records(handle, path):
    for line_number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield line_number, json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ValueError(
                f"{path} line {line_number}: not valid JSON ({one_line(exc)})"
            ) from None


def _raw_rows(path, arch_field, target_field, require_target):
    kind = _table_format(path)
    with open_text(path, _EXPECTED[kind]) as handle:
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
    FileNotFoundError, IsADirectoryError
        If the file does not exist or is a directory.
    ValueError
        With the file and line (or record) of the first problem: a file that is not text of
        the expected kind (binary, corrupt or cut gzip data, empty), a missing field, a bad
        architecture or accuracy, or a network listed twice (two rows whose architectures
        have the same ``space.hash``; both are named).

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
    archs, targets, first_seen = [], [], {}
    for where, arch, target in _raw_rows(path, arch_field, target_field, require_target):
        try:
            arch = space.validate(arch)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: bad architecture: {one_line(exc)}") from None
        key = space.hash(arch)
        if key in first_seen:
            raise ValueError(
                f"{where}: the network of {first_seen[key]} again (hash {short_repr(key)}); "
                "a table lists each network once"
            )
        first_seen[key] = where[len(f"{path} ") :]
        archs.append(arch)
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
