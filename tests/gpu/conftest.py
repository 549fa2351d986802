"""The fake-CUDA fixture (tests/fakecuda.py): every test here runs as if the machine had one CUDA GPU."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fakecuda  # noqa: E402


@pytest.fixture
def fake_gpu(monkeypatch):
    """One CUDA GPU that is not there: DLPLAY_DEVICE=cuda, runs in threads of this process (a spawned worker would
    not be faked), synchronisations counted in the yielded counter."""
    monkeypatch.setenv("DLPLAY_DEVICE", "cuda")
    monkeypatch.setenv("DLPLAY_RUNNER", "thread")
    with fakecuda.fake_cuda(monkeypatch) as syncs:
        yield syncs


@pytest.fixture
def fresh_runner(fake_gpu):
    """A runner made under the fake (thread backend), closed afterwards."""
    from dlplay import runner as R
    old = R._RUNNER
    R._RUNNER = None
    yield
    if R._RUNNER is not None:
        R._RUNNER.close()
    R._RUNNER = old
