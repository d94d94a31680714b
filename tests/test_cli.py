"""The ``sknar`` command line: start-up, flags, one-line errors for bad input, progress and the
fit/evaluate/search round trips, with tiny settings."""

import csv
import gzip
import json
import os
import pickle
import subprocess
import sys
from collections import OrderedDict

import joblib
import numpy as np
import pytest

from sknar.cli import EXIT_INPUT_ERROR, EXIT_OK, EXIT_USAGE, build_parser, main
from sknar.datasets import read_table
from sknar.spaces.nasbench201 import NASBench201Space

SPACE = NASBench201Space()
GOOD = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)
BAD_OP = GOOD.replace("nor_conv_3x3~1", "conv_7x7~1")
NB201_HEADER = ("ArchitectureString", "UniqueString", "CIFAR10TestAccuracy200Epochs",
                "CIFAR100TestAccuracy200Epochs", "ImageNetTestAccuracy200Epochs")


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


def _unwritable_folder(tmp_path):
    """A folder no file can be created in (``/proc`` where permissions do not bind)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # root ignores the mode
        return "/proc/sknar-test"
    return str(folder)


# --- start-up and the parser --------------------------------------------------------------


def test_help_lists_the_commands(capsys):
    status, out, _ = _run(["--help"], capsys)
    assert status == EXIT_OK
    for command in ("demo", "fit", "evaluate", "search"):
        assert command in out


def test_cli_import_and_help_load_no_heavy_module():
    code = (
        "import sys\n"
        "from sknar.cli import main\n"
        "assert main(['--help']) == 0\n"
        "print(sorted({'torch', 'skorch', 'sklearn', 'scipy', 'numpy'} & set(sys.modules)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def test_top_level_names_load_on_first_use():
    import sknar
    from sknar import NARRanker, TierSearch

    assert NARRanker.__name__ == "NARRanker" and TierSearch.__module__.startswith("sknar.search")
    assert set(sknar.__all__) <= set(dir(sknar))
    with pytest.raises(AttributeError, match="no attribute 'Bogus'"):
        sknar.Bogus  # noqa: B018


def test_the_parser_offers_the_library_strategies_and_benchmarks():
    from sknar.cli._parser import BENCHMARK_NAMES, STRATEGIES
    from sknar.datasets import BENCHMARKS
    from sknar.search import SEARCH_STRATEGIES

    assert STRATEGIES == SEARCH_STRATEGIES and BENCHMARK_NAMES == tuple(BENCHMARKS)


def _options_of(parser):
    return {flag for action in parser._actions for flag in action.option_strings}


def test_each_command_help_mentions_only_its_own_flags():
    commands = build_parser()._subparsers._group_actions[0].choices
    for name, parser in commands.items():
        text = parser.format_help()
        mentioned = {word.strip("'.,()[]|") for word in text.split() if word.startswith("--")}
        assert mentioned <= _options_of(parser), (name, mentioned - _options_of(parser))


def test_unknown_option_is_a_usage_error(capsys):
    status, _, err = _run(["demo", "--no-such-option"], capsys)
    assert status == EXIT_USAGE
    assert "--no-such-option" in err


def test_budget_must_be_positive(capsys):
    status, _, err = _run(["demo", "--budget", "0"], capsys)
    assert status == EXIT_USAGE
    assert "at least 1" in err


@pytest.mark.parametrize("value", ["0", "two"])
def test_n_jobs_is_checked_when_the_command_line_is_read(value, capsys):
    status, _, err = _run(["search", "--n-jobs", value, "--strategy", "random"], capsys)
    assert status == EXIT_USAGE
    assert "argument --n-jobs" in err and "Parallel" not in err


def test_n_jobs_counts_negative_values_from_the_cpus_as_joblib_does():
    from sknar.cli._checks import n_jobs

    assert n_jobs("-1") == -1 and n_jobs("-2") == -2 and n_jobs("3") == 3


def test_quiet_and_verbose_exclude_each_other(tmp_path, capsys):
    status, _, err = _run(["fit", "t.csv", "--space", "nasbench201", "--model", "m.joblib",
                           "--quiet", "--verbose"], capsys)
    assert status == EXIT_USAGE
    assert "not allowed with argument" in err


def test_python_dash_m_runs_the_command_line():
    completed = subprocess.run(
        [sys.executable, "-m", "sknar", "--version"], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0
    assert completed.stdout.startswith("sknar ")


# --- a fitted model, shared -----------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """``sknar fit`` with custom column names and progress on: model, summary and tables."""
    folder = tmp_path_factory.mktemp("fitted")
    archs, accuracy = _synthetic_table(120)
    header = ("ArchitectureString", "acc")
    train = _write_csv(folder / "train.csv", list(zip(archs[:80], accuracy[:80])), header)
    test = _write_csv(folder / "test.csv", list(zip(archs[80:], accuracy[80:])), header)
    model = folder / "models" / "ranker.joblib"
    status = main(["fit", str(train), "--space", "nasbench201", "--model", str(model),
                   "--arch-field", "ArchitectureString", "--target-field", "acc",
                   "--max-epochs", "5", "--n-tiers", "3", "--output", str(folder / "fit.json")])
    assert status == EXIT_OK
    summary = json.loads((folder / "fit.json").read_text())
    return {"model": model, "train": train, "test": test, "summary": summary,
            "archs": archs[80:], "folder": folder}


def test_fit_summary_shows_the_effective_settings(fitted):
    summary = fitted["summary"]
    assert summary["n_train"] == 80 and summary["space"] == "nasbench201"
    params = summary["ranker_params"]
    assert params["n_tiers"] == 3 and params["max_epochs"] == 5
    for name in ("d_model", "n_layers", "n_heads", "d_ff", "lr", "batch_size", "n_members"):
        assert params[name] is not None, name
    # Progress is on unless --quiet: the ranker was asked for its progress bar.
    assert params["verbose"] == 1


def test_the_model_file_records_how_it_was_fitted(fitted):
    content = joblib.load(fitted["model"])
    assert content["written_by"] == "sknar fit"
    assert (content["arch_field"], content["target_field"]) == ("ArchitectureString", "acc")
    assert (content["space"], content["dataset"]) == ("nasbench201", "cifar10")
    assert content["model"][-1].settings_["max_epochs"] == 5


def test_evaluate_reads_the_columns_the_model_was_fitted_on(fitted, capsys):
    status, out, err = _run(["evaluate", str(fitted["test"]), "--model", str(fitted["model"]),
                             "--k", "5", "50"], capsys)
    assert status == EXIT_OK, err
    result = json.loads(out)
    assert result["n"] == 40 and len(result["predictions"]) == 40
    # the accuracy is a simple function of the ops: a small ranker must learn its order
    assert result["metrics"]["kendall_tau"] > 0.3
    assert {"spearman_rho", "precision_at_5", "best_rank_at_5", "ndcg_at_5"} <= set(
        result["metrics"]
    )
    assert "--k 50 is more than the 40 architectures: left out" in err
    assert not any(name.endswith("_at_50") for name in result["metrics"])
    assert {prediction["tier"] for prediction in result["predictions"]} <= {0, 1, 2}
    # A progress bar over the scored architectures.
    assert "40/40" in err and "arch" in err


def test_evaluate_scores_without_accuracies_equal_the_model_predictions(fitted, monkeypatch):
    import sknar.cli._progress

    content = joblib.load(fitted["model"])
    expected = content["model"].predict(fitted["archs"])
    unlabelled = _write_csv(fitted["folder"] / "new.csv", [[a] for a in fitted["archs"]],
                            ("ArchitectureString",))
    output = fitted["folder"] / "scores.json"
    assert main(["evaluate", str(unlabelled), "--model", str(fitted["model"]), "--output",
                 str(output), "--quiet"]) == EXIT_OK
    result = json.loads(output.read_text())
    assert "metrics" not in result
    np.testing.assert_array_equal([p["score"] for p in result["predictions"]], expected)
    # Chunks that cut the network's batches differently change scores by float rounding only.
    monkeypatch.setattr(sknar.cli._progress, "SCORE_CHUNK", 7)
    assert main(["evaluate", str(unlabelled), "--model", str(fitted["model"]), "--output",
                 str(output), "--quiet"]) == EXIT_OK
    chunked = [p["score"] for p in json.loads(output.read_text())["predictions"]]
    np.testing.assert_allclose(chunked, expected, rtol=1e-5)


def test_evaluate_reads_a_bare_pipeline_with_the_default_columns(fitted, tmp_path, capsys):
    bare = tmp_path / "bare.joblib"
    joblib.dump(joblib.load(fitted["model"])["model"], bare)
    table = _write_csv(tmp_path / "t.csv", [[a, 1.0 + i] for i, a in enumerate(fitted["archs"])])
    status, out, err = _run(["evaluate", str(table), "--model", str(bare), "--quiet"], capsys)
    assert status == EXIT_OK, err
    assert json.loads(out)["n"] == 40


def test_evaluate_refuses_architectures_of_another_space(fitted, tmp_path, capsys):
    nb101 = tmp_path / "nb101.json"
    nb101.write_text(json.dumps([{"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}]))
    status, _, err = _run(["evaluate", str(nb101), "--model", str(fitted["model"])], capsys)
    assert status == EXIT_INPUT_ERROR
    assert "nb101.json record 0: bad architecture" in err


# --- bad input: one line, exit status 1, the file or flag named ---------------------------


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    """Files of every wrong kind."""
    folder = tmp_path_factory.mktemp("bad")
    row = [GOOD, GOOD, "90.1", "70.2", "40.3"]
    _write_csv(folder / "duplicate.csv", [row, row], NB201_HEADER)
    (folder / "corrupt.json.gz").write_bytes(b"this is not gzip data")
    (folder / "refused.bench").write_bytes(pickle.dumps({1: OrderedDict()}))
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 8)
    archs, accuracy = _synthetic_table(30)
    text = "arch,accuracy\n" + "".join(f"{a},{y}\n" for a, y in zip(archs, accuracy))
    packed = gzip.compress(text.encode())
    (folder / "truncated.csv.gz").write_bytes(packed[: len(packed) // 2])
    _write_csv(folder / "good.csv", list(zip(archs, accuracy)))
    other = GOOD.replace("avg_pool_3x3~1", "none~1")  # another network: duplicates are refused
    _write_csv(folder / "bad_op.csv", [[GOOD, "90"], [other, "91"], [BAD_OP, "92"]])
    _write_csv(folder / "twice.csv", [[GOOD, "85.86"], [GOOD, "10.0"]])
    (folder / "a_file").write_text("")
    (folder / "a_folder").mkdir()
    (folder / "not_a_pickle.joblib").write_bytes(b"not a pickle")
    return folder


def _bad_cases():
    fit = ["fit", "{bad}/good.csv", "--space", "nasbench201", "--model", "{tmp}/m.joblib"]
    cuda = "cuda:99" if _cuda_available() else "cuda"
    return {
        # command line -> what the one-line message must name
        "dataset bogus (search)": (["search", "--dataset", "bogus"], "'bogus'"),
        "dataset bogus (demo)": (["demo", "--dataset", "bogus", "--output", "{tmp}"], "'bogus'"),
        "duplicate rows": (["search", "--benchmark", "nasbench201", "--data",
                            "{bad}/duplicate.csv", "--strategy", "random"], "duplicate.csv"),
        "corrupt gzip": (["search", "--benchmark", "nasbench101", "--data",
                          "{bad}/corrupt.json.gz", "--strategy", "random"], "corrupt.json.gz"),
        "refused bench": (["search", "--data", "{bad}/refused.bench", "--strategy", "random"],
                          "refused.bench"),
        "binary data": (["search", "--benchmark", "nasbench201", "--data", "{bad}/binary.csv",
                         "--strategy", "random"], "binary.csv"),
        "data nowhere": (["demo", "--data", "{tmp}/nowhere", "--output", "{tmp}"],
                         "nowhere: no such file or folder"),
        "truncated csv.gz (fit)": ([*fit[:1], "{bad}/truncated.csv.gz", *fit[2:]],
                                   "truncated.csv.gz"),
        "missing table": ([*fit[:1], "{tmp}/absent.csv", *fit[2:]], "absent.csv"),
        "bad architecture": ([*fit[:1], "{bad}/bad_op.csv", *fit[2:]],
                             "line 4: bad architecture"),
        "same network twice (fit)": ([*fit[:1], "{bad}/twice.csv", *fit[2:]],
                                     "twice.csv line 3: the network of line 2 again"),
        "device without hardware": ([*fit, "--device", cuda], f"--device {cuda}"),
        "device bogus (fit)": ([*fit, "--device", "bogus"], "--device bogus"),
        "device bogus (search)": (["search", "--device", "bogus"], "--device bogus"),
        "model unwritable": ([*fit[:-1], "{unwritable}/m.joblib"], "--model"),
        "model under a file": ([*fit[:-1], "{bad}/a_file/m.joblib"], "is a file, not a folder"),
        "model is a folder": ([*fit[:-1], "{bad}/a_folder"], "is a folder, not a file"),
        "output unwritable (fit)": ([*fit, "--output", "{unwritable}/fit.json"], "--output"),
        "output under a file (search)": (["search", "--output", "{bad}/a_file/s.json"],
                                         "--output"),
        "output is a file (demo)": (["demo", "--output", "{bad}/a_file"], "--output"),
        "output is the model": ([*fit, "--output", "{tmp}/m.joblib"], "the same file"),
        "model is the table (fit)": ([*fit[:-1], "{bad}/a_folder/../good.csv"],
                                     "input {bad}/good.csv and --model"),
        "output is the table (evaluate)": (["evaluate", "{bad}/good.csv", "--model",
                                            "{bad}/not_a_pickle.joblib", "--output",
                                            "{bad}/good.csv"], "are the same file"),
        "journal is the benchmark file": (["search", "--data", "{bad}/refused.bench",
                                           "--strategy", "random", "--journal",
                                           "{bad}/refused.bench"], "are the same file"),
        "epoch table and JSON on stdout": ([*fit, "--verbose", "--output", "-"],
                                           "--verbose prints its epoch table on stdout"),
        "dataset of a space without datasets": (
            ["fit", "{bad}/good.csv", "--space", "nasbench101", "--dataset", "cifar100",
             "--model", "{tmp}/m.joblib"], "--dataset cifar100"),
        "dataset the space does not have": ([*fit, "--dataset", "mnist"], "'mnist'"),
        "same field twice": ([*fit, "--arch-field", "x", "--target-field", "x"],
                             "--arch-field and --target-field"),
        "ranker flags without a ranker": (
            ["search", "--strategy", "random", "--n-tiers", "3", "--preset", "paper"],
            "--n-tiers, --preset: only tier search"),
        "budget too small for tier search": (["search", "--budget", "5"], "--budget 5"),
        "not a pickle": (["evaluate", "{bad}/good.csv", "--model",
                          "{bad}/not_a_pickle.joblib"], "not a model file written by sknar fit"),
        "missing model": (["evaluate", "{bad}/good.csv", "--model", "{tmp}/none.joblib"],
                          "no such model file"),
        "train with a benchmark": (["search", "--train", "digits", "--benchmark", "nasbench201"],
                                   "--benchmark: --train digits reads no benchmark table"),
        "epochs without training": (["search", "--epochs", "2"], "--epochs: only a search"),
        "low epochs without training": (["search", "--low-epochs", "1"],
                                        "--low-epochs: only a tier search that trains"),
        "low epochs not below epochs": (
            ["search", "--train", "digits", "--epochs", "2", "--low-epochs", "2"],
            "--low-epochs 2: must be fewer than --epochs 2"),
        "fashion-mnist with a benchmark": (
            ["search", "--train", "fashion-mnist", "--benchmark", "nasbench201"],
            "--benchmark: --train fashion-mnist reads no benchmark table"),
        "journal unwritable": (["search", "--journal", "{unwritable}/j.jsonl"], "--journal"),
        "training set too large": (["demo", "--n-train", "30000", "--output", "{tmp}"],
                                   "--n-train 30000: n_train=30000 leaves nothing held out"),
    }


def _cuda_available():
    import torch

    return torch.cuda.is_available()


@pytest.mark.parametrize("case", list(_bad_cases()))
def test_bad_input_is_one_line_naming_what_is_wrong(case, bad, tmp_path, capsys):
    argv, needle = _bad_cases()[case]
    where = {"bad": bad, "tmp": tmp_path, "unwritable": _unwritable_folder(tmp_path)}
    argv = [part.format(**where) for part in argv]
    status, _, err = _run([*argv, *([] if "--verbose" in argv else ["--quiet"])], capsys)
    assert status == EXIT_INPUT_ERROR, err
    assert needle.format(**where) in err
    assert err.count("\n") == 1 and err.startswith(f"sknar {argv[0]}: error: ")
    # Checked before the work: no model was fitted or written.
    assert not (tmp_path / "m.joblib").exists()


def test_a_truncated_model_file_says_why_it_is_not_a_model(fitted, bad, tmp_path, capsys):
    content = fitted["model"].read_bytes()
    truncated = tmp_path / "truncated.joblib"
    truncated.write_bytes(content[: len(content) // 3])
    status, _, err = _run(["evaluate", str(bad / "good.csv"), "--model", str(truncated)], capsys)
    assert status == EXIT_INPUT_ERROR
    assert f"--model {truncated}: not a model file written by sknar fit (" in err
    assert "()" not in err and err.count("\n") == 1


@pytest.mark.parametrize("name", ["truncated.csv.gz", "fake.csv.gz"])
def test_evaluate_on_a_broken_gzip_table_names_it(fitted, bad, name, capsys):
    status, _, err = _run(["evaluate", str(bad / name), "--model", str(fitted["model"])], capsys)
    assert status == EXIT_INPUT_ERROR
    assert name in err and err.count("\n") == 1


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
    # A progress bar over the oracle calls.
    assert "15/15" in err and "eval/s" in err
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


def test_tier_search_runs_with_the_ranker_flags(tmp_path, capsys):
    output = tmp_path / "tier.json"
    status, _, err = _run(["search", "--budget", "21", "--max-epochs", "1", "--n-tiers", "2",
                           "--seed", "1", "--output", str(output)], capsys)
    assert status == EXIT_OK, err
    result = json.loads(output.read_text())
    assert result["strategy"] == "tier" and result["n_queries"] == 21
    assert "21/21" in err


def test_search_is_reproducible_with_a_seed(tmp_path, capsys):
    outputs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.json"
        assert main(["search", "--strategy", "random", "--budget", "8", "--seed", "5",
                     "--output", str(path), "--quiet"]) == EXIT_OK
        outputs.append(json.loads(path.read_text())["history"])
    assert outputs[0] == outputs[1]
    assert capsys.readouterr().err == ""  # --quiet


def test_search_with_missing_benchmark_data_says_where_it_looked(tmp_path, capsys):
    status, _, err = _run(
        ["search", "--benchmark", "nasbench201", "--data", str(tmp_path), "--strategy",
         "random"],
        capsys,
    )
    assert status == EXIT_INPUT_ERROR
    assert "nats_tss_test_acc_200ep.csv" in err and str(tmp_path) in err
    assert "Traceback" not in err
    # The command line's flag, not the Python API's parameters.
    assert "pass --data" in err and "path=" not in err and "data_home" not in err


# (NAS-Bench-Graph reads its package's files unless --data is given.)
@pytest.mark.parametrize(("benchmark", "via"), [
    ("nasbench201", "--data"), ("nasbench201", "SKNAR_DATA"), ("nasbench101", "--data"),
    ("nasbench101", "SKNAR_DATA"), ("nasbench_graph", "--data"),
])
def test_every_missing_benchmark_points_to_the_data_flag(
    benchmark, via, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("SKNAR_DATA", str(tmp_path))
    where = ["--data", str(tmp_path)] if via == "--data" else []
    status, _, err = _run(["search", "--benchmark", benchmark, *where, "--strategy", "random",
                           "--quiet"], capsys)
    assert status == EXIT_INPUT_ERROR and err.count("\n") == 1
    assert "--data" in err and "path=" not in err and "data_home" not in err


def test_a_search_resumes_from_its_journal_without_evaluating_again(tmp_path, capsys):
    journal, first, second = tmp_path / "j.jsonl", tmp_path / "a.json", tmp_path / "b.json"
    argv = ["search", "--strategy", "evolution", "--budget", "12", "--seed", "2", "--journal",
            str(journal), "--quiet"]
    assert main([*argv, "--output", str(first)]) == EXIT_OK
    recorded = journal.read_text()
    assert len(recorded.splitlines()) == 1 + 12  # a header, then one line per evaluation
    # Running the same command again replays the journal: nothing new is evaluated.
    assert main([*argv, "--output", str(second)]) == EXIT_OK
    assert journal.read_text() == recorded
    assert json.loads(first.read_text())["history"] == json.loads(second.read_text())["history"]
    # A journal of another seed is refused, in one line.
    status, _, err = _run([*argv[:-5], "--seed", "3", "--journal", str(journal), "--quiet"],
                          capsys)
    assert status == EXIT_INPUT_ERROR and err.count("\n") == 1 and "seed" in err


def _same_file_spellings(tmp_path):
    """Pairs of spellings of one journal file: the same path, another spelling, a symbolic
    link, a hard link."""
    (tmp_path / "sub").mkdir()
    journal = tmp_path / "j.jsonl"
    journal.write_text("")
    (tmp_path / "link.jsonl").symlink_to(journal)
    os.link(journal, tmp_path / "hard.jsonl")
    return {
        "same path": (journal, journal),
        "another spelling": (journal, tmp_path / "sub" / ".." / "j.jsonl"),
        "symbolic link": (journal, tmp_path / "link.jsonl"),
        "hard link": (journal, tmp_path / "hard.jsonl"),
        "not yet written": (tmp_path / "new.jsonl", tmp_path / "sub" / ".." / "new.jsonl"),
    }


@pytest.mark.parametrize(
    "spelling", ["same path", "another spelling", "symbolic link", "hard link", "not yet written"]
)
def test_journal_and_output_in_one_file_are_refused_before_anything_runs(
    spelling, tmp_path, capsys
):
    journal, output = _same_file_spellings(tmp_path)[spelling]
    before = journal.read_bytes() if journal.exists() else None
    status, _, err = _run(["search", "--strategy", "random", "--budget", "5", "--journal",
                           str(journal), "--output", str(output), "--quiet"], capsys)
    assert status == EXIT_INPUT_ERROR and err.count("\n") == 1
    assert "are the same file" in err and "--journal" in err and "--output" in err
    assert (journal.read_bytes() if journal.exists() else None) == before


def test_a_binary_journal_is_refused_naming_the_file(tmp_path, capsys):
    journal = tmp_path / "picture.png"
    journal.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    status, _, err = _run(["search", "--strategy", "random", "--budget", "5", "--journal",
                           str(journal), "--quiet"], capsys)
    assert status == EXIT_INPUT_ERROR and err.count("\n") == 1
    assert f"--journal {journal}: not a journal" in err and "0x89" in err
    assert journal.read_bytes()[:4] == b"\x89PNG"  # left as it was


def test_a_resumed_search_says_what_it_resumed(tmp_path, capsys):
    journal = tmp_path / "j.jsonl"
    argv = ["search", "--strategy", "random", "--seed", "2", "--journal", str(journal),
            "--output", str(tmp_path / "s.json")]
    assert main([*argv, "--budget", "4", "--quiet"]) == EXIT_OK
    status, _, err = _run([*argv, "--budget", "6"], capsys)
    assert status == EXIT_OK, err
    assert f"resumed 4 evaluations from {journal} (4 ok, 0 failed); 2 to go" in err
    assert json.loads((tmp_path / "s.json").read_text())["n_queries"] == 6


@pytest.mark.slow  # worker processes
def test_parallel_evaluations_give_the_sequential_queries(tmp_path):
    histories = []
    for n_jobs in ("1", "2"):
        output = tmp_path / f"{n_jobs}.json"
        assert main(["search", "--strategy", "random", "--budget", "12", "--n-jobs", n_jobs,
                     "--output", str(output), "--quiet"]) == EXIT_OK
        histories.append(json.loads(output.read_text())["history"])
    # Random search draws the same queries; two workers may finish (and tell) them in
    # another order.
    assert _sorted_queries(histories[0]) == _sorted_queries(histories[1])


class _Lines(list):
    """A logging handler that keeps the messages it is given."""

    level = 0

    def handle(self, record):
        self.append(record.getMessage())


def _sorted_queries(history):
    return sorted(json.dumps(query, sort_keys=True) for query in history)


@pytest.fixture
def dask_cluster():
    """A two-process dask cluster, closed so that no worker has to be killed."""
    import logging

    distributed = pytest.importorskip("dask.distributed")
    messages = _Lines()
    logger = logging.getLogger("distributed")
    logger.addHandler(messages)
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        yield cluster, client
    finally:
        client.close()
        # A worker that has loaded torch (sknar.oracles imports it) takes seconds to exit on
        # a busy machine, more than the 4 s LocalCluster.close waits before killing it.
        for nanny in list(cluster.workers.values()):
            cluster.sync(nanny.close, timeout=60)
        cluster.close()
        logger.removeHandler(messages)
    assert not [line for line in messages if "still alive" in line], messages


@pytest.mark.slow  # a dask cluster
def test_search_runs_its_evaluations_on_a_dask_cluster(dask_cluster, tmp_path, capsys):
    from dask.distributed import get_task_stream

    cluster, client = dask_cluster
    workers = set(client.scheduler_info()["workers"])
    argv = ["search", "--strategy", "random", "--budget", "6", "--seed", "4"]
    with get_task_stream(client) as tasks:
        status, _, err = _run([*argv, "--scheduler", cluster.scheduler_address, "--output",
                               str(tmp_path / "dask.json")], capsys)
    assert status == EXIT_OK, err
    assert f"evaluating on the dask cluster at {cluster.scheduler_address} (2 workers)" in err
    evaluations = [task for task in tasks.data if "evaluate" in str(task["key"])]
    assert len(evaluations) == 6 and {task["worker"] for task in evaluations} <= workers
    result = json.loads((tmp_path / "dask.json").read_text())
    assert result["n_queries"] == 6 and result["n_failed"] == 0
    # The same queries and values as the search run here (random search's draws do not
    # depend on the values; evaluations finishing in another order may be told in it).
    assert main([*argv, "--quiet", "--output", str(tmp_path / "here.json")]) == EXIT_OK
    here = json.loads((tmp_path / "here.json").read_text())["history"]
    assert _sorted_queries(result["history"]) == _sorted_queries(here)


def test_an_unreachable_scheduler_is_one_line_naming_it(capsys):
    pytest.importorskip("dask.distributed")
    status, _, err = _run(["search", "--strategy", "random", "--scheduler",
                           "tcp://127.0.0.1:9", "--quiet"], capsys)
    assert status == EXIT_INPUT_ERROR and err.count("\n") == 1
    assert "--scheduler tcp://127.0.0.1:9: cannot connect" in err


def test_search_trains_networks_on_digits(tmp_path, capsys):
    output = tmp_path / "digits.json"
    status, _, err = _run(["search", "--train", "digits", "--strategy", "random", "--budget",
                           "2", "--epochs", "1", "--output", str(output)], capsys)
    assert status == EXIT_OK, err
    result = json.loads(output.read_text())
    assert result["train"] == "digits" and result["n_queries"] == 2 and result["n_failed"] == 0
    assert 0.0 <= result["test_accuracy"] <= 1.0
    assert all(0.0 <= query["value"] <= 1.0 for query in result["history"])
    assert "2/2" in err
    # The last line tells the found cell's held-out test accuracy, not only its validation.
    last = err.strip().splitlines()[-1]
    assert f"validation accuracy {result['best_value']:.4f}" in last
    assert f"held-out test accuracy of the found cell {result['test_accuracy']:.4f}" in last


def test_multi_fidelity_search_trains_briefly_then_promotes(tmp_path, capsys):
    output = tmp_path / "mf.json"
    # 5 full trainings of 2 epochs = 10 epochs: 8 candidates for 1 epoch, the best for 2.
    status, _, err = _run(["search", "--train", "digits", "--budget", "5", "--epochs", "2",
                           "--low-epochs", "1", "--output", str(output), "--quiet"], capsys)
    assert status == EXIT_OK, err
    result = json.loads(output.read_text())
    assert result["low_epochs"] == 1 and result["epochs"] == 2
    costs = result["fidelity_costs"]
    assert costs["1"]["evaluations"] == 8 and costs["2"]["evaluations"] == 1
    assert costs["1"]["epochs"] + costs["2"]["epochs"] <= 10
    assert result["n_queries"] == 1 and 0.0 <= result["test_accuracy"] <= 1.0


def test_fashion_mnist_missing_names_the_data_flag(tmp_path, capsys):
    status, _, err = _run(["search", "--train", "fashion-mnist", "--strategy", "random",
                           "--data", str(tmp_path), "--quiet"], capsys)
    assert status == EXIT_INPUT_ERROR and err.count("\n") == 1
    assert "--train fashion-mnist" in err and "--data PATH" in err
    assert "dataset-fashion-mnist" in err


@pytest.mark.slow  # one training of one epoch on 2,000 Fashion-MNIST images, then a retrain
def test_search_trains_networks_on_fashion_mnist(tmp_path, capsys):
    from sknar.utils.testing import require_data

    folder = require_data("fashion-mnist/train-images-idx3-ubyte.gz").parent
    output = tmp_path / "fashion.json"
    status, _, err = _run(["search", "--train", "fashion-mnist", "--data", str(folder),
                           "--strategy", "random", "--budget", "1", "--epochs", "1",
                           "--output", str(output), "--quiet"], capsys)
    assert status == EXIT_OK, err
    result = json.loads(output.read_text())
    assert result["train"] == "fashion-mnist" and result["n_queries"] == 1
    assert 0.0 <= result["test_accuracy"] <= 1.0


@pytest.mark.slow  # a subprocess training eight networks
def test_ctrl_c_stops_a_training_search_at_once_and_the_journal_resumes_it(tmp_path):
    import signal
    import time

    journal, output = tmp_path / "j.jsonl", tmp_path / "s.json"
    # Enough trainings left after the first one that a busy machine cannot finish them all
    # between the test's look at the journal and the signal.
    budget = 8
    argv = [sys.executable, "-m", "sknar", "search", "--train", "digits", "--strategy",
            "random", "--budget", str(budget), "--epochs", "2", "--journal", str(journal),
            "--quiet", "--output", str(output)]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while (not journal.exists() or len(journal.read_text().splitlines()) < 2) and (
        process.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert process.poll() is None, "the search ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    _, err = process.communicate(timeout=60)
    assert time.monotonic() - interrupted < 10
    assert process.returncode == 130
    assert err.count("\n") == 1 and "interrupted" in err and str(journal) in err
    done = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    assert 1 <= len(done) < budget and not output.exists()
    # The same command again finishes the search, training only what the journal lacks.
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    lines = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    assert lines[: len(done)] == done and len(lines) == budget
    history = json.loads(output.read_text())["history"]
    assert len({json.dumps(query["arch"]) for query in history}) == budget


# --- demo ---------------------------------------------------------------------------------


def test_format_table_aligns_columns():
    from sknar.cli._demo import format_table

    lines = format_table(["name", "tau"], [["NARRanker", "0.812"], ["gb", "0.7"]]).splitlines()
    assert lines[0].index("tau") == lines[2].index("0.812") == lines[3].index("0.7")
    assert set(lines[1].replace(" ", "")) == {"-"}


def _demo_summary(precision_at_50, n_test):
    from sknar.cli._demo import top_k_facts

    y_test = np.linspace(0.5, 0.8, n_test)
    ranking = {"NARRanker": {"kendall_tau": 0.4, "precision_at_50": precision_at_50,
                             "precision_at_500": 0.6, "fit_seconds": 1.0}}
    search = {"tier": {"budget": 25, "best_value": 0.8, "wall_seconds": 1.0}}
    return {"benchmark": "b", "dataset": "d", "n_architectures": n_test + 200, "n_train": 200,
            "ranking": ranking, "search": search, "target": None, "best_in_benchmark": 0.8,
            "top_k": top_k_facts(y_test)}


def _report(precision_at_50, n_test):
    from sknar.cli._demo import format_report

    return " ".join(format_report(_demo_summary(precision_at_50, n_test), n_test).split())


def test_demo_says_why_a_precision_of_zero_can_be_right():
    text = _report(0.0, 26000)
    assert "0.00 (0/50)" in text and "0.60 (300/500)" in text
    # The true top 50 are 0.19 % of 26,000 test architectures: chance finds 0.096 of them.
    assert "the best 0.19 % of them" in text and "finds 0.096 of them on average" in text
    assert "0.00 at k=50 (none found) is near chance" in text
    assert "chance" not in _report(0.1, 26000).split("on average")[1]
    # Where chance finds 2.5 of the top 50 (5 % of 1000), finding none is no luck.
    text = _report(0.0, 1000)
    assert "finds 2.5 of them on average" in text and "is below chance" in text


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
        assert -1 <= result["kendall_tau"] <= 1 and "precision_at_50" in result
    assert "precision@k: the share of the 26146 held-out architectures' true top k" in " ".join(
        out.split()
    )
    for name, search in summary["search"].items():
        assert search["n_queries"] == 25, name
        assert search["best_value"] <= summary["best_in_benchmark"]
    # progress goes to stderr, with elapsed times and bars over scoring and searching
    assert "fitting NARRanker on 60 architectures" in err
    assert "26146/26146" in err and "25/25" in err


def test_search_with_objectives_and_a_constraint_writes_the_front(tmp_path, capsys):
    from sknar.metrics import pareto_front

    output = tmp_path / "front.json"
    status, _, err = _run(
        ["search", "--strategy", "random", "--budget", "30", "--seed", "0", "--quiet",
         "--objective", "accuracy:max", "--objective", "params:min",
         "--constraint", "latency<=0.005", "--output", str(output)],
        capsys,
    )
    assert status == EXIT_OK, err
    summary = json.loads(output.read_text())
    assert summary["objectives"] == {"accuracy": "max", "params": "min"}
    assert summary["constraints"] == {"latency": ["<=", 0.005]}
    metrics = summary["metrics"]
    assert len(metrics) == 30 and all({"accuracy", "params", "latency"} <= set(m) for m in metrics)
    feasible = [m for m in metrics if m["latency"] <= 0.005]
    assert len(feasible) < 30  # the constraint bites: some queries were infeasible
    points = np.array([[m["accuracy"], m["params"]] for m in feasible])
    expected = points[pareto_front(points, ["max", "min"])]
    found = np.array([[q["accuracy"], q["params"]] for q in summary["pareto_front"]])
    assert sorted(map(tuple, found)) == sorted(map(tuple, expected))
    assert summary["best_value"] == max(m["accuracy"] for m in feasible)


def test_search_with_a_cost_constraint_queries_no_network_above_it(tmp_path, capsys):
    from sknar.utils.testing import require_data

    require_data("nasbench201/nats_tss_test_acc_200ep.csv")
    output = tmp_path / "constrained.json"
    status, _, err = _run(
        ["search", "--benchmark", "nasbench201", "--dataset", "cifar100", "--strategy",
         "evolution", "--budget", "25", "--quiet", "--constraint", "flops@cifar100<=4e7",
         "--output", str(output)],
        capsys,
    )
    assert status == EXIT_OK, err
    summary = json.loads(output.read_text())
    space = NASBench201Space()
    flops = [space.total_cost(query["arch"], "cifar100")["flops"]
             for query in summary["history"]]
    assert len(flops) == 25 and max(flops) <= 4e7


@pytest.mark.parametrize("flags, message", [
    (["--objective", "accuracy"], "NAME:max or NAME:min"),
    (["--constraint", "flops=3"], "NAME<=VALUE"),
])
def test_a_malformed_objective_or_constraint_is_one_line(flags, message, capsys):
    status, _, err = _run(["search", "--budget", "30", "--quiet", *flags], capsys)
    assert status == EXIT_INPUT_ERROR
    assert message in err and len(err.strip().splitlines()) == 1
