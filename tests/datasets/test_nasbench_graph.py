import importlib.util
import os
import pickle
import struct
import time
import tracemalloc

import numpy as np
import pytest

from sknar.datasets import _nasbench_graph, load_nasbench_graph
from sknar.spaces.nasbench_graph import GraphArch, NASBenchGraphSpace
from sknar.utils.testing import require_data

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
    data = load_nasbench_graph(path=path, allow_subset=True)
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
    data = load_nasbench_graph("cora", path=path, allow_subset=True)
    assert data.archs[0].ops == ("gat", "gat", "gat", "gcn")
    with pytest.raises(ValueError, match="record 1: bad architecture key"):
        load_nasbench_graph("proteins", path=path, allow_subset=True)


def test_truncated_file(tmp_path):
    path = write(tmp_path, {GCN4: record(), CHAIN: record()})
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ValueError, match="not a readable NAS-Bench-Graph bench file"):
        load_nasbench_graph(path=path)


def test_the_reader_allows_only_numeric_numpy_globals_and_bytes():
    assert set(_nasbench_graph._ALLOWED_CALLS) == {
        ("_codecs", "encode"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "dtype"),
    }
    with pytest.raises(ValueError, match="refusing to build numpy dtype 'O'"):
        _nasbench_graph._numeric_dtype("O")


def test_the_space_sizes_of_the_loader_are_the_spaces():
    assert _nasbench_graph.SPACE_SIZES == {
        "full": NASBenchGraphSpace().size,
        "proteins": NASBenchGraphSpace(op_set="proteins").size,
    }


def test_a_part_of_the_benchmark_is_refused_unless_asked_for(tmp_path):
    path = write(tmp_path, {GCN4: record(), CHAIN: record()})
    message = r"small.bench: holds 2 of the 26,206 architectures of NAS-Bench-Graph \(cora\)"
    with pytest.raises(ValueError, match=f"{message}.*allow_subset=True"):
        load_nasbench_graph(path=path)
    data = load_nasbench_graph(path=path, allow_subset=True)
    assert "Coverage: a part of the benchmark (2 of 26,206 architectures)" in data.DESCR
    with pytest.raises(ValueError, match="allow_subset must be True or False"):
        load_nasbench_graph(path=path, allow_subset="no")


def test_the_package_files_are_whole(cora):
    assert "Coverage: the whole benchmark." in cora.DESCR


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_every_pickle_protocol_reads_the_same(tmp_path, protocol):
    payload = {
        GCN4: record(valid=np.float64(0.8), para=np.float32(1.5)),
        CHAIN: record(latency=np.int64(2), para=3),
    }
    path = tmp_path / "p.bench"
    path.write_bytes(pickle.dumps(payload, protocol=protocol))
    data = load_nasbench_graph(path=path, allow_subset=True)
    assert data.y.tolist() == [0.8, 0.8] and data.latency.tolist() == [0.01, 2.0]
    assert data.params.tolist() == [1.5, 3.0]


def test_a_big_endian_scalar_keeps_its_value(tmp_path):
    value = np.array([0.625], dtype=">f8")[0]
    path = write(tmp_path, {GCN4: record(valid=value)})
    assert load_nasbench_graph(path=path, allow_subset=True).y.tolist() == [0.625]
    assert np.dtype("f8").byteorder == "="  # numpy's shared dtype is untouched


# --- hostile files: each refused in well under a second and a few MB ---------------------


def _op(name, argument=b""):
    return getattr(pickle, name) + argument


def _text(value):
    raw = value.encode()
    return _op("BINUNICODE", struct.pack("<I", len(raw)) + raw)


def _in_a_record(value_ops):
    """A .bench pickle {1111: {"valid_perf": <value_ops>, "perf": ..., ...}}."""
    fields = b"".join(
        _text(name) + _op("BINFLOAT", struct.pack(">d", 0.5))
        for name in ("perf", "latency", "para")
    )
    return (
        _op("PROTO", b"\x03") + _op("EMPTY_DICT") + _op("MARK")
        + _op("BININT2", struct.pack("<H", GCN4)) + _op("EMPTY_DICT") + _op("MARK")
        + _text("valid_perf") + value_ops + fields
        + _op("SETITEMS") + _op("SETITEMS") + _op("STOP")
    )


def _shared_list(levels):
    """List i holds list i-1 twice, through the memo: 2**levels leaves in a few bytes each."""
    ops = _op("EMPTY_LIST") + _op("BINPUT", b"\x00")
    for level in range(1, levels + 1):
        previous = _op("BINGET", bytes([level - 1]))
        ops += (
            _op("EMPTY_LIST") + _op("MARK") + previous + previous + _op("APPENDS")
            + _op("BINPUT", bytes([level]))
        )
    return ops


def _many_references(length, count):
    """A list of ``count`` references to one string of ``length`` characters."""
    return (
        _op("EMPTY_LIST") + _op("MARK") + _text("x" * length) + _op("BINPUT", b"\x00")
        + _op("BINGET", b"\x00") * (count - 1) + _op("APPENDS")
    )


def _nested(depth):
    return _op("EMPTY_LIST") * depth + _op("APPEND") * (depth - 1)


HEADER_201 = "CIFAR10TestAccuracy200Epochs,CIFAR100TestAccuracy200Epochs,ArchitectureString"
HOSTILE = {
    # 9 bytes asking the standard unpickler for a memo of 2**32 slots
    "huge memo index": (
        _op("PROTO", b"\x03") + _op("EMPTY_LIST") + _op("LONG_BINPUT", b"\xf0\xff\xff\xff")
        + _op("STOP"),
        r"byte 3 \(LONG_BINPUT\): memo index 4,294,967,280 is beyond the 4,000,000 allowed",
    ),
    "a list of 2**29 shared leaves": (
        _in_a_record(_shared_list(29)),
        r"\(BINGET\): memo entry 0 \(a list\) is fetched again: shared containers are refused",
    ),
    "a 10-million-character repr": (
        _in_a_record(_many_references(4000, 2500)),
        r"record 1111: valid_perf must be a number, got \['xxx",
    ),
    "a NAS-Bench-201 CSV": (
        f"{HEADER_201}\n85.8,52.9,26.6,|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|"
        "none~2|,x\n".encode(),
        r"it does not start with a binary pickle header \(protocol 2 to 5\); its first bytes "
        r"are b'CIFAR10T'",
    ),
    "containers nested 20 deep": (
        _in_a_record(_nested(20)), r"\(APPEND\): containers nested deeper than 8 levels"
    ),
    "a string of 4 GiB": (
        _op("PROTO", b"\x03") + _op("BINUNICODE", b"\xff\xff\xff\xff") + b"x" + _op("STOP"),
        r"byte 2 \(BINUNICODE\): a string of 4,294,967,295 bytes is longer than the 4,096",
    ),
    "bytes of 4 GiB": (
        _op("PROTO", b"\x03") + _op("BINBYTES", b"\xff\xff\xff\xff") + _op("STOP"),
        r"\(BINBYTES\): a bytes object of 4,294,967,295 bytes is longer",
    ),
    "a frame past the end": (
        _op("PROTO", b"\x04") + _op("FRAME", b"\xff" * 8) + _op("STOP"),
        r"\(FRAME\): its argument runs past the end of the data",
    ),
    "an integer of 255 bytes": (
        _op("PROTO", b"\x03") + _op("LONG1", b"\xff" + b"\x01" * 255) + _op("STOP"),
        r"\(LONG1\): an integer of 255 bytes",
    ),
    "a key twice": (
        _op("PROTO", b"\x03") + _op("EMPTY_DICT") + _op("MARK")
        + (_op("BININT2", struct.pack("<H", GCN4)) + _op("NONE")) * 2
        + _op("SETITEMS") + _op("STOP"),
        r"\(SETITEMS\): a dict key appears twice",
    ),
    "a list as a key": (
        _op("PROTO", b"\x03") + _op("EMPTY_DICT") + _op("MARK") + _op("EMPTY_LIST")
        + _op("NONE") + _op("SETITEMS") + _op("STOP"),
        r"\(SETITEMS\): a list cannot be a dict key",
    ),
    "a call of a non-function": (
        _op("PROTO", b"\x03") + _op("NONE") + _op("EMPTY_TUPLE") + _op("REDUCE") + _op("STOP"),
        r"\(REDUCE\): calls something that is not an allowed global",
    ),
    "a state set on a dict": (
        _op("PROTO", b"\x03") + _op("EMPTY_DICT") + _op("EMPTY_DICT") + _op("BUILD")
        + _op("STOP"),
        r"\(BUILD\): refused state: only the state of a plain numeric numpy dtype",
    ),
    "a numpy dtype of objects": (
        _op("PROTO", b"\x03") + _op("GLOBAL", b"numpy\ndtype\n") + _text("O")
        + _op("TUPLE1") + _op("REDUCE") + _op("STOP"),
        r"\(REDUCE\): numpy.dtype refused its arguments: refusing to build numpy dtype 'O'",
    ),
    "bytes after the end": (
        _op("PROTO", b"\x03") + _op("NONE") + _op("STOP") + b"\x00" * 10,
        r"\(STOP\): 10 bytes follow the end of the pickle",
    ),
    "no STOP": (
        _op("PROTO", b"\x03") + _op("EMPTY_DICT"),
        "the data ends before the STOP opcode",
    ),
    "an empty stack": (
        _op("PROTO", b"\x03") + _op("APPEND") + _op("STOP"),
        r"\(APPEND\): finds too few items on the stack",
    ),
    "an opcode that plain data does not need": (
        _op("PROTO", b"\x03") + _op("EMPTY_SET") + _op("STOP"),
        r"byte 2 \(EMPTY_SET\): an opcode that plain data does not need",
    ),
}


def _refused_quickly(path, match):
    """Load ``path`` and check the refusal: its message, its time and its memory."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=match) as info:
            load_nasbench_graph(path=path, allow_subset=True)
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    message = str(info.value)
    assert message.startswith(f"{path}")
    assert "\n" not in message and len(message) < 400, message[:1000]
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MiB"


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_are_refused_quickly_in_bounded_memory(tmp_path, name):
    content, match = HOSTILE[name]
    path = tmp_path / "hostile.bench"
    path.write_bytes(content)
    _refused_quickly(path, match)


def test_the_nasbench201_export_as_a_bench_file(tmp_path):
    path = require_data("nasbench201/nats_tss_test_acc_200ep.csv")
    _refused_quickly(path, "does not start with a binary pickle header")


def test_a_file_larger_than_any_bench_file(tmp_path):
    path = tmp_path / "huge.bench"
    with open(path, "wb") as handle:
        handle.truncate(_nasbench_graph.LIMITS.max_bytes + 1)  # sparse: nothing is written
    _refused_quickly(path, "holds 16,777,217 bytes, more than the 16,777,216 a bench file may")


def test_the_opcode_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(
        _nasbench_graph, "LIMITS", _nasbench_graph.LIMITS._replace(max_opcodes=1000)
    )
    path = tmp_path / "long.bench"
    path.write_bytes(
        _op("PROTO", b"\x03") + _op("EMPTY_LIST") + _op("MARK") + _op("NONE") * 2000
        + _op("APPENDS") + _op("STOP")
    )
    _refused_quickly(path, r"byte 1002 \(NONE\): more than 1,000 opcodes")


def test_an_empty_file_and_a_directory(tmp_path):
    path = tmp_path / "empty.bench"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.bench: the file is empty; expected a NAS-Bench"):
        load_nasbench_graph(path=path)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        load_nasbench_graph(path=tmp_path)
