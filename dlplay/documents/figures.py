"""Plotly figures of the Documents page: 2-D maps of paragraphs, precision bars, the co-occurrence matrix."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..viz import PALETTE


def doc_map(xy: np.ndarray, labels: np.ndarray, names: list[str], texts: list[str], title: str,
            show: list[int] | None = None, height: int = 520) -> go.Figure:
    """Each paragraph as a dot at its 2-D code, coloured by article; `show` keeps only some articles in colour
    (the rest grey), since 60 colours are hard to tell apart."""
    xy = np.asarray(xy, np.float32)
    fig = go.Figure()
    shown = set(range(len(names))) if not show else set(show)
    rest = np.flatnonzero(~np.isin(labels, list(shown)))
    if len(rest):
        fig.add_trace(go.Scattergl(x=xy[rest, 0], y=xy[rest, 1], mode="markers", name="other articles",
                                   marker=dict(size=4, color="#cccccc"), hoverinfo="skip"))
    for n, a in enumerate(sorted(shown)):
        idx = np.flatnonzero(labels == a)
        fig.add_trace(go.Scattergl(
            x=xy[idx, 0], y=xy[idx, 1], mode="markers", name=names[a], customdata=idx,
            text=[texts[i][:120] + "..." for i in idx], hovertemplate="%{text}<extra>" + names[a] + "</extra>",
            marker=dict(size=6, color=PALETTE[n % len(PALETTE)], opacity=0.85)))
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(itemsizing="constant", font=dict(size=10)), showlegend=len(shown) <= 20)
    return fig


def precision_bars(rows: list[dict], title: str = "Held-out precision@10 (share of the 10 nearest paragraphs "
                                                  "from the query's article)") -> go.Figure:
    """Bars of precision@10 per method; rows: {'method', 'precision', 'spread' (optional)}."""
    fig = go.Figure(go.Bar(
        x=[r["precision"] for r in rows], y=[r["method"] for r in rows], orientation="h",
        error_x=dict(type="data", array=[r.get("spread", 0) for r in rows], visible=any("spread" in r for r in rows)),
        text=[f"{r['precision']:.1%}" for r in rows], textposition="outside", marker_color=[
            PALETTE[i % len(PALETTE)] for i in range(len(rows))],
        hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.update_layout(title=title, height=80 + 34 * len(rows), margin=dict(l=10, r=40, t=40, b=10),
                      xaxis=dict(range=[0, 1], tickformat=".0%"), yaxis=dict(autorange="reversed"))
    return fig


def cooccurrence(words: list[str], X: np.ndarray) -> go.Figure:
    """The co-occurrence counts X_ij of a few words (weighted by 1/distance), on a log colour scale."""
    fig = go.Figure(go.Heatmap(z=np.log1p(X), x=words, y=words, colorscale="Blues", showscale=True,
                               text=np.round(X, 1), texttemplate="%{text}",
                               colorbar=dict(title="log(1 + X)"),
                               hovertemplate="X(%{y}, %{x}) = %{text}<extra></extra>"))
    fig.update_layout(title="Co-occurrence counts X_ij (each pair within the window adds 1 / distance)",
                      height=120 + 40 * len(words), margin=dict(l=10, r=10, t=50, b=10),
                      yaxis=dict(autorange="reversed"), xaxis=dict(side="top"))
    return fig


def score_bars(rows: dict[str, dict[str, float]]) -> go.Figure:
    """Grouped bars: WordSim-353 and SimLex-999 Spearman per model."""
    fig = go.Figure()
    for n, key, label in ((0, "wordsim353_spearman", "WordSim-353"), (1, "simlex999_spearman", "SimLex-999")):
        fig.add_trace(go.Bar(x=list(rows), y=[r.get(key, np.nan) for r in rows.values()], name=label,
                             marker_color=PALETTE[n], text=[f"{r.get(key, np.nan):.3f}" for r in rows.values()],
                             textposition="outside"))
    fig.update_layout(barmode="group", height=360, margin=dict(l=10, r=10, t=40, b=10),
                      title="Spearman correlation with human similarity ratings (higher = more human-like)",
                      yaxis=dict(title="Spearman rho"))
    return fig
