"""The four GAN objectives of the lecture, written on the discriminator's raw outputs (logits / critic scores).

r = D(x) on real samples, f = D(G(z)) on generated ones. With sigma the logistic sigmoid, D's probability that a
sample is real is sigma(D(x)), and log sigma(t) = -softplus(-t), log(1 - sigma(t)) = -softplus(t), so every
formula below is the textbook one written in a numerically safe way.

- minimax (Goodfellow et al. 2014, eq. 1):  min_G max_D  E log D(x) + E log(1 - D(G(z)))
      D minimises  -[log sigma(r) + log(1 - sigma(f))];   G minimises  log(1 - sigma(f)).
  When D confidently rejects fakes (f << 0), d/df log(1 - sigma(f)) = -sigma(f) -> 0: G's gradient vanishes.
- non-saturating (same paper, section 3):  G minimises -log sigma(f) instead; its gradient -(1 - sigma(f))
  is largest exactly when D wins.
- least squares (Mao et al. 2017, LSGAN eq. 2, a=0, b=c=1):  D minimises 1/2 (r-1)^2 + 1/2 f^2;  G minimises 1/2 (f-1)^2.
- Wasserstein with gradient penalty (Gulrajani et al. 2017, eq. 3):  the critic minimises
      E f - E r + lambda E (||grad_xhat D(xhat)|| - 1)^2,  xhat = eps x + (1 - eps) G(z);   G minimises -E f.
"""

from __future__ import annotations

import torch

from ..device import rand as dev_rand
from torch.nn import functional as F

from ..errors import InputError

LOSSES = {
    "minimax": "original minimax (saturating)",
    "nonsaturating": "non-saturating (-log D(G(z)))",
    "lsgan": "least squares (LSGAN)",
    "wgan-gp": "Wasserstein with gradient penalty (WGAN-GP)",
}


def check_loss(loss: str) -> str:
    if loss not in LOSSES:
        raise InputError(f"Unknown GAN loss {loss!r}: choose one of {', '.join(LOSSES)}.")
    return loss


def d_loss(loss: str, r: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """The discriminator's (critic's) loss on real scores r and fake scores f, without the gradient penalty."""
    if loss in ("minimax", "nonsaturating"):
        return F.softplus(-r).mean() + F.softplus(f).mean()       # -log sigma(r) - log(1 - sigma(f))
    if loss == "lsgan":
        return 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean()
    if loss == "wgan-gp":
        return f.mean() - r.mean()
    raise InputError(f"Unknown GAN loss {loss!r}.")


def g_loss(loss: str, f: torch.Tensor) -> torch.Tensor:
    """The generator's loss on the scores f = D(G(z)) of its samples."""
    if loss == "minimax":
        return -F.softplus(f).mean()                               # log(1 - sigma(f)): saturates when f << 0
    if loss == "nonsaturating":
        return F.softplus(-f).mean()                               # -log sigma(f)
    if loss == "lsgan":
        return 0.5 * ((f - 1) ** 2).mean()
    if loss == "wgan-gp":
        return -f.mean()
    raise InputError(f"Unknown GAN loss {loss!r}.")


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """E (||grad D(xhat)||_2 - 1)^2 at random points xhat on lines between real and fake samples (WGAN-GP)."""
    eps = dev_rand((len(real),) + (1,) * (real.dim() - 1), generator, real.device)
    xhat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    grad, = torch.autograd.grad(D(xhat).sum(), xhat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def d_accuracy(loss: str, r: torch.Tensor, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Share of real samples D calls real and of fake samples it calls fake.

    The threshold is where D is undecided: logit 0 (probability 1/2), 0.5 for least squares; a Wasserstein critic
    has no such point, so its threshold is the middle of the batch's scores."""
    t = {"lsgan": 0.5, "wgan-gp": torch.cat([r, f]).mean().detach()}.get(loss, 0.0)
    return (r > t).float().mean(), (f <= t).float().mean()
