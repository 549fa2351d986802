"""Images drawn from known factors, so a lecturer can show a code recovering a hidden factor (e.g. the angle)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

# Outlines in a unit box centred on 0; all are asymmetric under rotation within (-90, 90) degrees.
SHAPES = {
    "arrow": [(-0.7, -0.12), (0.2, -0.12), (0.2, -0.35), (0.75, 0.0), (0.2, 0.35), (0.2, 0.12), (-0.7, 0.12)],
    "triangle": [(-0.6, -0.45), (0.7, 0.0), (-0.6, 0.45)],
    "bar": [(-0.75, -0.15), (0.75, -0.15), (0.75, 0.15), (-0.75, 0.15)],
}


def render_shapes(kind, angle, scale, dx, dy, size: int = 16, supersample: int = 4) -> np.ndarray:
    """Render one white-on-black shape per row of factors; returns float32 (N, 1, size, size) in [0, 1]."""
    names = list(SHAPES)
    big = size * supersample
    out = np.empty((len(angle), 1, size, size), np.float32)
    for i in range(len(angle)):
        pts = np.asarray(SHAPES[names[int(kind[i])]]) * scale[i]
        t = np.deg2rad(angle[i])
        rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        pts = pts @ rot.T + [dx[i], -dy[i]]
        pix = (pts * np.array([1, -1]) * 0.5 + 0.5) * big  # y axis points up in the factor space
        img = Image.new("L", (big, big))
        ImageDraw.Draw(img).polygon([tuple(p) for p in pix], fill=255)
        out[i, 0] = np.asarray(img.resize((size, size), Image.Resampling.BOX), np.float32) / 255.0
    return out
