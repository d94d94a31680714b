"""The ``sknar`` command line: ``demo``, ``fit``, ``evaluate`` and ``search``.

Run ``sknar --help`` (or ``python -m sknar --help``) for the commands and
``sknar <command> --help`` for their options. Errors in the input (a missing file, an absent
column, a bad architecture on some line) are reported in one line on stderr, without a
traceback, and give a non-zero exit status:

- 0: success;
- 1: the input is wrong (file, column, architecture, model) or a dependency is missing;
- 2: the command line itself is wrong (unknown option, missing argument).

``fit`` and ``evaluate`` read architectures and accuracies with
:func:`sknar.datasets.read_table` (CSV, JSON or JSON Lines; see there).
"""

import argparse
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = ["main"]

EXIT_OK = 0
EXIT_INPUT_ERROR = 1
EXIT_USAGE = 2

SPACES = {
    "nasbench101": ("sknar.spaces.nasbench101", "NASBench101Space"),
    "nasbench201": ("sknar.spaces.nasbench201", "NASBench201Space"),
    "nasbench_graph": ("sknar.spaces.nasbench_graph", "NASBenchGraphSpace"),
}
DEFAULT_DATASETS = {"nasbench101": None, "nasbench201": "cifar10", "nasbench_graph": "cora"}


class CLIError(Exception):
    """An error in the user's input, reported as one line without a traceback."""


# --- reading input tables ---------------------------------------------------------------


def make_space(name):
    """Return an instance of the search space called ``name``."""
    import importlib

    try:
        module_name, class_name = SPACES[name]
    except KeyError:
        raise CLIError(
            f"unknown search space {name!r}; choose one of {', '.join(SPACES)}"
        ) from None
    return getattr(importlib.import_module(module_name), class_name)()


def _read_table(path, space, **options):
    """:func:`sknar.datasets.read_table`, its input errors turned into one-line CLI errors."""
    from sknar.datasets import read_table

    try:
        return read_table(path, space, **options)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


# --- models and results -----------------------------------------------------------------


def load_model(path):
    """Load a fitted model written by ``sknar fit`` (or any joblib file of a fitted pipeline)."""
    import joblib

    path = Path(path)
    if not path.is_file():
        raise CLIError(f"{path}: no such model file")
    try:
        model = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not a model"
        raise CLIError(f"{path}: not a model file written by sknar fit ({exc})") from None
    if not hasattr(model, "predict"):
        raise CLIError(f"{path}: holds a {type(model).__name__}, not a fitted model")
    return model


def model_space(model):
    """The search space of a fitted pipeline's encoder, or None."""
    steps = getattr(model, "steps", None) or []
    for _, step in steps:
        space = getattr(step, "space", None)
        if space is not None:
            return space
    return getattr(model, "space", None)


def write_json(payload, path):
    """Write ``payload`` as JSON to ``path``, or to stdout when ``path`` is None or ``-``."""
    text = json.dumps(payload, indent=2, default=_json_default) + "\n"
    if path is None or str(path) == "-":
        sys.stdout.write(text)
        return
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror or exc}") from None


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


@contextmanager
def limited_threads(n_threads):
    """Run torch, BLAS and OpenMP with at most ``n_threads`` threads, restoring them after.

    The models the commands train are small: extra threads add synchronisation, and on a
    machine whose cores are busy their spin-waiting can make training many times slower.
    """
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    if torch is None:
        import torch
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(n_threads):
            yield
    finally:
        torch.set_num_threads(previous)


class Progress:
    """Progress lines on stderr with the elapsed time, silent when ``quiet``."""

    def __init__(self, quiet=False, stream=None):
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()

    def __call__(self, message):
        if not self.quiet:
            elapsed = time.perf_counter() - self.start
            print(f"[{elapsed:6.1f}s] {message}", file=self.stream, flush=True)


# --- fit / evaluate ---------------------------------------------------------------------


def _ranker_params(args):
    names = ("n_tiers", "max_epochs", "preset", "device")
    params = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    params["random_state"] = args.seed
    params["verbose"] = int(bool(getattr(args, "verbose", False)))
    return params


def build_ranker_pipeline(space, dataset, **ranker_params):
    """``make_pipeline(NARFeatureEncoder(space), NARRanker(**ranker_params))``."""
    from sklearn.pipeline import make_pipeline

    from sknar.encoding import NARFeatureEncoder
    from sknar.ranker import NARRanker

    encoder = NARFeatureEncoder(space=space, dataset=dataset)
    return make_pipeline(encoder, NARRanker(**ranker_params))


def _space_dataset(space, dataset):
    """The dataset whose costs the encoder uses, or None for spaces without such a choice."""
    choices = getattr(space, "cost_datasets", None)
    if not choices:
        return None
    if dataset is None:
        return choices[0]
    if dataset not in choices:
        raise CLIError(
            f"--dataset {dataset!r} is not one of the datasets of {space.name}: "
            f"{', '.join(choices)}"
        )
    return dataset


def cmd_fit(args):
    """``sknar fit``: train a ranker on a table and save it with joblib."""
    import joblib

    progress = Progress(args.quiet)
    space = make_space(args.space)
    archs, y = _read_table(
        args.input, space, arch_field=args.arch_field, target_field=args.target_field
    )
    progress(f"read {len(archs)} architectures from {args.input}")
    model = build_ranker_pipeline(
        space, _space_dataset(space, args.dataset), **_ranker_params(args)
    )
    start = time.perf_counter()
    try:
        model.fit(archs, y)
    except ValueError as exc:
        raise CLIError(f"cannot fit on {args.input}: {exc}") from None
    fit_seconds = time.perf_counter() - start
    progress(f"fitted in {fit_seconds:.1f}s")
    Path(args.model).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, args.model)
    progress(f"model saved to {args.model}")
    summary = {
        "model": str(args.model),
        "space": args.space,
        "n_train": len(archs),
        "fit_seconds": round(fit_seconds, 3),
        "train_kendall_tau": float(model.score(archs, y)),
        "ranker_params": model[-1].get_params(),
    }
    if args.output:
        write_json(summary, args.output)
    return EXIT_OK


def ranking_report(y_true, scores, ks):
    """Kendall tau, Spearman's rho and the top-k metrics of ``scores`` against ``y_true``."""
    from sknar.metrics import (
        best_rank_at_k,
        kendall_tau,
        ndcg_at_k,
        precision_at_k,
        spearman_rho,
    )

    report = {
        "kendall_tau": float(kendall_tau(y_true, scores)),
        "spearman_rho": float(spearman_rho(y_true, scores)),
    }
    for k in ks:
        k = min(k, len(y_true))
        report[f"precision_at_{k}"] = float(precision_at_k(y_true, scores, k))
        report[f"best_rank_at_{k}"] = int(best_rank_at_k(y_true, scores, k))
        report[f"ndcg_at_{k}"] = float(ndcg_at_k(y_true, scores, k))
    return report


def predict_tier(model, archs):
    """Most likely tier of each architecture (0 = best), or None if the model has no tiers."""
    final = model[-1] if hasattr(model, "steps") else model
    if not hasattr(final, "predict_tier"):
        return None
    features = model[:-1].transform(archs) if hasattr(model, "steps") else archs
    return final.predict_tier(features)


def cmd_evaluate(args):
    """``sknar evaluate``: score a table with a saved model; metrics when accuracies are given."""
    progress = Progress(args.quiet)
    model = load_model(args.model)
    space = model_space(model)
    if space is None:
        raise CLIError(f"{args.model}: the model has no search space to validate input with")
    archs, y = _read_table(
        args.input, space, arch_field=args.arch_field, target_field=args.target_field,
        require_target=False,
    )
    progress(f"read {len(archs)} architectures from {args.input}")
    try:
        scores = model.predict(archs)
        tiers = predict_tier(model, archs)
    except ValueError as exc:
        raise CLIError(f"cannot score {args.input} with {args.model}: {exc}") from None
    result = {"model": str(args.model), "input": str(args.input), "n": len(archs)}
    if y is not None:
        result["metrics"] = ranking_report(y, scores, args.k)
        progress("Kendall tau {kendall_tau:.4f}".format(**result["metrics"]))
    result["predictions"] = [{"index": i, "score": float(score)} for i, score in enumerate(scores)]
    if tiers is not None:
        for prediction, tier in zip(result["predictions"], tiers):
            prediction["tier"] = int(tier)
    write_json(result, args.output)
    return EXIT_OK


# --- the parser -------------------------------------------------------------------------


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _add_ranker_options(parser, max_epochs_default=None):
    group = parser.add_argument_group("ranker")
    group.add_argument("--n-tiers", type=_positive_int, help="number of quality tiers")
    group.add_argument(
        "--max-epochs", type=_positive_int, default=max_epochs_default,
        help="training epochs of the ranker",
    )
    group.add_argument("--preset", choices=("fast", "paper"), help="ranker size preset")
    group.add_argument("--device", help="torch device, e.g. cpu or cuda")
    _add_threads_option(group)
    group.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")


def _add_threads_option(parser):
    parser.add_argument(
        "--threads", type=_positive_int, default=1,
        help="CPU threads for training and scoring (default: 1, the fastest for the small "
        "default models; raise it for --preset paper on an idle machine)",
    )


def _add_table_options(parser):
    parser.add_argument(
        "--arch-field", default="arch",
        help="column or field holding the architecture (default: arch)",
    )
    parser.add_argument(
        "--target-field", default="accuracy",
        help="column or field holding the accuracy (default: accuracy)",
    )


def _add_benchmark_options(parser):
    parser.add_argument(
        "--benchmark", choices=tuple(SPACES), default="nasbench_graph",
        help="tabular benchmark (default: nasbench_graph, which needs no download)",
    )
    parser.add_argument(
        "--dataset",
        help="dataset of the benchmark (default: cora for nasbench_graph, cifar10 for "
        "nasbench201)",
    )
    parser.add_argument(
        "--data", metavar="PATH",
        help="benchmark file, or the folder that holds the benchmark files (default: "
        "$SKNAR_DATA, then ~/sknar_data)",
    )


def build_parser():
    """The argument parser of the ``sknar`` command."""
    parser = argparse.ArgumentParser(
        prog="sknar",
        description="Neural Architecture Ranker (NAR): rank and search neural architectures.",
        epilog="Run 'sknar <command> --help' for the options of a command.",
    )
    from sknar import __version__

    parser.add_argument("--version", action="version", version=f"sknar {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command")
    commands.required = True

    demo = commands.add_parser(
        "demo", help="the whole NAR pipeline on a benchmark, offline by default",
        description="Load a benchmark, fit NARRanker on a small training set, compare it with "
        "gradient boosting on held-out architectures, run a budgeted tier search against "
        "random search, print a results table and save a figure.",
    )
    _add_benchmark_options(demo)
    demo.add_argument(
        "--budget", type=_positive_int, default=150,
        help="oracle calls of each search (default: 150)",
    )
    demo.add_argument(
        "--n-train", type=_positive_int, default=None,
        help="training architectures of the ranking comparison (default: 200; 424 on "
        "nasbench101)",
    )
    demo.add_argument(
        "--max-epochs", type=_positive_int, default=None,
        help="training epochs of the ranker (default: the demo's setting)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    _add_threads_option(demo)
    demo.add_argument(
        "--output", default="sknar_output", metavar="DIR",
        help="folder for the figure and results.json (default: ./sknar_output)",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress on stderr")
    demo.set_defaults(handler=cmd_demo)

    fit = commands.add_parser(
        "fit", help="train a ranker on architectures and accuracies from a file",
        description="Train make_pipeline(NARFeatureEncoder(space), NARRanker()) on a CSV, "
        "JSON or JSON Lines file and save it with joblib.",
    )
    fit.add_argument("input", help="table of architectures and accuracies")
    fit.add_argument("--space", choices=tuple(SPACES), required=True, help="search space")
    fit.add_argument(
        "--dataset", help="dataset whose FLOPs and params the encoder uses (NAS-Bench-201)"
    )
    fit.add_argument("--model", required=True, help="where to save the fitted model (joblib)")
    fit.add_argument("--output", help="write a JSON summary of the fit here ('-': stdout)")
    _add_table_options(fit)
    _add_ranker_options(fit)
    fit.add_argument("--verbose", action="store_true", help="per-epoch progress")
    fit.add_argument("--quiet", action="store_true", help="no progress on stderr")
    fit.set_defaults(handler=cmd_fit)

    evaluate = commands.add_parser(
        "evaluate", help="score architectures with a saved model; metrics if accuracies given",
        description="Score the architectures of a file with a model saved by 'sknar fit'. "
        "When the file has accuracies, report Kendall tau, Spearman's rho, precision@k, "
        "best rank@k and NDCG@k. Results go to --output as JSON.",
    )
    evaluate.add_argument("input", help="table of architectures (accuracies optional)")
    evaluate.add_argument("--model", required=True, help="model file written by 'sknar fit'")
    evaluate.add_argument(
        "--output", default="-", help="JSON results file (default: '-', stdout)"
    )
    evaluate.add_argument(
        "--k", type=_positive_int, nargs="+", default=[10, 50],
        help="cut-offs of the top-k metrics (default: 10 50)",
    )
    _add_table_options(evaluate)
    _add_threads_option(evaluate)
    evaluate.add_argument("--quiet", action="store_true", help="no progress on stderr")
    evaluate.set_defaults(handler=cmd_evaluate)

    search = commands.add_parser(
        "search", help="budgeted architecture search on a tabular benchmark",
        description="Run tier search, random search or regularized evolution against a "
        "benchmark oracle and write the history as JSON.",
    )
    _add_benchmark_options(search)
    search.add_argument(
        "--strategy", choices=("tier", "random", "evolution"), default="tier",
        help="search strategy (default: tier)",
    )
    search.add_argument(
        "--budget", type=_positive_int, default=100, help="oracle calls (default: 100)"
    )
    search.add_argument(
        "--output", default="-", help="JSON results file (default: '-', stdout)"
    )
    _add_ranker_options(search)
    search.add_argument("--quiet", action="store_true", help="no progress on stderr")
    search.set_defaults(handler=cmd_search)
    return parser


def main(argv=None):
    """Run the ``sknar`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 1 when the input is wrong, 2 when the command line is wrong.

    Examples
    --------
    >>> from sknar.cli import main
    >>> main(["--version"])  # doctest: +SKIP
    sknar 0.1.0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        with limited_threads(args.threads):
            return args.handler(args)
    except CLIError as exc:
        print(f"sknar {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except FileNotFoundError as exc:
        print(f"sknar {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except ImportError as exc:
        print(
            f"sknar {args.command}: error: a dependency is missing ({exc}); "
            "install it, e.g. pip install 'sknar[graph,plot]'",
            file=sys.stderr,
        )
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print(f"sknar {args.command}: interrupted", file=sys.stderr)
        return 130


# --- the demo ---------------------------------------------------------------------------

DEMO_N_TRAIN = {"nasbench_graph": 200, "nasbench201": 200, "nasbench101": 424}
DEMO_MAX_EPOCHS = 40
DEMO_TOP_K = (50, 500)


def load_benchmark(benchmark, dataset=None, data=None):
    """Load a tabular benchmark as a Bunch (``archs``, ``y``, ``space``, ...).

    ``data`` is the benchmark file, or a folder used as the data home.
    """
    path, data_home = None, None
    if data is not None:
        data = Path(data).expanduser()
        if data.is_dir():
            data_home = data
        elif data.is_file():
            path = data
        else:
            raise CLIError(f"--data {data}: no such file or folder")
    if benchmark == "nasbench_graph":
        from sknar.datasets import load_nasbench_graph

        dataset = dataset or "cora"
        if data_home is not None:
            path = data_home / f"{dataset}.bench"
        return load_nasbench_graph(dataset=dataset, path=path)
    if benchmark == "nasbench201":
        from sknar.datasets import load_nasbench201

        return load_nasbench201(dataset=dataset or "cifar10", path=path, data_home=data_home)
    if benchmark == "nasbench101":
        from sknar.datasets import load_nasbench101

        if dataset not in (None, "cifar10"):
            raise CLIError("NAS-Bench-101 has one dataset, cifar10")
        return load_nasbench101(path=path, data_home=data_home)
    raise CLIError(f"unknown benchmark {benchmark!r}; choose one of {', '.join(SPACES)}")


def format_table(header, rows):
    """A plain-text table with aligned columns."""
    cells = [[str(value) for value in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def table_space(data):
    """The space a search draws from: the benchmark's space when the table covers all of it
    (NAS-Bench-201, NAS-Bench-Graph), else the table's architectures (the NAS-Bench-101
    slice), so that every query has an answer."""
    if data.space.name == "nasbench101":
        from sknar.spaces import TableSpace

        return TableSpace(data.space, data.archs)
    return data.space


def benchmark_oracle(data):
    """A table oracle returning ``data.y``, reporting test accuracy where the data has it."""
    from sknar.oracles import TabularOracle

    report = data.get("y_test") if data.get("metric") != "test" else None
    return TabularOracle(data.archs, data.y, report, space=data.space)


def split_benchmark(n_archs, n_train, seed):
    """Random training indices and the held-out rest."""
    if n_train >= n_archs:
        raise CLIError(f"--n-train {n_train} leaves nothing held out of {n_archs} architectures")
    order = np.random.default_rng(seed).permutation(n_archs)
    return np.sort(order[:n_train]), np.sort(order[n_train:])


def compare_rankers(data, n_train, max_epochs, seed, progress):
    """Fit NARRanker and a gradient-boosting baseline; score both on the held-out rest."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline

    from sknar.encoding import AdjacencyOneHotEncoder

    train, test = split_benchmark(len(data.archs), n_train, seed)
    archs_train = [data.archs[i] for i in train]
    archs_test = [data.archs[i] for i in test]
    y_train, y_test = data.y[train], data.y[test]
    models = {
        "NARRanker": build_ranker_pipeline(
            data.space, _space_dataset(data.space, data.get("dataset")),
            max_epochs=max_epochs, random_state=seed,
        ),
        "gradient boosting (one-hot)": make_pipeline(
            AdjacencyOneHotEncoder(space=data.space),
            HistGradientBoostingRegressor(random_state=seed),
        ),
    }
    results = {}
    for name, model in models.items():
        progress(f"fitting {name} on {len(train)} architectures")
        start = time.perf_counter()
        model.fit(archs_train, y_train)
        fit_seconds = time.perf_counter() - start
        progress(f"scoring {len(test)} held-out architectures with {name}")
        scores = np.asarray(model.predict(archs_test), dtype=float)
        results[name] = {
            "fit_seconds": fit_seconds,
            "scores": scores,
            **ranking_report(y_test, scores, DEMO_TOP_K),
        }
    return results, y_test


def save_demo_figure(path, curves, best_possible, y_test, scores, title):
    """Best-so-far against oracle calls, and predicted against true rank, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import rankdata

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, curve in curves.items():
        left.plot(np.arange(1, len(curve) + 1), curve, label=name, lw=2)
    left.axhline(best_possible, color="k", ls="--", lw=1, label="best in the benchmark")
    left.set(xlabel="oracle calls", ylabel="best accuracy found", title="Search")
    left.legend(loc="lower right")
    left.grid(alpha=0.3)

    true_rank = rankdata(-np.asarray(y_test), method="average")
    predicted_rank = rankdata(-np.asarray(scores), method="average")
    shown = np.random.default_rng(0).permutation(len(true_rank))[:3000]
    right.scatter(true_rank[shown], predicted_rank[shown], s=3, alpha=0.35)
    right.plot([1, len(true_rank)], [1, len(true_rank)], color="k", lw=1, ls="--")
    right.set(
        xlabel="true rank (1 = best)", ylabel="rank predicted by NARRanker",
        title="Held-out architectures",
    )
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cmd_demo(args):
    """``sknar demo``: rank, compare, search, report, on one benchmark."""
    progress = Progress(args.quiet)
    start = time.perf_counter()
    progress(f"loading {args.benchmark}" + (f" ({args.dataset})" if args.dataset else ""))
    data = load_benchmark(args.benchmark, args.dataset, args.data)
    dataset = data.get("dataset") or args.dataset or "cifar10"
    progress(f"{len(data.archs)} architectures; target: {data.get('target_name', 'y')}")
    n_train = args.n_train or DEMO_N_TRAIN[args.benchmark]
    max_epochs = args.max_epochs or DEMO_MAX_EPOCHS

    rankers, y_test = compare_rankers(data, n_train, max_epochs, args.seed, progress)
    searches = {}
    for strategy in ("tier", "random"):
        progress(f"{strategy} search with a budget of {args.budget} oracle calls")
        searches[strategy] = run_search(
            strategy, data, args.budget, args.seed, {"max_epochs": max_epochs}, progress
        )

    output = Path(args.output)
    title = f"sknar demo: {args.benchmark} ({dataset}), seed {args.seed}"
    figure = save_demo_figure(
        output / "demo.png",
        {f"{name} search": result["best_so_far"] for name, result in searches.items()},
        float(np.max(data.y)), y_test, rankers["NARRanker"]["scores"], title,
    )
    summary = demo_summary(args, data, n_train, max_epochs, rankers, searches)
    summary["wall_seconds"] = round(time.perf_counter() - start, 1)
    write_json(summary, output / "results.json")
    print(format_demo_report(summary, len(y_test)))
    print(f"\nfigure: {figure.resolve()}\nresults: {(output / 'results.json').resolve()}")
    progress(f"done in {summary['wall_seconds']:.0f}s")
    return EXIT_OK


def demo_summary(args, data, n_train, max_epochs, rankers, searches):
    """The demo's results as JSON data."""
    return {
        "benchmark": args.benchmark,
        "dataset": data.get("dataset") or args.dataset,
        "target": data.get("target_name"),
        "seed": args.seed,
        "n_architectures": len(data.archs),
        "n_train": n_train,
        "max_epochs": max_epochs,
        "best_in_benchmark": float(np.max(data.y)),
        "ranking": {
            name: {key: value for key, value in result.items() if key != "scores"}
            for name, result in rankers.items()
        },
        "search": searches,
    }


def format_demo_report(summary, n_test):
    """The demo's results table, as printed."""
    ks = DEMO_TOP_K
    header = ["ranker", "Kendall tau", *(f"precision@{k}" for k in ks), "fit (s)"]
    rows = [
        [
            name, f"{result['kendall_tau']:.3f}",
            *(f"{result[f'precision_at_{k}']:.2f}" for k in ks), f"{result['fit_seconds']:.1f}",
        ]
        for name, result in summary["ranking"].items()
    ]
    searches = summary["search"]
    reported = any(result.get("best_report_value") is not None for result in searches.values())
    search_header = ["search", "oracle calls", "best found"]
    search_header += ["its test accuracy"] if reported else []
    search_header += ["time (s)"]
    search_rows = []
    for name, result in searches.items():
        row = [f"{name} search", result["budget"], f"{result['best_value']:.4f}"]
        if reported:
            row.append(f"{result['best_report_value']:.4f}")
        search_rows.append([*row, f"{result['wall_seconds']:.1f}"])
    return "\n".join(
        [
            f"\n{summary['benchmark']} ({summary['dataset']}): {summary['n_architectures']} "
            f"architectures, trained on {summary['n_train']}, tested on the other {n_test}",
            "",
            format_table(header, rows),
            "",
            format_table(search_header, search_rows),
            f"(best {summary['target'] or 'accuracy'} in the whole benchmark: "
            f"{summary['best_in_benchmark']:.4f})",
        ]
    )


SEARCH_SETTINGS = {"n_candidates": 300, "top_k": 10}
MIN_INITIAL = 20


def make_searcher(strategy, space, dataset, budget, seed, ranker_params):
    """A searcher of the given strategy, sized for ``budget`` oracle calls."""
    from sknar.search import RandomSearch, RegularizedEvolution, TierSearch

    if strategy == "random":
        return RandomSearch(space, random_state=seed)
    if strategy == "evolution":
        return RegularizedEvolution(space, random_state=seed)
    from sknar.sampler import TierSampler

    # The sampler needs a few architectures in each of the 5 tiers of the initial ones.
    n_initial = max(MIN_INITIAL, min(50, budget // 3))
    if budget <= n_initial:
        raise CLIError(
            f"--budget {budget} is too small for tier search; give at least {MIN_INITIAL + 1}"
        )
    ranker = build_ranker_pipeline(space, dataset, **{"random_state": seed, **ranker_params})
    sampler = TierSampler(space, dataset=dataset, random_state=seed)
    return TierSearch(
        space,
        ranker=ranker,
        sampler=sampler,
        n_initial=n_initial,
        random_state=seed,
        **SEARCH_SETTINGS,
    )


def run_search(strategy, data, budget, seed, ranker_params, progress):
    """Run one search against the benchmark table; return its summary as JSON data."""
    from sknar.datasets import jsonable_arch

    space = table_space(data)
    dataset = _space_dataset(data.space, data.get("dataset"))
    searcher = make_searcher(strategy, space, dataset, budget, seed, ranker_params)
    oracle = benchmark_oracle(data)
    try:
        result = searcher.run(oracle, budget)
    except ValueError as exc:
        raise CLIError(f"{strategy} search failed: {exc}") from None
    progress(
        f"{strategy} search: best {result.best_value:.4f} after {result.n_queries} queries "
        f"({result.wall_time:.1f}s)"
    )
    return {
        "strategy": strategy,
        "budget": budget,
        "n_queries": result.n_queries,
        "best_arch": jsonable_arch(result.best_arch),
        "best_value": result.best_value,
        "best_report_value": result.best_report_value,
        "wall_seconds": round(result.wall_time, 3),
        "best_so_far": result.best_so_far.tolist(),
        "history": [
            {"arch": jsonable_arch(arch), "value": float(value)}
            for arch, value in zip(result.archs, result.values)
        ],
    }


def cmd_search(args):
    """``sknar search``: one budgeted search on a benchmark, written as JSON."""
    progress = Progress(args.quiet)
    data = load_benchmark(args.benchmark, args.dataset, args.data)
    progress(f"{args.strategy} search on {args.benchmark}, budget {args.budget}")
    ranker_params = {"max_epochs": DEMO_MAX_EPOCHS, **_ranker_params(args)}
    summary = run_search(args.strategy, data, args.budget, args.seed, ranker_params, progress)
    summary.update(
        benchmark=args.benchmark, dataset=data.get("dataset") or args.dataset, seed=args.seed
    )
    write_json(summary, args.output)
    return EXIT_OK
