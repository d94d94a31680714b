"""Searches with several objectives and constraints: exact costs, the Pareto front,
constraints kept before any query or learnt from, the journal, ask/tell, tier bands."""

import hashlib
import json

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sknar.metrics import hypervolume, non_dominated_ranks, pareto_front
from sknar.oracles import MetricsOracle, TabularOracle
from sknar.search import (
    RandomSearch,
    RegularizedEvolution,
    TierSearch,
    parse_constraint,
    parse_objective,
    read_journal,
)
from sknar.spaces import NASBench201Space

SPACE = NASBench201Space()


def _features(archs):
    return [list(SPACE.structure_features(arch).values()) for arch in archs]


def _forest():
    return make_pipeline(
        FunctionTransformer(_features), RandomForestRegressor(n_estimators=10, random_state=0)
    )


def _accuracy(arch):
    return (
        10.0 * arch.count("nor_conv_3x3") + arch.count("nor_conv_1x1")
        + 0.1 * arch.count("skip_connect")
    )


class CountingOracle:
    """Accuracy as a mapping (or a number), counting its calls."""

    def __init__(self, mapping=True, latency=False):
        self.mapping = mapping
        self.latency = latency
        self.n_calls = 0

    def __call__(self, arch):
        self.n_calls += 1
        if not self.mapping:
            return _accuracy(arch)
        metrics = {"accuracy": _accuracy(arch)}
        if self.latency:
            metrics["latency"] = 1.0 + arch.count("nor_conv_3x3")
        return metrics


def _tier(**params):
    return TierSearch(SPACE, ranker=_forest(), n_initial=10, n_candidates=60, top_k=5,
                      random_state=0, **params)


def _digest(archs):
    return hashlib.sha1(json.dumps([list(arch) for arch in archs]).encode()).hexdigest()[:16]


# --- a single objective is searched exactly as before -------------------------------------


@pytest.mark.parametrize(
    "searcher, digest",
    [
        # Queries of these searches computed by sknar before objectives existed.
        (RandomSearch(SPACE, random_state=0), "8623742d3667621c"),
        (RegularizedEvolution(SPACE, random_state=0), "5396c082f02f5a70"),
    ],
)
def test_a_single_objective_search_asks_the_queries_it_always_asked(searcher, digest):
    result = searcher.run(CountingOracle(mapping=False), budget=30)
    assert _digest(result.archs) == digest


def test_tier_search_asks_the_same_queries_with_one_objective_named_or_not():
    plain = _tier().run(CountingOracle(mapping=False), budget=30)
    named = _tier(objectives={"accuracy": "max"}).run(CountingOracle(), budget=30)
    assert plain.archs == named.archs
    assert plain.metrics == [{}] * 30  # nothing added to a plain search's record
    assert named.metrics[0] == {"accuracy": plain.values[0]}


def test_one_objective_to_minimise_is_followed_downwards():
    result = RandomSearch(SPACE, objectives={"accuracy": "min"}, random_state=0).run(
        CountingOracle(), budget=20
    )
    assert result.best_value == result.values.min()
    assert result.best_so_far[-1] == result.values.min()


# --- exact costs, the front, the hypervolume --------------------------------------------


def test_exact_costs_are_objectives_without_oracle_calls():
    oracle = CountingOracle(mapping=False)
    search = RandomSearch(
        SPACE, objectives={"accuracy": "max", "params": "min", "flops@cifar100": "min"},
        random_state=0,
    )
    result = search.run(oracle, budget=15)
    assert oracle.n_calls == 15
    for arch, metrics in zip(result.archs, result.metrics):
        assert metrics["params"] == SPACE.total_cost(arch)["params"]
        assert metrics["flops@cifar100"] == SPACE.total_cost(arch, "cifar100")["flops"]
        assert metrics["accuracy"] == _accuracy(arch)


def test_the_front_and_hypervolume_are_those_of_everything_evaluated():
    directions = ["max", "min"]
    result = RandomSearch(SPACE, objectives={"accuracy": "max", "params": "min"},
                          random_state=1).run(CountingOracle(), budget=40)
    points = np.array([[m["accuracy"], m["params"]] for m in result.metrics])
    mask = pareto_front(points, directions)
    front = result.pareto_front()
    assert sorted(front.queries) == np.flatnonzero(mask).tolist()
    assert front.objectives == ["accuracy", "params"]
    assert front.points[:, 0].tolist() == sorted(front.points[:, 0], reverse=True)
    reference = [np.median(points[:, 0]), points[:, 1].max()]
    assert result.hypervolume(reference) == pytest.approx(
        hypervolume(points[mask], reference, directions)
    )
    assert result.hypervolume(reference) > 0


# --- constraints ----------------------------------------------------------------------------


def _median_flops():
    flops, _ = SPACE.total_costs(SPACE.sample(400, random_state=5))
    return float(np.median(flops))


@pytest.mark.parametrize("make", [
    lambda c: RandomSearch(SPACE, constraints=c, random_state=0),
    lambda c: RegularizedEvolution(SPACE, constraints=c, random_state=0),
    lambda c: _tier(constraints=c, objectives={"accuracy": "max", "params": "min"}),
], ids=["random", "evolution", "tier"])
def test_a_cost_constraint_is_never_broken_by_a_query(make):
    bound = _median_flops()
    oracle = CountingOracle(mapping=False)
    search = make({"flops": ("<=", bound)})
    result = search.run(oracle, budget=30)
    assert result.n_queries == 30 == oracle.n_calls
    flops = [SPACE.total_cost(arch)["flops"] for arch in result.archs]
    assert max(flops) <= bound
    # Without the constraint, about half of the queries would have broken it.
    free = RandomSearch(SPACE, random_state=0).run(CountingOracle(False), budget=30)
    assert max(SPACE.total_cost(arch)["flops"] for arch in free.archs) > bound


def test_an_infeasible_evaluation_is_learnt_from_but_never_the_best():
    search = RandomSearch(SPACE, constraints={"latency": ("<=", 3.0)}, random_state=0)
    oracle = MetricsOracle({"value": _accuracy, "latency": lambda a: 1.0 + a.count("nor_conv_3x3")})
    result = search.run(oracle, budget=40)
    latency = np.array([m["latency"] for m in result.metrics])
    assert (latency > 3.0).any() and (latency <= 3.0).any()
    assert result.feasible.tolist() == (latency <= 3.0).tolist()
    assert result.metrics[result.best_index]["latency"] <= 3.0
    assert result.best_value == result.values[latency <= 3.0].max()
    assert result.values.max() > result.best_value  # the best value broke the constraint
    assert all(result.feasible[q] for q in result.pareto_front().queries)
    history = search.history_
    assert len(history.success_archs) == 40  # recorded and learnt from
    scores = history.success_scores
    assert scores[latency > 3.0].max() < scores[latency <= 3.0].min()


def test_a_missing_objective_is_a_failure_naming_it():
    search = RandomSearch(SPACE, objectives={"accuracy": "max", "latency": "min"},
                          random_state=0)
    result = search.run(CountingOracle(), budget=3, on_error="skip")
    assert result.n_failed == 3
    assert "returned no 'latency'" in result.errors[0]


@pytest.mark.parametrize("params, match", [
    ({"objectives": {"accuracy": "up"}}, "'max' or 'min'"),
    ({"objectives": {}}, "non-empty"),
    ({"constraints": {"flops": ("<", 3)}}, "op '<=' or '>='"),
    ({"constraints": {"flops": ("<=", float("nan"))}}, "finite bound"),
])
def test_bad_objectives_and_constraints_are_refused(params, match):
    with pytest.raises(ValueError, match=match):
        RandomSearch(SPACE, **params).ask()


def test_the_command_line_forms_parse():
    assert parse_objective("latency:min") == ("latency", "min")
    assert parse_constraint("params>=1e5") == ("params", (">=", 1e5))
    with pytest.raises(ValueError, match="NAME:max"):
        parse_objective("accuracy")
    with pytest.raises(ValueError, match="NAME<=VALUE"):
        parse_constraint("flops=3")


# --- ask/tell, the journal ------------------------------------------------------------------


def test_ask_tell_takes_mappings_of_metrics():
    search = RandomSearch(SPACE, objectives={"accuracy": "max", "params": "min"},
                          random_state=0)
    archs = search.ask()
    search.tell(archs, [{"accuracy": _accuracy(arch)} for arch in archs])
    assert search.result_.metrics[0]["params"] == SPACE.total_cost(archs[0])["params"]
    assert len(search.result_.pareto_front().archs) >= 1


def test_the_journal_records_every_metric_and_resume_keeps_them(tmp_path):
    path = tmp_path / "search.jsonl"
    objectives = {"accuracy": "max", "params": "min"}
    constraints = {"latency": ("<=", 4.0)}
    first = _tier(objectives=objectives, constraints=constraints)
    done = first.run(CountingOracle(latency=True), budget=20, journal=path)
    _, evaluations = read_journal(path)
    assert {"accuracy", "params", "latency"} <= set(evaluations[0]["metrics"])
    oracle = CountingOracle(latency=True)
    resumed = _tier(objectives=objectives, constraints=constraints).run(
        oracle, budget=30, journal=path
    )
    assert oracle.n_calls == 10
    assert resumed.metrics[:20] == done.metrics
    assert resumed.feasible[:20].tolist() == done.feasible.tolist()
    with pytest.raises(ValueError, match="objectives"):
        _tier(objectives={"accuracy": "max"}, constraints=constraints).run(
            CountingOracle(latency=True), budget=30, journal=path
        )


# --- tier search: bands of non-dominated rank -------------------------------------------------


def test_tier_search_learns_bands_of_non_dominated_rank():
    search = _tier(objectives={"accuracy": "max", "params": "min"})
    search.run(CountingOracle(), budget=25)
    history = search.history_
    points = np.array([[m["accuracy"], m["params"]] for m in history.metrics])
    ranks = non_dominated_ranks(points, ["max", "min"])
    assert history.success_bands.tolist() == ranks.tolist()
    scores = history.success_scores
    # The scalar the ranker learns keeps the bands' order.
    for band in range(ranks.max()):
        assert scores[ranks == band].min() > scores[ranks == band + 1].max()


def test_a_table_and_a_second_oracle_give_several_metrics():
    archs = SPACE.sample(5, random_state=0)
    table = TabularOracle(archs, [float(i) for i in range(5)], space=SPACE)
    oracle = MetricsOracle({"accuracy": table, "latency": lambda arch: 2.0})
    assert oracle(archs[3]) == {"accuracy": 3.0, "latency": 2.0}
    with pytest.raises(ValueError, match="callables"):
        MetricsOracle({"accuracy": 3})


def test_objectives_and_constraints_in_worker_processes_match_the_sequential_search():
    params = {"objectives": {"accuracy": "max", "params": "min"},
              "constraints": {"flops": ("<=", _median_flops())}}
    sequential = RandomSearch(SPACE, random_state=2, **params).run(CountingOracle(), budget=12)
    parallel = RandomSearch(SPACE, random_state=2, **params).run(
        CountingOracle(), budget=12, n_jobs=2, schedule="batch"
    )
    assert parallel.archs == sequential.archs
    assert parallel.metrics == sequential.metrics
    assert parallel.pareto_front().queries == sequential.pareto_front().queries


def test_tier_search_asks_again_when_a_round_holds_no_feasible_candidate():
    # A bound few cells keep: most rounds of 60 candidates hold none, and the search goes
    # on with new rounds instead of ending.
    flops, _ = SPACE.total_costs(SPACE.sample(400, random_state=5))
    bound = float(np.quantile(flops, 0.03))
    result = _tier(constraints={"flops": ("<=", bound)}).run(CountingOracle(False), budget=20)
    assert result.n_queries == 20
    assert max(SPACE.total_cost(arch)["flops"] for arch in result.archs) <= bound
