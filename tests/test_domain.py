"""Domain adaptation: the two domains, the network's parts, bad input, the shipped networks, the CLI, and the lesson
(adaptation beats source only on the target, with the same network, data, batches and steps) on fresh models."""

import json

import numpy as np
import pytest
import torch

from dlplay import checkpoints, cli
from dlplay import domain as D
from dlplay.errors import InputError
from dlplay.topics import Topic
from dlplay.train import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


def test_two_domains_are_the_same_digits_drawn_differently():
    for target in D.TARGETS:
        d = D.domains(target, 16)
        assert d.xs_train.shape[1:] == d.xt_train.shape[1:] == (3, 16, 16)
        for x in (d.xs_train, d.xt_train, d.xs_test, d.xt_test):
            assert 0 <= float(x.min()) and float(x.max()) <= 1
        assert torch.equal(d.ys_test, d.yt_test)            # the same test digits in both domains
        assert len(d.xs_train) + len(d.xt_train) == 1437    # training digits split, not shared
        gap = (d.xs_test - d.xt_test).abs().mean()
        assert gap > 0.2, (target, gap)
    photo = D.domains("photo", 16).xt_test
    assert float((photo[:, 0] - photo[:, 1]).abs().mean()) > 0.03   # colour, not grey
    assert D.domains("photo", 12).xt_test.shape[-1] == 12


def test_gradient_reversal_and_the_lambda_schedule():
    x = torch.ones(3, requires_grad=True)
    D.grad_reverse(x, 2.5).sum().backward()
    assert torch.allclose(x.grad, torch.full((3,), -2.5))
    cfg = D.DomainConfig(method="grl", lam=2.0, ramp_steps=100)
    assert D.lambda_at(cfg, 0) == 0.0
    assert 0 < D.lambda_at(cfg, 20) < D.lambda_at(cfg, 50) < 2.0
    assert D.lambda_at(cfg, 100) == pytest.approx(2.0, abs=1e-3) == D.lambda_at(cfg, 10_000)
    assert D.lambda_at(cfg.replace(schedule="constant"), 0) == 2.0
    assert D.lambda_at(cfg.replace(method="source-only"), 500) == 0.0


@pytest.mark.parametrize("bad, word", [(dict(lam=50.0), "lambda"), (dict(lam=-1.0), "lambda"),
                                       (dict(image_size=100), "image size"), (dict(image_size=16.5), "whole"),
                                       (dict(target="mnist"), "target domain"), (dict(method="cyclegan"), "method"),
                                       (dict(ramp_steps=0), "ramp steps"), (dict(lam=float("nan")), "lambda")])
def test_bad_settings_are_a_sentence(bad, word):
    with pytest.raises(InputError, match=word):
        D.make_task(D.DomainConfig(**bad))


def test_follows_the_topic_contract():
    assert isinstance(D, Topic)
    for name, sh in D.SHIPPED.items():
        assert name == sh.name and isinstance(sh.config, D.DomainConfig)
    assert D.shipped_name("photo", True) in D.SHIPPED and D.shipped_name("inverted", False) in D.SHIPPED


@pytest.mark.parametrize("method", list(D.METHODS))
def test_every_method_learns_the_source_and_resumes_exactly(method):
    cfg = D.DomainConfig(method=method, image_size=12, batch_size=32)
    a = D.make_task(cfg, seed=3)
    tr = Trainer(a).run(steps=60, evaluate=False)
    first = sum(h["label_loss"] for h in tr.history[:10]) / 10
    last = sum(h["label_loss"] for h in tr.history[-10:]) / 10
    assert last < 0.7 * first
    b = D.make_task(cfg, seed=3)
    tb = Trainer(b)
    tb.run(steps=25, evaluate=False)
    tb.run(steps=35, evaluate=False)     # stop and resume: the same model as not stopping
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)
    assert 0 <= tr.history[-1]["target_acc"] <= 1 and 0 <= tr.history[-1]["domain_acc"] <= 1


def test_shipped_networks_hold_the_lesson():
    for target in D.TARGETS:
        so = D.load(checkpoints.shipped(D.shipped_name(target, False)))
        ad = D.load(checkpoints.shipped(D.shipped_name(target, True)))
        data = D.domains(target, 16)
        for model, cfg, extra in (so, ad):
            assert checkpoints.shipped(D.shipped_name(target, False)).stat().st_size < 1_000_000
            assert {"source_accuracy", "target_accuracy", "domain_accuracy", "tsne", "steps"} <= set(extra)
            # The stored numbers are the loaded network's own (half-precision weights change little).
            assert D.accuracy(model, data.xt_test, data.yt_test) == pytest.approx(extra["target_accuracy"], abs=0.02)
        assert so[2]["fresh_domain_accuracy"] >= 0.95                 # the quiz: a discriminator tells them apart
        assert so[2]["source_accuracy"] >= 0.9
        assert ad[2]["domain_accuracy"] <= 0.65 < so[2]["domain_accuracy"]   # the adversary was fooled
        assert ad[2]["target_accuracy"] > so[2]["target_accuracy"]
    so, ad = (D.load(checkpoints.shipped(D.shipped_name("photo", a)))[2] for a in (False, True))
    assert ad["target_accuracy"] >= so["target_accuracy"] + 0.10          # the target, photo textures
    assert ad["source_accuracy"] >= so["source_accuracy"] - 0.03
    maps = [{k: np.asarray(v) for k, v in extra["tsne"].items()} for extra in (so, ad)]
    assert D.mixing(maps[1]) > D.mixing(maps[0])


def test_verdict_never_calls_a_collapse_a_success():
    assert D.verdict({"source_accuracy": 0.3, "target_accuracy": 0.2, "domain_accuracy": 0.5}, "grl")[0] == "collapsed"
    assert D.verdict({"source_accuracy": 0.97, "target_accuracy": 0.3, "domain_accuracy": 0.99}, "grl")[0] == \
        "not adapted"
    assert D.verdict({"source_accuracy": 0.97, "target_accuracy": 0.3, "domain_accuracy": 0.99},
                     "source-only")[0] == "ok"
    assert D.verdict({"source_accuracy": 0.96, "target_accuracy": 0.6, "domain_accuracy": 0.6}, "grl")[0] == "ok"
    so = {"source_accuracy": 0.97, "target_accuracy": 0.36}
    hurt = {"source_accuracy": 0.80, "target_accuracy": 0.20, "domain_accuracy": 0.6}   # lambda 20, seed 1
    state, sentence = D.verdict(hurt, "alternating", so)
    assert state == "no gain" and "20%" in sentence and "36%" in sentence and "lower lambda" in sentence
    assert D.verdict({**hurt, "target_accuracy": 0.37, "source_accuracy": 0.96}, "grl", so)[0] == "no gain"
    assert D.verdict({**hurt, "target_accuracy": 0.45, "source_accuracy": 0.96}, "grl", so)[0] == "ok"


def test_cli_trains_and_reports_the_three_numbers(capsys, tmp_path):
    out = tmp_path / "da.pt"
    rc = cli.main(["train", "domain-adapt", "--target", "inverted", "--method", "grl", "--lambda", "0.5",
                   "--steps", "20", "--image-size", "12", "--seed", "1", "--json", "--out", str(out)])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["lam"] == 0.5 and summary["steps"] == 20 and summary["method"] == "grl"
    for k in ("source_accuracy", "target_accuracy", "domain_accuracy"):
        assert 0 <= summary[k] <= 1
    model, cfg, extra = D.load(out)
    assert cfg["image_size"] == 12 and extra["config"]["target"] == "inverted"
    assert cli.main(["train", "domain-adapt", "--lambda", "99", "--steps", "5"]) == 2
    assert "lambda = 99.0 is out of range" in capsys.readouterr().err
    assert cli.main(["train", "domain-adapt", "--steps", "0"]) == 2


def _target_gain(seed: int, steps: int, method: str = "grl") -> tuple[dict, dict]:
    """Source only and an adapted run from the same seed: same network, data, batches and steps."""
    out = []
    for m in ("source-only", method):
        task = D.make_task(D.DomainConfig(target="photo", method=m), seed)
        Trainer(task, record_every=50).run(steps=steps, evaluate=False)
        out.append({"source_accuracy": D.accuracy(task.model, task.data.xs_test, task.data.ys_test),
                    "target_accuracy": D.accuracy(task.model, task.data.xt_test, task.data.yt_test),
                    "domain_accuracy": D.discriminator_accuracy(task.model, task.data)})
    return out[0], out[1]


@pytest.mark.slow
@pytest.mark.timeout(2400)   # six 1,500-step runs: over the suite's 300 s on a busy CPU
def test_adversarial_term_beats_source_only_on_fresh_models_over_three_seeds():
    """The shipped budget (1,500 steps, lambda ramped to 1 over 1,000), seeds 0, 1, 2: about 10 minutes per run on
    a busy CPU. Measured: +11.7, +0.6 and +10.8 points (seed 1's discriminator won), source accuracy within 0.5 of
    source only. At 300 steps the gain was within the seed-to-seed spread, so there is no fast version."""
    gains, drops = [], []
    for seed in (0, 1, 2):
        so, ad = _target_gain(seed, 1500)
        gains.append(ad["target_accuracy"] - so["target_accuracy"])
        drops.append(so["source_accuracy"] - ad["source_accuracy"])
    assert sum(gains) / 3 > 0.05 and min(gains) > -0.02, gains
    assert max(drops) < 0.03, drops


@pytest.mark.slow
def test_lambda_too_high_collapses_the_features():
    task = D.make_task(D.DomainConfig(target="photo", method="alternating", lam=20.0, schedule="constant"), 0)
    Trainer(task).run(steps=300, evaluate=False)
    ev = task.evaluate()
    assert D.verdict(ev, "grl")[0] == "collapsed", ev
