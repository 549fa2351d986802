"""The variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014), and the plain
autoencoder it becomes without its noise and its prior.

    encoder  q(z|x) = N(z; mu(x), diag(exp(logvar(x))))      decoder  p(x|z) = Bernoulli(x; sigmoid(f(z)))
    prior    p(z)   = N(0, I)

Training maximises the evidence lower bound (ELBO), per image, in nats:

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))  <=  log p(x)                          (K&W eq. 3)
            = -recon(x)       - kl(x)

and we minimise  recon + beta * kl  (beta = 1 is the VAE; beta != 1 is the beta-VAE of Higgins et al., 2017).
The expectation is estimated with one sample drawn by the reparameterisation trick, z = mu + sigma * eps with
eps ~ N(0, I) (K&W section 2.4), so the gradient flows through mu and sigma. The KL term has a closed form
(K&W appendix B). The same network with `variational=False` uses z = mu (no noise) and drops the KL term:
that is exactly a plain autoencoder, the comparison the page makes.

Pixel values of the datasets are grey levels in [0, 1], used as Bernoulli targets as in pytorch/examples/vae;
the "ELBO" is then a bound on a pseudo-likelihood, fine for comparing models on the same data.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..device import randn as dev_randn
from ..errors import InputError
from ..limits import check_range


BUILDER = "dlplay.vae:build_model"
ARCHS = ("mlp", "conv")
LATENT_RANGE = (2, 32)
BETA_RANGE = (0.0, 10.0)
HIDDEN_RANGE = (16, 1024)


# -- the model ---------------------------------------------------------------------------------------------------
class VAE(nn.Module):
    """MLP or convolutional (V)AE. encode(x) -> (mu, logvar); decode(z) -> pixel probabilities; sample(n)."""

    def __init__(self, image_shape=(1, 8, 8), latent: int = 2, arch: str = "mlp", hidden: int = 256,
                 variational: bool = True):
        super().__init__()
        c, h, w = image_shape
        self.image_shape, self.latent, self.variational = tuple(image_shape), latent, variational
        if arch == "mlp":
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, hidden), nn.ReLU(),
                                      nn.Linear(hidden, hidden // 2), nn.ReLU())
            self.head = nn.Sequential(nn.Linear(latent, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, hidden),
                                      nn.ReLU(), nn.Linear(hidden, c * h * w), nn.Unflatten(1, (c, h, w)))
            feat = hidden // 2
        else:  # two stride-2 convolutions down, two transposed convolutions up (H and W divisible by 4)
            s = (64, h // 4, w // 4)
            self.body = nn.Sequential(nn.Conv2d(c, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
                                      nn.Flatten(), nn.Linear(math.prod(s), hidden), nn.ReLU())
            self.head = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, math.prod(s)),
                                      nn.ReLU(), nn.Unflatten(1, s), nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
                                      nn.ConvTranspose2d(32, c, 4, 2, 1))
            feat = hidden
        self.mu = nn.Linear(feat, latent)
        # The plain AE has no variance head at all: "a VAE minus its noise and its prior".
        self.logvar = nn.Linear(feat, latent) if variational else None

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior q(z|x): its mean and log-variance. A plain AE's code is deterministic: log-variance -inf."""
        h = self.body(x)
        mu = self.mu(h)
        logvar = self.logvar(h) if self.variational else torch.full_like(mu, -math.inf)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.head(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli means p(x|z), i.e. images in [0, 1] shaped (n, C, H, W)."""
        return torch.sigmoid(self.head(z))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images decoded from codes drawn from the prior N(0, I)."""
        n = int(check_range("Number of samples", n, 1, 10_000))
        z = torch.randn(n, self.latent, generator=generator).to(self.mu.weight.device)
        return self.decode(z)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """(reconstruction logits, mu, logvar, z) with z drawn by the reparameterisation trick."""
        mu, logvar = self.encode(x)
        z = reparameterise(mu, logvar, generator) if self.variational else mu
        return self.decode_logits(z), mu, logvar, z


def build_model(image_shape=(1, 8, 8), latent: int = 2, arch: str = "mlp", hidden: int = 256,
                variational: bool = True) -> VAE:
    """The checkpoint builder: validates the config, then builds the network."""
    if arch not in ARCHS:
        raise InputError(f"Unknown architecture {arch!r}: choose mlp or conv.")
    check_range("Latent size", latent, 1, LATENT_RANGE[1])
    check_range("Hidden width", hidden, *HIDDEN_RANGE)
    c, h, w = image_shape
    if arch == "conv" and (h % 4 or w % 4):
        raise InputError(f"The convolutional VAE needs image sides divisible by 4, not {h}x{w}; use mlp.")
    return VAE(tuple(image_shape), int(latent), arch, int(hidden), bool(variational))


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I) (K&W 2014, section 2.4): the noise is an input, so gradients reach mu
    and sigma."""
    eps = dev_randn(mu.shape, generator, mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_to_prior(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per row, in nats. Closed form, K&W 2014 appendix B:
        -KL = 1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)"""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)


def recon_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) per image for a Bernoulli decoder: the binary cross-entropy summed over pixels, in nats."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def loss_terms(model: VAE, x: torch.Tensor, beta: float = 1.0, generator: torch.Generator | None = None) -> dict:
    """Batch means of recon, kl, elbo = -(recon + kl), and the loss minimised (recon + beta * kl; AE: recon)."""
    logits, mu, logvar, _ = model(x, generator)
    recon = recon_nll(logits, x).mean()
    if not model.variational:
        return {"loss": recon, "recon": recon}
    kl = kl_to_prior(mu, logvar).mean()
    return {"loss": recon + beta * kl, "elbo": -(recon + kl), "recon": recon, "kl": kl}
