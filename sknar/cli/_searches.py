"""The searches of ``sknar search`` and ``sknar demo``: sized for a budget, run, summarised.

The searchers come from :func:`sknar.search.make_searcher`, the benchmark's oracle from
:func:`sknar.datasets.benchmark_oracle`; what is here is the command line's choice of sizes
and its JSON summary.
"""

__all__ = [
    "objectives_summary",
    "search_benchmark",
    "search_digits",
    "search_summary",
    "search_training",
    "sized_for_budget",
]

# Tier search sized for a budget: a few architectures in each of the sampler's 5 tiers
# first, then rounds of 10 evaluations out of 300 ranked candidates.
MIN_INITIAL = 20
MAX_INITIAL = 50
TIER_SETTINGS = {"n_candidates": 300, "top_k": 10}
# Searches that train networks have budgets of tens of trainings: three tiers of a few
# architectures, rounds of five. The networks are small (8 channels, one cell per stage).
TRAINING_TIER_SETTINGS = {"n_candidates": 300, "top_k": 5, "n_tiers": 3}
TRAINING_MIN_INITIAL = 10
DIGITS_NETWORK = {"C": 8, "N": 1}
# Fashion-MNIST: the same small network; a few thousand images keep a training to seconds
# per epoch on a CPU core (about 1 s for a cell of skips, 7 s for one of 3x3 convolutions
# on 2,000 images).
FASHION_NETWORK = {"C": 8, "N": 1}
FASHION_SIZES = {"n_train": 2000, "n_validation": 500, "n_test": 2000}
# Multi-fidelity: every candidate trained briefly, the best quarter of each batch fully.
MULTI_FIDELITY_SETTINGS = {"eta": 4, "n_candidates": 300, "n_tiers": 3}


def sized_for_budget(strategy, budget, *, min_initial=MIN_INITIAL):
    """Tier search's ``n_initial`` for ``budget`` oracle calls (None for other strategies).

    Raises
    ------
    ValueError
        When the budget is too small for tier search's initial evaluations.
    """
    if strategy != "tier":
        return None
    n_initial = max(min_initial, min(MAX_INITIAL, budget // 3))
    if budget <= n_initial:
        raise ValueError(
            f"--budget {budget} is too small for tier search; give at least {min_initial + 1}"
        )
    return n_initial


def _run(searcher, oracle, budget, *, verbose=0, **run_options):
    """``searcher.run(...)``, with a bar over the oracle calls (and the library's notes, such
    as what a journal resumed) on stderr when ``verbose``."""
    return searcher.set_params(verbose=verbose).run(oracle, budget, **run_options)


def search_benchmark(
    data, strategy, budget, *, random_state=None, ranker_params=None, verbose=0,
    objectives=None, constraints=None, **run_options
):
    """Search a benchmark table with ``strategy``, sized for ``budget``.

    Parameters
    ----------
    data : Bunch
        A benchmark from :func:`~sknar.datasets.load_benchmark`.
    strategy : {"tier", "random", "evolution"}
    budget : int
        Oracle calls.
    random_state : int or None, default=None
        Seeds the searcher and tier search's NAR ranker.
    ranker_params : dict, default=None
        Further :class:`~sknar.ranker.NARRanker` parameters of tier search.
    verbose : int, default=0
        Show a bar over the oracle calls when positive.
    objectives, constraints : dict or None, default=None
        The searcher's objectives and constraints; with either, the oracle is a
        :meth:`~sknar.oracles.MetricsOracle.from_benchmark` of the metrics named.
    **run_options
        Passed to the searcher's ``run``.

    Returns
    -------
    result : SearchResult
    """
    from sknar.datasets import benchmark_oracle
    from sknar.search import make_searcher

    n_initial = sized_for_budget(strategy, budget)
    space, dataset = data["search_space"], data["cost_dataset"]
    settings = {}
    if strategy == "tier":
        from sknar.ranker import make_nar_pipeline

        params = {"random_state": random_state, **(ranker_params or {})}
        settings = {"n_initial": n_initial, **TIER_SETTINGS,
                    "ranker": make_nar_pipeline(space, dataset=dataset, **params)}
    searcher = make_searcher(strategy, space, dataset=dataset, random_state=random_state,
                             objectives=objectives, constraints=constraints, **settings)
    oracle = benchmark_oracle(data)
    if objectives is not None or constraints is not None:
        from sknar.oracles import MetricsOracle
        from sknar.search import COST_METRICS

        names = [*(objectives or {}), *(constraints or {})]
        measured = [name for name in names if name.partition("@")[0] not in COST_METRICS
                    and name != "latency" and name not in data]
        oracle = MetricsOracle.from_benchmark(data, names, first=(measured or ["value"])[0])
    return _run(searcher, oracle, budget, verbose=verbose, **run_options)


def search_digits(strategy, budget, *, epochs=3, device="cpu", random_state=0,
                  ranker_params=None, verbose=0, objectives=None, constraints=None,
                  **run_options):
    """A search that trains NAS-Bench-201 networks on scikit-learn's digits for real
    (:func:`search_training` with ``"digits"``)."""
    return search_training("digits", strategy, budget, epochs=epochs, device=device,
                           random_state=random_state, ranker_params=ranker_params,
                           verbose=verbose, objectives=objectives, constraints=constraints,
                           **run_options)


def _training_splits(dataset, data, random_state):
    if dataset == "digits":
        from sknar.oracles import load_digits_split

        return load_digits_split(random_state=random_state), DIGITS_NETWORK
    from sknar.datasets import load_fashion_mnist

    splits = load_fashion_mnist(directory=data, random_state=random_state or 0,
                                **FASHION_SIZES)
    return splits, FASHION_NETWORK


def search_training(dataset, strategy, budget, *, epochs=3, low_epochs=None, data=None,
                    device="cpu", random_state=0, ranker_params=None, verbose=0,
                    objectives=None, constraints=None, **run_options):
    """A search that trains NAS-Bench-201 networks for real, on digits or Fashion-MNIST.

    Each queried cell becomes a small NAS-Bench-201 network that a
    :class:`~sknar.oracles.TrainingOracle` trains for ``epochs`` on the training split
    (scikit-learn's digits, or :data:`FASHION_SIZES` images of Fashion-MNIST read from the
    folder ``data`` or the default places) and scores on its validation split. The best cell
    is trained once more and scored on the held-out test split.

    With ``low_epochs`` (tier search only), a
    :class:`~sknar.search.MultiFidelityTierSearch` trains every candidate for
    ``low_epochs`` and the best quarter of each batch for ``epochs``; ``budget`` then counts
    the epochs of ``budget`` full trainings.

    Returns
    -------
    result : SearchResult
    test_accuracy : float or None
        Held-out accuracy of the best cell (None when no training succeeded).
    """
    from sknar.oracles import TrainingOracle
    from sknar.sampler import TierSampler
    from sknar.search import make_searcher
    from sknar.spaces import NASBench201Space

    space = NASBench201Space()
    splits, network = _training_splits(dataset, data, random_state)
    oracle = TrainingOracle(space, splits.train, splits.validation, network_params=network,
                            epochs=epochs, device=device, random_state=random_state)
    ranker = None
    if strategy == "tier":
        from sknar.ranker import make_nar_pipeline

        n_tiers = TRAINING_TIER_SETTINGS["n_tiers"]
        ranker = make_nar_pipeline(space, **{"random_state": random_state, "n_tiers": n_tiers,
                                             **(ranker_params or {})})
    if low_epochs is not None:
        if objectives is not None or constraints is not None:
            raise ValueError("multi-fidelity search (--low-epochs) optimises the validation "
                             "accuracy alone: drop --objective and --constraint")
        result = _multi_fidelity(space, oracle, ranker, budget, low_epochs, epochs,
                                 random_state, run_options)
    else:
        settings = {}
        if strategy == "tier":
            n_initial = sized_for_budget(strategy, budget, min_initial=TRAINING_MIN_INITIAL)
            settings = {"n_initial": n_initial, **TRAINING_TIER_SETTINGS, "ranker": ranker,
                        "sampler": TierSampler(space, min_tier_size=2)}
        searcher = make_searcher(strategy, space, random_state=random_state,
                                 objectives=objectives, constraints=constraints, **settings)
        result = _run(searcher, oracle, budget, verbose=verbose, **run_options)
    if not result.n_queries or result.n_failed == result.n_queries:
        return result, None
    return result, oracle.score(oracle.train_network(result.best_arch), splits.test)


def _multi_fidelity(space, oracle, ranker, budget, low_epochs, epochs, random_state,
                    run_options):
    from sknar.sampler import TierSampler
    from sknar.search import MultiFidelityTierSearch

    n_jobs = run_options.pop("n_jobs", None)
    if n_jobs not in (None, 1):
        raise ValueError(f"--n-jobs {n_jobs}: multi-fidelity search (--low-epochs) trains one "
                         "network at a time")
    n_initial = min(32, max(8, budget))
    searcher = MultiFidelityTierSearch(
        space, fidelities=(low_epochs, epochs), ranker=ranker,
        sampler=TierSampler(space, min_tier_size=2), n_initial=n_initial,
        batch_size=max(4, n_initial // 2), random_state=random_state,
        **MULTI_FIDELITY_SETTINGS)
    return searcher.run(oracle, budget * epochs, **run_options)


def search_summary(result, strategy, budget):
    """A search's result as JSON data: the best architecture, the curve and every query.

    A failed query has no value (null) and keeps its error message.
    """
    from sknar.datasets import jsonable_arch

    succeeded = result.n_queries > result.n_failed
    errors = result.errors or [None] * result.n_queries
    return {
        "strategy": strategy,
        "budget": budget,
        "n_queries": result.n_queries,
        "n_failed": result.n_failed,
        "stop_reason": result.stop_reason,
        "best_arch": jsonable_arch(result.best_arch) if succeeded else None,
        "best_value": result.best_value if succeeded else None,
        "best_report_value": result.best_report_value if succeeded else None,
        "wall_seconds": round(result.wall_time, 3),
        "best_so_far": [_finite_or_none(value) for value in result.best_so_far],
        "history": [
            {"arch": jsonable_arch(arch), "value": _finite_or_none(value),
             **({"error": error} if error is not None else {})}
            for arch, value, error in zip(result.archs, result.values, errors)
        ],
    }


def objectives_summary(result, objectives, constraints):
    """The objectives, constraints and Pareto front of a search as JSON data."""
    from sknar.datasets import jsonable_arch

    front = result.pareto_front()
    return {
        "objectives": objectives,
        "constraints": {name: list(rule) for name, rule in (constraints or {}).items()},
        "pareto_front": [
            {"query": query, "arch": jsonable_arch(arch),
             **{name: float(value) for name, value in zip(front.objectives, point)}}
            for query, arch, point in zip(front.queries, front.archs, front.points)
        ],
        "metrics": [dict(metrics) for metrics in result.metrics],
    }


def _finite_or_none(value):
    value = float(value)
    return value if value == value else None
