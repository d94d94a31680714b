"""Several objectives and constraints of a search: what is measured, what the space
computes exactly, which evaluations are feasible, and the one scalar order searchers learn.

A search is told its objectives as ``{name: "max" | "min"}`` (None: one value, maximised,
as a single-objective search always was) and its constraints as ``{name: (op, bound)}``
with ``op`` ``"<="`` or ``">="``. A name is either

- a *cost* the space computes exactly, without an oracle call: ``"flops"`` or ``"params"``
  of the whole network (``space.total_cost(arch)``), or ``"flops@<dataset>"`` /
  ``"params@<dataset>"`` for the network of another dataset (e.g. ``"params@cifar100"``);
- or a *measured* metric: the oracle returns a mapping ``{name: number}`` that holds it (an
  oracle returning one number measures the one measured objective, or ``"value"``).
"""

import math
import numbers
from collections.abc import Mapping

import numpy as np

from .._pareto import non_dominated_ranks

__all__ = [
    "COST_METRICS",
    "DEFAULT_OBJECTIVE",
    "Goals",
    "band_tiers",
    "parse_constraint",
    "parse_objective",
]

#: The costs a space computes exactly (``space.total_cost``): objectives with no oracle call.
COST_METRICS = ("flops", "params")
#: The name of the value of a single-objective search (an oracle returning one number).
DEFAULT_OBJECTIVE = "value"
_OPERATORS = ("<=", ">=")


def _cost_parts(name):
    """``(cost, dataset)`` of a cost metric's name, or None for a measured metric."""
    cost, _, dataset = name.partition("@")
    if cost in COST_METRICS:
        return cost, dataset or None
    return None


def parse_objective(text):
    """``(name, direction)`` from ``"name:max"`` or ``"name:min"`` (the command line's form).

    Parameters
    ----------
    text : str
        ``NAME:max`` or ``NAME:min``.

    Returns
    -------
    name : str
    direction : {"max", "min"}

    Examples
    --------
    >>> from sknar.search import parse_objective
    >>> parse_objective("params:min")
    ('params', 'min')
    """
    name, _, direction = str(text).rpartition(":")
    if not name or direction not in ("max", "min"):
        raise ValueError(
            f"an objective is written NAME:max or NAME:min (e.g. accuracy:max, params:min); "
            f"got {text!r}."
        )
    return name, direction


def parse_constraint(text):
    """``(name, (op, bound))`` from ``"name<=bound"`` or ``"name>=bound"``.

    Parameters
    ----------
    text : str
        ``NAME<=VALUE`` or ``NAME>=VALUE``.

    Returns
    -------
    name : str
    rule : tuple of (str, float)
        ``(op, bound)``, the form of a searcher's ``constraints`` values.

    Examples
    --------
    >>> from sknar.search import parse_constraint
    >>> parse_constraint("flops<=1e8")
    ('flops', ('<=', 100000000.0))
    """
    text = str(text)
    for op in _OPERATORS:
        name, found, bound = text.partition(op)
        if found:
            try:
                return name.strip(), (op, float(bound))
            except ValueError:
                break
    raise ValueError(
        f"a constraint is written NAME<=VALUE or NAME>=VALUE (e.g. flops<=1e8, "
        f"latency<=5); got {text!r}."
    )


def _check_objectives(objectives):
    if objectives is None:
        return {DEFAULT_OBJECTIVE: "max"}
    if not isinstance(objectives, Mapping) or not objectives:
        raise ValueError(
            f"objectives must be a non-empty dict {{name: 'max' or 'min'}} or None; got "
            f"{objectives!r}."
        )
    checked = {}
    for name, direction in objectives.items():
        if not isinstance(name, str) or not name or direction not in ("max", "min"):
            raise ValueError(
                f"objectives must map each metric name to 'max' or 'min'; got {name!r}: "
                f"{direction!r}."
            )
        checked[name] = direction
    return checked


def _check_constraints(constraints):
    if constraints is None:
        return []
    if not isinstance(constraints, Mapping):
        raise ValueError(
            f"constraints must be a dict {{name: (op, bound)}} with op '<=' or '>=', or None; "
            f"got {constraints!r}."
        )
    checked = []
    for name, rule in constraints.items():
        try:
            op, bound = rule
        except (TypeError, ValueError):
            op = bound = None
        if (
            not isinstance(name, str)
            or op not in _OPERATORS
            or isinstance(bound, bool)
            or not isinstance(bound, numbers.Real)
            or not math.isfinite(bound)
        ):
            raise ValueError(
                f"constraint {name!r}: {rule!r} is not (op, bound) with op '<=' or '>=' and "
                "a finite bound, e.g. {'flops': ('<=', 1e8)}."
            )
        checked.append((name, op, float(bound)))
    return checked


class Goals:
    """The objectives and constraints of one search on one space (private to the search).

    ``trivial`` is a single-objective search without constraints: its evaluations are
    taken exactly as before objectives existed (the value is the oracle's number).
    """

    def __init__(self, objectives, constraints, space):
        self.given = objectives is not None
        self.objectives = _check_objectives(objectives)
        self.constraints = _check_constraints(constraints)
        self.space = space
        self.names = list(self.objectives)
        self.directions = [self.objectives[name] for name in self.names]
        self.first = self.names[0]
        self.signs = np.array([1.0 if d == "max" else -1.0 for d in self.directions])
        used = self.names + [name for name, _, _ in self.constraints]
        self.costs = [name for name in dict.fromkeys(used) if _cost_parts(name)]
        self.measured = [name for name in self.names if not _cost_parts(name)]
        self.cost_constraints = [c for c in self.constraints if _cost_parts(c[0])]
        self.metric_constraints = [c for c in self.constraints if not _cost_parts(c[0])]
        self.trivial = not self.given and not self.constraints
        self.several = len(self.names) > 1
        # One objective, no constraint: searchers learn the (signed) values themselves.
        self.plain = not self.several and not self.constraints
        self._cost_cache = {}

    # --- exact costs ---------------------------------------------------------------------

    def cost_of(self, arch, names=None):
        """The exact costs ``names`` (default: all this search uses), ``{name: number}``
        (cached by hash)."""
        names = self.costs if names is None else names
        if not names:
            return {}
        key = (self.space.hash(arch), tuple(names))
        cached = self._cost_cache.get(key)
        if cached is None:
            totals = {}
            cached = {}
            for name in names:
                cost, dataset = _cost_parts(name)
                if dataset not in totals:
                    try:
                        totals[dataset] = self.space.total_cost(arch, dataset)
                    except NotImplementedError as exc:
                        raise ValueError(
                            f"the objective or constraint {name!r} is a cost the space "
                            f"computes, but {type(self.space).__name__} cannot ({exc}); let "
                            "the oracle measure it instead, under another name."
                        ) from None
                cached[name] = float(totals[dataset][cost])
            self._cost_cache[key] = cached
        return cached

    def cost_feasible(self, arch):
        """Whether ``arch``'s exact costs keep every cost constraint."""
        if not self.cost_constraints:
            return True
        costs = self.cost_of(arch, [name for name, _, _ in self.cost_constraints])
        return all(_keeps(costs[name], op, bound) for name, op, bound in self.cost_constraints)

    def feasible_archs(self, archs):
        """``(feasible, infeasible)``: ``archs`` split by the cost constraints, in order."""
        if not self.cost_constraints:
            return list(archs), []
        feasible, infeasible = [], []
        for arch in archs:
            (feasible if self.cost_feasible(arch) else infeasible).append(arch)
        return feasible, infeasible

    # --- evaluations ---------------------------------------------------------------------

    def complete(self, outcome):
        """Give an evaluation its value and metrics: the oracle's mapping read, the exact
        costs added, the first objective as the value. A missing objective or constrained
        metric makes it a failure naming what was missing."""
        if not outcome.ok:
            return outcome
        if self.trivial and outcome.value is not None:
            return outcome
        metrics = outcome.metrics
        if outcome.value is not None:
            # One number: the one measured objective's (or the single value's).
            if len(self.measured) != 1:
                measured = ", ".join(map(repr, self.measured)) or "none"
                return _fail(
                    outcome,
                    f"the oracle returned one number ({outcome.value}); a search measuring "
                    f"the objectives {measured} needs a mapping {{name: number}}",
                )
            metrics.setdefault(self.measured[0], outcome.value)
        # Costs the oracle measured itself (a table's column) are kept as measured.
        missing_costs = [name for name in self.costs if metrics.get(name) is None]
        metrics.update(self.cost_of(outcome.arch, missing_costs))
        wanted = self.names + [name for name, _, _ in self.metric_constraints]
        missing = [name for name in dict.fromkeys(wanted) if metrics.get(name) is None]
        if missing:
            got = ", ".join(map(repr, sorted(metrics))) or "nothing"
            return _fail(
                outcome,
                f"the oracle returned no {', '.join(map(repr, missing))} (it returned "
                f"{got})",
            )
        outcome.value = float(metrics[self.first])
        return outcome

    def objective_matrix(self, outcomes):
        """The objectives of each outcome, ``(n, n_objectives)``; NaN rows for failures."""
        rows = [
            [o.metrics.get(name, o.value if name == self.first else None) for name in self.names]
            if o.ok
            else [np.nan] * len(self.names)
            for o in outcomes
        ]
        return np.array(rows, dtype=np.float64).reshape(len(outcomes), len(self.names))

    def violations(self, outcomes):
        """How far each outcome breaks the constraints (0 when feasible), as a sum of
        violations relative to each bound's magnitude; NaN for failures."""
        result = np.zeros(len(outcomes))
        for index, outcome in enumerate(outcomes):
            if not outcome.ok:
                result[index] = np.nan
                continue
            metrics = outcome.metrics
            for name, op, bound in self.constraints:
                value = metrics.get(name)
                if value is None and _cost_parts(name):
                    value = self.cost_of(outcome.arch, [name])[name]
                if value is None:
                    continue
                excess = value - bound if op == "<=" else bound - value
                if excess > 0:
                    result[index] += excess / max(abs(bound), 1e-12)
        return result

    def feasible(self, outcomes):
        """Successful outcomes that keep every constraint."""
        if not self.constraints:
            return np.array([o.ok for o in outcomes], dtype=bool)
        return self.violations(outcomes) == 0

    def scores(self, outcomes):
        """One scalar per successful outcome, higher is better, that searchers learn from.

        Single objective, no constraint: the values themselves (negated when minimised).
        Otherwise the order of NSGA-II with constraint domination: feasible before
        infeasible; among the feasible, minus the non-dominated rank, plus within a band
        half the crowding distance scaled to [0, 1] (the band's ends get 0.5, so a band
        stays above the next one); among the infeasible, below every feasible one, by how
        much they violate.
        """
        successes = [o for o in outcomes if o.ok]
        values = np.array([o.value for o in successes], dtype=np.float64)
        if self.plain:
            return values * self.signs[0]
        scores, _ = self._order(successes)
        return scores

    def bands(self, outcomes):
        """The band (non-dominated rank, infeasible ones after every feasible band) of each
        successful outcome; None for a single-objective search without constraints."""
        if self.plain:
            return None
        _, bands = self._order([o for o in outcomes if o.ok])
        return bands

    def _order(self, successes):
        n = len(successes)
        scores = np.zeros(n)
        bands = np.zeros(n, dtype=np.int64)
        if not n:
            return scores, bands
        violation = self.violations(successes)
        feasible = violation == 0
        points = self.objective_matrix(successes)
        n_bands = 0
        if feasible.any():
            chosen = points[feasible]
            ranks = non_dominated_ranks(chosen, self.directions)
            crowding = _crowding(chosen * self.signs, ranks)
            scores[feasible] = -ranks + 0.5 * crowding
            bands[feasible] = ranks
            n_bands = int(ranks.max()) + 1
        if (~feasible).any():
            worst = violation[~feasible]
            scale = worst.max() if worst.max() > 0 else 1.0
            scores[~feasible] = -n_bands - 1.0 - worst / scale
            # Infeasible ones fall into bands after the feasible ones, least violating first.
            order = np.argsort(np.argsort(worst, kind="stable"), kind="stable")
            bands[~feasible] = n_bands + order * 3 // max(len(worst), 1)
        return scores, bands


def _keeps(value, op, bound):
    return value <= bound if op == "<=" else value >= bound


def _fail(outcome, message):
    outcome.value = None
    outcome.error = f"ValueError: {message}"
    return outcome


def _crowding(gains, ranks):
    """NSGA-II's crowding distance within each band, scaled to [0, 1] (ends: 1)."""
    crowding = np.zeros(len(gains))
    span = gains.max(axis=0) - gains.min(axis=0)
    span[span == 0] = 1.0
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        if len(members) <= 2:
            crowding[members] = 1.0
            continue
        distance = np.zeros(len(members))
        for column in range(gains.shape[1]):
            order = np.argsort(gains[members, column], kind="stable")
            sorted_values = gains[members[order], column]
            distance[order[0]] = distance[order[-1]] = np.inf
            distance[order[1:-1]] += (sorted_values[2:] - sorted_values[:-2]) / span[column]
        finite = np.isfinite(distance)
        top = distance[finite].max() if finite.any() else 0.0
        distance[finite] = distance[finite] / top if top > 0 else 0.0
        distance[~finite] = 1.0
        crowding[members] = distance
    return crowding


def band_tiers(bands, n_tiers):
    """Quality tiers from bands of non-dominated rank: whole bands, best first, grouped so
    that each tier holds about ``len(bands) / n_tiers`` architectures (a band is never split:
    the first tier is the first band and the bands after it until the tier is full).

    Examples
    --------
    >>> from sknar.search._objectives import band_tiers
    >>> band_tiers([0, 0, 1, 2, 2, 3, 4, 5], n_tiers=4).tolist()
    [0, 0, 1, 1, 1, 2, 3, 3]
    """
    bands = np.asarray(bands, dtype=np.int64)
    target = len(bands) / n_tiers
    tiers = np.zeros(len(bands), dtype=np.int64)
    tier, filled = 0, 0
    for band in np.unique(bands):
        members = bands == band
        if filled >= target * (tier + 1) - 1e-9 and tier < n_tiers - 1:
            tier += 1
        tiers[members] = tier
        filled += int(members.sum())
    return tiers
