"""Adversarial domain adaptation: learn on clean digits (labelled), work on digits in the wild (unlabelled).

Two domains made offline. The *source* is scikit-learn's handwritten digits, upsampled and labelled. The *target*
is other digit images of the same set, redrawn "in the wild": inverted (dark digits on light grey), or composited
over random crops of the bundled photographs in the spirit of MNIST-M (Ganin & Lempitsky 2015): each pixel is
|photo - digit| per colour channel, plus noise. Target labels are used only to score, never to train.

One network for every method (Ganin et al. 2016, "Domain-adversarial training of neural networks"):

    features h = G_f(x)        two conv layers          (the representation both domains share)
    label classifier G_y(h)     two linear layers        trained on the labelled source only
    domain discriminator G_d(h) two linear layers        P(target | h)

and three ways to train it, with the same data, batches and step budget (only the adversarial term differs):

    source-only   min  L_y(source)           G_d is still trained, on features it cannot change (the quiz)
    alternating   the two objectives of the course notes (a GAN-like game, one step each in turn):
                    discriminator:          -log D(h(x_t)) - log(1 - D(h(x_s)))                  -> min over G_d
                    features + classifier:  L_y(y_s, G_y(h(x_s))) - lambda * log D(h(x_s))        -> min over G_f, G_y
                  (the second makes source features look like target features to D)
    grl           one loss, one step: L_y(source) + L_d(both domains), where the features see L_d's gradient
                  reversed and scaled by lambda (the gradient reversal layer, DANN eq. 9-10):
                    min over G_f, G_y of L_y - lambda * L_d,   min over G_d of L_d

lambda follows DANN's schedule by default: lambda_p = lambda * (2 / (1 + exp(-10 p)) - 1), p = step / ramp_steps
(capped at 1), so the features first learn the digits and only then are asked to hide the domain.

    from dlplay import domain
    task = domain.make_task(domain.DomainConfig(target="photo", method="grl"), seed=0)
    Trainer(task).run(steps=1500)
    task.evaluate()   # source_accuracy, target_accuracy, domain_accuracy (a fresh discriminator, held out)
"""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .data import on_device
from . import checkpoints
from .device import get_device, seed_everything
from .errors import InputError
from .limits import check_range
from .topics import Config, Shipped, checkpoint_bytes, config_from_args, add_budget_args, add_config_args
from .train import Batches, ModelTask, Trainer

TITLE = "Domain adaptation"
BUILDER = "dlplay.domain:build_model"

TARGETS = {
    "inverted": "Inverted: dark digits on a light, noisy grey background. A simple change, yet the source-only network "
                "reads almost none of them, and matching features helps little here (measured).",
    "photo": "Photo textures: |photo crop - digit| in colour over the bundled photographs, plus noise "
             "(MNIST-M style). Adversarial adaptation helps here (measured).",
}
METHODS = {
    "source-only": "Source only: the classifier learns the labelled clean digits; nothing asks the features to "
                   "ignore the domain (the discriminator is trained, but its gradient never reaches them).",
    "alternating": "Alternating: a discriminator step, then a features + classifier step that also tries to make "
                   "source features look like target features (the two objectives of the course notes).",
    "grl": "Gradient reversal (DANN): one step; the domain loss's gradient is reversed and scaled by lambda on its "
           "way into the features.",
}
SCHEDULES = ("ramp", "constant")
MIN_SIZE, MAX_SIZE = 12, 32
MAX_LAMBDA = 20.0
PHOTOS = ("china", "flower", "astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field")
EVAL_EVERY = 25          # steps between the live (evaluation-only) target accuracy readings
COLLAPSE_SOURCE_ACC = 0.6   # below this source test accuracy the features no longer carry the digits
DISCRIMINATOR_WINS = 0.9    # at or above this held-out domain accuracy the domains are still apart
MIN_GAIN = 0.02             # a target accuracy less than 2 points above source only's is no gain


# -- the two domains -----------------------------------------------------------------------------------------------
@dataclass
class Domains:
    """Source (labelled) and target (labels only for scoring) images, (N, 3, S, S) in [0, 1].

    The digit images are split: the source's training digits and the target's training digits are different
    images of the same set; the two test sets are the same held-out test digits drawn in each domain (so the
    source/target accuracy gap is due to the domain alone)."""

    target: str
    size: int
    xs_train: torch.Tensor
    ys_train: torch.Tensor
    xt_train: torch.Tensor
    yt_train: torch.Tensor      # never used to train: only the page's "what the target digits are" captions
    xs_test: torch.Tensor
    ys_test: torch.Tensor
    xt_test: torch.Tensor
    yt_test: torch.Tensor


@functools.cache
def _photos() -> tuple[np.ndarray, ...]:
    """The bundled colour photographs (scikit-learn and scikit-image), float32 (H, W, 3) in [0, 1], halved in size
    so a crop of 24-64 pixels holds texture rather than one flat patch."""
    from PIL import Image
    from skimage import data as skd
    from sklearn.datasets import load_sample_image

    out = []
    for name in PHOTOS:
        img = load_sample_image(f"{name}.jpg") if name in ("china", "flower") else getattr(skd, name)()
        img = Image.fromarray(np.asarray(img)[..., :3])
        img = img.resize((max(64, img.width // 2), max(64, img.height // 2)), Image.BILINEAR)
        out.append(np.asarray(img, np.float32) / 255.0)
    return tuple(out)


def _upsample(x: torch.Tensor, size: int) -> torch.Tensor:
    """(N, 1, 8, 8) grey digits -> (N, 3, size, size), bilinear."""
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1).expand(-1, 3, -1, -1)


def render_target(digits: torch.Tensor, target: str, size: int, seed: int) -> torch.Tensor:
    """Draw clean grey digits (N, 1, 8, 8) in the target domain: (N, 3, size, size) in [0, 1]."""
    if target not in TARGETS:
        raise InputError(f"Unknown target domain {target!r}: choose one of {', '.join(TARGETS)}.")
    rng = np.random.default_rng(seed)
    x = _upsample(digits, size).numpy()
    n = len(x)
    if target == "inverted":
        # Dark strokes on a light grey background of random brightness, plus pixel noise.
        bg = rng.uniform(0.55, 0.95, (n, 1, 1, 1)).astype(np.float32)
        out = bg * (1 - x) + rng.normal(0, 0.05, x.shape).astype(np.float32)
        return torch.from_numpy(np.clip(out, 0, 1).astype(np.float32))
    photos = _photos()
    crops = np.empty((n, 3, size, size), np.float32)
    for i in range(n):
        p = photos[rng.integers(len(photos))]
        side = int(rng.integers(24, 65))
        r, c = rng.integers(0, p.shape[0] - side + 1), rng.integers(0, p.shape[1] - side + 1)
        patch = torch.from_numpy(np.ascontiguousarray(p[r:r + side, c:c + side].transpose(2, 0, 1)))[None]
        crops[i] = F.interpolate(patch, size=(size, size), mode="area")[0].numpy()
    out = np.abs(crops - x)                                   # MNIST-M's blend: the digit inverts the photo
    out += rng.normal(0, 0.04, out.shape).astype(np.float32)
    return torch.from_numpy(np.clip(out, 0, 1).astype(np.float32))


@functools.cache
def domains(target: str = "photo", size: int = 16) -> Domains:
    """The two domains at this image size (fixed data: the same for every run and seed; cached)."""
    from .data import load

    if target not in TARGETS:
        raise InputError(f"Unknown target domain {target!r}: choose one of {', '.join(TARGETS)}.")
    check_range("image size", size, MIN_SIZE, MAX_SIZE, " pixels")
    d = load("digits")
    perm = torch.from_numpy(np.random.default_rng(1234).permutation(len(d.x_train)))
    src, tgt = perm[: len(perm) // 2], perm[len(perm) // 2:]
    return Domains(target, size,
                   xs_train=_upsample(d.x_train[src], size).contiguous(), ys_train=d.y_train[src],
                   xt_train=render_target(d.x_train[tgt], target, size, seed=1), yt_train=d.y_train[tgt],
                   xs_test=_upsample(d.x_test, size).contiguous(), ys_test=d.y_test,
                   xt_test=render_target(d.x_test, target, size, seed=2), yt_test=d.y_test)


# -- the network -----------------------------------------------------------------------------------------------------
class GradReverse(torch.autograd.Function):
    """Identity forward; multiplies the gradient by -lambda backward (DANN's gradient reversal layer R_lambda)."""

    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.lam * grad, None


def grad_reverse(x: torch.Tensor, lam: float) -> torch.Tensor:
    return GradReverse.apply(x, float(lam))


class DANN(nn.Module):
    """Features G_f (conv 5x5 -> BN -> pool -> conv 3x3 -> BN -> pool), label classifier G_y, domain discriminator G_d:
    a scaled-down version of DANN's MNIST network (conv 5x5 32 and 48 channels, then 100 units per head)."""

    def __init__(self, image_size: int = 16, channels=(16, 32), hidden: int = 64, n_classes: int = 10):
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        self.image_size = int(image_size)
        # Batch norm after each conv: source and target batches go through separately, so each is normalised by
        # its own batch statistics while training (every method, source-only included, does this; measured on
        # the photo target, seed 0: without it the adversarial term did not confuse the discriminator at all).
        self.features = nn.Sequential(nn.Conv2d(3, c1, 5, padding=2), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Flatten())
        self.n_features = c2 * (self.image_size // 4) ** 2
        self.classifier = nn.Sequential(nn.Linear(self.n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))
        self.discriminator = nn.Sequential(nn.Linear(self.n_features, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def build_model(image_size: int = 16, channels=(16, 32), hidden: int = 64, n_classes: int = 10) -> DANN:
    """The checkpoint builder (bounds checked, so a bad file is a sentence)."""
    check_range("image size", image_size, MIN_SIZE, MAX_SIZE, " pixels")
    if len(channels) != 2 or any(not 1 <= int(c) <= 256 for c in channels) or not 1 <= int(hidden) <= 1024:
        raise InputError("The domain-adaptation network's layer sizes must be between 1 and 256 (hidden: 1024).")
    return DANN(int(image_size), tuple(channels), int(hidden), int(n_classes))


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


# -- measuring ---------------------------------------------------------------------------------------------------------
def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def features(model: DANN, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """h = G_f(x) on the CPU (the model is not moved)."""
    was = model.training
    model.eval()
    dev = _model_device(model)
    out = torch.cat([model.features(x[k:k + batch].to(dev)).cpu() for k in range(0, len(x), batch)])
    model.train(was)
    return out


@torch.no_grad()
def predict(model: DANN, x: torch.Tensor) -> torch.Tensor:
    """Predicted digit per image, on the CPU."""
    was = model.training
    model.eval()
    dev = _model_device(model)
    out = torch.cat([model(x[k:k + 512].to(dev)).argmax(1).cpu() for k in range(0, len(x), 512)])
    model.train(was)
    return out


def accuracy(model: DANN, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((predict(model, x) == y.cpu()).float().mean())


def domain_accuracy(model: DANN, data: Domains, seed: int = 0) -> float:
    """The quiz, measured: a fresh domain discriminator (an MLP with one hidden layer of 64, like G_d) learns to
    tell source from target features on the training images and is scored on the held-out test images.
    About 100%: the features differ by domain; about 50%: it cannot tell them apart."""
    import warnings

    from sklearn.decomposition import PCA
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n = min(len(data.xs_train), len(data.xt_train))
    tr = torch.cat([features(model, data.xs_train[:n]), features(model, data.xt_train[:n])]).numpy()
    te = torch.cat([features(model, data.xs_test), features(model, data.xt_test)]).numpy()
    y_tr = np.r_[np.zeros(n), np.ones(n)]
    y_te = np.r_[np.zeros(len(data.xs_test)), np.ones(len(data.xt_test))]
    # Standardise, keep the top 50 principal directions (whitened), then the MLP, fitted with L-BFGS: under a second.
    clf = make_pipeline(StandardScaler(), PCA(50, whiten=True, random_state=seed),
                        MLPClassifier((64,), solver="lbfgs", max_iter=200, alpha=1e-3, random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # ConvergenceWarning: 200 iterations is plenty for a yes/no question
        clf.fit(tr, y_tr)
    return float(clf.score(te, y_te))


@torch.no_grad()
def discriminator_accuracy(model: DANN, data: Domains) -> float:
    """The network's own domain discriminator G_d scored on the held-out test images of both domains (source-only:
    a discriminator trained on features it could not change, i.e. the quiz; adapted: the adversary it played)."""
    dev = _model_device(model)
    d_s = model.discriminator(features(model, data.xs_test).to(dev)).cpu()
    d_t = model.discriminator(features(model, data.xt_test).to(dev)).cpu()
    return float(0.5 * ((d_s < 0).float().mean() + (d_t > 0).float().mean()))


def evaluate(model: DANN, data: Domains, seed: int = 0) -> dict[str, float]:
    """Held-out numbers: accuracy on the source test digits, on the same digits in the target domain (labels only
    to score), the network's own domain discriminator on the test features, and a fresh discriminator's."""
    return {"source_accuracy": accuracy(model, data.xs_test, data.ys_test),
            "target_accuracy": accuracy(model, data.xt_test, data.yt_test),
            "domain_accuracy": discriminator_accuracy(model, data),
            "fresh_domain_accuracy": domain_accuracy(model, data, seed)}


def verdict(ev: dict[str, float], method: str, reference: dict[str, float] | None = None) -> tuple[str, str]:
    """('ok' | 'collapsed' | 'not adapted' | 'no gain', a sentence) for a finished run: never call a collapse, or
    a run whose target accuracy is not above source only's (`reference`, its metrics), a success."""
    s, t, d = ev["source_accuracy"], ev["target_accuracy"], ev["domain_accuracy"]   # d: its own discriminator
    if s < COLLAPSE_SOURCE_ACC:
        return "collapsed", (f"The features collapsed: source accuracy fell to {s:.0%} (target {t:.0%}). Hiding the "
                             "domain was weighted so heavily that the features stopped carrying the digits; "
                             "lower lambda.")
    if method != "source-only" and d >= DISCRIMINATOR_WINS:
        return "not adapted", (f"The discriminator still wins: it tells the domains apart {d:.0%} of the time, so "
                               "the features were not made domain-invariant (train longer or raise lambda).")
    if method != "source-only" and reference is not None and t < reference["target_accuracy"] + MIN_GAIN:
        so_s, so_t = reference["source_accuracy"], reference["target_accuracy"]
        cost = (f" Source accuracy fell too ({s:.0%} against {so_s:.0%}): fooling the discriminator cost the "
                "digits; lower lambda." if s < so_s - MIN_GAIN else " Train longer, or try another seed.")
        return "no gain", (f"No gain on the target: {t:.0%} against source only's {so_t:.0%} (its discriminator "
                           f"tells the domains apart {d:.0%} of the time).{cost}")
    return "ok", ""


def tsne_map(model: DANN, data: Domains, n: int = 250, seed: int = 0) -> dict[str, np.ndarray]:
    """t-SNE of the features of n source and n target test images: {'xy', 'domain' (0 source, 1 target), 'label'}."""
    from sklearn.manifold import TSNE

    k = min(n, len(data.xs_test))
    idx = np.random.default_rng(seed).permutation(len(data.xs_test))[:k]
    h = torch.cat([features(model, data.xs_test[idx]), features(model, data.xt_test[idx])]).numpy()
    xy = TSNE(2, perplexity=30, init="pca", random_state=seed).fit_transform(h)
    y = data.ys_test[idx].numpy()
    return {"xy": xy, "domain": np.r_[np.zeros(k, int), np.ones(k, int)], "label": np.r_[y, y]}


def tsne_figure(m: dict[str, np.ndarray], colour: str, target: str, title: str | None = None):
    """The t-SNE map coloured by domain or by digit (circles: source, crosses: target)."""
    import plotly.graph_objects as go

    from .viz import PALETTE

    fig = go.Figure()
    groups = ([("source (clean)", m["domain"] == 0), (f"target ({target})", m["domain"] == 1)] if colour == "domain"
              else [(str(c), m["label"] == c) for c in range(10)])
    for i, (name, mask) in enumerate(groups):
        sym = np.where(m["domain"][mask] == 0, "circle", "x")
        fig.add_trace(go.Scatter(
            x=m["xy"][mask, 0], y=m["xy"][mask, 1], mode="markers", name=name,
            text=[f"digit {lab}, {'source' if dm == 0 else 'target'}" for lab, dm in
                  zip(m["label"][mask], m["domain"][mask])], hovertemplate="%{text}<extra></extra>",
            marker=dict(size=6, color=PALETTE[i % len(PALETTE)], symbol=sym, opacity=0.75)))
    fig.update_layout(title=title, height=420, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      legend=dict(itemsizing="constant"))
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    return fig


def mixing(m: dict[str, np.ndarray], k: int = 10) -> float:
    """Share of each point's k nearest map neighbours from the other domain, over 0.5 (1 = fully mixed, 0 = two
    islands): a number for what the t-SNE picture shows."""
    from sklearn.neighbors import NearestNeighbors

    nn_ = NearestNeighbors(n_neighbors=k + 1).fit(m["xy"])
    idx = nn_.kneighbors(m["xy"], return_distance=False)[:, 1:]
    other = (m["domain"][idx] != m["domain"][:, None]).mean()
    return float(min(1.0, other / 0.5))


def wrong_guesses(model: DANN, x: torch.Tensor, y: torch.Tensor, n: int = 24) -> tuple[torch.Tensor, list[str], int]:
    """The first n images with a caption 'guess (true)' each, a mark on the wrong ones, and the number wrong."""
    pred = predict(model, x[:n])
    titles = [f"{int(p)}" if p == t else f"{int(p)} ✗ ({int(t)})" for p, t in zip(pred, y[:n])]
    return x[:n], titles, int((pred != y[:n]).sum())


# -- shipped models, CLI ---------------------------------------------------------------------------------------------
PRETRAIN_STEPS = 1500
SHIPPED: dict[str, Shipped] = {
    "domain_photo_source_only": Shipped("domain_photo_source_only", "digits",
                                        DomainConfig(target="photo", method="source-only"), PRETRAIN_STEPS),
    "domain_photo_grl": Shipped("domain_photo_grl", "digits", DomainConfig(target="photo", method="grl"),
                                PRETRAIN_STEPS),
    "domain_inverted_source_only": Shipped("domain_inverted_source_only", "digits",
                                           DomainConfig(target="inverted", method="source-only"), PRETRAIN_STEPS),
    "domain_inverted_grl": Shipped("domain_inverted_grl", "digits", DomainConfig(target="inverted", method="grl"),
                                   PRETRAIN_STEPS),
}


def shipped_name(target: str, adapted: bool) -> str:
    return f"domain_{target}_{'grl' if adapted else 'source_only'}"


def load(source) -> tuple[DANN, dict, dict]:
    return checkpoints.load(source, expect_builder=BUILDER)


def pretrain(out_dir=None, names=None) -> dict:
    """Re-create the shipped networks (a step budget each, on the CPU); weights in half precision (small files)."""
    import copy

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    results = {}
    for name, sh in SHIPPED.items():
        if names and name not in names:
            continue
        task = make_task(sh.config, sh.seed, device="cpu")
        Trainer(task, record_every=100).run(steps=sh.steps)
        ev = task.evaluate()
        m = tsne_map(task.model, task.data)   # stored with the weights: the page's maps appear at once
        tsne = {"xy": np.round(m["xy"], 2).tolist(), "domain": m["domain"].tolist(), "label": m["label"].tolist()}
        checkpoints.save(out_dir / f"{name}.pt", copy.deepcopy(task.model).half(), task.model_config, BUILDER,
                         {"config": sh.config.as_dict(), "steps": sh.steps, "seed": sh.seed, **ev, "tsne": tsne})
        results[name] = {k: round(v, 4) for k, v in ev.items()}
    return results


def model_bytes(task: DomainTask, ev: dict | None = None) -> bytes:
    """The user's trained network as a checkpoint download (with its held-out numbers `ev`, if given)."""
    return checkpoint_bytes(sys.modules[__name__], task, {"config": task.cfg.as_dict(), **(ev or {})})


def cli_args(command, parser) -> None:
    add_config_args(parser, DomainConfig)
    parser.add_argument("--lambda", dest="lam", type=float, default=DomainConfig.lam,
                        help=f"the trade-off weight lambda (default {DomainConfig.lam})")
    add_budget_args(parser, seconds=30.0)


def _shipped_reference(target: str) -> dict | None:
    """The shipped source-only network's metrics on this target (what a verdict compares with), if it is on disk."""
    path = checkpoints.SHIPPED_DIR / f"{shipped_name(target, adapted=False)}.pt"
    return load(path)[2] if path.exists() else None


def cli_run(command, args) -> dict:
    """`python -m dlplay train domain-adapt ...`: source_accuracy, target_accuracy, domain_accuracy as JSON."""
    cfg = config_from_args(DomainConfig, args)
    if args.steps is not None:
        check_range("steps", args.steps, 1, 1_000_000)
    if args.steps is None:
        check_range("seconds", args.seconds, 0.1, 3600)
    task = make_task(cfg, args.seed, device=args.device)
    tr = Trainer(task, record_every=50).run(steps=args.steps, seconds=None if args.steps else args.seconds)
    ev = tr.last_eval
    out = {**cfg.as_dict(), "lambda": cfg.lam, "steps": tr.steps, "seconds": round(tr.seconds, 3),
           "steps_per_second": round(tr.steps / max(tr.seconds, 1e-9), 1), **ev,
           "verdict": verdict(ev, cfg.method, _shipped_reference(cfg.target))[0]}
    if args.out:
        checkpoints.save(args.out, task.model, task.model_config, BUILDER, {"config": cfg.as_dict(), **ev})
    return out
