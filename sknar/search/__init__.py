"""Budgeted architecture search against an oracle.

Three searchers share one base class, :class:`BaseSearch`, and one API:

- ``searcher.ask()`` returns the next batch of architectures to evaluate and
  ``searcher.tell(archs, values)`` records their values (any order, partial batches,
  failures), so any scheduler can drive a search;
- ``searcher.open_journal(path)`` gives the search its journal: every evaluation told is
  appended as it arrives, and reopening it tells the recorded evaluations back (the search
  resumes, nothing is evaluated twice);
- ``searcher.run(oracle, budget, n_jobs=None, journal=None, on_error="raise")`` loops over
  ask and tell with an oracle, any callable ``oracle(arch) -> float`` (higher is better):
  evaluations run in local processes (loky) or on a dask cluster, the next one starting as
  soon as a worker is free, and a failed evaluation either stops the search with its partial
  result or is recorded and skipped.

A new searcher subclasses :class:`BaseSearch` and proposes architectures from a read-only
:class:`SearchHistory`; :class:`SearchWarning` is the category of every warning a search
gives.

The searchers:

- :class:`TierSearch`: NAR's search. A ranker fitted on the evaluated architectures scores
  candidates drawn by a :class:`~sknar.sampler.TierSampler` fitted on their quality tiers;
  only the best-ranked few are evaluated.
- :class:`MultiFidelityTierSearch`: tier search whose candidates are trained briefly
  first, only the best promoted to full training (successive halving); its budget is in
  training epochs and :meth:`~MultiFidelityTierSearch.ask` returns
  :class:`FidelityQuery` pairs ``(arch, epochs)``.
- :class:`RandomSearch`: uniform draws, the baseline every search must beat.
- :class:`RegularizedEvolution`: aging evolution (Real et al., 2019) with mutations on the
  space.

Every searcher takes ``objectives`` (several metrics, maximised or minimised together; the
space's exact ``"flops"`` and ``"params"`` cost no oracle call) and ``constraints`` (a cost
constraint is kept before any query, a measured one is learnt from); the result gives the
Pareto front found and its hypervolume.

No searcher evaluates an architecture twice, and none reads anything but the values the
oracle returns: an oracle's ``report(arch)`` value (e.g. the test accuracy of a benchmark
table) is only recorded in the history.
"""

from ._base import BaseSearch
from ._evolution import RegularizedEvolution
from ._factory import SEARCH_STRATEGIES, make_searcher
from ._history import SearchHistory, SearchWarning
from ._journal import read_journal
from ._multifidelity import FidelityQuery, MultiFidelityResult, MultiFidelityTierSearch
from ._objectives import COST_METRICS, parse_constraint, parse_objective
from ._random import RandomSearch
from ._result import EvaluationError, SearchResult
from ._tier import TierSearch

__all__ = [
    "COST_METRICS",
    "SEARCH_STRATEGIES",
    "BaseSearch",
    "EvaluationError",
    "FidelityQuery",
    "MultiFidelityResult",
    "MultiFidelityTierSearch",
    "RandomSearch",
    "RegularizedEvolution",
    "SearchHistory",
    "SearchResult",
    "SearchWarning",
    "TierSearch",
    "make_searcher",
    "parse_constraint",
    "parse_objective",
    "read_journal",
]
