"""``sknar fit``: train a ranker on a table and save it with what ``evaluate`` needs."""

from ._checks import check_device, check_distinct_files, check_fields, check_writable, cost_dataset
from ._common import ranker_params
from ._errors import EXIT_OK, CLIError, reading
from ._model_file import save_model
from ._progress import Progress

__all__ = ["cmd_fit"]


def _summary(args, model, archs, y, recorded, fit_seconds):
    ranker = model[-1]
    return {"model": str(args.model), **recorded, "n_train": len(archs),
            "fit_seconds": round(fit_seconds, 3),
            "train_kendall_tau": float(model.score(archs, y)),
            "ranker_params": {**ranker.get_params(), **ranker.settings_}}


def cmd_fit(args):
    """``sknar fit``: train a ranker on a table and save it with what ``evaluate`` needs."""
    import time

    from sknar.datasets import BENCHMARKS, read_table
    from sknar.ranker import make_nar_pipeline
    from sknar.utils import write_json

    progress = Progress(args.quiet)
    space = BENCHMARKS[args.space].make_space()
    recorded = {"space": args.space, "dataset": cost_dataset(space, args.dataset),
                "arch_field": args.arch_field, "target_field": args.target_field}
    check_fields(args.arch_field, args.target_field)
    check_device(args.device)
    for path, flag in ((args.model, "--model"), (args.output, "--output")):
        check_writable(path, flag)
    check_distinct_files(input=args.input, model=args.model, output=args.output)
    if args.verbose and args.output == "-":
        raise CLIError("--verbose prints its epoch table on stdout: give --output a file")
    with reading(args.input):
        archs, y = read_table(args.input, space, arch_field=args.arch_field,
                              target_field=args.target_field)
    progress(f"read {len(archs)} architectures from {args.input}")
    model = make_nar_pipeline(space, dataset=recorded["dataset"], **ranker_params(args, progress))
    start = time.perf_counter()
    try:
        model.fit(archs, y)
    except ValueError as exc:
        raise CLIError(f"cannot fit on {args.input}: {exc}") from None
    fit_seconds = time.perf_counter() - start
    progress(f"fitted in {fit_seconds:.1f}s")
    save_model(args.model, model, **recorded)
    progress(f"model saved to {args.model}")
    if args.output:
        write_json(_summary(args, model, archs, y, recorded, fit_seconds), args.output)
    return EXIT_OK
