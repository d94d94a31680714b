import gzip
import json

import numpy as np
import pytest

from sknar.datasets import load_nasbench201
from sknar.spaces.nasbench201 import NASBench201Space
from sknar.utils.testing import require_data

CSV_FILE = "nasbench201/nats_tss_test_acc_200ep.csv"
EXAMPLE = "nar_reference/nasbench201_vertice_example.json"
HEADER = (
    "CIFAR10TestAccuracy200Epochs,CIFAR100TestAccuracy200Epochs,ImageNetTestAccuracy200Epochs,"
    "ArchitectureString,UniqueString"
)
ARCH_A = (
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
)
ARCH_B = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)


@pytest.fixture(scope="module")
def cifar10():
    require_data(CSV_FILE)
    return load_nasbench201("cifar10")


@pytest.mark.parametrize(
    "dataset, best", [("cifar10", 94.373), ("cifar100", 73.513), ("ImageNet16-120", 47.311)]
)
def test_best_test_accuracy(dataset, best):
    require_data(CSV_FILE)
    data = load_nasbench201(dataset)
    assert round(float(data.y.max()), 3) == best
    assert data.dataset == dataset and data.y.dtype == np.float64


def test_csv_bunch(cifar10):
    data = cifar10
    assert len(data.archs) == len(set(data.archs)) == 15625
    assert data.y.shape == data.index.shape == data.flops.shape == (15625,)
    np.testing.assert_array_equal(data.index, np.arange(15625))
    assert isinstance(data.space, NASBench201Space)
    assert data.target_name == "CIFAR10TestAccuracy200Epochs"
    assert "NAS-Bench-201" in data.DESCR and "15625" in data.DESCR
    assert len(set(data.unique_string)) == 6466
    # row 1 of the export, quoted in the data documentation
    assert data.archs[1] == ARCH_B
    assert all(data.space.validate(arch) == arch for arch in data.archs[::101])


def test_csv_costs_equal_the_nar_record_of_the_same_cell(cifar10):
    with open(require_data(EXAMPLE)) as handle:
        record = json.load(handle)["0"]
    assert cifar10.archs[0] == record["arch_str"]
    assert cifar10.flops[0] == record["cifar10-valid_total_flops"]
    assert cifar10.params[0] == record["cifar10-valid_total_params"]
    assert cifar10.y[0] == pytest.approx(record["cifar10_test_acc"])


@pytest.mark.parametrize(
    "dataset, prefix, network",
    [
        ("cifar10", "cifar10", "cifar10-valid"),
        ("cifar100", "cifar100", "cifar100"),
        ("ImageNet16-120", "imagenet16", "ImageNet16-120"),
    ],
)
def test_nar_json(dataset, prefix, network):
    path = require_data(EXAMPLE)
    with open(path) as handle:
        record = json.load(handle)["0"]
    data = load_nasbench201(dataset, path=path, allow_subset=True)
    assert data.archs == [record["arch_str"]]
    assert data.y.tolist() == [record[f"{prefix}_test_acc"]]
    assert data.y_valid.tolist() == [record[f"{prefix}_val_acc"]]
    assert data.flops.tolist() == [record[f"{network}_total_flops"]]
    assert data.params.tolist() == [record[f"{network}_total_params"]]
    assert data.index.tolist() == [0] and data.target_name == f"{prefix}_test_acc"
    assert "unique_string" not in data


def test_nar_json_is_ordered_by_index_and_costs_are_computed_when_absent(tmp_path):
    path = tmp_path / "nar.json"
    records = {
        "10": {"arch_str": ARCH_B, "cifar10_test_acc": 93.0},
        "2": {"arch_str": ARCH_A, "cifar10_test_acc": 85.0},
    }
    path.write_text(json.dumps(records))
    data = load_nasbench201(path=path, allow_subset=True)
    assert data.index.tolist() == [2, 10] and data.archs == [ARCH_A, ARCH_B]
    assert data.y.tolist() == [85.0, 93.0]
    flops, params = NASBench201Space().total_costs([ARCH_A, ARCH_B])
    assert data.flops.tolist() == flops.tolist() and data.params.tolist() == params.tolist()
    assert "y_valid" not in data


def test_data_home_and_missing_file(tmp_path):
    folder = tmp_path / "nasbench201"
    folder.mkdir()
    (folder / "nats_tss_test_acc_200ep.csv").write_text(
        f"{HEADER}\n90.5,70.0,40.0,{ARCH_B},x\n85,52,26,{ARCH_A},y\n"
    )
    data = load_nasbench201("cifar100", data_home=tmp_path, allow_subset=True)
    assert data.archs == [ARCH_B, ARCH_A] and data.y.tolist() == [70.0, 52.0]
    assert data.unique_string.tolist() == ["x", "y"]
    with pytest.raises(FileNotFoundError, match="nats_tss_test_acc_200ep.csv was not found"):
        load_nasbench201(data_home=tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_nasbench201(path=tmp_path / "absent.csv")


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown NAS-Bench-201 dataset 'cifar'"):
        load_nasbench201("cifar")


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "the file is empty"),
        ("Accuracy,Arch\n1,2\n", "line 1: bad header, missing column"),
        (f"{HEADER}\n", "no architectures"),
        (f"{HEADER}\n90,70,40,{ARCH_B},x\n85,52,26,|bad~0|,y\n", "line 3: bad architecture"),
        (f"{HEADER}\nnan,70,40,{ARCH_B},x\n", "line 2, CIFAR10TestAccuracy200Epochs: accuracy"),
        (f"{HEADER}\n,70,40,{ARCH_B},x\n", "line 2, .*'' is not a number"),
        (f"{HEADER}\n101,70,40,{ARCH_B},x\n", "line 2.*not a finite percentage"),
        (f"{HEADER}\n90,70,40,{ARCH_B}\n", "line 2: expected 5 fields, got 4"),
        (
            f"{HEADER}\n90,70,40,{ARCH_B},x\n91,71,41,{ARCH_A},y\n92,72,42,{ARCH_B},z\n",
            r"line 4: duplicate architecture .* \(also on line 2\)",
        ),
    ],
)
def test_bad_csv_files(tmp_path, content, message):
    path = tmp_path / "broken.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        load_nasbench201(path=path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"0": {"arch_str": "A", "cifar10_test_acc": 1}, "0": {}}', "duplicate key '0'"),
        ('{"0": {"arch_str": "A"', "not a valid NAR NAS-Bench-201 JSON"),
        ("{}", "non-empty object"),
        ('{"zero": {}}', "record 'zero': the record key must be a benchmark index"),
        ('{"0": []}', "record '0': a record must be an object"),
        ('{"0": {"arch_str": "|x~0|"}}', "record '0': missing field.*cifar10_test_acc"),
        ('{"0": {"arch_str": "|x~0|", "cifar10_test_acc": 1}}', "record '0': bad arch_str"),
        (
            f'{{"0": {{"arch_str": "{ARCH_A}", "cifar10_test_acc": NaN}}}}',
            "record '0', cifar10_test_acc: accuracy nan",
        ),
        (
            f'{{"0": {{"arch_str": "{ARCH_A}", "cifar10_test_acc": 1, '
            '"cifar10-valid_total_flops": -3}}',
            "record '0', cifar10-valid_total_flops: expected a non-negative integer",
        ),
        (
            f'{{"0": {{"arch_str": "{ARCH_A}", "cifar10_test_acc": 1}}, '
            f'"1": {{"arch_str": "{ARCH_A}", "cifar10_test_acc": 2}}}}',
            r"record '1': duplicate architecture .* \(also in record '0'\)",
        ),
    ],
)
def test_bad_json_files(tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        load_nasbench201(path=path)
    assert str(path) in str(info.value)


# --- the whole benchmark, or a part on purpose; cut files --------------------------------

SPACE = NASBench201Space()
ROW_B = f"93.6,70.2,44.0,{ARCH_B},{SPACE.isomorphism_key(ARCH_B)}"
ROW_A = f"85.8,52.9,26.6,{ARCH_A},{SPACE.isomorphism_key(ARCH_A)}"


def test_a_cut_export_is_refused_at_its_cut_row(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_bytes(require_data(CSV_FILE).read_bytes()[:1_000_000])  # head -c 1000000
    message = (
        r"cut.csv, line 5134: UniqueString '' is not the key of the cell, '.*'; the file "
        r"looks cut inside this row, its last \(it has no line end\)"
    )
    for allow_subset in (False, True):
        with pytest.raises(ValueError, match=message):
            load_nasbench201(path=path, allow_subset=allow_subset)


def test_whole_rows_of_the_export_are_a_subset_on_request(tmp_path):
    lines = require_data(CSV_FILE).read_text().splitlines(keepends=True)
    path = tmp_path / "part.csv"
    path.write_text("".join(lines[:1001]))
    message = (
        r"part.csv: holds 1,000 of the 15,625 NAS-Bench-201 cells \(the last row is line "
        r"1001\): a cut or partial file\? Pass allow_subset=True"
    )
    with pytest.raises(ValueError, match=message):
        load_nasbench201(path=path)
    data = load_nasbench201(path=path, allow_subset=True)
    assert len(data.archs) == 1000
    assert "Coverage: a part of the benchmark (1,000 of 15,625 cells)" in data.DESCR


def test_the_whole_export_says_so(cifar10):
    assert "Coverage: the whole benchmark." in cifar10.DESCR


def test_a_whole_last_row_may_lack_its_line_end(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(f"{HEADER}\n{ROW_B}\n{ROW_A}")
    assert load_nasbench201(path=path, allow_subset=True).archs == [ARCH_B, ARCH_A]


@pytest.mark.parametrize(
    "cut, message",
    [
        (ROW_A[:-3], r"line 3: UniqueString '.*' is not the key of the cell"),
        (ROW_A[:2], "line 3: expected 5 fields, got 1"),
        (ROW_A[: ROW_A.index("|") + 20], "line 3: expected 5 fields, got 4"),
    ],
)
def test_a_row_cut_short_is_refused_even_in_a_subset(tmp_path, cut, message):
    path = tmp_path / "t.csv"
    path.write_text(f"{HEADER}\n{ROW_B}\n{cut}")
    with pytest.raises(ValueError, match=f"{message}.*the file looks cut inside this row"):
        load_nasbench201(path=path, allow_subset=True)


def test_a_gzipped_export_loads_like_the_plain_one(tmp_path):
    path = tmp_path / "export.csv"  # the content tells it is gzip'd, not the name
    path.write_bytes(gzip.compress(f"{HEADER}\n{ROW_B}\n{ROW_A}\n".encode()))
    data = load_nasbench201(path=path, allow_subset=True)
    assert data.archs == [ARCH_B, ARCH_A] and data.y.tolist() == [93.6, 85.8]


def test_a_part_of_the_nar_json_is_refused_unless_asked_for(tmp_path):
    path = tmp_path / "nar.json"
    path.write_text(json.dumps({"7": {"arch_str": ARCH_A, "cifar10_test_acc": 85.0}}))
    with pytest.raises(ValueError, match="nar.json: holds 1 of the 15,625 NAS-Bench-201 cells:"):
        load_nasbench201(path=path)
    assert load_nasbench201(path=path, allow_subset=True).index.tolist() == [7]


@pytest.mark.parametrize(
    "keys, message",
    [
        (["15625"], "record '15625': the record key must be a benchmark index"),
        (["0", "00"], r"record '00': index 0 is also record '0'"),
        (["\u0661"], "the record key must be a benchmark index"),
    ],
)
def test_nar_json_keys_are_benchmark_indices(tmp_path, keys, message):
    records = {
        key: {"arch_str": arch, "cifar10_test_acc": 80.0}
        for key, arch in zip(keys, [ARCH_A, ARCH_B])
    }
    path = tmp_path / "nar.json"
    path.write_text(json.dumps(records))
    with pytest.raises(ValueError, match=message):
        load_nasbench201(path=path, allow_subset=True)


def test_allow_subset_must_be_a_bool():
    with pytest.raises(ValueError, match="allow_subset must be True or False, got 1"):
        load_nasbench201(allow_subset=1)


# --- the 12-epoch schedule (the low fidelity of CIFAR-10) ------------------------------

SHORT_FILE = "nasbench201/nats_tss_cifar10_12ep.csv"
SHORT_HEADER = "ArchitectureString,CIFAR10ValidAccuracy12Epochs,CIFAR10TestAccuracy12Epochs"


def test_12_epochs_line_up_with_the_main_file(cifar10):
    from sknar.datasets import load_nasbench201_12_epochs

    require_data(SHORT_FILE)
    data = load_nasbench201_12_epochs()
    assert data.archs == cifar10.archs and len(data.archs) == 15625
    np.testing.assert_array_equal(data.y_200, cifar10.y)
    np.testing.assert_array_equal(data.index, np.arange(15625))
    assert data.y is data.y_valid_12
    for values in (data.y_valid_12, data.y_test_12):
        assert values.shape == (15625,) and values.dtype == np.float64
        assert 0 <= values.min() and values.max() <= 100
    # row 1 of the file, and what 12 epochs against 200 look like on average
    assert data.y_valid_12[1] == pytest.approx(82.834, abs=1e-3)
    assert data.y_test_12[1] == 88.22
    assert data.y_test_12.mean() < data.y_200.mean()
    assert np.corrcoef(data.y_valid_12, data.y_200)[0, 1] > 0.5
    assert "12-epoch" in data.DESCR and SHORT_FILE in data.DESCR


@pytest.fixture
def short_files(tmp_path):
    """A main file of two cells and a 12-epoch file of the same two."""
    space = NASBench201Space()
    main = tmp_path / "main.csv"
    main.write_text(
        HEADER
        + "\n"
        + "".join(
            f"{90 - i},{70 - i},{40 - i},{arch},{space.isomorphism_key(arch)}\n"
            for i, arch in enumerate((ARCH_A, ARCH_B))
        )
    )
    short = tmp_path / "short.csv"
    short.write_text(f"{SHORT_HEADER}\n{ARCH_A},63.5,69.5\n{ARCH_B},82.5,88.0\n")
    return main, short


def test_12_epochs_from_given_files_and_their_checks(short_files, tmp_path):
    from sknar.datasets import load_nasbench201_12_epochs

    main, short = short_files
    data = load_nasbench201_12_epochs(path=short, main_path=main, allow_subset=True)
    assert data.archs == [ARCH_A, ARCH_B]
    np.testing.assert_array_equal(data.y_valid_12, [63.5, 82.5])
    np.testing.assert_array_equal(data.y_test_12, [69.5, 88.0])
    np.testing.assert_array_equal(data.y_200, [90, 89])
    with pytest.raises(ValueError, match="holds 2 of the 15,625 NAS-Bench-201 cells"):
        load_nasbench201_12_epochs(path=short, main_path=main)
    bad = {
        "swapped": (
            f"{SHORT_HEADER}\n{ARCH_B},82.5,88.0\n{ARCH_A},63.5,69.5\n",
            r"short.csv, line 2: cell .*nor_conv_3x3.* where the main file has .*avg_pool_3x3",
        ),
        "one row": (f"{SHORT_HEADER}\n{ARCH_A},63.5,69.5\n", "holds 1 cells, the main file 2"),
        "three rows": (
            f"{SHORT_HEADER}\n{ARCH_A},1,1\n{ARCH_B},1,1\n{ARCH_A},1,1\n",
            "line 4: .* where the main file has no more rows",
        ),
        "no column": (
            "ArchitectureString,CIFAR10ValidAccuracy12Epochs\n",
            r"line 1: bad header, missing column\(s\) \['CIFAR10TestAccuracy12Epochs'\]",
        ),
        "a bad accuracy": (
            f"{SHORT_HEADER}\n{ARCH_A},63.5,169.5\n{ARCH_B},82.5,88.0\n",
            r"line 2, CIFAR10TestAccuracy12Epochs: accuracy 169.5 is not a finite percentage",
        ),
        "a short row": (f"{SHORT_HEADER}\n{ARCH_A},63.5\n", "line 2: expected 3 fields, got 2"),
        "no rows": (f"{SHORT_HEADER}\n", "a header but no architectures"),
    }
    for content, message in bad.values():
        short.write_text(content)
        with pytest.raises(ValueError, match=message):
            load_nasbench201_12_epochs(path=short, main_path=main, allow_subset=True)
    with pytest.raises(FileNotFoundError, match="nats_tss_cifar10_12ep.csv was not found"):
        load_nasbench201_12_epochs(data_home=tmp_path / "nothing")
