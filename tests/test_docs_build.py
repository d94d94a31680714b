"""The documentation builds with warnings as errors, running every gallery example."""

import os
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
