"""The restricted Boltzmann machine (Smolensky 1986; Hinton 2002) and what is done with one: CD-k updates, free
energies (real digits against their pixel-shuffled copies), Gibbs chains from noise, reconstructions, filters.

    E(v, h) = -b'v - c'h - v'W h                                   (the energy; p(v, h) = exp(-E) / Z)
    F(v) = -b'v - sum_j softplus(c_j + v'W_:j)                     (the free energy; p(v) ~ exp(-F))
    CD-k: dW = <v0 p(h|v0)'> - <vk p(h|vk)'>,   db = <v0 - vk>,   dc = <p(h|v0) - p(h|vk)>
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..data import ImageData
from ..device import rand as dev_rand
from ..errors import InputError


# -- the RBM -------------------------------------------------------------------------------------------------------
class RBM(nn.Module):
    """A Bernoulli-Bernoulli restricted Boltzmann machine: W (D x H), visible bias b (D), hidden bias c (H)."""

    def __init__(self, n_visible: int = 64, n_hidden: int = 64, image_shape=(1, 8, 8)):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.W = nn.Parameter(torch.zeros(n_visible, n_hidden))
        self.b = nn.Parameter(torch.zeros(n_visible))
        self.c = nn.Parameter(torch.zeros(n_hidden))

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """E(v, h) = -b'v - c'h - v'Wh, one number per row."""
        return -(v @ self.b) - (h @ self.c) - ((v @ self.W) * h).sum(1)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) = -b'v - sum_j log(1 + exp(c_j + v'W_:j)): low where the model puts probability."""
        return -(v @ self.b) - F.softplus(v @ self.W + self.c).sum(1)

    def p_h(self, v: torch.Tensor) -> torch.Tensor:
        """p(h = 1 | v) = sigmoid(c + v'W)."""
        return torch.sigmoid(v @ self.W + self.c)

    def p_v(self, h: torch.Tensor) -> torch.Tensor:
        """p(v = 1 | h) = sigmoid(b + W h)."""
        return torch.sigmoid(h @ self.W.T + self.b)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """The mean-field reconstruction p(v | p(h | v)), as images."""
        return self.p_v(self.p_h(v.flatten(1))).view(len(v), *self.image_shape)


def bernoulli(p: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A 0/1 sample with P(1) = p, drawn from the given generator (a device generator on a GPU: no copy)."""
    return (dev_rand(p.shape, generator, p.device) < p).float()   # drawn where the generator lives


def binarise(x: torch.Tensor) -> torch.Tensor:
    """Images (N, C, H, W) in [0, 1] -> binary visible vectors (N, D): a pixel is on when it is brighter than 0.5."""
    return (x.flatten(1) > 0.5).float()


@torch.no_grad()
def cd_k(rbm: RBM, v0: torch.Tensor, k: int, generator: torch.Generator) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Contrastive divergence CD-k on a batch of binary vectors v0: the parameter updates (gradient *ascent*
    directions of the log-likelihood, approximated) and the chain's end vk."""
    ph0 = rbm.p_h(v0)                       # positive phase: p(h | v0)
    h = bernoulli(ph0, generator)
    vk, phk = v0, ph0
    for _ in range(k):                      # k steps of block Gibbs sampling: v ~ p(v | h), h ~ p(h | v)
        vk = bernoulli(rbm.p_v(h), generator)
        phk = rbm.p_h(vk)
        h = bernoulli(phk, generator)
    n = len(v0)
    return {"W": (v0.T @ ph0 - vk.T @ phk) / n,     # <v h'>_data - <v h'>_k
            "b": (v0 - vk).mean(0),                 # <v>_data - <v>_k
            "c": (ph0 - phk).mean(0)}, vk           # <h>_data - <h>_k


@torch.no_grad()
def reconstruction_error(rbm: RBM, v: torch.Tensor) -> float:
    """Mean squared error per pixel between binary vectors and their mean-field reconstructions p(v | p(h | v))."""
    return F.mse_loss(rbm.p_v(rbm.p_h(v.to(rbm.W.device))), v.to(rbm.W.device)).item()


def shuffled_pixels(v: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Each row with its pixels in a random order (a fresh permutation per row, fixed by seed): the same number of
    'on' pixels, none of the shape."""
    g = torch.Generator().manual_seed(seed)
    return torch.stack([row[torch.randperm(len(row), generator=g)] for row in v.cpu()])


@torch.no_grad()
def free_energy_test(rbm: RBM, data: ImageData) -> dict[str, float]:
    """Free energy of every binarised test digit against its pixel-shuffled copy: the share of pairs where the real
    digit has the lower free energy (= the higher probability under the model), and the two means."""
    v = binarise(data.x_test)
    s = shuffled_pixels(v)
    dev = rbm.W.device
    fr, fs = rbm.free_energy(v.to(dev)).cpu(), rbm.free_energy(s.to(dev)).cpu()
    return {"free_energy_real_below_shuffled": (fr < fs).float().mean().item(),
            "free_energy_real": fr.mean().item(), "free_energy_shuffled": fs.mean().item()}


@torch.no_grad()
def free_energies(rbm: RBM, data: ImageData) -> tuple[np.ndarray, np.ndarray]:
    """F(v) of the binarised test digits and of their shuffled copies (for the histogram)."""
    v = binarise(data.x_test)
    dev = rbm.W.device
    return (rbm.free_energy(v.to(dev)).cpu().numpy(), rbm.free_energy(shuffled_pixels(v).to(dev)).cpu().numpy())


@torch.no_grad()
def gibbs_chain(rbm: RBM, n: int = 16, steps: int = 1000, generator: torch.Generator | None = None,
                snapshots: int = 20, start: torch.Tensor | None = None) -> tuple[list[int], torch.Tensor]:
    """Run n Gibbs chains v -> h -> v from binary noise (or from `start`); returns the snapshot steps and the
    images at those steps, shaped (len(steps), n, C, H, W), on the CPU: at step 0 the starting vectors, after
    that the pixel probabilities p(v | h) of the step (smoother to look at than the binary sample)."""
    if not 1 <= n <= 256:
        raise InputError(f"number of chains = {n} is out of range: it must be between 1 and 256.")
    if not 1 <= steps <= 20000:
        raise InputError(f"Gibbs steps = {steps} is out of range: it must be between 1 and 20000.")
    g = generator or torch.Generator().manual_seed(0)
    dev = rbm.W.device
    d = rbm.W.shape[0]
    v = bernoulli(torch.full((n, d), 0.5, device=dev), g) if start is None else start.flatten(1).to(dev).float()
    at = sorted({0, *np.unique(np.geomspace(1, steps, max(2, snapshots - 1)).round().astype(int)).tolist()})
    out, mean = [], v                       # frame 0: the starting noise itself
    for t in range(steps + 1):
        if t in at:
            out.append(mean.cpu().view(n, *rbm.image_shape))
        if t == steps:
            break
        h = bernoulli(rbm.p_h(v), g)
        mean = rbm.p_v(h)
        v = bernoulli(mean, g)
    return at, torch.stack(out)


@torch.no_grad()
def reconstruct(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Reconstructions of images x (N, C, H, W) by an RBM (of the binarised x, mean field) or an autoencoder, as
    float32 images on the CPU (the model is not moved)."""
    p = next(model.parameters())
    v = binarise(x).view_as(x) if isinstance(model, RBM) else x
    return model(v.to(p.device, p.dtype)).float().cpu().view_as(x)


def filters(rbm: RBM, n: int | None = None) -> torch.Tensor:
    """The weights into each hidden unit, W_:j, as an image (H, C, h, w), each scaled to [0, 1]."""
    w = rbm.W.detach().cpu().T[:n]
    lo, hi = w.amin(1, keepdim=True), w.amax(1, keepdim=True)
    return ((w - lo) / (hi - lo + 1e-8)).view(len(w), *rbm.image_shape)


def judge_samples(images: torch.Tensor) -> float:
    """The share of images the project's shipped digit classifier calls a digit with probability > 0.5."""
    from ..classifier import judge, load_judge

    return judge(load_judge(), images)["confident_share"]
