"""2-D toy distributions for the GAN playground, with the true modes where a set has them."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

RING_RADIUS, RING_STD = 2.0, 0.05
GRID_STD = 0.05


def toy2d_modes(name: str) -> tuple[np.ndarray, float] | None:
    """(centres (K, 2), standard deviation) for the mixture sets; None for sets without discrete modes."""
    if name == "ring8":
        t = np.arange(8) * 2 * np.pi / 8
        return np.stack([np.cos(t), np.sin(t)], 1) * RING_RADIUS, RING_STD
    if name == "grid25":
        g = np.arange(-2, 3, dtype=float)
        return np.stack(np.meshgrid(g, g), -1).reshape(-1, 2), GRID_STD
    return None


def _mixture(name, n, rng):
    centres, std = toy2d_modes(name)
    return centres[rng.integers(0, len(centres), n)] + rng.normal(0, std, (n, 2))


def _moons(n, rng):
    from sklearn.datasets import make_moons

    x, _ = make_moons(n, noise=0.05, random_state=int(rng.integers(2**31)))
    return (x - [0.5, 0.25]) * 1.5


def _spiral(n, rng):
    t = np.sqrt(rng.uniform(0, 1, n)) * 3 * np.pi
    return np.stack([t * np.cos(t), t * np.sin(t)], 1) / (1.5 * np.pi) + rng.normal(0, 0.04, (n, 2))


def _line(n, rng):
    t = rng.uniform(-2, 2, n)
    return np.stack([t, 0.5 * t], 1) + rng.normal(0, 0.02, (n, 2))


TOY2D = {
    "ring8": ("ring of 8 Gaussians", lambda n, rng: _mixture("ring8", n, rng)),
    "grid25": ("grid of 25 Gaussians", lambda n, rng: _mixture("grid25", n, rng)),
    "moons": ("two moons", _moons),
    "spiral": ("a spiral", _spiral),
    "line": ("points along a single line", _line),
}


def toy2d(name: str, n: int = 2000, seed: int = 0) -> np.ndarray:
    """n points from a named 2-D distribution as float32 (n, 2)."""
    if name not in TOY2D:
        raise InputError(f"Unknown 2-D distribution {name!r}: choose one of {', '.join(TOY2D)}.")
    if not 1 <= n <= 1_000_000:
        raise InputError(f"Number of points must be between 1 and 1,000,000, not {n}.")
    return TOY2D[name][1](int(n), np.random.default_rng(seed)).astype(np.float32)
