"""The Autoencoder Lab's own figures (plotly), built from arrays; pages only place them."""

from __future__ import annotations

import numpy as np


def _layout(fig, height=320, **kw):
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=1.12), **kw)
    return fig


def code_histogram(codes: dict[str, np.ndarray]):
    """Histogram of code activations for one or more models, with the share of exact zeros in each legend entry
    (zeros are drawn as their own bar at 0, so the pile-up the penalty makes is visible)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    hi = max(float(np.max(np.asarray(z))) for z in codes.values()) or 1.0
    for name, z in codes.items():
        z = np.asarray(z).ravel()
        fig.add_trace(go.Histogram(x=z, name=f"{name}: {np.mean(z == 0):.0%} exactly zero",
                                   histnorm="probability", opacity=0.6, xbins=dict(start=-hi / 80, end=hi, size=hi / 40)))
    return _layout(fig, barmode="overlay", xaxis_title="code number (value over all test images and units)",
                   yaxis_title="share of all code numbers")


def knockout_figure(curves: dict[str, dict[int, float]], code_size: int):
    """Test MSE against the number of code units knocked out at test time, one line per model."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, c in curves.items():
        fig.add_trace(go.Scatter(x=list(c), y=list(c.values()), mode="lines+markers", name=name))
    return _layout(fig, xaxis_title=f"code numbers set to 0 at test time (of {code_size})",
                   yaxis_title="test MSE per pixel")


def weight_histogram(weights: dict[str, np.ndarray]):
    """Histogram of first-layer weights per model, with the count of exact zeros in the legend."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, w in weights.items():
        w = np.asarray(w).ravel()
        fig.add_trace(go.Histogram(x=w, name=f"{name}: {int(np.sum(w == 0)):,} of {w.size:,} exactly 0",
                                   histnorm="probability", opacity=0.6, nbinsx=80))
    return _layout(fig, barmode="overlay", xaxis_title="first-layer weight", yaxis_title="share of weights")


def factor_plot(code: np.ndarray, factor: np.ndarray, factor_name: str, labels=None):
    """A one-number code against a known factor (e.g. the angle): a clean curve means the code found the factor."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=factor, y=code, mode="markers", marker=dict(size=5, color=factor,
                               colorscale="Viridis", showscale=False), hovertemplate=f"{factor_name} %{{x:.1f}}"
                               "<br>code %{y:.3f}<extra></extra>"))
    fig.update_layout(height=420, xaxis_title=f"true {factor_name}", yaxis_title="code (z1)",
                      margin=dict(l=10, r=10, t=10, b=10))
    return fig


CODE_MAP_TSNE_POINTS = 3_000   # t-SNE of the codes runs on at most this many (a seeded sample; ~10 s here)


def code_map(codes: np.ndarray, method: str = "PCA", max_points: int = CODE_MAP_TSNE_POINTS) -> np.ndarray:
    """2-D coordinates of the codes: the code itself when it has 2 numbers, else PCA or t-SNE of the codes. t-SNE
    maps a seeded sample of at most `max_points` codes; the other rows are NaN (a plot leaves them out)."""
    codes = np.asarray(codes, np.float64)
    if codes.shape[1] <= 2:
        return codes if codes.shape[1] == 2 else np.c_[codes, np.zeros(len(codes))]
    if method == "t-SNE":
        from sklearn.manifold import TSNE

        idx = np.arange(len(codes))
        if len(codes) > max_points:
            idx = np.sort(np.random.default_rng(0).choice(len(codes), max_points, replace=False))
        out = np.full((len(codes), 2), np.nan)
        out[idx] = TSNE(2, perplexity=min(30, len(idx) - 1), random_state=0, init="pca").fit_transform(codes[idx])
        return out
    from sklearn.decomposition import PCA

    return PCA(2, random_state=0).fit_transform(codes)
