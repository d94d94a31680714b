"""Installation script for sknar."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_version():
    for line in (HERE / "sknar" / "_version.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=")[1].strip().strip('"')
    raise RuntimeError("sknar/_version.py has no __version__")


EXTRAS = {
    "tests": [
        "pytest>=7",
        "pytest-timeout>=2",
        "pytest-xdist>=3",
        "numpydoc>=1.6",  # the docstring checks of tests/test_docs.py
        "pandas>=1.5",
        "dask[distributed]>=2023.1",
    ],
    "docs": [
        "sphinx>=7",
        "sphinx-gallery>=0.15",
        "numpydoc>=1.6",
        "pydata-sphinx-theme>=0.15",
        "myst-parser>=2",
        "matplotlib>=3.7",
    ],
    "benchmarks": ["xgboost>=1.7", "lightgbm>=4", "matplotlib>=3.7"],
    "graph": ["nas-bench-graph>=1.4"],
    "plot": ["matplotlib>=3.7"],
    # sknar.integration.optuna; the rest of the library does not import Optuna.
    "optuna": ["optuna>=4"],
}
EXTRAS["all"] = sorted({req for reqs in EXTRAS.values() for req in reqs})

setup(
    name="sknar",
    version=read_version(),
    description="Neural Architecture Ranker (NAR) for predictor-based neural architecture "
    "search, scikit-learn compatible.",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.9",
    packages=find_packages(include=["sknar", "sknar.*"]),
    install_requires=[
        "numpy>=1.23",
        "scipy>=1.9",
        "scikit-learn>=1.6",
        "torch>=2.1",
        "skorch>=0.15",
        "joblib>=1.4",
        "networkx>=2.8",
        "tqdm>=4.60",
    ],
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["sknar=sknar.cli:run"]},
    classifiers=[
        "Intended Audience :: Science/Research",
        "License :: OSI Approved :: BSD License",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
