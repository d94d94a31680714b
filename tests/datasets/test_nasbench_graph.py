import importlib.util
import os
import pickle

import numpy as np
import pytest

from sknar.datasets import _nasbench_graph
from sknar.datasets._nasbench_graph import load_nasbench_graph
from sknar.spaces.nasbench_graph import GraphArch, NASBenchGraphSpace

GCN4 = 1111  # link (0, 0, 0, 0) with four gcn slots
CHAIN = 81111  # link (0, 1, 2, 3) with four gcn slots


def record(valid=0.8, test=0.79, latency=0.01, para=1.5):
    return {"valid_perf": valid, "perf": test, "latency": latency, "para": para}


@pytest.fixture(scope="module")
def package():
    return pytest.importorskip(
        "nas_bench_graph",
        reason="the nas-bench-graph package (extra 'graph') holds the benchmark files",
    )


@pytest.fixture(scope="module")
def cora(package):
    return load_nasbench_graph("cora")


def write(tmp_path, payload, name="small.bench"):
    path = tmp_path / name
    with open(path, "wb") as handle:
        pickle.dump(payload, handle)
    return path


def test_cora_matches_the_package(cora, package):
    bench = package.light_read("cora")
    assert len(cora.archs) == 26206
    assert cora.bench_keys.tolist() == list(bench)
    space = cora.space
    assert [space.key(arch) for arch in cora.archs[::500]] == cora.bench_keys[::500].tolist()
    for field, name in [("y_valid", "valid_perf"), ("y_test", "perf"), ("params", "para"),
                        ("latency", "latency")]:
        np.testing.assert_array_equal(cora[field], [bench[k][name] for k in bench])
    np.testing.assert_array_equal(cora.y, cora.y_valid)
    assert cora.metric == "valid" and cora.target_name == "valid_perf"
    assert cora.dataset == "cora" and "NAS-Bench-Graph (cora)" in cora.DESCR


def test_test_metric(package):
    data = load_nasbench_graph("citeseer", metric="test")
    np.testing.assert_array_equal(data.y, data.y_test)
    assert data.target_name == "perf"


def test_proteins_uses_the_reduced_op_set(package):
    data = load_nasbench_graph("proteins")
    assert data.space == NASBenchGraphSpace(op_set="proteins")
    assert len(data.archs) == 2021
    assert {op for arch in data.archs for op in arch.ops} <= set(data.space.op_names)


def test_explicit_path_without_the_package(tmp_path, monkeypatch):
    path = write(tmp_path, {GCN4: record(), CHAIN: record(valid=np.float64(0.7), para=2.0)})
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    data = load_nasbench_graph(path=path)
    assert data.archs == [
        GraphArch((0, 0, 0, 0), ("gcn",) * 4),
        GraphArch((0, 1, 2, 3), ("gcn",) * 4),
    ]
    assert data.y.tolist() == [0.8, 0.7] and data.params.tolist() == [1.5, 2.0]


def test_missing_package_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(FileNotFoundError, match=r"pip install sknar\[graph\].*path="):
        load_nasbench_graph("cora")


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown NAS-Bench-Graph dataset 'mnist'"):
        load_nasbench_graph("mnist")
    with pytest.raises(ValueError, match="metric must be one of"):
        load_nasbench_graph(metric="accuracy")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_nasbench_graph(path=tmp_path / "absent.bench")


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "was_run"
    path = write(tmp_path, {GCN4: {**record(), "para": _RunsCode(marker)}})
    with pytest.raises(ValueError, match=r"small.bench: .*refusing to load .*mkdir"):
        load_nasbench_graph(path=path)
    assert not marker.exists()


def test_numpy_arrays_are_refused(tmp_path):
    path = write(tmp_path, {GCN4: {**record(), "para": np.array([1], dtype=object)}})
    with pytest.raises(ValueError, match="refusing to load"):
        load_nasbench_graph(path=path)


@pytest.mark.parametrize(
    "payload, message",
    [
        ([record()], "expected a non-empty dict"),
        ({}, "expected a non-empty dict"),
        ({99999: record()}, "record 99999: bad architecture key"),
        ({2111: record()}, "record 2111: bad architecture key.*not canonical"),
        ({"1111": record()}, "record '1111': bad architecture key"),
        ({GCN4: [0.8]}, "record 1111: a record must be a dict"),
        ({GCN4: {"perf": 0.8}}, "record 1111: expected the fields"),
        ({GCN4: record(valid=float("nan"))}, "record 1111: valid_perf is nan"),
        ({GCN4: record(test=np.float64("inf"))}, "record 1111: perf is inf"),
        ({GCN4: record(test=80.0)}, r"record 1111: perf = 80.0 is not an accuracy in \[0, 1\]"),
        ({GCN4: record(latency=-1.0)}, "record 1111: latency = -1.0 is negative"),
        ({GCN4: record(para="1.5")}, "record 1111: para must be a number"),
    ],
)
def test_bad_records_name_the_file_and_record(tmp_path, payload, message):
    path = write(tmp_path, payload)
    with pytest.raises(ValueError, match=message) as info:
        load_nasbench_graph(path=path)
    assert str(path) in str(info.value)


def test_gat_outside_the_proteins_op_set_is_refused(tmp_path):
    path = write(tmp_path, {1: record()})  # link 0 with ops gat, gat, gat, gcn
    assert load_nasbench_graph("cora", path=path).archs[0].ops == ("gat", "gat", "gat", "gcn")
    with pytest.raises(ValueError, match="record 1: bad architecture key"):
        load_nasbench_graph("proteins", path=path)


def test_truncated_file(tmp_path):
    path = write(tmp_path, {GCN4: record(), CHAIN: record()})
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ValueError, match="not a readable NAS-Bench-Graph bench file"):
        load_nasbench_graph(path=path)


def test_the_unpickler_allows_only_numeric_numpy_globals():
    unpickler = _nasbench_graph._BenchUnpickler
    assert set(unpickler._ALLOWED) == {
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "dtype"),
    }
    with pytest.raises(pickle.UnpicklingError, match="refusing to build numpy dtype 'O'"):
        _nasbench_graph._numeric_dtype("O")
