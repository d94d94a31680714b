"""The benchmark suite runs end to end (``--quick``) and its pieces do what they say."""

import json
import math

import numpy as np
import pytest

from benchmarks import _common as common
from benchmarks import run as bench_run
from benchmarks._suites import SUITES
from sknar.utils.testing import require_data


def test_split_is_the_one_the_stored_results_were_measured_with():
    # The stored results drew the first n_train of numpy.random.RandomState(seed)'s
    # permutation; the library's split must keep doing so for them to stay valid.
    from sknar.datasets import split_benchmark

    train, test = split_benchmark(100, 30, random_state=3)
    order = np.random.RandomState(3).permutation(100)
    assert np.array_equal(train, np.sort(order[:30]))
    assert np.array_equal(test, np.sort(order[30:]))


def test_fractional_sizes_are_shares_of_the_table():
    assert common.n_train_for(0.01, 26206) == 262
    assert common.n_train_for(424, 15625) == 424


def test_encodings_merge_isomorphic_cells_unless_as_written():
    from sknar.spaces import NASBench201Space

    data = {"space": NASBench201Space(), "cost_dataset": "cifar100"}
    assert common.make_encoder("nar", data).merge_isomorphic
    as_written = common.make_encoder("nar-as-written", data)
    assert not as_written.merge_isomorphic and as_written.dataset == "cifar100"
    assert common.model_specs(["NAR (paper)"], quick=True)[0].encoding == "nar-as-written"
    assert not common.make_encoder("path-as-written", data).merge_isomorphic
    assert common.make_encoder("onehot", data).merge_isomorphic
    specs = common.model_specs(["XGBoost / one-hot (as written)", "XGBoost / path"], quick=True)
    assert [spec.encoding for spec in specs] == ["onehot-as-written", "path"]
    with pytest.raises(ValueError, match="as-written"):
        common.make_encoder("nar-merged", data)


def test_restrict_keeps_only_the_named_benchmarks_and_models():
    config = SUITES["quality"].CONFIGS["full"]
    small = bench_run.restrict(config, ["nb101"], ["NAR (default)", "XGBoost / path"])
    assert list(small["benchmarks"]) == ["nb101"]
    assert small["models"] == ["NAR (default)", "XGBoost / path"]
    assert len(config["benchmarks"]) == 6  # the full configuration is left alone


def test_peak_memory_sees_a_large_allocation():
    with common.PeakMemory() as memory:
        block = np.ones(64 * 2**20 // 8)
        block.sum()
    assert memory.peak_mib > 32


def test_missing_optional_package_is_recorded_not_raised(monkeypatch):
    def missing(seed, quick):
        raise common.MissingDependency("xgboost is not installed")

    monkeypatch.setitem(common.BASELINES, "XGBoost", missing)
    spec = common.model_specs(["XGBoost / one-hot"], quick=True)[0]
    record = common.evaluate_model(spec, "nb201-cifar10", 50, seed=0)
    assert record["skipped"] == "xgboost is not installed"
    assert "metrics" not in record


def test_records_and_stored_results_use_the_library_metric_names():
    from sknar.metrics import get_scorer

    records = json.loads((common.DEFAULT_OUT / "quality-nar-default.json").read_text())
    metrics = next(r["metrics"] for r in records["records"] if "metrics" in r)
    names = set(next(iter(metrics.values())))
    assert set(SUITES["quality"].METRICS) <= names
    for name in names:
        get_scorer(name)  # every stored name is one the library scores by


def test_benchmark_keys_load_the_library_benchmarks():
    require_data("nasbench101/nb101_20k_val108.json.gz")
    from sknar.spaces import TableSpace

    data = common.load_benchmark("nb101")
    assert data.key == "nb101" and data.benchmark == "nasbench101"
    assert isinstance(data.search_space, TableSpace) and data.search_space.size == 20001
    assert common.load_benchmark("nb101") is data  # one table (and its caches) per process
    with pytest.raises(ValueError, match="unknown benchmark"):
        common.load_benchmark("nb999")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    require_data("nasbench201/nats_tss_test_acc_200ep.csv")
    require_data("nasbench101/nb101_20k_val108.json.gz")
    out = tmp_path_factory.mktemp("bench")
    bench_run.main(["--suite", "all", "--quick", "--out", str(out), "--no-progress"])
    return out


@pytest.mark.slow
def test_quick_run_writes_every_suite_with_machine_info(quick_run):
    for name in SUITES:
        payload = json.loads((quick_run / f"{name}.json").read_text())
        assert payload["quick"] is True and payload["seeds"] == [0]
        assert payload["records"], name
        machine = payload["machine"]
        assert machine["torch_threads"] >= 1 and machine["cpu_count"] >= 1
        assert machine["versions"]["sknar"] and machine["versions"]["torch"]
        assert payload["wall_time_s"] > 0


@pytest.mark.slow
def test_quick_quality_compares_nar_and_baselines_on_the_same_split(quick_run):
    records = json.loads((quick_run / "quality.json").read_text())["records"]
    scored = [r for r in records if "metrics" in r]
    assert {"NAR (default)", "NAR (paper)", "random forest / one-hot"} <= {
        r["model"] for r in scored
    }
    for record in scored:
        tau = record["metrics"][record["benchmark"]]["kendall_tau"]
        assert math.isfinite(tau) and -1 <= tau <= 1
        # Test set = every architecture not trained on.
        n_archs = len(common.load_benchmark(record["benchmark"])["archs"])
        assert record["n_train"] + record["n_test"] == n_archs
    by_split = {}
    for record in scored:
        by_split.setdefault((record["benchmark"], record["n_train"]), set()).add(record["model"])
    assert all("NAR (default)" in models and len(models) > 2 for models in by_split.values())


@pytest.mark.slow
def test_quick_search_spends_the_budget_for_every_method(quick_run):
    payload = json.loads((quick_run / "search.json").read_text())
    budget = payload["config"]["budget"]
    from benchmarks._suites.search import applies

    methods = {(r["benchmark"], r["method"]) for r in payload["records"]}
    config = payload["config"]
    assert methods == {(k, m) for k in config["benchmarks"] for m in config["methods"]
                       if applies(k, m)}
    for record in payload["records"]:
        assert record["n_queries"] == budget
        calls, values = np.array(record["improvements"]).T
        assert calls[0] == 1 and np.all(np.diff(calls) > 0) and np.all(np.diff(values) > 0)
        assert record["best"] == values[-1] <= record["optimum"]


@pytest.mark.slow
def test_quick_report_answers_the_three_questions(quick_run):
    text = (quick_run / "RESULTS.md").read_text()
    for heading in ("Does NARRanker beat each baseline", "Does tier search beat",
                    "What does it cost", "## Ranking quality", "## Search efficiency",
                    "## Cost", "## Ablations", "## Transfer"):
        assert heading in text
    assert "quick smoke run" in text
    assert "Not run at full size yet" in text


def test_search_records_keep_the_best_so_far_curve_compactly():
    from benchmarks._suites import search

    values = [3.0, 1.0, 5.0, 5.0, 4.0, 7.0]
    points = search.improvements(values)
    assert points == [[1, 3.0], [3, 5.0], [6, 7.0]]
    record = {"n_queries": 6, "improvements": points}
    np.testing.assert_array_equal(search.best_so_far(record), np.maximum.accumulate(values))
    assert search._best_at(record, 2) == 3.0 and search._best_at(record, 7) is None


# --- what the suites take from the library ------------------------------------------------


def test_the_suites_import_no_private_module_of_the_library():
    import re

    # A private module or name; dunder attributes such as sknar.__file__ are not private.
    private = re.compile(r"\bsknar(\.\w+)*\._(?!_|version\b)\w+")
    offenders = [
        f"{path.relative_to(common.REPO_ROOT)}:{number}: {line.strip()}"
        for path in sorted(common.BENCH_DIR.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert not offenders, offenders


def test_one_registry_describes_each_benchmark():
    from sknar.cli._parser import BENCHMARK_NAMES
    from sknar.datasets import BENCHMARKS

    assert tuple(BENCHMARKS) == BENCHMARK_NAMES  # the command line's choices
    for name, benchmark in BENCHMARKS.items():
        assert benchmark.name == name and benchmark.datasets
        assert benchmark.make_space().name  # a fresh space of the benchmark
        assert benchmark.check_dataset(None) == benchmark.datasets[0]
    # the suites' keys are the registry's short names
    assert {key.partition("-")[0] for key in common.BENCHMARK_LABELS} == {
        benchmark.short_name for benchmark in BENCHMARKS.values()
    }
    assert common.NB201_DATASETS == ("cifar10", "cifar100", "ImageNet16-120")
    assert BENCHMARKS["nasbench201"].network_class().__name__ == "NASBench201Network"
    with pytest.raises(ValueError, match="no network for NAS-Bench-Graph"):
        BENCHMARKS["nasbench_graph"].network_class()
    with pytest.raises(TypeError):
        BENCHMARKS["bogus"] = BENCHMARKS["nasbench201"]  # read-only


def test_make_searcher_builds_each_strategy_and_leaves_a_given_sampler_alone():
    from sknar.sampler import TierSampler
    from sknar.search import SEARCH_STRATEGIES, make_searcher
    from sknar.spaces import NASBench201Space

    space = NASBench201Space()
    kinds = {name: type(make_searcher(name, space, random_state=0)).__name__
             for name in SEARCH_STRATEGIES}
    assert kinds == {"tier": "TierSearch", "random": "RandomSearch",
                     "evolution": "RegularizedEvolution"}
    sampler = TierSampler(space, noise=0.1)
    searcher = make_searcher("tier", space, sampler=sampler, noise=0.4)
    assert searcher.sampler.noise == 0.4 and sampler.noise == 0.1
    with pytest.raises(ValueError, match="noise: only tier search"):
        make_searcher("random", space, noise=0.4)
    with pytest.raises(ValueError, match="unknown search strategy 'bogus'"):
        make_searcher("bogus", space)


def test_tpe_choices_outside_a_table_are_repaired_to_its_nearest_cell():
    optuna = pytest.importorskip("optuna")
    from benchmarks._suites.multifidelity import _TableRepair
    from sknar.spaces import NASBench101Space, TableSpace

    space = NASBench101Space()
    table = TableSpace(space, space.sample(30, random_state=0))
    repair = _TableRepair(table)
    inside = table.to_parameters(table.archs[4])
    assert repair.suggest(optuna.trial.FixedTrial(inside)) == table.archs[4]
    # One edge of cell 4 flipped: unless another cell is as near, cell 4 comes back.
    outside = dict(inside)
    outside["edge_0_6"] = 1 - outside["edge_0_6"]
    chosen = repair.suggest(optuna.trial.FixedTrial(outside))
    codes = [table.to_parameters(arch) for arch in table.archs]
    distance = [sum(code[k] != outside[k] for k in outside) for code in codes]
    assert distance[table.archs.index(chosen)] == min(distance)
    assert repair.repaired == 1 and len(repair.asked) >= 1
