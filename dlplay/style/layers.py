"""Looking inside: Gram matrices, feature maps, what each layer carries (the Gram matrix of one layer with its most
active maps, its heatmap, and pictures grown from noise to match a shallow or a deep layer only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F

from .. import backbones, limits
from ..device import get_device
from ..errors import InputError
from ..train import Trainer
from .losses import gram_matrix
from .pictures import MIN_SIZE, max_size, prepare
from .task import StyleConfig, StyleTransferTask


@torch.no_grad()
def gram_view(img, layer: str, *, size: int = 256, n_maps: int = 8, backbone: str = "efficientnet-lite0",
              device=None) -> dict:
    """The Gram matrix of one layer for a picture, plus its most active feature maps (normalised to [0, 1])."""
    bb = backbones.get_backbone(backbone, device)
    if layer not in bb.layers:
        raise InputError(f"Unknown layer {layer!r}: choose from {', '.join(bb.layers)}.")
    x = prepare(img, size, "style picture")
    f = bb.features(x, [layer])[layer].float()
    g = gram_matrix(f)[0].cpu().numpy()
    energy = f[0].pow(2).mean((1, 2))
    idx = energy.argsort(descending=True)[:n_maps]
    maps = f[0, idx].cpu()
    lo = maps.amin((1, 2), keepdim=True)
    hi = maps.amax((1, 2), keepdim=True)
    maps = ((maps - lo) / (hi - lo + 1e-8))[:, None]
    return {"gram": g, "maps": maps, "channels": idx.tolist(), "shape": tuple(f.shape[1:])}


def gram_figure(g: np.ndarray, title: str = "Gram matrix") -> go.Figure:
    """Heatmap of a C x C Gram matrix: bright cells are pairs of features that fire together."""
    fig = go.Figure(go.Heatmap(z=g, colorscale="Viridis", colorbar=dict(title="G_ij"),
                               hovertemplate="feature %{y} x feature %{x}: %{z:.3g}<extra></extra>"))
    fig.update_layout(title=title, height=460, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis=dict(title="feature j", constrain="domain"),
                      yaxis=dict(title="feature i", autorange="reversed", scaleanchor="x"))
    return fig


@dataclass
class LayerResult:
    title: str
    image: torch.Tensor          # (3, H, W) in [0, 1]
    pixel_mse: float             # mean squared pixel difference to the picture it was asked to match
    caption: str


def layer_comparison(content, style, *, size: int = 128, steps: int = 100, seed: int = 0,
                     backbone: str = "efficientnet-lite0", device=None, lr: float = 0.1,
                     callback=None) -> list[LayerResult]:
    """Four pictures grown from the same noise: the content of a shallow vs a deep layer only (no style term), and
    the Gram matrices of one shallow layer vs several layers only (no content term).

    Each result carries its pixel MSE to the picture it matched: shallow content rebuilds the pixels themselves
    (a small MSE), deep content only what the deep layer keeps (a larger MSE; see the pictures for what survives).
    `callback(i, n)` is called after each of the four runs (for a progress bar)."""
    device = get_device(device) if isinstance(device, str) or device is None else device
    limits.check_range("Size", size, MIN_SIZE, max_size(device))
    limits.check_range("Steps", steps, 1, 500)
    if content is None or style is None:
        raise InputError("Choose or upload both pictures first.")
    bb = backbones.get_backbone(backbone, device)
    shallow, deep = bb.layers[1], bb.layers[-4]            # stage1 vs stage5 / relu1_2 vs relu5_x
    one, several = bb.style_layers[:1], bb.style_layers
    runs = [(f"content from {shallow} (shallow)", "content", dict(content_layer=shallow, style_weight=0.0)),
            (f"content from {deep} (deep)", "content", dict(content_layer=deep, style_weight=0.0)),
            (f"style from {one[0]} only", "style", dict(style_layers=tuple(one), content_weight=0.0)),
            (f"style from {', '.join(several)}", "style", dict(style_layers=tuple(several), content_weight=0.0))]
    out = []
    for i, (title, target, kw) in enumerate(runs):
        cfg = StyleConfig(size=size, backbone=backbone, init="noise", lr=lr, schedule_steps=steps, tv_weight=0.5,
                          **kw)
        task = StyleTransferTask(content, style, cfg, seed=seed, device=device)
        Trainer(task).run(steps=steps, evaluate=False)
        img = task.result()
        ref = (task.content_img if target == "content" else
               F.interpolate(task.style_img, size=img.shape[-2:], mode="bilinear", align_corners=False))[0].cpu()
        mse = float((img - ref).pow(2).mean())
        out.append(LayerResult(title, img, mse, f"pixel MSE to the {target} picture: {mse:.3f}"))
        if callback is not None:
            callback(i + 1, len(runs))
    return out
