"""Reading architecture tables: CSV, JSON and JSON Lines, with the first problem located."""

import csv
import gzip
import json

import pytest

from sknar.datasets import jsonable_arch, read_table
from sknar.spaces import NASBench101Space, NASBench201Space

SPACE = NASBench201Space()
GOOD = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)
BAD_OP = GOOD.replace("nor_conv_3x3~1", "conv_7x7~1")


def _write_csv(path, rows, header=("arch", "accuracy")):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_read_csv_validates_and_keeps_order(tmp_path):
    other = SPACE.sample(1, random_state=1)[0]
    path = _write_csv(tmp_path / "t.csv", [[GOOD, "91.5"], [other, "80"]])
    archs, y = read_table(path, SPACE)
    assert archs[0] == SPACE.validate(GOOD)
    assert y == [91.5, 80.0]


def test_read_csv_without_accuracy_when_not_required(tmp_path):
    path = _write_csv(tmp_path / "t.csv", [[GOOD]], header=("arch",))
    archs, y = read_table(path, SPACE, require_target=False)
    assert len(archs) == 1 and y is None
    with pytest.raises(ValueError, match="'accuracy' not found"):
        read_table(path, SPACE)


@pytest.mark.parametrize(
    "rows, message",
    [
        ([[GOOD, "90"], [BAD_OP, "80"]], r"t\.csv line 3: bad architecture: .*conv_7x7"),
        ([[GOOD, "90"], [GOOD, "high"]], r"t\.csv line 3: accuracy 'high' is not a number"),
        ([[GOOD, "nan"]], r"line 2: accuracy is 'nan'; it must be a finite number"),
        ([["", "90"]], r"line 2: the architecture is empty"),
        ([["[1, 2", "90"]], r"line 2: the architecture is not valid JSON"),
    ],
)
def test_read_csv_names_the_line_of_the_first_problem(tmp_path, rows, message):
    path = _write_csv(tmp_path / "t.csv", rows)
    with pytest.raises(ValueError, match=message):
        read_table(path, SPACE)


def test_read_csv_names_missing_column_and_lists_the_present_ones(tmp_path):
    path = _write_csv(tmp_path / "t.csv", [[GOOD, "90"]], header=("architecture", "acc"))
    with pytest.raises(ValueError, match=r"column 'arch' not found \(columns: architecture, acc\)"):
        read_table(path, SPACE)
    archs, y = read_table(path, SPACE, arch_field="architecture", target_field="acc")
    assert y == [90.0]


def test_read_json_records_and_gzip(tmp_path):
    other = SPACE.sample(1, random_state=1)[0]
    records = [{"arch": GOOD, "accuracy": 91.0}, {"arch": other, "accuracy": 90.0}]
    path = tmp_path / "t.json.gz"
    with gzip.open(path, "wt") as handle:
        json.dump(records, handle)
    archs, y = read_table(path, SPACE)
    assert y == [91.0, 90.0] and len(archs) == 2


def test_read_json_names_the_bad_record(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"arch": GOOD, "accuracy": 91}, {"arch": GOOD}]))
    with pytest.raises(ValueError, match=r"t\.json record 1: field 'accuracy' is missing"):
        read_table(path, SPACE)
    path.write_text(json.dumps([{"arch": GOOD, "accuracy": 91}, {"arch": BAD_OP, "accuracy": 9}]))
    with pytest.raises(ValueError, match=r"record 1: bad architecture"):
        read_table(path, SPACE)
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"t\.json: not valid JSON"):
        read_table(path, SPACE)


def test_read_jsonl_counts_lines_past_blank_ones(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(
        json.dumps({"arch": GOOD, "accuracy": 1})
        + "\n\n"
        + json.dumps({"arch": BAD_OP, "accuracy": 2})
    )
    with pytest.raises(ValueError, match=r"t\.jsonl line 3: bad architecture"):
        read_table(path, SPACE)


def test_read_rejects_unknown_format_and_missing_file(tmp_path):
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(ValueError, match="use .csv, .json or .jsonl"):
        read_table(tmp_path / "t.txt", SPACE)
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_table(tmp_path / "absent.csv", SPACE)


# --- one network, one row ----------------------------------------------------------------


def test_a_network_listed_twice_is_refused_naming_both_rows(tmp_path):
    other = SPACE.sample(1, random_state=1)[0]
    path = _write_csv(tmp_path / "t.csv", [[GOOD, "85.86"], [other, "70"], [GOOD, "10.0"]])
    with pytest.raises(ValueError, match=r"t\.csv line 4: the network of line 2 again"):
        read_table(path, SPACE)
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"arch": GOOD, "accuracy": 1}, {"arch": GOOD, "accuracy": 2}]))
    with pytest.raises(ValueError, match=r"t\.json record 1: the network of record 0 again"):
        read_table(path, SPACE)


def test_duplicates_are_told_by_the_space_hash(tmp_path):
    # the same NAS-Bench-101 cell with its two parallel branches written in the other order
    space = NASBench101Space()
    matrix = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    records = [
        {"arch": {"matrix": matrix, "ops": ["input", op, other, "output"]}, "accuracy": 0.9}
        for op, other in [("conv3x3-bn-relu", "maxpool3x3"), ("maxpool3x3", "conv3x3-bn-relu")]
    ]
    path = tmp_path / "cells.jsonl"
    path.write_text("\n".join(json.dumps(record) for record in records))
    with pytest.raises(ValueError, match="cells.jsonl line 2: the network of line 1 again"):
        read_table(path, space)


def test_isomorphic_nasbench201_cells_are_distinct_networks(tmp_path):
    # the benchmark trains each of its 15,625 cell strings: same isomorphism class, two rows
    by_key = {}
    for arch in SPACE.sample(300, random_state=0):
        by_key.setdefault(SPACE.isomorphism_key(arch), []).append(arch)
    first, second = next(archs for archs in by_key.values() if len(archs) > 1)[:2]
    path = _write_csv(tmp_path / "t.csv", [[first, "80"], [second, "81"]])
    assert read_table(path, SPACE) == ([first, second], [80.0, 81.0])


# --- what the file is ----------------------------------------------------------------------


def test_gzip_is_told_by_the_content_not_the_name(tmp_path):
    rows = f"arch,accuracy\n{GOOD},91.5\n".encode()
    compressed = tmp_path / "t.csv"
    compressed.write_bytes(gzip.compress(rows))
    plain = tmp_path / "t.csv.gz"
    plain.write_bytes(rows)
    assert read_table(compressed, SPACE) == read_table(plain, SPACE) == ([GOOD], [91.5])


def test_a_field_beyond_the_csv_limit(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(f"arch,accuracy\n{'x' * 200_000},1\n")
    with pytest.raises(ValueError, match=r"t\.csv line 2: not a CSV row \(field larger") as info:
        read_table(path, SPACE)
    assert len(str(info.value)) < 400


def test_a_directory_is_named(tmp_path):
    folder = tmp_path / "t.csv"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="t.csv is a directory; expected a CSV table"):
        read_table(folder, SPACE)


# --- commands: errors without tracebacks ------------------------------------------------


def test_jsonable_arch_reads_back(tmp_path):
    space = NASBench101Space()
    cells = space.sample(3, random_state=0)
    path = tmp_path / "cells.json"
    path.write_text(
        json.dumps([{"arch": jsonable_arch(cell), "accuracy": 0.9} for cell in cells])
    )
    archs, _ = read_table(path, space)
    assert archs == cells
