"""The runner: slots and queue, worker processes, stop/pause, time cap, fair share, crash recovery, thread share."""

import contextlib
import os
import signal
import time

import pytest
import torch

from dlplay import classifier, limits, runner as R
from dlplay.errors import InputError
from dlplay.train import Trainer

CFG = classifier.ClassifierConfig()


def _wait(run, timeout=60.0, until=lambda run, msgs: run.finished):
    msgs, t0 = [], time.monotonic()
    while time.monotonic() - t0 < timeout:
        msgs += run.messages()
        if until(run, msgs):
            return msgs
        time.sleep(0.02)
    raise AssertionError(f"run {run.id} did not get there in {timeout} s (status {run.status})")


@pytest.fixture(scope="module")
def proc_runner():
    r = R.Runner(capacity=1, backend="process")
    yield r
    r.close()


@contextlib.contextmanager
def _worker_threads():
    """Train the in-process reference with the thread count a lone worker uses: float sums split over a different
    number of threads can differ in the last bit, so bit-identical weights need the same split."""
    n = torch.get_num_threads()
    torch.set_num_threads(R.threads_per_run(1))
    try:
        yield
    finally:
        torch.set_num_threads(n)


def test_worker_process_trains_and_returns_the_same_model_as_in_process(proc_runner):
    run = proc_runner.submit(R.Job(classifier.make_task, CFG, seed=3, steps=60, record_every=10))
    msgs = _wait(run)
    assert run.backend == "process"
    end = msgs[-1]
    assert end["type"] == "end" and end["reason"] == "step budget reached" and end["steps"] == 60
    assert [m["type"] for m in msgs].count("end") == 1
    assert sum(len(m["history"]) for m in msgs) == 6     # every recorded step arrives exactly once
    assert 0 < end["last_eval"]["test_acc"] <= 1
    # the same job in this process gives bit-identical weights: a run is fully described by its Job
    local = classifier.make_task(CFG, 3)
    with _worker_threads():
        Trainer(local, record_every=10).run(steps=60)
    replica = classifier.make_task(CFG, 3)
    replica.load_state_dict(end["state"])
    for a, b in zip(local.model.state_dict().values(), replica.model.state_dict().values()):
        assert torch.equal(a, b)


def test_resume_in_a_worker_equals_one_long_run(proc_runner):
    first = _wait(proc_runner.submit(R.Job(classifier.make_task, CFG, seed=1, steps=30)))[-1]
    resume = {"task": first["state"], "steps": first["steps"], "seconds": first["seconds"]}
    second = _wait(proc_runner.submit(R.Job(classifier.make_task, CFG, seed=1, steps=20, resume=resume)))[-1]
    assert second["steps"] == 50
    one = classifier.make_task(CFG, 1)
    with _worker_threads():
        Trainer(one).run(steps=50)
    got = classifier.make_task(CFG, 1)
    got.load_state_dict(second["state"])
    assert all(torch.equal(a, b) for a, b in zip(one.model.state_dict().values(), got.model.state_dict().values()))


def test_stop_ends_a_run_within_a_chunk_and_keeps_its_weights(proc_runner):
    run = proc_runner.submit(R.Job(classifier.make_task, CFG, seconds=60, live_seconds=0.0))
    _wait(run, until=lambda r, m: any(x.get("live") for x in m))    # live snapshots arrive while it trains
    t0 = time.monotonic()
    run.stop()
    end = _wait(run)[-1]
    assert time.monotonic() - t0 < 3.0
    assert end["reason"] == "stopped" and end["steps"] > 0 and end["state"] is not None


def test_queue_reports_place_in_line_and_runs_in_order(proc_runner):
    a = proc_runner.submit(R.Job(classifier.make_task, CFG, seconds=1.0))
    b = proc_runner.submit(R.Job(classifier.make_task, CFG, steps=5))
    c = proc_runner.submit(R.Job(classifier.make_task, CFG, seed=1, steps=5))   # not b's twin (that would share)
    _wait(a, until=lambda r, m: r.status == "running")
    assert (b.ahead, c.ahead) == (1, 2)
    for r in (a, b, c):
        _wait(r)
    assert proc_runner.busy == 0 and proc_runner.waiting == 0


def test_a_killed_worker_ends_only_its_run_with_a_sentence_and_is_replaced(proc_runner):
    run = proc_runner.submit(R.Job(classifier.make_task, CFG, seconds=60))
    _wait(run, until=lambda r, m: any(x["type"] == "progress" for x in m))
    (pid,) = proc_runner.worker_pids()
    os.kill(pid, signal.SIGKILL)
    end = _wait(run, timeout=20)[-1]
    assert end["reason"] == "crashed" and "killed" in end["error"]
    after = _wait(proc_runner.submit(R.Job(classifier.make_task, CFG, seed=11, steps=5)))[-1]   # not cached
    assert after["reason"] == "step budget reached"
    assert proc_runner.worker_pids() and pid not in proc_runner.worker_pids()


def test_bad_config_is_a_sentence_not_a_crash(proc_runner):
    end = _wait(proc_runner.submit(R.Job(classifier.make_task, classifier.ClassifierConfig(hidden=0), steps=5)))[-1]
    assert end["reason"] == "refused" and "hidden units = 0 is out of range" in end["error"]


def test_unpolled_run_is_paused_with_its_state():
    r = R.Runner(capacity=1, backend="thread", stale_seconds=0.5)
    try:
        run = r.submit(R.Job(classifier.make_task, CFG, seconds=30))
        time.sleep(2.0)           # nobody polls: the tab closed or left the page
        end = _wait(run, timeout=10)[-1]
        assert end["reason"] == "paused" and end["state"] is not None and end["steps"] > 0
    finally:
        r.close()


def test_one_session_cannot_hold_every_slot(monkeypatch):
    monkeypatch.setenv("DLPLAY_RUNS_PER_SESSION", "2")
    r = R.Runner(capacity=4, backend="thread")
    try:
        runs = [r.submit(R.Job(classifier.make_task, CFG, seconds=5, owner="tab-a")) for _ in range(2)]
        with pytest.raises(InputError, match="stop one first"):
            r.submit(R.Job(classifier.make_task, CFG, seconds=5, owner="tab-a"))
        other = r.submit(R.Job(classifier.make_task, CFG, steps=3, owner="tab-b"))   # another student still can
        for run in runs:
            run.stop()
        for run in [*runs, other]:
            _wait(run)
    finally:
        r.close()


def test_time_cap_applies_to_every_run(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RUN_SECONDS", 0.5)
    r = R.Runner(capacity=1, backend="thread")
    try:
        end = _wait(r.submit(R.Job(classifier.make_task, CFG, seconds=60)))[-1]
        assert "limit of one run" in end["reason"] and end["seconds"] < 1.5
    finally:
        r.close()


def test_threads_split_the_cores(monkeypatch):
    monkeypatch.delenv("DLPLAY_THREADS", raising=False)
    n = os.cpu_count() or 1
    assert R.threads_per_run(1) == max(1, n - 1) and R.threads_per_run(n * 4) == 1   # one core for the server
    monkeypatch.setenv("DLPLAY_THREADS", "3")
    assert R.threads_per_run(1) == 3


def test_only_the_runner_sets_torch_threads(root):
    home = root / "dlplay" / "runner" / "settings.py"       # set_threads: the one place that sets them
    assert "set_num_threads" in home.read_text()
    offenders = []
    for folder in ("dlplay", "pages"):
        for p in (root / folder).rglob("*.py"):
            if p != home and "set_num_threads" in p.read_text():
                offenders.append(str(p.relative_to(root)))
    assert offenders == []


def test_code_version_digests_all_of_dlplay_not_only_the_runner(root):
    """The dedup key's code version must change when a topic or the engine changes, not only the runner's files."""
    import hashlib

    saved = list(R._CODE_VERSION)
    R._CODE_VERSION.clear()
    try:
        h = hashlib.sha1()
        for p in sorted((root / "dlplay").resolve().rglob("*.py")):
            h.update(p.read_bytes())
        assert R.code_version() == h.hexdigest()[:16]
    finally:
        R._CODE_VERSION[:] = saved


def test_same_seed_gives_the_same_model_when_sessions_build_at_once():
    from concurrent.futures import ThreadPoolExecutor

    from dlplay.topics import build_task

    ref = classifier.make_task(CFG, 0).model.state_dict()

    def build(_):
        sd = build_task(classifier.make_task, CFG, 0).model.state_dict()
        return all(torch.equal(sd[k], ref[k]) for k in ref)

    with ThreadPoolExecutor(4) as pool:
        same = list(pool.map(build, range(100)))
    assert all(same)


def test_identical_step_budget_runs_are_computed_once_and_each_gets_its_own_weights(proc_runner):
    job = lambda owner: R.Job(classifier.make_task, CFG, seed=7, steps=40, record_every=10, owner=owner)  # noqa
    a, b = proc_runner.submit(job("a")), proc_runner.submit(job("b"))     # b attaches to a's computation
    assert b.shared and not a.shared and proc_runner.waiting + proc_runner.busy == 1
    ea, eb = _wait(a)[-1], _wait(b)[-1]
    assert ea["steps"] == eb["steps"] == 40
    assert all(torch.equal(ea["state"]["model"][k], eb["state"]["model"][k]) for k in ea["state"]["model"])
    assert ea["state"]["model"] is not eb["state"]["model"]                 # copies, not one shared object
    c = proc_runner.submit(job("c"))                                        # finished before: replayed at once
    assert c.shared and _wait(c, timeout=2)[-1]["steps"] == 40
    d = proc_runner.submit(R.Job(classifier.make_task, CFG, seed=8, steps=40))   # another seed: computed anew
    assert not d.shared
    _wait(d)


def test_stopping_a_shared_run_leaves_it_running_for_the_others(proc_runner):
    job = R.Job(classifier.make_task, CFG, seed=9, steps=400, record_every=10)
    a, b = proc_runner.submit(job), proc_runner.submit(job)
    _wait(a, until=lambda r, m: any(x["type"] == "progress" for x in m))
    b.stop()
    assert _wait(b, timeout=2)[-1]["reason"] == "stopped"
    assert _wait(a)[-1]["reason"] == "step budget reached"


def test_a_worker_that_grew_too_big_is_replaced_after_its_run(monkeypatch):
    import psutil

    monkeypatch.setenv("DLPLAY_WORKER_MAX_MB", "1")      # every worker is "too big": recycled after each run
    r = R.Runner(capacity=1, backend="process")
    try:
        run = r.submit(R.Job(classifier.make_task, CFG, seed=21, steps=300))
        _wait(run, until=lambda run, m: bool(r.worker_pids()))
        (pid,) = r.worker_pids()
        _wait(run)
        assert pid not in r.worker_pids()
        def gone() -> bool:   # exited (or a zombie awaiting its parent); it may vanish between two calls
            try:
                return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                return True

        t0 = time.monotonic()
        while not gone() and time.monotonic() - t0 < 15:
            time.sleep(0.2)
        assert gone()
        assert _wait(r.submit(R.Job(classifier.make_task, CFG, seed=22, steps=3)))[-1]["steps"] == 3   # a new one
    finally:
        r.close()
