"""Plotly figure builders shared by pages, the CLI and tests. Figures are functions of arrays; pages only place them."""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]


def as_images(images) -> np.ndarray:
    """Any (N,C,H,W) / (N,H,W) / (N,H,W,C) tensor or array in [0,1] -> float array (N, H, W, C) with C in {1, 3}."""
    a = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    a = a.astype(np.float32)
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        a = a[..., None]
    elif a.ndim == 4 and a.shape[1] in (1, 3) and a.shape[-1] not in (1, 3):
        a = a.transpose(0, 2, 3, 1)
    return np.clip(a, 0, 1)


def tile(images, ncols: int = 8, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """Arrange images in a grid; returns a uint8 array (H, W, 3) ready for display or PNG."""
    a = as_images(images)
    n, h, w, c = a.shape
    if c == 1:
        a = np.repeat(a, 3, -1)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, 3), pad_value, np.float32)
    for i in range(n):
        r, col = divmod(i, ncols)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + col * (w + pad): pad + col * (w + pad) + w] = a[i]
    return (out * 255).round().astype(np.uint8)


def to_png(array_or_images, ncols: int = 8) -> bytes:
    """PNG bytes of a uint8 (H,W,3) array, or of a batch of images tiled into a grid (for download buttons)."""
    from PIL import Image

    a = np.asarray(array_or_images)
    if not (a.ndim == 3 and a.dtype == np.uint8 and a.shape[-1] == 3):
        a = tile(array_or_images, ncols)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def image_grid(images, ncols: int = 8, titles: Sequence[str] | None = None, title: str | None = None,
               height: int | None = None) -> go.Figure:
    """One figure showing a batch of images in a grid, with an optional caption under each image."""
    a = as_images(images)
    n, h, w, _ = a.shape
    ncols = max(1, min(ncols, n))
    mosaic = tile(a, ncols)
    fig = go.Figure(go.Image(z=mosaic, hoverinfo="skip"))
    if titles is not None:
        for i, t in enumerate(titles[:n]):
            r, c = divmod(i, ncols)
            fig.add_annotation(x=1 + c * (w + 1) + w / 2, y=1 + r * (h + 1) + h, text=str(t), showarrow=False,
                               yanchor="top", font=dict(size=11, color="#333"), bgcolor="rgba(255,255,255,0.7)")
    nrows = -(-n // ncols)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=title, margin=dict(l=0, r=0, t=30 if title else 0, b=0),
                      height=height or int(min(900, max(120, 700 * nrows / ncols * h / w + (30 if title else 0)))))
    return fig


def _thin(history: list[dict], max_points: int = 1500) -> list[dict]:
    """Keep at most about max_points records (evenly spaced, always the last) so live plots stay fast."""
    if len(history) <= max_points:
        return history
    stride = -(-len(history) // max_points)
    return history[::stride] + ([history[-1]] if (len(history) - 1) % stride else [])


def curves(history: list[dict], keys: Sequence[str], title: str | None = None, log_y: bool = False,
           x: str = "step", names: dict[str, str] | None = None) -> go.Figure:
    """Line plot of recorded metrics against steps (the engine's history), one line per key."""
    history = _thin(history)
    fig = go.Figure()
    for i, k in enumerate(keys):
        pts = [(h[x], h[k]) for h in history if k in h]
        fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines",
                                 name=(names or {}).get(k, k), line=dict(color=PALETTE[i % len(PALETTE)])))
    fig.update_layout(title=title, xaxis_title=x, height=300, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def curve_panels(history: list[dict], panels: dict[str, Sequence[str]], x: str = "step",
                 marks: Sequence[dict] = ()) -> go.Figure:
    """Several small metric plots side by side: {panel title: [metric keys]}. `marks` ({"step", "label"}: knobs
    changed mid-run, Trainer.marks) are drawn as dashed vertical lines, labelled in the first panel."""
    history = _thin(history)
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=list(panels))
    for j, keys in enumerate(panels.values()):
        for i, k in enumerate(keys):
            pts = [(h[x], h[k]) for h in history if k in h]
            fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines", name=k,
                                     line=dict(color=PALETTE[i % len(PALETTE)])), row=1, col=j + 1)
        for mk in marks:
            fig.add_vline(x=mk["step"], line=dict(color="#555", dash="dash", width=1), row=1, col=j + 1,
                          annotation_text=mk["label"] if j == 0 else None, annotation_position="top left",
                          annotation_font_size=11)
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=40, b=10), showlegend=True,
                      legend=dict(orientation="h", y=-0.15))
    return fig


def scatter(coords, labels=None, hover: Sequence[str] | None = None, title: str | None = None,
            class_names: Sequence[str] | None = None, marker_size: int = 5) -> go.Figure:
    """2-D or 3-D scatter coloured by (integer or string) label; hover text per point; customdata = row index."""
    xy = np.asarray(coords, np.float32)
    n, d = xy.shape
    labels = np.zeros(n, int) if labels is None else np.asarray(labels)
    fig = go.Figure()
    for i, lab in enumerate(np.unique(labels)):
        idx = np.flatnonzero(labels == lab)
        name = class_names[int(lab)] if class_names is not None and np.issubdtype(labels.dtype, np.integer) else str(lab)
        text = [hover[j] for j in idx] if hover is not None else [f"#{j}" for j in idx]
        common = dict(mode="markers", name=name, text=text, customdata=idx, hovertemplate="%{text}<extra>" + name + "</extra>",
                      marker=dict(size=marker_size, color=PALETTE[i % len(PALETTE)], opacity=0.8))
        if d >= 3:
            fig.add_trace(go.Scatter3d(x=xy[idx, 0], y=xy[idx, 1], z=xy[idx, 2], **common))
        else:
            fig.add_trace(go.Scatter(x=xy[idx, 0], y=xy[idx, 1], **common))
    fig.update_layout(title=title, height=560, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      legend=dict(itemsizing="constant"))
    if d < 3:
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def code_map_with_input(codes, labels, class_names, point, neighbours=(), title: str | None = None,
                        click_grid=None) -> go.Figure:
    """Training codes (2-D, or their first two principal directions) coloured by label, a star where an input
    (your drawing) lands and lines to its nearest neighbours. `click_grid` (m, 2): faint points to click on (the
    last trace), for a page that decodes the clicked position."""
    c = np.asarray(codes, np.float64)
    p = None if point is None else np.asarray(point, np.float64).reshape(1, -1)
    if c.shape[1] > 2:
        from sklearn.decomposition import PCA
        pca = PCA(n_components=2, random_state=0).fit(c)
        c2, p2 = pca.transform(c), (None if p is None else pca.transform(p))
        axes = ("PC 1 of the code", "PC 2 of the code")
    else:
        c2, p2, axes = c, p, ("z1", "z2")
    fig = scatter(c2, labels, class_names=class_names, title=title, marker_size=5)
    if p2 is not None:
        for j in neighbours:
            fig.add_trace(go.Scatter(x=[p2[0, 0], c2[j, 0]], y=[p2[0, 1], c2[j, 1]], mode="lines", showlegend=False,
                                     line=dict(color="black", width=1), hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=p2[:, 0], y=p2[:, 1], mode="markers", name="your digit",
                                 marker=dict(symbol="star", size=22, color="gold", line=dict(color="black", width=2))))
    if click_grid is not None:
        g = np.asarray(click_grid)
        fig.add_trace(go.Scatter(x=g[:, 0], y=g[:, 1], mode="markers", name="click to decode",
                                 marker=dict(size=7, color="rgba(120,120,120,0.12)"), hoverinfo="x+y"))
    fig.update_xaxes(title=axes[0])
    fig.update_yaxes(title=axes[1])
    fig.update_layout(height=480)
    return fig
