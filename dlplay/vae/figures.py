"""The VAE page's figures (plotly): the manifold grid, the encoder's posteriors, the beta trade-off."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .. import viz
from .beta import collapsed
from .latent import prior_grid


def manifold_figure(images: np.ndarray, n: int, dims=(0, 1), height: int = 720) -> go.Figure:
    """The grid as one big image, axes labelled with the z values of the grid's columns and rows."""
    # A thin dark line between tiles: 8x8 digits touching each other read as stripes.
    mosaic = viz.tile(images, n, pad=1, pad_value=0.3)
    h = (mosaic.shape[0] - 1) // n  # tile side plus its padding
    g = prior_grid(n)
    fig = go.Figure(go.Image(z=mosaic, hoverinfo="skip"))
    ticks = list(range(0, n, max(1, n // 7)))
    fig.update_xaxes(tickvals=[1 + h * k + (h - 1) / 2 for k in ticks], ticktext=[f"{g[k]:.1f}" for k in ticks],
                     title=f"z{dims[0] + 1}")
    fig.update_yaxes(tickvals=[1 + h * k + (h - 1) / 2 for k in ticks], ticktext=[f"{g[::-1][k]:.1f}" for k in ticks],
                     title=f"z{dims[1] + 1}")
    fig.update_layout(height=height, margin=dict(l=50, r=10, t=10, b=40))
    return fig


def encoder_figure(mu: np.ndarray, sd: np.ndarray, labels, class_names, n_ellipses: int = 150,
                   images=None) -> go.Figure:
    """Posterior means coloured by label; for a 2-D latent also one-standard-deviation ellipses of q(z|x) for
    the first n_ellipses points. Larger latents are projected on their two main principal directions."""
    labels = np.asarray(labels)
    d = mu.shape[1]
    if d > 2:
        from sklearn.decomposition import PCA

        xy = PCA(n_components=2, random_state=0).fit_transform(mu)
        title = f"Posterior means of {len(mu)} test images (PCA of the {d}-D codes)"
    else:
        xy, title = mu, f"Posterior means of {len(mu)} test images, with 1-sigma ellipses of q(z|x)"
    hover = [f"{class_names[int(y)]}" for y in labels]
    fig = viz.scatter(xy, labels, hover=hover, class_names=class_names, title=title, marker_size=6)
    if d == 2 and np.isfinite(sd).all() and sd.max() > 0:
        t = np.linspace(0, 2 * np.pi, 25)
        for k, lab in enumerate(np.unique(labels)):
            idx = np.flatnonzero(labels == lab)[: max(1, n_ellipses // len(np.unique(labels)))]
            xs, ys = [], []
            for r in idx:
                xs += list(mu[r, 0] + sd[r, 0] * np.cos(t)) + [None]
                ys += list(mu[r, 1] + sd[r, 1] * np.sin(t)) + [None]
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                                     line=dict(width=1, color=viz.PALETTE[k % len(viz.PALETTE)]), opacity=0.35))
    fig.update_xaxes(title="z1" if d <= 2 else "PC 1")
    fig.update_yaxes(title="z2" if d <= 2 else "PC 2")
    return fig


def beta_figure(rows: list[dict], height: int = 430) -> go.Figure:
    """Sampling quality and active units against beta, one column per beta, with each beta's decoded prior
    samples underneath; betas where the posterior collapsed are shaded and named."""
    from plotly.subplots import make_subplots

    betas = [r["beta"] for r in rows]
    x = [f"{b:g}" for b in betas]
    has_q = all("sampled_digits" in r for r in rows)
    fig = make_subplots(rows=2, cols=1, row_heights=[0.68, 0.32], vertical_spacing=0.1,
                        specs=[[{"secondary_y": True}], [{}]])
    if has_q:
        fig.add_trace(go.Bar(x=x, y=[r["sampled_digits"] * 100 for r in rows], name="prior samples judged digits (%)",
                             marker_color=viz.PALETTE[0], opacity=0.75,
                             text=[f"{r['sampled_digits']:.0%}" for r in rows], textposition="outside"), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=[r["active_units"] for r in rows], mode="lines+markers+text",
                             name=f"active latent units (of {rows[0]['latent']})", marker=dict(size=10),
                             line=dict(color=viz.PALETTE[3], width=3), text=[str(r["active_units"]) for r in rows],
                             textposition="top center"), 1, 1, secondary_y=True)
    for i, r in enumerate(rows):
        if collapsed(r):
            fig.add_vrect(x0=i - 0.5, x1=i + 0.5, fillcolor="grey", opacity=0.15, line_width=0, row=1, col=1)
            fig.add_annotation(x=x[i], y=1.02, yref="y domain", text="posterior collapse", showarrow=False,
                               font=dict(color="firebrick"), row=1, col=1)
    # the decoded prior samples of each beta: one strip of tiles per column
    strips = [viz.tile(np.asarray(r["samples"], np.float32)[:, None] / 255.0, 4, pad=1, pad_value=0.3)
              for r in rows]
    gap = np.full((strips[0].shape[0], 3, *strips[0].shape[2:]), 255, strips[0].dtype)
    mosaic = np.concatenate([np.concatenate([s, gap], 1) for s in strips], 1)
    fig.add_trace(go.Image(z=mosaic, hoverinfo="skip"), 2, 1)
    fig.update_xaxes(title="beta (weight of the KL term)", type="category", row=1, col=1)
    fig.update_xaxes(visible=False, row=2, col=1)
    fig.update_yaxes(visible=False, row=2, col=1)
    fig.update_yaxes(title="prior samples judged digits (%)", range=[0, 115], row=1, col=1, secondary_y=False)
    fig.update_yaxes(title="active latent units", range=[-0.2, rows[0]["latent"] * 1.25 + 0.2], row=1, col=1,
                     secondary_y=True, showgrid=False, tickmode="linear", tick0=0,
                     dtick=max(1, rows[0]["latent"] // 4))
    fig.update_layout(height=height, margin=dict(l=50, r=50, t=30, b=10), barmode="overlay",
                      legend=dict(orientation="h", y=-0.02, yanchor="top"))
    return fig
