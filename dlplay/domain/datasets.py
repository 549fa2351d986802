"""The two domains, made offline. The *source* is scikit-learn's handwritten digits, upsampled and labelled. The
*target* is other digit images of the same set, redrawn "in the wild": inverted (dark digits on light grey), or
composited over random crops of the bundled photographs in the spirit of MNIST-M (Ganin & Lempitsky 2015): each pixel
is |photo - digit| per colour channel, plus noise. Target labels are used only to score, never to train."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ..errors import InputError
from ..limits import check_range


TARGETS = {
    "inverted": "Inverted: dark digits on a light, noisy grey background. A simple change, yet the source-only network "
                "reads almost none of them, and matching features helps little here (measured).",
    "photo": "Photo textures: |photo crop - digit| in colour over the bundled photographs, plus noise "
             "(MNIST-M style). Adversarial adaptation helps here (measured).",
}
MIN_SIZE, MAX_SIZE = 12, 32
PHOTOS = ("china", "flower", "astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field")


# -- the two domains -----------------------------------------------------------------------------------------------
@dataclass
class Domains:
    """Source (labelled) and target (labels only for scoring) images, (N, 3, S, S) in [0, 1].

    The digit images are split: the source's training digits and the target's training digits are different
    images of the same set; the two test sets are the same held-out test digits drawn in each domain (so the
    source/target accuracy gap is due to the domain alone)."""

    target: str
    size: int
    xs_train: torch.Tensor
    ys_train: torch.Tensor
    xt_train: torch.Tensor
    yt_train: torch.Tensor      # never used to train: only the page's "what the target digits are" captions
    xs_test: torch.Tensor
    ys_test: torch.Tensor
    xt_test: torch.Tensor
    yt_test: torch.Tensor


@functools.cache
def _photos() -> tuple[np.ndarray, ...]:
    """The bundled colour photographs (scikit-learn and scikit-image), float32 (H, W, 3) in [0, 1], halved in size
    so a crop of 24-64 pixels holds texture rather than one flat patch."""
    from PIL import Image
    from skimage import data as skd
    from sklearn.datasets import load_sample_image

    out = []
    for name in PHOTOS:
        img = load_sample_image(f"{name}.jpg") if name in ("china", "flower") else getattr(skd, name)()
        img = Image.fromarray(np.asarray(img)[..., :3])
        img = img.resize((max(64, img.width // 2), max(64, img.height // 2)), Image.BILINEAR)
        out.append(np.asarray(img, np.float32) / 255.0)
    return tuple(out)


def _upsample(x: torch.Tensor, size: int) -> torch.Tensor:
    """(N, 1, 8, 8) grey digits -> (N, 3, size, size), bilinear."""
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1).expand(-1, 3, -1, -1)


def render_target(digits: torch.Tensor, target: str, size: int, seed: int) -> torch.Tensor:
    """Draw clean grey digits (N, 1, 8, 8) in the target domain: (N, 3, size, size) in [0, 1]."""
    if target not in TARGETS:
        raise InputError(f"Unknown target domain {target!r}: choose one of {', '.join(TARGETS)}.")
    rng = np.random.default_rng(seed)
    x = _upsample(digits, size).numpy()
    n = len(x)
    if target == "inverted":
        # Dark strokes on a light grey background of random brightness, plus pixel noise.
        bg = rng.uniform(0.55, 0.95, (n, 1, 1, 1)).astype(np.float32)
        out = bg * (1 - x) + rng.normal(0, 0.05, x.shape).astype(np.float32)
        return torch.from_numpy(np.clip(out, 0, 1).astype(np.float32))
    photos = _photos()
    crops = np.empty((n, 3, size, size), np.float32)
    for i in range(n):
        p = photos[rng.integers(len(photos))]
        side = int(rng.integers(24, 65))
        r, c = rng.integers(0, p.shape[0] - side + 1), rng.integers(0, p.shape[1] - side + 1)
        patch = torch.from_numpy(np.ascontiguousarray(p[r:r + side, c:c + side].transpose(2, 0, 1)))[None]
        crops[i] = F.interpolate(patch, size=(size, size), mode="area")[0].numpy()
    out = np.abs(crops - x)                                   # MNIST-M's blend: the digit inverts the photo
    out += rng.normal(0, 0.04, out.shape).astype(np.float32)
    return torch.from_numpy(np.clip(out, 0, 1).astype(np.float32))


@functools.cache
def domains(target: str = "photo", size: int = 16) -> Domains:
    """The two domains at this image size (fixed data: the same for every run and seed; cached)."""
    from ..data import load

    if target not in TARGETS:
        raise InputError(f"Unknown target domain {target!r}: choose one of {', '.join(TARGETS)}.")
    check_range("image size", size, MIN_SIZE, MAX_SIZE, " pixels")
    d = load("digits")
    perm = torch.from_numpy(np.random.default_rng(1234).permutation(len(d.x_train)))
    src, tgt = perm[: len(perm) // 2], perm[len(perm) // 2:]
    return Domains(target, size,
                   xs_train=_upsample(d.x_train[src], size).contiguous(), ys_train=d.y_train[src],
                   xt_train=render_target(d.x_train[tgt], target, size, seed=1), yt_train=d.y_train[tgt],
                   xs_test=_upsample(d.x_test, size).contiguous(), ys_test=d.y_test,
                   xt_test=render_target(d.x_test, target, size, seed=2), yt_test=d.y_test)
