"""The README's Python code runs as written, in order, as a new user would paste it.

A block that reads a benchmark file which is not installed is skipped by the ``require_data``
rules; the first block needs nothing but the install command, so it always runs.
"""

import re
from pathlib import Path

import pytest

from sknar.utils.testing import require_data

README = Path(__file__).resolve().parents[1] / "README.md"
# Data files a block needs, by the benchmark name it loads.
NEEDS = {
    '"nasbench201"': "nasbench201/nats_tss_test_acc_200ep.csv",
    "load_nasbench201(": "nasbench201/nats_tss_test_acc_200ep.csv",
    '"nasbench101"': "nasbench101/nb101_20k_val108.json.gz",
    "load_nasbench101(": "nasbench101/nb101_20k_val108.json.gz",
}


def _python_blocks():
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def _needed_files(block):
    return sorted({path for marker, path in NEEDS.items() if marker in block})


def test_the_first_block_needs_no_benchmark_file():
    blocks = _python_blocks()
    assert len(blocks) >= 2
    assert _needed_files(blocks[0]) == []
    assert "nasbench_graph" in blocks[0]


@pytest.fixture(scope="module")
def namespace():
    """One namespace for all blocks: later blocks continue the earlier ones."""
    return {"__name__": "__readme__"}


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_readme_block_runs(index, namespace, tmp_path, monkeypatch, capsys):
    block = _python_blocks()[index]
    for path in _needed_files(block):
        require_data(path)
    monkeypatch.chdir(tmp_path)  # whatever a block writes stays out of the repository
    exec(compile(block, f"README.md python block {index + 1}", "exec"), namespace)
    out = capsys.readouterr().out
    assert out.strip(), "every block shows a result"
    if index == 0:
        tau = float(re.search(r"held-out architectures: (\S+)", out).group(1))
        assert 0.1 < tau <= 1.0  # it ranks: the measured figure is near 0.3
