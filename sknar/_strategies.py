"""Searches by strategy name: build a searcher, run it with progress, write its result.

The command line and the benchmark suites build their searchers here, so that a strategy
means the same searcher everywhere.
"""


__all__ = [
    "STRATEGIES",
    "benchmark_oracle",
    "make_searcher",
    "nar_pipeline",
    "run_search",
    "search_benchmark",
    "search_digits",
    "search_summary",
    "sized_for_budget",
]

STRATEGIES = ("tier", "random", "evolution")
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


def nar_pipeline(space, dataset=None, **ranker_params):
    """``make_pipeline(NARFeatureEncoder(space, dataset), NARRanker(**ranker_params))``."""
    from sklearn.pipeline import make_pipeline

    from .encoding import NARFeatureEncoder
    from .ranker import NARRanker

    return make_pipeline(
        NARFeatureEncoder(space=space, dataset=dataset), NARRanker(**ranker_params)
    )


def make_searcher(
    strategy, space, *, dataset=None, ranker=None, sampler=None, noise=None, random_state=None,
    **params
):
    """A searcher of ``strategy`` on ``space``.

    Parameters
    ----------
    strategy : {"tier", "random", "evolution"}
        :class:`~sknar.search.TierSearch`, :class:`~sknar.search.RandomSearch` or
        :class:`~sknar.search.RegularizedEvolution`.
    space : SearchSpace
        The space the search draws from.
    dataset : str, default=None
        The cost dataset of the NAR encoder and the tier sampler (tier search).
    ranker : estimator, default=None
        Tier search's ranker; None takes :func:`nar_pipeline` with ``random_state``.
    sampler : TierSampler, default=None
        Tier search's sampler; None takes ``TierSampler(space, dataset=dataset)``.
    noise : float, default=None
        The tier sampler's share of uniform candidates; None keeps its default.
    random_state : int, RandomState instance or None, default=None
    **params
        Further parameters of the searcher (e.g. ``n_initial``, ``population_size``).

    Returns
    -------
    searcher : RandomSearch, RegularizedEvolution or TierSearch
    """
    from .search import RandomSearch, RegularizedEvolution, TierSearch

    if strategy == "random":
        return RandomSearch(space, random_state=random_state, **params)
    if strategy == "evolution":
        return RegularizedEvolution(space, random_state=random_state, **params)
    if strategy != "tier":
        raise ValueError(f"unknown search strategy {strategy!r}; expected one of {STRATEGIES}")
    from .sampler import TierSampler

    if ranker is None:
        ranker = nar_pipeline(space, dataset, random_state=random_state)
    if sampler is None:
        sampler = TierSampler(space, dataset=dataset)
    if noise is not None:
        sampler = sampler.set_params(noise=noise)
    return TierSearch(space, ranker=ranker, sampler=sampler, random_state=random_state, **params)


def sized_for_budget(strategy, budget):
    """The searcher parameters the command line uses for ``budget`` oracle calls.

    Raises
    ------
    ValueError
        When the budget is too small for tier search's initial evaluations.
    """
    if strategy != "tier":
        return {}
    n_initial = max(MIN_INITIAL, min(MAX_INITIAL, budget // 3))
    if budget <= n_initial:
        raise ValueError(
            f"--budget {budget} is too small for tier search; give at least {MIN_INITIAL + 1}"
        )
    return {"n_initial": n_initial, **TIER_SETTINGS}


def run_search(searcher, oracle, budget, *, verbose=0, **run_options):
    """``searcher.run(oracle, budget, **run_options)``, with a bar over the oracle calls when
    ``verbose``."""
    return searcher.set_params(verbose=verbose).run(oracle, budget, **run_options)


def benchmark_oracle(data):
    """The table oracle of a :func:`~sknar.datasets.load_benchmark` Bunch.

    It returns ``data.y`` (the selection metric) and reports ``data.y_report`` beside it.
    """
    from .oracles import TabularOracle

    return TabularOracle(data["archs"], data["y"], data["y_report"], space=data["space"])


def search_benchmark(
    data, strategy, budget, *, random_state=None, ranker_params=None, verbose=0, **run_options
):
    """Search a benchmark table with ``strategy``, sized for ``budget`` as the command line is.

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
    **run_options
        Passed to the searcher's ``run``.

    Returns
    -------
    result : SearchResult
    """
    settings = sized_for_budget(strategy, budget)
    space, dataset = data["search_space"], data["cost_dataset"]
    ranker = None
    if strategy == "tier":
        params = {"random_state": random_state, **(ranker_params or {})}
        ranker = nar_pipeline(space, dataset, **params)
    searcher = make_searcher(
        strategy, space, dataset=dataset, ranker=ranker, random_state=random_state, **settings
    )
    oracle = benchmark_oracle(data)
    return run_search(searcher, oracle, budget, verbose=verbose, **run_options)


def search_digits(strategy, budget, *, epochs=3, device="cpu", random_state=0,
                  ranker_params=None, verbose=0, **run_options):
    """A search that trains NAS-Bench-201 networks on scikit-learn's digits for real.

    Each queried cell becomes a small NAS-Bench-201 network (:data:`DIGITS_NETWORK`) that a
    :class:`~sknar.oracles.TrainingOracle` trains for ``epochs`` on the training split of
    :func:`~sknar.oracles.load_digits_split` and scores on its validation split. The best
    cell is trained once more and scored on the held-out test split.

    Returns
    -------
    result : SearchResult
    test_accuracy : float or None
        Held-out accuracy of the best cell (None when no training succeeded).
    """
    from .oracles import TrainingOracle, load_digits_split
    from .sampler import TierSampler
    from .spaces import NASBench201Space

    space = NASBench201Space()
    digits = load_digits_split(random_state=random_state)
    oracle = TrainingOracle(space, digits.train, digits.validation, network_params=DIGITS_NETWORK,
                            epochs=epochs, device=device, random_state=random_state)
    settings = {}
    if strategy == "tier":
        n_initial = max(TRAINING_MIN_INITIAL, min(MAX_INITIAL, budget // 3))
        if budget <= n_initial:
            raise ValueError(f"--budget {budget} is too small for tier search; give at least "
                             f"{TRAINING_MIN_INITIAL + 1}")
        n_tiers = TRAINING_TIER_SETTINGS["n_tiers"]
        ranker = nar_pipeline(space, **{"random_state": random_state, "n_tiers": n_tiers,
                                        **(ranker_params or {})})
        settings = {"n_initial": n_initial, **TRAINING_TIER_SETTINGS, "ranker": ranker,
                    "sampler": TierSampler(space, min_tier_size=2)}
    searcher = make_searcher(strategy, space, random_state=random_state, **settings)
    result = run_search(searcher, oracle, budget, verbose=verbose, **run_options)
    if not result.n_queries or result.n_failed == result.n_queries:
        return result, None
    return result, oracle.evaluate(oracle.train_network(result.best_arch), digits.test)


def search_summary(result, strategy, budget):
    """A search's result as JSON data: the best architecture, the curve and every query.

    A failed query has no value (null) and keeps its error message.
    """
    from .datasets import jsonable_arch

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


def _finite_or_none(value):
    value = float(value)
    return value if value == value else None
