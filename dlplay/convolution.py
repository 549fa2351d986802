"""Convolutional networks, layer by layer: shapes, strides, padding, pooling, and what each layer sees.

A network is written as a short stack of layers, the way the lecture draws it:

    "conv(12,3,1,1) relu pool(2) fc(10)"      # conv(depth, kernel, stride, padding, dilation), pool(kernel, stride)

`layer_table(stack, (3, 32, 32))` returns, for every layer, its output shape [C, H, W] with the formula filled
in, its parameter count and its receptive field on the input; a stack whose output size is not a whole number,
or shrinks to nothing, is refused with an InputError naming the layer and the numbers. The arithmetic is the
lecture's (CS231n's "Convolutional Neural Networks" notes):

    output side  W_out = (W - F_eff + 2P) / S + 1,    F_eff = D (F - 1) + 1   (dilation D spreads the kernel)
    parameters   C_out (C_in F^2 + 1)                (one bias per filter)
    receptive field  r_l = r_{l-1} + (F_eff - 1) j_{l-1},  j_l = j_{l-1} S   (j: the input pixels between two
                                                                              neighbouring outputs)

`make_task(CNNConfig(stack=...), seed)` trains the stack as a digit classifier (cross-entropy) through the shared
engine. The module also has the other lessons of the page: one filter stepping across a small input
(`conv_walk`), max-pooling with its switches and the two unpoolings, transposed convolution as a convolution over
a zero-stuffed input (`transposed_as_conv`), and what the layers of the offline ImageNet network respond to
(`backbone_maps`, `top_patches`, and `make_visualise_task` for gradient ascent on one channel).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch import nn
from torch.nn import functional as F

from .data import on_device
from . import topics
from .device import get_device, seed_everything
from .errors import InputError
from .topics import Config, Shipped
from .train import Batches, ModelTask, Task

TITLE = "Convolutional layers: shapes, strides, padding, pooling and what each layer sees"
BUILDER = "dlplay.convolution:build_model"

DEFAULT_STACK = "conv(12,3,1,1) relu pool(2) fc(10)"      # the lecture's stack (on 32x32x3 it is 32-16-1x1x10)
TRAIN_STACK = "conv(16,3,1,1) relu pool(2) conv(32,3,1,1) relu pool(2) fc(10)"
PRESETS = {
    "The lecture's stack: conv, ReLU, pool, fc": DEFAULT_STACK,
    "Two conv blocks (the shipped digit model)": TRAIN_STACK,
    "Strides instead of pooling": "conv(16,4,2,1) relu conv(32,4,2,1) relu fc(10)",
    "Dilated convolutions: wide view, few weights": "conv(8,3,1,1) relu conv(8,3,1,2,2) relu conv(8,3,1,4,4) relu fc(10)",
    "Average pooling and a hidden fc layer": "conv(8,5,1,2) relu avgpool(2) flatten fc(64) relu fc(10)",
    "Broken: stride 2 does not fit": "conv(12,3,2,0) relu pool(2) fc(10)",
}

# Limits (checked in parse/layer_table; the page's widgets only mirror them)
MAX_LAYERS = 16
MAX_DEPTH = 256
MAX_KERNEL = 15
MAX_STRIDE = 8
MAX_PADDING = 8
MAX_DILATION = 8
MAX_UNITS = 4096
MAX_PARAMS = 2_000_000
MAX_MULTIPLY_ADDS = 300_000_000   # per input picture: keeps one forward pass under about a second on a laptop CPU
MAX_SIDE = 512

# name -> (canonical kind, argument names, defaults for the trailing ones); pool's stride defaults to its kernel
_KINDS = {
    "conv": ("conv", ("depth", "kernel", "stride", "padding", "dilation"), (1, 0, 1)),
    "relu": ("relu", (), ()),
    "pool": ("maxpool", ("kernel", "stride"), (None,)),
    "maxpool": ("maxpool", ("kernel", "stride"), (None,)),
    "avgpool": ("avgpool", ("kernel", "stride"), (None,)),
    "flatten": ("flatten", (), ()),
    "fc": ("fc", ("units",), ()),
    "linear": ("fc", ("units",), ()),
}
KIND_HELP = {
    "conv": "conv(depth, kernel, stride=1, padding=0, dilation=1)",
    "relu": "relu",
    "maxpool": "pool(kernel, stride=kernel) or maxpool(...)",
    "avgpool": "avgpool(kernel, stride=kernel)",
    "flatten": "flatten",
    "fc": "fc(units) (also linear(units); flattens its input)",
}


@dataclass(frozen=True)
class Layer:
    """One layer of a stack: its kind and its integer arguments (all filled in)."""
    kind: str
    args: tuple[int, ...] = ()

    def __str__(self) -> str:
        if self.kind in ("relu", "flatten"):
            return self.kind
        name = {"maxpool": "pool"}.get(self.kind, self.kind)
        args = list(self.args)
        if self.kind == "conv":   # drop trailing defaults: conv(12,3,1,1) stays, conv(12,3,1,0,1) -> conv(12,3,1)
            while len(args) > 2 and args[-1] == (1, 0, 1)[len(args) - 3]:
                args.pop()
        if self.kind in ("maxpool", "avgpool") and args[1] == args[0]:
            args = args[:1]
        return f"{name}({','.join(map(str, args))})"

    @property
    def k_eff(self) -> int:
        """The kernel's extent on the input: F for pooling, D (F - 1) + 1 for a dilated convolution."""
        if self.kind == "conv":
            return self.args[4] * (self.args[1] - 1) + 1
        return self.args[0]


_TOKEN = re.compile(r"\s*([A-Za-z_]+)\s*(?:\(([^()]*)\))?\s*(?:,|->|→)?")


def parse_stack(text: str) -> list[Layer]:
    """'conv(12,3,1,1) relu pool(2) fc(10)' -> a list of Layers; InputError saying what is wrong otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("The network is empty: write at least one layer, e.g. conv(12,3,1,1) relu pool(2) fc(10).")
    if len(text) > 2000:
        raise InputError("The network description is too long (over 2,000 characters).")
    if text.count("(") != text.count(")"):
        raise InputError(f"Cannot read the network {text.strip()!r}: a bracket is not closed (or one too many).")
    layers, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InputError(f"Cannot read the network at {text[pos:pos + 20].strip()!r}: write layers like "
                             "conv(12,3,1,1), relu, pool(2), avgpool(2), flatten, fc(10), separated by spaces.")
        pos = m.end()
        name, raw = m.group(1).lower(), m.group(2)
        n = len(layers) + 1
        if name not in _KINDS:
            raise InputError(f"Layer {n}: unknown layer {m.group(1)!r}; the layers are "
                             f"{', '.join(KIND_HELP.values())}.")
        kind, names, defaults = _KINDS[name]
        vals = [] if raw is None or not raw.strip() else [v.strip() for v in raw.split(",")]
        try:
            nums = [int(v) for v in vals]
        except ValueError:
            raise InputError(f"Layer {n}, {name}({raw}): the arguments must be whole numbers.") from None
        need = len(names) - len(defaults)
        if not need <= len(nums) <= len(names):
            want = f"{need}" if need == len(names) else f"{need} to {len(names)}"
            raise InputError(f"Layer {n}, {name}({raw or ''}): it takes {want} numbers "
                             f"({KIND_HELP[kind]}), not {len(nums)}.")
        nums += list(defaults[len(nums) - need:])
        if kind in ("maxpool", "avgpool") and nums[1] is None:
            nums[1] = nums[0]
        layer = Layer(kind, tuple(nums))
        _check_args(layer, n)
        layers.append(layer)
        if len(layers) > MAX_LAYERS:
            raise InputError(f"The network has more than {MAX_LAYERS} layers; that is the limit here.")
    if not layers:
        raise InputError("The network is empty: write at least one layer, e.g. conv(12,3,1,1) relu pool(2) fc(10).")
    return layers


def _check_args(layer: Layer, n: int) -> None:
    bounds = {"depth": (1, MAX_DEPTH), "kernel": (1, MAX_KERNEL), "stride": (1, MAX_STRIDE),
              "padding": (0, MAX_PADDING), "dilation": (1, MAX_DILATION), "units": (1, MAX_UNITS)}
    names = _KINDS[{"maxpool": "pool"}.get(layer.kind, layer.kind)][1]
    for name, v in zip(names, layer.args):
        lo, hi = bounds[name]
        if not lo <= v <= hi:
            raise InputError(f"Layer {n}, {layer}: {name} = {v} is out of range; it must be between {lo} and {hi}.")


def stack_text(layers: Sequence[Layer]) -> str:
    return " ".join(map(str, layers))


def parse_input(text: str) -> tuple[int, int, int]:
    """'32x32x3' (H x W x C, as the lecture writes it) -> (C, H, W)."""
    m = re.fullmatch(r"\s*(\d+)\s*[x×,]\s*(\d+)\s*(?:[x×,]\s*(\d+))?\s*", str(text))
    if not m:
        raise InputError(f"Cannot read the input size {text!r}: write it as height x width x channels, e.g. 32x32x3.")
    h, w, c = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE and 1 <= c <= 16):
        raise InputError(f"The input {h}x{w}x{c} is out of range: sides 1 to {MAX_SIDE}, 1 to 16 channels.")
    return c, h, w


# ------------------------------------------------------------------------------------------------------------------
# The arithmetic: shapes, parameters, receptive fields
# ------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerInfo:
    index: int                    # 0 is the input
    layer: str                    # the layer as written, canonical ("input" for the input)
    kind: str
    shape: tuple[int, int, int]   # output [C, H, W] (an fc layer's output is [units, 1, 1], as the lecture draws it)
    params: int                   # weights + biases
    rf: int                       # receptive field: the side of the input square one output value depends on
    jump: int                     # input pixels between two neighbouring output values
    start: float                  # input coordinate of the centre of output value (0, 0)'s receptive field
    formula: str                  # the size formula filled in

    def as_dict(self) -> dict:
        return {"layer": self.layer, "shape": list(self.shape), "params": self.params, "receptive_field": self.rf,
                "formula": self.formula}


def _side(layer: Layer, w: int, n: int, axis: str) -> tuple[int, str]:
    """One side of a conv/pool output, exactly (W - F + 2P)/S + 1, or InputError naming the numbers."""
    if layer.kind == "conv":
        _, f, s, p, d = layer.args
    else:
        (f, s), p, d = layer.args, 0, 1
    fe = d * (f - 1) + 1
    num = w - fe + 2 * p
    fstr = f"{d}·({f}-1)+1" if d > 1 else f"{f}"
    text = f"({w} - {fstr} + 2·{p})/{s} + 1" if p or layer.kind == "conv" else f"({w} - {fstr})/{s} + 1"
    if num < 0:
        raise InputError(f"Layer {n}, {layer}: the input is only {w} pixels {axis}, smaller than the "
                         f"{fe}-pixel kernel{' (dilated)' if d > 1 else ''} even with padding {p}: "
                         f"{text} = {num / s + 1:g}, so there is no output left. Use a smaller kernel or stride, "
                         "more padding, or remove a pooling layer before it.")
    if num % s:
        raise InputError(f"Layer {n}, {layer}: {text} = {num / s + 1:g} is not a whole number: the {fe}-pixel "
                         f"window does not fit evenly into {w} pixels {axis} with stride {s}"
                         f"{f' and padding {p}' if p else ''}. Change the stride, the kernel size or the padding.")
    return num // s + 1, f"{text} = {num // s + 1}"


def layer_table(layers: str | Sequence[Layer], input_shape: Sequence[int]) -> list[LayerInfo]:
    """Every layer's output shape, formula, parameters and receptive field (row 0 is the input)."""
    if isinstance(layers, str):
        layers = parse_stack(layers)
    c, h, w = (int(v) for v in input_shape)
    rows = [LayerInfo(0, "input", "input", (c, h, w), 0, 1, 1, 0.0, f"{h}x{w}x{c} input")]
    rf, jump, start, total, flat, macs = 1, 1, 0.0, 0, False, 0
    for n, layer in enumerate(layers, start=1):
        params = 0
        if layer.kind in ("conv", "maxpool", "avgpool"):
            if flat:
                raise InputError(f"Layer {n}, {layer}: it needs a 2-D map, but layer {n - 1} already flattened "
                                 "the maps into a vector. Put convolutions and pooling before fc/flatten.")
            h2, fh = _side(layer, h, n, "high")
            w2, fw = _side(layer, w, n, "wide")
            formula = f"H: {fh}" if h == w else f"H: {fh}; W: {fw}"
            pad = layer.args[3] if layer.kind == "conv" else 0
            start = start + ((layer.k_eff - 1) / 2 - pad) * jump
            rf += (layer.k_eff - 1) * jump
            jump *= layer.args[1] if layer.kind != "conv" else layer.args[2]
            if layer.kind == "conv":
                depth, f = layer.args[0], layer.args[1]
                params = depth * (c * f * f + 1)
                macs += depth * h2 * w2 * c * f * f
                formula += f"; depth {depth}; params {depth}·({c}·{f}·{f} + 1) = {params:,}"
                c = depth
            h, w = h2, w2
        elif layer.kind == "relu":
            formula = "max(0, x): same shape"
        elif layer.kind == "flatten":
            formula = f"{c}·{h}·{w} = {c * h * w:,} numbers in a row"
            c, h, w, flat = c * h * w, 1, 1, True
        else:  # fc: every output sees the whole map, like a convolution with an H x W kernel
            units = layer.args[0]
            n_in = c * h * w
            params = units * (n_in + 1)
            start = start + (h - 1) / 2 * jump
            rf += (max(h, w) - 1) * jump
            formula = f"{units} units, each sees all {n_in:,} inputs; params {units}·({n_in:,} + 1) = {params:,}"
            c, h, w, flat = units, 1, 1, True
        total += params
        if layer.kind == "fc":
            macs += params
        if macs > MAX_MULTIPLY_ADDS:
            raise InputError(f"Layer {n}, {layer}: the network now needs {macs / 1e6:,.0f} million multiply-adds "
                             f"per picture, over the limit of {MAX_MULTIPLY_ADDS / 1e6:,.0f} million here. Use fewer "
                             "filters, or a stride or pooling earlier.")
        if total > MAX_PARAMS:
            raise InputError(f"Layer {n}, {layer}: the network now has {total:,} parameters, over the limit of "
                             f"{MAX_PARAMS:,}. Use fewer filters or units, or pool before the fc layer.")
        rows.append(LayerInfo(n, str(layer), layer.kind, (c, h, w), params, rf, jump, start, formula))
    return rows


def shapes_json(stack: str, input_shape: Sequence[int]) -> dict:
    rows = layer_table(stack, input_shape)
    return {"input": list(rows[0].shape), "layers": [r.as_dict() for r in rows[1:]],
            "params": sum(r.params for r in rows), "output": list(rows[-1].shape)}


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
        from .data import load
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


SHIPPED = {"cnn_digits": Shipped("cnn_digits", "digits", CNNConfig(), 1500)}


def pretrain(out_dir=None) -> dict:
    import sys
    return topics.pretrain_shipped(sys.modules[__name__], out_dir)


def load(source):
    """(model, config, extra) of a checkpoint written by this module."""
    from . import checkpoints
    return checkpoints.load(source, expect_builder=BUILDER)


def load_shipped(name: str = "cnn_digits"):
    from . import checkpoints
    return load(checkpoints.shipped(name))


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


# ------------------------------------------------------------------------------------------------------------------
# One filter stepping across the input
# ------------------------------------------------------------------------------------------------------------------

KERNELS = {
    "vertical edges": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "horizontal edges": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "blur (box)": [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "diagonal": [[2, -1, -1], [-1, 2, -1], [-1, -1, 2]],
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}


@dataclass(frozen=True)
class ConvWalk:
    padded: np.ndarray         # the input after zero padding (H + 2P, W + 2P)
    kernel: np.ndarray         # (F, F)
    output: np.ndarray         # (H_out, W_out): y[i, j] = sum_{a,b} x_pad[iS + a, jS + b] k[a, b]
    stride: int
    padding: int
    note: str                  # '' or why the last rows/columns are never visited

    @property
    def positions(self) -> int:
        return self.output.size

    def position(self, t: int) -> tuple[int, int]:
        return divmod(int(t) % self.positions, self.output.shape[1])

    def window(self, t: int) -> np.ndarray:
        i, j = self.position(t)
        f, s = self.kernel.shape[0], self.stride
        return self.padded[i * s:i * s + f, j * s:j * s + f]

    def sum_text(self, t: int) -> str:
        """The multiply-and-add of output value t written out."""
        i, j = self.position(t)
        terms = [f"{a:g}·{b:g}" for a, b in zip(self.window(t).ravel(), self.kernel.ravel())]
        return f"y[{i},{j}] = " + " + ".join(terms) + f" = {self.output[i, j]:g}"


def conv_walk(x, kernel, stride: int = 1, padding: int = 0) -> ConvWalk:
    """Cross-correlation (what deep learning calls convolution) of a 2-D x with a 2-D kernel, every output kept."""
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    if x.ndim != 2 or k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise InputError("The step-by-step convolution needs a 2-D input and a square 2-D kernel.")
    if not (1 <= stride <= 4 and 0 <= padding <= 4):
        raise InputError(f"stride {stride} / padding {padding}: use a stride of 1 to 4 and a padding of 0 to 4.")
    f = k.shape[0]
    xp = np.pad(x, padding)
    if xp.shape[0] < f or xp.shape[1] < f:
        raise InputError(f"The {f}x{f} kernel does not fit into the {xp.shape[0]}x{xp.shape[1]} padded input.")
    ho, wo = (xp.shape[0] - f) // stride + 1, (xp.shape[1] - f) // stride + 1
    out = np.array([[(xp[i * stride:i * stride + f, j * stride:j * stride + f] * k).sum() for j in range(wo)]
                    for i in range(ho)])
    left = (xp.shape[1] - f) % stride
    note = ""
    if left:
        note = (f"(W - F + 2P)/S + 1 = ({x.shape[1]} - {f} + 2·{padding})/{stride} + 1 = "
                f"{(x.shape[1] - f + 2 * padding) / stride + 1:g} is not a whole number: the window never reaches "
                f"the last {left} column(s) and row(s); a layer in the builder refuses this, torch silently drops them.")
    return ConvWalk(xp, k, out, stride, padding, note)


def walk_figure(walk: ConvWalk, t: int) -> go.Figure:
    """Padded input with the current window, the kernel, and the output filled in up to position t."""
    i, j = walk.position(t)
    f, s = walk.kernel.shape[0], walk.stride
    shown = np.full(walk.output.shape, np.nan)
    flat = shown.reshape(-1)
    flat[:t % walk.positions + 1] = walk.output.reshape(-1)[:t % walk.positions + 1]
    fig = make_subplots(1, 3, subplot_titles=(f"input, zero-padded by {walk.padding}", "kernel",
                                              f"output {walk.output.shape[0]}x{walk.output.shape[1]}"),
                        column_widths=[0.45, 0.2, 0.35], horizontal_spacing=0.06)
    for col, arr, cs in ((1, walk.padded, "Greys"), (2, walk.kernel, "RdBu"), (3, shown, "Viridis")):
        text = np.where(np.isnan(arr), "", np.vectorize(lambda v: f"{v:g}")(np.nan_to_num(arr)))
        fig.add_trace(go.Heatmap(z=arr, colorscale=cs, showscale=False, text=text, texttemplate="%{text}",
                                 reversescale=cs == "Greys", hoverinfo="skip"), 1, col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", showticklabels=False,
                         row=1, col=col)
        fig.update_xaxes(showticklabels=False, row=1, col=col)
    p = walk.padding
    if p:
        h, w = walk.padded.shape
        fig.add_shape(type="rect", x0=p - 0.5, y0=p - 0.5, x1=w - p - 0.5, y1=h - p - 0.5,
                      line=dict(color="#888", dash="dot"), row=1, col=1)
    fig.add_shape(type="rect", x0=j * s - 0.5, y0=i * s - 0.5, x1=j * s + f - 0.5, y1=i * s + f - 0.5,
                  line=dict(color="#e4572e", width=3), row=1, col=1)
    fig.add_shape(type="rect", x0=j - 0.5, y0=i - 0.5, x1=j + 0.5, y1=i + 0.5, line=dict(color="#e4572e", width=3),
                  row=1, col=3)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10))
    return fig


# ------------------------------------------------------------------------------------------------------------------
# Pooling, unpooling, transposed convolution
# ------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pooling:
    pooled: torch.Tensor          # (H/k, W/k) max of each k x k block
    switches: torch.Tensor        # (H, W) 1 where a block's maximum was (the "switch" remembered for unpooling)
    unpooled_switches: torch.Tensor   # each max put back at its switch, zeros elsewhere
    unpooled_repeat: torch.Tensor     # each max copied into its whole block (nearest-neighbour upsampling)


def pool_unpool(x: torch.Tensor, k: int = 2) -> Pooling:
    """Max-pooling of a 2-D map with its switches, and the two ways back (Zeiler & Fergus 2011 / Noh et al. 2015)."""
    x = torch.as_tensor(x, dtype=torch.float32)
    h, w = x.shape[-2:]
    if not 2 <= k <= 4 or h % k or w % k:
        raise InputError(f"Pooling {h}x{w} by {k}: the pool size must be 2 to 4 and divide both sides.")
    x4 = x.reshape(1, 1, h, w)
    pooled, idx = F.max_pool2d(x4, k, k, return_indices=True)
    back = F.max_unpool2d(pooled, idx, k, k, output_size=(h, w))
    switches = torch.zeros(h * w)
    switches[idx.flatten()] = 1
    rep = pooled.repeat_interleave(k, 2).repeat_interleave(k, 3)
    return Pooling(pooled[0, 0], switches.view(h, w), back[0, 0], rep[0, 0])


def zero_stuff(x: torch.Tensor, stride: int) -> torch.Tensor:
    """Put stride - 1 zeros between neighbouring pixels of x (N, C, H, W): (N, C, (H-1)S+1, (W-1)S+1)."""
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, (h - 1) * stride + 1, (w - 1) * stride + 1)
    out[:, :, ::stride, ::stride] = x
    return out


@dataclass(frozen=True)
class Transposed:
    stuffed: torch.Tensor      # the zero-stuffed and padded input the plain convolution runs over
    direct: torch.Tensor       # F.conv_transpose2d(x, w, stride, padding)
    via_conv: torch.Tensor     # F.conv2d(stuffed, w flipped and transposed)
    max_diff: float


def transposed_as_conv(x: torch.Tensor, weight: torch.Tensor, stride: int = 2, padding: int = 0) -> Transposed:
    """A transposed convolution equals a plain convolution (stride 1) over the input with S - 1 zeros stuffed
    between pixels and F - 1 - P zeros around it, with the kernel flipped in both directions and its in/out
    channels swapped (Dumoulin & Visin 2016, "A guide to convolution arithmetic", relationship 14).
    x: (N, C_in, H, W); weight: (C_in, C_out, F, F) as conv_transpose2d takes it. Output side (W - 1)S - 2P + F.
    Both are computed in float64, so the printed difference is the two methods', not float32's rounding (about
    1e-5 for sums of a few dozen products of order 1)."""
    x, weight = x.double(), weight.double()
    f = weight.shape[-1]
    if padding > f - 1:
        raise InputError(f"padding {padding} is larger than kernel - 1 = {f - 1}: the transposed output would be cut "
                         "more than the kernel adds.")
    h, w = x.shape[-2:]
    if min(h, w) < 1 or (min(h, w) - 1) * stride - 2 * padding + f < 1:
        raise InputError(f"(W - 1)S - 2P + F = ({min(h, w)} - 1)·{stride} - 2·{padding} + {f} is below 1: the "
                         "padding cuts away the whole output. Use less padding or a larger input.")
    direct = F.conv_transpose2d(x, weight, stride=stride, padding=padding)
    q = f - 1 - padding
    stuffed = F.pad(zero_stuff(x, stride), (q, q, q, q))
    via = F.conv2d(stuffed, weight.flip(-1, -2).transpose(0, 1))
    return Transposed(stuffed, direct, via, float((direct - via).abs().max()))


def grids_figure(panels: dict[str, np.ndarray], height: int = 300, text: bool = True,
                 colorscale: str = "Viridis") -> go.Figure:
    """Several small 2-D arrays side by side as heat maps with their values written in."""
    names = list(panels)
    fig = make_subplots(1, len(names), subplot_titles=names, horizontal_spacing=0.04)
    for col, name in enumerate(names, start=1):
        arr = np.asarray(panels[name], dtype=float)
        tt = np.vectorize(lambda v: f"{v:.2g}")(arr) if text and arr.size <= 400 else None
        fig.add_trace(go.Heatmap(z=arr, colorscale=colorscale, showscale=False, text=tt,
                                 texttemplate="%{text}" if tt is not None else None, hoverinfo="z"), 1, col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", showticklabels=False,
                         row=1, col=col)
        fig.update_xaxes(showticklabels=False, row=1, col=col)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def receptive_field_figure(image: torch.Tensor, rows: list[LayerInfo], title: str = "") -> go.Figure:
    """The input picture with each conv/pool layer's receptive field (of its centre output value) drawn on it."""
    img = image[0] if image.ndim == 4 else image
    arr = (img.permute(1, 2, 0).clamp(0, 1).numpy() * 255).astype(np.uint8)
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, 2)
    fig = go.Figure(go.Image(z=arr, hoverinfo="skip"))
    colours = ["#e4572e", "#17bebb", "#ffc914", "#76b041", "#2e282a", "#a23b72", "#3f88c5", "#f18f01"]
    for n, r in enumerate(rows[1:]):
        if r.kind in ("relu", "flatten"):
            continue
        ci, cj = (r.shape[1] - 1) // 2, (r.shape[2] - 1) // 2
        cy, cx = r.start + ci * r.jump, r.start + cj * r.jump
        half = r.rf / 2
        col = colours[n % len(colours)]
        fig.add_shape(type="rect", x0=cx - half, x1=cx + half, y0=cy - half, y1=cy + half,
                      line=dict(color=col, width=2))
        fig.add_annotation(x=cx + half, y=cy - half, text=f"{r.index}: {r.rf}px", showarrow=False,
                           font=dict(color=col, size=11), xanchor="left", yanchor="bottom")
    h, w = arr.shape[:2]
    pad = max(h, w) * 0.6
    fig.update_xaxes(range=[-pad, w + pad], showticklabels=False)
    fig.update_yaxes(range=[h + pad, -pad], showticklabels=False, scaleanchor="x")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40 if title else 10, b=10), title=title or None)
    return fig


# ------------------------------------------------------------------------------------------------------------------
# What the layers of a pretrained ImageNet network see
# ------------------------------------------------------------------------------------------------------------------

SHALLOW, MIDDLE, DEEP = "stem", "stage3", "stage6"
LITE0_CHANNELS = {"stem": 32, "stage1": 16, "stage2": 24, "stage3": 40, "stage4": 80, "stage5": 112,
                  "stage6": 192, "stage7": 320, "head": 1280}


def lite0_layers() -> list[Layer]:
    """EfficientNet-Lite0's spatial arithmetic as a stack (1x1 convolutions do not change the receptive field)."""
    from .backbones import LITE0_STAGES
    layers = [Layer("conv", (32, 3, 2, 1, 1))]
    for k, s, _, _, c_out, r in LITE0_STAGES:
        for i in range(r):
            layers.append(Layer("conv", (c_out, k, s if i == 0 else 1, k // 2, 1)))
    return layers


def lite0_receptive_fields() -> dict[str, int]:
    """Receptive field (pixels) of one value at each named EfficientNet-Lite0 layer, by the same recurrence as
    layer_table (padding moves a receptive field but does not change its size)."""
    from .backbones import LITE0_STAGES
    layers = lite0_layers()
    ends = np.cumsum([r for *_, r in LITE0_STAGES]).tolist()     # index of each stage's last block
    rf, jump, out = 1, 1, {}
    for idx, layer in enumerate(layers):
        rf += (layer.k_eff - 1) * jump
        jump *= layer.args[2]
        if idx == 0:
            out["stem"] = rf
        elif idx in ends:
            out[f"stage{ends.index(idx) + 1}"] = rf
    out["head"] = rf
    return out


def backbone_input(img, side: int = 224) -> torch.Tensor:
    """A PIL picture as (1, 3, H, W) in [0, 1] with its short side resized to `side` (a 512x512 upload -> 224)."""
    from PIL import Image
    w, h = img.size
    s = side / min(w, h)
    img = img.convert("RGB").resize((max(32, round(w * s)), max(32, round(h * s))), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(img, np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()


@torch.no_grad()
def backbone_maps(x: torch.Tensor, layers: Sequence[str] = (SHALLOW, MIDDLE, DEEP), top: int = 8,
                  device=None) -> dict[str, tuple[torch.Tensor, list[int]]]:
    """For each layer: its `top` most active channels' maps (top, 1, H, W) scaled to [0, 1], and their indices."""
    from .backbones import get_backbone
    bb = get_backbone("efficientnet-lite0", device)
    feats = bb.features(x, list(layers))
    out = {}
    for name in layers:
        f = feats[name][0].float().cpu()
        order = f.mean((1, 2)).argsort(descending=True)[:top].tolist()
        out[name] = (map_tiles(f[order], top), order)
    return out


PATCH, PATCH_STRIDE, PATCH_IMAGE = 64, 32, 256


@functools.cache
def patch_bank() -> torch.Tensor:
    """Patches (N, 3, 64, 64) cut from the built-in photos and textures (each centre-cropped to 256x256)."""
    from . import style
    out = []
    for name in style.EXAMPLES:
        x = picture_input(style.example(name), PATCH_IMAGE)[0]
        p = x.unfold(1, PATCH, PATCH_STRIDE).unfold(2, PATCH, PATCH_STRIDE)   # (3, n, n, 64, 64)
        out.append(p.permute(1, 2, 0, 3, 4).reshape(-1, 3, PATCH, PATCH))
    return torch.cat(out)


_PATCH_SCORES: dict[str, dict[str, torch.Tensor]] = {}


def patch_scores_ready(device=None) -> bool:
    return str(device) in _PATCH_SCORES


@torch.no_grad()
def patch_scores(layer: str, device=None, batch: int = 64, progress=None) -> torch.Tensor:
    """(N_patches, C) mean activation of every channel of `layer` on every patch of the bank. All named layers
    are computed in one pass the first time (a few seconds on a CPU; `progress(fraction)` is told), then cached."""
    from .backbones import get_backbone
    key = str(device)
    if key not in _PATCH_SCORES:
        bb = get_backbone("efficientnet-lite0", device)
        bank = patch_bank()
        names = list(LITE0_CHANNELS)
        parts: dict[str, list[torch.Tensor]] = {n: [] for n in names}
        for i in range(0, len(bank), batch):
            feats = bb.features(bank[i:i + batch], names)
            for n in names:
                parts[n].append(feats[n].float().mean((2, 3)).cpu())
            if progress is not None:
                progress(min(1.0, (i + batch) / len(bank)))
        _PATCH_SCORES[key] = {n: torch.cat(v) for n, v in parts.items()}
    return _PATCH_SCORES[key][layer]


def top_patches(layer: str, channel: int, k: int = 12, device=None) -> tuple[torch.Tensor, list[float]]:
    """The k patches of the bank that most activate one channel, and their mean activations."""
    if layer not in LITE0_CHANNELS:
        raise InputError(f"Unknown layer {layer!r}: choose one of {', '.join(LITE0_CHANNELS)}.")
    if not 0 <= channel < LITE0_CHANNELS[layer]:
        raise InputError(f"Layer {layer} has channels 0 to {LITE0_CHANNELS[layer] - 1}, not {channel}.")
    s = patch_scores(layer, device)[:, channel]
    v, i = s.topk(k)
    return patch_bank()[i], [float(a) for a in v]


@dataclass(frozen=True)
class VisConfig(Config):
    """Gradient ascent on the input: find a picture that excites one channel of one layer."""
    layer: str = MIDDLE
    channel: int = 0
    size: int = 96
    lr: float = 0.05
    jitter: int = 4

    def check(self):
        self.one_of("layer", list(LITE0_CHANNELS))
        self.in_range("channel", 0, LITE0_CHANNELS[self.layer] - 1)
        self.in_range("size", 32, 224, "picture size")
        self.in_range("lr", 1e-4, 1.0, "learning rate")
        self.in_range("jitter", 0, 16)
        return self


class VisTask(Task):
    """Maximise the mean activation of channel c at layer l over the picture, x = sigmoid(u):
        u <- u + lr * grad_u mean_{h,w} A_{l,c}(jitter(x)) - small L2 on u
    (Erhan et al. 2009; with random jitter so the picture does not become a pixel-level adversarial pattern)."""

    def __init__(self, config: VisConfig, seed: int = 0, device=None):
        from .backbones import get_backbone
        self.config = config
        self.generator = seed_everything(seed)
        self.bb = get_backbone("efficientnet-lite0", device)
        dev = self.bb.device
        self.u = (0.1 * torch.randn(1, 3, config.size, config.size, generator=self.generator)).to(dev)
        self.u.requires_grad_(True)
        self.opt = torch.optim.Adam([self.u], lr=config.lr)

    def step(self):
        c = self.config
        dx, dy = (torch.randint(-c.jitter, c.jitter + 1, (2,), generator=self.generator).tolist()
                  if c.jitter else (0, 0))
        x = torch.sigmoid(torch.roll(self.u, (dy, dx), (2, 3)))
        act = self.bb.features(x, [c.layer])[c.layer][0, c.channel].mean()
        loss = -act + 1e-3 * self.u.pow(2).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"activation": act.detach()}

    @torch.no_grad()
    def picture(self) -> torch.Tensor:
        """The current picture (1, 3, H, W) in [0, 1], on the CPU (a copy)."""
        return torch.sigmoid(self.u.detach()).cpu()

    def state_dict(self):
        return {"u": self.u.detach().clone(), "opt": self.opt.state_dict(), "rng": self.generator.get_state()}

    def load_state_dict(self, s):
        with torch.no_grad():
            self.u.copy_(s["u"])
        self.opt.load_state_dict(s["opt"])
        self.generator.set_state(s["rng"])

    @torch.no_grad()
    def evaluate(self):
        c = self.config
        return {"activation": float(self.bb.features(self.picture(), [c.layer])[c.layer][0, c.channel].mean())}


def make_visualise_task(config: VisConfig, seed: int = 0, device=None) -> VisTask:
    return VisTask(config.check(), seed, device)


# ------------------------------------------------------------------------------------------------------------------
# Command line: `cnn shapes "..." --input 32x32x3` and `train cnn`
# ------------------------------------------------------------------------------------------------------------------

def cli_args(command, parser) -> None:
    if command == "cnn":
        parser.add_argument("action", choices=["shapes"], help="shapes: each layer's output shape, parameters and "
                                                               "receptive field")
        parser.add_argument("stack", help='the layers, e.g. "conv(12,3,1,1) relu pool(2) fc(10)"')
        parser.add_argument("--input", default="32x32x3", help="input height x width x channels (default 32x32x3)")
    else:
        topics.add_config_args(parser, CNNConfig)
        topics.add_budget_args(parser, seconds=20.0)


def cli_run(command, args) -> dict:
    if command == "cnn":
        out = shapes_json(args.stack, parse_input(args.input))
        if not args.json:   # a readable table instead of nested JSON
            rows = layer_table(args.stack, parse_input(args.input))
            lines = [f"  {r.index:>2}  {r.layer:<18} {r.shape[1]:>4} x {r.shape[2]:<4} x {r.shape[0]:<6} "
                     f"params {r.params:>10,}  RF {r.rf:>4}  {r.formula}" for r in rows]
            return {"network": "\n" + "\n".join(lines), "params": out["params"], "output": out["output"]}
        return out
    import sys
    task, summary = topics.cli_train(sys.modules[__name__], args)
    return summary
