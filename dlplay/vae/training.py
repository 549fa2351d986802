"""Training a VAE: the run's settings (VAEConfig), the task the engine steps (VAETask: minimise recon + beta * kl
on a dataset's training split) and the pair task that trains a VAE and its plain-AE twin on the same batches."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data import on_device
from ..data import ImageData
from ..device import device_generator, get_device, seed_everything
from ..limits import check_range
from ..topics import Config
from ..train import Batches, ModelTask, Task
from .model import ARCHS, BETA_RANGE, LATENT_RANGE, build_model, loss_terms


# -- training ----------------------------------------------------------------------------------------------------
TITLE = "Variational autoencoders"


@dataclass(frozen=True)
class VAEConfig(Config):
    """One VAE run (and, for make_pair_task, the AE twin's settings too)."""
    dataset: str = "digits"
    latent: int = 2
    beta: float = 1.0
    arch: str = "auto"           # mlp, conv, or auto: MLP for 8x8 images, convolutional above
    hidden: int = 256
    variational: bool = True     # False: the same network as a plain autoencoder (no noise, no KL)
    lr: float = 2e-3
    batch_size: int = 128

    def check(self):
        from ..data import dataset_names
        self.one_of("dataset", dataset_names())
        self.in_range("latent", *LATENT_RANGE, "latent size")
        self.in_range("beta", *BETA_RANGE)
        self.one_of("arch", ("auto", *ARCHS), "network")
        self.in_range("hidden", 8, 2048, "hidden units")
        self.in_range("lr", 1e-5, 0.1, "learning rate")
        self.in_range("batch_size", 8, 1024, "batch size")
        return self


def _task_kwargs(config: VAEConfig) -> tuple:
    from ..data import load as load_data
    config.check()
    ds = load_data(config.dataset)
    arch = default_arch(ds) if config.arch == "auto" else config.arch
    return ds, dict(latent=config.latent, beta=config.beta, arch=arch, hidden=config.hidden, lr=config.lr,
                    batch_size=config.batch_size)


def make_task(config: VAEConfig, seed: int = 0, device=None) -> "VAETask":
    ds, kw = _task_kwargs(config)
    return VAETask(ds, variational=config.variational, seed=seed, device=device, **kw)


def make_pair_task(config: VAEConfig, seed: int = 0, device=None) -> "PairTask":
    """A VAE and its plain-AE twin on the same batches (the page's 'train my own pair')."""
    ds, kw = _task_kwargs(config)
    return PairTask(ds, seed=seed, device=device, **kw)


class VAETask(ModelTask):
    """Train a VAE (or, with variational=False, the same network as a plain AE) on a dataset's training split."""

    def __init__(self, data: ImageData, latent: int = 2, beta: float = 1.0, arch: str = "mlp", hidden: int = 256,
                 variational: bool = True, lr: float = 2e-3, batch_size: int = 128, seed: int = 0, device=None):
        check_range("beta", beta, *BETA_RANGE)
        check_range("Latent size", latent, *LATENT_RANGE)
        check_range("Learning rate", lr, 1e-5, 0.1)
        check_range("Batch size", batch_size, 8, 1024)
        self.data, self.beta = data, float(beta)
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.config = {"image_shape": list(data.image_shape), "latent": int(latent), "arch": arch,
                       "hidden": int(hidden), "variational": bool(variational)}
        self.model_config = self.config
        self.model = build_model(**self.config).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.x = on_device(data.x_train, self.device)
        self.x_test = on_device(data.x_test, self.device)
        self.batches = Batches(len(self.x), int(batch_size), self.generator, device=self.device)
        self.device_generator = device_generator(self.device, self.generator)

    def step(self):
        self.model.train()
        x = self.x[self.batches.next()]
        m = loss_terms(self.model, x, self.beta, self.device_generator)
        self.opt.zero_grad(set_to_none=True)
        m["loss"].backward()
        self.opt.step()
        return {k: v.detach() for k, v in m.items()}

    @torch.no_grad()
    def evaluate(self):
        """Test-set terms, one reparameterised sample per image from a fixed generator (so it is repeatable)."""
        self.model.eval()
        m = loss_terms(self.model, self.x_test, self.beta, torch.Generator().manual_seed(0))
        return {f"test_{k}": float(v) for k, v in m.items() if k != "loss"}

    def extra(self) -> dict:
        return {"dataset": self.data.name, "beta": self.beta, **self.evaluate()}


class PairTask(Task):
    """A VAE and the same network as a plain AE, trained side by side on the same batches: for the comparison."""

    def __init__(self, data: ImageData, seed: int = 0, **kw):
        self.vae = VAETask(data, variational=True, seed=seed, **kw)
        self.ae = VAETask(data, variational=False, seed=seed, **kw)
        self.generator = self.vae.generator

    def step(self):
        v, a = self.vae.step(), self.ae.step()
        return {"vae_elbo": v["elbo"], "vae_recon": v["recon"], "ae_recon": a["recon"]}

    def evaluate(self):
        return {**{f"vae_{k}": v for k, v in self.vae.evaluate().items()},
                **{f"ae_{k}": v for k, v in self.ae.evaluate().items()}}

    def state_dict(self):
        return {"vae": self.vae.state_dict(), "ae": self.ae.state_dict()}

    def load_state_dict(self, s):
        self.vae.load_state_dict(s["vae"])
        self.ae.load_state_dict(s["ae"])

    def live_state(self):
        return {"vae": self.vae.live_state(), "ae": self.ae.live_state()}

    def load_live_state(self, s):
        self.vae.load_live_state(s["vae"])
        self.ae.load_live_state(s["ae"])


def default_arch(data: ImageData) -> str:
    return "mlp" if data.image_shape[1] <= 8 else "conv"
