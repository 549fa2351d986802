"""The load test's leak counters (dlplay/debug.py): a Trainer is counted while referenced and not after; the
counter thread starts only with $DLPLAY_DEBUG_COUNTS and writes one JSON object."""

import json
import time
import weakref

import torch

from dlplay import debug
from dlplay.train import Task, Trainer


class _Tiny(Task):
    def __init__(self):
        self.model = torch.nn.Linear(2, 1)

    def step(self):
        return {"loss": 0.0}

    def evaluate(self):
        return {}


def test_trainers_and_models_are_counted_while_held_and_not_after():
    # Other tests in the same process may hold (or drop) trainers of their own meanwhile, so this follows its two.
    held = [Trainer(_Tiny()), Trainer(_Tiny())]
    now = debug.counts()
    assert all(t in debug.TRAINERS for t in held) and now["trainers"] >= 2 and now["models"] >= 2
    gone = [weakref.ref(t) for t in held]
    del held
    debug.counts()                                   # collects garbage first, as the server's counter does
    assert all(r() is None for r in gone)            # nothing but the caller held them: no longer counted


def test_counter_file_is_written_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.delenv("DLPLAY_DEBUG_COUNTS", raising=False)
    assert debug.start_from_env() is False
    out = tmp_path / "counts.json"
    monkeypatch.setenv("DLPLAY_DEBUG_COUNTS", str(out))
    debug.stop()
    try:
        assert debug.start_from_env(every=0.1) is True
        for _ in range(50):
            if out.exists():
                break
            time.sleep(0.1)
        d = json.loads(out.read_text())
    finally:
        debug.stop()
    assert {"sessions", "trainers", "models", "running", "queued"} <= set(d)
