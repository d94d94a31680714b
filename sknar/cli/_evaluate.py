"""``sknar evaluate``: score a table with a saved model; metrics when accuracies are given."""

from ._checks import check_distinct_files, check_fields, check_writable
from ._errors import EXIT_OK, CLIError, reading
from ._model_file import load_model, model_space
from ._progress import Progress, score_in_chunks

__all__ = ["cmd_evaluate"]


def cmd_evaluate(args):
    """``sknar evaluate``: score a table with a saved model; metrics when accuracies are given."""
    from sknar.datasets import read_table
    from sknar.metrics import ranking_report
    from sknar.utils import write_json

    progress = Progress(args.quiet)
    check_fields(args.arch_field, args.target_field)
    check_writable(args.output, "--output")
    check_distinct_files(input=args.input, model=args.model, output=args.output)
    fitted = load_model(args.model)
    model, space = fitted["model"], model_space(fitted["model"])
    if space is None:
        raise CLIError(f"--model {args.model}: the model has no search space to read input with")
    fields = {"arch_field": args.arch_field or fitted.get("arch_field", "arch"),
              "target_field": args.target_field or fitted.get("target_field", "accuracy")}
    with reading(args.input):
        archs, y = read_table(args.input, space, **fields, require_target=False)
    progress(f"read {len(archs)} architectures from {args.input}")
    try:
        scores, tiers = score_in_chunks(model, archs, verbose=progress.verbose)
        metrics = None if y is None else ranking_report(y, scores, k=args.k)
    except ValueError as exc:
        raise CLIError(f"cannot score {args.input} with {args.model}: {exc}") from None
    result = {"model": str(args.model), "input": str(args.input), "n": len(archs)}
    if metrics is not None:
        result["metrics"] = metrics
        progress(f"Kendall tau {metrics['kendall_tau']:.4f}")
        for k in (k for k in args.k if k > len(archs)):
            progress(f"--k {k} is more than the {len(archs)} architectures: left out")
    result["predictions"] = [
        {"index": i, "score": float(score), **({} if tiers is None else {"tier": int(tiers[i])})}
        for i, score in enumerate(scores)
    ]
    write_json(result, args.output)
    return EXIT_OK
