"""The ``sknar`` command line: ``demo``, ``fit``, ``evaluate`` and ``search``.

``sknar --help`` lists the commands, ``sknar <command> --help`` their options. A wrong input
(a missing or unreadable file, an absent column, a bad architecture, a flag that does not
apply) is reported in one line on stderr without a traceback, before any long work where it
can be, with the exit status 1; a malformed command line exits with 2.

The work lives in the library (:func:`sknar.search.make_searcher`,
:data:`sknar.datasets.BENCHMARKS`, :func:`sknar.datasets.benchmark_oracle`,
:func:`sknar.utils.progress_bar`, ...); this package parses (``_parser``), checks
(``_checks``) and reports, one short handler a command (``_demo``, ``_fit``, ``_evaluate``,
``_search``). The handlers import torch and the other heavy modules only when they run, so
that ``sknar --help`` answers at once.
"""

from ._errors import EXIT_INPUT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CLIError
from ._main import main, run
from ._parser import build_parser

__all__ = [
    "EXIT_INPUT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CLIError",
    "build_parser",
    "main",
    "run",
]
