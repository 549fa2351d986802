"""The GAN Lab's own figure: one layered plotly picture of the 2-D game (built from GAN2DTask.view() arrays)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

REAL, FAKE, ARROW, MANIFOLD = "#1b7837", "#9c27b0", "#ff8c00", "rgba(80,80,80,0.45)"
# purple (D says fake) .. white (undecided) .. green (D says real), as in the colours of the points
HEAT = [[0.0, "#c2a5cf"], [0.5, "#f7f7f7"], [1.0, "#a6dba0"]]
LAYERS = ("heat map of D", "real", "generated", "gradient arrows", "manifold")


def _segments(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Line segments as one trace: x0, x1, None, x0, x1, None, ..."""
    n = len(start)
    xs = np.full(3 * n, np.nan)
    ys = np.full(3 * n, np.nan)
    xs[0::3], xs[1::3] = start[:, 0], end[:, 0]
    ys[0::3], ys[1::3] = start[:, 1], end[:, 1]
    return xs, ys


def _manifold_lines(m: np.ndarray, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    if len(shape) == 1:
        return m[:, 0], m[:, 1]
    k = shape[0]
    g = m.reshape(k, k, 2)
    parts = [g[i] for i in range(k)] + [g[:, j] for j in range(k)]
    out = np.concatenate([np.vstack([p, [[np.nan, np.nan]]]) for p in parts])
    return out[:, 0], out[:, 1]


def playground(view: dict, bounds, loss: str, layers=LAYERS, arrow_scale: float = 0.05, title: str = "",
               height: int = 620) -> go.Figure:
    """Real points, generated points, D's output as the background, G's gradient as arrows, the noise grid's image.

    Arrows are -dL_G/dx at each generated point times `arrow_scale` (a fixed scale, not normalised per frame, so
    vanishing gradients look like vanishing arrows), each capped at a quarter of the window."""
    x0, x1, y0, y1 = bounds
    traces = []
    if "heat map of D" in layers:
        wgan = loss == "wgan-gp"
        h = view["heat"]
        lim = float(np.abs(h - np.median(h)).max()) or 1.0
        traces.append(dict(
            type="heatmap", x=view["grid_x"], y=view["grid_y"], z=h, colorscale=HEAT, opacity=0.9, hoverinfo="skip",
            zmin=(float(np.median(h)) - lim) if wgan else 0.0, zmax=(float(np.median(h)) + lim) if wgan else 1.0,
            colorbar=dict(title=dict(text="critic score" if wgan else "D(x) = P(real)", side="right"), len=0.6,
                          thickness=12)))
    if "manifold" in layers:
        mx, my = _manifold_lines(view["manifold"], view["manifold_shape"])
        traces.append(dict(type="scatter", x=mx, y=my, mode="lines", line=dict(color=MANIFOLD, width=1), name="manifold "
                                   "(image of a noise grid)", hoverinfo="skip"))
    if "real" in layers:
        r = view["real"]
        traces.append(dict(type="scatter", x=r[:, 0], y=r[:, 1], mode="markers", name="real",
                                   marker=dict(size=5, color=REAL, opacity=0.8), hoverinfo="skip"))
    if "generated" in layers:
        f = view["fake"]
        traces.append(dict(type="scatter", x=f[:, 0], y=f[:, 1], mode="markers", name="generated",
                                   marker=dict(size=5, color=FAKE, opacity=0.85), hoverinfo="skip"))
    if "gradient arrows" in layers:
        f, a = view["fake"], view["arrows"] * arrow_scale
        cap = 0.25 * (x1 - x0)
        n = np.linalg.norm(a, axis=1, keepdims=True)
        a = np.where(n > cap, a / np.maximum(n, 1e-12) * cap, a)
        ax, ay = _segments(f, f + a)
        traces.append(dict(type="scatter", x=ax, y=ay, mode="lines", line=dict(color=ARROW, width=1.5),
                                   name="G's gradient (where each point is pushed)", hoverinfo="skip"))
    layout = dict(
        height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10), title=dict(text=title),
        uirevision="gan2d", plot_bgcolor="white",
        legend=dict(orientation="h", y=-0.02, yanchor="top", x=0, font=dict(size=13)),
        xaxis=dict(range=[x0, x1], showgrid=False, zeroline=False, constrain="domain"),
        yaxis=dict(range=[y0, y1], showgrid=False, zeroline=False, scaleanchor="x", scaleratio=1))
    # Built without plotly's per-property validation (the traces above are plain, known-good dicts): this
    # figure is redrawn several times a second while training, and validation would cost most of a frame.
    return go.Figure(traces, layout, _validate=False)


def drawing_canvas(grid: np.ndarray, drawn: np.ndarray | None = None, height: int = 420) -> go.Figure:
    """A faint grid of points to lasso: the selected ones become the target distribution (trace 0 is the grid)."""
    traces = [dict(type="scatter", x=grid[:, 0], y=grid[:, 1], mode="markers", name="grid",
                   marker=dict(size=4, color="rgba(120,120,120,0.25)"), hoverinfo="none")]
    if drawn is not None and len(drawn):
        traces.append(dict(type="scatter", x=drawn[:, 0], y=drawn[:, 1], mode="markers", name="your target",
                           marker=dict(size=5, color=REAL), hoverinfo="skip"))
    layout = dict(height=height, margin=dict(l=10, r=10, t=30, b=10), dragmode="lasso", showlegend=False,
                  title=dict(text="Draw with the lasso: the selected grid points become the target"),
                  plot_bgcolor="white", xaxis=dict(range=[-2.7, 2.7], showgrid=False, zeroline=False),
                  yaxis=dict(range=[-2.7, 2.7], showgrid=False, zeroline=False, scaleanchor="x", scaleratio=1))
    return go.Figure(traces, layout, _validate=False)


def _rgb(c: str) -> tuple[int, ...]:
    if c.startswith("#"):
        return tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
    r, g, b, a = (float(v) for v in c[c.index("(") + 1:-1].split(","))
    return int(r), int(g), int(b), int(255 * a)


def playground_frame(view: dict, bounds, loss: str, layers=LAYERS, arrow_scale: float = 0.05, title: str = "",
                   size: int = 560) -> bytes:
    """The same layered picture as `playground`, drawn with Pillow as a JPEG: the live view while training.

    A browser swaps an image in place, while a new plotly figure is rebuilt from scratch several times a second and
    can stay hidden the whole time on a slow machine (measured in headless Chromium). Same colours and layers; the
    interactive plotly figure comes back when training pauses."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    x0, x1, y0, y1 = bounds
    px = lambda p: np.stack([(p[:, 0] - x0) / (x1 - x0) * (size - 1),   # noqa: E731 - data to pixel coordinates
                             (y1 - p[:, 1]) / (y1 - y0) * (size - 1)], 1)
    img = Image.new("RGB", (size, size), "white")
    if "heat map of D" in layers:
        h = np.asarray(view["heat"], np.float64)
        if loss == "wgan-gp":
            lim = float(np.abs(h - np.median(h)).max()) or 1.0
            h = (h - np.median(h)) / (2 * lim) + 0.5
        t = np.clip(h, 0.0, 1.0)[..., None]
        lo, mid, hi = (np.array(_rgb(c), np.float64) for _, c in HEAT)
        rgb = np.where(t < 0.5, lo + (mid - lo) * (t / 0.5), mid + (hi - mid) * ((t - 0.5) / 0.5))
        rgb = 255 - 0.9 * (255 - rgb)                          # opacity 0.9 over white, as in the plotly figure
        heat = Image.fromarray(np.flipud(rgb).astype(np.uint8))  # row 0 of the grid is the bottom (y0)
        img.paste(heat.resize((size, size), Image.BILINEAR))
    d = ImageDraw.Draw(img, "RGBA")
    if "manifold" in layers:
        mx, my = _manifold_lines(view["manifold"], view["manifold_shape"])
        pts = px(np.stack([mx, my], 1))
        manifold_fill = _rgb(MANIFOLD)
        for part in np.split(pts, np.where(np.isnan(pts[:, 0]))[0]):
            part = part[~np.isnan(part[:, 0])]
            if len(part) > 1:
                d.line([tuple(p) for p in part.tolist()], fill=manifold_fill, width=1)
    for name, colour in (("real", REAL), ("generated", FAKE)):
        if name in layers:
            fill = _rgb(colour) + (215,)
            for x, y in px(view["real" if name == "real" else "fake"]).tolist():
                d.ellipse((x - 2.5, y - 2.5, x + 2.5, y + 2.5), fill=fill)
    if "gradient arrows" in layers:
        f, a = view["fake"], view["arrows"] * arrow_scale
        cap = 0.25 * (x1 - x0)
        n = np.linalg.norm(a, axis=1, keepdims=True)
        a = np.where(n > cap, a / np.maximum(n, 1e-12) * cap, a)
        fill = _rgb(ARROW)
        for (sx, sy), (ex, ey) in zip(px(f).tolist(), px(f + a).tolist()):
            d.line((sx, sy, ex, ey), fill=fill, width=2)
    if title:
        d.rectangle((0, 0, size, 22), fill=(255, 255, 255, 200))
        d.text((8, 5), title, fill=(40, 40, 40))
    buf = BytesIO()
    img.save(buf, "JPEG", quality=90)   # three times faster to encode than PNG; no visible loss at this size
    return buf.getvalue()
