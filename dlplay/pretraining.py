"""Before end-to-end: how deep networks were first made to train. Greedy layer-wise pre-training, the restricted
Boltzmann machine (RBM) trained with contrastive divergence, and the deep belief net unrolled into an autoencoder.

**Greedy layer-wise pre-training** (Bengio et al. 2007; Hinton & Salakhutdinov 2006). Train a shallow autoencoder
x -> h1 -> x on the pixels; freeze it, train the next one h1 -> h2 -> h1 on its codes; and so on. The encoders,
stacked, initialise a deep network; a softmax head goes on top and everything is fine-tuned with the few labels
there are. `StackConfig` compares that with the same network from random initialisation (same labels, same
fine-tuning steps) and with the pre-trained features frozen (a linear probe: only the head learns).

**The RBM** (Smolensky 1986; Hinton 2002), binary visible units v (pixels) and hidden units h:

    E(v, h) = -b'v - c'h - v'W h                                   (the energy; p(v, h) = exp(-E) / Z)
    p(h_j = 1 | v) = sigmoid(c_j + v'W_:j)                         (hidden units independent given v)
    p(v_i = 1 | h) = sigmoid(b_i + W_i: h)                         (visible units independent given h)
    F(v) = -log sum_h exp(-E(v, h)) = -b'v - sum_j softplus(c_j + v'W_:j)       (the free energy; p(v) ~ exp(-F))

The log-likelihood gradient is <v h'>_data - <v h'>_model. Contrastive divergence CD-k (Hinton 2002) replaces the
model expectation by k steps of Gibbs sampling started at the data: v0 -> h0 -> v1 -> h1 -> ... -> vk, and

    dW = <v0 p(h|v0)'> - <vk p(h|vk)'>,   db = <v0 - vk>,   dc = <p(h|v0) - p(h|vk)>

**The deep belief net** (Hinton, Osindero & Teh 2006): RBMs stacked greedily (each trained on the hidden
probabilities of the one below), then unrolled into an autoencoder (the encoder uses W, the decoder W') and
fine-tuned end to end on the reconstruction error; seed 002's 784-1000-500-250-30 recipe, scaled to 8x8 digits.
`DBNConfig` compares it with the same autoencoder from random initialisation at the same total number of steps.

**Reusing another network's weights** (today's pre-training): `BackboneConfig` puts the project's offline ImageNet
network (EfficientNet-Lite0) on upsampled digits, frozen (a linear head on its features) against fine-tuned (its top
block learns too), same labels, same start, same steps.

    from dlplay import pretraining as pt
    task = pt.make_task(pt.RBMConfig(hidden=64, k=1), seed=0)
    Trainer(task).run(steps=2000)
    pt.free_energy_test(task.model, data.load("digits"))      # real digits below their shuffled copies?
"""

from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import checkpoints
from .data import ImageData
from .device import device_generator, get_device, rand as dev_rand, seed_everything
from .errors import InputError
from .topics import Config, Shipped
from .train import Batches, ModelTask, Task, Trainer

TITLE = "Before end-to-end: pre-training, the RBM, the deep belief net and reusing an ImageNet network"
BUILDER = "dlplay.pretraining:build_model"
DATASETS = ("digits",)
MAX_WIDTH = 1024            # widest layer a user may ask for (the page's inputs mirror it)
MAX_LAYERS = 4
MAX_K = 25                  # Gibbs steps per CD update
LABEL_CHOICES = (1, 5, 10, 50)
MAX_LABELS_PER_CLASS = 100  # digits has about 140 training images per class
ACTIVATIONS = ("sigmoid", "relu")


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
    from .classifier import judge, load_judge

    return judge(load_judge(), images)["confident_share"]


# -- configs -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PretrainingConfig(Config):
    """Base of this topic's three kinds of run; `make_task` builds the task its subclass names."""

    dataset: str = "digits"

    def check(self):
        self.one_of("dataset", DATASETS)
        return self

    def check_sizes(self, name: str = "sizes"):
        sizes = getattr(self, name)
        if not isinstance(sizes, tuple) or not 1 <= len(sizes) <= MAX_LAYERS:
            raise InputError(f"The stack needs 1 to {MAX_LAYERS} layer sizes, not {sizes!r}.")
        for i, s in enumerate(sizes):
            if isinstance(s, bool) or not isinstance(s, int):
                raise InputError(f"Layer {i + 1}'s size must be a whole number, not {s!r}.")
            if not 1 <= s <= MAX_WIDTH:
                raise InputError(f"Layer {i + 1} has {s} units: each layer must have between 1 and {MAX_WIDTH}.")


@dataclass(frozen=True)
class RBMConfig(PretrainingConfig):
    hidden: int = 64            # hidden units H
    k: int = 1                  # Gibbs steps per update (CD-k)
    lr: float = 0.1
    momentum: float = 0.5
    batch_size: int = 32

    def check(self):
        super().check()
        self.in_range("hidden", 1, MAX_WIDTH, "Hidden units")
        self.in_range("k", 1, MAX_K, "K (Gibbs steps per CD update)")
        self.in_range("lr", 1e-4, 1.0, "Learning rate")
        self.in_range("momentum", 0.0, 0.99, "Momentum")
        self.in_range("batch_size", 1, 1024, "Batch size")
        return self


@dataclass(frozen=True)
class StackConfig(PretrainingConfig):
    sizes: tuple[int, ...] = (128, 64, 32)       # the hidden layers, bottom to top
    activation: Literal["sigmoid", "relu"] = "sigmoid"
    labels_per_class: int = 5
    pretrain_steps: int = 600                    # per layer (one shallow autoencoder each)
    finetune_steps: int = 300                    # the same for all three networks
    seeds: int = 3                               # repeats (seed, seed + 1, ...): new labels, new initialisation
    lr: float = 3e-3

    def check(self):
        super().check()
        self.check_sizes()
        self.one_of("activation", ACTIVATIONS, "activation")
        self.in_range("labels_per_class", 1, MAX_LABELS_PER_CLASS, "Labels per class")
        self.in_range("pretrain_steps", 0, 20000, "Pre-training steps per layer")
        self.in_range("finetune_steps", 1, 20000, "Fine-tuning steps")
        self.in_range("seeds", 1, 10, "Number of seeds")
        self.in_range("lr", 1e-5, 0.1, "Learning rate")
        return self


@dataclass(frozen=True)
class DBNConfig(PretrainingConfig):
    sizes: tuple[int, ...] = (128, 64, 16)       # encoder 64-128-64-16, decoder mirrored: 16-64-128-64
    k: int = 1
    rbm_steps: int = 600                         # per RBM
    finetune_steps: int = 1500
    seeds: int = 2
    rbm_lr: float = 0.1
    lr: float = 2e-3

    def check(self):
        super().check()
        self.check_sizes()
        self.in_range("k", 1, MAX_K, "K (Gibbs steps per CD update)")
        self.in_range("rbm_steps", 0, 20000, "RBM steps per layer")
        self.in_range("finetune_steps", 1, 20000, "Fine-tuning steps")
        self.in_range("seeds", 1, 10, "Number of seeds")
        self.in_range("rbm_lr", 1e-4, 1.0, "RBM learning rate")
        self.in_range("lr", 1e-5, 0.1, "Learning rate")
        return self


def _data(name: str) -> ImageData:
    from .data import load

    return load(name)


# -- models --------------------------------------------------------------------------------------------------------
def _act(name: str) -> nn.Module:
    return nn.Sigmoid() if name == "sigmoid" else nn.ReLU()


class StackNet(nn.Module):
    """A plain deep classifier: D -> sizes[0] -> ... -> sizes[-1] (each Linear + activation) -> n_classes logits."""

    def __init__(self, n_in: int = 64, sizes=(128, 64, 32), activation: str = "sigmoid", n_classes: int = 10):
        super().__init__()
        dims = [n_in, *sizes]
        self.body = nn.Sequential(*[m for a, b in zip(dims[:-1], dims[1:]) for m in (nn.Linear(a, b), _act(activation))])
        self.head = nn.Linear(dims[-1], n_classes)

    @property
    def layers(self) -> list[nn.Linear]:
        return [m for m in self.body if isinstance(m, nn.Linear)]

    def forward(self, x):
        return self.head(self.body(x.flatten(1)))


class DeepAE(nn.Module):
    """An autoencoder D -> sizes -> code -> reversed sizes -> D with sigmoid units (the DBN's unrolled shape); the
    code layer is linear, as in Hinton & Salakhutdinov (2006)."""

    def __init__(self, n_in: int = 64, sizes=(128, 64, 16), image_shape=(1, 8, 8)):
        super().__init__()
        self.image_shape = tuple(image_shape)
        dims = [n_in, *sizes]
        self.enc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.dec = nn.ModuleList(nn.Linear(b, a) for a, b in reversed(list(zip(dims[:-1], dims[1:]))))

    def encode(self, x):
        h = x.flatten(1)
        for i, lin in enumerate(self.enc):
            h = lin(h) if i == len(self.enc) - 1 else torch.sigmoid(lin(h))
        return h

    def decode(self, z):
        h = z
        for lin in self.dec:
            h = torch.sigmoid(lin(h))
        return h.view(len(z), *self.image_shape)

    def forward(self, x):
        return self.decode(self.encode(x))


class Compared(nn.ModuleDict):
    """Several networks of the same architecture compared in one run (what a checkpoint of a comparison holds)."""


def build_model(kind: str = "rbm", **kw) -> nn.Module:
    """The checkpoint builder: rebuilds any of this topic's models from its config (bounds checked)."""
    for name in ("n_visible", "n_hidden", "n_in"):
        if name in kw and not 1 <= int(kw[name]) <= 4096:
            raise InputError(f"{name} = {kw[name]} is out of range for a checkpoint of this page.")
    sizes = tuple(int(s) for s in kw.get("sizes", ()))
    if any(not 1 <= s <= MAX_WIDTH for s in sizes) or len(sizes) > MAX_LAYERS:
        raise InputError(f"The checkpoint's layer sizes {list(sizes)} are outside 1..{MAX_WIDTH} "
                         f"(at most {MAX_LAYERS} layers).")
    if kind == "rbm":
        return RBM(int(kw["n_visible"]), int(kw["n_hidden"]), tuple(kw.get("image_shape", (1, 8, 8))))
    if kind == "stack":
        if kw.get("activation", "sigmoid") not in ACTIVATIONS:
            raise InputError(f"Unknown activation {kw.get('activation')!r}: choose sigmoid or relu.")
        return Compared({m: StackNet(int(kw["n_in"]), sizes, kw.get("activation", "sigmoid"),
                                     int(kw.get("n_classes", 10))) for m in STACK_METHODS})
    if kind == "backbone_heads":
        return Compared({m: nn.Linear(1280, int(kw.get("n_classes", 10))) for m in BACKBONE_METHODS})
    if kind == "dbn":
        return Compared({m: DeepAE(int(kw["n_in"]), sizes, tuple(kw.get("image_shape", (1, 8, 8))))
                         for m in DBN_METHODS})
    raise InputError(f"Unknown model kind {kind!r} in this checkpoint: expected rbm, stack or dbn.")


# -- the RBM task --------------------------------------------------------------------------------------------------
class RBMTask(ModelTask):
    """CD-k on binarised digits. The update is computed by `cd_k` (the equations above) and handed to SGD with
    momentum as a gradient: .grad = -(positive phase - negative phase), since optimisers minimise."""

    def __init__(self, config: RBMConfig, seed: int = 0, device=None):
        self.cfg = config
        self.data = _data(config.dataset)
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        d = self.data.n_pixels
        self.model_config = {"kind": "rbm", "n_visible": d, "n_hidden": config.hidden,
                             "image_shape": list(self.data.image_shape)}
        self.model = build_model(**self.model_config).to(self.device)
        self.v = binarise(self.data.x_train).to(self.device)
        self.v_test = binarise(self.data.x_test).to(self.device)
        with torch.no_grad():   # W ~ N(0, 0.01^2); b = log(p / (1 - p)) of each pixel's 'on' rate (Hinton 2010)
            self.model.W.copy_(0.01 * torch.randn(self.model.W.shape, generator=self.generator))
            p = self.v.mean(0).clamp(0.01, 0.99)
            self.model.b.copy_(torch.log(p / (1 - p)))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=config.momentum)
        self.batches = Batches(len(self.v), config.batch_size, self.generator, device=self.device)
        self.device_generator = device_generator(self.device, self.generator)

    def step(self):
        v0 = self.v[self.batches.next()]
        update, vk = cd_k(self.model, v0, self.cfg.k, self.device_generator)
        for name, p in self.model.named_parameters():
            p.grad = -update[name]
        self.opt.step()
        with torch.no_grad():
            rec = F.mse_loss(self.model.p_v(self.model.p_h(v0)), v0)
        return {"recon_error": rec}

    def evaluate(self):
        return {"recon_error": reconstruction_error(self.model, self.v_test), **free_energy_test(self.model, self.data)}


# -- comparison tasks: a plan of phases, run one step at a time ----------------------------------------------------
class PlanTask(Task):
    """A task whose work is a plan (pre-train layer 1, layer 2, ..., fine-tune; then the same for the next seed)
    written as a generator that yields after every optimisation step: each step() advances it by one.

    The plan repeats with seed, seed + 1, seed + 2, ...; `config.seeds` repeats (`total_steps` step() calls) make one
    full comparison, and `finished` says they are done (the engine and the runner end the run there). Only
    completed repeats enter the results; a resumed plan starts the next seed."""

    phase = ""
    steps_per_seed = 1
    done_steps = 0

    def _plan(self):
        raise NotImplementedError
        yield {}

    @property
    def total_steps(self) -> int:
        return self.cfg.seeds * self.steps_per_seed

    @property
    def finished(self) -> bool:
        return len(self.results) >= self.cfg.seeds

    @property
    def progress(self) -> float:
        """How much of the planned repeats is done (0..1; above 1 means extra seeds)."""
        return self.done_steps / max(1, self.total_steps)

    def step(self):
        if not hasattr(self, "_it"):
            self._it = self._plan()
        return next(self._it)

    # The runner trains in a worker process and sends the page these (the plan's generator stays there): the live
    # view needs the phase and finished results; the end of a run also brings the models as they are.
    rollback = False

    def live_state(self):
        return {"phase": self.phase, "done_steps": self.done_steps, "results": list(self.results),
                "layer_losses": list(getattr(self, "layer_losses", []))}

    def load_live_state(self, s):
        self.phase, self.done_steps, self.results = s["phase"], s["done_steps"], list(s["results"])
        self.layer_losses = list(s["layer_losses"])

    def state_dict(self):
        return {**self.live_state(), "model": self.model}

    def load_state_dict(self, s):
        self.load_live_state(s)
        self.model = s["model"]


def labelled_subset(data: ImageData, per_class: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of `per_class` training images of each class, drawn at random (the only labels fine-tuning sees)."""
    out = []
    for c in range(len(data.class_names)):
        idx = torch.nonzero(data.y_train == c).flatten()
        if per_class > len(idx):
            raise InputError(f"labels per class = {per_class} is more than the {len(idx)} training images of class "
                             f"{data.class_names[c]}.")
        out.append(idx[torch.randperm(len(idx), generator=generator)[:per_class]])
    return torch.cat(out)


def summarise(results: list[dict[str, float]], methods) -> dict[str, float]:
    """Per method over the completed seeds: the mean and (as `<method>_std`) the sample standard deviation."""
    out = {}
    for m in methods:
        vals = np.array([r[m] for r in results])
        if len(vals):
            out[m] = float(vals.mean())
            out[f"{m}_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
    out["seeds_done"] = float(len(results))
    return out


STACK_METHODS = ("pretrained", "random_init", "linear_probe")
STACK_NAMES = {"pretrained": "pre-trained, then fine-tuned", "random_init": "random initialisation",
               "linear_probe": "pre-trained features frozen (linear probe)"}


def pretrain_layer(lin: nn.Linear, h: torch.Tensor, activation: str, steps: int, lr: float, batches: Batches,
                   bottom: bool):
    """Greedy step: train one shallow autoencoder h -> act(lin(h)) -> h' on the codes of the layer below (frozen);
    its decoder is thrown away afterwards. Yields the reconstruction loss after every step. The bottom layer
    rebuilds pixels in [0, 1] (sigmoid output); higher ones rebuild codes (sigmoid codes: sigmoid, ReLU: linear)."""
    dec = nn.Linear(lin.out_features, lin.in_features).to(h.device)
    opt = torch.optim.Adam([*lin.parameters(), *dec.parameters()], lr=lr)
    squash = bottom or activation == "sigmoid"
    for _ in range(steps):
        x = h[batches.next().to(h.device)]
        r = dec(_act(activation)(lin(x)))
        loss = F.mse_loss(torch.sigmoid(r) if squash else r, x)   # 1/D ||h - g(f(h))||^2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        yield loss


class StackTask(PlanTask):
    """Greedy layer-wise pre-training, then fine-tuning with few labels, against random initialisation and a
    linear probe: same architecture, same labels, same fine-tuning steps and learning rate; repeated over seeds
    (seed, seed + 1, ...), each with its own labelled subset and initialisation."""

    def __init__(self, config: StackConfig, seed: int = 0, device=None):
        self.cfg, self.seed = config, int(seed)
        self.data = _data(config.dataset)
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.model_config = {"kind": "stack", "n_in": self.data.n_pixels, "sizes": list(config.sizes),
                             "activation": config.activation, "n_classes": len(self.data.class_names)}
        self.model = build_model(**self.model_config).to(self.device)
        self.x = self.data.x_train.flatten(1).to(self.device)
        self.x_test, self.y_test = self.data.x_test.flatten(1).to(self.device), self.data.y_test.to(self.device)
        self.results: list[dict[str, float]] = []
        self.steps_per_seed = len(config.sizes) * config.pretrain_steps + config.finetune_steps
        self.layer_losses: list[float] = []    # the last reconstruction loss of each shallow autoencoder

    def _plan(self):
        cfg = self.cfg
        for r in itertools.count(len(self.results)):   # a resumed plan goes on with the next seed
            s = self.seed + r
            g = torch.Generator().manual_seed(s)
            torch.manual_seed(s)
            fresh = build_model(**self.model_config).to(self.device)  # one initialisation, copied to all three
            self.model = Compared({m: copy.deepcopy(fresh["pretrained"]) for m in STACK_METHODS})
            self.labelled = labelled_subset(self.data, cfg.labels_per_class, g)
            net = self.model["pretrained"]
            h = self.x
            self.layer_losses = []
            for i, lin in enumerate(net.layers):           # greedy: one shallow autoencoder per layer
                self.phase = f"seed {s}: pre-training layer {i + 1} of {len(net.layers)}"
                batches = Batches(len(h), 64, g, device=self.device)
                for loss in pretrain_layer(lin, h, cfg.activation, cfg.pretrain_steps, cfg.lr, batches, i == 0):
                    self.done_steps += 1
                    yield {"pretrain_loss": loss}
                if cfg.pretrain_steps:
                    self.layer_losses.append(float(loss.detach()))
                with torch.no_grad():                      # freeze it: its codes are the next layer's data
                    h = _act(cfg.activation)(lin(h))
            self.model["linear_probe"].load_state_dict(net.state_dict())
            xl, yl = self.x[self.labelled.to(self.device)], self.data.y_train[self.labelled].to(self.device)
            opts = {"pretrained": torch.optim.Adam(net.parameters(), lr=cfg.lr / 3),
                    "random_init": torch.optim.Adam(self.model["random_init"].parameters(), lr=cfg.lr / 3),
                    "linear_probe": torch.optim.Adam(self.model["linear_probe"].head.parameters(), lr=cfg.lr / 3)}
            self.phase = f"seed {s}: fine-tuning with {len(yl)} labels"
            for i in range(cfg.finetune_steps):            # the three take their steps side by side
                out = {}
                for m, opt in opts.items():
                    net_m = self.model[m]
                    if m == "linear_probe":                # frozen features: no gradient reaches the body
                        with torch.no_grad():
                            feats = net_m.body(xl)
                        logits = net_m.head(feats)
                    else:
                        logits = net_m(xl)
                    loss = F.cross_entropy(logits, yl)     # all labelled images in one batch
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    out[f"{m}_loss"] = loss
                self.done_steps += 1
                if i == cfg.finetune_steps - 1:
                    self.results.append(self.accuracies())
                yield out

    @torch.no_grad()
    def accuracies(self) -> dict[str, float]:
        """Test accuracy of each of the three networks as they are now (the 360 test digits)."""
        self.model.eval()
        acc = {m: (self.model[m](self.x_test).argmax(1) == self.y_test).float().mean().item() for m in STACK_METHODS}
        self.model.train()
        return acc

    def evaluate(self):
        return {**summarise(self.results, STACK_METHODS), "labels_per_class": float(self.cfg.labels_per_class)}


DBN_METHODS = ("dbn", "random_init")
DBN_NAMES = {"dbn": "RBM stack, unrolled and fine-tuned", "random_init": "same autoencoder, random initialisation"}


class DBNTask(PlanTask):
    """A stack of RBMs trained greedily (each on the hidden probabilities of the one below), unrolled into an
    autoencoder (encoder W, decoder W') and fine-tuned on the reconstruction error; beside it the same autoencoder
    from random initialisation, which takes one Adam step for every RBM step and every fine-tuning step, so both
    have had the same total number of updates when they are compared. Repeated over seeds."""

    def __init__(self, config: DBNConfig, seed: int = 0, device=None):
        self.cfg, self.seed = config, int(seed)
        self.data = _data(config.dataset)
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.model_config = {"kind": "dbn", "n_in": self.data.n_pixels, "sizes": list(config.sizes),
                             "image_shape": list(self.data.image_shape)}
        self.model = build_model(**self.model_config).to(self.device)
        self.x = self.data.x_train.flatten(1).to(self.device)
        self.x_test = self.data.x_test.to(self.device)
        self.results: list[dict[str, float]] = []
        self.steps_per_seed = len(config.sizes) * config.rbm_steps + config.finetune_steps

    def _plan(self):
        cfg = self.cfg
        for r in itertools.count(len(self.results)):   # a resumed plan goes on with the next seed
            s = self.seed + r
            g = torch.Generator().manual_seed(s)
            gd = device_generator(self.device, g)             # the Gibbs samples' noise, made on the device
            torch.manual_seed(s)
            self.model = build_model(**self.model_config).to(self.device)
            dbn, rnd = self.model["dbn"], self.model["random_init"]
            opt_rnd = torch.optim.Adam(rnd.parameters(), lr=cfg.lr)
            rnd_batches = Batches(len(self.x), 64, g, device=self.device)

            def random_step():
                x = self.x[rnd_batches.next().to(self.device)]
                loss = F.mse_loss(rnd(x).flatten(1), x)
                opt_rnd.zero_grad(set_to_none=True)
                loss.backward()
                opt_rnd.step()
                return loss

            h = self.x                                        # the bottom RBM sees pixel intensities as probabilities
            dims = [self.data.n_pixels, *cfg.sizes]
            for i in range(len(cfg.sizes)):
                self.phase = f"seed {s}: RBM {i + 1} of {len(cfg.sizes)} ({dims[i]}-{dims[i + 1]}), CD-{cfg.k}"
                rbm = RBM(dims[i], dims[i + 1], self.data.image_shape).to(self.device)
                with torch.no_grad():
                    rbm.W.copy_(0.01 * torch.randn(rbm.W.shape, generator=g))
                opt = torch.optim.SGD(rbm.parameters(), lr=cfg.rbm_lr, momentum=0.5)
                batches = Batches(len(h), 32, g, device=self.device)
                for _ in range(cfg.rbm_steps):
                    v0 = bernoulli(h[batches.next()], gd)   # sample binary states from the probabilities
                    update, _ = cd_k(rbm, v0, cfg.k, gd)
                    for name, p in rbm.named_parameters():
                        p.grad = -update[name]
                    opt.step()
                    with torch.no_grad():
                        rec = F.mse_loss(rbm.p_v(rbm.p_h(v0)), v0)
                    self.done_steps += 1
                    yield {"rbm_recon_error": rec, "random_init_loss": random_step()}
                with torch.no_grad():                         # unroll: encoder layer i uses W, decoder uses W'
                    dbn.enc[i].weight.copy_(rbm.W.T)
                    dbn.enc[i].bias.copy_(rbm.c)
                    dbn.dec[len(cfg.sizes) - 1 - i].weight.copy_(rbm.W)
                    dbn.dec[len(cfg.sizes) - 1 - i].bias.copy_(rbm.b)
                    h = rbm.p_h(h)                             # its hidden probabilities are the next RBM's data
            self.phase = f"seed {s}: fine-tuning both autoencoders end to end"
            opt_dbn = torch.optim.Adam(dbn.parameters(), lr=cfg.lr)
            batches = Batches(len(self.x), 64, g, device=self.device)
            for i in range(cfg.finetune_steps):
                x = self.x[batches.next().to(self.device)]
                loss = F.mse_loss(dbn(x).flatten(1), x)
                opt_dbn.zero_grad(set_to_none=True)
                loss.backward()
                opt_dbn.step()
                out = {"dbn_loss": loss, "random_init_loss": random_step()}
                self.done_steps += 1
                if i == cfg.finetune_steps - 1:
                    self.results.append(self.test_mse())
                yield out

    @torch.no_grad()
    def test_mse(self) -> dict[str, float]:
        return {m: F.mse_loss(self.model[m](self.x_test), self.x_test).item() for m in DBN_METHODS}

    def evaluate(self):
        return summarise(self.results, DBN_METHODS)


# -- reusing another network's weights: a frozen ImageNet backbone against a fine-tuned one -------------------------
BACKBONE_METHODS = ("frozen", "fine_tuned")
BACKBONE_NAMES = {"frozen": "ImageNet features frozen (only a linear head learns)",
                  "fine_tuned": "top blocks fine-tuned with the head"}
SPLIT_LAYER = "stage6"      # below it the backbone stays frozen in both; above it (stage 7, head conv) fine-tuning learns


@dataclass(frozen=True)
class BackboneConfig(PretrainingConfig):
    labels_per_class: int = 5
    finetune_steps: int = 100                    # Adam steps, the same for both
    seeds: int = 3
    lr: float = 1e-3

    def check(self):
        super().check()
        self.in_range("labels_per_class", 1, MAX_LABELS_PER_CLASS, "Labels per class")
        self.in_range("finetune_steps", 1, 5000, "Fine-tuning steps")
        self.in_range("seeds", 1, 10, "Number of seeds")
        self.in_range("lr", 1e-5, 0.1, "Learning rate")
        return self


_TEST_MAPS: dict = {}


@torch.no_grad()
def backbone_maps(x: torch.Tensor, device) -> torch.Tensor:
    """EfficientNet-Lite0's SPLIT_LAYER feature maps of digits x (grey repeated to RGB, upsampled to 64 px as
    backbones.image_features does): the frozen lower part, the same in both runs."""
    from . import backbones

    net = backbones.load_efficientnet_lite0(device)
    size = backbones.feature_size(*x.shape[-2:])
    out = []
    for i in range(0, len(x), 128):
        b = backbones._as_rgb(x[i:i + 128]).to(device)
        b = F.interpolate(b, size=size, mode="bilinear", align_corners=False)
        out.append(net.features((b - backbones.MEAN) / backbones.STD, [SPLIT_LAYER])[SPLIT_LAYER].float())
    return torch.cat(out).contiguous()


def test_maps(data: ImageData, device) -> torch.Tensor:
    """backbone_maps of the test digits, computed once per process and device (read-only, shared)."""
    key = (data.name, str(device))
    if key not in _TEST_MAPS:
        _TEST_MAPS[key] = backbone_maps(data.x_test, device)
    return _TEST_MAPS[key]


class BackboneTop(nn.Module):
    """The part of EfficientNet-Lite0 above SPLIT_LAYER (stage 7 and the 1280-channel head conv, batch norm
    folded in), average pooling, and a new linear head for the digits."""

    def __init__(self, n_classes: int = 10, pretrained: bool = True):
        super().__init__()
        from . import backbones

        net = backbones.load_efficientnet_lite0("cpu") if pretrained else backbones.EfficientNetLite0().fuse_batchnorm()
        first = net.stage_ends[int(SPLIT_LAYER[-1]) - 1] + 1
        self.blocks = copy.deepcopy(nn.Sequential(*net._blocks[first:]))
        self.conv_head = copy.deepcopy(net._conv_head)
        for p in self.parameters():
            p.requires_grad_(True)
        self.head = nn.Linear(1280, n_classes)

    def features(self, maps: torch.Tensor) -> torch.Tensor:
        return F.relu6(self.conv_head(self.blocks(maps))).mean((2, 3))

    def forward(self, maps):
        return self.head(self.features(maps))


class BackboneTask(PlanTask):
    """Seed 001's "reuse another network's weights": the offline ImageNet network's features of upsampled digits,
    frozen (a linear head on the pooled 1280 features) against fine-tuned (its top blocks learn too), with the same
    labels, the same new head to start from, and the same number of Adam steps; repeated over seeds."""

    def __init__(self, config: BackboneConfig, seed: int = 0, device=None):
        self.cfg, self.seed = config, int(seed)
        self.data = _data(config.dataset)
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.maps_test = test_maps(self.data, self.device)
        self.y_test = self.data.y_test.to(self.device)
        self.model_config = {"kind": "backbone_heads", "n_classes": len(self.data.class_names)}
        self.model = build_model(**self.model_config).to(self.device)
        self.results: list[dict[str, float]] = []
        self.steps_per_seed = config.finetune_steps

    def _plan(self):
        cfg = self.cfg
        top0 = BackboneTop(len(self.data.class_names)).to(self.device)
        with torch.no_grad():
            feats_test = top0.features(self.maps_test)     # the frozen network's pooled features
        for r in itertools.count(len(self.results)):   # a resumed plan goes on with the next seed
            s = self.seed + r
            g = torch.Generator().manual_seed(s)
            torch.manual_seed(s)
            labelled = labelled_subset(self.data, cfg.labels_per_class, g).to(self.device)
            yl = self.data.y_train.to(self.device)[labelled]
            maps = backbone_maps(self.data.x_train[labelled.cpu()], self.device)   # only the labelled digits
            with torch.no_grad():
                feats = top0.features(maps)
            tuned = copy.deepcopy(top0)
            with torch.no_grad():
                nn.init.normal_(tuned.head.weight, 0, 0.01)
                nn.init.zeros_(tuned.head.bias)
            self.model = Compared({"frozen": copy.deepcopy(tuned.head), "fine_tuned": tuned.head})
            self.tuned = tuned
            opt_f = torch.optim.Adam(self.model["frozen"].parameters(), lr=cfg.lr)
            opt_t = torch.optim.Adam(tuned.parameters(), lr=cfg.lr)
            self.phase = f"seed {s}: training both on {len(yl)} labelled digits"
            for i in range(cfg.finetune_steps):
                loss_f = F.cross_entropy(self.model["frozen"](feats), yl)
                opt_f.zero_grad(set_to_none=True)
                loss_f.backward()
                opt_f.step()
                loss_t = F.cross_entropy(tuned(maps), yl)
                opt_t.zero_grad(set_to_none=True)
                loss_t.backward()
                opt_t.step()
                self.done_steps += 1
                if i == cfg.finetune_steps - 1:
                    with torch.no_grad():
                        acc = lambda logits: (logits.argmax(1) == self.y_test).float().mean().item()  # noqa: E731
                        self.results.append({"frozen": acc(self.model["frozen"](feats_test)),
                                             "fine_tuned": acc(tuned(self.maps_test))})
                yield {"frozen_loss": loss_f, "fine_tuned_loss": loss_t}

    def evaluate(self):
        return {**summarise(self.results, BACKBONE_METHODS), "labels_per_class": float(self.cfg.labels_per_class)}


def make_task(config: PretrainingConfig, seed: int = 0, device=None) -> Task:
    """A fresh task for any of this topic's configs: RBMConfig, StackConfig, DBNConfig or BackboneConfig (checked
    first)."""
    config.check()
    for cls, task in ((RBMConfig, RBMTask), (StackConfig, StackTask), (DBNConfig, DBNTask),
                      (BackboneConfig, BackboneTask)):
        if isinstance(config, cls):
            return task(config, seed, device)
    raise InputError(f"{type(config).__name__} is not a configuration of the pre-training page.")


# -- figures (plotly) ----------------------------------------------------------------------------------------------
def accuracy_figure(points: dict[int, dict[str, float]], title: str | None = None):
    """Test accuracy against labels per class (log axis), one line per method, error bars = std over seeds."""
    import plotly.graph_objects as go

    from .viz import PALETTE

    fig = go.Figure()
    xs = sorted(points)
    for i, m in enumerate(STACK_METHODS):
        fig.add_trace(go.Scatter(
            x=xs, y=[points[x][m] for x in xs], mode="lines+markers", name=STACK_NAMES[m],
            error_y=dict(type="data", array=[points[x].get(f"{m}_std", 0.0) for x in xs], visible=True),
            line=dict(color=PALETTE[i]),
            hovertemplate="%{x} labels per class: %{y:.1%}<extra>" + STACK_NAMES[m] + "</extra>"))
    fig.update_layout(title=title, height=380, xaxis=dict(title="labelled images per class", type="log",
                      tickvals=xs), yaxis=dict(title="test accuracy (360 digits)", tickformat=".0%"),
                      margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def backbone_figure(points: dict[int, dict[str, float]]):
    """Grouped bars: test accuracy of the frozen and the fine-tuned backbone per label count (std as error bar)."""
    import plotly.graph_objects as go

    xs = sorted(points)
    fig = go.Figure([go.Bar(name=BACKBONE_NAMES[m], x=[f"{x} labels per class" for x in xs],
                            y=[points[x][m] for x in xs], text=[f"{points[x][m]:.1%}" for x in xs],
                            textposition="outside",
                            error_y=dict(type="data", array=[points[x].get(f"{m}_std", 0) for x in xs], visible=True))
                     for m in BACKBONE_METHODS])
    fig.update_layout(barmode="group", height=340, yaxis=dict(title="test accuracy (360 digits)", tickformat=".0%",
                      range=[0, 1.08]), margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def free_energy_figure(real: np.ndarray, shuffled: np.ndarray):
    """Histograms of F(v) for real test digits and for their pixel-shuffled copies."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Histogram(x=real, name="real test digits", opacity=0.65, nbinsx=50))
    fig.add_trace(go.Histogram(x=shuffled, name="the same digits, pixels shuffled", opacity=0.65, nbinsx=50))
    fig.update_layout(barmode="overlay", height=320, xaxis_title="free energy F(v) (lower = more probable)",
                      yaxis_title="test images", margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def chain_figure(steps: list[int], frames: torch.Tensor, ncols: int = 8):
    """An animation of the Gibbs chains: one frame per snapshot (the mean-field images p(v | h)), a Play button and
    a slider over the Gibbs step."""
    import plotly.graph_objects as go

    from .viz import tile

    mosaics = [tile(f, ncols) for f in frames]
    fig = go.Figure(go.Image(z=mosaics[0], hoverinfo="skip"),
                    frames=[go.Frame(data=[go.Image(z=m)], name=str(s)) for s, m in zip(steps, mosaics)])
    slider = dict(active=0, currentvalue=dict(prefix="Gibbs step "), pad=dict(t=30),
                  steps=[dict(label=str(s), method="animate",
                              args=[[str(s)], dict(mode="immediate", frame=dict(duration=0, redraw=True))])
                         for s in steps])
    fig.update_layout(
        height=int(min(600, 80 + 420 * mosaics[0].shape[0] / mosaics[0].shape[1])), sliders=[slider],
        margin=dict(l=0, r=0, t=10, b=10), xaxis=dict(visible=False), yaxis=dict(visible=False),
        updatemenus=[dict(type="buttons", showactive=False, x=0, y=-0.05, xanchor="left", yanchor="top",
                          buttons=[dict(label="Play", method="animate",
                                        args=[None, dict(frame=dict(duration=250, redraw=True), fromcurrent=True)])])])
    return fig


def mse_bars(summary: dict[str, float], pca_mse: float | None = None):
    """Test reconstruction error of the DBN-initialised and the randomly initialised autoencoder (std as error bar)."""
    import plotly.graph_objects as go

    names = [DBN_NAMES[m] for m in DBN_METHODS]
    ys = [summary[m] for m in DBN_METHODS]
    err = [summary.get(f"{m}_std", 0.0) for m in DBN_METHODS]
    if pca_mse is not None:
        names, ys, err = names + ["PCA, same code size"], ys + [pca_mse], err + [0.0]
    fig = go.Figure(go.Bar(x=names, y=ys, error_y=dict(type="data", array=err, visible=True),
                           text=[f"{y:.4f}" for y in ys], textposition="outside"))
    fig.update_layout(height=320, yaxis_title="test MSE per pixel", margin=dict(l=10, r=10, t=10, b=10))
    return fig


# -- shipped checkpoints, comparisons over label counts, CLI -------------------------------------------------------
SHIPPED: dict[str, Shipped] = {
    "rbm_digits": Shipped("rbm_digits", "digits", RBMConfig(), 4000),
    "pretrain_stack_digits": Shipped("pretrain_stack_digits", "digits", StackConfig(), 0),
    "dbn_digits": Shipped("dbn_digits", "digits", DBNConfig(), 0),
    "backbone_digits": Shipped("backbone_digits", "digits", BackboneConfig(), 0),
}
BACKBONE_LABELS = (5, 50)
EXAMPLE = StackConfig(sizes=(16, 8), pretrain_steps=2, finetune_steps=2, seeds=1)   # small, for the contract tests


def run_to_end(config: PretrainingConfig, seed: int = 0, device=None) -> PlanTask:
    """Run a comparison task's planned repeats (config.seeds of them, a step budget) and return the task."""
    task = make_task(config, seed, device)
    Trainer(task, record_every=100).run(steps=task.total_steps)
    assert task.finished
    return task


def label_curve(config: StackConfig, labels=LABEL_CHOICES, seed: int = 0, device=None) -> dict[int, StackTask]:
    """The comparison at several label counts (one full StackTask each): {labels per class: finished task}."""
    return {n: run_to_end(config.replace(labels_per_class=n), seed, device) for n in labels}


def pca_mse(data: ImageData, k: int) -> float:
    from sklearn.decomposition import PCA

    flat = data.x_train.flatten(1).numpy()
    pca = PCA(n_components=min(k, *flat.shape), random_state=0).fit(flat)
    test = data.x_test.flatten(1).numpy()
    return float(np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2))


def pretrain(out_dir=None, names=None) -> dict:
    """Re-create the shipped files on the CPU with step budgets: the RBM; the stack comparison (its curve over all
    label counts is stored with the weights of the last run); the DBN comparison."""
    from .topics import save_checkpoint

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    results = {}
    for name, sh in SHIPPED.items():
        if names and name not in names:
            continue
        if isinstance(sh.config, RBMConfig):
            task = make_task(sh.config, sh.seed, device="cpu")
            Trainer(task, record_every=100).run(steps=sh.steps)
            ev = task.evaluate()
            extra = {"config": sh.config.as_dict(), "steps": sh.steps, **ev}
            ship = task
        elif isinstance(sh.config, StackConfig):
            tasks = label_curve(sh.config, seed=sh.seed, device="cpu")
            curve = {str(n): t.evaluate() for n, t in tasks.items()}
            ev = curve[str(sh.config.labels_per_class)]
            extra = {"config": sh.config.as_dict(), "curve": curve}
            ship = tasks[sh.config.labels_per_class]
        elif isinstance(sh.config, BackboneConfig):   # only the two new heads are stored; the curve is the point
            tasks = {n: run_to_end(sh.config.replace(labels_per_class=n), sh.seed, "cpu") for n in BACKBONE_LABELS}
            curve = {str(n): t.evaluate() for n, t in tasks.items()}
            ev = curve[str(sh.config.labels_per_class)]
            extra = {"config": sh.config.as_dict(), "curve": curve}
            ship = tasks[sh.config.labels_per_class]
        else:
            task = run_to_end(sh.config, sh.seed, device="cpu")
            ev = task.evaluate()
            extra = {"config": sh.config.as_dict(), **ev, "pca_mse": pca_mse(_data(sh.dataset), sh.config.sizes[-1])}
            ship = task
        ship.model = copy.deepcopy(ship.model).half()   # half precision: the files stay small
        save_checkpoint(out_dir / f"{name}.pt", _Module, ship, extra)
        results[name] = {k: round(float(v), 4) for k, v in ev.items()}
    return results


class _Module:
    BUILDER = BUILDER


def load(name_or_source):
    """(model in float32 on the CPU, config, extra) of a shipped name or a checkpoint's bytes/path."""
    src = checkpoints.shipped(name_or_source) if isinstance(name_or_source, str) and name_or_source in SHIPPED \
        else name_or_source
    model, cfg, extra = checkpoints.load(src, expect_builder=BUILDER)
    return model.float(), cfg, extra


def cli_args(command, parser) -> None:
    parser.add_argument("--seconds", type=float, default=None,
                        help="rbm: a time budget (default 10); the comparisons run their whole plan")
    parser.add_argument("--steps", type=int, default=None, help="rbm: a step budget instead")
    if command == "train rbm":
        parser.add_argument("--k", type=int, default=1, help="Gibbs steps per CD update (1..%d)" % MAX_K)
        parser.add_argument("--hidden", type=int, default=64)
        parser.add_argument("--lr", type=float, default=RBMConfig.lr)
        parser.add_argument("--gibbs-steps", type=int, default=1000, help="length of the sampling chains judged")
    else:
        parser.add_argument("--sizes", default="128,64,32", help="hidden layer sizes, bottom to top")
        parser.add_argument("--activation", default="sigmoid", choices=ACTIVATIONS)
        parser.add_argument("--labels-per-class", type=int, default=5)
        parser.add_argument("--pretrain-steps", type=int, default=StackConfig.pretrain_steps)
        parser.add_argument("--finetune-steps", type=int, default=StackConfig.finetune_steps)
        parser.add_argument("--seeds", type=int, default=3, help="repeats (seed, seed+1, ...): mean and std")


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in str(text).replace(" ", "").split(",") if s)
    except ValueError:
        raise InputError(f"Layer sizes must be whole numbers separated by commas, like 128,64,32 (not {text!r}).") \
            from None


def cli_run(command, args) -> dict:
    if command == "train rbm":
        cfg = RBMConfig(hidden=args.hidden, k=args.k, lr=args.lr).check()
        task = make_task(cfg, args.seed, device=args.device)
        start = reconstruction_error(task.model, task.v_test)
        tr = Trainer(task, record_every=50).run(steps=args.steps,
                                                seconds=None if args.steps else (args.seconds or 10.0))
        steps, frames = gibbs_chain(task.model, 100, args.gibbs_steps, torch.Generator().manual_seed(args.seed))
        out = {"k": cfg.k, "hidden": cfg.hidden, "steps": tr.steps, "seconds": round(tr.seconds, 3),
               "recon_error_start": start, "recon_error_end": tr.last_eval["recon_error"],
               "recon_error_drop": 1 - tr.last_eval["recon_error"] / start,
               "free_energy_real_below_shuffled": tr.last_eval["free_energy_real_below_shuffled"],
               "gibbs_steps": args.gibbs_steps, "gibbs_samples_judged_digits": judge_samples(frames[-1])}
    else:
        cfg = StackConfig(sizes=_sizes(args.sizes), activation=args.activation,
                          labels_per_class=args.labels_per_class, pretrain_steps=args.pretrain_steps,
                          finetune_steps=args.finetune_steps, seeds=args.seeds).check()
        t0 = time.perf_counter()
        task = run_to_end(cfg, args.seed, device=args.device)
        ev = task.evaluate()
        out = {**{k: v for k, v in cfg.as_dict().items() if k != "sizes"}, "sizes": ",".join(map(str, cfg.sizes)),
               "seconds": round(time.perf_counter() - t0, 3), "seeds_run": list(range(args.seed, args.seed + cfg.seeds)),
               **{f"accuracy_{m}": ev[m] for m in STACK_METHODS},
               **{f"accuracy_{m}_std": ev[f"{m}_std"] for m in STACK_METHODS}}
    if args.out:
        from .topics import save_checkpoint
        save_checkpoint(args.out, _Module, task, {"config": cfg.as_dict()})
    return out
