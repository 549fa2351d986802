"""Neural style transfer (Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks",
CVPR 2016) and the perceptual-distance lesson, on a frozen ImageNet CNN from dlplay.backbones.

The idea in three equations (F^l: the feature maps of layer l, flattened to C_l x M_l, M_l = H_l * W_l):

    content:  L_content = mean_ij (F^l_ij(x) - F^l_ij(c))^2                      (Gatys eq. 1)
    style:    G^l = F^l F^l^T / (C_l M_l)       (Gram matrix: which features fire together, eq. 3)
              L_style = sum_l w_l mean_ij (G^l_ij(x) - G^l_ij(s))^2              (eqs. 4-5)
    total:    L = alpha L_content + beta L_style + gamma TV(x)                    (eq. 7, plus a smoothness term)

and the picture x itself is what is optimised (the network's weights never change). It starts from the content
picture recoloured to the style picture's colour mean and covariance (Gatys et al. 2017), so Adam's 150 steps go
to the texture. The style-loss drop is measured from the content picture's own style loss; on all 30 ordered pairs
of six offline photos at 256 px and 150 steps it is 10.8x to 40.6x (median 19.7x; 4.8x minimum before the
colour-matched start), checked by the slow-marked test in tests/test_style.py and by bench/bench_style.py.

    cfg = StyleConfig(content="cat", style="brush strokes")      # or content_upload=<the file's bytes>
    task = make_task(cfg, seed=0)                                # the topic contract (dlplay/topics.py)
    Trainer(task).run(steps=150)
    task.result()                       # (3, H, W) tensor in [0, 1]
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import hashlib
import io
import math
import threading
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter

from . import backbones, limits, viz
from .device import autocast, get_device, seed_everything
from .data.uploads import MAX_UPLOAD_BYTES
from .errors import InputError
from .topics import Config, Shipped
from .train import Task, Trainer

TITLE = "Style transfer"
SHIPPED: dict[str, Shipped] = {}     # nothing to ship: the network is ImageNet's, the picture is optimised live

# -- limits (enforced here, the page's widgets only mirror them) ----------------------------------------------------
MIN_SIDE = 32          # smaller pictures carry too little for a CNN's features
MAX_ASPECT = 3.0       # longer/shorter side; wider or taller pictures are centre-cropped to 3:1 first
MIN_SIZE, MAX_SIZE_CPU, MAX_SIZE_GPU = 64, 512, 1024
MAX_STEPS = 2000
OPTIMIZERS = ("adam", "lbfgs")
INITS = ("colour-matched content", "content", "noise")


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


MAX_MEGAPIXELS = 8          # uploads above this are refused before decoding (an 8 MP photo decodes to 24 MB)
KEEP_SIDE = MAX_SIZE_GPU    # decoded uploads are kept at most this long on their longer side (the largest output)


def read_picture(data: bytes) -> tuple[Image.Image, tuple[str, ...]]:
    """Decode an uploaded picture (at most MAX_MEGAPIXELS megapixels, at least MIN_SIDE px a side): (RGB image,
    notes on what was converted). Cached per file (by its SHA-1), so a rerun of the page does not decode it again;
    the cached copy is shrunk to KEEP_SIDE px on its longer side, so the cache holds at most a few MB per file."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise InputError("The picture's file is empty.")
    return _DECODED.get(hashlib.sha1(data).hexdigest(), bytes(data))


def _decode(data: bytes):
    from .data import read_image

    notes: list[str] = []
    img = read_image(data, max_pixels=MAX_MEGAPIXELS * 1_000_000, min_side=MIN_SIDE, notes=notes)
    if max(img.size) > KEEP_SIDE:
        img = img.copy()
        img.thumbnail((KEEP_SIDE, KEEP_SIDE), Image.Resampling.LANCZOS)
    return img, tuple(notes)


class _DigestCache:
    """The last `maxsize` decoded uploads, keyed by the file's SHA-1 (thread-safe; bad files are not cached)."""

    def __init__(self, maxsize: int = 8):
        self.maxsize, self.items, self.lock = maxsize, collections.OrderedDict(), threading.Lock()
        self.decodes = 0     # how many files were actually decoded (tests check that a rerun decodes nothing)

    def get(self, digest: str, data: bytes):
        with self.lock:
            if digest in self.items:
                self.items.move_to_end(digest)
                return self.items[digest]
        value = _decode(data)
        with self.lock:
            self.decodes += 1
            self.items[digest] = value
            while len(self.items) > self.maxsize:
                self.items.popitem(last=False)
        return value


_DECODED = _DigestCache()


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


def match_colours(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """x (1, 3, H, W) recoloured so its colours have the mean and the 3 x 3 covariance of ref's: the linear colour
    transfer x' = A (x - mu_x) + mu_ref with A = S_ref^(1/2) S_x^(-1/2) (Gatys et al. 2017, "Controlling Perceptual
    Factors in Neural Style Transfer", section 5.1). Optimising pixels changes fine texture quickly but the colours of
    a whole picture slowly, so starting from the content picture in the style's colours leaves the optimiser the
    texture to do."""
    def stats(t: torch.Tensor):
        f = t.reshape(3, -1).double()
        m = f.mean(1, keepdim=True)
        cov = (f - m) @ (f - m).T / f.shape[1] + 1e-5 * torch.eye(3, dtype=f.dtype, device=f.device)
        e, v = torch.linalg.eigh(cov)
        return m, v, e.clamp(min=1e-8)

    mx, vx, ex = stats(x[0])
    mr, vr, er = stats(ref[0])
    a = vr @ torch.diag(er.sqrt()) @ vr.T @ vx @ torch.diag(ex.rsqrt()) @ vx.T
    out = a @ (x[0].reshape(3, -1).double() - mx) + mr
    return out.reshape(x.shape).to(x.dtype).clamp(0, 1)


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Total variation: mean absolute difference between neighbouring pixels (keeps the result smooth)."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


# ------------------------------------------------------------------------------------------------------------------
# The optimisation as a Task for the shared Trainer
# ------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StyleConfig(Config):
    """Every setting of one style-transfer run, pictures included, as plain data (the topic contract).

    A picture is a built-in example's name, or the bytes of an uploaded file (which then replace the example);
    `make_task` decodes them (cached per file, at most MAX_MEGAPIXELS)."""
    content: str = DEFAULT_CONTENT
    style: str = DEFAULT_STYLE
    content_upload: bytes = b""
    style_upload: bytes = b""
    size: int = 256
    backbone: str = "efficientnet-lite0"
    optimizer: Literal["adam", "lbfgs"] = "adam"
    lr: float = 0.015               # measured over the 30 photo pairs: 0.03 and 0.02 end further from the style
    schedule_steps: int = 0         # > 0: Adam's step size falls along a cosine over this many steps
                                    # (measured: no better than constant on the photo pairs)
    content_weight: float = 1.0
    style_weight: float = 10.0
    tv_weight: float = 2.0
    style_layers: tuple[str, ...] | None = None   # None: the backbone's usual choice
    content_layer: str | None = None
    init: Literal["colour-matched content", "content", "noise"] = "colour-matched content"

    def check(self) -> "StyleConfig":
        self.in_range("size", MIN_SIZE, MAX_SIZE_GPU, "output size")
        self.one_of("optimizer", OPTIMIZERS, "optimiser")
        self.one_of("init", INITS, "start")
        self.one_of("backbone", backbones.BACKBONES, "network")
        self.in_range("lr", 1e-4, 1.0, "learning rate")
        self.in_range("schedule_steps", 0, MAX_STEPS, "schedule length")
        for name in ("content_weight", "style_weight", "tv_weight"):
            self.in_range(name, 0.0, 1e6)
        if self.style_layers is not None and len(self.style_layers) == 0 and self.style_weight > 0:
            raise InputError("Choose at least one layer to carry the style (or set the style weight to 0).")
        for name in ("content_upload", "style_upload"):
            if len(getattr(self, name)) > MAX_UPLOAD_BYTES:
                raise InputError(f"The {name.split('_')[0]} picture's file is over {MAX_UPLOAD_BYTES // 2**20} MB.")
        return self

    def check_device(self, device: torch.device) -> None:
        limits.check_range("Output size", self.size, MIN_SIZE, max_size(device),
                           " pixels on this device" + ("" if device.type != "cpu" else " (a CPU)"))

    def picture(self, which: str, notes: list[str] | None = None) -> Image.Image:
        """The content or style picture: the upload if there is one, else the built-in example."""
        data = getattr(self, f"{which}_upload")
        if data:
            img, why = read_picture(data)
            if notes is not None:
                notes.extend(n for n in why if n not in notes)
            return img
        return _example(_full_name(getattr(self, which)))


def make_task(config: StyleConfig, seed: int = 0, device=None) -> "StyleTransferTask":
    """A fresh style-transfer run (the topic contract): the pictures come from the config."""
    config = config.check()
    notes: list[str] = []
    return StyleTransferTask(config.picture("content", notes), config.picture("style", notes), config, seed=seed,
                             device=device, notes=notes)


class StyleTransferTask(Task):
    """Optimise the pixels of one picture so its content features match `content` and its Gram matrices `style`.

    One step = one optimiser update of the picture (Adam), or one L-BFGS iteration. Metrics: `content` and
    `style` (the raw losses, before weighting), `tv`, and `loss` (the weighted total that is minimised).
    """

    def __init__(self, content, style, config: StyleConfig | None = None, *, seed: int = 0,
                 device: torch.device | str | None = None, notes: list[str] | None = None, **overrides):
        self.device = get_device(device)     # a name or a torch.device; CUDA gets cudnn.benchmark and TF32
        cfg = config or StyleConfig()
        if overrides:
            cfg = dataclasses.replace(cfg, **overrides)
        self.config = cfg = cfg.check()
        cfg.check_device(self.device)
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
        self.layers = self.style_layers + [self.content_layer]
        with torch.no_grad():
            self.content_target = self.bb.features(self.content_img, [self.content_layer])[self.content_layer]
            self.content_scale = float(self.content_target.pow(2).mean()) + 1e-12
            sf = self.bb.features(self.style_img, self.style_layers) if self.style_layers else {}
            self.style_targets = {k: gram_matrix(v) for k, v in sf.items()}
            self.style_scale = {k: float(g.pow(2).mean()) + 1e-12 for k, g in self.style_targets.items()}
        if cfg.init == "content":
            start = self.content_img.clone()
        elif cfg.init == "colour-matched content":
            start = match_colours(self.content_img, self.style_img)
        else:
            start = torch.rand(self.content_img.shape, generator=self.generator).to(self.device)
        self.image = start.requires_grad_(True)
        if cfg.optimizer == "adam":
            self.opt = torch.optim.Adam([self.image], lr=cfg.lr)
            n = cfg.schedule_steps
            # cosine decay of the step size from lr to lr/20 over n steps, then constant (0: no schedule)
            self.sched = (torch.optim.lr_scheduler.LambdaLR(
                self.opt, lambda t: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(t, n) / n))) if n else None)
        else:
            self.opt = torch.optim.LBFGS([self.image], lr=1.0, max_iter=1, history_size=20)
            self.sched = None
        self.last: dict[str, torch.Tensor] = {}

    def losses(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The three losses of picture x (1, 3, H, W) and their weighted sum (Gatys eq. 7 plus TV)."""
        with autocast(x.device):   # bfloat16 features on a GPU with $DLPLAY_AMP=1 (device.autocast); else nothing
            f = self.bb.features(x, self.layers)
        f = {k: v.float() for k, v in f.items()}     # Gram matrices and losses in float32 either way
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
        if self.sched is not None:
            self.sched.step()
        with torch.no_grad():
            self.image.clamp_(0, 1)  # keep a valid picture
        return {**self.last, "lr": self.opt.param_groups[0]["lr"]}

    def evaluate(self):
        with torch.no_grad():
            return {k: float(v) for k, v in self.losses(self.image).items()}

    def result(self) -> torch.Tensor:
        """The current picture (3, H, W) in [0, 1] on the CPU."""
        return self.image.detach()[0].clamp(0, 1).cpu()

    def state_dict(self):
        return {"image": self.image.detach().clone(), "opt": self.opt.state_dict(),
                "sched": self.sched.state_dict() if self.sched else None}

    def load_state_dict(self, state):
        with torch.no_grad():
            self.image.copy_(state["image"])
        self.opt.load_state_dict(state["opt"])
        if self.sched is not None and state.get("sched"):
            self.sched.load_state_dict(state["sched"])

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
            # the drop is measured from the content picture itself (whatever the start), so every start is
            # judged by how much closer in style the result is than the photo it began as
            "style_loss_of_content_image": ref["style_of_content"], "style_loss_start": start["style"],
            "style_loss_end": end["style"], "style_loss_drop": ref["style_of_content"] / max(end["style"], 1e-12),
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


@dataclass
class LayerResult:
    title: str
    image: torch.Tensor          # (3, H, W) in [0, 1]
    pixel_mse: float             # mean squared pixel difference to the picture it was asked to match
    caption: str


def layer_comparison(content, style, *, size: int = 128, steps: int = 100, seed: int = 0,
                     backbone: str = "efficientnet-lite0", device=None, lr: float = 0.1,
                     callback=None) -> list[LayerResult]:
    """Four pictures grown from the same noise: the content of a shallow vs a deep layer only (no style term), and
    the Gram matrices of one shallow layer vs several layers only (no content term).

    Each result carries its pixel MSE to the picture it matched: shallow content rebuilds the pixels themselves
    (a small MSE), deep content only what the deep layer keeps (a larger MSE; see the pictures for what survives).
    `callback(i, n)` is called after each of the four runs (for a progress bar)."""
    device = get_device(device) if isinstance(device, str) or device is None else device
    limits.check_range("Size", size, MIN_SIZE, max_size(device))
    limits.check_range("Steps", steps, 1, 500)
    if content is None or style is None:
        raise InputError("Choose or upload both pictures first.")
    bb = backbones.get_backbone(backbone, device)
    shallow, deep = bb.layers[1], bb.layers[-4]            # stage1 vs stage5 / relu1_2 vs relu5_x
    one, several = bb.style_layers[:1], bb.style_layers
    runs = [(f"content from {shallow} (shallow)", "content", dict(content_layer=shallow, style_weight=0.0)),
            (f"content from {deep} (deep)", "content", dict(content_layer=deep, style_weight=0.0)),
            (f"style from {one[0]} only", "style", dict(style_layers=tuple(one), content_weight=0.0)),
            (f"style from {', '.join(several)}", "style", dict(style_layers=tuple(several), content_weight=0.0))]
    out = []
    for i, (title, target, kw) in enumerate(runs):
        cfg = StyleConfig(size=size, backbone=backbone, init="noise", lr=lr, schedule_steps=steps, tv_weight=0.5,
                          **kw)
        task = StyleTransferTask(content, style, cfg, seed=seed, device=device)
        Trainer(task).run(steps=steps, evaluate=False)
        img = task.result()
        ref = (task.content_img if target == "content" else
               F.interpolate(task.style_img, size=img.shape[-2:], mode="bilinear", align_corners=False))[0].cpu()
        mse = float((img - ref).pow(2).mean())
        out.append(LayerResult(title, img, mse, f"pixel MSE to the {target} picture: {mse:.3f}"))
        if callback is not None:
            callback(i + 1, len(runs))
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


def shift_ratios(rows: list[dict], shift: int = 4) -> dict[str, float]:
    """For each distance column: (distance to the shifted copy) / (distance to the different picture). Below 1 the
    shift is ranked nearer; the smaller, the more clearly that measure sees the same picture."""
    row = next(r for r in rows if r["compared with"] == f"shifted by {shift} px")
    other = rows[-1]
    return {k: row[k] / max(other[k], 1e-12) for k in row if k != "compared with"}


def shift_survey(names=None, shift: int = 4, size: int = 160, backbone: str = "efficientnet-lite0",
                 device=None) -> list[dict]:
    """The shift lesson on every ordered pair of built-in pictures: one dict per pair with the pixel-MSE ratio and
    the deep-feature ratio (shifted / different). What the page states about pixels versus deep features is what
    holds over these pairs (bench/bench_style.py reports the spread)."""
    names = list(names or EXAMPLES)
    out = []
    for a in names:
        for b in names:
            if a == b:
                continue
            rows = perceptual_table(example(a), example(b), shifts=(shift,), size=size, backbone=backbone,
                                    device=device)
            r = shift_ratios(rows, shift)
            deep = next(k for k in r if "deep" in k)
            out.append({"picture": a, "other": b, "pixel": r["pixel MSE"], "deep": r[deep]})
    return out


# ------------------------------------------------------------------------------------------------------------------
# Command line: python -m dlplay style --content a.jpg --style b.jpg ...
# ------------------------------------------------------------------------------------------------------------------

def _picture(arg: str, what: str):
    """A CLI picture: a built-in example's name, or a file path read like an upload."""
    from pathlib import Path

    if arg in EXAMPLES or any(k.split(" (")[0] == arg for k in EXAMPLES):
        return example(arg)
    p = Path(arg)
    if not p.is_file():
        raise InputError(f"The {what} {arg!r} is neither a file nor a built-in example "
                         f"({', '.join(k.split(' (')[0] for k in EXAMPLES)}).")
    return read_picture(p.read_bytes())[0]


def cli_args(command: str, parser) -> None:
    parser.add_argument("--content", default="cat", help="content picture: a file or a built-in name (default: cat)")
    parser.add_argument("--style", default="brush strokes", help="style picture: a file or a built-in name")
    parser.add_argument("--size", type=int, default=256, help="longer side of the result in pixels (64-512 on CPU)")
    parser.add_argument("--steps", type=int, default=150, help=f"optimisation steps (1-{MAX_STEPS})")
    parser.add_argument("--backbone", default="efficientnet-lite0", choices=backbones.BACKBONES)
    parser.add_argument("--optimizer", default="adam", choices=OPTIMIZERS)
    parser.add_argument("--lr", type=float, default=StyleConfig.lr, help="Adam's step size on the pixels")
    parser.add_argument("--content-weight", type=float, default=1.0)
    parser.add_argument("--style-weight", type=float, default=10.0)
    parser.add_argument("--tv-weight", type=float, default=2.0)
    parser.add_argument("--init", default=StyleConfig.init, choices=INITS,
                        help="start from the content picture in the style's colours (default), as it is, or noise")
    parser.add_argument("--schedule-steps", type=int, default=0,
                        help="> 0: Adam's step size falls along a cosine over this many steps")


def cli_run(command: str, args) -> dict:
    device = get_device(args.device)
    notes: list[str] = []
    content, style = _picture(args.content, "content picture"), _picture(args.style, "style picture")
    cfg = StyleConfig(size=args.size, backbone=args.backbone, optimizer=args.optimizer, lr=args.lr,
                      content_weight=args.content_weight, style_weight=args.style_weight, tv_weight=args.tv_weight,
                      init=args.init, schedule_steps=args.schedule_steps)
    out = run_style_transfer(content, style, cfg, steps=args.steps, seed=args.seed, device=device, notes=notes)
    task = out.pop("task")
    out.pop("trainer")
    if args.out:
        from pathlib import Path
        Path(args.out).write_bytes(to_png(task.result()))
        out["out"] = str(args.out)
    return out
