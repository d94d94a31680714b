"""The ``sknar`` command line: input files, exit codes, messages and the fit/evaluate/search
round trips, with tiny settings."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from sknar.cli import EXIT_INPUT_ERROR, EXIT_OK, EXIT_USAGE, main
from sknar.datasets import read_table
from sknar.spaces.nasbench201 import NASBench201Space

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


def _synthetic_table(n, seed=0):
    """NB201 architectures with an accuracy that depends on their ops, so it is learnable."""
    archs = SPACE.sample(n, random_state=seed)
    rng = np.random.default_rng(seed)
    accuracy = [
        70 + 4 * arch.count("nor_conv_3x3") + 2 * arch.count("nor_conv_1x1")
        - 6 * arch.count("none") + rng.normal(0, 0.5)
        for arch in archs
    ]
    return archs, accuracy


def _run(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- the parser -------------------------------------------------------------------------


def test_help_lists_the_commands(capsys):
    status, out, _ = _run(["--help"], capsys)
    assert status == EXIT_OK
    for command in ("demo", "fit", "evaluate", "search"):
        assert command in out


def test_unknown_option_is_a_usage_error(capsys):
    status, _, err = _run(["demo", "--no-such-option"], capsys)
    assert status == EXIT_USAGE
    assert "--no-such-option" in err


def test_budget_must_be_positive(capsys):
    status, _, err = _run(["demo", "--budget", "0"], capsys)
    assert status == EXIT_USAGE
    assert "at least 1" in err


def test_python_dash_m_runs_the_command_line():
    completed = subprocess.run(
        [sys.executable, "-m", "sknar", "--version"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0
    assert completed.stdout.startswith("sknar ")


# --- reading tables ---------------------------------------------------------------------


def test_fit_with_missing_file_exits_1_without_traceback(tmp_path, capsys):
    status, _, err = _run(
        ["fit", str(tmp_path / "absent.csv"), "--space", "nasbench201",
         "--model", str(tmp_path / "m.joblib")],
        capsys,
    )
    assert status == EXIT_INPUT_ERROR
    assert "sknar fit: error:" in err and "absent.csv: no such file" in err
    assert "Traceback" not in err


def test_fit_with_bad_architecture_names_the_line(tmp_path, capsys):
    other = GOOD.replace("avg_pool_3x3~1", "none~1")  # a second network: duplicates are refused
    path = _write_csv(tmp_path / "t.csv", [[GOOD, "90"], [other, "91"], [BAD_OP, "92"]])
    status, _, err = _run(
        ["fit", str(path), "--space", "nasbench201", "--model", str(tmp_path / "m.joblib")],
        capsys,
    )
    assert status == EXIT_INPUT_ERROR
    assert "line 4: bad architecture" in err
    assert not (tmp_path / "m.joblib").exists()


def test_fit_rejects_a_dataset_the_space_does_not_have(tmp_path, capsys):
    path = _write_csv(tmp_path / "t.csv", [[GOOD, "90"]])
    status, _, err = _run(
        ["fit", str(path), "--space", "nasbench201", "--dataset", "mnist",
         "--model", str(tmp_path / "m.joblib")],
        capsys,
    )
    assert status == EXIT_INPUT_ERROR
    assert "'mnist'" in err and "cifar10" in err


def test_evaluate_with_a_file_that_is_not_a_model(tmp_path, capsys):
    (tmp_path / "m.joblib").write_bytes(b"not a pickle")
    path = _write_csv(tmp_path / "t.csv", [[GOOD, "90"]])
    status, _, err = _run(["evaluate", str(path), "--model", str(tmp_path / "m.joblib")], capsys)
    assert status == EXIT_INPUT_ERROR
    assert "not a model file" in err and "Traceback" not in err


# --- search -------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["random", "evolution"])
def test_search_writes_history_that_reads_back(tmp_path, capsys, strategy):
    from sknar.spaces import NASBenchGraphSpace

    output = tmp_path / "search.json"
    status, _, err = _run(
        ["search", "--strategy", strategy, "--budget", "15", "--seed", "3",
         "--output", str(output)],
        capsys,
    )
    assert status == EXIT_OK, err
    result = json.loads(output.read_text())
    assert result["n_queries"] == 15 and len(result["history"]) == 15
    values = [query["value"] for query in result["history"]]
    assert result["best_value"] == max(values)
    assert result["best_so_far"] == list(np.maximum.accumulate(values))
    # Selection is by validation accuracy; the test accuracy is only reported.
    assert result["best_report_value"] is not None
    # The written architectures are valid input for read_table.
    records = [{"arch": query["arch"], "accuracy": query["value"]} for query in result["history"]]
    table = tmp_path / "history.json"
    table.write_text(json.dumps(records))
    archs, y = read_table(table, NASBenchGraphSpace())
    assert len({NASBenchGraphSpace().hash(arch) for arch in archs}) == 15
    assert y == values


def test_search_is_reproducible_with_a_seed(tmp_path, capsys):
    outputs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.json"
        assert main(["search", "--strategy", "random", "--budget", "8", "--seed", "5",
                     "--output", str(path), "--quiet"]) == EXIT_OK
        outputs.append(json.loads(path.read_text())["history"])
    assert outputs[0] == outputs[1]


def test_search_with_missing_benchmark_data_says_where_it_looked(tmp_path, capsys):
    status, _, err = _run(
        ["search", "--benchmark", "nasbench201", "--data", str(tmp_path), "--budget", "5"],
        capsys,
    )
    assert status == EXIT_INPUT_ERROR
    assert "nats_tss_test_acc_200ep.csv" in err and str(tmp_path) in err
    assert "Traceback" not in err


# --- demo pieces --------------------------------------------------------------------------


def test_demo_rejects_a_training_set_that_leaves_nothing_held_out(capsys):
    status, _, err = _run(["demo", "--n-train", "30000", "--quiet"], capsys)
    assert status == EXIT_INPUT_ERROR
    assert "--n-train 30000 leaves nothing held out of 26206" in err


def test_demo_with_a_data_path_that_does_not_exist(tmp_path, capsys):
    status, _, err = _run(["demo", "--data", str(tmp_path / "nowhere"), "--quiet"], capsys)
    assert status == EXIT_INPUT_ERROR
    assert "nowhere: no such file or folder" in err


def test_split_benchmark_is_a_seeded_partition():
    from sknar.cli import split_benchmark

    train, test = split_benchmark(50, 20, seed=1)
    assert len(train) == 20 and len(test) == 30
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(50))
    again, _ = split_benchmark(50, 20, seed=1)
    other, _ = split_benchmark(50, 20, seed=2)
    assert again.tolist() == train.tolist() and other.tolist() != train.tolist()


def test_format_table_aligns_columns():
    from sknar.cli import format_table

    lines = format_table(["name", "tau"], [["NARRanker", "0.812"], ["gb", "0.7"]]).splitlines()
    assert lines[0].index("tau") == lines[2].index("0.812") == lines[3].index("0.7")
    assert set(lines[1].replace(" ", "")) == {"-"}


# --- with the ranker: tiny settings -------------------------------------------------------


@pytest.mark.slow  # the whole demo: ranks all 26,006 held-out architectures twice
def test_demo_end_to_end_with_tiny_settings(tmp_path, capsys):
    status, out, err = _run(
        ["demo", "--n-train", "60", "--max-epochs", "3", "--budget", "25", "--seed", "1",
         "--output", str(tmp_path)],
        capsys,
    )
    assert status == EXIT_OK, err
    assert "Kendall tau" in out and "tier search" in out and "random search" in out
    assert str((tmp_path / "demo.png").resolve()) in out
    assert (tmp_path / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((tmp_path / "results.json").read_text())
    assert summary["n_train"] == 60
    assert set(summary["ranking"]) == {"NARRanker", "gradient boosting (one-hot)"}
    for result in summary["ranking"].values():
        assert -1 <= result["kendall_tau"] <= 1
    for name, search in summary["search"].items():
        assert search["n_queries"] == 25, name
        assert search["best_value"] <= summary["best_in_benchmark"]
    # progress goes to stderr, with elapsed times
    assert "fitting NARRanker on 60 architectures" in err


def test_fit_then_evaluate_round_trip(tmp_path, capsys):
    archs, accuracy = _synthetic_table(120)
    train = _write_csv(tmp_path / "train.csv", list(zip(archs[:80], accuracy[:80])))
    test = _write_csv(tmp_path / "test.csv", list(zip(archs[80:], accuracy[80:])))
    model = tmp_path / "models" / "ranker.joblib"
    status, _, err = _run(
        ["fit", str(train), "--space", "nasbench201", "--model", str(model),
         "--max-epochs", "40", "--n-tiers", "3", "--seed", "0",
         "--output", str(tmp_path / "fit.json")],
        capsys,
    )
    assert status == EXIT_OK, err
    fit_summary = json.loads((tmp_path / "fit.json").read_text())
    assert fit_summary["n_train"] == 80 and fit_summary["ranker_params"]["n_tiers"] == 3

    status, out, err = _run(["evaluate", str(test), "--model", str(model), "--k", "5"], capsys)
    assert status == EXIT_OK, err
    result = json.loads(out)
    assert result["n"] == 40 and len(result["predictions"]) == 40
    # the accuracy is a simple function of the ops: a small ranker must learn its order
    assert result["metrics"]["kendall_tau"] > 0.3
    assert {"precision_at_5", "best_rank_at_5", "ndcg_at_5"} <= set(result["metrics"])
    assert {prediction["tier"] for prediction in result["predictions"]} <= {0, 1, 2}

    # scores without accuracies, written to a file, equal the scores above
    unlabelled = _write_csv(tmp_path / "new.csv", [[arch] for arch in archs[80:]], ("arch",))
    output = tmp_path / "scores.json"
    assert main(["evaluate", str(unlabelled), "--model", str(model), "--output", str(output),
                 "--quiet"]) == EXIT_OK
    again = json.loads(output.read_text())
    assert "metrics" not in again
    assert [p["score"] for p in again["predictions"]] == [
        p["score"] for p in result["predictions"]
    ]


def test_evaluate_refuses_architectures_of_another_space(tmp_path, capsys):
    archs, accuracy = _synthetic_table(40)
    train = _write_csv(tmp_path / "train.csv", list(zip(archs, accuracy)))
    model = tmp_path / "ranker.joblib"
    assert main(["fit", str(train), "--space", "nasbench201", "--model", str(model),
                 "--max-epochs", "2", "--n-tiers", "2", "--quiet"]) == EXIT_OK
    nb101 = tmp_path / "nb101.json"
    nb101.write_text(json.dumps([{"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}]))
    status, _, err = _run(["evaluate", str(nb101), "--model", str(model)], capsys)
    assert status == EXIT_INPUT_ERROR
    assert "nb101.json record 0: bad architecture" in err
