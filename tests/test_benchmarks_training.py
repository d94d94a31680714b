"""The training suite's report: what it computes from its records."""

import pytest

from benchmarks._suites import SUITES, training


def _payload():
    cells = [
        {
            "kind": "cell",
            "arch": f"a{i}",
            "digits_accuracy": d,
            "cifar10_accuracy": c,
            "train_s": 2.0,
        }
        for i, (d, c) in enumerate([(0.90, 80.0), (0.95, 85.0), (0.97, 90.0), (0.96, 93.0)])
    ]
    searches = [
        {
            "kind": "search",
            "method": method,
            "seed": seed,
            "budget": 3,
            "n_queries": 3,
            "improvements": [[1, 0.9], [3, 0.95 + 0.01 * (method == "tier search")]],
            "best_arch": "a1",
            "best_validation": 0.95,
            "best_test": test,
            "best_cifar10": 85.0,
            "wall_s": 10.0,
        }
        for method, tests in (("tier search", (0.97, 0.98)), ("random search", (0.96, 0.96)))
        for seed, test in enumerate(tests)
    ]
    return {
        "config": training.CONFIGS["full"],
        "seeds": [0, 1],
        "jobs": 1,
        "quick": False,
        "machine": {"torch_threads": 1},
        "records": cells + searches,
    }


def test_the_suite_is_registered_with_both_configurations():
    assert SUITES["training"] is training
    assert set(training.CONFIGS) == {"full", "quick"}
    assert training.CONFIGS["full"]["n_cells"] == 30 and training.CONFIGS["full"]["budget"] == 30
    assert training.DEFAULT_SEEDS == {"full": 3, "quick": 1}


def test_correlation_is_kendall_tau_of_the_cells():
    tau, p_value, n_cells = training.correlation(_payload())
    # 6 pairs: 5 concordant, 1 discordant ((0.97, 90) against (0.96, 93))
    assert n_cells == 4 and tau == pytest.approx(4 / 6) and 0 < p_value < 1


def test_report_and_answer_state_the_figures():
    payload = _payload()
    text = training.report(payload)
    assert text.startswith("## Real trainings on digits")
    assert "| 4 | 0.667 |" in text and "| tier search | 0.9500 ± 0.0000 | 0.9750 ± 0.0071 |" in text
    lines = training.answer(payload)
    assert "Kendall tau 0.667" in lines[0] and "2.0 s" in lines[0]
    assert "tier search 0.9750, random search 0.9600 (+0.0150" in lines[1]
