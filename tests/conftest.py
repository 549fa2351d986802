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
