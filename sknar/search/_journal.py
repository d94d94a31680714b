"""The search journal: one JSON line per finished evaluation, written as it arrives.

The first line is a header naming the searcher, its parameters, the space and the seed; a
run given an existing journal checks the header against itself and replays the recorded
evaluations instead of calling the oracle again.
"""

import datetime
import json
import math
import numbers
import os
from pathlib import Path

from sklearn.utils._param_validation import validate_params

from .._version import __version__

__all__ = ["Journal", "read_journal"]

FORMAT = "sknar-search-journal"
VERSION = 1


def _qualname(obj):
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def describe(value):
    """JSON data that tells settings apart across processes (no memory addresses).

    Estimators are described by class and parameters, spaces by class, name, size and
    repr, functions and classes by qualified name, any other object by its class alone.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else repr(value)
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


def _flatten(data, prefix=""):
    if isinstance(data, dict):
        flat = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat or {prefix.rstrip("."): {}}
    return {prefix.rstrip("."): data}


def hash_text(key):
    """A space's hash of an architecture as the text the journal stores."""
    return key if isinstance(key, str) else repr(key)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def make_header(searcher_name, params, space, seed):
    """The first line of a journal."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "searcher": searcher_name,
        "params": describe(params),
        "space": describe(space),
        "random_state": seed,
        "sknar_version": __version__,
        "created": _now(),
    }


def _read_lines(path):
    """Header, evaluations and the byte length of the complete lines of a journal."""
    raw = Path(path).read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1]
    lines = complete.decode("utf-8").splitlines()
    if not lines:
        return None, [], len(complete)
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a sknar search journal (its first line is no header).")
    if header.get("version") != VERSION:
        raise ValueError(
            f"{path} is a search journal of format version {header.get('version')}; this "
            f"sknar reads version {VERSION}."
        )
    evaluations = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            evaluations.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}, line {number}, is not valid JSON: {exc}.") from None
    return header, evaluations, len(complete)


@validate_params(
    {"path": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
def read_journal(path):
    """Read a search journal: its header and one dict per recorded evaluation.

    A journal is a JSON Lines file written by ``searcher.run(oracle, budget,
    journal=path)``. Its first line is the header (``format``, ``version``, ``searcher``,
    ``params``, ``space``, ``random_state``, ``sknar_version``, ``created``); every other
    line is one finished evaluation, in the order it finished: ``query`` (its index in the
    search's query order), ``hash`` (the space's hash of the architecture, as text),
    ``arch`` (the architecture as JSON data, see :func:`~sknar.datasets.jsonable_arch`),
    ``status`` (``"ok"`` or ``"failed"``), ``value`` (null when failed), ``report_value``,
    ``error`` (the failure, null when ok), ``wall_s`` (seconds the evaluation took) and
    ``finished`` (UTC time). A last line cut short by a crash is ignored.

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
    header, evaluations, _ = _read_lines(path)
    if header is None:
        raise ValueError(f"{path} is empty: no search has written to it yet.")
    return header, evaluations


class Journal:
    """An open journal: checks a resumed search's settings, replays and appends evaluations.

    Parameters
    ----------
    path : path-like
        The file; created with ``header`` when absent or empty.
    header : dict
        The header this search would write (see :func:`make_header`); its
        ``random_state`` is None when the search has no int seed.
    fresh_seed : callable
        Draws the seed of a new journal whose header has no int seed.
    """

    def __init__(self, path, header, fresh_seed):
        self.path = Path(path)
        self.recorded = {}
        existing, evaluations, n_bytes = (
            _read_lines(self.path) if self.path.is_file() else (None, [], 0)
        )
        if existing is not None:
            self._check_header(existing, header)
            self.header = existing
            for number, entry in enumerate(evaluations, start=2):
                self._remember(entry, number)
        else:
            self.header = dict(header)
            if self.header["random_state"] is None:
                self.header["random_state"] = fresh_seed()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "r+b" if self.path.is_file() else "wb")  # noqa: SIM115
        self._lock()
        # A line cut short by a crash is dropped so that the next line starts clean.
        self._file.truncate(n_bytes)
        self._file.seek(n_bytes)
        if existing is None:
            self._write_line(self.header)

    @property
    def seed(self):
        return self.header["random_state"]

    def _remember(self, entry, number):
        key = entry.get("hash")
        if not isinstance(key, str) or entry.get("status") not in ("ok", "failed"):
            raise ValueError(
                f"{self.path}, line {number}, is not an evaluation (it needs a 'hash' and a "
                "'status' of 'ok' or 'failed')."
            )
        if key in self.recorded:
            raise ValueError(
                f"{self.path}, line {number}, records architecture {entry.get('arch')!r} a "
                "second time; the journal is corrupt."
            )
        self.recorded[key] = entry

    def _check_header(self, existing, header):
        if existing.get("searcher") != header["searcher"]:
            raise ValueError(
                f"the journal {self.path} was written by a {existing.get('searcher')}; this "
                f"search is a {header['searcher']}. Resume with the same searcher, or give "
                "this search a new journal file."
            )
        expected = _flatten(
            {k: existing.get(k) for k in ("searcher", "space", "params")}
        )
        actual = _flatten({k: header.get(k) for k in ("searcher", "space", "params")})
        different = sorted(
            key for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key)
        )
        if different:
            shown = "; ".join(
                f"{key}: journal {expected.get(key)!r}, this search {actual.get(key)!r}"
                for key in different[:5]
            )
            raise ValueError(
                f"the journal {self.path} was written by another search ({shown}"
                f"{'; ...' if len(different) > 5 else ''}). Resume with the same searcher, "
                "space and parameters, or give this search a new journal file."
            )
        if header["random_state"] is not None and header["random_state"] != existing.get(
            "random_state"
        ):
            raise ValueError(
                f"the journal {self.path} was written with random_state="
                f"{existing.get('random_state')!r}; this search has random_state="
                f"{header['random_state']!r}. Resume with the same seed (or random_state="
                "None, which adopts the journal's), or give this search a new journal file."
            )

    def _lock(self):
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; one writer is the user's duty.
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._file.close()
            raise ValueError(
                f"the journal {self.path} is in use by another running search."
            ) from None

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
                "report_value": outcome.report_value,
                "error": outcome.error,
                "wall_s": outcome.wall_s,
                "finished": _now(),
            }
        )

    def close(self):
        self._file.close()
