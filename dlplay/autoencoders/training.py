"""Training an autoencoder: the variants' losses, the run settings (AutoencoderConfig) and the Task the engine runs.

    L(x) = 1/D ||x - g(f(x))||^2                                   (pixel loss: mean squared error over D pixels)
    sparse        L + lambda * mean_j |z_j|                        (L1 on the code z = f(x), a ReLU code)
    denoising     1/D ||x - g(f(x~))||^2, x~ = x + sigma*eps        (or x~ = x * mask; Vincent et al. 2008)
    redundant     1/D ||x - g(m * f(x))||^2, m_j ~ Bernoulli(1-p)   (dropout on the code, Srivastava et al. 2014)
    contractive   L + lambda * ||J_f(x)||_F^2,  J_f = dz/dx         (Rifai et al. 2011)
    perceptual    1/H ||phi(x) - phi(g(f(x)))||^2                   (phi: a frozen network's hidden layer; Johnson
                                                                    et al. 2016; here the digit classifier's)
    L1 on the weights: after each step, w <- sign(w) max(|w| - lr*mu, 0)   (the proximal step of mu*||W_1||_1: soft
                       thresholding, as in ISTA; a plain gradient on |w| only makes weights jitter around zero)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch.nn import functional as F

from ..data import on_device
from ..data import dataset_names
from ..data import load as load_data
from ..device import device_generator, get_device, rand as dev_rand, randn as dev_randn, seed_everything
from ..errors import InputError
from ..topics import Config
from ..train import Batches, ModelTask
from .models import MAX_CODE, MAX_HIDDEN, TIED_VARIANTS, VARIANTS, Autoencoder, build_model, first_layer

NOISE_KINDS = ("gaussian", "dropout")
LOSSES = ("pixel", "perceptual")
VariantName = Literal["deep", "linear", "sparse", "denoising", "redundant", "overcomplete", "contractive", "conv",
                      "conv_pool"]


@dataclass(frozen=True)
class AutoencoderConfig(Config):
    """One autoencoder run. None means "the variant's default" (see VARIANTS); resolved() fills those in."""

    dataset: str = "digits"
    variant: VariantName = "deep"
    code_size: int | None = None       # numbers in the code K (default: the variant's)
    weight: float | None = None        # the variant's knob: L1 on the code, noise level, code dropout, contraction
    noise: Literal["gaussian", "dropout"] = "gaussian"   # denoising: the corruption
    weight_l1: float = 0.0             # L1 on the first layer's weights (mu, proximal step); 0 = off
    tied: bool = False                 # decoder = encoder transposed (linear and deep)
    loss: Literal["pixel", "perceptual"] = "pixel"
    lr: float | None = None            # Adam's step size (default: the variant's)
    batch_size: int | None = None      # minibatch size (default: the variant's)
    hidden: tuple[int, ...] = (128, 64)

    def check(self) -> "AutoencoderConfig":
        self.one_of("variant", list(VARIANTS))
        self.one_of("dataset", dataset_names())
        v = VARIANTS[self.variant]
        if self.code_size is not None:
            self.in_range("code_size", 1, MAX_CODE)
        if self.weight is not None:
            if v.knob:
                self.in_range("weight", *v.knob_range, label=v.knob)
            elif self.weight != 0:
                raise InputError(f"The {v.title.lower()} autoencoder has no knob; leave the weight unset.")
        self.one_of("noise", NOISE_KINDS)
        self.in_range("weight_l1", 0.0, 2.0, label="L1 weight on the weights")
        if self.tied and self.variant not in TIED_VARIANTS:
            raise InputError(f"Tied weights exist for the {' and '.join(TIED_VARIANTS)} autoencoders, "
                             f"not the {v.title.lower()} one.")
        self.one_of("loss", LOSSES)
        if self.loss == "perceptual" and self.dataset != "digits":
            raise InputError("The perceptual loss looks through the digit classifier, so it needs the digits "
                             f"dataset, not {self.dataset!r}.")
        if self.lr is not None:
            self.in_range("lr", 1e-5, 0.1, label="learning rate")
        if self.batch_size is not None:
            self.in_range("batch_size", 1, 4096)
        if not 1 <= len(self.hidden) <= 4 or any(isinstance(n, bool) or not isinstance(n, int)
                                                  or not 1 <= n <= MAX_HIDDEN for n in self.hidden):
            raise InputError(f"Hidden layers: one to four sizes between 1 and {MAX_HIDDEN}, not {self.hidden!r}.")
        return self

    def resolved(self) -> "AutoencoderConfig":
        """The same run with every default filled in (code size, the knob, the learning rate)."""
        self.check()
        v = VARIANTS[self.variant]
        k = self.code_size
        if k is None:
            k = min(MAX_CODE, 2 * load_data(self.dataset).n_pixels) if self.variant == "overcomplete" else v.code_size
        return self.replace(code_size=int(k), weight=float(v.knob_default if self.weight is None else self.weight),
                            lr=float(v.lr if self.lr is None else self.lr),
                            batch_size=int(v.batch_size if self.batch_size is None else self.batch_size))

    def model_config(self, image_shape) -> dict:
        """The builder's keyword arguments (JSON-able), as stored in a checkpoint."""
        return {"variant": self.variant, "image_shape": list(image_shape), "code_size": int(self.code_size),
                "hidden": [int(n) for n in self.hidden], "tied": bool(self.tied)}


# -- losses ------------------------------------------------------------------------------------------------------
def corrupt(x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """The denoising autoencoder's input x~: Gaussian noise of std `level` (clipped to [0,1]), or each pixel
    dropped to 0 with probability `level` (masking noise)."""
    if kind not in NOISE_KINDS:
        raise InputError(f"Unknown noise {kind!r}: choose gaussian or dropout.")
    if kind == "gaussian":
        eps = dev_randn(x.shape, generator, x.device)
        return (x + level * eps).clamp(0, 1)
    keep = dev_rand(x.shape, generator, x.device) >= level
    return x * keep


def drop_code(z: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """The redundant autoencoder's code during training: each number zeroed with probability p. No 1/(1-p)
    rescaling: a knocked-out unit at test time is a plain zero, and that is what the decoder learns to live with."""
    keep = dev_rand(z.shape, generator, z.device) >= p
    return z * keep


def jacobian_sq(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    """||J_f(x)||_F^2 per image, J_f = dz/dx (K x D); differentiable, for the contractive penalty (Rifai 2011)."""
    from torch.func import jacrev, vmap

    jac = vmap(jacrev(lambda xi: model.encode(xi[None])[0]))(x)  # (N, K, C, H, W)
    return jac.pow(2).flatten(1).sum(1)


def loss_terms(model: Autoencoder, x: torch.Tensor, variant: str, weight: float = 0.0, noise: str = "gaussian",
               generator: torch.Generator | None = None, features=None) -> dict[str, torch.Tensor]:
    """The variant's training loss on a batch x: {'loss': total, 'mse': reconstruction part, 'penalty': rest}.
    With `features` (a frozen network phi) the reconstruction part is 1/H ||phi(x) - phi(x_hat)||^2 instead."""
    x_in = corrupt(x, noise, weight, generator) if variant == "denoising" else x
    z, switches = model.encode_full(x_in)                   # switches: max-pooling positions (conv_pool only)
    z_dec = drop_code(z, weight, generator) if variant == "redundant" and model.training else z
    x_hat = model.decode(z_dec, switches)
    if features is not None:
        rec = F.mse_loss(features(x_hat), features(x))       # the perceptual loss: compare in feature space
    else:
        rec = F.mse_loss(x_hat, x)                            # 1/D ||x - g(f(x~))||^2, averaged over the batch
    if variant == "sparse" and weight > 0:
        penalty = weight * z.abs().mean()                     # lambda * mean |z_j|
    elif variant == "contractive" and weight > 0:
        penalty = weight * jacobian_sq(model, x).mean()       # lambda * ||J_f(x)||_F^2
    else:
        return {"loss": rec, "mse": rec, "penalty": torch.zeros(())}   # no extra graph node without a penalty
    return {"loss": rec + penalty, "mse": rec, "penalty": penalty}


@torch.no_grad()
def soft_threshold_(model: Autoencoder, threshold: float) -> None:
    """The proximal step of an L1 penalty on the first layer's weights (the ones that look at the pixels):
    w <- sign(w) max(|w| - t, 0), in place. Weights whose gradient does not keep pushing them out of [-t, t] land
    on exactly 0 and stay there. (Only the first layer: thresholding the decoder's last layer too costs much more
    reconstruction error for the same share of zeros, measured.)"""
    w = first_layer(model).weight
    w.copy_(w.sign() * (w.abs() - threshold).clamp_min(0))


def perceptual_features(device=None):
    """phi for the perceptual loss: the shipped digit classifier's hidden layer (64 pixels -> its ReLU features),
    frozen. Its weights never train; gradients flow through it to the autoencoder."""
    from .. import classifier

    net = classifier.load_judge()
    phi = torch.nn.Sequential(*list(net)[:3]).to(device if device is not None else "cpu").eval()   # Flatten, Linear, ReLU
    for p in phi.parameters():
        p.requires_grad_(False)
    return phi


# -- the task ----------------------------------------------------------------------------------------------------
class AutoencoderTask(ModelTask):
    """One run: config.resolved() on its dataset, Adam on minibatches drawn from the task's own generator."""

    # Knobs a student may turn while it trains (topics.tune): the loss changes, the network stays.
    LIVE_KNOBS = ("weight", "noise", "weight_l1", "lr")

    def __init__(self, config: AutoencoderConfig, seed: int = 0, device=None):
        self.config = cfg = config.resolved()
        self.data = load_data(cfg.dataset)
        self.variant, self.weight, self.noise = cfg.variant, cfg.weight, cfg.noise
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.model_config = cfg.model_config(self.data.image_shape)
        self.model = build_model(**self.model_config).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.features = perceptual_features(self.device) if cfg.loss == "perceptual" else None
        self.x = on_device(self.data.x_train, self.device)
        self.batches = Batches(len(self.x), cfg.batch_size, self.generator, device=self.device)
        self.device_generator = device_generator(self.device, self.generator)

    def retune(self, config: AutoencoderConfig) -> None:
        self.config = cfg = config.resolved()
        self.weight, self.noise = cfg.weight, cfg.noise
        for group in self.opt.param_groups:
            group["lr"] = cfg.lr

    @property
    def extra(self) -> dict:
        """What a checkpoint stores beside the weights: the run's settings (the views need the knob and noise)."""
        return {"config": self.config.as_dict()}

    def step(self):
        self.model.train()
        x = self.x[self.batches.next()]
        out = loss_terms(self.model, x, self.variant, self.weight, self.noise, self.device_generator, self.features)
        self.opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        self.opt.step()
        if self.config.weight_l1 > 0:
            soft_threshold_(self.model, self.config.lr * self.config.weight_l1)
        if self.variant in ("sparse", "contractive") or self.features is not None:
            return out
        return {"loss": out["loss"]}

    def evaluate(self):
        from .measures import evaluate

        return evaluate(self.model, self.data, self.config)


def make_task(config: AutoencoderConfig, seed: int = 0, device=None) -> AutoencoderTask:
    """A fresh autoencoder run (the topic contract's entry point: the page, CLI, tests and bench all call it)."""
    return AutoencoderTask(config, seed, device)
