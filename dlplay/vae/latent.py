"""The latent space as the page shows it: posterior means, decoding, the manifold over the prior's quantiles,
random codes, interpolation between two images, and the judge's verdict on decoded samples."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..limits import check_range
from .model import VAE


# -- what the page shows -----------------------------------------------------------------------------------------
def _as_model_input(model: VAE, x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, np.float32) if not isinstance(x, torch.Tensor) else x).float().to(
        model.mu.weight.device)


@torch.no_grad()
def encode_means(model: VAE, x: torch.Tensor, batch: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and standard deviations (n, d) as numpy arrays (AE: std 0)."""
    model.eval()
    mus, sds = [], []
    for i in range(0, len(x), batch):
        mu, logvar = model.encode(_as_model_input(model, x[i:i + batch]))
        mus.append(mu.cpu())
        sds.append(torch.exp(0.5 * logvar).cpu())
    return torch.cat(mus).numpy(), torch.cat(sds).numpy()


@torch.no_grad()
def decode_np(model: VAE, z) -> np.ndarray:
    """Decode codes (n, d) given as any array: images (n, C, H, W) as numpy, for widgets."""
    model.eval()
    return model.decode(_as_model_input(model, z)).cpu().numpy()


def prior_grid(n: int = 15, lo: float = 0.05, hi: float = 0.95) -> np.ndarray:
    """n values spaced evenly in the prior's quantiles, Phi^-1(linspace(lo, hi, n)) (the K&W 2014 fig. 4 grid)."""
    n = int(check_range("Grid size", n, 2, 40))
    q = torch.linspace(lo, hi, n, dtype=torch.float64)
    return torch.distributions.Normal(0.0, 1.0).icdf(q).numpy()


@torch.no_grad()
def manifold(model: VAE, n: int = 15, dims: tuple[int, int] = (0, 1), base: np.ndarray | None = None) -> np.ndarray:
    """Decode an n x n grid over the prior's quantiles in two latent dimensions (others held at `base`, default
    the prior mean 0). Returns images (n*n, C, H, W), row by row, top row = highest z[dims[1]]."""
    i, j = dims
    if not (0 <= i < model.latent and 0 <= j < model.latent and i != j):
        raise InputError(f"Choose two different latent dimensions between 1 and {model.latent}.")
    g = prior_grid(n)
    z = np.tile(np.zeros(model.latent) if base is None else np.asarray(base, np.float64), (n * n, 1))
    yy, xx = np.meshgrid(g[::-1], g, indexing="ij")
    z[:, i], z[:, j] = xx.ravel(), yy.ravel()
    return decode_np(model, z)


def random_codes(model: VAE, codes: np.ndarray, n: int, seed: int = 0, region: str = "spread") -> np.ndarray:
    """n random codes "from the same region" as the model's test codes: the same standard-normal draws eps for
    every model, scaled to that model's code spread (z = mean + std * eps per dimension). For a VAE whose codes
    fill its prior this is close to sampling the prior; for a plain AE it is the best a user could do without one.
    region="prior" draws from N(0, I) instead."""
    n = int(check_range("Number of random codes", n, 1, 10_000))
    eps = np.random.default_rng(seed).standard_normal((n, model.latent))
    if region == "prior":
        return eps
    return codes.mean(0) + codes.std(0) * eps


@torch.no_grad()
def interpolate(model: VAE, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 10) -> np.ndarray:
    """Decode the straight path between the posterior means of two images: (steps, C, H, W)."""
    steps = int(check_range("Interpolation steps", steps, 2, 40))
    mu, _ = model.encode(_as_model_input(model, torch.stack([x_a, x_b])))
    t = torch.linspace(0, 1, steps, device=mu.device)[:, None]
    return model.decode((1 - t) * mu[0] + t * mu[1]).cpu().numpy()


def sample_quality(model: VAE, judge_model: nn.Module, n: int = 500, seed: int = 0,
                   codes: np.ndarray | None = None) -> dict:
    """The judge's verdict on n decoded random codes: from the prior, or (codes given) from the codes' spread."""
    from ..classifier import judge

    z = random_codes(model, codes, n, seed) if codes is not None else random_codes(model, None, n, seed, "prior")
    return judge(judge_model, torch.as_tensor(decode_np(model, z)))
