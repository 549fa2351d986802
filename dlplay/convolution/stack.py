"""A network as a short stack of layers: parsing the text ("conv(12,3,1,1) relu pool(2) fc(10)"), the limits it is
checked against, and the arithmetic (CS231n's "Convolutional Neural Networks" notes):

    output side  W_out = (W - F_eff + 2P) / S + 1,    F_eff = D (F - 1) + 1   (dilation D spreads the kernel)
    parameters   C_out (C_in F^2 + 1)                (one bias per filter)
    receptive field  r_l = r_{l-1} + (F_eff - 1) j_{l-1},  j_l = j_{l-1} S
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ..errors import InputError


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
