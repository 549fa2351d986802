"""Knobs that change while a model trains: applied between two steps, weights kept, marked on the curves."""

import time

import pytest
import torch

from dlplay import autoencoders, runner as R, topics
from dlplay.errors import InputError
from dlplay.gan import GAN2DConfig
from dlplay.gan.gan2d import make_task as gan2d_task
from dlplay.train import Trainer


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks: one torch thread (two spin against each other on a busy 2-core machine)."""
    n = torch.get_num_threads()
    R.set_threads(1)
    yield
    R.set_threads(n)


def _wait(run, until, timeout=60.0):
    msgs, t0 = [], time.monotonic()
    while time.monotonic() - t0 < timeout:
        msgs += run.messages()
        if until(msgs):
            return msgs
        time.sleep(0.02)
    raise AssertionError(f"run {run.id} did not get there in {timeout} s (status {run.status})")


def _same(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def test_tune_changes_only_live_knobs_and_checks_the_new_values():
    task = gan2d_task(GAN2DConfig(), seed=0)
    before = {k: v.clone() for k, v in task.model.state_dict().items()}
    diff = topics.tune(task, {"loss": "wgan-gp", "lr_g": 5e-4})
    assert diff == {"loss": ("nonsaturating", "wgan-gp"), "lr_g": (2e-3, 5e-4)}
    assert task.config.loss == "wgan-gp" and task.opt_g.param_groups[0]["lr"] == 5e-4
    assert task.opt_g.param_groups[0]["betas"] == (0.5, 0.9)          # WGAN-GP's Adam
    assert _same(before, task.model.state_dict())                     # the networks are kept
    with pytest.raises(InputError, match="g_hidden"):                 # G's width changes the model: refused
        topics.tune(task, {"g_hidden": 32})
    with pytest.raises(InputError):
        topics.tune(task, {"lr_d": 5.0})                              # out of range
    assert task.config.lr_d == 2e-3 and task.config.g_hidden == 64


def test_live_changes_splits_knobs_from_architecture():
    old = GAN2DConfig()
    live, fixed = topics.live_changes(old, old.replace(loss="wgan-gp", k_d=5, d_layers=2),
                                      topics.live_knobs(gan2d_task(old)))
    assert live == {"loss": "wgan-gp", "k_d": 5} and fixed == ["d_layers"]


def test_autoencoder_weight_changes_mid_run_keep_the_model():
    cfg = autoencoders.AutoencoderConfig(variant="sparse")
    task = autoencoders.make_task(cfg, seed=0)
    default = task.weight
    diff = topics.tune(task, {"weight": default * 4, "lr": 1e-3})
    assert diff["weight"] == (default, default * 4) and task.weight == default * 4
    assert task.opt.param_groups[0]["lr"] == 1e-3


@pytest.fixture(scope="module")
def proc_runner():
    r = R.Runner(capacity=1, backend="process")
    yield r
    r.close()


@pytest.mark.parametrize("backend", ["process", "thread"])
def test_a_change_sent_to_a_running_run_applies_from_the_next_step(backend, proc_runner):
    """The run in a worker takes the change between two steps: its final weights equal an in-process run that
    trained to the marked step, took the same change, and trained on to the same step count."""
    r = proc_runner if backend == "process" else R.Runner(capacity=1, backend="thread")
    try:
        run = r.submit(R.Job(gan2d_task, GAN2DConfig(), seed=1, steps=600, record_every=5))
        _wait(run, lambda ms: any(m.get("steps", 0) >= 50 for m in ms))
        assert run.tune(loss="wgan-gp", k_d=2) == ""
        msgs = _wait(run, lambda ms: any(m["type"] == "end" for m in ms))
    finally:
        if r is not proc_runner:
            r.close()
    marks = [mk for m in msgs for mk in m.get("marks") or []]
    assert len(marks) == 1 and "wgan-gp" in marks[0]["label"] and 50 <= marks[0]["step"] < 600
    end = msgs[-1]
    assert end["reason"] == "step budget reached" and end["steps"] == 600

    ref = Trainer(gan2d_task(GAN2DConfig(), seed=1), record_every=5)
    ref.run(steps=marks[0]["step"], evaluate=False)
    topics.tune(ref.task, {"loss": "wgan-gp", "k_d": 2})
    ref.run(steps=600 - marks[0]["step"], evaluate=False)
    assert _same(end["state"]["model"], ref.task.model.state_dict())


def test_a_resumed_run_uses_its_jobs_knobs_not_the_saved_optimiser_state():
    r = R.Runner(capacity=1, backend="thread")
    try:
        first = r.submit(R.Job(gan2d_task, GAN2DConfig(), seed=0, steps=20))
        end = _wait(first, lambda ms: any(m["type"] == "end" for m in ms))[-1]
        resume = {"task": end["state"], "steps": end["steps"], "seconds": end["seconds"]}
        second = r.submit(R.Job(gan2d_task, GAN2DConfig(lr_g=1e-4), seed=0, steps=10, resume=resume))
        end2 = _wait(second, lambda ms: any(m["type"] == "end" for m in ms))[-1]
    finally:
        r.close()
    assert end2["state"]["opt_g"]["param_groups"][0]["lr"] == 1e-4


def test_a_shared_run_refuses_a_change_with_a_sentence(proc_runner):
    job = R.Job(gan2d_task, GAN2DConfig(), seed=5, steps=3000, record_every=5)
    a, b = proc_runner.submit(job), proc_runner.submit(job)
    try:
        assert b.shared
        said = a.tune(loss="wgan-gp")
        assert "shared" in said
    finally:
        a.stop()
        b.stop()
        _wait(a, lambda ms: a.finished)
