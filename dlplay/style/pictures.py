"""Pictures for style transfer: the size limits, the built-in examples, decoding an upload (cached per file), and
preparing any picture for the network (resized on its longer side, elongated ones centre-cropped)."""

from __future__ import annotations

import collections
import functools
import hashlib
import io
import math
import threading

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter

from .. import backbones, viz
from ..device import get_device
from ..errors import InputError

# -- limits (enforced here, the page's widgets only mirror them) ----------------------------------------------------
MIN_SIDE = 32          # smaller pictures carry too little for a CNN's features
MAX_ASPECT = 3.0       # longer/shorter side; wider or taller pictures are centre-cropped to 3:1 first
MIN_SIZE, MAX_SIZE_CPU, MAX_SIZE_GPU = 64, 512, 1024


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
    from ..data import read_image

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
