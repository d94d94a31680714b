"""Shared fixtures: where the benchmark data lives, and seeded helpers."""

import os
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_root():
    """``SKNAR_DATA`` if set, else ``../shared/data`` beside the repository."""
    env = os.environ.get("SKNAR_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def require_data(relative_path):
    """Return the path of a benchmark file, skipping the test when it is absent.

    On CI (``CI`` set) an absent file is an error: the data must be there and the tests that
    need it must run.
    """
    path = data_root() / relative_path
    if not path.is_file():
        message = (
            f"benchmark file {relative_path} not found under {data_root()} "
            "(set SKNAR_DATA to the folder that holds it)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_data():
    """The benchmark data folder (may be absent; use ``require_data`` for files)."""
    return data_root()


@pytest.fixture(autouse=True, scope="session")
def _data_env():
    """Point the library's data lookup at the benchmark folder for the whole run."""
    previous = os.environ.get("SKNAR_DATA")
    os.environ["SKNAR_DATA"] = str(data_root())
    yield
    if previous is None:
        os.environ.pop("SKNAR_DATA", None)
    else:
        os.environ["SKNAR_DATA"] = previous


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Run torch on one thread: the models under test are tiny, and two OpenMP threads on a
    shared two-core machine spin against each other and slow small steps down many times."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
