"""A start-up chosen by knowledge that costs no training: a prior ranks a uniform pool."""

import numpy as np

from ._uniform import distinct_uniform

__all__ = ["PriorStartup", "prior_scores"]


def prior_scores(prior, archs):
    """Scores of ``archs`` by ``prior`` (higher = more promising), float64 of shape (n,).

    ``prior`` is a callable ``prior(archs) -> scores`` or a transformer (e.g.
    :class:`~sknar.proxies.ZeroCostScorer`) whose first column of ``transform(archs)`` is
    the score; an unfitted one is fitted with ``fit()`` first (it is not cloned, so that its
    cache of scores serves every search that shares it).
    """
    if hasattr(prior, "transform"):
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(prior)
        except NotFittedError:
            prior.fit()
        columns = np.asarray(prior.transform(archs), dtype=np.float64)
        scores = columns[:, 0] if columns.ndim == 2 else columns
    elif callable(prior):
        scores = np.asarray(prior(archs), dtype=np.float64)
    else:
        raise TypeError(
            "initial_prior must be a callable prior(archs) -> scores or a transformer with "
            f"transform(archs); got {type(prior).__name__}."
        )
    scores = scores.ravel()
    if scores.shape != (len(archs),):
        raise ValueError(
            f"initial_prior returned {scores.shape[0]} score(s) for {len(archs)} "
            "architectures; it must return one per architecture."
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError(
            f"initial_prior returned {int(np.sum(~np.isfinite(scores)))} non-finite "
            "score(s); it must return a finite score per architecture."
        )
    return scores


class PriorStartup:
    """The start-up queries of one search: the best of a uniform pool by a prior's scores.

    The pool of ``pool_size`` distinct new architectures is drawn and scored once, at the
    first request; each request then gives the best-scored ones not yet taken, at most one
    architecture per network of the space (isomorphic twins score alike and would teach the
    ranker nothing new). Failed evaluations are replaced by the next in the order; when the
    pool runs out, uniform draws fill in.
    """

    def __init__(self, space, prior, pool_size):
        self.space = space
        self.prior = prior
        self.pool_size = pool_size
        self.order_ = None

    def next(self, history, n):
        if self.order_ is None:
            self.order_ = self._ranked_pool(history)
        picks, taken = [], set(history.taken)
        while self.order_ and len(picks) < n:
            arch = self.order_.pop(0)
            if self.space.hash(arch) not in taken:
                picks.append(arch)
        if len(picks) < n:
            blocked = taken | {self.space.hash(arch) for arch in picks}
            picks += distinct_uniform(
                self.space, n - len(picks), blocked, history.rng, allow_fewer=True
            )
        return picks

    def _ranked_pool(self, history):
        n_left = history.n_left
        size = self.pool_size if n_left is None else min(self.pool_size, n_left)
        pool = distinct_uniform(self.space, size, history.taken, history.rng, allow_fewer=True)
        if not pool:
            return []
        scores = prior_scores(self.prior, pool)
        networks = [self.space.hash(arch) for arch in self.space.representatives(pool)]
        ranked, seen = [], set()
        for index in np.argsort(-scores, kind="stable"):
            if networks[index] not in seen:
                seen.add(networks[index])
                ranked.append(pool[index])
        return ranked
