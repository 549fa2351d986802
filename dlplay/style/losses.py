"""The losses of style transfer (Gatys, Ecker & Bethge, CVPR 2016), with F^l the feature maps of layer l flattened
to C_l x M_l: the Gram matrix (eq. 3), the content loss (eq. 1), the style loss (eqs. 4-5), total variation, and the
colour transfer the picture starts from (Gatys et al. 2017)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gram_matrix(f: torch.Tensor) -> torch.Tensor:
    """Gram matrices G = F F^T / (C M) of feature maps f (N, C, H, W) -> (N, C, C) (Gatys eq. 3).

    G_ij is how strongly feature i and feature j fire together, averaged over all positions: where things are is
    forgotten, which textures co-occur is kept. That is the 'style'.
    """
    n, c, h, w = f.shape
    # F^T as (N, M, C): a free view of the channels-last maps the backbone returns (reshaping to (N, C, M) would
    # copy them, forward and backward: 7% of a style-transfer step on a CPU).
    flat_t = f.permute(0, 2, 3, 1).reshape(n, h * w, c)
    return flat_t.transpose(1, 2) @ flat_t / (c * h * w)


def content_loss(f: torch.Tensor, target: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Mean squared difference of feature maps (Gatys eq. 1), divided by `scale` (we use the mean square of the
    target's features, so the loss is a relative error: 0 = same content, about 1-2 = unrelated picture)."""
    return F.mse_loss(f, target) / scale


def style_loss(grams: dict[str, torch.Tensor], targets: dict[str, torch.Tensor],
               scale: dict[str, float] | None = None) -> torch.Tensor:
    """Average over the style layers of the mean squared Gram difference (Gatys eqs. 4-5, equal w_l).

    `scale[l]` divides layer l's term (we use the mean square of the style image's own Gram matrix, so that each
    layer's term is a relative error and layers with large activations do not drown the others).
    """
    terms = [F.mse_loss(grams[k], targets[k]) / (scale[k] if scale else 1.0) for k in targets]
    return torch.stack(terms).mean() if terms else torch.zeros(())


def match_colours(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """x (1, 3, H, W) recoloured so its colours have the mean and the 3 x 3 covariance of ref's: the linear colour
    transfer x' = A (x - mu_x) + mu_ref with A = S_ref^(1/2) S_x^(-1/2) (Gatys et al. 2017, "Controlling Perceptual
    Factors in Neural Style Transfer", section 5.1). Optimising pixels changes fine texture quickly but the colours of
    a whole picture slowly, so starting from the content picture in the style's colours leaves the optimiser the
    texture to do."""
    def stats(t: torch.Tensor):
        f = t.reshape(3, -1).double()
        m = f.mean(1, keepdim=True)
        cov = (f - m) @ (f - m).T / f.shape[1] + 1e-5 * torch.eye(3, dtype=f.dtype, device=f.device)
        e, v = torch.linalg.eigh(cov)
        return m, v, e.clamp(min=1e-8)

    mx, vx, ex = stats(x[0])
    mr, vr, er = stats(ref[0])
    a = vr @ torch.diag(er.sqrt()) @ vr.T @ vx @ torch.diag(ex.rsqrt()) @ vx.T
    out = a @ (x[0].reshape(3, -1).double() - mx) + mr
    return out.reshape(x.shape).to(x.dtype).clamp(0, 1)


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Total variation: mean absolute difference between neighbouring pixels (keeps the result smooth)."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()
