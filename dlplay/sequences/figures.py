"""Plotly figures of the sequences page: functions of arrays, placed by the page."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..viz import PALETTE
from . import text as T


def _layout(fig: go.Figure, title: str, height: int = 340, **kw) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=50, r=10, t=40, b=40), **kw)
    return fig


def bpc_figure(bpc: dict[str, float], uniform: float = float(np.log2(T.V))) -> go.Figure:
    """Validation bits per character per model (bars), with the uniform guess as a line."""
    names = list(bpc)
    fig = go.Figure(go.Bar(x=names, y=[bpc[n] for n in names], text=[f"{bpc[n]:.2f}" for n in names],
                           textposition="outside", marker_color=[PALETTE[i % 10] for i in range(len(names))],
                           hovertemplate="%{x}: %{y:.3f} bits per character<extra></extra>"))
    fig.add_hline(y=uniform, line_dash="dot", annotation_text=f"uniform guess over {T.V} symbols: {uniform:.2f}")
    fig.update_yaxes(title="validation bits per character (lower is better)", range=[0, uniform * 1.15])
    return _layout(fig, "Held-out bits per character")


def next_char_figure(p: np.ndarray, chosen: str | None = None, top: int = 15, title: str = "") -> go.Figure:
    """The model's distribution over the next character: the `top` most likely, the chosen one highlighted."""
    idx = np.argsort(-p)[:top]
    labels = [repr(T.ALPHABET[i])[1:-1] if T.ALPHABET[i] != " " else "␣ (space)" for i in idx]
    colours = [PALETTE[3] if chosen is not None and T.ALPHABET[i] == chosen else PALETTE[0] for i in idx]
    fig = go.Figure(go.Bar(x=labels, y=p[idx], marker_color=colours,
                           hovertemplate="next = %{x}: p = %{y:.3f}<extra></extra>"))
    fig.update_yaxes(title="probability of the next character", range=[0, 1])
    return _layout(fig, title or f"p(next character): the {top} most likely (red: the one drawn)", 300)


def gradient_figure(curves: dict[str, np.ndarray]) -> go.Figure:
    """||dL_T/ds_{T-k}|| / ||dL_T/ds_T|| against k, log scale: how much of the last step's error reaches back."""
    fig = go.Figure()
    for i, (name, g) in enumerate(curves.items()):
        g = np.asarray(g, np.float64)
        fig.add_trace(go.Scatter(x=np.arange(len(g)), y=g / max(g[0], 1e-30), name=name, mode="lines+markers",
                                 marker_size=4, line_color=PALETTE[i % 10],
                                 hovertemplate=name + ": k=%{x}, ratio %{y:.2e}<extra></extra>"))
    fig.update_xaxes(title="k: steps back from the last one")
    fig.update_yaxes(title="||dL_T/ds_T-k|| / ||dL_T/ds_T||", type="log", exponentformat="power")
    return _layout(fig, "The gradient of the last step's loss, k steps back", 380)


def copy_figure(sweep: dict[str, float], live: dict[str, tuple[int, float]] | None = None,
                chance: float = 1 / 8) -> go.Figure:
    """Accuracy against delay for the RNN and the LSTM (keys like 'rnn_d20'); `live` adds points of models the
    user trained: {label: (delay, accuracy)}."""
    fig = go.Figure()
    for i, arch in enumerate(("rnn", "lstm")):
        pts = sorted((int(k.split("_d")[1]), v) for k, v in sweep.items() if k.startswith(arch + "_d"))
        if pts:
            fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines+markers",
                                     name={"rnn": "vanilla RNN (tanh)", "lstm": "LSTM"}[arch],
                                     line_color=PALETTE[i]))
    for j, (label, (d, acc)) in enumerate((live or {}).items()):
        fig.add_trace(go.Scatter(x=[d], y=[acc], mode="markers", name=label, marker=dict(size=14, symbol="star",
                                 color=PALETTE[2 + j % 8])))
    fig.add_hline(y=chance, line_dash="dot", annotation_text=f"chance ({chance:.1%})")
    fig.update_xaxes(title="delay: distractor symbols between the symbol and the question")
    fig.update_yaxes(title="accuracy on 1,000 fresh sequences", range=[0, 1.05], tickformat=".0%")
    return _layout(fig, "Remember the first symbol", 360)


def length_figure(lengths, curves: dict[str, list[float]], trained_max: int) -> go.Figure:
    """Exact-match rate against input length per model; the trained lengths shaded."""
    fig = go.Figure()
    for i, (name, acc) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=list(lengths), y=acc, name=name, mode="lines+markers", line_color=PALETTE[i]))
    fig.add_vrect(x0=0.5, x1=trained_max + 0.5, fillcolor="grey", opacity=0.12, line_width=0,
                  annotation_text="trained lengths", annotation_position="top left")
    fig.update_xaxes(title="number of digits in the input", dtick=1)
    fig.update_yaxes(title="exactly reversed (share of 300 strings)", range=[0, 1.05], tickformat=".0%")
    return _layout(fig, "Reversal accuracy against length", 360)


def attention_figure(att: np.ndarray, inputs: str, outputs: str) -> go.Figure:
    """The attention weights a_ti: one row per output symbol, one column per input symbol."""
    fig = go.Figure(go.Heatmap(z=att, x=[f"{c} ({i + 1})" for i, c in enumerate(inputs)],
                               y=[f"{c} ({t + 1})" for t, c in enumerate(outputs)], colorscale="Blues", zmin=0, zmax=1,
                               colorbar=dict(title="a_ti"),
                               hovertemplate="output %{y} looks at input %{x}: %{z:.2f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title="output symbol (t)")
    fig.update_xaxes(title="input symbol (i)")
    return _layout(fig, "Where the decoder looks: attention weights", 420)


def likelihood_figure(rows: dict[str, float]) -> go.Figure:
    """Negative test log-likelihood (or its ELBO bound) in nats per image, one bar per model."""
    names = list(rows)
    fig = go.Figure(go.Bar(x=names, y=[rows[n] for n in names], text=[f"{rows[n]:.1f}" for n in names],
                           textposition="outside", marker_color=[PALETTE[i % 10] for i in range(len(names))]))
    fig.update_yaxes(title="nats per test image (lower is better)", rangemode="tozero")
    return _layout(fig, "Binarised test digits: -log p(x) (PixelCNN, exact) vs -ELBO (VAE, a bound)")
