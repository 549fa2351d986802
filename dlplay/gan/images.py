"""DCGAN-style GANs on images (Radford et al. 2015: strided transposed convolutions in G, strided convolutions
with LeakyReLU in D, Adam with beta1 = 0.5), optionally conditional on the class (Mirza & Osindero 2014):
G(z, y) and D(x, y) both see the label as a one-hot vector, so after training one can ask for a chosen digit.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import functools
from dataclasses import dataclass

from ..data import on_device
from .. import limits
from ..data import ImageData
from ..device import autocast, device_generator, get_device, randn as dev_randn, seed_everything
from ..errors import InputError
from ..topics import Config
from ..train import Batches, Task
from .gan2d import mmd
from .losses import check_loss, d_accuracy, d_loss, g_loss, gradient_penalty

BUILDER = "dlplay.gan:build_dcgan"
N_GRID = 64  # the fixed noise vectors decoded into the grid that improves as training goes


class DCGAN(nn.Module):
    """G: z (+ one-hot y) -> Linear -> (ch, s/4, s/4) -> ConvT x2 (each doubles the side) -> sigmoid image.
    D: image (+ y as constant one-hot channels) -> Conv stride 2 x2 -> Linear -> one score."""

    def __init__(self, image_shape=(1, 8, 8), noise_dim: int = 16, n_classes: int = 0, width: int = 32):
        super().__init__()
        c, h, w = image_shape
        if h % 4 or w % 4:
            raise InputError(f"Images of {h}x{w} pixels do not fit the DCGAN (sides must be multiples of 4).")
        self.image_shape, self.noise_dim, self.n_classes = tuple(image_shape), noise_dim, n_classes
        self.h4, self.w4, self.width = h // 4, w // 4, width
        self.g_in = nn.Linear(noise_dim + n_classes, 2 * width * self.h4 * self.w4)
        self.g_body = nn.Sequential(
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, c, 4, 2, 1), nn.Sigmoid())
        self.d_body = nn.Sequential(
            nn.Conv2d(c + n_classes, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(),
            nn.Linear(2 * width * self.h4 * self.w4, 1))

    def onehot(self, y: torch.Tensor | None, n: int, device) -> torch.Tensor | None:
        if not self.n_classes:
            return None
        if y is None:
            raise InputError("This is a conditional GAN: say which class to generate.")
        return F.one_hot(y.long().to(device), self.n_classes).float()

    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        oh = self.onehot(y, len(z), z.device)
        h = self.g_in(z if oh is None else torch.cat([z, oh], 1))
        return self.g_body(h.view(len(z), 2 * self.width, self.h4, self.w4))

    def discriminate(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        oh = self.onehot(y, len(x), x.device)
        if oh is not None:
            x = torch.cat([x, oh[:, :, None, None].expand(-1, -1, *x.shape[2:])], 1)
        return self.d_body(x).squeeze(1)


def build_dcgan(image_shape=(1, 8, 8), noise_dim=16, n_classes=0, width=32) -> DCGAN:
    return DCGAN(tuple(image_shape), noise_dim, n_classes, width)


@dataclass(frozen=True)
class ImageGANConfig(Config):
    dataset: str = "digits"
    loss: str = "nonsaturating"
    conditional: bool = False
    noise_dim: int = 16
    width: int = 32
    lr_g: float = 2e-3
    lr_d: float = 2e-3
    batch_size: int = 64

    def check(self):
        from ..data import dataset_names
        self.one_of("dataset", [d for d in dataset_names() if d in ("digits", "mnist", "fashion_mnist")])
        check_loss(self.loss)
        return self


@functools.cache
def _judge():
    from ..classifier import load_judge
    return load_judge()


def make_task(config: ImageGANConfig, seed: int = 0, device=None) -> "ImageGANTask":
    """The topic contract's task factory for the image GANs (the digit judge scores 8x8 samples)."""
    from ..data import load
    config.check()
    ds = load(config.dataset)
    return ImageGANTask(ds, loss=config.loss, conditional=config.conditional, noise_dim=config.noise_dim,
                        width=config.width, lr_g=config.lr_g, lr_d=config.lr_d, batch_size=config.batch_size,
                        seed=seed, device=device, judge=_judge() if ds.image_shape == (1, 8, 8) else None)


class ImageGANTask(Task):
    """One step: one discriminator update on a real batch versus a generated batch, then one generator update."""

    def __init__(self, data: ImageData, *, loss: str = "nonsaturating", conditional: bool = False,
                 noise_dim: int = 16, width: int = 32, lr_g: float = 2e-3, lr_d: float = 2e-3,
                 batch_size: int = 64, gp_weight: float = 10.0, seed: int = 0, device=None, judge=None,
                 judge_every: int = 100):
        check_loss(loss)
        limits.check_range("noise_dim", noise_dim, 1, 128)
        limits.check_range("width", width, 4, 128)
        limits.check_range("batch_size", batch_size, 8, 1024)
        limits.check_range("lr_g", lr_g, 1e-6, 1.0)
        limits.check_range("lr_d", lr_d, 1e-6, 1.0)
        self.loss, self.gp_weight = loss, gp_weight
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.data_name = data.name
        self.config = {"image_shape": list(data.image_shape), "noise_dim": int(noise_dim),
                       "n_classes": len(data.class_names) if conditional else 0, "width": int(width)}
        self.model_config = self.config
        self.model = build_dcgan(**self.config).to(self.device)
        m = self.model
        g_params = [*m.g_in.parameters(), *m.g_body.parameters()]
        betas = (0.5, 0.9 if loss == "wgan-gp" else 0.999)
        self.opt_g = torch.optim.Adam(g_params, lr=lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(m.d_body.parameters(), lr=lr_d, betas=betas)
        self.g_params = g_params
        self.x, self.y = on_device(data.x_train, self.device), on_device(data.y_train, self.device)
        self.batches = Batches(len(self.x), batch_size, self.generator, device=self.device)
        self.device_generator = device_generator(self.device, self.generator)   # noise made on the device
        self.batch_size = batch_size
        g_view = torch.Generator().manual_seed(seed + 12345)
        self.z_grid = torch.randn(N_GRID, noise_dim, generator=g_view).to(self.device)
        self.y_grid = (torch.arange(N_GRID) % len(data.class_names)).to(self.device)
        self.x_eval = data.x_test[torch.randperm(len(data.x_test), generator=g_view)[:256]]
        self.judge, self.judge_every = judge, max(1, int(judge_every))
        self._calls, self._slow = 0, {}

    def noise(self, n):
        return dev_randn((n, self.config["noise_dim"]), self.device_generator, self.device)

    def step(self):
        m, loss = self.model, self.loss
        m.train()
        idx = self.batches.next()
        real, y = self.x[idx], self.y[idx]
        yc = y if m.n_classes else None
        # discriminator: real batch against a generated batch with the same labels
        with autocast(self.device):      # bfloat16 on a GPU when $DLPLAY_AMP=1 (device.autocast), else nothing
            with torch.no_grad():
                fake = m.generate(self.noise(len(real)), yc)
            r, f = m.discriminate(real, yc), m.discriminate(fake, yc)
            ld = d_loss(loss, r.float(), f.float())
            if loss == "wgan-gp":
                ld = ld + self.gp_weight * gradient_penalty(lambda x: m.discriminate(x, yc), real, fake,
                                                            self.device_generator)
        self.opt_d.zero_grad(set_to_none=True)
        ld.backward()
        self.opt_d.step()
        acc_r, acc_f = d_accuracy(loss, r.detach(), f.detach())
        # generator: fool the discriminator
        with autocast(self.device):
            f = m.discriminate(m.generate(self.noise(len(real)), yc), yc).float()
            lg = g_loss(loss, f)
        self.opt_g.zero_grad(set_to_none=True)
        m.d_body.requires_grad_(False)
        lg.backward()
        m.d_body.requires_grad_(True)
        gnorm = torch.sqrt(sum((p.grad ** 2).sum() for p in self.g_params if p.grad is not None))
        self.opt_g.step()
        self._calls += 1
        if not self._slow or self._calls % self.judge_every == 0:
            self._slow = self.evaluate()
        return {"d_loss": ld.detach(), "g_loss": lg.detach(), "d_acc_real": acc_r, "d_acc_fake": acc_f,
                "g_grad_norm": gnorm, **self._slow}

    @torch.no_grad()
    def sample(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        self.model.eval()
        out = self.model.generate(z.to(self.device), y if self.model.n_classes else None).cpu()
        self.model.train()
        return out

    def grid(self) -> torch.Tensor:
        """The fixed grid of noise vectors decoded (in a conditional GAN, column j asks for class j)."""
        return self.sample(self.z_grid, self.y_grid)

    def evaluate(self):
        """Pixel-space MMD between generated and held-out real images; the judge's share of digit-like samples."""
        fake = self.grid()
        out = {"mmd": mmd(self.x_eval.flatten(1), fake.flatten(1), scales=(1.0, 2.0, 4.0))}
        if self.judge is not None:
            out["judge_digit_share"] = judge_share(self.judge, fake)
        return out

    def state_dict(self):
        return {"model": self.model.state_dict(), "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "batches": self.batches.state_dict(), "calls": self._calls,
                **({"device_rng": self.device_generator.get_state()}
                   if self.device_generator is not self.generator else {})}

    def load_state_dict(self, s):
        self.model.load_state_dict(s["model"])
        self.opt_g.load_state_dict(s["opt_g"])
        self.opt_d.load_state_dict(s["opt_d"])
        self.batches.load_state_dict(s["batches"])
        self._calls = s["calls"]
        if "device_rng" in s and self.device_generator is not self.generator:
            self.device_generator.set_state(s["device_rng"])


def judge_share(judge_model, images: torch.Tensor) -> float:
    """Share of images the shipped digit classifier calls some digit with probability > 1/2 (8x8 only)."""
    from ..classifier import judge

    if tuple(images.shape[1:]) != (1, 8, 8):
        return float("nan")
    return judge(judge_model, images)["confident_share"]


def generate(model: DCGAN, n: int, seed: int = 0, label: int | None = None) -> torch.Tensor:
    """n images from a trained model; `label` picks the class of a conditional model."""
    limits.check_range("number of images", n, 1, 1024)
    z = torch.randn(n, model.noise_dim, generator=torch.Generator().manual_seed(int(seed)))
    y = None
    if model.n_classes:
        if label is None:
            y = torch.arange(n) % model.n_classes
        else:
            limits.check_range("label", label, 0, model.n_classes - 1)
            y = torch.full((n,), int(label))
    dev = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        return model.generate(z.to(dev), None if y is None else y.to(dev)).cpu()


def interpolate(model: DCGAN, z0: np.ndarray, z1: np.ndarray, steps: int = 10, label: int | None = None,
                spherical: bool = True) -> torch.Tensor:
    """Images along the path from z0 to z1: slerp (keeps the norm a Gaussian z typically has) or a straight line."""
    limits.check_range("interpolation steps", steps, 2, 64)
    a, b = torch.as_tensor(z0, dtype=torch.float32), torch.as_tensor(z1, dtype=torch.float32)
    t = torch.linspace(0, 1, steps)[:, None]
    if spherical:
        omega = torch.arccos((a / a.norm() * b / b.norm()).sum().clamp(-1 + 1e-6, 1 - 1e-6))
        z = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
    else:
        z = (1 - t) * a + t * b
    y = None if not model.n_classes else torch.full((steps,), int(label or 0))
    dev = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        return model.generate(z.to(dev), None if y is None else y.to(dev)).cpu()
