"""``main`` and ``run``: parse, run one command's handler, report its errors in one line."""

import os
import sys

from ._errors import EXIT_INPUT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, CLIError
from ._parser import build_parser

__all__ = ["main", "run"]


def main(argv=None):
    """Run the ``sknar`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 1 when the input is wrong, 2 when the command line is wrong, 130 after
        Ctrl-C.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    from ..utils._torch import limit_threads

    try:
        with limit_threads(args.threads, native_libraries=True):
            return args.handler(args)
    except (CLIError, OSError, ValueError) as exc:
        # The library's input errors name the file, line and rule broken: one line is enough.
        print(f"sknar {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except ImportError as exc:
        print(f"sknar {args.command}: error: a dependency is missing ({exc}); install it, "
              "e.g. pip install 'sknar[graph,plot]'", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print(f"sknar {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def run():
    """The ``sknar`` program: :func:`main`, then exit with its status. After Ctrl-C it ends at
    once: a search journal is on disk line by line, and tearing torch down takes seconds."""
    status = main()
    if status == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
