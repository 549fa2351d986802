"""A small digit classifier. Other demos use it as a judge: do a VAE's or a GAN's samples look like digits?

It is also the first model the training panel meets on the Datasets page: a one-hidden-layer network trained with
cross-entropy  L = -1/N sum_i log p(y_i | x_i).

A plain classifier is confidently wrong on noise (it must pick some digit), which would make it a useless judge.
So it learns one extra class, "not a digit", from junk made on the fly: noise, smooth blobs, pixel-shuffled
digits and the average of two different digits (what a bad generator tends to produce).

A fair judge must not punish a digit for being soft: a VAE's decoder outputs pixel *probabilities*, so its digits
are blurrier and greyer than the sharp training scans. So each real digit in a batch is, with probability 1/2,
blended with a blurred copy of itself and, independently with probability 1/2, shown at lower contrast, still
labelled with its digit (`soften`): the judge decides on shape, not on sharpness, and still rejects blobs, noise
and two-digit blends (tests/test_vae.py checks both sides).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

import sys
from dataclasses import dataclass

from .data import on_device
from . import checkpoints, topics
from .data import ImageData
from .device import device_generator, get_device, seed_everything
from .topics import Config, Shipped
from .train import Batches, ModelTask, Trainer

BUILDER = "dlplay.classifier:build_model"


def build_model(image_shape=(1, 8, 8), n_classes: int = 10, hidden: int = 128) -> nn.Module:
    """Outputs n_classes + 1 logits; the last one is "not a digit"."""
    c, h, w = image_shape
    return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, hidden), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(hidden, n_classes + 1))


def make_junk(x: torch.Tensor, y: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """n images that are not digits, built from the batch x (labels y): four kinds in equal parts. Drawn on x's
    device from `generator` (which must live there too: device.device_generator)."""
    g, dev = generator, x.device
    k = torch.randint(0, len(x), (n,), generator=g, device=dev)
    j = torch.randint(0, len(x), (n,), generator=g, device=dev)
    shape = x.shape[1:]
    noise = torch.rand((n, *shape), generator=g, device=dev)
    blobs = F.avg_pool2d(torch.rand((n, *shape), generator=g, device=dev), 3, 1, 1)
    blobs = (blobs - blobs.amin((1, 2, 3), True)) / (blobs.amax((1, 2, 3), True) - blobs.amin((1, 2, 3), True) + 1e-6)
    flat = x[k].flatten(1)
    shuffled = flat[:, torch.randperm(flat.shape[1], generator=g, device=dev)].view(n, *shape)
    mixed = 0.5 * (x[k] + x[j])
    kind = torch.randint(0, 4, (n,), generator=g, device=dev)
    out = torch.where((kind == 0).view(-1, 1, 1, 1), noise, blobs)
    out = torch.where((kind == 2).view(-1, 1, 1, 1), shuffled, out)
    out = torch.where(((kind == 3) & (y[k] != y[j])).view(-1, 1, 1, 1), mixed, out)
    return out


_BLUR = torch.tensor([[1., 2., 1.], [2., 4., 2.], [1., 2., 1.]]) / 16  # a 3x3 binomial (Gaussian-like) kernel
_BLUR_ON: dict = {}     # the kernel copied once per device (a copy each step would make the CPU wait for the GPU)


def soften(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Real digits made softer, as a decoder would draw them: for half of them a random blend with a blurred copy,
    and for half of them a random contrast between 60% and 100% (independently)."""
    n, c = len(x), x.shape[1]
    if x.device not in _BLUR_ON:
        _BLUR_ON[x.device] = _BLUR.to(x.device)
    k = _BLUR_ON[x.device].expand(c, 1, 3, 3)
    blurred = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k, groups=c)
    u = torch.rand(n, 4, generator=generator, device=x.device).view(n, 4, 1, 1)
    a = torch.where(u[:, :1] < 0.5, u[:, 1:2], torch.zeros_like(u[:, 1:2]))
    gain = torch.where(u[:, 2:3] < 0.5, 0.6 + 0.4 * u[:, 3:4], torch.ones_like(u[:, 3:4]))
    return ((1 - a) * x + a * blurred) * gain


TITLE = "A first model: the digit classifier"


@dataclass(frozen=True)
class ClassifierConfig(Config):
    dataset: str = "digits"
    hidden: int = 128
    lr: float = 1e-3
    batch_size: int = 64

    def check(self):
        from .data import dataset_names
        self.one_of("dataset", dataset_names())
        self.in_range("hidden", 1, 4096, "hidden units")
        self.in_range("lr", 1e-6, 1.0, "learning rate")
        self.in_range("batch_size", 1, 4096, "batch size")
        return self


def make_task(config: ClassifierConfig, seed: int = 0, device=None) -> "ClassifierTask":
    from .data import load
    config.check()
    return ClassifierTask(load(config.dataset), config.hidden, config.lr, config.batch_size, seed=seed, device=device)


class ClassifierTask(ModelTask):
    def __init__(self, data: ImageData, hidden: int = 128, lr: float = 1e-3, batch_size: int = 64, seed: int = 0,
                 device=None):
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.config = {"image_shape": list(data.image_shape), "n_classes": len(data.class_names), "hidden": hidden}
        self.model_config = self.config
        self.model = build_model(**self.config).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.x, self.y = on_device(data.x_train, self.device), on_device(data.y_train, self.device)
        self.x_test, self.y_test = on_device(data.x_test, self.device), on_device(data.y_test, self.device)
        self.batches = Batches(len(self.x), batch_size, self.generator, device=self.device)
        self.device_generator = device_generator(self.device, self.generator)

    def step(self):
        self.model.train()
        idx = self.batches.next()
        x, y = self.x[idx], self.y[idx]
        x = soften(x, self.device_generator)
        junk = make_junk(x, y, len(idx) // 2, self.device_generator)
        junk_label = torch.full((len(junk),), self.config["n_classes"], device=self.device)
        logits = self.model(torch.cat([x, junk]))
        loss = F.cross_entropy(logits, torch.cat([y, junk_label]))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss, "train_acc": (logits[:len(idx)].argmax(1) == y).float().mean()}

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        logits = self.model(self.x_test)
        return {"test_loss": F.cross_entropy(logits, self.y_test).item(),
                "test_acc": (logits.argmax(1) == self.y_test).float().mean().item()}


@torch.no_grad()
def judge(model: nn.Module, images: torch.Tensor, threshold: float = 0.5) -> dict[str, float]:
    """How digit-like are these images? The share the judge labels as some digit with probability > threshold,
    and the mean probability of the most likely digit ("not a digit" counts against both)."""
    model.eval()
    p = F.softmax(model(images.float().cpu().clamp(0, 1)), 1)[:, :-1].max(1).values
    return {"confident_share": (p > threshold).float().mean().item(), "mean_confidence": p.mean().item()}


PRETRAIN_STEPS = 4000
SHIPPED = {"classifier_digits": Shipped("classifier_digits", "digits", ClassifierConfig(hidden=256), PRETRAIN_STEPS)}


def pretrain(out_dir=None, steps: int = PRETRAIN_STEPS, seed: int = 0) -> dict:
    """Train the shipped digit classifier (used as a judge by the VAE and GAN pages). A step budget, so the file
    is the same on any machine."""
    from pathlib import Path

    from .data import load

    sh = SHIPPED["classifier_digits"]
    task = make_task(sh.config, seed, device="cpu")
    Trainer(task, record_every=100).run(steps=steps)
    ev = task.evaluate()
    checkpoints.save(Path(out_dir or checkpoints.SHIPPED_DIR) / "classifier_digits.pt", task.model, task.config,
                     BUILDER, ev)
    return ev


def cli_args(command, parser) -> None:
    topics.add_config_args(parser, ClassifierConfig)
    topics.add_budget_args(parser, seconds=8.0)


def cli_run(command, args) -> dict:
    return topics.cli_train(sys.modules[__name__], args, record_every=10)[1]


def load_judge() -> nn.Module:
    """The shipped digit classifier, in eval mode on the CPU."""
    return checkpoints.load(checkpoints.shipped("classifier_digits"), expect_builder=BUILDER)[0]
