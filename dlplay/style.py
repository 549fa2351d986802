"""Neural style transfer (Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks",
CVPR 2016) and the perceptual-distance lesson, on a frozen ImageNet CNN from dlplay.backbones.

The idea in three equations (F^l: the feature maps of layer l, flattened to C_l x M_l, M_l = H_l * W_l):

    content:  L_content = mean_ij (F^l_ij(x) - F^l_ij(c))^2                      (Gatys eq. 1)
    style:    G^l = F^l F^l^T / (C_l M_l)       (Gram matrix: which features fire together, eq. 3)
              L_style = sum_l w_l mean_ij (G^l_ij(x) - G^l_ij(s))^2              (eqs. 4-5)
    total:    L = alpha L_content + beta L_style + gamma TV(x)                    (eq. 7, plus a smoothness term)

and the picture x itself is what is optimised (the network's weights never change).

    task = StyleTransferTask(content_img, style_img, size=256)
    Trainer(task).run(steps=150)
    task.result()                       # (3, H, W) tensor in [0, 1]
"""

from __future__ import annotations

import functools
import io
import math
import time
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter

from . import backbones, limits, viz
from .device import get_device, seed_everything
from .errors import InputError
from .train import Task, Trainer

# -- limits (enforced here, the page's widgets only mirror them) ----------------------------------------------------
MIN_SIDE = 32          # smaller pictures carry too little for a CNN's features
MAX_ASPECT = 3.0       # longer/shorter side; wider or taller pictures are centre-cropped to 3:1 first
MIN_SIZE, MAX_SIZE_CPU, MAX_SIZE_GPU = 64, 512, 1024
MAX_STEPS = 2000
OPTIMIZERS = ("adam", "lbfgs")
INITS = ("content", "noise")


def max_size(device: torch.device | None = None) -> int:
    device = device or get_device()
    return MAX_SIZE_GPU if device.type != "cpu" else MAX_SIZE_CPU


# ------------------------------------------------------------------------------------------------------------------
# Pictures: built-in examples and preparing any picture for the network
# ------------------------------------------------------------------------------------------------------------------

def _brush_strokes(size: int = 384, seed: int = 1) -> Image.Image:
    """Short curved strokes in a night-sky palette, like an impressionist painting (generated, no file)."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (size, size), (20, 40, 90))
    d = ImageDraw.Draw(img)
    palette = [(25, 55, 130), (40, 90, 170), (70, 130, 200), (230, 200, 60), (250, 230, 120), (15, 30, 70),
               (110, 160, 210)]
    for _ in range(1400):
        x, y = rng.uniform(0, size, 2)
        angle = math.atan2(y - size / 2, x - size / 2) + math.pi / 2 + rng.normal(0, 0.3)  # swirl round the centre
        length = rng.uniform(8, 22)
        col = palette[rng.integers(len(palette))]
        pts = [(x + t * length * math.cos(angle + 0.02 * t * length), y + t * length * math.sin(angle + 0.02 * t * length))
               for t in np.linspace(0, 1, 5)]
        d.line(pts, fill=col, width=int(rng.integers(3, 7)))
    return img.filter(ImageFilter.SMOOTH)


def _mosaic(size: int = 384, seed: int = 2, cells: int = 90) -> Image.Image:
    """Stained-glass cells (a Voronoi diagram) in bright colours with dark lead lines."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, size, (cells, 2))
    colours = rng.choice(np.array([[200, 40, 40], [240, 180, 30], [40, 120, 200], [40, 160, 80], [150, 60, 160],
                                   [240, 240, 220]]), cells)
    yy, xx = np.mgrid[0:size, 0:size]
    d = (xx[..., None] - centres[:, 0]) ** 2 + (yy[..., None] - centres[:, 1]) ** 2
    part = np.sort(d, axis=-1)
    owner = d.argmin(-1)
    edge = (np.sqrt(part[..., 1]) - np.sqrt(part[..., 0])) < 3.0
    arr = colours[owner].astype(np.uint8)
    arr[edge] = (25, 25, 25)
    return Image.fromarray(arr)


def _waves(size: int = 384) -> Image.Image:
    """Colourful interfering waves: a smooth, high-contrast texture."""
    yy, xx = np.mgrid[0:size, 0:size] / size * 2 * math.pi
    r = 0.5 + 0.5 * np.sin(5 * xx + 3 * np.sin(2 * yy))
    g = 0.5 + 0.5 * np.sin(4 * yy + 2 * np.cos(3 * xx))
    b = 0.5 + 0.5 * np.sin(3 * (xx + yy))
    return Image.fromarray((np.stack([r, g, b], -1) * 255).astype(np.uint8))


def _sklearn(name: str) -> Image.Image:
    from sklearn.datasets import load_sample_image
    return Image.fromarray(load_sample_image(name))


def _skimage(name: str) -> Image.Image:
    import skimage.data
    arr = getattr(skimage.data, name)()
    img = Image.fromarray(arr)
    return img.convert("RGB")


# name -> (loader, what it is); every one ships with an installed package or is generated here
EXAMPLES = {
    "cat (scikit-image)": (lambda: _skimage("chelsea"), "photo"),
    "astronaut (scikit-image)": (lambda: _skimage("astronaut"), "photo"),
    "coffee (scikit-image)": (lambda: _skimage("coffee"), "photo"),
    "rocket (scikit-image)": (lambda: _skimage("rocket"), "photo"),
    "flower (scikit-learn)": (lambda: _sklearn("flower.jpg"), "photo"),
    "china (scikit-learn)": (lambda: _sklearn("china.jpg"), "photo"),
    "brush strokes (generated)": (_brush_strokes, "texture"),
    "stained glass (generated)": (_mosaic, "texture"),
    "waves (generated)": (_waves, "texture"),
    "cells (scikit-image)": (lambda: _skimage("immunohistochemistry"), "texture"),
    "galaxies (scikit-image)": (lambda: _skimage("hubble_deep_field"), "texture"),
    "bricks (scikit-image)": (lambda: _skimage("brick"), "texture"),
    "gravel (scikit-image)": (lambda: _skimage("gravel"), "texture"),
}
DEFAULT_CONTENT, DEFAULT_STYLE = "cat (scikit-image)", "brush strokes (generated)"


def example(name: str) -> Image.Image:
    """A built-in example picture by its name in EXAMPLES, or the short name before the bracket ('cat')."""
    return _example(_full_name(name)).copy()


def _full_name(name: str) -> str:
    if name in EXAMPLES:
        return name
    for k in EXAMPLES:
        if k.split(" (")[0] == name:
            return k
    raise InputError(f"Unknown example picture {name!r}: choose one of "
                     f"{', '.join(k.split(' (')[0] for k in EXAMPLES)}.")


@functools.lru_cache(maxsize=None)
def _example(name: str) -> Image.Image:
    return EXAMPLES[name][0]()


def to_tensor(img: Image.Image | np.ndarray | torch.Tensor) -> torch.Tensor:
    """A picture as a float tensor (3, H, W) in [0, 1] (PIL image, HxWx3 uint8 array or tensor)."""
    if isinstance(img, Image.Image):
        return backbones.pil_to_tensor(img)
    if isinstance(img, np.ndarray):
        arr = img.astype(np.float32) / (255.0 if img.dtype == np.uint8 else 1.0)
        if arr.ndim == 2:
            arr = np.repeat(arr[..., None], 3, -1)
        return torch.from_numpy(arr[..., :3].copy()).permute(2, 0, 1)
    x = img.float()
    return x[0] if x.ndim == 4 else x


def prepare(img, size: int, what: str = "picture", notes: list[str] | None = None) -> torch.Tensor:
    """Resize a picture so its LONGER side is `size` pixels, keeping its shape (no distortion).

    Pictures more elongated than 3:1 are centre-cropped to 3:1 first (said in `notes`); pictures smaller than
    32 pixels on a side are refused. Returns (1, 3, h, w) in [0, 1], both sides at least 32.
    """
    notes = [] if notes is None else notes
    x = to_tensor(img)
    if x.ndim != 3 or x.shape[0] != 3:
        raise InputError(f"The {what} must be an RGB picture.")
    h, w = x.shape[-2:]
    if min(h, w) < MIN_SIDE:
        raise InputError(f"The {what} is only {w} x {h} pixels; it needs at least {MIN_SIDE} pixels on each side "
                         "for the network to see anything.")
    if max(h, w) / min(h, w) > MAX_ASPECT:
        if w > h:
            nw = int(h * MAX_ASPECT)
            x = x[..., :, (w - nw) // 2:(w - nw) // 2 + nw]
        else:
            nh = int(w * MAX_ASPECT)
            x = x[..., (h - nh) // 2:(h - nh) // 2 + nh, :]
        notes.append(f"The {what} ({w} x {h}) is more elongated than {MAX_ASPECT:g}:1; its centre was cropped to "
                     f"{x.shape[-1]} x {x.shape[-2]} before resizing.")
        h, w = x.shape[-2:]
    s = size / max(h, w)
    nh, nw = max(MIN_SIDE, round(h * s)), max(MIN_SIDE, round(w * s))
    out = F.interpolate(x[None], size=(nh, nw), mode="bilinear", align_corners=False, antialias=s < 1)
    return out.clamp(0, 1)


def to_png(image: torch.Tensor) -> bytes:
    """PNG bytes of one image (3, H, W) or (1, 3, H, W) in [0, 1]."""
    return viz.to_png(image.detach().float().cpu().reshape(1, *image.shape[-3:]), ncols=1)


def to_pil(image: torch.Tensor) -> Image.Image:
    return Image.open(io.BytesIO(to_png(image))).convert("RGB")


# ------------------------------------------------------------------------------------------------------------------
# The losses
# ------------------------------------------------------------------------------------------------------------------

def gram_matrix(f: torch.Tensor) -> torch.Tensor:
    """Gram matrices G = F F^T / (C M) of feature maps f (N, C, H, W) -> (N, C, C) (Gatys eq. 3).

    G_ij is how strongly feature i and feature j fire together, averaged over all positions: where things are is
    forgotten, which textures co-occur is kept. That is the 'style'.
    """
    n, c, h, w = f.shape
    # F^T as (N, M, C): a free view of the channels-last maps the backbone returns (reshaping to (N, C, M) would
    # copy them, forward and backward: 7% of a style-transfer step on a CPU).
    flat_t = f.permute(0, 2, 3, 1).reshape(n, h * w, c)
    return flat_t.transpose(1, 2) @ flat_t / (c * h * w)


def content_loss(f: torch.Tensor, target: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Mean squared difference of feature maps (Gatys eq. 1), divided by `scale` (we use the mean square of the
    target's features, so the loss is a relative error: 0 = same content, about 1-2 = unrelated picture)."""
    return F.mse_loss(f, target) / scale


def style_loss(grams: dict[str, torch.Tensor], targets: dict[str, torch.Tensor],
               scale: dict[str, float] | None = None) -> torch.Tensor:
    """Average over the style layers of the mean squared Gram difference (Gatys eqs. 4-5, equal w_l).

    `scale[l]` divides layer l's term (we use the mean square of the style image's own Gram matrix, so that each
    layer's term is a relative error and layers with large activations do not drown the others).
    """
    terms = [F.mse_loss(grams[k], targets[k]) / (scale[k] if scale else 1.0) for k in targets]
    return torch.stack(terms).mean() if terms else torch.zeros(())


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Total variation: mean absolute difference between neighbouring pixels (keeps the result smooth)."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


# ------------------------------------------------------------------------------------------------------------------
# The optimisation as a Task for the shared Trainer
# ------------------------------------------------------------------------------------------------------------------

@dataclass
class StyleConfig:
    """Every setting of one style-transfer run (hashable, so pages can tell when it changed)."""
    size: int = 256
    backbone: str = "efficientnet-lite0"
    optimizer: str = "adam"
    lr: float = 0.02
    content_weight: float = 1.0
    style_weight: float = 10.0
    tv_weight: float = 2.0
    style_layers: tuple[str, ...] | None = None   # None: the backbone's usual choice
    content_layer: str | None = None
    init: str = "content"

    def check(self, device: torch.device) -> "StyleConfig":
        limits.check_range("Output size", self.size, MIN_SIZE, max_size(device),
                           " pixels on this device" + ("" if device.type != "cpu" else " (a CPU)"))
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"Unknown optimiser {self.optimizer!r}: choose adam or lbfgs.")
        if self.init not in INITS:
            raise InputError(f"Unknown start {self.init!r}: choose content or noise.")
        limits.check_range("Learning rate", self.lr, 1e-4, 1.0)
        for name in ("content_weight", "style_weight", "tv_weight"):
            limits.check_range(name.replace("_", " ").capitalize(), getattr(self, name), 0.0, 1e6)
        if self.style_layers is not None and len(self.style_layers) == 0:
            raise InputError("Choose at least one layer to carry the style.")
        return self


class StyleTransferTask(Task):
    """Optimise the pixels of one picture so its content features match `content` and its Gram matrices `style`.

    One step = one optimiser update of the picture (Adam), or one L-BFGS iteration. Metrics: `content` and
    `style` (the raw losses, before weighting), `tv`, and `loss` (the weighted total that is minimised).
    """

    def __init__(self, content, style, config: StyleConfig | None = None, *, seed: int = 0,
                 device: torch.device | str | None = None, notes: list[str] | None = None, **overrides):
        self.device = torch.device(device) if isinstance(device, str) else (device or get_device())
        cfg = config or StyleConfig()
        if overrides:
            cfg = StyleConfig(**{**cfg.__dict__, **overrides})
        self.config = cfg.check(self.device)
        if style is None:
            raise InputError("Choose or upload a style picture first.")
        if content is None:
            raise InputError("Choose or upload a content picture first.")
        self.notes = [] if notes is None else notes
        self.generator = seed_everything(seed)
        self.bb = backbones.get_backbone(cfg.backbone, self.device)
        self.style_layers = list(cfg.style_layers or self.bb.style_layers) if cfg.style_weight > 0 else []
        self.content_layer = cfg.content_layer or self.bb.content_layer
        self.content_img = prepare(content, cfg.size, "content picture", self.notes).to(self.device)
        self.style_img = prepare(style, cfg.size, "style picture", self.notes).to(self.device)
        layers = self.style_layers + [self.content_layer]
        with torch.no_grad():
            self.content_target = self.bb.features(self.content_img, [self.content_layer])[self.content_layer]
            self.content_scale = float(self.content_target.pow(2).mean()) + 1e-12
            sf = self.bb.features(self.style_img, self.style_layers)
            self.style_targets = {k: gram_matrix(v) for k, v in sf.items()} if self.style_layers else {}
            self.style_scale = {k: float(g.pow(2).mean()) + 1e-12 for k, g in self.style_targets.items()}
        self.layers = layers
        if cfg.init == "content":
            start = self.content_img.clone()
        else:
            start = torch.rand(self.content_img.shape, generator=self.generator).to(self.device)
        self.image = start.requires_grad_(True)
        self.opt = (torch.optim.Adam([self.image], lr=cfg.lr) if cfg.optimizer == "adam" else
                    torch.optim.LBFGS([self.image], lr=1.0, max_iter=1, history_size=20))
        self.last: dict[str, torch.Tensor] = {}

    def losses(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The three losses of picture x (1, 3, H, W) and their weighted sum (Gatys eq. 7 plus TV)."""
        f = self.bb.features(x, self.layers)
        c = content_loss(f[self.content_layer], self.content_target, self.content_scale)
        s = style_loss({k: gram_matrix(f[k]) for k in self.style_layers}, self.style_targets, self.style_scale)
        tv = tv_loss(x)
        cfg = self.config
        s = s.to(c.device)
        return {"loss": cfg.content_weight * c + cfg.style_weight * s + cfg.tv_weight * tv,
                "content": c, "style": s, "tv": tv}

    def step(self):
        def closure():
            self.opt.zero_grad(set_to_none=True)
            out = self.losses(self.image)
            out["loss"].backward()
            self.last = {k: v.detach() for k, v in out.items()}
            return out["loss"]

        self.opt.step(closure)
        with torch.no_grad():
            self.image.clamp_(0, 1)  # keep a valid picture
        return self.last

    def evaluate(self):
        with torch.no_grad():
            return {k: float(v) for k, v in self.losses(self.image).items()}

    def result(self) -> torch.Tensor:
        """The current picture (3, H, W) in [0, 1] on the CPU."""
        return self.image.detach()[0].clamp(0, 1).cpu()

    def state_dict(self):
        return {"image": self.image.detach().clone(), "opt": self.opt.state_dict()}

    def load_state_dict(self, state):
        with torch.no_grad():
            self.image.copy_(state["image"])
        self.opt.load_state_dict(state["opt"])

    @torch.no_grad()
    def reference_losses(self) -> dict[str, float]:
        """Losses of the untouched content picture and of the style picture itself (scales to compare with)."""
        c = self.losses(self.content_img)
        h, w = self.content_img.shape[-2:]
        s_img = F.interpolate(self.style_img, size=(h, w), mode="bilinear", align_corners=False)
        s = self.losses(s_img)
        return {"content_of_content": float(c["content"]), "style_of_content": float(c["style"]),
                "content_of_style": float(s["content"]), "style_of_style": float(s["style"])}


def run_style_transfer(content, style, config: StyleConfig | None = None, *, steps: int = 150, seed: int = 0,
                       device=None, callback=None, notes: list[str] | None = None, **overrides) -> dict:
    """Build the task, run `steps` steps through the Trainer; returns the summary the CLI prints (and the task)."""
    limits.check_range("Steps", steps, 1, MAX_STEPS)
    t0 = time.perf_counter()
    task = StyleTransferTask(content, style, config, seed=seed, device=device, notes=notes, **overrides)
    start = task.evaluate()
    trainer = Trainer(task, record_every=max(1, int(steps) // 50))
    trainer.run(steps=int(steps), callback=callback)
    end = trainer.last_eval
    ref = task.reference_losses()
    return {"seconds": round(time.perf_counter() - t0, 3), "loop_seconds": round(trainer.seconds, 3),
            "steps": trainer.steps, "size": task.config.size, "height": int(task.image.shape[-2]),
            "width": int(task.image.shape[-1]), "backbone": task.bb.name, "optimizer": task.config.optimizer,
            "device": str(task.device), "style_layers": task.style_layers, "content_layer": task.content_layer,
            "content_loss_start": start["content"], "content_loss_end": end["content"],
            "style_loss_start": start["style"], "style_loss_end": end["style"],
            "style_loss_drop": start["style"] / max(end["style"], 1e-12),
            "content_loss_of_style_image": ref["content_of_style"], "notes": list(task.notes),
            "task": task, "trainer": trainer}


# ------------------------------------------------------------------------------------------------------------------
# Looking inside: Gram matrices, feature maps, what each layer carries
# ------------------------------------------------------------------------------------------------------------------

@torch.no_grad()
def gram_view(img, layer: str, *, size: int = 256, n_maps: int = 8, backbone: str = "efficientnet-lite0",
              device=None) -> dict:
    """The Gram matrix of one layer for a picture, plus its most active feature maps (normalised to [0, 1])."""
    bb = backbones.get_backbone(backbone, device)
    if layer not in bb.layers:
        raise InputError(f"Unknown layer {layer!r}: choose from {', '.join(bb.layers)}.")
    x = prepare(img, size, "style picture")
    f = bb.features(x, [layer])[layer].float()
    g = gram_matrix(f)[0].cpu().numpy()
    energy = f[0].pow(2).mean((1, 2))
    idx = energy.argsort(descending=True)[:n_maps]
    maps = f[0, idx].cpu()
    lo = maps.amin((1, 2), keepdim=True)
    hi = maps.amax((1, 2), keepdim=True)
    maps = ((maps - lo) / (hi - lo + 1e-8))[:, None]
    return {"gram": g, "maps": maps, "channels": idx.tolist(), "shape": tuple(f.shape[1:])}


def gram_figure(g: np.ndarray, title: str = "Gram matrix") -> go.Figure:
    """Heatmap of a C x C Gram matrix: bright cells are pairs of features that fire together."""
    fig = go.Figure(go.Heatmap(z=g, colorscale="Viridis", colorbar=dict(title="G_ij"),
                               hovertemplate="feature %{y} x feature %{x}: %{z:.3g}<extra></extra>"))
    fig.update_layout(title=title, height=460, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis=dict(title="feature j", constrain="domain"),
                      yaxis=dict(title="feature i", autorange="reversed", scaleanchor="x"))
    return fig


def layer_comparison(content, style, *, size: int = 128, steps: int = 80, seed: int = 0,
                     backbone: str = "efficientnet-lite0", device=None, lr: float = 0.05) -> list[tuple[str, torch.Tensor]]:
    """Four pictures grown from noise: content from a shallow vs a deep layer, style from one vs several layers."""
    limits.check_range("Size", size, MIN_SIZE, max_size(get_device(device) if isinstance(device, str) or device is None
                                                        else device))
    limits.check_range("Steps", steps, 1, 500)
    bb = backbones.get_backbone(backbone, device)
    shallow, deep = bb.layers[1], bb.layers[-4]            # stage1 vs stage5 / relu1_2 vs relu5_x
    one, several = bb.style_layers[:1], bb.style_layers
    runs = [(f"content from {shallow} (shallow)", dict(content_layer=shallow, style_weight=0.0)),
            (f"content from {deep} (deep)", dict(content_layer=deep, style_weight=0.0)),
            (f"style from {one[0]} only", dict(style_layers=tuple(one), content_weight=0.0)),
            (f"style from {', '.join(several)}", dict(style_layers=tuple(several), content_weight=0.0))]
    out = []
    for title, kw in runs:
        task = StyleTransferTask(content, style, StyleConfig(size=size, backbone=backbone, init="noise", lr=lr,
                                                             tv_weight=0.5, **kw), seed=seed, device=device)
        Trainer(task).run(steps=steps, evaluate=False)
        out.append((title, task.result()))
    return out


# ------------------------------------------------------------------------------------------------------------------
# The perceptual-distance lesson: pixels versus deep features
# ------------------------------------------------------------------------------------------------------------------

def feature_distance(fa: torch.Tensor, fb: torch.Tensor) -> float:
    """Distance of two feature maps: unit-normalise each position's feature vector, then mean squared difference
    (as LPIPS does, without its learnt weights). 0 = identical, 4 = opposite; unrelated pictures ~1-2."""
    na = fa / (fa.norm(dim=1, keepdim=True) + 1e-10)
    nb = fb / (fb.norm(dim=1, keepdim=True) + 1e-10)
    return float((na - nb).pow(2).sum(1).mean())


@torch.no_grad()
def perceptual_table(image, other, *, shifts=(1, 2, 4, 8), size: int = 224, backbone: str = "efficientnet-lite0",
                     device=None, other_name: str = "a different picture") -> list[dict]:
    """Compare a picture with copies shifted right by a few pixels and with a different picture, in pixel MSE and in
    feature distances at an early and a pre-final layer. One dict per comparison."""
    shifts = [int(s) for s in shifts]
    for s_ in shifts:
        limits.check_range("Shift", s_, 0, 32)
    limits.check_range("Size", size, MIN_SIZE, 512)
    bb = backbones.get_backbone(backbone, device)
    m = max(shifts)
    x = prepare(image, size + m, "picture")
    h, w = x.shape[-2], x.shape[-1] - m
    base = x[..., :, :w]
    copies = [x[..., :, s_:s_ + w] for s_ in shifts]          # the same scene, camera moved s pixels
    y = F.interpolate(prepare(other, size + m, "other picture"), size=(h, w), mode="bilinear", align_corners=False)
    batch = torch.cat([base] + copies + [y])
    layers = [bb.shallow_layer, bb.deep_layer]
    feats = bb.features(batch, layers)
    rows = []
    names = [f"shifted by {s_} px" for s_ in shifts] + [other_name]
    for i, name in enumerate(names, start=1):
        rows.append({"compared with": name,
                     "pixel MSE": float((batch[i] - batch[0]).pow(2).mean()),
                     f"feature distance, early ({bb.shallow_layer})": feature_distance(feats[layers[0]][i:i + 1],
                                                                                       feats[layers[0]][:1]),
                     f"feature distance, deep ({bb.deep_layer})": feature_distance(feats[layers[1]][i:i + 1],
                                                                                  feats[layers[1]][:1])})
    return rows


def shift_verdict(rows: list[dict], shift: int = 4) -> dict[str, bool]:
    """For each distance column: is the shifted copy ranked nearer than the different picture?"""
    row = next(r for r in rows if r["compared with"] == f"shifted by {shift} px")
    other = rows[-1]
    return {k: row[k] < other[k] for k in row if k != "compared with"}


# ------------------------------------------------------------------------------------------------------------------
# Command line: python -m dlplay style --content a.jpg --style b.jpg ...
# ------------------------------------------------------------------------------------------------------------------

def _picture(arg: str, what: str):
    """A CLI picture: a built-in example's name, or a file path read like an upload."""
    from pathlib import Path

    from .data import read_image
    if arg in EXAMPLES or any(k.split(" (")[0] == arg for k in EXAMPLES):
        return example(arg)
    p = Path(arg)
    if not p.is_file():
        raise InputError(f"The {what} {arg!r} is neither a file nor a built-in example "
                         f"({', '.join(k.split(' (')[0] for k in EXAMPLES)}).")
    return read_image(p.read_bytes(), min_side=MIN_SIDE)


def cli_args(command: str, parser) -> None:
    parser.add_argument("--content", default="cat", help="content picture: a file or a built-in name (default: cat)")
    parser.add_argument("--style", default="brush strokes", help="style picture: a file or a built-in name")
    parser.add_argument("--size", type=int, default=256, help="longer side of the result in pixels (64-512 on CPU)")
    parser.add_argument("--steps", type=int, default=150, help=f"optimisation steps (1-{MAX_STEPS})")
    parser.add_argument("--backbone", default="efficientnet-lite0", choices=backbones.BACKBONES)
    parser.add_argument("--optimizer", default="adam", choices=OPTIMIZERS)
    parser.add_argument("--lr", type=float, default=0.02, help="Adam's step size on the pixels")
    parser.add_argument("--content-weight", type=float, default=1.0)
    parser.add_argument("--style-weight", type=float, default=10.0)
    parser.add_argument("--tv-weight", type=float, default=2.0)
    parser.add_argument("--init", default="content", choices=INITS, help="start from the content picture or noise")


def cli_run(command: str, args) -> dict:
    device = get_device(args.device)
    notes: list[str] = []
    content, style = _picture(args.content, "content picture"), _picture(args.style, "style picture")
    cfg = StyleConfig(size=args.size, backbone=args.backbone, optimizer=args.optimizer, lr=args.lr,
                      content_weight=args.content_weight, style_weight=args.style_weight, tv_weight=args.tv_weight,
                      init=args.init)
    out = run_style_transfer(content, style, cfg, steps=args.steps, seed=args.seed, device=device, notes=notes)
    task = out.pop("task")
    out.pop("trainer")
    if args.out:
        from pathlib import Path
        Path(args.out).write_bytes(to_png(task.result()))
        out["out"] = str(args.out)
    return out
