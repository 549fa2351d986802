"""The page's figures (plotly): both modalities in one 2-D map, and similarity bars."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from ..data import ImageData
from .model import MultiModal
from .phrases import canonical_phrases, factors_of, phrase_for
from .space import encode_images, encode_texts


# -- figures ----------------------------------------------------------------------------------------------------------
def space_points(model: MultiModal, data: ImageData, n_images: int = 400, seed: int = 0):
    """A sample of test-image vectors and every canonical phrase's vector, stacked: (vectors, labels, modality,
    hover, image indices)."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(data.x_test), size=min(n_images, len(data.x_test)), replace=False))
    zi = encode_images(model, data.x_test[idx]).numpy()
    f = factors_of(data, "test")[idx]
    phrases, pf = canonical_phrases(data.name)
    zt = encode_texts(model, phrases).numpy()
    labels = [phrase_for(data.name, r) for r in f] + phrases
    modality = ["image"] * len(idx) + ["phrase"] * len(phrases)
    hover = [f"test image #{i}: {phrase_for(data.name, r)}" for i, r in zip(idx, f)] + [f'"{p}"' for p in phrases]
    return np.vstack([zi, zt]), labels, modality, hover, idx


def space_figure(coords: np.ndarray, labels: Sequence[str], modality: Sequence[str], hover: Sequence[str],
                 colour_by: Sequence[str] | None = None, title: str | None = None) -> go.Figure:
    """Both modalities in one 2-D map: images as dots, phrases as large labelled stars, coloured alike."""
    from ..viz import PALETTE

    colour_by = list(colour_by if colour_by is not None else labels)
    groups = sorted(set(colour_by), key=colour_by.index)
    cmap = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    modality = np.asarray(modality)
    fig = go.Figure()
    for g in groups:
        for mod in ("image", "phrase"):
            sel = [i for i in range(len(labels)) if colour_by[i] == g and modality[i] == mod]
            if not sel:
                continue
            star = mod == "phrase"
            fig.add_trace(go.Scatter(
                x=coords[sel, 0], y=coords[sel, 1], mode="markers+text" if star else "markers",
                text=[labels[i] for i in sel] if star else None, textposition="top center",
                hovertext=[hover[i] for i in sel], hoverinfo="text", customdata=sel,
                name=f"{g} ({'phrase' if star else 'images'})", legendgroup=g, showlegend=not star,
                marker=dict(color=cmap[g], size=16 if star else 6, symbol="star" if star else "circle",
                            line=dict(color="black", width=1.5) if star else None, opacity=1 if star else 0.6)))
    fig.update_layout(title=title, height=600, margin=dict(l=10, r=10, t=40 if title else 10, b=10))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def similarity_bars(items: list[tuple[str, float]], title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=[s for _, s in items][::-1], y=[w for w, _ in items][::-1], orientation="h",
                           text=[f"{s:.2f}" for _, s in items][::-1], textposition="auto"))
    fig.update_layout(title=title, height=60 + 32 * len(items), margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title="cosine similarity", xaxis_range=[-1, 1])
    return fig
