"""Reusing another network's weights (today's pre-training): the project's offline ImageNet network
(EfficientNet-Lite0) on upsampled digits, frozen (a linear head on its features) against fine-tuned (its top block
learns too), same labels, same start, same steps."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..data import ImageData
from ..device import get_device, seed_everything
from .configs import MAX_LABELS_PER_CLASS, PretrainingConfig, _data
from .models import BACKBONE_METHODS, Compared, build_model
from .training import PlanTask, labelled_subset, summarise


# -- reusing another network's weights: a frozen ImageNet backbone against a fine-tuned one -------------------------
SPLIT_LAYER = "stage6"      # below it the backbone stays frozen in both; above it (stage 7, head conv) fine-tuning learns


@dataclass(frozen=True)
class BackboneConfig(PretrainingConfig):
    labels_per_class: int = 5
    finetune_steps: int = 100                    # Adam steps, the same for both
    seeds: int = 3
    lr: float = 1e-3

    def check(self):
        super().check()
        self.in_range("labels_per_class", 1, MAX_LABELS_PER_CLASS, "Labels per class")
        self.in_range("finetune_steps", 1, 5000, "Fine-tuning steps")
        self.in_range("seeds", 1, 10, "Number of seeds")
        self.in_range("lr", 1e-5, 0.1, "Learning rate")
        return self


_TEST_MAPS: dict = {}


@torch.no_grad()
def backbone_maps(x: torch.Tensor, device) -> torch.Tensor:
    """EfficientNet-Lite0's SPLIT_LAYER feature maps of digits x (grey repeated to RGB, upsampled to 64 px as
    backbones.image_features does): the frozen lower part, the same in both runs."""
    from .. import backbones

    net = backbones.load_efficientnet_lite0(device)
    size = backbones.feature_size(*x.shape[-2:])
    out = []
    for i in range(0, len(x), 128):
        b = backbones._as_rgb(x[i:i + 128]).to(device)
        b = F.interpolate(b, size=size, mode="bilinear", align_corners=False)
        out.append(net.features((b - backbones.MEAN) / backbones.STD, [SPLIT_LAYER])[SPLIT_LAYER].float())
    return torch.cat(out).contiguous()


def test_maps(data: ImageData, device) -> torch.Tensor:
    """backbone_maps of the test digits, computed once per process and device (read-only, shared)."""
    key = (data.name, str(device))
    if key not in _TEST_MAPS:
        _TEST_MAPS[key] = backbone_maps(data.x_test, device)
    return _TEST_MAPS[key]


class BackboneTop(nn.Module):
    """The part of EfficientNet-Lite0 above SPLIT_LAYER (stage 7 and the 1280-channel head conv, batch norm
    folded in), average pooling, and a new linear head for the digits."""

    def __init__(self, n_classes: int = 10, pretrained: bool = True):
        super().__init__()
        from .. import backbones

        net = backbones.load_efficientnet_lite0("cpu") if pretrained else backbones.EfficientNetLite0().fuse_batchnorm()
        first = net.stage_ends[int(SPLIT_LAYER[-1]) - 1] + 1
        self.blocks = copy.deepcopy(nn.Sequential(*net._blocks[first:]))
        self.conv_head = copy.deepcopy(net._conv_head)
        for p in self.parameters():
            p.requires_grad_(True)
        self.head = nn.Linear(1280, n_classes)

    def features(self, maps: torch.Tensor) -> torch.Tensor:
        return F.relu6(self.conv_head(self.blocks(maps))).mean((2, 3))

    def forward(self, maps):
        return self.head(self.features(maps))


class BackboneTask(PlanTask):
    """Seed 001's "reuse another network's weights": the offline ImageNet network's features of upsampled digits,
    frozen (a linear head on the pooled 1280 features) against fine-tuned (its top blocks learn too), with the same
    labels, the same new head to start from, and the same number of Adam steps; repeated over seeds."""

    def __init__(self, config: BackboneConfig, seed: int = 0, device=None):
        self.cfg, self.seed = config, int(seed)
        self.data = _data(config.dataset)
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.maps_test = test_maps(self.data, self.device)
        self.y_test = self.data.y_test.to(self.device)
        self.model_config = {"kind": "backbone_heads", "n_classes": len(self.data.class_names)}
        self.model = build_model(**self.model_config).to(self.device)
        self.results: list[dict[str, float]] = []
        self.steps_per_seed = config.finetune_steps

    def _plan(self):
        cfg = self.cfg
        top0 = BackboneTop(len(self.data.class_names)).to(self.device)
        with torch.no_grad():
            feats_test = top0.features(self.maps_test)     # the frozen network's pooled features
        for r in itertools.count(len(self.results)):   # a resumed plan goes on with the next seed
            s = self.seed + r
            g = torch.Generator().manual_seed(s)
            torch.manual_seed(s)
            labelled = labelled_subset(self.data, cfg.labels_per_class, g).to(self.device)
            yl = self.data.y_train.to(self.device)[labelled]
            maps = backbone_maps(self.data.x_train[labelled.cpu()], self.device)   # only the labelled digits
            with torch.no_grad():
                feats = top0.features(maps)
            tuned = copy.deepcopy(top0)
            with torch.no_grad():
                nn.init.normal_(tuned.head.weight, 0, 0.01)
                nn.init.zeros_(tuned.head.bias)
            self.model = Compared({"frozen": copy.deepcopy(tuned.head), "fine_tuned": tuned.head})
            self.tuned = tuned
            opt_f = torch.optim.Adam(self.model["frozen"].parameters(), lr=cfg.lr)
            opt_t = torch.optim.Adam(tuned.parameters(), lr=cfg.lr)
            self.phase = f"seed {s}: training both on {len(yl)} labelled digits"
            for i in range(cfg.finetune_steps):
                loss_f = F.cross_entropy(self.model["frozen"](feats), yl)
                opt_f.zero_grad(set_to_none=True)
                loss_f.backward()
                opt_f.step()
                loss_t = F.cross_entropy(tuned(maps), yl)
                opt_t.zero_grad(set_to_none=True)
                loss_t.backward()
                opt_t.step()
                self.done_steps += 1
                if i == cfg.finetune_steps - 1:
                    with torch.no_grad():
                        acc = lambda logits: (logits.argmax(1) == self.y_test).float().mean().item()  # noqa: E731
                        self.results.append({"frozen": acc(self.model["frozen"](feats_test)),
                                             "fine_tuned": acc(tuned(self.maps_test))})
                yield {"frozen_loss": loss_f, "fine_tuned_loss": loss_t}

    def evaluate(self):
        return {**summarise(self.results, BACKBONE_METHODS), "labels_per_class": float(self.cfg.labels_per_class)}
