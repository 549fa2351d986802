"""Your own input (issue 26): a drawing or a photo of a digit, scaled the way the 8x8 digits were made, and how far
it lies from anything seen in training.

scikit-learn's digits (UCI optdigits) were made from 32x32 black-and-white bitmaps of handwriting, normalised to
fill the box, then cut into 4x4 blocks whose count of inked pixels (0..16) is the 8x8 image. `to_digit` does the
same to a drawing: find the ink, crop it, scale it into the 32x32 box keeping its proportions, centre it, count the
blocks; the result is in [0, 1] like `data.load("digits")` (the counts divided by 16).
"""

from __future__ import annotations

import io

import numpy as np
import torch

from ..errors import InputError

BOX = 32           # the bitmap side the digits were drawn in
CELL = 4           # 4x4 blocks -> 8x8


def _gray(image) -> np.ndarray:
    """Any drawing (RGBA canvas array, RGB/gray array, PIL image or PNG/JPEG bytes) as ink strength in [0, 1]."""
    from PIL import Image

    if isinstance(image, (bytes, bytearray)):
        try:
            image = Image.open(io.BytesIO(image))
        except Exception as e:   # noqa: BLE001
            raise InputError("That file is not an image this page can read (try a PNG or JPEG).") from e
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGBA"))
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 2:
        return a / (255.0 if a.max() > 1 else 1.0)
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise InputError(f"A drawing must be an image (height x width x colours), not an array of shape {a.shape}.")
    scale = 255.0 if a.max() > 1 else 1.0
    rgb = a[..., :3] / scale if a.shape[2] >= 3 else np.repeat(a / scale, 3, 2)
    lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    if a.shape[2] == 4:                      # a transparent canvas: what is not painted is background
        alpha = a[..., 3] / scale
        lum = lum * alpha + (1 - alpha) * (0.0 if _border(lum * alpha) < 0.5 else 1.0)
    return lum


def _border(g: np.ndarray) -> float:
    return float(np.median(np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])))


def to_digit(image, ink: str = "auto", threshold: float | None = None) -> torch.Tensor:
    """(1, 1, 8, 8) in [0, 1], like the digits dataset. `ink`: "light" (light strokes on dark, the canvas),
    "dark" (dark pen on paper, a photo) or "auto" (the border is the background)."""
    from skimage.filters import threshold_otsu
    from skimage.transform import resize

    g = _gray(image)
    if min(g.shape) < 8:
        raise InputError(f"The drawing is {g.shape[1]}x{g.shape[0]} pixels: draw on a larger canvas.")
    if ink == "auto":
        ink = "dark" if _border(g) > 0.5 else "light"
    if ink == "dark":
        g = 1.0 - g
    if float(g.max() - g.min()) < 0.15:
        raise InputError("There is nothing drawn yet (or the photo has no contrast): draw a digit with thick strokes.")
    t = threshold if threshold is not None else max(float(threshold_otsu(g)), 0.2)
    on = g > t
    rows, cols = np.flatnonzero(on.any(1)), np.flatnonzero(on.any(0))
    if on.sum() < 0.002 * on.size or len(rows) < 2:
        raise InputError("The drawing is too small or too faint to read: draw the digit larger.")
    crop = on[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float32)
    h, w = crop.shape
    s = BOX / max(h, w)                           # the longer side fills the box, proportions kept
    hh, ww = max(1, round(h * s)), max(1, round(w * s))
    small = resize(crop, (hh, ww), order=1, anti_aliasing=True) > 0.5
    box = np.zeros((BOX, BOX), np.float32)
    top, left = (BOX - hh) // 2, (BOX - ww) // 2
    box[top:top + hh, left:left + ww] = small
    counts = box.reshape(BOX // CELL, CELL, BOX // CELL, CELL).sum((1, 3))   # 0..16 per block, as in optdigits
    return torch.from_numpy(counts / 16.0).float().view(1, 1, 8, 8)


def nearest(train_codes, z, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances of the k training codes nearest to the code z (Euclidean)."""
    c = np.asarray(train_codes, np.float64)
    d = np.linalg.norm(c - np.asarray(z, np.float64).reshape(1, -1), axis=1)
    idx = np.argsort(d)[:k]
    return idx, d[idx]


def novelty(train_codes, test_codes, z) -> tuple[float, float]:
    """(distance from z to its nearest training code, the share of test images that lie further from theirs).
    A share near 0: the input is further from anything seen in training than almost every real test image."""
    c = np.asarray(train_codes, np.float64)
    t = np.asarray(test_codes, np.float64)[:500]
    d_z = float(nearest(c, z, 1)[1][0])
    d_t = np.sqrt(((t[:, None, :] - c[None, :, :]) ** 2).sum(-1)).min(1)
    return d_z, float((d_t >= d_z).mean())
