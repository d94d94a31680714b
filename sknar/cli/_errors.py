"""Exit statuses and the one-line errors of the command line."""

from contextlib import contextmanager

__all__ = [
    "EXIT_INPUT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "CLIError", "reading",
]

EXIT_OK = 0
EXIT_INPUT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CLIError(Exception):
    """An error in the user's input, reported as one line without a traceback."""


def one_line(exc):
    """The message of ``exc`` on one line (its type when it has none)."""
    message = str(exc) or type(exc).__name__
    return " ".join(message.split())


@contextmanager
def reading(source, path=None):
    """Turn a failure to read ``source`` (a flag, or the file at ``path``) into a one-line
    error that names it, unless the library's message already names the file."""
    try:
        yield
    except (ValueError, OSError, EOFError) as exc:
        message = one_line(exc)
        named = str(path or source) in message
        raise CLIError(message if named else f"{source}: {message}") from None
