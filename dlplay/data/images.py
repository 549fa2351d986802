"""Image datasets by name. Every loader returns the same `ImageData`: float tensors in [0, 1] shaped (N, C, H, W)."""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError


@dataclass
class ImageData:
    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    class_names: list[str]
    description: str = ""
    # Known generating factors per split (procedural sets only), e.g. {"angle": array of degrees}.
    factors_train: dict[str, np.ndarray] = field(default_factory=dict)
    factors_test: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_pixels(self) -> int:
        return math.prod(self.image_shape)

    def __repr__(self) -> str:
        return (f"ImageData({self.name!r}, train={len(self.x_train)}, test={len(self.x_test)}, "
                f"shape={self.image_shape}, classes={len(self.class_names)})")


def data_dir() -> Path:
    """Folder for downloadable datasets: $DLPLAY_DATA, default ~/.cache/dlplay."""
    return Path(os.environ.get("DLPLAY_DATA") or Path.home() / ".cache" / "dlplay").expanduser()


def _split(x: np.ndarray, y: np.ndarray, test_size=0.2, seed=0, factors: dict | None = None):
    """Fixed, seeded, stratified split so every page and test sees the same train/test images."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(x))
    tr, te = train_test_split(idx, test_size=test_size, random_state=seed, stratify=y)
    t = lambda a: torch.as_tensor(a)  # noqa: E731
    f = factors or {}
    return (t(x[tr]), t(y[tr]), t(x[te]), t(y[te]),
            {k: v[tr] for k, v in f.items()}, {k: v[te] for k, v in f.items()})


@functools.cache
def _digits() -> ImageData:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]  # (1797, 1, 8, 8), pixel values 0..16 -> 0..1
    xtr, ytr, xte, yte, _, _ = _split(x, d.target.astype(np.int64))
    return ImageData("digits", xtr, ytr, xte, yte, [str(i) for i in range(10)],
                     "1,797 real 8x8 handwritten digits bundled with scikit-learn (UCI), split 80/20.")


def _torchvision(name: str, cls_name: str, classes: list[str], blurb: str) -> ImageData:
    import torchvision

    root = data_dir()
    cls = getattr(torchvision.datasets, cls_name)
    try:
        train, test = cls(root, train=True, download=False), cls(root, train=False, download=False)
    except RuntimeError:
        raise InputError(
            f"{name} is not in {root}: on a machine with internet run `python -m dlplay download {name}` "
            f"(or copy torchvision's {cls_name} folder there, or point DLPLAY_DATA at it).") from None
    f = lambda ds: (ds.data.float().div(255).unsqueeze(1), ds.targets.long())  # noqa: E731
    (xtr, ytr), (xte, yte) = f(train), f(test)
    return ImageData(name, xtr, ytr, xte, yte, classes, blurb)


@functools.cache
def _mnist() -> ImageData:
    return _torchvision("mnist", "MNIST", [str(i) for i in range(10)], "70,000 28x28 handwritten digits (LeCun et al.).")


@functools.cache
def _fashion() -> ImageData:
    classes = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"]
    return _torchvision("fashion_mnist", "FashionMNIST", classes, "70,000 28x28 clothing images (Zalando).")


def download(name: str) -> Path:
    """Fetch MNIST or Fashion-MNIST into data_dir() (needs internet); one clear sentence when offline."""
    import torchvision

    cls = {"mnist": torchvision.datasets.MNIST, "fashion_mnist": torchvision.datasets.FashionMNIST}.get(name)
    if cls is None:
        raise InputError(f"Only mnist and fashion_mnist can be downloaded; {name!r} ships with dlplay or is generated.")
    try:
        for train in (True, False):
            cls(data_dir(), train=train, download=True)
    except Exception as e:  # network errors come in many types
        raise InputError(f"Could not download {name} ({type(e).__name__}): this machine seems to be offline.") from None
    return data_dir()


@functools.cache
def _rotations() -> ImageData:
    from .procedural import render_shapes

    rng = np.random.default_rng(0)
    n = 2000
    angle = rng.uniform(-90, 90, n)
    x = render_shapes(np.zeros(n, int), angle, np.ones(n), np.zeros(n), np.zeros(n), size=16)
    label = np.digitize(angle, [-54, -18, 18, 54])  # five angle bins, only for colouring plots
    xtr, ytr, xte, yte, ftr, fte = _split(x, label, factors={"angle": angle.astype(np.float32)})
    return ImageData("rotations", xtr, ytr, xte, yte, ["-90..-54", "-54..-18", "-18..18", "18..54", "54..90"],
                     "One arrow rendered at 2,000 known angles between -90 and 90 degrees (16x16): one hidden factor.",
                     ftr, fte)


@functools.cache
def _shapes() -> ImageData:
    from .procedural import SHAPES, render_shapes

    rng = np.random.default_rng(1)
    n = 3000
    kind = rng.integers(0, len(SHAPES), n)
    f = {"angle": rng.uniform(-90, 90, n), "scale": rng.uniform(0.6, 1.0, n),
         "dx": rng.uniform(-0.2, 0.2, n), "dy": rng.uniform(-0.2, 0.2, n)}
    x = render_shapes(kind, f["angle"], f["scale"], f["dx"], f["dy"], size=16)
    f = {k: v.astype(np.float32) for k, v in f.items()}
    xtr, ytr, xte, yte, ftr, fte = _split(x, kind, factors=f)
    return ImageData("shapes", xtr, ytr, xte, yte, list(SHAPES),
                     "3,000 16x16 shapes (arrow, triangle, bar) with known rotation, scale and position.", ftr, fte)


# name -> (loader, one-line description, available offline)
DATASETS = {
    "digits": (_digits, "8x8 handwritten digits from scikit-learn (offline, the default)", True),
    "rotations": (_rotations, "an arrow at known angles: one hidden factor (offline, generated)", True),
    "shapes": (_shapes, "three shapes with known rotation, scale, position (offline, generated)", True),
    "mnist": (_mnist, "28x28 handwritten digits via torchvision, from $DLPLAY_DATA", False),
    "fashion_mnist": (_fashion, "28x28 clothing images via torchvision, from $DLPLAY_DATA", False),
}


def dataset_names(available_only: bool = False) -> list[str]:
    """Registered names; with available_only, those that load on this machine right now."""
    if not available_only:
        return list(DATASETS)
    out = []
    for name, (loader, _, offline) in DATASETS.items():
        if offline:
            out.append(name)
            continue
        try:
            loader()
            out.append(name)
        except InputError:
            pass
    return out


def load(name: str) -> ImageData:
    """Load a dataset by name (cached per process; treat the tensors as read-only)."""
    if name not in DATASETS:
        raise InputError(f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)}.")
    return DATASETS[name][0]()
