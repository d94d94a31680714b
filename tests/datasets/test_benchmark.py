"""Benchmarks by name (load_benchmark) and their seeded split (split_benchmark)."""

import numpy as np
import pytest

from sknar.datasets import load_benchmark, split_benchmark
from sknar.spaces import NASBench201Space, TableSpace
from sknar.utils.testing import require_data


@pytest.fixture(scope="module")
def graph():
    return load_benchmark("nasbench_graph", "cora")


def test_graph_benchmark_selects_by_validation_and_reports_test(graph):
    assert graph.benchmark == "nasbench_graph" and graph.dataset == "cora"
    np.testing.assert_array_equal(graph.y, graph.y_valid)
    np.testing.assert_array_equal(graph.y_report, graph.y_test)
    assert graph.cost_dataset is None
    # The table covers the whole space: searches draw from the space itself.
    assert graph.search_space is graph.space and len(graph.archs) == graph.space.size


def test_nasbench201_benchmark_is_the_loader_with_its_cost_dataset():
    require_data("nasbench201/nats_tss_test_acc_200ep.csv")
    data = load_benchmark("nasbench201", "cifar100")
    assert data.dataset == data.cost_dataset == "cifar100"
    assert data.y_report is None and isinstance(data.archs, list)
    assert round(float(data.y.max()), 3) == 73.513
    assert data.search_space is data.space


def test_nasbench101_slice_is_searched_as_a_table():
    require_data("nasbench101/nb101_20k_val108.json.gz")
    data = load_benchmark("nasbench101")
    assert data.dataset == "cifar10" and data.cost_dataset is None
    assert isinstance(data.search_space, TableSpace)
    assert data.search_space.size == len(data.archs) == 20001
    with pytest.raises(ValueError, match="one dataset, cifar10"):
        load_benchmark("nasbench101", "cifar100")


def test_bad_names_and_datasets_are_refused(tmp_path):
    with pytest.raises(ValueError, match="name"):
        load_benchmark("nasbench301")
    with pytest.raises(ValueError, match="bogus"):
        load_benchmark("nasbench_graph", "bogus")
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        load_benchmark("nasbench201", data_home=tmp_path)


def test_graph_files_are_read_from_a_data_home(tmp_path):
    with pytest.raises(FileNotFoundError, match="citeseer.bench"):
        load_benchmark("nasbench_graph", "citeseer", data_home=tmp_path)


def test_split_is_a_seeded_partition():
    train, test = split_benchmark(50, 20, random_state=1)
    assert len(train) == 20 and len(test) == 30
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(50))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    again, _ = split_benchmark(50, 20, random_state=np.random.RandomState(1))
    other, _ = split_benchmark(50, 20, random_state=2)
    assert np.array_equal(again, train) and not np.array_equal(other, train)


@pytest.mark.parametrize(("n_samples", "n_train", "match"), [
    (10, 10, "leaves nothing held out of 10"),
    (10, 0, "n_train"),
    (1, 1, "n_samples"),
    (10, 2.5, "n_train"),
])
def test_split_refuses_sizes_that_leave_no_test_set(n_samples, n_train, match):
    with pytest.raises(ValueError, match=match):
        split_benchmark(n_samples, n_train, random_state=0)


def test_a_slice_of_a_space_is_searched_as_a_table():
    from sknar.datasets._benchmark import _search_space

    space = NASBench201Space()
    archs = space.sample(10, random_state=0)
    assert isinstance(_search_space(space, archs), TableSpace)
