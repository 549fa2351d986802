"""The network built from a stack (one module per layer), trained as a digit classifier through the shared engine,
and what is looked at in it: feature maps, first-layer filters, accuracy, pictures as inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..data import on_device
from ..device import get_device, seed_everything
from ..topics import Config
from ..train import Batches, ModelTask
from .stack import TRAIN_STACK, Layer, layer_table, parse_stack


# ------------------------------------------------------------------------------------------------------------------
# The network built from a stack, and training it on the digits
# ------------------------------------------------------------------------------------------------------------------

class Dense(nn.Linear):
    """A fully connected layer that flattens its input first (so every layer of a stack is one module)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.flatten(1))


def _module(layer: Layer, c_in: int, n_in: int) -> nn.Module:
    if layer.kind == "conv":
        d, f, s, p, dil = layer.args
        return nn.Conv2d(c_in, d, f, stride=s, padding=p, dilation=dil)
    if layer.kind == "maxpool":
        return nn.MaxPool2d(layer.args[0], layer.args[1])
    if layer.kind == "avgpool":
        return nn.AvgPool2d(layer.args[0], layer.args[1])
    if layer.kind == "relu":
        return nn.ReLU()
    if layer.kind == "flatten":
        return nn.Flatten()
    return Dense(n_in, layer.args[0])


def classifier_stack(stack: str, n_classes: int = 10) -> list[Layer]:
    """The stack as trained: an fc(n_classes) is added unless the stack already ends with one."""
    layers = parse_stack(stack)
    if not (layers[-1].kind == "fc" and layers[-1].args[0] == n_classes):
        layers.append(Layer("fc", (n_classes,)))
    return layers


def build_model(stack: str, input_shape=(1, 8, 8), n_classes: int | None = 10) -> nn.Sequential:
    """The stack as an nn.Sequential with one module per layer (n_classes: add the classifier's fc if missing)."""
    layers = classifier_stack(stack, n_classes) if n_classes else parse_stack(stack)
    rows = layer_table(layers, input_shape)
    mods = [_module(layer, rows[i].shape[0], math.prod(rows[i].shape)) for i, layer in enumerate(layers)]
    return nn.Sequential(*mods)


@dataclass(frozen=True)
class CNNConfig(Config):
    """One training run of a stack on the digits (8x8x1, 10 classes)."""
    stack: str = TRAIN_STACK
    dataset: str = "digits"
    lr: float = 3e-3
    batch_size: int = 64
    weight_decay: float = 0.0

    def check(self):
        self.one_of("dataset", ["digits"])
        self.in_range("lr", 1e-5, 0.1, "learning rate")
        self.in_range("batch_size", 1, 1024, "batch size")
        self.in_range("weight_decay", 0.0, 0.1, "weight decay")
        layer_table(classifier_stack(self.stack), (1, 8, 8))   # InputError naming the layer if it does not fit
        return self


class CNNTask(ModelTask):
    """Cross-entropy L = -1/N sum_i log softmax(f(x_i))_{y_i} on minibatches of digits, Adam."""

    def __init__(self, config: CNNConfig, seed: int = 0, device=None):
        from ..data import load
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        data = load(config.dataset)
        self.model_config = {"stack": config.stack, "input_shape": list(data.image_shape),
                             "n_classes": len(data.class_names)}
        self.model = build_model(**self.model_config).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.x, self.y = on_device(data.x_train, self.device), on_device(data.y_train, self.device)
        self.x_test, self.y_test = on_device(data.x_test, self.device), on_device(data.y_test, self.device)
        self.batches = Batches(len(self.x), config.batch_size, self.generator, device=self.device)

    def step(self):
        idx = self.batches.next()
        logits = self.model(self.x[idx])
        loss = F.cross_entropy(logits, self.y[idx])
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss, "train_acc": (logits.argmax(1) == self.y[idx]).float().mean()}

    @torch.no_grad()
    def evaluate(self):
        logits = self.model(self.x_test)   # no dropout or batch norm: no train/eval switch needed
        return {"test_loss": F.cross_entropy(logits, self.y_test).item(),
                "test_acc": (logits.argmax(1) == self.y_test).float().mean().item()}


def make_task(config: CNNConfig, seed: int = 0, device=None) -> CNNTask:
    return CNNTask(config.check(), seed, device)


@torch.no_grad()
def feature_maps(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """The output of every layer of a stack for images x (N, C, H, W), as CPU tensors (the model is not moved)."""
    dev = next(model.parameters()).device if any(True for _ in model.parameters()) else torch.device("cpu")
    out, h = [], x.to(dev)
    for m in model:
        h = m(h)
        out.append(h.detach().cpu())
    return out


@torch.no_grad()
def first_filters(model: nn.Sequential) -> torch.Tensor | None:
    """The first convolution's filters (C_out, C_in, F, F), each scaled to [0, 1] for display; None if no conv."""
    conv = next((m for m in model if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        return None
    w = conv.weight.detach().cpu().clone()
    if w.shape[1] not in (1, 3):
        w = w[:, :1]
    lo, hi = w.amin((1, 2, 3), keepdim=True), w.amax((1, 2, 3), keepdim=True)
    return (w - lo) / (hi - lo + 1e-8)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    dev = next(model.parameters()).device
    return (model(x.to(dev)).argmax(1).cpu() == y.cpu()).float().mean().item()


def random_model(stack: str, input_shape, seed: int = 0) -> nn.Sequential:
    """The stack with seeded random (untrained) weights, for looking at feature maps of any input."""
    torch.manual_seed(seed)
    return build_model(stack, input_shape, n_classes=None).eval()


def picture_input(img, size: int = 32) -> torch.Tensor:
    """A PIL picture as (1, 3, size, size) in [0, 1]: centre square crop, then resized (antialiased)."""
    from PIL import Image
    w, h = img.size
    s = min(w, h)
    img = img.convert("RGB").crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(img, np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()


def map_tiles(maps: torch.Tensor, limit: int = 16) -> torch.Tensor:
    """(C, H, W) feature maps -> (min(C, limit), 1, H, W) images, each scaled to [0, 1] on its own."""
    m = maps[:limit].float()
    lo, hi = m.amin((1, 2), keepdim=True), m.amax((1, 2), keepdim=True)
    return ((m - lo) / (hi - lo + 1e-8))[:, None]
