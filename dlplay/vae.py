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

import copy
import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from torch import nn
from torch.nn import functional as F

from .data import on_device
from . import checkpoints, viz
from .data import ImageData
from .device import device_generator, get_device, randn as dev_randn, seed_everything
from .errors import InputError
from .limits import check_range
from .topics import Config, Shipped
from .train import Batches, ModelTask, Task, Trainer

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
        from .data import dataset_names
        self.one_of("dataset", dataset_names())
        self.in_range("latent", *LATENT_RANGE, "latent size")
        self.in_range("beta", *BETA_RANGE)
        self.one_of("arch", ("auto", *ARCHS), "network")
        self.in_range("hidden", 8, 2048, "hidden units")
        self.in_range("lr", 1e-5, 0.1, "learning rate")
        self.in_range("batch_size", 8, 1024, "batch size")
        return self


def _task_kwargs(config: VAEConfig) -> tuple:
    from .data import load as load_data
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


def manifold_figure(images: np.ndarray, n: int, dims=(0, 1), height: int = 720) -> go.Figure:
    """The grid as one big image, axes labelled with the z values of the grid's columns and rows."""
    # A thin dark line between tiles: 8x8 digits touching each other read as stripes.
    mosaic = viz.tile(images, n, pad=1, pad_value=0.3)
    h = (mosaic.shape[0] - 1) // n  # tile side plus its padding
    g = prior_grid(n)
    fig = go.Figure(go.Image(z=mosaic, hoverinfo="skip"))
    ticks = list(range(0, n, max(1, n // 7)))
    fig.update_xaxes(tickvals=[1 + h * k + (h - 1) / 2 for k in ticks], ticktext=[f"{g[k]:.1f}" for k in ticks],
                     title=f"z{dims[0] + 1}")
    fig.update_yaxes(tickvals=[1 + h * k + (h - 1) / 2 for k in ticks], ticktext=[f"{g[::-1][k]:.1f}" for k in ticks],
                     title=f"z{dims[1] + 1}")
    fig.update_layout(height=height, margin=dict(l=50, r=10, t=10, b=40))
    return fig


def encoder_figure(mu: np.ndarray, sd: np.ndarray, labels, class_names, n_ellipses: int = 150,
                   images=None) -> go.Figure:
    """Posterior means coloured by label; for a 2-D latent also one-standard-deviation ellipses of q(z|x) for
    the first n_ellipses points. Larger latents are projected on their two main principal directions."""
    labels = np.asarray(labels)
    d = mu.shape[1]
    if d > 2:
        from sklearn.decomposition import PCA

        xy = PCA(n_components=2, random_state=0).fit_transform(mu)
        title = f"Posterior means of {len(mu)} test images (PCA of the {d}-D codes)"
    else:
        xy, title = mu, f"Posterior means of {len(mu)} test images, with 1-sigma ellipses of q(z|x)"
    hover = [f"{class_names[int(y)]}" for y in labels]
    fig = viz.scatter(xy, labels, hover=hover, class_names=class_names, title=title, marker_size=6)
    if d == 2 and np.isfinite(sd).all() and sd.max() > 0:
        t = np.linspace(0, 2 * np.pi, 25)
        for k, lab in enumerate(np.unique(labels)):
            idx = np.flatnonzero(labels == lab)[: max(1, n_ellipses // len(np.unique(labels)))]
            xs, ys = [], []
            for r in idx:
                xs += list(mu[r, 0] + sd[r, 0] * np.cos(t)) + [None]
                ys += list(mu[r, 1] + sd[r, 1] * np.sin(t)) + [None]
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                                     line=dict(width=1, color=viz.PALETTE[k % len(viz.PALETTE)]), opacity=0.35))
    fig.update_xaxes(title="z1" if d <= 2 else "PC 1")
    fig.update_yaxes(title="z2" if d <= 2 else "PC 2")
    return fig


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
    from .classifier import judge

    z = random_codes(model, codes, n, seed) if codes is not None else random_codes(model, None, n, seed, "prior")
    return judge(judge_model, torch.as_tensor(decode_np(model, z)))


# -- the beta trade-off ----------------------------------------------------------------------------------------------
BETAS = (0.0, 0.5, 1.0, 2.0, 4.0)
ACTIVE_THRESHOLD = 0.01
BETA_SWEEP_STEPS = 1500     # steps per model in the shipped table and the page's default re-measurement
BETA_TABLE_LATENT = 8     # the shipped table's code size: enough units to watch them switch off one by one
BETA_TABLE_FILE = checkpoints.SHIPPED_DIR / "vae_beta_sweep.json"


def active_units(model: VAE, x, threshold: float = ACTIVE_THRESHOLD) -> tuple[int, np.ndarray]:
    """How many latent units the encoder uses: unit u is active when its posterior mean moves with the input,
    A_u = Var_x( E_q(z|x)[z_u] ) > threshold (Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders",
    ICLR 2016, section 5.2, threshold 0.01). A collapsed unit gives every image the same posterior, the prior:
    the decoder cannot learn anything from it. Returns (count, A_u for every unit)."""
    mu, _ = encode_means(model, x)
    var = mu.var(0) if len(mu) > 1 else np.zeros(mu.shape[1])
    return int((var > threshold).sum()), var


class BetaSweepTask(Task):
    """The same VAE trained once per beta, side by side from the same seed on the same batch order: the only
    difference between the models is the weight of the KL term. One step() is one step of every model."""

    def __init__(self, data: ImageData, betas=BETAS, seed: int = 0, device=None, **kw):
        betas = tuple(float(b) for b in betas)
        if not 1 <= len(betas) <= 8:
            raise InputError(f"Compare between 1 and 8 values of beta, not {len(betas)}.")
        self.data, self.betas = data, betas
        self.tasks = [VAETask(data, beta=b, seed=seed, device=device, **kw) for b in betas]
        self.generator = self.tasks[0].generator

    def step(self):
        out = {}
        for b, t in zip(self.betas, self.tasks):
            m = t.step()
            out[f"kl_beta{b:g}"], out[f"recon_beta{b:g}"] = m["kl"], m["recon"]
        return out

    def evaluate(self):
        return {f"{k}_beta{b:g}": v for b, t in zip(self.betas, self.tasks) for k, v in t.evaluate().items()}

    def models(self) -> dict[float, VAE]:
        return {b: t.model for b, t in zip(self.betas, self.tasks)}

    def state_dict(self):
        return {"tasks": [t.state_dict() for t in self.tasks]}

    def load_state_dict(self, s):
        for t, st_ in zip(self.tasks, s["tasks"]):
            t.load_state_dict(st_)

    def live_state(self):
        return [t.live_state() for t in self.tasks]

    def load_live_state(self, s):
        for t, st_ in zip(self.tasks, s):
            t.load_live_state(st_)


def make_beta_sweep_task(config: VAEConfig, seed: int = 0, device=None) -> BetaSweepTask:
    """One VAE per value in BETAS with `config`'s other settings (config.beta is ignored): the page's
    "measure the trade-off yourself" run."""
    ds, kw = _task_kwargs(config)
    kw.pop("beta")
    return BetaSweepTask(ds, BETAS, seed=seed, device=device, variational=True, **kw)


@torch.no_grad()
def beta_table(models: dict[float, VAE], data: ImageData, judge_model: nn.Module | None = None, n: int = 500,
               seed: int = 0, n_show: int = 8) -> list[dict]:
    """One row per beta: active latent units (of the code size), the test KL and reconstruction terms (nats per
    image), and for 8x8 digits the share of n prior samples z ~ N(0, I) the judge accepts as digits. Each row
    also keeps n_show decoded prior samples (the same draws for every beta) as 0..255 grey levels, for the figure."""
    rows = []
    eps = torch.as_tensor(np.random.default_rng(seed).standard_normal((n, next(iter(models.values())).latent)),
                          dtype=torch.float32)
    for b, model in sorted(models.items()):
        model = copy.deepcopy(model).cpu().eval()   # never move the caller's (a trainer's) model
        k, var = active_units(model, data.x_test)
        m = loss_terms(model, data.x_test, b, torch.Generator().manual_seed(0))
        imgs = model.decode(eps)
        row = {"beta": float(b), "active_units": k, "latent": model.latent,
               "test_kl": round(float(m["kl"]), 3), "test_recon": round(float(m["recon"]), 3),
               "max_mean_variance": round(float(var.max()), 5),
               "samples": (imgs[:n_show, 0] * 255).round().to(torch.uint8).tolist()}
        if judge_model is not None and data.image_shape == (1, 8, 8):
            from .classifier import judge

            row["sampled_digits"] = round(judge(judge_model, imgs)["confident_share"], 4)
        rows.append(row)
    return rows


def beta_sweep(config: VAEConfig = VAEConfig(), steps: int = BETA_SWEEP_STEPS, seed: int = 0,
               judge_model: nn.Module | None = None, betas=BETAS, device="cpu") -> list[dict]:
    """Train one fresh VAE per beta for `steps` steps (the same seed and batches) and return beta_table's rows."""
    ds, kw = _task_kwargs(config)
    kw.pop("beta")
    task = BetaSweepTask(ds, betas, seed=seed, device=device, variational=True, **kw)
    tr = Trainer(task, record_every=max(1, steps))
    while tr.steps < steps:   # one run() stops at limits.MAX_RUN_SECONDS; a busy machine may need several
        tr.run(steps=steps - tr.steps)
    rows = beta_table(task.models(), ds, judge_model, seed=seed)
    for r in rows:
        r["steps"] = tr.steps
    return rows


def collapsed(row: dict) -> bool:
    """Posterior collapse: no latent unit carries information about the input (every posterior is the prior)."""
    return row["active_units"] == 0


def beta_figure(rows: list[dict], height: int = 430) -> go.Figure:
    """Sampling quality and active units against beta, one column per beta, with each beta's decoded prior
    samples underneath; betas where the posterior collapsed are shaded and named."""
    from plotly.subplots import make_subplots

    betas = [r["beta"] for r in rows]
    x = [f"{b:g}" for b in betas]
    has_q = all("sampled_digits" in r for r in rows)
    fig = make_subplots(rows=2, cols=1, row_heights=[0.68, 0.32], vertical_spacing=0.1,
                        specs=[[{"secondary_y": True}], [{}]])
    if has_q:
        fig.add_trace(go.Bar(x=x, y=[r["sampled_digits"] * 100 for r in rows], name="prior samples judged digits (%)",
                             marker_color=viz.PALETTE[0], opacity=0.75,
                             text=[f"{r['sampled_digits']:.0%}" for r in rows], textposition="outside"), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=[r["active_units"] for r in rows], mode="lines+markers+text",
                             name=f"active latent units (of {rows[0]['latent']})", marker=dict(size=10),
                             line=dict(color=viz.PALETTE[3], width=3), text=[str(r["active_units"]) for r in rows],
                             textposition="top center"), 1, 1, secondary_y=True)
    for i, r in enumerate(rows):
        if collapsed(r):
            fig.add_vrect(x0=i - 0.5, x1=i + 0.5, fillcolor="grey", opacity=0.15, line_width=0, row=1, col=1)
            fig.add_annotation(x=x[i], y=1.02, yref="y domain", text="posterior collapse", showarrow=False,
                               font=dict(color="firebrick"), row=1, col=1)
    # the decoded prior samples of each beta: one strip of tiles per column
    strips = [viz.tile(np.asarray(r["samples"], np.float32)[:, None] / 255.0, 4, pad=1, pad_value=0.3)
              for r in rows]
    gap = np.full((strips[0].shape[0], 3, *strips[0].shape[2:]), 255, strips[0].dtype)
    mosaic = np.concatenate([np.concatenate([s, gap], 1) for s in strips], 1)
    fig.add_trace(go.Image(z=mosaic, hoverinfo="skip"), 2, 1)
    fig.update_xaxes(title="beta (weight of the KL term)", type="category", row=1, col=1)
    fig.update_xaxes(visible=False, row=2, col=1)
    fig.update_yaxes(visible=False, row=2, col=1)
    fig.update_yaxes(title="prior samples judged digits (%)", range=[0, 115], row=1, col=1, secondary_y=False)
    fig.update_yaxes(title="active latent units", range=[-0.2, rows[0]["latent"] * 1.25 + 0.2], row=1, col=1,
                     secondary_y=True, showgrid=False, tickmode="linear", tick0=0,
                     dtick=max(1, rows[0]["latent"] // 4))
    fig.update_layout(height=height, margin=dict(l=50, r=50, t=30, b=10), barmode="overlay",
                      legend=dict(orientation="h", y=-0.02, yanchor="top"))
    return fig


def shipped_beta_table() -> dict:
    """The table the page opens on (made by pretrain, see pretrain_beta_table): {"rows": [...], "steps", ...}."""
    import json

    if not BETA_TABLE_FILE.exists():
        raise InputError("The shipped beta table is missing; re-create it with `python -m dlplay pretrain vae`.")
    return json.loads(BETA_TABLE_FILE.read_text())


def pretrain_beta_table(out_dir=None, seed: int = 0, steps: int = BETA_SWEEP_STEPS) -> dict:
    import json
    from pathlib import Path

    from .classifier import load_judge

    cfg = VAEConfig(latent=BETA_TABLE_LATENT)
    rows = beta_sweep(cfg, steps, seed, load_judge())
    out = {"dataset": cfg.dataset, "latent": cfg.latent, "steps": rows[0]["steps"], "seed": seed, "rows": rows}
    path = Path(out_dir) / BETA_TABLE_FILE.name if out_dir else BETA_TABLE_FILE
    path.write_text(json.dumps(out, separators=(",", ":")))
    return out


# -- checkpoints, pretraining and the CLI ---------------------------------------------------------------------------
def save(path_or_buffer, task: VAETask, extra: dict | None = None) -> None:
    checkpoints.save(path_or_buffer, task.model, task.config, BUILDER, {**task.extra(), **(extra or {})})


def load(source) -> tuple[VAE, dict, dict]:
    return checkpoints.load(source, expect_builder=BUILDER)


SHIPPED = {name: Shipped(name, "digits", VAEConfig(latent=z, variational=v), 3000)
           for name, z, v in [("vae_digits", 2, True), ("ae_digits", 2, False),
                              ("vae_digits_z16", 16, True), ("ae_digits_z16", 16, False)]}


def pretrain(out_dir=None, seed: int = 0) -> dict:
    """Re-create the shipped checkpoints: 2-D and 16-D latent VAEs on digits and the matching plain AEs."""
    from pathlib import Path

    from .data import load as load_data

    out = {}
    for name, sh in SHIPPED.items():
        task = make_task(sh.config, seed, device="cpu")
        Trainer(task, record_every=100).run(steps=sh.steps)
        save(Path(out_dir or checkpoints.SHIPPED_DIR) / f"{name}.pt", task, {"steps": sh.steps})
        ev = task.evaluate()
        out[name] = {k: round(v, 3) for k, v in ev.items()}
    table = pretrain_beta_table(out_dir, seed)
    out["vae_beta_sweep"] = {f"beta {r['beta']:g}": {k: r[k] for k in ("active_units", "sampled_digits", "test_kl")}
                             for r in table["rows"]}
    return out


def cli_args(command, parser) -> None:
    parser.add_argument("--dataset", default="digits", help="digits (default), rotations, shapes, mnist, ...")
    parser.add_argument("--latent", type=int, default=2, help="latent size, 2 to 32")
    parser.add_argument("--beta", type=float, default=1.0, help="weight of the KL term (1 = the VAE)")
    parser.add_argument("--arch", choices=ARCHS, default=None, help="mlp or conv (default: mlp for 8x8, conv above)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--ae", action="store_true", help="train the plain autoencoder (no noise, no KL) instead")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--steps", type=int, default=None, help="step budget (with --seconds, whichever first)")
    parser.add_argument("--judge", action="store_true",
                        help="also report how many of 500 prior samples the digit classifier accepts")


def default_arch(data: ImageData) -> str:
    return "mlp" if data.image_shape[1] <= 8 else "conv"


def cli_run(command, args) -> dict:
    from .data import load as load_data

    ds = load_data(args.dataset)
    task = VAETask(ds, latent=args.latent, beta=args.beta, arch=args.arch or default_arch(ds), hidden=args.hidden,
                   variational=not args.ae, seed=args.seed, device=args.device)
    start = task.evaluate()
    tr = Trainer(task, record_every=50).run(steps=args.steps, seconds=args.seconds)
    out = {"dataset": args.dataset, "model": "ae" if args.ae else "vae", "latent": args.latent, "beta": args.beta,
           "steps": tr.steps, "seconds": round(tr.seconds, 3), **tr.last_eval}
    if "test_elbo" in start:
        out["test_elbo_at_init"] = start["test_elbo"]
    if args.judge and ds.image_shape == (1, 8, 8):
        from .classifier import load_judge

        codes = None if not args.ae else encode_means(task.model, ds.x_test)[0]
        q = sample_quality(copy.deepcopy(task.model).cpu(), load_judge(), 500, args.seed, codes)  # a copy: the
        # task's own model stays on its device (save() below evaluates it there)
        out.update({f"judge_{k}": v for k, v in q.items()})
    if args.out:
        save(args.out, task, {"steps": tr.steps})
    return out
