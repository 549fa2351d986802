"""The figures: accuracy against label count, frozen against fine-tuned bars, free-energy histograms, the Gibbs
chains' animation, the DBN's reconstruction errors."""

from __future__ import annotations

import numpy as np
import torch

from .models import BACKBONE_METHODS, BACKBONE_NAMES, DBN_METHODS, DBN_NAMES, STACK_METHODS, STACK_NAMES


# -- figures (plotly) ----------------------------------------------------------------------------------------------
def accuracy_figure(points: dict[int, dict[str, float]], title: str | None = None):
    """Test accuracy against labels per class (log axis), one line per method, error bars = std over seeds."""
    import plotly.graph_objects as go

    from ..viz import PALETTE

    fig = go.Figure()
    xs = sorted(points)
    for i, m in enumerate(STACK_METHODS):
        fig.add_trace(go.Scatter(
            x=xs, y=[points[x][m] for x in xs], mode="lines+markers", name=STACK_NAMES[m],
            error_y=dict(type="data", array=[points[x].get(f"{m}_std", 0.0) for x in xs], visible=True),
            line=dict(color=PALETTE[i]),
            hovertemplate="%{x} labels per class: %{y:.1%}<extra>" + STACK_NAMES[m] + "</extra>"))
    fig.update_layout(title=title, height=380, xaxis=dict(title="labelled images per class", type="log",
                      tickvals=xs), yaxis=dict(title="test accuracy (360 digits)", tickformat=".0%"),
                      margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def backbone_figure(points: dict[int, dict[str, float]]):
    """Grouped bars: test accuracy of the frozen and the fine-tuned backbone per label count (std as error bar)."""
    import plotly.graph_objects as go

    xs = sorted(points)
    fig = go.Figure([go.Bar(name=BACKBONE_NAMES[m], x=[f"{x} labels per class" for x in xs],
                            y=[points[x][m] for x in xs], text=[f"{points[x][m]:.1%}" for x in xs],
                            textposition="outside",
                            error_y=dict(type="data", array=[points[x].get(f"{m}_std", 0) for x in xs], visible=True))
                     for m in BACKBONE_METHODS])
    fig.update_layout(barmode="group", height=340, yaxis=dict(title="test accuracy (360 digits)", tickformat=".0%",
                      range=[0, 1.08]), margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def free_energy_figure(real: np.ndarray, shuffled: np.ndarray):
    """Histograms of F(v) for real test digits and for their pixel-shuffled copies."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Histogram(x=real, name="real test digits", opacity=0.65, nbinsx=50))
    fig.add_trace(go.Histogram(x=shuffled, name="the same digits, pixels shuffled", opacity=0.65, nbinsx=50))
    fig.update_layout(barmode="overlay", height=320, xaxis_title="free energy F(v) (lower = more probable)",
                      yaxis_title="test images", margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def chain_figure(steps: list[int], frames: torch.Tensor, ncols: int = 8):
    """An animation of the Gibbs chains: one frame per snapshot (the mean-field images p(v | h)), a Play button and
    a slider over the Gibbs step."""
    import plotly.graph_objects as go

    from ..viz import tile

    mosaics = [tile(f, ncols) for f in frames]
    fig = go.Figure(go.Image(z=mosaics[0], hoverinfo="skip"),
                    frames=[go.Frame(data=[go.Image(z=m)], name=str(s)) for s, m in zip(steps, mosaics)])
    slider = dict(active=0, currentvalue=dict(prefix="Gibbs step "), pad=dict(t=30),
                  steps=[dict(label=str(s), method="animate",
                              args=[[str(s)], dict(mode="immediate", frame=dict(duration=0, redraw=True))])
                         for s in steps])
    fig.update_layout(
        height=int(min(600, 80 + 420 * mosaics[0].shape[0] / mosaics[0].shape[1])), sliders=[slider],
        margin=dict(l=0, r=0, t=10, b=10), xaxis=dict(visible=False), yaxis=dict(visible=False),
        updatemenus=[dict(type="buttons", showactive=False, x=0, y=-0.05, xanchor="left", yanchor="top",
                          buttons=[dict(label="Play", method="animate",
                                        args=[None, dict(frame=dict(duration=250, redraw=True), fromcurrent=True)])])])
    return fig


def mse_bars(summary: dict[str, float], pca_mse: float | None = None):
    """Test reconstruction error of the DBN-initialised and the randomly initialised autoencoder (std as error bar)."""
    import plotly.graph_objects as go

    names = [DBN_NAMES[m] for m in DBN_METHODS]
    ys = [summary[m] for m in DBN_METHODS]
    err = [summary.get(f"{m}_std", 0.0) for m in DBN_METHODS]
    if pca_mse is not None:
        names, ys, err = names + ["PCA, same code size"], ys + [pca_mse], err + [0.0]
    fig = go.Figure(go.Bar(x=names, y=ys, error_y=dict(type="data", array=err, visible=True),
                           text=[f"{y:.4f}" for y in ys], textposition="outside"))
    fig.update_layout(height=320, yaxis_title="test MSE per pixel", margin=dict(l=10, r=10, t=10, b=10))
    return fig
