"""Regularized (aging) evolution on a search space."""

from collections import deque
from numbers import Integral

from sklearn.utils._param_validation import Interval

from ._base import BaseSearch
from ._uniform import distinct_uniform

__all__ = ["RegularizedEvolution"]


class RegularizedEvolution(BaseSearch):
    """Aging evolution (Real et al., 2019) on a search space.

    A population of ``population_size`` uniform architectures is evaluated; then, until the
    budget is spent, ``sample_size`` members are drawn at random, the best of them is
    mutated (the space's :meth:`~sknar.spaces.SearchSpace.mutate`) into a child that was
    never evaluated, the child is evaluated and joins the population, and the oldest member
    dies.

    :meth:`ask` returns the initial population first, then ``batch_size`` children, each
    from the population as told so far: with ``batch_size=1`` every child sees the value
    of the one before (the sequential algorithm); a larger batch lets that many children
    train at once, as in the asynchronous evolution of the paper (``run``'s asynchronous
    schedule breeds a child whenever a worker is free). Failed evaluations never join the
    population: failed initial members are replaced by new uniform architectures until
    ``population_size`` have a value.

    Parameters
    ----------
    space : SearchSpace
        The space searched; it must implement ``mutate``.
    population_size : int, default=10
        Members of the population.
    sample_size : int, default=3
        Members drawn to pick each parent (at most ``population_size``).
    batch_size : int, default=1
        Children per :meth:`ask` after the initial population.
    objectives : dict or None, default=None
        ``{name: "max" | "min"}`` searched for together; see :class:`BaseSearch`.
    constraints : dict or None, default=None
        ``{name: (op, bound)}``; see :class:`BaseSearch`.
    random_state : int, RandomState instance or None, default=None
        Seeds the search; an int gives the same queries on every run.
    verbose : int, default=0
        Show a progress bar over the oracle calls of :meth:`run` when positive.

    Attributes
    ----------
    population_ : collections.deque of (architecture, float)
        The current population with the values, oldest first.
    result_ : SearchResult
        The evaluations of the current search.

    Examples
    --------
    >>> from sknar.search import RegularizedEvolution
    >>> from sknar.spaces import NASBench201Space
    >>> space = NASBench201Space()
    >>> def oracle(arch):
    ...     return float(arch.count("nor_conv_3x3"))
    >>> result = RegularizedEvolution(space, random_state=0).run(oracle, budget=60)
    >>> result.n_queries
    60
    """

    _parameter_constraints = {
        **BaseSearch._parameter_constraints,
        "population_size": [Interval(Integral, 1, None, closed="left")],
        "sample_size": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }
    _method = "regularized evolution"

    def __init__(
        self,
        space,
        *,
        population_size=10,
        sample_size=3,
        batch_size=1,
        objectives=None,
        constraints=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            space,
            objectives=objectives,
            constraints=constraints,
            random_state=random_state,
            verbose=verbose,
        )
        self.population_size = population_size
        self.sample_size = sample_size
        self.batch_size = batch_size

    def _check_params(self, budget):
        if self.sample_size > self.population_size:
            raise ValueError(
                f"sample_size ({self.sample_size}) must not exceed population_size "
                f"({self.population_size})."
            )

    def _n_startup(self):
        return self.population_size

    def _start(self, history):
        self.population_ = deque()

    def _observe(self, history, outcomes):
        for outcome in outcomes:
            if outcome.ok:
                self.population_.append((outcome.arch, outcome.value))
                if len(self.population_) > self.population_size:
                    self.population_.popleft()

    def _propose(self, history, n):
        if history.success_bands is not None:
            # Several objectives or constraints: members compare by their current scores.
            score = dict(zip(map(self.space.hash, history.success_archs),
                             history.success_scores))
            self.population_ = deque(
                (arch, score[self.space.hash(arch)]) for arch, _ in self.population_
            )
        children, keys = [], set()
        for _ in range(min(self.batch_size, n)):
            taken = history.taken | keys if keys else history.taken
            child = self._new_child(history, self._pick_parent(history.rng), taken)
            if child is None:
                break
            children.append(child)
            keys.add(self.space.hash(child))
        return children if children else self._exhausted()

    def _pick_parent(self, rng):
        sample_size = min(self.sample_size, len(self.population_))
        contenders = rng.choice(len(self.population_), size=sample_size, replace=False)
        return max((self.population_[i] for i in contenders), key=lambda member: member[1])[0]

    def _new_child(self, history, parent, taken, max_tries=50):
        rng = history.rng
        for _ in range(max_tries):
            child = self.space.mutate(parent, rng)
            if self.space.hash(child) not in taken:
                return child
        # Every nearby mutant has been evaluated: jump to a new uniform architecture.
        draws = distinct_uniform(self.space, 1, taken, rng, allow_fewer=True)
        if not draws:
            self._exhausted(message=f"the space {self.space.name} supplied no new "
                            "architecture. The search ends.")
            return None
        return draws[0]
