import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DLPLAY_DEVICE", "cpu")
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="module")
def one_thread():
    """The demo models are tiny: one thread is as fast as two, and on a busy shared machine two OpenMP threads can
    make a step 30x slower (measured). Modules opt in with pytestmark; restored afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def digits():
    from dlplay import data

    return data.load("digits")
