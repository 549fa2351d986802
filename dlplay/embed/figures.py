"""Figures of layouts: plotly scatter with thumbnails, a PNG render, the coordinates as CSV."""

from __future__ import annotations

import csv
import io
import math

import numpy as np


# ------------------------------------------------------------------------------------------------ figures

def _palette(n: int) -> list[str]:
    from plotly.colors import qualitative

    from ..viz import PALETTE

    pal = list(PALETTE) + qualitative.Dark2 + qualitative.Set1 + qualitative.Pastel
    return [pal[i % len(pal)] for i in range(n)]


def colour_groups(values, class_names=None, max_groups: int = 40):
    """How to colour by `values`: ('groups', [(name, idx)]) for few distinct values, ('scale', floats) for many
    numbers, ('none', None) for many strings."""
    if values is None:
        return "none", None
    v = np.asarray(values)
    uniq = np.unique(v)
    if len(uniq) <= max_groups:
        groups = []
        for u in uniq:
            name = class_names[int(u)] if class_names is not None and np.issubdtype(v.dtype, np.integer) \
                and 0 <= int(u) < len(class_names) else str(u)
            groups.append((name, np.flatnonzero(v == u)))
        return "groups", groups
    if np.issubdtype(v.dtype, np.number):
        return "scale", v.astype(np.float64)
    return "none", None


def layout_figure(coords: np.ndarray, *, colour=None, colour_name: str = "", class_names=None, hover=None,
                  title: str | None = None, selected: int | None = None, neighbours_idx=None,
                  highlight=None, marker_size: int | None = None, height: int = 640, thumbnails=None):
    """Scatter of a 2-D or 3-D layout. customdata = row index (for click selection). `selected` is ringed, its
    layout neighbours outlined; `highlight` (search matches) drawn large; `thumbnails` = (idx, images) draws those
    images at their points (2-D only)."""
    import plotly.graph_objects as go

    xy = np.asarray(coords, np.float32)
    n, d = xy.shape
    three = d >= 3
    big = n > 5000
    size = marker_size or (3 if big else 5 if n > 1000 else 7)
    Sc = go.Scatter3d if three else (go.Scattergl if big else go.Scatter)

    def pts(idx):
        out = dict(x=xy[idx, 0], y=xy[idx, 1])
        if three:
            out["z"] = xy[idx, 2]
        return out

    def text(idx):
        return None if hover is None else [str(hover[j]) for j in idx]

    tmpl = "%{text}<extra></extra>" if hover is not None else "#%{customdata}<extra></extra>"
    fig = go.Figure()
    kind, groups = colour_groups(colour, class_names)
    if kind == "groups":
        for (name, idx), col in zip(groups, _palette(len(groups))):
            fig.add_trace(Sc(**pts(idx), mode="markers", name=name, customdata=idx, text=text(idx),
                             hovertemplate=tmpl, marker=dict(size=size, color=col, opacity=0.8)))
    else:
        idx = np.arange(n)
        marker = dict(size=size, opacity=0.8)
        if kind == "scale":
            marker.update(color=groups, colorscale="Viridis", showscale=True,
                          colorbar=dict(title=dict(text=colour_name[:20]), thickness=12))
        fig.add_trace(Sc(**pts(idx), mode="markers", name="points", customdata=idx, text=text(idx),
                         hovertemplate=tmpl, marker=marker, showlegend=False))
    if highlight is not None and len(highlight):
        h = np.asarray(highlight)
        fig.add_trace(Sc(**pts(h), mode="markers", name="search matches", customdata=h, text=text(h),
                         hovertemplate=tmpl, marker=dict(size=size + 8, color="rgba(0,0,0,0)",
                                                         line=dict(color="black", width=2))))
    if selected is not None:
        if neighbours_idx is not None and len(neighbours_idx):
            nb = np.asarray(neighbours_idx)
            fig.add_trace(Sc(**pts(nb), mode="markers", name="its neighbours in the layout", customdata=nb,
                             text=text(nb), hovertemplate=tmpl,
                             marker=dict(size=size + 6, color="rgba(0,0,0,0)", line=dict(color="#d62728", width=2))))
        s = np.array([selected])
        fig.add_trace(Sc(**pts(s), mode="markers", name="selected point", customdata=s, text=text(s),
                         hovertemplate=tmpl, marker=dict(size=size + 12, color="rgba(0,0,0,0)", symbol="circle",
                                                         line=dict(color="black", width=3))))
    if thumbnails is not None and not three:
        _add_thumbnails(fig, xy, *thumbnails)
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      legend=dict(itemsizing="constant", title=dict(text=colour_name) if colour_name else None),
                      dragmode="pan" if three else "zoom", uirevision="layout", hoverlabel=dict(font_size=14))
    if three:
        fig.update_layout(scene=dict(xaxis_title="", yaxis_title="", zaxis_title="", aspectmode="data"))
    else:
        fig.update_yaxes(showticklabels=False, title=None)  # no equal aspect: the plot fills the projector
        fig.update_xaxes(showticklabels=False, title=None)
    return fig


def _add_thumbnails(fig, xy, idx, images):
    """Draw images (n, C, H, W) centred on their points as plotly layout images (they zoom with the plot)."""
    import base64

    from PIL import Image

    from ..viz import as_images

    span = float(max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1e-9))
    side = span / 28
    for j, im in zip(idx, as_images(images)):
        a = (np.repeat(im, 3, -1) if im.shape[-1] == 1 else im)
        a = (255 - (a * 255).round().astype(np.uint8)) if im.shape[-1] == 1 else (a * 255).round().astype(np.uint8)
        rgba = np.dstack([a, np.where(a.min(-1) > 245, 0, 230).astype(np.uint8)])  # white made transparent
        buf = io.BytesIO()
        Image.fromarray(rgba, "RGBA").resize((32, 32), Image.NEAREST).save(buf, format="PNG")
        fig.add_layout_image(source="data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(),
                             x=float(xy[j, 0]), y=float(xy[j, 1]), xref="x", yref="y", sizex=side, sizey=side,
                             xanchor="center", yanchor="middle", layer="above")


def thumbnail_sample(coords: np.ndarray, k: int = 300, seed: int = 0) -> np.ndarray:
    """Up to k points spread over the layout (one per occupied cell of a grid), for the thumbnail layer."""
    xy = np.asarray(coords)[:, :2]
    g = int(math.ceil(math.sqrt(k)))
    lo, hi = xy.min(0), xy.max(0)
    cell = np.floor((xy - lo) / np.maximum(hi - lo, 1e-9) * (g - 1e-6)).astype(int)
    order = np.random.default_rng(seed).permutation(len(xy))
    _, first = np.unique(cell[order, 0] * g + cell[order, 1], return_index=True)
    return np.sort(order[first])[:k]


def layout_png(coords: np.ndarray, colour=None, class_names=None, size: int = 1200, title: str = "") -> bytes:
    """A PNG of the 2-D layout (first two coordinates), drawn with Pillow so it needs no browser."""
    from PIL import Image, ImageDraw

    xy = np.asarray(coords, np.float64)[:, :2]
    legend_w = 220
    img = Image.new("RGB", (size + legend_w, size), "white")
    draw = ImageDraw.Draw(img)
    lo, hi = xy.min(0), xy.max(0)
    scale = (size - 60) / max(float((hi - lo).max()), 1e-9)
    p = (xy - lo) * scale + 30
    p[:, 1] = size - p[:, 1]
    r = 2 if len(xy) > 5000 else 3 if len(xy) > 1000 else 5
    kind, groups = colour_groups(colour, class_names)
    if kind != "groups":
        groups = [("points", np.arange(len(xy)))]
    cols = _palette(len(groups))
    for (name, idx), col in zip(groups, cols):
        for a, b in p[idx]:
            draw.ellipse([a - r, b - r, a + r, b + r], fill=col)
    for i, ((name, _), col) in enumerate(zip(groups[:40], cols)):
        y0 = 30 + 22 * i
        draw.ellipse([size + 10, y0, size + 24, y0 + 14], fill=col)
        draw.text((size + 32, y0), str(name)[:28], fill="black")
    if title:
        draw.text((10, 8), title, fill="black")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _cell(v) -> str:
    """A text cell that a spreadsheet will not run: a leading = + - @ (or tab / CR) is quoted with an apostrophe
    (OWASP's advice against CSV formula injection), so a label like =HYPERLINK(...) stays text."""
    s = str(v)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def coords_csv(coords: np.ndarray, labels=None, hover=None) -> bytes:
    """The layout as CSV: row (source order), x, y[, z][, label][, text]; text cells neutralised (see _cell)."""
    d = coords.shape[1]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["row", "x", "y", "z"][:d + 1] + (["label"] if labels is not None else []) +
               (["text"] if hover is not None else []))
    for i, c in enumerate(coords):
        w.writerow([i, *(f"{v:.6g}" for v in c)] + ([_cell(labels[i])] if labels is not None else []) +
                   ([_cell(hover[i])] if hover is not None else []))
    return out.getvalue().encode()
