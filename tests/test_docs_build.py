"""The documentation builds with warnings as errors, running every gallery example, and
shows the benchmark report."""

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.slow
def test_docs_and_gallery_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx_gallery", reason="the docs extra is not installed")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS_DIR), str(tmp_path / "html")],
        capture_output=True, text=True, env=env, timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    index = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert "sknar" in index
    gallery = tmp_path / "html" / "auto_examples"
    assert len(list(gallery.glob("plot_*.html"))) >= 7
    assert list((tmp_path / "html" / "_images").glob("sphx_glr_plot_*_001.png"))
    _check_benchmark_page(tmp_path / "html")


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
