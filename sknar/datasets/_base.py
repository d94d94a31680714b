"""Finding and opening benchmark files.

Where files are found: explicit path > ``SKNAR_DATA`` > ``data_home``. How text files are
opened: plain or gzip'd (told by the first bytes, not the name), decoded as UTF-8, every
failure turned into one error that names the file and what was expected.
"""

import contextlib
import gzip
import io
import os
import reprlib
import zlib
from pathlib import Path

DATA_ENV_VAR = "SKNAR_DATA"
GZIP_MAGIC = b"\x1f\x8b"
_SNIFF_BYTES = 8192
_MESSAGE_CHARS = 300

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 60
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = 6
_SHORT.maxdict = 4
_SHORT.maxlevel = 3


def get_data_home(data_home=None):
    """Return the folder that holds sknar's benchmark files.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. When None, the ``SKNAR_DATA`` environment variable is used if set,
        else ``~/sknar_data``. Nothing is created or downloaded.

    Returns
    -------
    data_home : pathlib.Path
        The resolved folder (it may not exist).

    Examples
    --------
    >>> from sknar.datasets import get_data_home
    >>> str(get_data_home("/tmp/nas"))
    '/tmp/nas'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_ENV_VAR) or Path("~") / "sknar_data"
    return Path(data_home).expanduser()


def resolve_data_file(path, relative_path, how_to_get, data_home=None):
    """Return the file to read, or raise a FileNotFoundError that says where it looked.

    Parameters
    ----------
    path : str or path-like or None
        An explicit file given by the user; it wins over everything else.
    relative_path : str
        Where the file lives below the data home (e.g. ``"nasbench201/x.csv"``).
    how_to_get : str
        A sentence telling the user how to obtain the file.
    data_home : str or path-like, default=None
        Passed to :func:`get_data_home`.

    Returns
    -------
    path : pathlib.Path
    """
    if path is not None:
        candidate = Path(path).expanduser()
        if candidate.is_dir():
            raise IsADirectoryError(f"{candidate} is a directory, not a file. {how_to_get}")
        if not candidate.is_file():
            raise FileNotFoundError(f"{candidate} does not exist or is not a file. {how_to_get}")
        return candidate
    home = get_data_home(data_home)
    candidate = home / relative_path
    if not candidate.is_file():
        raise FileNotFoundError(
            f"{relative_path} was not found in the sknar data home {home} (set by the "
            f"data_home argument, the {DATA_ENV_VAR} environment variable, or ~/sknar_data). "
            f"{how_to_get}"
        )
    return candidate


def check_file(path, expected):
    """Return ``path`` as a Path after checking that it names an existing file.

    Parameters
    ----------
    path : str or path-like
        The file.
    expected : str
        What the file should be, for the messages (e.g. ``"a CSV table"``).

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    IsADirectoryError, FileNotFoundError
        Naming the path and what was expected.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; expected {expected}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected {expected})")
    return path


@contextlib.contextmanager
def open_text(path, expected):
    """Open a UTF-8 text file, plain or gzip'd, for reading; name the file in every error.

    Whether the file is gzip'd is told by its first two bytes, not by its name. A UTF-8 byte
    order mark is skipped. A decoding error, a truncated or corrupt gzip stream, or a NUL byte
    in the first 8 KiB (a binary file) raise one ``ValueError`` that names the file and what
    was expected, wherever in the ``with`` block they happen.

    Parameters
    ----------
    path : str or path-like
        The file.
    expected : str
        What the file should be, for the messages (e.g. ``"a CSV table"``).

    Yields
    ------
    handle : io.TextIOBase
        Universal newlines are not translated (``newline=""``), as :mod:`csv` wants.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        For a missing file or a directory.
    ValueError
        For an empty, binary, non-UTF-8 or corrupt file.
    """
    path = check_file(path, expected)
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty; expected {expected}")
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    kind = "gzip'd file" if compressed else "file"
    try:
        binary = gzip.open(path, "rb") if compressed else open(path, "rb")
        with binary:
            head = binary.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
            if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
                raise ValueError(
                    f"{path}: the {kind} is UTF-16 text; save it as UTF-8 (expected {expected})"
                )
            if b"\x00" in head:
                raise ValueError(
                    f"{path}: a binary {kind} (a NUL byte at byte {head.index(0)}); "
                    f"expected {expected}"
                )
            with io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as handle:
                yield handle
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise ValueError(
            f"{path}: the {kind} is not UTF-8 text (it holds the byte 0x{byte:02x}); "
            f"expected {expected}"
        ) from None
    except EOFError:
        raise ValueError(
            f"{path}: the gzip data ends early (a truncated download?); expected {expected}"
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path}: corrupt gzip data ({exc}); expected {expected}") from None


def read_text(path, expected):
    """The whole text of a file opened by :func:`open_text`.

    Parameters
    ----------
    path : str or path-like
        The file.
    expected : str
        What the file should be, for the messages.

    Returns
    -------
    text : str
    """
    with open_text(path, expected) as handle:
        return handle.read()


def short_repr(value):
    """A repr of at most about a hundred characters, for naming file content in messages.

    Parameters
    ----------
    value : object
        Anything read from a file.

    Returns
    -------
    text : str
        One line; long strings, numbers and containers are cut with ``...``.
    """
    return one_line(_SHORT.repr(value), limit=120)


def one_line(text, limit=_MESSAGE_CHARS):
    """``text`` on one line (line breaks written as ``\\n``), cut to ``limit`` characters.

    Parameters
    ----------
    text : object
        A message, usually of an exception raised by a check of the content.
    limit : int, default=300
        The most characters kept.

    Returns
    -------
    text : str
    """
    text = str(text).replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."
