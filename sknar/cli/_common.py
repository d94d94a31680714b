"""What several commands share: the ranker flags and the benchmark of ``--benchmark``."""

import re
from pathlib import Path

from ._errors import CLIError, reading

__all__ = ["RANKER_FLAGS", "load_benchmark_of", "ranker_params"]

RANKER_FLAGS = ("n_tiers", "max_epochs", "preset", "device")


def ranker_params(args, progress):
    """The NARRanker parameters given on the command line, the seed and the verbosity."""
    params = {name: getattr(args, name) for name in RANKER_FLAGS if getattr(args, name) is not None}
    verbose = 2 if getattr(args, "verbose", False) else progress.verbose
    return {**params, "random_state": args.seed, "verbose": verbose}


# The loaders' words for the Python API, and the command line's.
_FLAG_WORDS = (
    (r"\bpass path=", "pass --data"),
    (r"\bthe data_home argument\b", "--data"),
    (r"<data_home>", "<data folder>"),
)


def _in_flags(message):
    """A loader's message in the command line's words: its ``path=`` and ``data_home`` are
    ``--data`` here."""
    for api, flag in _FLAG_WORDS:
        message = re.sub(api, flag, message)
    return message


def load_benchmark_of(args):
    """The benchmark of ``--benchmark`` and ``--dataset``, read from ``--data`` when given."""
    from sknar.datasets import load_benchmark

    path = data_home = None
    if args.data is not None:
        data = Path(args.data).expanduser()
        if not data.exists():
            raise CLIError(f"--data {data}: no such file or folder")
        path, data_home = (None, data) if data.is_dir() else (data, None)
    named = f"--benchmark {args.benchmark}" + (f" --dataset {args.dataset}" if args.dataset else "")
    try:
        with reading(f"--data {args.data}" if args.data else named, args.data):
            return load_benchmark(args.benchmark, args.dataset, path=path, data_home=data_home)
    except CLIError as exc:
        raise CLIError(_in_flags(str(exc))) from None
