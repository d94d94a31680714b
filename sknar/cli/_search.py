"""``sknar search``: one budgeted search, on a benchmark table or training for real, here or
on a dask cluster."""

import sys
from contextlib import contextmanager
from pathlib import Path

from ._checks import check_device, check_distinct_files, check_search_flags, check_writable
from ._common import RANKER_FLAGS, load_benchmark_of, ranker_params
from ._errors import EXIT_INTERRUPTED, EXIT_OK, CLIError, one_line
from ._progress import Progress
from ._searches import (
    objectives_summary,
    search_benchmark,
    search_summary,
    search_training,
    sized_for_budget,
)

__all__ = ["cmd_search"]

# The ranker of a search is refitted every round: fewer epochs than a one-off fit.
SEARCH_MAX_EPOCHS = 40
# Seconds to reach a scheduler before the address is called wrong.
CONNECT_TIMEOUT = 10


def check_journal_is_text(journal):
    """Refuse a ``--journal`` that exists but is not UTF-8 text (a journal is JSON Lines), so
    that the message names the file rather than a byte."""
    if journal is None:
        return
    path = Path(journal).expanduser()
    if not path.is_file():
        return
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CLIError(
            f"--journal {journal}: not a journal (a journal is UTF-8 JSON Lines text; byte "
            f"{exc.object[exc.start]:#04x} at offset {exc.start} is not UTF-8)"
        ) from None


@contextmanager
def on_cluster(address, progress):
    """Send the search's evaluations (joblib) to the dask scheduler at ``address``; nothing
    changes when it is None."""
    if address is None:
        yield
        return
    try:
        from dask.distributed import Client
        from joblib import parallel_config
    except ImportError as exc:
        raise CLIError(f"--scheduler needs dask.distributed ({exc}); install it: "
                       "pip install 'dask[distributed]'") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, ValueError, TypeError) as exc:
        raise CLIError(f"--scheduler {address}: cannot connect ({one_line(exc)})") from None
    with client:
        n_workers = len(client.scheduler_info().get("workers", {}))
        progress(f"evaluating on the dask cluster at {address} ({n_workers} workers)")
        with parallel_config(backend="dask"):
            yield


def objectives_of(args):
    """``(objectives, constraints)`` of the ``--objective`` and ``--constraint`` flags."""
    from sknar.search import parse_constraint, parse_objective

    try:
        objectives = dict(parse_objective(text) for text in args.objective or []) or None
        constraints = dict(parse_constraint(text) for text in args.constraint or []) or None
    except ValueError as exc:
        raise CLIError(one_line(exc)) from None
    return objectives, constraints


def _run_search(args, progress, run_options):
    """The search the flags ask for: ``(result, what to record of where it ran)``."""
    if args.train:
        progress(f"{args.strategy} search training on {args.train}")
        try:
            result, test_accuracy = search_training(
                args.train, args.strategy, args.budget, epochs=args.epochs,
                low_epochs=args.low_epochs, data=args.data, device=args.device or "cpu",
                **run_options)
        except FileNotFoundError as exc:
            raise CLIError(f"--train {args.train}: {one_line(exc)} Give the folder of the "
                           "files with --data PATH.") from None
        where = {"train": args.train, "epochs": args.epochs, "test_accuracy": test_accuracy}
        if args.low_epochs is not None:
            where.update(low_epochs=args.low_epochs,
                         fidelity_costs={str(e): c for e, c in result.fidelity_costs.items()})
        return result, where
    data = load_benchmark_of(args)
    progress(f"{args.strategy} search on {args.benchmark} ({data.dataset})")
    result = search_benchmark(data, args.strategy, args.budget, **run_options)
    return result, {"benchmark": args.benchmark, "dataset": data.dataset}


def _last_line(summary, result, where):
    """What the search found, in one line: the selection metric, and the held-out test
    accuracy of the found architecture where there is one."""
    counts = f"after {result.n_queries} queries ({result.n_failed} failed)"
    if summary["best_value"] is None:
        return f"nothing found {counts}"
    if "test_accuracy" in where:
        return (f"best validation accuracy {summary['best_value']:.4f} {counts}; held-out test "
                f"accuracy of the found cell {where['test_accuracy']:.4f}")
    found = f"best {summary['best_value']:.4f} {counts}"
    if summary["best_report_value"] is not None:
        found += f"; its test accuracy {summary['best_report_value']:.4f}"
    return found


def cmd_search(args):
    """``sknar search``: one budgeted search, on a benchmark table or training for real."""
    from sknar.search import EvaluationError
    from sknar.utils import write_json

    progress = Progress(args.quiet)
    check_search_flags(args, RANKER_FLAGS)
    # One bar over the oracle calls, not one per refit of the ranker.
    params = {"max_epochs": SEARCH_MAX_EPOCHS, **ranker_params(args, progress), "verbose": 0}
    check_device(args.device)
    for path, flag in ((args.output, "--output"), (args.journal, "--journal")):
        check_writable(path, flag)
    check_distinct_files(data=args.data, journal=args.journal, output=args.output)
    check_journal_is_text(args.journal)
    if not args.train:
        sized_for_budget(args.strategy, args.budget)
    objectives, constraints = objectives_of(args)
    run_options = {"objectives": objectives, "constraints": constraints,
                   "n_jobs": args.n_jobs, "journal": args.journal, "on_error": args.on_error,
                   "random_state": args.seed, "ranker_params": params,
                   "verbose": progress.verbose}
    resume = (f"; {args.journal} keeps every finished evaluation: run again to resume"
              if args.journal else "; --on-error skip records a failure and goes on")
    try:
        with on_cluster(args.scheduler, progress):
            result, where = _run_search(args, progress, run_options)
    except EvaluationError as exc:
        raise CLIError(f"{exc}{resume}") from None
    except KeyboardInterrupt:
        print(f"sknar search: interrupted{resume * bool(args.journal)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ValueError as exc:
        # The benchmark file is read (and named) before: what fails to decode is the journal.
        journal = isinstance(exc, UnicodeDecodeError) and args.journal
        context = f"--journal {args.journal}" if journal else f"{args.strategy} search failed"
        raise CLIError(f"{context}: {one_line(exc)}") from None
    summary = {**search_summary(result, args.strategy, args.budget), **where, "seed": args.seed}
    if objectives is not None or constraints is not None:
        summary.update(objectives_summary(result, objectives, constraints))
    progress(_last_line(summary, result, where))
    write_json(summary, args.output)
    return EXIT_OK
