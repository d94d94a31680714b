"""The search journal: one JSON line per finished evaluation, written as it arrives.

The first line is a header naming the searcher, its parameters, the space, the seed and the
oracle; a search given an existing journal checks the header against itself and tells the
recorded evaluations back instead of calling the oracle again.
"""

import datetime
import hashlib
import json
import math
import numbers
import os
import socket
import stat
import threading
import weakref
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import validate_params

from .._version import __version__

__all__ = ["Journal", "read_journal"]

FORMAT = "sknar-search-journal"
VERSION = 2
READABLE_VERSIONS = (1, 2)
_MAX_SHOWN = 40
_MAX_MESSAGE = 290


def _qualname(obj):
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _describe_array(array):
    array = np.ascontiguousarray(array)
    digest = hashlib.sha1(array.view(np.uint8).reshape(-1)).hexdigest()[:16]
    return {"array": list(array.shape), "dtype": str(array.dtype), "sha1": digest}


def describe(value):
    """JSON data that tells settings apart across processes (no memory addresses).

    Estimators are described by class and parameters, spaces by class, name, size and
    repr, arrays by shape, dtype and a digest of their bytes, functions and classes by
    qualified name, any other object by its class alone.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, np.ndarray):
        return _describe_array(value)
    if isinstance(value, (list, tuple)):
        return [describe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): describe(item) for key, item in value.items()}
    if isinstance(value, type) or callable(value) and not hasattr(value, "get_params"):
        return _qualname(value)
    if hasattr(value, "get_params"):
        return {
            "class": _qualname(type(value)),
            "params": describe(value.get_params(deep=False)),
        }
    if all(hasattr(value, name) for name in ("validate", "hash", "sample")):
        return {
            "class": _qualname(type(value)),
            "name": describe(getattr(value, "name", None)),
            "size": describe(getattr(value, "size", None)),
            "repr": repr(value),
        }
    return {"class": _qualname(type(value))}


def describe_oracle(oracle):
    """The oracle as the journal's header records it: its class, and its parameters when it
    has ``describe()`` or ``get_params()``, else its public numbers, strings and arrays
    (e.g. the epochs and the training data of a training oracle)."""
    if oracle is None:
        return None
    if hasattr(oracle, "describe") and callable(oracle.describe):
        return {"class": _qualname(type(oracle)), "params": describe(oracle.describe())}
    if hasattr(oracle, "get_params"):
        return describe(oracle)
    if isinstance(oracle, type) or not hasattr(oracle, "__dict__"):
        return _qualname(oracle)
    if _is_function(oracle):
        return _qualname(oracle)
    params = {}
    for name, value in sorted(vars(oracle).items()):
        if isinstance(value, np.ndarray) or (
            isinstance(value, tuple) and value and all(isinstance(v, np.ndarray) for v in value)
        ):
            params[name.lstrip("_")] = describe(value)  # a table, an (X, y) split
        elif not name.startswith("_") and (
            value is None or isinstance(value, (bool, str, numbers.Number))
        ):
            params[name] = describe(value)
    params.pop("n_calls", None)
    return {"class": _qualname(type(oracle)), "params": params}


def same_kind_of_oracle(recorded, current):
    """Whether two oracle descriptions are of one class with parameters (only those can be
    compared: a function, or a wrapper of another class, may well be the same oracle)."""
    return (
        isinstance(recorded, dict)
        and isinstance(current, dict)
        and "params" in recorded
        and "params" in current
        and recorded.get("class") == current.get("class")
    )


def _is_function(obj):
    import types

    return isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType))


def _flatten(data, prefix=""):
    """Leaves of nested dicts and lists as ``{"a.b.c": value}``; a list of ``[name, item]``
    pairs (a pipeline's steps) is keyed by name."""
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list) and data and all(
        isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) for item in data
    ):
        items = [(name, item) for name, item in data]
    elif isinstance(data, list):
        items = [(str(index), item) for index, item in enumerate(data)]
    else:
        return {prefix.rstrip("."): data}
    flat = {}
    for key, value in items:
        flat.update(_flatten(value, f"{prefix}{key}."))
    return flat or {prefix.rstrip("."): data}


def _short(value):
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _readable_key(key):
    # "params.ranker.params.steps.narranker.params.random_state" reads as
    # "ranker.steps.narranker.random_state".
    parts = [part for part in key.split(".") if part != "params"]
    return ".".join(parts)


def differences(recorded, current):
    """The differing leaves of two descriptions, shortest first, as one short text."""
    expected, actual = _flatten(recorded), _flatten(current)
    different = sorted(
        (key for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key)),
        key=lambda key: (len(key), key),
    )
    return [
        f"{_readable_key(key)}: journal {_short(expected.get(key))}, this search "
        f"{_short(actual.get(key))}"
        for key in different
    ]


def hash_text(key):
    """A space's hash of an architecture as the text the journal stores."""
    return key if isinstance(key, str) else repr(key)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def make_header(searcher_name, params, space, seed, oracle=None):
    """The first line of a journal."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "searcher": searcher_name,
        "params": describe(params),
        "space": describe(space),
        "random_state": seed,
        "oracle": describe_oracle(oracle),
        "sknar_version": __version__,
        "created": _now(),
    }


# --- reading ------------------------------------------------------------------------------


def _check_regular(path):
    """Refuse a path that is no regular file (a device, a directory, a pipe)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        real = os.path.realpath(path)
        shown = f" (it resolves to {real})" if real != os.path.abspath(path) else ""
        raise ValueError(
            f"the journal {path} is not a regular file{shown}; give a search journal a "
            "file of its own."
        )


def _parse_header(path, first_line):
    try:
        header = json.loads(first_line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(
            f"{path} is not a sknar search journal (its first line is no journal header); "
            "it is left untouched. Give the search a new journal file."
        )
    if header.get("version") not in READABLE_VERSIONS:
        raise ValueError(
            f"{path} is a search journal of format version {header.get('version')}; this "
            f"sknar reads versions {', '.join(map(str, READABLE_VERSIONS))}."
        )
    return header


def _parse_entry(path, number, line, last):
    """One evaluation line as a dict, or None for a last line cut short by a crash."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        if last:
            return None
        raise ValueError(f"{path}, line {number}, is not UTF-8 text ({exc}).") from None
    try:
        entry = json.loads(text)
    except json.JSONDecodeError as exc:
        if last:
            return None
        raise ValueError(f"{path}, line {number}, is not valid JSON: {exc}.") from None
    if not isinstance(entry, dict):
        raise ValueError(
            f"{path}, line {number}, is JSON but not an evaluation (an object with 'hash' "
            f"and 'status'): {_short(entry)}."
        )
    _check_entry(path, number, entry)
    return entry


def _check_entry(path, number, entry):
    where = f"{path}, line {number},"
    if not isinstance(entry.get("hash"), str) or entry.get("status") not in ("ok", "failed"):
        raise ValueError(
            f"{where} is not an evaluation (it needs a 'hash' and a 'status' of 'ok' or "
            "'failed')."
        )
    value = entry.get("value")
    if entry["status"] == "ok" and (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
    ):
        raise ValueError(
            f"{where} records a successful evaluation whose value is {_short(value)}; an "
            "ok evaluation needs a finite number. The journal is corrupt."
        )
    metrics = entry.get("metrics", {})
    if metrics is not None and not isinstance(metrics, dict):
        raise ValueError(f"{where} has 'metrics' {_short(metrics)}; it must be an object.")


def _upgrade(entry, version):
    """An evaluation of any readable version in the current form."""
    if version == 1:
        entry = dict(entry)
        report = entry.pop("report_value", None)
        entry["metrics"] = {} if report is None else {"report": report}
        entry.setdefault("fidelity", None)
    entry.setdefault("metrics", {})
    entry["metrics"] = dict(entry["metrics"] or {})
    entry.setdefault("fidelity", None)
    return entry


def _read_bytes(path, raw):
    """Header, evaluations and the byte length to keep of a journal's content ``raw``.

    A last line cut short by a crash is dropped; a complete last line that only lacks its
    newline is kept. Content that is not a journal is refused, never treated as empty.
    """
    if not raw:
        return None, [], 0
    lines = raw.split(b"\n")
    ends_clean = raw.endswith(b"\n")
    if ends_clean:
        lines = lines[:-1]
    if len(lines) == 1 and not ends_clean:
        # A single line without a newline: a header cut short by a crash is redone; any
        # other content is some other file, never overwritten.
        if raw.startswith(b'{"format": "' + FORMAT.encode() + b'"'):
            try:
                header = _parse_header(path, raw)
            except ValueError:
                return None, [], 0
            return header, [], len(raw)
        _parse_header(path, raw)
    header = _parse_header(path, lines[0])
    version = header["version"]
    evaluations, n_bytes = [], len(lines[0]) + 1
    for number, line in enumerate(lines[1:], start=2):
        last = number == len(lines) and not ends_clean
        entry = _parse_entry(path, number, line, last)
        if entry is None:
            break
        evaluations.append(_upgrade(entry, version))
        n_bytes += len(line) + 1
    return header, evaluations, min(n_bytes, len(raw))


def _read_file(path):
    _check_regular(path)
    with open(path, "rb") as file:
        return _read_bytes(path, file.read())


@validate_params(
    {"path": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
def read_journal(path):
    """Read a search journal: its header and one dict per recorded evaluation.

    A journal is a JSON Lines file written by a searcher given a journal
    (``searcher.open_journal(path)``, or ``searcher.run(oracle, budget, journal=path)``).
    Its first line is the header (``format``, ``version``, ``searcher``, ``params``,
    ``space``, ``random_state``, ``oracle``, ``sknar_version``, ``created``); every other
    line is one finished evaluation, in the order it finished: ``query`` (its index in the
    search's query order), ``hash`` (the space's hash of the architecture, as text),
    ``arch`` (the architecture as JSON data, see :func:`~sknar.datasets.jsonable_arch`),
    ``status`` (``"ok"`` or ``"failed"``), ``value`` (the value the search selects on; null
    when failed), ``metrics`` (other named metrics, e.g. ``"report"``, the oracle's report
    value), ``fidelity`` (e.g. the epochs trained; null when not told), ``error`` (the
    failure, null when ok), ``wall_s`` (seconds the evaluation took) and ``finished`` (UTC
    time). A last line cut short by a crash is ignored. Journals of format version 1 (no
    ``metrics`` nor ``fidelity``, a ``report_value``) are read in this form.

    Parameters
    ----------
    path : str or path-like
        The journal file.

    Returns
    -------
    header : dict
        The settings of the search that wrote the journal.
    evaluations : list of dict
        The recorded evaluations, in the order they finished.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sknar.search import RandomSearch, read_journal
    >>> from sknar.spaces import NASBench201Space
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "search.jsonl"
    >>> search = RandomSearch(NASBench201Space(), random_state=0)
    >>> _ = search.run(lambda arch: float(arch.count("nor_conv_3x3")), budget=5, journal=path)
    >>> header, evaluations = read_journal(path)
    >>> header["searcher"], len(evaluations), evaluations[0]["status"]
    ('RandomSearch', 5, 'ok')
    """
    header, evaluations, _ = _read_file(path)
    if header is None:
        raise ValueError(f"{path} is empty: no search has written to it yet.")
    return header, evaluations


# --- one writer -----------------------------------------------------------------------------

_OPEN_IN_THIS_PROCESS = set()
_OPEN_LOCK = threading.Lock()


class _WriterLock:
    """One writer per journal: a POSIX record lock (``fcntl.lockf``) on ``<journal>.lock``.

    POSIX locks work on shared file systems (NFS through its lock manager) where ``flock``
    may not, and the kernel drops them when their process dies: a killed search leaves no
    stale lock. They do not exclude a second opener in the same process, so a set of the
    journals open here does. The lock file holds the writer's pid and host, for the error
    message; it stays beside the journal (removing it would race with the next writer).
    """

    def __init__(self, path):
        self.path = Path(path)
        self.key = os.path.realpath(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._fd = None
        with _OPEN_LOCK:
            if self.key in _OPEN_IN_THIS_PROCESS:
                raise ValueError(
                    f"the journal {self.path} is in use by another running search (in this "
                    "process)."
                )
            _OPEN_IN_THIS_PROCESS.add(self.key)
        try:
            self._lock()
        except BaseException:
            self.release()
            raise

    def _lock(self):
        try:
            import fcntl
        except ImportError:  # Windows: no POSIX locks; one writer per process only.
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(self._fd, 200, 0).decode("utf-8", "replace").strip()
            raise ValueError(
                f"the journal {self.path} is in use by another running search"
                f"{f' ({holder})' if holder else ''}."
            ) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)

    def release(self):
        if self._fd is not None:
            os.close(self._fd)  # closing drops the POSIX lock
            self._fd = None
        with _OPEN_LOCK:
            _OPEN_IN_THIS_PROCESS.discard(self.key)


class Journal:
    """An open journal: checks a resumed search's settings, holds the recorded evaluations
    and appends new ones.

    The writer's lock is taken before the file is opened for writing, and the file is
    never opened truncating: what another process wrote cannot be wiped.

    Parameters
    ----------
    path : path-like
        The file; created with ``header`` when absent or empty.
    header : dict
        The header this search would write (see :func:`make_header`); its
        ``random_state`` is None when the search has no int seed, its ``oracle`` None when
        unknown (then not checked).
    fresh_seed : callable
        Draws the seed of a new journal whose header has no int seed.
    """

    def __init__(self, path, header, fresh_seed):
        self.path = Path(path)
        _check_regular(self.path)
        self._lock = _WriterLock(self.path)
        try:
            self._open(header, fresh_seed)
        except BaseException:
            self._lock.release()
            raise
        # A journal dropped without close (a searcher forgotten) still releases its lock.
        self._closer = weakref.finalize(self, _close_journal, self._file, self._lock)

    def _open(self, header, fresh_seed):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        self._file = os.fdopen(fd, "r+b")
        try:
            existing, evaluations, n_bytes = _read_bytes(self.path, self._file.read())
            self.evaluations = evaluations
            if existing is not None:
                self._check_header(existing, header)
                self.header = existing
                self._check_unique()
            else:
                self.header = dict(header)
                if self.header["random_state"] is None:
                    self.header["random_state"] = fresh_seed()
            # A line cut short by a crash is dropped so that the next line starts clean.
            self._file.truncate(n_bytes)
            self._file.seek(n_bytes)
            if existing is None:
                self._write_line(self.header)
            elif n_bytes and not self._ends_with_newline(n_bytes):
                self._file.write(b"\n")  # a complete last line lacked only its newline
                self._file.flush()
        except BaseException:
            self._file.close()
            raise

    def _ends_with_newline(self, n_bytes):
        self._file.seek(n_bytes - 1)
        ends = self._file.read(1) == b"\n"
        self._file.seek(n_bytes)
        return ends

    @property
    def seed(self):
        return self.header["random_state"]

    def _check_unique(self):
        seen = {}
        for number, entry in enumerate(self.evaluations, start=2):
            if entry["hash"] in seen:
                raise ValueError(
                    f"{self.path}, line {number}, records architecture {entry.get('arch')!r} "
                    f"a second time (first at line {seen[entry['hash']]}); the journal is "
                    "corrupt."
                )
            seen[entry["hash"]] = number

    def _refuse(self, what, shown, advice):
        message = f"the journal {self.path} was written by another {what}: "
        room = _MAX_MESSAGE - len(message) - len(advice) - 4
        parts = []
        for item in shown:
            if len("; ".join([*parts, item])) > room:
                break
            parts.append(item)
        text = "; ".join(parts) or shown[0][:room]
        more = "; ..." if len(parts) < len(shown) else ""
        raise ValueError(f"{message}{text}{more}. {advice}")

    def _check_header(self, existing, header):
        if existing.get("searcher") != header["searcher"]:
            raise ValueError(
                f"the journal {self.path} was written by a {existing.get('searcher')}; this "
                f"search is a {header['searcher']}. Resume with the same searcher, or give "
                "this search a new journal file."
            )
        keys = ("space", "params")
        shown = differences(
            {k: existing.get(k) for k in keys}, {k: header.get(k) for k in keys}
        )
        if shown:
            self._refuse("search", shown, "Resume with the same settings, or use a new file.")
        if header["random_state"] is not None and header["random_state"] != existing.get(
            "random_state"
        ):
            raise ValueError(
                f"the journal {self.path} was written with random_state="
                f"{existing.get('random_state')!r}; this search has random_state="
                f"{header['random_state']!r}. Resume with the same seed (or random_state="
                "None, which adopts the journal's), or give this search a new journal file."
            )
        recorded_oracle, oracle = existing.get("oracle"), header.get("oracle")
        if same_kind_of_oracle(recorded_oracle, oracle):
            shown = differences({"oracle": recorded_oracle}, {"oracle": oracle})
            if shown:
                self._refuse("oracle", shown, "Resume with the same oracle, or use a new file.")

    def _write_line(self, data):
        self._file.write((json.dumps(data) + "\n").encode("utf-8"))
        self._file.flush()
        os.fsync(self._file.fileno())

    def write(self, query, key, outcome):
        """Append one finished evaluation and flush it to disk."""
        from ..datasets import jsonable_arch

        self._write_line(
            {
                "query": query,
                "hash": key,
                "arch": jsonable_arch(outcome.arch),
                "status": "ok" if outcome.ok else "failed",
                "value": outcome.value,
                "metrics": outcome.metrics,
                "fidelity": outcome.fidelity,
                "error": outcome.error,
                "wall_s": outcome.wall_s,
                "finished": _now(),
            }
        )

    def close(self):
        self._closer()


def _close_journal(file, lock):
    if not file.closed:
        file.close()
    lock.release()
