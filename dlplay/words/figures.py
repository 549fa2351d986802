"""Plotly figures of the Words page: bag-of-words vectors, classifier weights, the softmax cost, neighbours."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

POS, NEG = "#2ca02c", "#d62728"


def bow_heatmap(vocab: list[str], counts: np.ndarray, row_names: list[str]) -> go.Figure:
    """Bag-of-words vectors as a table: one row per sentence, one column per vocabulary word."""
    fig = go.Figure(go.Heatmap(z=counts, x=vocab, y=row_names, colorscale="Blues", showscale=False,
                               text=counts, texttemplate="%{text}", hovertemplate="%{y}, '%{x}': %{z}<extra></extra>"))
    fig.update_layout(height=140 + 60 * len(row_names), margin=dict(l=10, r=10, t=80, b=10),
                      title=dict(text="Bag-of-words vectors (count of each vocabulary word)", y=0.97, yanchor="top"),
                      xaxis=dict(side="top"))
    return fig


def word_weights(pos: list[tuple[str, float]], neg: list[tuple[str, float]]) -> go.Figure:
    """Horizontal bars: the most positive and the most negative weights of the linear classifier."""
    items = sorted(neg + pos, key=lambda t: t[1])
    fig = go.Figure(go.Bar(x=[w for _, w in items], y=[t for t, _ in items], orientation="h",
                           marker_color=[POS if w > 0 else NEG for _, w in items],
                           hovertemplate="%{y}: weight %{x:.3f}<extra></extra>"))
    fig.update_layout(height=max(300, 22 * len(items)), margin=dict(l=10, r=10, t=40, b=10),
                      title="Classifier weight per word (> 0 pushes towards positive)", xaxis_title="weight w_j")
    return fig


def softmax_cost(rows: list[dict]) -> go.Figure:
    """Milliseconds per training step against vocabulary size, one line per output layer."""
    names = {"softmax": "full softmax", "negative": "negative sampling", "hierarchical": "hierarchical softmax"}
    colors = {"softmax": NEG, "negative": POS, "hierarchical": "#1f77b4"}
    fig = go.Figure()
    for loss in names:
        r = [x for x in rows if x["loss"] == loss]
        if r:
            fig.add_trace(go.Scatter(x=[x["vocab"] for x in r], y=[x["ms_per_step"] for x in r], name=names[loss],
                                     mode="lines+markers", line=dict(color=colors[loss], width=3), marker_size=9))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.2),
                      title=f"Time per training step (batch of {rows[0]['batch'] if rows else '?'} word pairs)",
                      xaxis=dict(title="vocabulary size V", type="log"), yaxis=dict(title="milliseconds per step"))
    return fig


def neighbours(items: list[tuple[str, float]], title: str) -> go.Figure:
    items = items[::-1]
    fig = go.Figure(go.Bar(x=[s for _, s in items], y=[w for w, _ in items], orientation="h", marker_color="#1f77b4",
                           text=[f"{s:.2f}" for _, s in items], textposition="inside",
                           hovertemplate="%{y}: cosine %{x:.3f}<extra></extra>"))
    fig.update_layout(height=60 + 30 * len(items), margin=dict(l=10, r=10, t=40, b=10), title=title,
                      xaxis=dict(title="cosine similarity", range=[min(0, min((s for _, s in items), default=0)), 1]))
    return fig


def class_words(top: dict[str, list[tuple[str, float]]], title: str | None = None) -> go.Figure:
    """One bar panel per class: the words with the largest weight towards that class (two classes: one panel
    with the first class's words in red to the left and the second's in green to the right)."""
    from plotly.subplots import make_subplots

    names = list(top)
    if len(names) == 2:
        fig = word_weights(top[names[1]], [(w, -v) for w, v in top[names[0]]])
        fig.update_layout(title=title or f"Weight per word (> 0 pushes towards '{names[1]}', < 0 towards "
                                         f"'{names[0]}')")
        return fig
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.06)
    for i, name in enumerate(names):
        items = top[name][::-1]
        fig.add_trace(go.Bar(x=[v for _, v in items], y=[w for w, _ in items], orientation="h", showlegend=False,
                             marker_color=palette[i % len(palette)],
                             hovertemplate=f"%{{y}}: weight towards {name} %{{x:.3f}}<extra></extra>"),
                      row=1, col=i + 1)
    k = max(len(v) for v in top.values())
    fig.update_layout(height=max(300, 24 * k + 80), margin=dict(l=10, r=10, t=70, b=10),
                      title=title or "Words with the largest weight towards each class (weight w_cj)")
    return fig
