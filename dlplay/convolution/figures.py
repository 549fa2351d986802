"""The figures: the filter's walk across the input, small arrays side by side, receptive fields drawn on a picture."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .stack import LayerInfo
from .steps import ConvWalk


def walk_figure(walk: ConvWalk, t: int) -> go.Figure:
    """Padded input with the current window, the kernel, and the output filled in up to position t."""
    i, j = walk.position(t)
    f, s = walk.kernel.shape[0], walk.stride
    shown = np.full(walk.output.shape, np.nan)
    flat = shown.reshape(-1)
    flat[:t % walk.positions + 1] = walk.output.reshape(-1)[:t % walk.positions + 1]
    fig = make_subplots(1, 3, subplot_titles=(f"input, zero-padded by {walk.padding}", "kernel",
                                              f"output {walk.output.shape[0]}x{walk.output.shape[1]}"),
                        column_widths=[0.45, 0.2, 0.35], horizontal_spacing=0.06)
    for col, arr, cs in ((1, walk.padded, "Greys"), (2, walk.kernel, "RdBu"), (3, shown, "Viridis")):
        text = np.where(np.isnan(arr), "", np.vectorize(lambda v: f"{v:g}")(np.nan_to_num(arr)))
        fig.add_trace(go.Heatmap(z=arr, colorscale=cs, showscale=False, text=text, texttemplate="%{text}",
                                 reversescale=cs == "Greys", hoverinfo="skip"), 1, col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", showticklabels=False,
                         row=1, col=col)
        fig.update_xaxes(showticklabels=False, row=1, col=col)
    p = walk.padding
    if p:
        h, w = walk.padded.shape
        fig.add_shape(type="rect", x0=p - 0.5, y0=p - 0.5, x1=w - p - 0.5, y1=h - p - 0.5,
                      line=dict(color="#888", dash="dot"), row=1, col=1)
    fig.add_shape(type="rect", x0=j * s - 0.5, y0=i * s - 0.5, x1=j * s + f - 0.5, y1=i * s + f - 0.5,
                  line=dict(color="#e4572e", width=3), row=1, col=1)
    fig.add_shape(type="rect", x0=j - 0.5, y0=i - 0.5, x1=j + 0.5, y1=i + 0.5, line=dict(color="#e4572e", width=3),
                  row=1, col=3)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def grids_figure(panels: dict[str, np.ndarray], height: int = 300, text: bool = True,
                 colorscale: str = "Viridis") -> go.Figure:
    """Several small 2-D arrays side by side as heat maps with their values written in."""
    names = list(panels)
    fig = make_subplots(1, len(names), subplot_titles=names, horizontal_spacing=0.04)
    for col, name in enumerate(names, start=1):
        arr = np.asarray(panels[name], dtype=float)
        tt = np.vectorize(lambda v: f"{v:.2g}")(arr) if text and arr.size <= 400 else None
        fig.add_trace(go.Heatmap(z=arr, colorscale=colorscale, showscale=False, text=tt,
                                 texttemplate="%{text}" if tt is not None else None, hoverinfo="z"), 1, col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", showticklabels=False,
                         row=1, col=col)
        fig.update_xaxes(showticklabels=False, row=1, col=col)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def receptive_field_figure(image: torch.Tensor, rows: list[LayerInfo], title: str = "") -> go.Figure:
    """The input picture with each conv/pool layer's receptive field (of its centre output value) drawn on it."""
    img = image[0] if image.ndim == 4 else image
    arr = (img.permute(1, 2, 0).clamp(0, 1).numpy() * 255).astype(np.uint8)
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, 2)
    fig = go.Figure(go.Image(z=arr, hoverinfo="skip"))
    colours = ["#e4572e", "#17bebb", "#ffc914", "#76b041", "#2e282a", "#a23b72", "#3f88c5", "#f18f01"]
    for n, r in enumerate(rows[1:]):
        if r.kind in ("relu", "flatten"):
            continue
        ci, cj = (r.shape[1] - 1) // 2, (r.shape[2] - 1) // 2
        cy, cx = r.start + ci * r.jump, r.start + cj * r.jump
        half = r.rf / 2
        col = colours[n % len(colours)]
        fig.add_shape(type="rect", x0=cx - half, x1=cx + half, y0=cy - half, y1=cy + half,
                      line=dict(color=col, width=2))
        fig.add_annotation(x=cx + half, y=cy - half, text=f"{r.index}: {r.rf}px", showarrow=False,
                           font=dict(color=col, size=11), xanchor="left", yanchor="bottom")
    h, w = arr.shape[:2]
    pad = max(h, w) * 0.6
    fig.update_xaxes(range=[-pad, w + pad], showticklabels=False)
    fig.update_yaxes(range=[h + pad, -pad], showticklabels=False, scaleanchor="x")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40 if title else 10, b=10), title=title or None)
    return fig
