"""Searchers by strategy name, so that a strategy means the same searcher everywhere."""

__all__ = ["SEARCH_STRATEGIES", "make_searcher"]

#: The strategy names :func:`make_searcher` takes.
SEARCH_STRATEGIES = ("tier", "random", "evolution")


def make_searcher(
    strategy, space, *, dataset=None, ranker=None, sampler=None, noise=None, random_state=None,
    **params
):
    """A searcher of ``strategy`` on ``space``.

    Parameters
    ----------
    strategy : {"tier", "random", "evolution"}
        :class:`TierSearch`, :class:`RandomSearch` or :class:`RegularizedEvolution`.
    space : SearchSpace
        The space the search draws from.
    dataset : str, default=None
        The cost dataset of tier search's NAR encoder and tier sampler (other strategies
        have no use for it).
    ranker : estimator, default=None
        Tier search's ranker; None takes
        ``make_nar_pipeline(space, dataset=dataset, random_state=random_state)``.
    sampler : TierSampler, default=None
        Tier search's sampler; None takes ``TierSampler(space, dataset=dataset)``.
    noise : float, default=None
        The tier sampler's share of uniform candidates; None keeps the sampler's. A given
        ``sampler`` is cloned, not changed.
    random_state : int, RandomState instance or None, default=None
        Seeds the searcher (and the default ranker).
    **params
        Further parameters of the searcher (``n_initial``, ``population_size``, ...).

    Returns
    -------
    searcher : TierSearch, RandomSearch or RegularizedEvolution

    Raises
    ------
    ValueError
        For an unknown strategy, or a ranker, sampler or noise given to another strategy.

    Examples
    --------
    >>> from sknar.search import make_searcher
    >>> from sknar.spaces import NASBench201Space
    >>> searcher = make_searcher("evolution", NASBench201Space(), population_size=10,
    ...                          random_state=0)
    >>> type(searcher).__name__, searcher.population_size
    ('RegularizedEvolution', 10)
    >>> make_searcher("tier", NASBench201Space(), noise=0.5).sampler.noise
    0.5
    """
    from ._evolution import RegularizedEvolution
    from ._random import RandomSearch
    from ._tier import TierSearch

    if strategy not in SEARCH_STRATEGIES:
        raise ValueError(
            f"unknown search strategy {strategy!r}; expected one of {list(SEARCH_STRATEGIES)}"
        )
    if strategy != "tier":
        given = [name for name, value in (("ranker", ranker), ("sampler", sampler),
                                          ("noise", noise)) if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: only tier search has a ranker and a sampler, "
                             f"not strategy={strategy!r}")
        searcher_class = RandomSearch if strategy == "random" else RegularizedEvolution
        return searcher_class(space, random_state=random_state, **params)
    from sklearn.base import clone

    from ..ranker import make_nar_pipeline
    from ..sampler import TierSampler

    if ranker is None:
        ranker = make_nar_pipeline(space, dataset=dataset, random_state=random_state)
    sampler = TierSampler(space, dataset=dataset) if sampler is None else clone(sampler)
    if noise is not None:
        sampler.set_params(noise=noise)
    return TierSearch(space, ranker=ranker, sampler=sampler, random_state=random_state, **params)
