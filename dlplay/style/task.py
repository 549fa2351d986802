"""The optimisation as a Task for the shared Trainer: StyleConfig (every setting, pictures included), make_task (the
topic contract), StyleTransferTask (the picture is the parameter; Gatys eq. 7 plus TV is the loss) and
run_style_transfer (a whole run, the summary the CLI prints)."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from PIL import Image

from .. import backbones, limits
from ..data.uploads import MAX_UPLOAD_BYTES
from ..device import autocast, get_device, seed_everything
from ..errors import InputError
from ..topics import Config
from ..train import Task, Trainer
from .losses import content_loss, gram_matrix, match_colours, style_loss, tv_loss
from .pictures import (DEFAULT_CONTENT, DEFAULT_STYLE, MAX_SIZE_GPU, MIN_SIZE, _example, _full_name, max_size,
                       prepare, read_picture)

# -- limits (enforced here, the page's widgets only mirror them; the picture sizes are in pictures.py) -------------
MAX_STEPS = 2000
OPTIMIZERS = ("adam", "lbfgs")
INITS = ("colour-matched content", "content", "noise")


# ------------------------------------------------------------------------------------------------------------------
# The optimisation as a Task for the shared Trainer
# ------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StyleConfig(Config):
    """Every setting of one style-transfer run, pictures included, as plain data (the topic contract).

    A picture is a built-in example's name, or the bytes of an uploaded file (which then replace the example);
    `make_task` decodes them (cached per file, at most MAX_MEGAPIXELS)."""
    content: str = DEFAULT_CONTENT
    style: str = DEFAULT_STYLE
    content_upload: bytes = b""
    style_upload: bytes = b""
    size: int = 256
    backbone: str = "efficientnet-lite0"
    optimizer: Literal["adam", "lbfgs"] = "adam"
    lr: float = 0.015               # measured over the 30 photo pairs: 0.03 and 0.02 end further from the style
    schedule_steps: int = 0         # > 0: Adam's step size falls along a cosine over this many steps
                                    # (measured: no better than constant on the photo pairs)
    content_weight: float = 1.0
    style_weight: float = 10.0
    tv_weight: float = 2.0
    style_layers: tuple[str, ...] | None = None   # None: the backbone's usual choice
    content_layer: str | None = None
    init: Literal["colour-matched content", "content", "noise"] = "colour-matched content"

    def check(self) -> "StyleConfig":
        self.in_range("size", MIN_SIZE, MAX_SIZE_GPU, "output size")
        self.one_of("optimizer", OPTIMIZERS, "optimiser")
        self.one_of("init", INITS, "start")
        self.one_of("backbone", backbones.BACKBONES, "network")
        self.in_range("lr", 1e-4, 1.0, "learning rate")
        self.in_range("schedule_steps", 0, MAX_STEPS, "schedule length")
        for name in ("content_weight", "style_weight", "tv_weight"):
            self.in_range(name, 0.0, 1e6)
        if self.style_layers is not None and len(self.style_layers) == 0 and self.style_weight > 0:
            raise InputError("Choose at least one layer to carry the style (or set the style weight to 0).")
        for name in ("content_upload", "style_upload"):
            if len(getattr(self, name)) > MAX_UPLOAD_BYTES:
                raise InputError(f"The {name.split('_')[0]} picture's file is over {MAX_UPLOAD_BYTES // 2**20} MB.")
        return self

    def check_device(self, device: torch.device) -> None:
        limits.check_range("Output size", self.size, MIN_SIZE, max_size(device),
                           " pixels on this device" + ("" if device.type != "cpu" else " (a CPU)"))

    def picture(self, which: str, notes: list[str] | None = None) -> Image.Image:
        """The content or style picture: the upload if there is one, else the built-in example."""
        data = getattr(self, f"{which}_upload")
        if data:
            img, why = read_picture(data)
            if notes is not None:
                notes.extend(n for n in why if n not in notes)
            return img
        return _example(_full_name(getattr(self, which)))


def make_task(config: StyleConfig, seed: int = 0, device=None) -> "StyleTransferTask":
    """A fresh style-transfer run (the topic contract): the pictures come from the config."""
    config = config.check()
    notes: list[str] = []
    return StyleTransferTask(config.picture("content", notes), config.picture("style", notes), config, seed=seed,
                             device=device, notes=notes)


class StyleTransferTask(Task):
    """Optimise the pixels of one picture so its content features match `content` and its Gram matrices `style`.

    One step = one optimiser update of the picture (Adam), or one L-BFGS iteration. Metrics: `content` and
    `style` (the raw losses, before weighting), `tv`, and `loss` (the weighted total that is minimised).
    """

    def __init__(self, content, style, config: StyleConfig | None = None, *, seed: int = 0,
                 device: torch.device | str | None = None, notes: list[str] | None = None, **overrides):
        self.device = get_device(device)     # a name or a torch.device; CUDA gets cudnn.benchmark and TF32
        cfg = config or StyleConfig()
        if overrides:
            cfg = dataclasses.replace(cfg, **overrides)
        self.config = cfg = cfg.check()
        cfg.check_device(self.device)
        if style is None:
            raise InputError("Choose or upload a style picture first.")
        if content is None:
            raise InputError("Choose or upload a content picture first.")
        self.notes = [] if notes is None else notes
        self.generator = seed_everything(seed)
        self.bb = backbones.get_backbone(cfg.backbone, self.device)
        self.style_layers = list(cfg.style_layers or self.bb.style_layers) if cfg.style_weight > 0 else []
        self.content_layer = cfg.content_layer or self.bb.content_layer
        self.content_img = prepare(content, cfg.size, "content picture", self.notes).to(self.device)
        self.style_img = prepare(style, cfg.size, "style picture", self.notes).to(self.device)
        self.layers = self.style_layers + [self.content_layer]
        with torch.no_grad():
            self.content_target = self.bb.features(self.content_img, [self.content_layer])[self.content_layer]
            self.content_scale = float(self.content_target.pow(2).mean()) + 1e-12
            sf = self.bb.features(self.style_img, self.style_layers) if self.style_layers else {}
            self.style_targets = {k: gram_matrix(v) for k, v in sf.items()}
            self.style_scale = {k: float(g.pow(2).mean()) + 1e-12 for k, g in self.style_targets.items()}
        if cfg.init == "content":
            start = self.content_img.clone()
        elif cfg.init == "colour-matched content":
            start = match_colours(self.content_img, self.style_img)
        else:
            start = torch.rand(self.content_img.shape, generator=self.generator).to(self.device)
        self.image = start.requires_grad_(True)
        if cfg.optimizer == "adam":
            self.opt = torch.optim.Adam([self.image], lr=cfg.lr)
            n = cfg.schedule_steps
            # cosine decay of the step size from lr to lr/20 over n steps, then constant (0: no schedule)
            self.sched = (torch.optim.lr_scheduler.LambdaLR(
                self.opt, lambda t: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(t, n) / n))) if n else None)
        else:
            self.opt = torch.optim.LBFGS([self.image], lr=1.0, max_iter=1, history_size=20)
            self.sched = None
        self.last: dict[str, torch.Tensor] = {}

    def losses(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The three losses of picture x (1, 3, H, W) and their weighted sum (Gatys eq. 7 plus TV)."""
        with autocast(x.device):   # bfloat16 features on a GPU with $DLPLAY_AMP=1 (device.autocast); else nothing
            f = self.bb.features(x, self.layers)
        f = {k: v.float() for k, v in f.items()}     # Gram matrices and losses in float32 either way
        c = content_loss(f[self.content_layer], self.content_target, self.content_scale)
        s = style_loss({k: gram_matrix(f[k]) for k in self.style_layers}, self.style_targets, self.style_scale)
        tv = tv_loss(x)
        cfg = self.config
        s = s.to(c.device)
        return {"loss": cfg.content_weight * c + cfg.style_weight * s + cfg.tv_weight * tv,
                "content": c, "style": s, "tv": tv}

    def step(self):
        def closure():
            self.opt.zero_grad(set_to_none=True)
            out = self.losses(self.image)
            out["loss"].backward()
            self.last = {k: v.detach() for k, v in out.items()}
            return out["loss"]

        self.opt.step(closure)
        if self.sched is not None:
            self.sched.step()
        with torch.no_grad():
            self.image.clamp_(0, 1)  # keep a valid picture
        return {**self.last, "lr": self.opt.param_groups[0]["lr"]}

    def evaluate(self):
        with torch.no_grad():
            return {k: float(v) for k, v in self.losses(self.image).items()}

    def result(self) -> torch.Tensor:
        """The current picture (3, H, W) in [0, 1] on the CPU."""
        return self.image.detach()[0].clamp(0, 1).cpu()

    def state_dict(self):
        return {"image": self.image.detach().clone(), "opt": self.opt.state_dict(),
                "sched": self.sched.state_dict() if self.sched else None}

    def load_state_dict(self, state):
        with torch.no_grad():
            self.image.copy_(state["image"])
        self.opt.load_state_dict(state["opt"])
        if self.sched is not None and state.get("sched"):
            self.sched.load_state_dict(state["sched"])

    @torch.no_grad()
    def reference_losses(self) -> dict[str, float]:
        """Losses of the untouched content picture and of the style picture itself (scales to compare with)."""
        c = self.losses(self.content_img)
        h, w = self.content_img.shape[-2:]
        s_img = F.interpolate(self.style_img, size=(h, w), mode="bilinear", align_corners=False)
        s = self.losses(s_img)
        return {"content_of_content": float(c["content"]), "style_of_content": float(c["style"]),
                "content_of_style": float(s["content"]), "style_of_style": float(s["style"])}


def run_style_transfer(content, style, config: StyleConfig | None = None, *, steps: int = 150, seed: int = 0,
                       device=None, callback=None, notes: list[str] | None = None, **overrides) -> dict:
    """Build the task, run `steps` steps through the Trainer; returns the summary the CLI prints (and the task)."""
    limits.check_range("Steps", steps, 1, MAX_STEPS)
    t0 = time.perf_counter()
    task = StyleTransferTask(content, style, config, seed=seed, device=device, notes=notes, **overrides)
    start = task.evaluate()
    trainer = Trainer(task, record_every=max(1, int(steps) // 50))
    trainer.run(steps=int(steps), callback=callback)
    end = trainer.last_eval
    ref = task.reference_losses()
    return {"seconds": round(time.perf_counter() - t0, 3), "loop_seconds": round(trainer.seconds, 3),
            "steps": trainer.steps, "size": task.config.size, "height": int(task.image.shape[-2]),
            "width": int(task.image.shape[-1]), "backbone": task.bb.name, "optimizer": task.config.optimizer,
            "device": str(task.device), "style_layers": task.style_layers, "content_layer": task.content_layer,
            "content_loss_start": start["content"], "content_loss_end": end["content"],
            # the drop is measured from the content picture itself (whatever the start), so every start is
            # judged by how much closer in style the result is than the photo it began as
            "style_loss_of_content_image": ref["style_of_content"], "style_loss_start": start["style"],
            "style_loss_end": end["style"], "style_loss_drop": ref["style_of_content"] / max(end["style"], 1e-12),
            "content_loss_of_style_image": ref["content_of_style"], "notes": list(task.notes),
            "task": task, "trainer": trainer}
