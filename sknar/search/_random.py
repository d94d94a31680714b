"""Random search: uniform draws, the baseline every search must beat."""

from numbers import Integral

from sklearn.utils._param_validation import Interval

from ._base import BaseSearch
from ._uniform import UniformStream, draw_seed

__all__ = ["RandomSearch"]


class RandomSearch(BaseSearch):
    """Evaluate architectures drawn uniformly from the space, each once.

    The queries are the uniform draws of one seed, in order, whatever the batch size: a
    search of ``budget`` queries evaluates ``space.sample(budget, seed)``, where ``seed`` is
    drawn from ``random_state``.

    Parameters
    ----------
    space : SearchSpace
        The space searched.
    batch_size : int, default=10
        Architectures per :meth:`ask`: the evaluations that can run at once. It does not
        change the queries.
    objectives : dict or None, default=None
        ``{name: "max" | "min"}`` searched for together; see :class:`BaseSearch`.
    constraints : dict or None, default=None
        ``{name: (op, bound)}``; see :class:`BaseSearch`.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws; an int gives the same queries on every run.
    verbose : int, default=0
        Show a progress bar over the oracle calls of :meth:`run` when positive.

    Attributes
    ----------
    result_ : SearchResult
        The evaluations of the current search.

    Examples
    --------
    >>> from sknar.search import RandomSearch
    >>> from sknar.spaces import NASBench201Space
    >>> space = NASBench201Space()
    >>> def oracle(arch):  # count of 3x3 convolutions as a toy accuracy
    ...     return float(arch.count("nor_conv_3x3"))
    >>> result = RandomSearch(space, random_state=0).run(oracle, budget=50)
    >>> result.n_queries
    50
    """

    _parameter_constraints = {
        **BaseSearch._parameter_constraints,
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }
    _method = "random search"

    def __init__(
        self,
        space,
        *,
        batch_size=10,
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
        self.batch_size = batch_size

    def _start(self, history):
        self._draws = UniformStream(self.space, draw_seed(history.rng))

    def _propose(self, history, n):
        archs = self._draws.take(min(self.batch_size, n), history.taken)
        return archs if archs else self._exhausted()
