"""Checks of a command's inputs, made before any long work starts.

Each raises a ValueError whose message names the flag and the value at fault, so that a
mistake costs a second instead of a whole fit or search.
"""

import argparse
import tempfile
from pathlib import Path

__all__ = [
    "check_device", "check_fields", "check_search_flags", "check_writable", "cost_dataset",
    "positive_int",
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
    from sknar.utils._torch import check_device as check_torch_device

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
        given = [flag for flag in ("data", "benchmark", "dataset") if getattr(args, flag)]
        if given:
            raise ValueError(f"--{given[0]}: --train {args.train} reads no benchmark table")
    elif args.epochs is not None:
        raise ValueError("--epochs: only a search that trains (--train) has epochs")
    args.benchmark = args.benchmark or "nasbench_graph"
    args.epochs = args.epochs or 3


def positive_int(text):
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value
