"""Shared fixtures: where the benchmark data lives, and one torch thread."""

import os

import pytest
import torch

from sknar.utils.testing import data_root


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
