"""The argument parser of the ``sknar`` command: flags, their types and their help."""

import argparse

from ._checks import n_jobs, positive_int
from ._demo import cmd_demo
from ._evaluate import cmd_evaluate
from ._fit import cmd_fit
from ._search import cmd_search

__all__ = ["BENCHMARK_NAMES", "STRATEGIES", "build_parser"]

# The names of sknar.datasets.BENCHMARKS and sknar.search.SEARCH_STRATEGIES, spelled out so
# that ``sknar --help`` imports neither numpy nor scikit-learn (a test keeps them equal).
BENCHMARK_NAMES = ("nasbench_graph", "nasbench201", "nasbench101")
STRATEGIES = ("tier", "random", "evolution")


def _add_common(parser, *, verbose=False):
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--threads", type=positive_int, default=1, help="CPU threads for "
                        "training and scoring (default: 1, the fastest for small models)")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--quiet", action="store_true", help="no progress on stderr")
    if verbose:
        noise.add_argument("--verbose", action="store_true", help="a table line per epoch")


def _add_ranker_options(parser):
    group = parser.add_argument_group("ranker")
    group.add_argument("--n-tiers", type=positive_int, help="number of quality tiers")
    group.add_argument("--max-epochs", type=positive_int, help="training epochs of the ranker")
    group.add_argument("--preset", choices=("fast", "paper"), help="ranker size preset")
    group.add_argument("--device", help="torch device, e.g. cpu or cuda")


def _add_table_options(parser, *, recorded=False):
    default = "the one of the table given to 'sknar fit', else " if recorded else ""
    parser.add_argument("--arch-field", default=None if recorded else "arch",
                        help=f"column or field of the architecture (default: {default}arch)")
    parser.add_argument("--target-field", default=None if recorded else "accuracy",
                        help=f"column or field of the accuracy (default: {default}accuracy)")


def _add_benchmark_options(parser, default="nasbench_graph"):
    parser.add_argument("--benchmark", choices=BENCHMARK_NAMES, default=default,
                        help="tabular benchmark (default: nasbench_graph, needs no download)")
    parser.add_argument("--dataset", help="dataset of the benchmark (default: cora for "
                        "nasbench_graph, cifar10 for nasbench201 and nasbench101)")
    parser.add_argument("--data", metavar="PATH", help="benchmark file, or the folder of the "
                        "benchmark files (default: $SKNAR_DATA, then ~/sknar_data)")


def _add_demo(command):
    demo = command(
        "demo", cmd_demo, "the whole NAR pipeline on a benchmark, offline by default",
        "Load a benchmark, fit NARRanker on a small training set, compare it with gradient "
        "boosting on held-out architectures, run a budgeted tier search against random "
        "search, print a results table and save a figure.",
    )
    _add_benchmark_options(demo)
    demo.add_argument("--budget", type=positive_int, default=150,
                      help="oracle calls of each search (default: 150)")
    demo.add_argument("--n-train", type=positive_int, help="training architectures of the "
                      "ranking comparison (default: 200; 424 on nasbench101)")
    demo.add_argument("--max-epochs", type=positive_int,
                      help="training epochs of the ranker (default: 40)")
    demo.add_argument("--output", default="sknar_output", metavar="DIR",
                      help="folder for the figure and results.json (default: ./sknar_output)")
    _add_common(demo)


def _add_fit(command):
    fit = command(
        "fit", cmd_fit, "train a ranker on architectures and accuracies from a file",
        "Train make_pipeline(NARFeatureEncoder(space), NARRanker()) on a CSV, JSON or JSON "
        "Lines file and save it, with the space and the column names, for 'sknar evaluate'.",
    )
    fit.add_argument("input", help="table of architectures and accuracies")
    fit.add_argument("--space", choices=BENCHMARK_NAMES, required=True,
                     help="search space (of the benchmark of that name)")
    fit.add_argument("--dataset", help="dataset whose FLOPs and params the encoder uses "
                     "(nasbench201: cifar10, cifar100 or ImageNet16-120)")
    fit.add_argument("--model", required=True, help="where to save the fitted model (joblib)")
    fit.add_argument("--output", help="write a JSON summary of the fit here ('-': stdout)")
    _add_table_options(fit)
    _add_ranker_options(fit)
    _add_common(fit, verbose=True)


def _add_evaluate(command):
    evaluate = command(
        "evaluate", cmd_evaluate, "score architectures with a saved model; metrics if "
        "accuracies given", "Score the architectures of a file with a model saved by 'sknar "
        "fit'. When the file has accuracies, report Kendall tau, Spearman's rho, precision@k, "
        "best rank@k and NDCG@k. Results go to --output as JSON. A model file is a pickle: "
        "load only files you trust.",
    )
    evaluate.add_argument("input", help="table of architectures (accuracies optional)")
    evaluate.add_argument("--model", required=True, help="model file written by 'sknar fit'")
    evaluate.add_argument("--output", default="-", help="JSON results file (default: stdout)")
    evaluate.add_argument("--k", type=positive_int, nargs="+", default=[10, 50],
                          help="cut-offs of the top-k metrics (default: 10 50)")
    _add_table_options(evaluate, recorded=True)
    _add_common(evaluate)


def _add_search(command):
    search = command(
        "search", cmd_search, "budgeted architecture search on a tabular benchmark",
        "Run tier search, random search or regularized evolution against a benchmark oracle "
        "and write the history as JSON.",
    )
    _add_benchmark_options(search, default=None)
    search.add_argument("--strategy", choices=STRATEGIES, default="tier",
                        help="search strategy (default: tier)")
    search.add_argument("--budget", type=positive_int, default=100,
                        help="oracle calls (default: 100)")
    search.add_argument("--output", default="-", help="JSON results file (default: stdout)")
    search.add_argument("--train", choices=("digits", "fashion-mnist"), help="train "
                        "NAS-Bench-201 networks on scikit-learn's digits or on Fashion-MNIST "
                        "(the IDX files in --data, $SKNAR_DATA/fashion-mnist or "
                        "/usr/share/datasets/fashion-mnist) instead of reading a benchmark "
                        "table")
    search.add_argument("--epochs", type=positive_int, help="epochs of each training of "
                        "--train (default: 3)")
    search.add_argument("--low-epochs", type=positive_int, metavar="E", help="multi-fidelity "
                        "tier search: train every candidate for E epochs first and only the "
                        "best quarter for --epochs, and --budget then counts the epochs of that "
                        "many full trainings")
    search.add_argument("--journal", metavar="FILE", help="write every finished evaluation "
                        "here; running again with the same journal resumes the search")
    search.add_argument("--n-jobs", type=n_jobs, metavar="J", help="evaluations at once, "
                        "joblib's n_jobs: -1 every CPU, -2 all but one (default: 1, or every "
                        "worker with --scheduler)")
    search.add_argument("--scheduler", metavar="ADDRESS", help="run the evaluations on the "
                        "dask cluster of this scheduler, e.g. tcp://10.0.0.5:8786 (needs "
                        "dask.distributed)")
    search.add_argument("--objective", action="append", metavar="NAME:max|min",
                        help="search for several objectives together (repeat the flag), e.g. "
                        "--objective accuracy:max --objective params:min; flops and params "
                        "are the space's exact costs, latency is timed on this machine, the "
                        "first measured name is the benchmark's metric")
    search.add_argument("--constraint", action="append", metavar="NAME<=VALUE",
                        help="keep a metric within a bound (repeat the flag), e.g. "
                        "--constraint flops<=1e8; a cost constraint is kept before any query")
    search.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                        help="a failed evaluation stops the search (raise, the default) or "
                        "is recorded and the search goes on (skip)")
    _add_ranker_options(search)
    _add_common(search)


def build_parser():
    """The argument parser of the ``sknar`` command."""
    from sknar._version import __version__

    parser = argparse.ArgumentParser(
        prog="sknar",
        description="Neural Architecture Ranker (NAR): rank and search neural architectures.",
        epilog="Run 'sknar <command> --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"sknar {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)

    def command(name, handler, summary, description):
        sub = commands.add_parser(name, help=summary, description=description)
        sub.set_defaults(handler=handler)
        return sub

    for add in (_add_demo, _add_fit, _add_evaluate, _add_search):
        add(command)
    return parser
