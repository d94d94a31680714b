"""The documentation builds with warnings as errors, with the benchmark files (every gallery
example runs) and without them (the examples that read them are shown under a note, none is
broken), and shows the benchmark report.

Each build works on a copy of the sources, so that the two builds can run side by side (the
gallery writes its pages into the source folder).
"""

import ast
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sknar.utils.testing import data_root, require_data

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS_DIR = REPO_ROOT / "docs"
NOT_RUN_NOTE = "This example was not run when these pages were built"

pytestmark = pytest.mark.slow


def _example_data():
    """``EXAMPLE_DATA`` of docs/conf.py: the examples that read benchmark files, and the files."""
    tree = ast.parse((DOCS_DIR / "conf.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "EXAMPLE_DATA":
            return ast.literal_eval(node.value)
    raise AssertionError("docs/conf.py defines no EXAMPLE_DATA")


def _build_docs(tmp_path, data_home):
    """Build a copy of the docs with ``SKNAR_DATA=data_home``; return the HTML folder."""
    pytest.importorskip("sphinx_gallery", reason="the docs extra is not installed")
    sources = tmp_path / "src"
    generated = shutil.ignore_patterns(
        "_build", "auto_examples", "generated", "gen_modules", "sg_execution_times.rst",
        "__pycache__",
    )
    for folder in ("docs", "examples", "benchmarks"):
        shutil.copytree(REPO_ROOT / folder, sources / folder, ignore=generated)
    # The copy imports this checkout's sknar, installed or not.
    python_path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(
        os.environ, SKNAR_DATA=str(data_home), PYTHONPATH=python_path,
        OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
    )
    html_dir = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(sources / "docs"), str(html_dir)],
        capture_output=True, text=True, env=env, timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "sknar" in (html_dir / "index.html").read_text(encoding="utf-8")
    return html_dir


def _gallery_pages(html_dir):
    pages = {
        path.stem + ".py": path.read_text(encoding="utf-8")
        for path in (html_dir / "auto_examples").glob("plot_*.html")
    }
    assert len(pages) >= 7, sorted(pages)
    for name, page in pages.items():
        assert "Traceback (most recent call last)" not in page, f"{name} shows a traceback"
    assert not list((html_dir / "_images").glob("*broken_example*"))
    return pages


def _ran(page):
    """Whether a gallery page shows the output of its example (text or a figure)."""
    return "sphx-glr-script-out" in page or "sphx-glr-single-img" in page


def test_docs_build_with_the_benchmark_files_and_run_every_example(tmp_path):
    for files in _example_data().values():
        for name in files:
            require_data(name)
    html_dir = _build_docs(tmp_path, data_root())
    pages = _gallery_pages(html_dir)
    not_run = sorted(name for name, page in pages.items() if not _ran(page))
    assert not not_run, f"examples shown without their output: {not_run}"
    assert not [name for name, page in pages.items() if NOT_RUN_NOTE in page]
    assert list((html_dir / "_images").glob("sphx_glr_plot_*_001.png"))
    _check_benchmark_page(html_dir)


def test_docs_build_without_benchmark_files_and_break_no_example(tmp_path):
    empty = tmp_path / "no_data"
    empty.mkdir()
    html_dir = _build_docs(tmp_path, empty)
    pages = _gallery_pages(html_dir)
    needs_data = _example_data()
    assert set(needs_data) <= set(pages), "docs/conf.py names examples that do not exist"
    for name, page in pages.items():
        if name in needs_data:
            assert NOT_RUN_NOTE in page and not _ran(page), name
            assert all(file in page for file in needs_data[name]), f"{name}: the note lacks a file"
        else:
            assert _ran(page) and NOT_RUN_NOTE not in page, f"{name} did not run without data"
    # The examples a search user needs most run on the benchmark that ships with a package.
    assert {"plot_ask_tell.py", "plot_tier_search.py"} <= {n for n, p in pages.items() if _ran(p)}
    _check_benchmark_page(html_dir)


def _check_benchmark_page(html_dir):
    """The page shows benchmarks/RESULTS.md as it stands: its section headings and figures."""
    report = (DOCS_DIR.parent / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    page = (html_dir / "benchmarks.html").read_text(encoding="utf-8")
    headings = re.findall(r"^#{2,3} ([^`\n]+?)\s*$", report, flags=re.M)
    assert headings, "RESULTS.md has no plain section heading"
    missing = [heading for heading in headings if html.escape(heading, quote=False) not in page]
    assert not missing, f"the benchmark page lacks the sections {missing}"
    for figure in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", report):
        name = Path(figure).name
        assert f'src="_images/{name}"' in page and (html_dir / "_images" / name).is_file(), name
