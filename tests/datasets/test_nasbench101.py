"""Tests of the NAS-Bench-101 loader on the real files and on broken copies of them."""

import gzip
import hashlib
import json

import numpy as np
import pytest

from sknar.datasets import NASBENCH101_METRICS, load_nasbench101
from sknar.datasets._nasbench101 import PUBLISHED_SLICES, _coverage
from sknar.spaces.nasbench101 import NASBench101Cell, NASBench101Space
from sknar.utils.testing import require_data

OFFICIAL = "nasbench101/nb101_official_records_30.json"
RECORDS = "nasbench101/nb101_20k_val108.json.gz"
NAR_EXAMPLE = "nar_reference/nasbench101_vertice_example.json"


@pytest.fixture(scope="module")
def default_data():
    require_data(RECORDS)
    return load_nasbench101()


@pytest.fixture(scope="module")
def raw_records():
    with gzip.open(require_data(RECORDS), "rt") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def raw_official():
    with open(require_data(OFFICIAL)) as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def raw_nar():
    with open(require_data(NAR_EXAMPLE)) as handle:
        return json.load(handle)


def _write(path, content, compress=False):
    text = json.dumps(content)
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


# --- the three layouts -----------------------------------------------------------------


def test_default_records_file(default_data, raw_records):
    data = default_data
    assert data.layout == "records" and data.metric == data.target_name == "val_acc_108"
    assert len(data.archs) == len(data.y) == len(data.hashes) == 20001
    assert all(isinstance(cell, NASBench101Cell) for cell in data.archs[:100])
    assert isinstance(data.space, NASBench101Space)
    # facts of the file stated in the data README
    assert data.y.max() == pytest.approx(0.949, abs=5e-4)
    assert data.y.mean() == pytest.approx(0.910, abs=5e-4)
    np.testing.assert_array_equal(data.hashes, [r["hash"] for r in raw_records])
    np.testing.assert_array_equal(data.y, [r["val_acc_108"] for r in raw_records])
    np.testing.assert_array_equal(data.params, [r["trainable_parameters"] for r in raw_records])
    np.testing.assert_array_equal(
        data.training_time, [r["final_training_time_108"] for r in raw_records]
    )
    assert data.params.dtype == np.int64 and data.y.dtype == np.float64
    assert data.flops is None
    assert data.archs[5] == data.space.validate((raw_records[5]["matrix"], raw_records[5]["ops"]))
    assert "val_acc_108" in data.DESCR and "20001" in data.DESCR


def test_records_metrics(raw_records, tmp_path):
    path = _write(tmp_path / "records.json.gz", raw_records[:300], compress=True)
    data = load_nasbench101(path, metric="val_acc_12", allow_subset=True)
    np.testing.assert_array_equal(data.y, [r["val_acc_12"] for r in raw_records[:300]])
    with pytest.raises(ValueError, match="unknown metric 'test_acc_108'.*'records'.*val_acc_36"):
        load_nasbench101(path, metric="test_acc_108", allow_subset=True)


@pytest.mark.parametrize(
    "metric, epochs, field",
    [
        ("val_acc_108", "108", "final_validation_accuracy"),
        ("test_acc_108", "108", "final_test_accuracy"),
        ("final_test_accuracy", "108", "final_test_accuracy"),
        ("halfway_validation_accuracy", "108", "halfway_validation_accuracy"),
    ],
)
def test_official_layout_averages_the_runs(raw_official, metric, epochs, field):
    data = load_nasbench101(require_data(OFFICIAL), metric=metric, allow_subset=True)
    assert data.layout == "official" and len(data.archs) == 30
    expected = [
        np.mean([run[field] for run in r["computed"][epochs]]) for r in raw_official.values()
    ]
    np.testing.assert_allclose(data.y, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(data.hashes, list(raw_official))
    times = [
        np.mean([run["final_training_time"] for run in r["computed"]["108"]])
        for r in raw_official.values()
    ]
    np.testing.assert_allclose(data.training_time, times)
    np.testing.assert_array_equal(
        data.params, [r["fixed"]["trainable_parameters"] for r in raw_official.values()]
    )


def test_official_layout_missing_epoch_budget(raw_official, tmp_path):
    path = _write(tmp_path / "official.json", raw_official)
    with pytest.raises(ValueError, match=r"record 0 \(ff92c3.*'computed'.*missing.*'36'"):
        load_nasbench101(path, metric="val_acc_36")


def test_nar_layout(raw_nar):
    data = load_nasbench101(require_data(NAR_EXAMPLE), allow_subset=True)
    record = raw_nar[0]
    assert data.layout == "nar"
    assert data.y.tolist() == [record["avg_validation_accuracy"]]
    assert data.hashes.tolist() == [record["unique_hash"]]
    assert data.flops.tolist() == [record["flops"]]
    assert data.training_time.tolist() == [record["avg_training_time"]]
    test = load_nasbench101(
        require_data(NAR_EXAMPLE), metric="avg_test_accuracy", allow_subset=True
    )
    assert test.y.tolist() == [record["avg_test_accuracy"]]
    with pytest.raises(ValueError, match="unknown metric 'val_acc_4'.*'nar'"):
        load_nasbench101(require_data(NAR_EXAMPLE), metric="val_acc_4", allow_subset=True)


def test_layout_is_read_from_the_content(raw_records, raw_nar, tmp_path):
    # a gzip'd NAR file and a plain records file, whatever their names say
    nar = load_nasbench101(
        _write(tmp_path / "nar.json", raw_nar, compress=True), allow_subset=True
    )
    assert nar.layout == "nar"
    records = load_nasbench101(
        _write(tmp_path / "records.json.gz", raw_records[:50]), allow_subset=True
    )
    assert records.layout == "records" and len(records.archs) == 50


def test_data_home_and_missing_file(raw_records, tmp_path):
    folder = tmp_path / "nasbench101"
    folder.mkdir()
    _write(folder / "nb101_20k_val108.json.gz", raw_records[:10], compress=True)
    assert len(load_nasbench101(data_home=tmp_path, allow_subset=True).archs) == 10
    with pytest.raises(FileNotFoundError, match="nb101_20k_val108.json.gz.*sknar data home"):
        load_nasbench101(data_home=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="missing.json"):
        load_nasbench101(tmp_path / "missing.json")


def test_metric_names_are_documented():
    assert "val_acc_108" in NASBENCH101_METRICS["records"]
    assert "val_acc_108" in NASBENCH101_METRICS["official"]
    assert "val_acc_108" in NASBENCH101_METRICS["nar"]
    assert "final_test_accuracy" in NASBENCH101_METRICS["official"]


# --- broken files ----------------------------------------------------------------------


def _broken_records(raw_records, index, change):
    records = json.loads(json.dumps(raw_records[:5]))
    change(records[index])
    return records


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r.update(hash="0" * 32), r"record 2: the hash '0{32}' does not match"),
        (lambda r: r.pop("val_acc_108"), r"record 2: missing field\(s\) \['val_acc_108'\]"),
        (lambda r: r.pop("ops"), r"record 2: missing field\(s\) \['ops'\]"),
        (lambda r: r.update(val_acc_108=float("nan")), "record 2, val_acc_108: accuracy nan"),
        (lambda r: r.update(val_acc_108=93.1), "record 2, val_acc_108: accuracy 93.1 is not"),
        (lambda r: r.update(val_acc_108="0.9"), "record 2, val_acc_108: accuracy '0.9'"),
        (lambda r: r.update(trainable_parameters=-1), "record 2, trainable_parameters"),
        (lambda r: r["ops"].__setitem__(1, "conv5x5"), "record 2: bad cell: unknown op"),
        (lambda r: r.update(matrix=[[0, 1], [1, 0]], ops=["input", "output"]), "record 2: .*cycle"),
        (lambda r: r.update(final_training_time_108=-3.0), "record 2: training time -3.0"),
    ],
)
def test_bad_record_is_named(raw_records, tmp_path, change, message):
    path = _write(tmp_path / "bad.json", _broken_records(raw_records, 2, change))
    with pytest.raises(ValueError, match=message) as info:
        load_nasbench101(path)
    assert str(path) in str(info.value)


def test_duplicate_record(raw_records, tmp_path):
    path = _write(tmp_path / "dup.json", [*raw_records[:3], raw_records[1]])
    with pytest.raises(ValueError, match=r"record 3: duplicate cell .*also record 1"):
        load_nasbench101(path)


def test_non_object_record(raw_records, tmp_path):
    path = _write(tmp_path / "list.json", [raw_records[0], [1, 2]])
    with pytest.raises(ValueError, match="record 1: a record must be a JSON object"):
        load_nasbench101(path)


def test_bad_official_and_nar_records(raw_official, raw_nar, tmp_path):
    official = json.loads(json.dumps(raw_official))
    key = list(official)[4]
    official[key]["computed"]["108"][1]["final_validation_accuracy"] = None
    path = _write(tmp_path / "official.json", official)
    with pytest.raises(ValueError, match=rf"record 4 \({key}\), computed\['108'\]\[1\]"):
        load_nasbench101(path)
    nar = json.loads(json.dumps(raw_nar))
    nar[0]["unique_hash"] = "f" * 32
    with pytest.raises(ValueError, match="record 0: the hash 'f{32}' does not match"):
        load_nasbench101(_write(tmp_path / "nar.json", nar))


@pytest.mark.parametrize(
    "content, message",
    [
        (b'[{"hash": ', "not a valid JSON file"),
        (b"\x1f\x8b\x08\x00garbage", "gzip data ends early"),
        (b"\x1f\x8bnot gzip at all", "corrupt gzip data"),
        (b"[]", "not a NAS-Bench-101 file"),
        (b'{"a": [1, 2]}', "not a NAS-Bench-101 file"),
        (b'[{"arch_str": "|none~0|"}]', "not a NAS-Bench-101 file"),
    ],
)
def test_malformed_files(tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        load_nasbench101(path)
    assert str(path) in str(info.value)


def test_truncated_gzip(raw_records, tmp_path):
    whole = gzip.compress(json.dumps(raw_records[:20]).encode())
    path = tmp_path / "cut.json.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="cut.json.gz: the gzip data ends early"):
        load_nasbench101(path, allow_subset=True)


# --- the whole benchmark, a published slice, or a subset on purpose ----------------------


def test_the_default_file_is_recognised_as_the_published_slice(default_data, raw_records):
    assert "Coverage: the published 20,001-cell slice" in default_data.DESCR
    fingerprint = hashlib.sha256("\n".join(sorted(default_data.hashes)).encode()).hexdigest()
    assert fingerprint in PUBLISHED_SLICES


def test_the_slice_is_recognised_by_its_hashes_in_any_order(default_data):
    hashes = list(default_data.hashes)
    coverage = _coverage(hashes[::-1], 423_624, "mine.json", allow_subset=False)
    assert coverage.startswith("Coverage: the published 20,001-cell slice")
    with pytest.raises(ValueError, match="mine.json: holds 20,000 of the 423,624"):
        _coverage(hashes[1:], 423_624, "mine.json", allow_subset=False)


def test_a_part_of_the_benchmark_is_refused_unless_asked_for(raw_records, tmp_path):
    path = _write(tmp_path / "part.json.gz", raw_records[:200], compress=True)
    message = (
        r"part.json.gz: holds 200 of the 423,624 NAS-Bench-101 cells and is not a "
        r"published slice .*allow_subset=True"
    )
    with pytest.raises(ValueError, match=message):
        load_nasbench101(path)
    data = load_nasbench101(path, allow_subset=True)
    assert len(data.archs) == 200
    assert "Coverage: a part of the benchmark (200 of 423,624 cells)" in data.DESCR


def test_official_records_are_a_subset(raw_official):
    with pytest.raises(ValueError, match="holds 30 of the 423,624"):
        load_nasbench101(require_data(OFFICIAL))


@pytest.mark.parametrize("compress", [False, True])
def test_a_cut_file_is_refused_even_as_a_subset(raw_records, tmp_path, compress):
    text = json.dumps(raw_records[:50]).encode()
    whole = gzip.compress(text) if compress else text
    path = tmp_path / "cut.json"
    path.write_bytes(whole[: int(len(whole) * 0.7)])
    message = "the gzip data ends early" if compress else "not a valid JSON file"
    with pytest.raises(ValueError, match=rf"cut.json: {message}"):
        load_nasbench101(path, allow_subset=True)


def test_allow_subset_must_be_a_bool(tmp_path):
    with pytest.raises(ValueError, match="allow_subset must be True or False, got 'yes'"):
        load_nasbench101(tmp_path / "x.json", allow_subset="yes")


def test_messages_quote_file_content_briefly(raw_records, tmp_path):
    records = json.loads(json.dumps(raw_records[:3]))
    records[1]["val_acc_108"] = "9" * 100_000
    records[2]["hash"] = ["x" * 1000] * 1000
    path = _write(tmp_path / "long.json", records)
    with pytest.raises(ValueError, match="record 1, val_acc_108: accuracy '9999") as info:
        load_nasbench101(path, allow_subset=True)
    assert len(str(info.value)) < 400 and "\n" not in str(info.value)
    records[1]["val_acc_108"] = 0.9
    with pytest.raises(ValueError, match=r"record 2: the hash \[") as info:
        load_nasbench101(_write(path, records), allow_subset=True)
    assert len(str(info.value)) < 400


# --- the fidelities: validation accuracy after 4, 12, 36 and 108 epochs ----------------


def test_validation_accuracy_of_every_budget_lines_up_with_the_cells(default_data, raw_records):
    by_epochs = default_data.val_acc_by_epochs
    assert sorted(by_epochs) == [4, 12, 36, 108]
    for epochs, values in by_epochs.items():
        assert values.shape == (20001,) and values.dtype == np.float64
        np.testing.assert_array_equal(values, [r[f"val_acc_{epochs}"] for r in raw_records])
    np.testing.assert_array_equal(by_epochs[108], default_data.y)
    # a short training ranks below a long one on average: the files' budgets are not mixed up
    means = [by_epochs[epochs].mean() for epochs in (4, 12, 36, 108)]
    assert means == sorted(means)


def test_budgets_some_records_lack_are_left_out(raw_records, raw_official, raw_nar, tmp_path):
    records = [dict(r) for r in raw_records[:50]]
    del records[7]["val_acc_4"]
    data = load_nasbench101(_write(tmp_path / "r.json", records), allow_subset=True)
    assert sorted(data.val_acc_by_epochs) == [12, 36, 108]
    records[3]["val_acc_12"] = 1.5
    with pytest.raises(ValueError, match=r"record 3, val_acc_12: accuracy 1.5 is not a finite"):
        load_nasbench101(_write(tmp_path / "r.json", records), allow_subset=True)
    official = load_nasbench101(require_data(OFFICIAL), allow_subset=True)
    assert sorted(official.val_acc_by_epochs) == [108]
    np.testing.assert_allclose(official.val_acc_by_epochs[108], official.y)
