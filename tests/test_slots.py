"""Training slots and per-run limits: the lecture-hall machinery."""

import threading
import time

import pytest
import torch

from dlplay import limits
from dlplay.errors import InputError
from dlplay.slots import SlotPool, threads_per_run
from dlplay.train import FunctionTask, Trainer


def test_pool_is_fifo_and_reports_place_in_line():
    pool = SlotPool(capacity=2)
    a, b, c, d = (pool.join() for _ in range(4))
    assert pool.holds(a) and pool.holds(b) and not pool.holds(c)
    assert pool.ahead(c) == 1 and pool.ahead(d) == 2 and pool.ahead(a) == 0
    pool.release(a)
    assert pool.holds(c) and pool.ahead(d) == 1
    pool.release(d)  # leaving the line is allowed too
    assert pool.waiting == 0 and pool.busy == 2


def test_wait_blocks_until_a_slot_frees():
    pool = SlotPool(capacity=1)
    a, b = pool.join(), pool.join()
    assert not pool.wait(b, 0.05)
    threading.Timer(0.1, pool.release, args=(a,)).start()
    t0 = time.monotonic()
    assert pool.wait(b, 5.0)
    assert time.monotonic() - t0 < 2.0


def test_silent_tickets_are_dropped():
    pool = SlotPool(capacity=1, stale_seconds=0.2)
    a, b = pool.join(), pool.join()
    for _ in range(5):  # b keeps polling; a (a closed tab) says nothing
        time.sleep(0.06)
        pool.touch(b)
    assert pool.holds(b) and not pool.touch(a)


def test_no_more_than_capacity_run_at_once():
    pool = SlotPool(capacity=2)
    running, peak, lock = [0], [0], threading.Lock()

    def worker():
        t = pool.join()
        assert pool.wait(t, 10)
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        pool.release(t)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


def test_threads_split_the_cores(monkeypatch):
    monkeypatch.delenv("DLPLAY_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert threads_per_run(1) == 8 and threads_per_run(4) == 2 and threads_per_run(20) == 1


def test_run_wall_clock_limit_keeps_weights(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RUN_SECONDS", 0.2)
    w = torch.zeros(1)

    def step():
        w.add_(1)
        return {"loss": 1.0}
    tr = Trainer(FunctionTask(step)).run(steps=10**9)
    assert "limit" in tr.stopped_reason and tr.steps == int(w.item()) > 0


def test_check_range():
    assert limits.check_range("latent size", 8, 2, 32) == 8
    with pytest.raises(InputError, match="latent size = 64 is out of range"):
        limits.check_range("latent size", 64, 2, 32)
    with pytest.raises(InputError):
        limits.check_range("steps", float("nan"), 1, 10)
    with pytest.raises(InputError, match="must be a number"):
        limits.check_range("steps", "many", 1, 10)
