"""Multi-fidelity tier search: successive-halving promotions, a budget in epochs, ask/tell
with fidelities, and a journal that keeps them."""

import itertools
import json

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sknar.oracles import TabularOracle
from sknar.search import (
    FidelityQuery,
    MultiFidelityResult,
    MultiFidelityTierSearch,
    read_journal,
)
from sknar.utils.testing import ChainSpace

OPS = ("a", "b", "c")
ALL_ARCHS = list(itertools.product(OPS, repeat=6))
FIDELITIES = (4, 12, 36)


def accuracy(arch):
    return sum((slot + 1) * OPS.index(op) for slot, op in enumerate(arch)) + 0.01 * arch.count("b")


def one_hot(archs):
    return np.array([[op == name for op in arch for name in OPS] for arch in archs], float)


@pytest.fixture(scope="module")
def space():
    return ChainSpace(6, OPS, known_size=True)


@pytest.fixture(scope="module")
def oracle(space):
    """Full values exact; lower fidelities noisier the briefer the training."""
    rng = np.random.RandomState(0)
    full = np.array([accuracy(arch) for arch in ALL_ARCHS])
    lower = {e: full + rng.normal(scale=12.0 / e, size=full.size) for e in FIDELITIES[:-1]}
    return TabularOracle(ALL_ARCHS, full, space=space, fidelities=lower, epochs=FIDELITIES[-1])


def make_search(space, **params):
    ranker = make_pipeline(FunctionTransformer(one_hot), RandomForestRegressor(n_estimators=10))
    settings = dict(
        fidelities=FIDELITIES, ranker=ranker, n_initial=16, batch_size=8, eta=4,
        n_candidates=60, n_tiers=3, random_state=0,
    )
    return MultiFidelityTierSearch(space, **{**settings, **params})


@pytest.fixture(scope="module")
def run(space, oracle):
    return make_search(space).run(oracle, budget=700)


def test_budget_counts_epochs_and_result_gives_each_fidelity_cost(run):
    assert isinstance(run, MultiFidelityResult)
    costs = run.fidelity_costs
    assert sorted(costs) == list(FIDELITIES)
    assert all(c["epochs"] == e * c["evaluations"] for e, c in costs.items())
    assert run.epochs_used <= 700
    # Successive halving: each fidelity evaluates a quarter (rounded up) of the one below.
    n = [costs[e]["evaluations"] for e in FIDELITIES]
    assert n[0] > n[1] > n[2] >= 1
    # The result is over full-fidelity evaluations only, with the epochs spent at each.
    assert run.n_queries == n[2]
    assert np.all(np.diff(run.epochs_spent) > 0)
    assert run.epochs_spent[-1] <= run.epochs_used


def test_promotions_are_the_top_of_their_batch(space, oracle):
    search = make_search(space)
    first = search.ask()
    assert len(first) == 16 and {q.epochs for q in first} == {4}
    values = [oracle(q.arch, epochs=4) for q in first]
    assert search.ask() == []  # waits for the whole batch before promoting
    search.tell(first, values)
    promoted = search.ask()
    assert {q.epochs for q in promoted} == {12}
    best = np.argsort(values)[::-1][:4]
    assert {first[i].arch for i in best} == {q.arch for q in promoted}


def test_an_architecture_is_asked_once_per_fidelity(run):
    pairs = [(tuple(e["arch"]), e["epochs"]) for e in run.evaluations]
    assert len(pairs) == len(set(pairs))
    at_full = [tuple(e["arch"]) for e in run.evaluations if e["epochs"] == FIDELITIES[-1]]
    lower = {tuple(e["arch"]) for e in run.evaluations if e["epochs"] == FIDELITIES[-2]}
    assert set(at_full) <= lower  # only promoted architectures reach full training


def test_tell_checks_its_fidelities(space):
    search = make_search(space)
    with pytest.raises(ValueError, match="not one of this search's fidelities"):
        search.tell([(ALL_ARCHS[0], 5)], [1.0])
    search.tell([FidelityQuery(ALL_ARCHS[0], 4)], [1.0])
    with pytest.raises(ValueError, match="already told at 4 epochs"):
        search.tell([(ALL_ARCHS[0], 4)], [2.0])
    search.tell([(ALL_ARCHS[0], 12)], [2.0])  # the same architecture at another fidelity
    with pytest.raises(ValueError, match="fidelities must increase"):
        make_search(space, fidelities=(12, 4)).ask()


def test_journal_records_fidelities_and_a_resumed_search_keeps_them(space, oracle, tmp_path, run):
    path = tmp_path / "mf.jsonl"
    cut = make_search(space)
    cut.run(oracle, budget=300, journal=path)
    header, evaluations = read_journal(path)
    assert header["searcher"] == "MultiFidelityTierSearch"
    fidelities = [e["fidelity"] for e in evaluations]
    assert set(fidelities) == set(FIDELITIES)
    n_recorded = len(fidelities)
    resumed = make_search(space)
    result = resumed.run(oracle, budget=700, journal=path)
    assert resumed.n_resumed_ == n_recorded
    # Everything recorded is kept, nothing recorded is evaluated again.
    assert result.evaluations[:n_recorded] == [
        {k: e[k] for k in ("arch", "epochs", "value", "error")} for e in cut.result_.evaluations
    ]
    pairs = [(tuple(e["arch"]), e["epochs"]) for e in result.evaluations]
    assert len(pairs) == len(set(pairs))
    assert result.epochs_used <= 700
    lines = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    assert [line["fidelity"] for line in lines] == [e["epochs"] for e in result.evaluations]


def test_multi_fidelity_finds_a_good_architecture_for_less(space, oracle, run):
    full_values = np.sort([accuracy(a) for a in ALL_ARCHS])[::-1]
    # Within 700 epochs (under 20 full trainings), the best found is in the top 2 % of
    # the 729 architectures.
    assert run.best_value >= full_values[int(0.02 * len(full_values))]


def test_rank_by_highest_fits_on_full_fidelity_values(space, oracle):
    result = make_search(space, rank_by="highest").run(oracle, budget=500)
    assert result.n_queries >= 1
    assert result.epochs_used <= 500


class _TierCountingRanker:
    """A ranker that, like NARRanker, refuses values with fewer levels than its tiers."""

    fitted_on = []

    def __init__(self, n_tiers=3):
        self.n_tiers = n_tiers

    def get_params(self, deep=True):
        return {"n_tiers": self.n_tiers}

    def set_params(self, **params):
        self.n_tiers = params.get("n_tiers", self.n_tiers)
        return self

    def fit(self, archs, values):
        if len(np.unique(values)) < self.n_tiers:
            raise ValueError(f"y has {len(np.unique(values))} distinct value(s)")
        self.fitted_on.append(len(values))
        return self

    def predict(self, archs):
        return one_hot(archs).sum(axis=1)


@pytest.mark.parametrize("full_value", [lambda arch: 0.5, lambda arch: float(arch[0] == "a")],
                         ids=["one level", "fewer levels than tiers"])
def test_tied_full_fidelity_values_fall_back_to_the_lowest_fidelity(space, full_value):
    # The full trainings tie (a small validation split), the brief ones differ: the search
    # learns from the brief ones instead of failing, as rank_by="highest" documents.
    def oracle(arch, epochs):
        return full_value(arch) if epochs == FIDELITIES[-1] else accuracy(arch) + epochs

    _TierCountingRanker.fitted_on = []
    search = make_search(space, ranker=_TierCountingRanker(), rank_by="highest")
    result = search.run(oracle, budget=700)
    assert result.epochs_used <= 700 and result.n_queries >= 2
    n_low = result.fidelity_costs[FIDELITIES[0]]["evaluations"]
    assert _TierCountingRanker.fitted_on and max(_TierCountingRanker.fitted_on) <= n_low
    assert all(n > result.n_queries for n in _TierCountingRanker.fitted_on)
