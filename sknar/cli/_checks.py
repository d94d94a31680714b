"""Checks of a command's inputs, made before any long work starts.

Each raises a ValueError whose message names the flag and the value at fault, so that a
mistake costs a second instead of a whole fit or search.
"""

import argparse
import os
import tempfile
from pathlib import Path

__all__ = [
    "check_device", "check_distinct_files", "check_fields", "check_search_flags",
    "check_writable", "cost_dataset", "n_jobs", "positive_int",
]


def cost_dataset(space, dataset):
    """The dataset whose costs the NAR encoder uses; None for spaces with one cost model."""
    choices = space.cost_datasets
    if not choices:
        if dataset is not None:
            raise ValueError(f"--dataset {dataset}: the {space.name} space has no datasets")
        return None
    if dataset is None:
        return choices[0]
    if dataset not in choices:
        raise ValueError(
            f"--dataset {dataset!r} is not one of the datasets of {space.name}: "
            f"{', '.join(choices)}"
        )
    return dataset


def check_device(device):
    """Refuse a torch device that does not parse or that this machine does not have."""
    if device is None:
        return
    from ..utils._torch import check_device as check_torch_device

    try:
        check_torch_device(device)
    except ValueError as exc:
        raise ValueError(f"--device {device}: {exc}") from None


def check_writable(path, flag, *, folder=False):
    """Refuse an output path (a file, or a ``folder``) that cannot be written.

    Nothing is created: the file's folder, or its nearest existing ancestor, must take a
    temporary file; an existing file must open for appending.
    """
    if path is None or str(path) == "-":
        return
    path = Path(path).expanduser()
    if path.is_dir() and not folder:
        raise ValueError(f"{flag} {path}: is a folder, not a file")
    if path.is_file() and not folder:
        try:
            open(path, "ab").close()  # appending nothing leaves the file as it is
        except OSError as exc:
            raise ValueError(f"{flag} {path}: cannot write ({exc.strerror or exc})") from None
        return
    ancestor = path if folder else path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"{flag} {path}: {ancestor} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as exc:
        raise ValueError(f"{flag} {path}: cannot write in {ancestor} ({exc.strerror})") from None


def _same_file(first, second):
    """Whether two paths name one file: the same path once links and ``..`` are resolved,
    or one file on disk under two names (a hard link)."""
    first, second = Path(first).expanduser(), Path(second).expanduser()
    if first.exists() and second.exists():
        return os.path.samefile(first, second)
    return first.resolve() == second.resolve()


def check_distinct_files(**flags):
    """Refuse two flags that name the same file, whatever the spelling (``./a``, ``b/../a``,
    a symbolic or hard link): one file would overwrite the other. ``-`` and None are no file.

    ``flags`` maps each flag's name without its dashes (``output=path`` for ``--output``) to
    its path.
    """
    given = [(name, path) for name, path in flags.items() if path is not None and str(path) != "-"]
    for i, (name, path) in enumerate(given):
        for other, other_path in given[i + 1:]:
            if _same_file(path, other_path):
                raise ValueError(
                    f"{_flag(name)} {path} and {_flag(other)} {other_path} are the same file: "
                    "give each its own"
                )


def _flag(name):
    """``--name``, or the word ``input`` for the positional argument."""
    return name if name == "input" else "--" + name.replace("_", "-")


def check_fields(arch_field, target_field):
    """Refuse one column named for both the architecture and the accuracy."""
    if arch_field is not None and arch_field == target_field:
        raise ValueError(f"--arch-field and --target-field are both {arch_field!r}")


def check_search_flags(args, ranker_flags):
    """Refuse the search flags that mean nothing together; fill in the defaults that depend
    on others (the benchmark, the epochs of a training search)."""
    # A search that trains uses --device for its trainings, whatever the strategy.
    ranker_only = [name for name in ranker_flags if getattr(args, name) is not None
                   and not (name == "device" and args.train)]
    if args.strategy != "tier" and ranker_only:
        flags = ", ".join("--" + name.replace("_", "-") for name in ranker_only)
        raise ValueError(f"{flags}: only tier search has a ranker, not --strategy {args.strategy}")
    if args.train:
        # --data is the folder of the Fashion-MNIST files; digits ship with scikit-learn.
        table_flags = ("benchmark", "dataset") if args.train == "fashion-mnist" else (
            "data", "benchmark", "dataset")
        given = [flag for flag in table_flags if getattr(args, flag)]
        if given:
            raise ValueError(f"--{given[0]}: --train {args.train} reads no benchmark table")
    elif args.epochs is not None:
        raise ValueError("--epochs: only a search that trains (--train) has epochs")
    low = getattr(args, "low_epochs", None)
    if low is not None:
        if not args.train or args.strategy != "tier":
            raise ValueError("--low-epochs: only a tier search that trains (--train, "
                             "--strategy tier) has a low fidelity")
        if low >= (args.epochs or 3):
            raise ValueError(f"--low-epochs {low}: must be fewer than --epochs "
                             f"{args.epochs or 3}, the full training")
    args.benchmark = args.benchmark or "nasbench_graph"
    args.epochs = args.epochs or 3


def n_jobs(text):
    """An argparse type, joblib's ``n_jobs``: a number of evaluations at once, or a negative
    count from the CPUs (-1 all of them, -2 all but one); 0 means nothing and is refused."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 evaluations at once runs nothing: give 1 or more, or -1 for every CPU"
        )
    return value


def positive_int(text):
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value
