"""Three ways to train the network, with the same data, batches and step budget (only the adversarial term differs):

    source-only   min  L_y(source)           G_d is still trained, on features it cannot change (the quiz)
    alternating   the two objectives of the course notes (a GAN-like game, one step each in turn):
                    discriminator:          -log D(h(x_t)) - log(1 - D(h(x_s)))                  -> min over G_d
                    features + classifier:  L_y(y_s, G_y(h(x_s))) - lambda * log D(h(x_s))        -> min over G_f, G_y
                  (the second makes source features look like target features to D)
    grl           one loss, one step: L_y(source) + L_d(both domains), where the features see L_d's gradient
                  reversed and scaled by lambda (the gradient reversal layer, DANN eq. 9-10):
                    min over G_f, G_y of L_y - lambda * L_d,   min over G_d of L_d

lambda follows DANN's schedule by default: lambda_p = lambda * (2 / (1 + exp(-10 p)) - 1), p = step / ramp_steps
(capped at 1), so the features first learn the digits and only then are asked to hide the domain."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch.nn import functional as F

from ..data import on_device
from ..device import get_device, seed_everything
from ..errors import InputError
from ..topics import Config
from ..train import Batches, ModelTask
from .datasets import MAX_SIZE, MIN_SIZE, TARGETS, domains
from .measures import accuracy, evaluate
from .network import build_model, grad_reverse


METHODS = {
    "source-only": "Source only: the classifier learns the labelled clean digits; nothing asks the features to "
                   "ignore the domain (the discriminator is trained, but its gradient never reaches them).",
    "alternating": "Alternating: a discriminator step, then a features + classifier step that also tries to make "
                   "source features look like target features (the two objectives of the course notes).",
    "grl": "Gradient reversal (DANN): one step; the domain loss's gradient is reversed and scaled by lambda on its "
           "way into the features.",
}
SCHEDULES = ("ramp", "constant")
MAX_LAMBDA = 20.0
EVAL_EVERY = 25          # steps between the live (evaluation-only) target accuracy readings


# -- one run ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DomainConfig(Config):
    target: Literal["inverted", "photo"] = "photo"
    method: Literal["source-only", "alternating", "grl"] = "grl"
    lam: float = 1.0                      # the trade-off weight lambda (its final value under the ramp)
    schedule: Literal["ramp", "constant"] = "ramp"
    ramp_steps: int = 1000                # the ramp reaches lambda after this many steps
    image_size: int = 16
    lr: float = 1e-3
    batch_size: int = 64

    def check(self):
        self.one_of("target", list(TARGETS), "target domain")
        self.one_of("method", list(METHODS))
        self.in_range("lam", 0.0, MAX_LAMBDA, "lambda")
        self.one_of("schedule", SCHEDULES)
        self.in_range("ramp_steps", 1, 100_000, "ramp steps")
        self.in_range("image_size", MIN_SIZE, MAX_SIZE, "image size")
        self.in_range("lr", 1e-5, 0.1, "learning rate")
        self.in_range("batch_size", 8, 512, "batch size")
        if not isinstance(self.image_size, int) or not isinstance(self.ramp_steps, int):
            raise InputError("image size and ramp steps must be whole numbers.")
        return self


def lambda_at(config: DomainConfig, step: int) -> float:
    """The adversarial weight at this step: 0 for source-only; DANN's ramp 2/(1+exp(-10p)) - 1 or constant."""
    if config.method == "source-only":
        return 0.0
    if config.schedule == "constant":
        return config.lam
    p = min(1.0, step / config.ramp_steps)
    return config.lam * (2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0)


class DomainTask(ModelTask):
    """One step = one source batch (labelled) and one target batch (images only)."""

    def __init__(self, config: DomainConfig, seed: int = 0, device=None):
        self.cfg = config.check()
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.data = domains(config.target, config.image_size)
        self.model_config = {"image_size": config.image_size, "channels": [16, 32], "hidden": 64}
        self.model = build_model(**self.model_config).to(self.device)
        m = self.model
        # Two optimisers so the alternating game's players step separately; the other methods step both at once.
        self.opt = torch.optim.Adam([*m.features.parameters(), *m.classifier.parameters()], lr=config.lr)
        self.opt_d = torch.optim.Adam(m.discriminator.parameters(), lr=config.lr)
        to = lambda t: on_device(t, self.device)  # noqa: E731  one shared copy per device
        self.xs, self.ys, self.xt = to(self.data.xs_train), to(self.data.ys_train), to(self.data.xt_train)
        self.batches = Batches(len(self.xs), config.batch_size, self.generator, device=self.device)
        self.batches_t = Batches(len(self.xt), config.batch_size, self.generator, device=self.device)
        self.steps = 0
        self._target_acc = float("nan")

    # -- stop / resume / roll back -----------------------------------------------------------------------------------
    def state_dict(self):
        return {**super().state_dict(), "opt_d": self.opt_d.state_dict(), "batches_t": self.batches_t.state_dict(),
                "steps": self.steps}

    def load_state_dict(self, s):
        super().load_state_dict(s)
        self.opt_d.load_state_dict(s["opt_d"])
        self.batches_t.load_state_dict(s["batches_t"])
        self.steps = s["steps"]

    # -- one step ------------------------------------------------------------------------------------------------------
    def step(self):
        m, cfg = self.model, self.cfg
        m.train()
        i, j = self.batches.next(), self.batches_t.next()
        xs, ys, xt = self.xs[i], self.ys[i], self.xt[j]
        lam = lambda_at(cfg, self.steps)
        ones, zeros = torch.ones(len(xt), 1, device=self.device), torch.zeros(len(xs), 1, device=self.device)
        if cfg.method == "alternating":
            # Discriminator step: -log D(h(x_t)) - log(1 - D(h(x_s))) on features it cannot change.
            with torch.no_grad():
                hs, ht = m.features(xs), m.features(xt)
            d_s, d_t = m.discriminator(hs), m.discriminator(ht)
            loss_d = 0.5 * (F.binary_cross_entropy_with_logits(d_t, ones)
                            + F.binary_cross_entropy_with_logits(d_s, zeros))
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            # Features + classifier step: L_y(y_s, G_y(h(x_s))) - lambda * log D(h(x_s)) (fool D on the source).
            hs = m.features(xs)
            logits = m.classifier(hs)
            loss_y = F.cross_entropy(logits, ys)
            fool = F.binary_cross_entropy_with_logits(m.discriminator(hs), torch.ones_like(zeros))
            self.opt.zero_grad(set_to_none=True)
            (loss_y + lam * fool).backward()
            self.opt.step()
        else:
            # DANN: L_y + L_d, with L_d's gradient reversed (times lambda) into the features. Source-only: lambda = 0,
            # so the discriminator still learns from the features but the features never hear from it.
            hs, ht = m.features(xs), m.features(xt)
            logits = m.classifier(hs)
            loss_y = F.cross_entropy(logits, ys)
            d_s = m.discriminator(grad_reverse(hs, lam))
            d_t = m.discriminator(grad_reverse(ht, lam))
            loss_d = 0.5 * (F.binary_cross_entropy_with_logits(d_t, ones)
                            + F.binary_cross_entropy_with_logits(d_s, zeros))
            self.opt.zero_grad(set_to_none=True)
            self.opt_d.zero_grad(set_to_none=True)
            (loss_y + loss_d).backward()
            self.opt.step()
            self.opt_d.step()
        self.steps += 1
        d_acc = 0.5 * (((d_t > 0).float().mean()) + ((d_s < 0).float().mean()))
        if self.steps % EVAL_EVERY == 1 or math.isnan(self._target_acc):
            self._target_acc = accuracy(m, self.data.xt_test, self.data.yt_test)   # evaluation only: no gradient
        return {"label_loss": loss_y, "domain_loss": loss_d, "domain_acc": d_acc,
                "train_acc": (logits.argmax(1) == ys).float().mean(), "target_acc": self._target_acc,
                "lambda": lam}

    def evaluate(self):
        return evaluate(self.model, self.data)


def make_task(config: DomainConfig, seed: int = 0, device=None) -> DomainTask:
    """A fresh domain-adaptation run (the topic contract): same config and seed, same model."""
    return DomainTask(config.check(), seed, device)
