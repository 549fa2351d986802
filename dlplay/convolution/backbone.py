"""What the layers of the offline ImageNet network (EfficientNet-Lite0) respond to: its layers' receptive fields,
the most active channels' maps for a picture, the patches that excite a channel most, and gradient ascent on the
input for one channel (`make_visualise_task`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..device import seed_everything
from ..errors import InputError
from ..topics import Config
from ..train import Task
from .network import map_tiles, picture_input
from .stack import Layer


# ------------------------------------------------------------------------------------------------------------------
# What the layers of a pretrained ImageNet network see
# ------------------------------------------------------------------------------------------------------------------

SHALLOW, MIDDLE, DEEP = "stem", "stage3", "stage6"
LITE0_CHANNELS = {"stem": 32, "stage1": 16, "stage2": 24, "stage3": 40, "stage4": 80, "stage5": 112,
                  "stage6": 192, "stage7": 320, "head": 1280}


def lite0_layers() -> list[Layer]:
    """EfficientNet-Lite0's spatial arithmetic as a stack (1x1 convolutions do not change the receptive field)."""
    from ..backbones import LITE0_STAGES
    layers = [Layer("conv", (32, 3, 2, 1, 1))]
    for k, s, _, _, c_out, r in LITE0_STAGES:
        for i in range(r):
            layers.append(Layer("conv", (c_out, k, s if i == 0 else 1, k // 2, 1)))
    return layers


def lite0_receptive_fields() -> dict[str, int]:
    """Receptive field (pixels) of one value at each named EfficientNet-Lite0 layer, by the same recurrence as
    layer_table (padding moves a receptive field but does not change its size)."""
    from ..backbones import LITE0_STAGES
    layers = lite0_layers()
    ends = np.cumsum([r for *_, r in LITE0_STAGES]).tolist()     # index of each stage's last block
    rf, jump, out = 1, 1, {}
    for idx, layer in enumerate(layers):
        rf += (layer.k_eff - 1) * jump
        jump *= layer.args[2]
        if idx == 0:
            out["stem"] = rf
        elif idx in ends:
            out[f"stage{ends.index(idx) + 1}"] = rf
    out["head"] = rf
    return out


def backbone_input(img, side: int = 224) -> torch.Tensor:
    """A PIL picture as (1, 3, H, W) in [0, 1] with its short side resized to `side` (a 512x512 upload -> 224)."""
    from PIL import Image
    w, h = img.size
    s = side / min(w, h)
    img = img.convert("RGB").resize((max(32, round(w * s)), max(32, round(h * s))), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(img, np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()


@torch.no_grad()
def backbone_maps(x: torch.Tensor, layers: Sequence[str] = (SHALLOW, MIDDLE, DEEP), top: int = 8,
                  device=None) -> dict[str, tuple[torch.Tensor, list[int]]]:
    """For each layer: its `top` most active channels' maps (top, 1, H, W) scaled to [0, 1], and their indices."""
    from ..backbones import get_backbone
    bb = get_backbone("efficientnet-lite0", device)
    feats = bb.features(x, list(layers))
    out = {}
    for name in layers:
        f = feats[name][0].float().cpu()
        order = f.mean((1, 2)).argsort(descending=True)[:top].tolist()
        out[name] = (map_tiles(f[order], top), order)
    return out


PATCH, PATCH_STRIDE, PATCH_IMAGE = 64, 32, 256


@functools.cache
def patch_bank() -> torch.Tensor:
    """Patches (N, 3, 64, 64) cut from the built-in photos and textures (each centre-cropped to 256x256)."""
    from .. import style
    out = []
    for name in style.EXAMPLES:
        x = picture_input(style.example(name), PATCH_IMAGE)[0]
        p = x.unfold(1, PATCH, PATCH_STRIDE).unfold(2, PATCH, PATCH_STRIDE)   # (3, n, n, 64, 64)
        out.append(p.permute(1, 2, 0, 3, 4).reshape(-1, 3, PATCH, PATCH))
    return torch.cat(out)


_PATCH_SCORES: dict[str, dict[str, torch.Tensor]] = {}


def patch_scores_ready(device=None) -> bool:
    return str(device) in _PATCH_SCORES


@torch.no_grad()
def patch_scores(layer: str, device=None, batch: int = 64, progress=None) -> torch.Tensor:
    """(N_patches, C) mean activation of every channel of `layer` on every patch of the bank. All named layers
    are computed in one pass the first time (a few seconds on a CPU; `progress(fraction)` is told), then cached."""
    from ..backbones import get_backbone
    key = str(device)
    if key not in _PATCH_SCORES:
        bb = get_backbone("efficientnet-lite0", device)
        bank = patch_bank()
        names = list(LITE0_CHANNELS)
        parts: dict[str, list[torch.Tensor]] = {n: [] for n in names}
        for i in range(0, len(bank), batch):
            feats = bb.features(bank[i:i + batch], names)
            for n in names:
                parts[n].append(feats[n].float().mean((2, 3)).cpu())
            if progress is not None:
                progress(min(1.0, (i + batch) / len(bank)))
        _PATCH_SCORES[key] = {n: torch.cat(v) for n, v in parts.items()}
    return _PATCH_SCORES[key][layer]


def top_patches(layer: str, channel: int, k: int = 12, device=None) -> tuple[torch.Tensor, list[float]]:
    """The k patches of the bank that most activate one channel, and their mean activations."""
    if layer not in LITE0_CHANNELS:
        raise InputError(f"Unknown layer {layer!r}: choose one of {', '.join(LITE0_CHANNELS)}.")
    if not 0 <= channel < LITE0_CHANNELS[layer]:
        raise InputError(f"Layer {layer} has channels 0 to {LITE0_CHANNELS[layer] - 1}, not {channel}.")
    s = patch_scores(layer, device)[:, channel]
    v, i = s.topk(k)
    return patch_bank()[i], [float(a) for a in v]


@dataclass(frozen=True)
class VisConfig(Config):
    """Gradient ascent on the input: find a picture that excites one channel of one layer."""
    layer: str = MIDDLE
    channel: int = 0
    size: int = 96
    lr: float = 0.05
    jitter: int = 4

    def check(self):
        self.one_of("layer", list(LITE0_CHANNELS))
        self.in_range("channel", 0, LITE0_CHANNELS[self.layer] - 1)
        self.in_range("size", 32, 224, "picture size")
        self.in_range("lr", 1e-4, 1.0, "learning rate")
        self.in_range("jitter", 0, 16)
        return self


class VisTask(Task):
    """Maximise the mean activation of channel c at layer l over the picture, x = sigmoid(u):
        u <- u + lr * grad_u mean_{h,w} A_{l,c}(jitter(x)) - small L2 on u
    (Erhan et al. 2009; with random jitter so the picture does not become a pixel-level adversarial pattern)."""

    def __init__(self, config: VisConfig, seed: int = 0, device=None):
        from ..backbones import get_backbone
        self.config = config
        self.generator = seed_everything(seed)
        self.bb = get_backbone("efficientnet-lite0", device)
        dev = self.bb.device
        self.u = (0.1 * torch.randn(1, 3, config.size, config.size, generator=self.generator)).to(dev)
        self.u.requires_grad_(True)
        self.opt = torch.optim.Adam([self.u], lr=config.lr)

    def step(self):
        c = self.config
        dx, dy = (torch.randint(-c.jitter, c.jitter + 1, (2,), generator=self.generator).tolist()
                  if c.jitter else (0, 0))
        x = torch.sigmoid(torch.roll(self.u, (dy, dx), (2, 3)))
        act = self.bb.features(x, [c.layer])[c.layer][0, c.channel].mean()
        loss = -act + 1e-3 * self.u.pow(2).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"activation": act.detach()}

    @torch.no_grad()
    def picture(self) -> torch.Tensor:
        """The current picture (1, 3, H, W) in [0, 1], on the CPU (a copy)."""
        return torch.sigmoid(self.u.detach()).cpu()

    def state_dict(self):
        return {"u": self.u.detach().clone(), "opt": self.opt.state_dict(), "rng": self.generator.get_state()}

    def load_state_dict(self, s):
        with torch.no_grad():
            self.u.copy_(s["u"])
        self.opt.load_state_dict(s["opt"])
        self.generator.set_state(s["rng"])

    @torch.no_grad()
    def evaluate(self):
        c = self.config
        return {"activation": float(self.bb.features(self.picture(), [c.layer])[c.layer][0, c.channel].mean())}


def make_visualise_task(config: VisConfig, seed: int = 0, device=None) -> VisTask:
    return VisTask(config.check(), seed, device)
