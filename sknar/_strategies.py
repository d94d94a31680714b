"""Searches by strategy name: build a searcher, run it with progress, write its result.

The command line and the benchmark suites build their searchers here, so that a strategy
means the same searcher everywhere.
"""

import inspect

__all__ = [
    "STRATEGIES",
    "benchmark_oracle",
    "make_searcher",
    "nar_pipeline",
    "run_search",
    "search_benchmark",
    "search_summary",
    "sized_for_budget",
]

STRATEGIES = ("tier", "random", "evolution")
# Tier search sized for a budget: a few architectures in each of the sampler's 5 tiers
# first, then rounds of 10 evaluations out of 300 ranked candidates.
MIN_INITIAL = 20
MAX_INITIAL = 50
TIER_SETTINGS = {"n_candidates": 300, "top_k": 10}


def nar_pipeline(space, dataset=None, **ranker_params):
    """``make_pipeline(NARFeatureEncoder(space, dataset), NARRanker(**ranker_params))``."""
    from sklearn.pipeline import make_pipeline

    from .encoding import NARFeatureEncoder
    from .ranker import NARRanker

    return make_pipeline(
        NARFeatureEncoder(space=space, dataset=dataset), NARRanker(**ranker_params)
    )


def make_searcher(
    strategy, space, *, dataset=None, ranker=None, noise=None, random_state=None, **params
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
    sampler = TierSampler(space, dataset=dataset, **({} if noise is None else {"noise": noise}))
    return TierSearch(ranker, sampler, space, random_state=random_state, **params)


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


class _CountingOracle:
    """An oracle that moves a progress bar at each call; everything else is the oracle's."""

    def __init__(self, oracle, bar):
        self._oracle = oracle
        self._bar = bar

    def __call__(self, arch):
        value = self._oracle(arch)
        self._bar.update()
        return value

    def __getattr__(self, name):
        if name.startswith("_"):  # not delegated: keeps copies and pickles from recursing
            raise AttributeError(name)
        return getattr(self._oracle, name)


def run_search(searcher, oracle, budget, *, verbose=0, desc="search", **run_options):
    """``searcher.run(oracle, budget, **run_options)``, with a bar over the oracle calls when
    ``verbose``.

    A searcher whose ``run`` takes ``verbose`` draws its own bar; for the others the calls
    are counted on the way to the oracle.
    """
    if not verbose:
        return searcher.run(oracle, budget, **run_options)
    if "verbose" in inspect.signature(searcher.run).parameters:
        return searcher.run(oracle, budget, verbose=verbose, **run_options)
    from ._progress import progress_bar

    with progress_bar(budget, desc, unit="call") as bar:
        return searcher.run(_CountingOracle(oracle, bar), budget, **run_options)


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
    return run_search(
        searcher, oracle, budget, verbose=verbose, desc=f"{strategy} search", **run_options
    )


def search_summary(result, strategy, budget):
    """A search's result as JSON data: the best architecture, the curve and every query."""
    from .datasets import jsonable_arch

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
