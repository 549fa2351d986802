"""The perceptual-distance lesson: pixels versus deep features. A picture shifted by a few pixels is far from itself
in pixel MSE and near in deep features; a different picture is the other way round."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import backbones, limits
from .pictures import EXAMPLES, MIN_SIZE, example, prepare


def feature_distance(fa: torch.Tensor, fb: torch.Tensor) -> float:
    """Distance of two feature maps: unit-normalise each position's feature vector, then mean squared difference
    (as LPIPS does, without its learnt weights). 0 = identical, 4 = opposite; unrelated pictures ~1-2."""
    na = fa / (fa.norm(dim=1, keepdim=True) + 1e-10)
    nb = fb / (fb.norm(dim=1, keepdim=True) + 1e-10)
    return float((na - nb).pow(2).sum(1).mean())


@torch.no_grad()
def perceptual_table(image, other, *, shifts=(1, 2, 4, 8), size: int = 224, backbone: str = "efficientnet-lite0",
                     device=None, other_name: str = "a different picture") -> list[dict]:
    """Compare a picture with copies shifted right by a few pixels and with a different picture, in pixel MSE and in
    feature distances at an early and a pre-final layer. One dict per comparison."""
    shifts = [int(s) for s in shifts]
    for s_ in shifts:
        limits.check_range("Shift", s_, 0, 32)
    limits.check_range("Size", size, MIN_SIZE, 512)
    bb = backbones.get_backbone(backbone, device)
    m = max(shifts)
    x = prepare(image, size + m, "picture")
    h, w = x.shape[-2], x.shape[-1] - m
    base = x[..., :, :w]
    copies = [x[..., :, s_:s_ + w] for s_ in shifts]          # the same scene, camera moved s pixels
    y = F.interpolate(prepare(other, size + m, "other picture"), size=(h, w), mode="bilinear", align_corners=False)
    batch = torch.cat([base] + copies + [y])
    layers = [bb.shallow_layer, bb.deep_layer]
    feats = bb.features(batch, layers)
    rows = []
    names = [f"shifted by {s_} px" for s_ in shifts] + [other_name]
    for i, name in enumerate(names, start=1):
        rows.append({"compared with": name,
                     "pixel MSE": float((batch[i] - batch[0]).pow(2).mean()),
                     f"feature distance, early ({bb.shallow_layer})": feature_distance(feats[layers[0]][i:i + 1],
                                                                                       feats[layers[0]][:1]),
                     f"feature distance, deep ({bb.deep_layer})": feature_distance(feats[layers[1]][i:i + 1],
                                                                                  feats[layers[1]][:1])})
    return rows


def shift_verdict(rows: list[dict], shift: int = 4) -> dict[str, bool]:
    """For each distance column: is the shifted copy ranked nearer than the different picture?"""
    row = next(r for r in rows if r["compared with"] == f"shifted by {shift} px")
    other = rows[-1]
    return {k: row[k] < other[k] for k in row if k != "compared with"}


def shift_ratios(rows: list[dict], shift: int = 4) -> dict[str, float]:
    """For each distance column: (distance to the shifted copy) / (distance to the different picture). Below 1 the
    shift is ranked nearer; the smaller, the more clearly that measure sees the same picture."""
    row = next(r for r in rows if r["compared with"] == f"shifted by {shift} px")
    other = rows[-1]
    return {k: row[k] / max(other[k], 1e-12) for k in row if k != "compared with"}


def shift_survey(names=None, shift: int = 4, size: int = 160, backbone: str = "efficientnet-lite0",
                 device=None) -> list[dict]:
    """The shift lesson on every ordered pair of built-in pictures: one dict per pair with the pixel-MSE ratio and
    the deep-feature ratio (shifted / different). What the page states about pixels versus deep features is what
    holds over these pairs (bench/bench_style.py reports the spread)."""
    names = list(names or EXAMPLES)
    out = []
    for a in names:
        for b in names:
            if a == b:
                continue
            rows = perceptual_table(example(a), example(b), shifts=(shift,), size=size, backbone=backbone,
                                    device=device)
            r = shift_ratios(rows, shift)
            deep = next(k for k in r if "deep" in k)
            out.append({"picture": a, "other": b, "pixel": r["pixel MSE"], "deep": r[deep]})
    return out
