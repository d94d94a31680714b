"""ask/tell on every searcher, and parallel evaluation through joblib (loky, threads, dask)."""

import itertools
import pickle
import re

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sknar.oracles import TabularOracle
from sknar.sampler import TierSampler
from sknar.search import RandomSearch, RegularizedEvolution, TierSearch
from sknar.utils.testing import ChainSpace

OPS = ("a", "b", "c")
ALL_ARCHS = list(itertools.product(OPS, repeat=6))
BUDGET = 53  # not a multiple of any batch size: the last batch is cut short


def accuracy(arch):
    return sum((slot + 1) * OPS.index(op) for slot, op in enumerate(arch)) + 0.01 * arch.count("b")


def one_hot(archs):
    return np.array([[op == name for op in arch for name in OPS] for arch in archs], float)


def make_searcher(name, space, **params):
    if name == "tier":
        settings = dict(n_initial=20, n_candidates=60, top_k=7, n_tiers=4, random_state=0)
        ranker = make_pipeline(
            FunctionTransformer(one_hot), RandomForestRegressor(n_estimators=20)
        )
        return TierSearch(
            space, ranker=ranker, sampler=TierSampler(space), **{**settings, **params}
        )
    if name == "random":
        return RandomSearch(space, **{"random_state": 0, **params})
    return RegularizedEvolution(space, **{"random_state": 0, **params})


NAMES = ["tier", "random", "evolution"]


@pytest.fixture(scope="module")
def space():
    return ChainSpace(6, OPS, known_size=True)


@pytest.fixture(scope="module")
def oracle(space):
    """A picklable oracle: it travels to worker processes."""
    return TabularOracle(ALL_ARCHS, [accuracy(arch) for arch in ALL_ARCHS], space=space)


@pytest.fixture(scope="module")
def sequential(space, oracle):
    """The queries of a plain sequential run of each searcher."""
    return {name: make_searcher(name, space).run(oracle, BUDGET) for name in NAMES}


def drive_with_ask_tell(searcher, budget, evaluate):
    """A user's own loop: ask, evaluate what the budget allows, tell."""
    n_done = 0
    while n_done < budget:
        batch = searcher.ask()
        if not batch:
            break
        batch = batch[: budget - n_done]
        searcher.tell(batch, [evaluate(arch) for arch in batch])
        n_done += len(batch)
    return searcher.result_


# --- ask / tell -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_ask_tell_alone_asks_what_run_evaluates(space, oracle, sequential, name):
    result = drive_with_ask_tell(make_searcher(name, space), BUDGET, oracle)
    assert result.archs == sequential[name].archs
    np.testing.assert_array_equal(result.values, sequential[name].values)
    assert result.budget is None  # ask/tell knows no budget


def test_batch_sizes(space):
    tier = make_searcher("tier", space)
    initial = tier.ask()
    assert len(initial) == 20  # the initial uniform batch
    tier.tell(initial, [accuracy(arch) for arch in initial])
    assert len(tier.ask()) == 7  # then each round's top_k
    random = make_searcher("random", space)
    assert len(random.ask()) == 10 and len(random.ask()) == 10  # batch_size
    evolution = make_searcher("evolution", space)
    initial = evolution.ask()
    assert len(initial) == 10  # the initial population
    evolution.tell(initial, [accuracy(arch) for arch in initial])
    assert len(evolution.ask()) == 1  # then one child at a time by default
    assert len(make_searcher("evolution", space, batch_size=4).ask()) == 10


def test_random_search_queries_do_not_depend_on_the_batch_size(space, oracle, sequential):
    for batch_size in (1, 7, 100):
        result = make_searcher("random", space, batch_size=batch_size).run(oracle, BUDGET)
        assert result.archs == sequential["random"].archs


def test_batched_evolution_breeds_children_from_the_population_told(space, oracle):
    evolution = make_searcher("evolution", space, batch_size=4)
    initial = evolution.ask()
    evolution.tell(initial, [oracle(arch) for arch in initial])
    children = evolution.ask()
    assert len(children) == 4 and len({space.hash(c) for c in children}) == 4
    assert not {space.hash(c) for c in children} & {space.hash(a) for a in initial}
    evolution.tell(children, [oracle(arch) for arch in children])
    # Aging: the population keeps its size, the four oldest members died.
    assert len(evolution.population_) == 10
    assert [arch for arch, _ in evolution.population_] == initial[4:] + children
    result = make_searcher("evolution", space, batch_size=4).run(oracle, BUDGET)
    assert result.n_queries == BUDGET and len({space.hash(a) for a in result.archs}) == BUDGET


@pytest.mark.parametrize("name", NAMES)
def test_tell_in_any_order_and_in_parts(space, oracle, name):
    searcher = make_searcher(name, space)
    first = searcher.ask()
    half = len(first) // 2
    searcher.tell(first[half:][::-1], [oracle(arch) for arch in first[half:][::-1]])
    # An architecture asked and not yet told is never asked again.
    second = searcher.ask()
    asked = {space.hash(arch) for arch in first}
    assert not asked & {space.hash(arch) for arch in second}
    searcher.tell(first[:half] + second, [oracle(arch) for arch in first[:half] + second])
    assert searcher.result_.n_queries == len(first) + len(second)
    # The result is in query order, whatever the order told; the history in the order told.
    assert searcher.result_.archs == first + second
    assert list(searcher.history_.archs[: len(first) - half]) == first[half:][::-1]


def test_a_searcher_waits_for_results_it_needs(space):
    evolution = make_searcher("evolution", space)
    evolution.ask()
    assert evolution.ask() == []  # no population told yet: no parent to mutate
    tier = make_searcher("tier", space)
    tier.ask()
    assert tier.ask() == []  # nothing to fit the ranker on yet


def test_tell_records_failures_and_rejects_mistakes(space):
    searcher = make_searcher("random", space)
    batch = searcher.ask()
    values = [1.0, None, float("nan"), MemoryError("out of memory"), float("inf")] + [2.0] * 5
    searcher.tell(batch, values)
    result = searcher.result_
    assert result.failed.tolist() == [False, True, True, True, True] + [False] * 5
    assert "MemoryError: out of memory" in result.errors[3]
    assert result.best_value == 2.0 and np.isnan(result.values[1])
    assert result.history[2]["status"] == "failed"
    batch = searcher.ask()
    told = re.escape(f"value told for architecture {batch[0]!r} is 'high'")
    with pytest.raises(ValueError, match=told):
        searcher.tell(batch[:2], ["high", 1.0])
    with pytest.raises(ValueError, match="one entry per architecture"):
        searcher.tell(batch[:2], [1.0])
    with pytest.raises(ValueError, match="was already told"):
        searcher.tell([result.archs[0]], [3.0])
    # A rejected tell records nothing.
    assert searcher.result_.n_queries == 10

    class LocalError(Exception):
        """Defined here, so it cannot be pickled."""

    searcher.tell(batch[:1], [LocalError("lost node")])
    restored = pickle.loads(pickle.dumps(searcher))  # the searcher stays picklable
    assert "LocalError: lost node" in restored.result_.errors[-1]


@pytest.mark.parametrize("name", NAMES)
def test_telling_known_evaluations_warm_starts(space, oracle, name):
    searcher = make_searcher(name, space)
    known = ALL_ARCHS[:30:3]
    searcher.tell(known, [oracle(arch) for arch in known])
    n_more = 30
    if name == "tier":
        initial = searcher.ask()
        assert len(initial) == 10  # 20 initial values, 10 of them known
        searcher.tell(initial, [oracle(arch) for arch in initial])
        n_more -= len(initial)
    result = drive_with_ask_tell(searcher, n_more, oracle)
    assert result.archs[:10] == [tuple(arch) for arch in known]
    assert len({space.hash(arch) for arch in result.archs}) == 40  # none asked again


@pytest.mark.parametrize("name", NAMES)
def test_a_pickled_searcher_continues_where_it_stopped(space, oracle, name):
    searcher = make_searcher(name, space)
    batch = searcher.ask()
    searcher.tell(batch, [oracle(arch) for arch in batch])
    restored = pickle.loads(pickle.dumps(searcher))
    assert restored.ask() == searcher.ask()


def test_ask_and_tell_continue_a_run(space, oracle, sequential):
    searcher = make_searcher("random", space)
    searcher.run(oracle, 20)
    more = searcher.ask()
    searcher.tell(more, [oracle(arch) for arch in more])
    assert searcher.result_.archs == sequential["random"].archs[:30]


# --- parallel evaluation -------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_threads_evaluate_the_same_queries_batch_by_batch(space, oracle, sequential, name):
    with parallel_config(backend="threading", n_jobs=3):
        result = make_searcher(name, space).run(oracle, BUDGET, schedule="batch")
    assert result.archs == sequential[name].archs


@pytest.mark.slow  # worker processes
@pytest.mark.parametrize("name", NAMES)
def test_worker_processes_evaluate_the_same_queries_batch_by_batch(
    space, oracle, sequential, name
):
    n_calls = oracle.n_calls
    result = make_searcher(name, space).run(oracle, BUDGET, n_jobs=2, schedule="batch")
    assert result.archs == sequential[name].archs
    np.testing.assert_array_equal(result.values, sequential[name].values)
    assert oracle.n_calls == n_calls  # every call ran in a worker process, on its copy


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.slow  # starts a dask cluster
def test_a_tier_search_on_a_dask_cluster_matches_the_sequential_run(
    space, oracle, sequential, dask_client
):
    n_calls = oracle.n_calls
    with parallel_config(backend="dask"):
        result = make_searcher("tier", space).run(oracle, BUDGET, schedule="batch")
    assert result.archs == sequential["tier"].archs
    np.testing.assert_array_equal(result.values, sequential["tier"].values)
    assert oracle.n_calls == n_calls  # every call ran on the cluster's workers
    assert len(dask_client.scheduler_info()["workers"]) == 2


@pytest.mark.slow  # a dask cluster
@pytest.mark.parametrize("name", NAMES)
def test_an_asynchronous_search_on_a_dask_cluster(space, oracle, dask_client, name):
    n_calls = oracle.n_calls
    with parallel_config(backend="dask"):
        result = make_searcher(name, space).run(oracle, BUDGET)
    assert result.n_queries == BUDGET
    assert len({space.hash(arch) for arch in result.archs}) == BUDGET  # none repeated
    assert oracle.n_calls == n_calls  # the oracle was scattered: every call ran there
