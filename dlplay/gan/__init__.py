"""GAN Lab backend: the 2-D playground (gan2d), DCGAN / conditional GAN on images (images), the four losses
(losses), the layered 2-D figure (viz), the CLI commands `train gan2d` / `train gan` and `pretrain`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .. import checkpoints
from ..runner import set_threads
from ..errors import InputError
from ..topics import Shipped
from ..train import Trainer
from .gan2d import (BUILDER as BUILDER_2D, GAN2D, GAN2DConfig, GAN2DTask, PRESETS, build_gan2d, js_divergence, mmd,
                    mode_stats, normalise_points, parse_points_csv, preset, summary)
from .gan2d import make_task as make_2d_task
from .images import ImageGANConfig, make_task as make_image_task
from .images import BUILDER as BUILDER_IMG, DCGAN, ImageGANTask, build_dcgan, generate, interpolate
from .losses import LOSSES, d_accuracy, d_loss, g_loss, gradient_penalty

__all__ = ["BUILDER_2D", "BUILDER_IMG", "DCGAN", "GAN2D", "GAN2DConfig", "GAN2DTask", "ImageGANTask", "LOSSES",
           "PRESETS", "build_dcgan", "build_gan2d", "d_accuracy", "d_loss", "g_loss", "generate", "gradient_penalty",
           "interpolate", "js_divergence", "mmd", "mode_stats", "normalise_points", "parse_points_csv", "preset",
           "summary", "cli_args", "cli_run", "pretrain", "load_2d", "SHIPPED", "TITLE", "make_task",
           "make_2d_task", "make_image_task", "ImageGANConfig"]

# Shipped checkpoints and the step budgets that re-create them (steps, not seconds: same result on any machine).
TITLE = "Generative adversarial networks"
# The topic's main task is the 2-D playground; the image GANs have their own factory (make_image_task).
make_task = make_2d_task
SHIPPED = {"gan_2d_ring8": Shipped("gan_2d_ring8", "ring8", GAN2DConfig(), 3000),
           "gan_dcgan_digits": Shipped("gan_dcgan_digits", "digits", ImageGANConfig(conditional=False), 800),
           "gan_cgan_digits": Shipped("gan_cgan_digits", "digits", ImageGANConfig(conditional=True), 800)}
MAX_SAMPLES = 100_000
# Seconds of training between two frames of the live 2-D view at full speed: with the drawing, about 5 frames a
# second while training keeps ~0.8x the speed of a bare loop (bench_gan measures both).
PLAY_FRAME_SECONDS = 0.17


def save_2d(target, task: GAN2DTask, extra: dict | None = None) -> None:
    checkpoints.save(target, task.model, task.config.model_config(), BUILDER_2D,
                     {"settings": task.config.as_dict(), **(extra or {})})


def load_2d(source) -> tuple[GAN2D, GAN2DConfig, dict]:
    """A saved 2-D GAN: (model, its settings, extra results)."""
    model, _, extra = checkpoints.load(source, expect_builder=BUILDER_2D)
    return model, GAN2DConfig().with_(**extra.get("settings", {})), extra


def task_from_checkpoint(source, seed: int = 0, device=None) -> GAN2DTask:
    """A GAN2DTask whose networks start from a saved checkpoint (for the page's opening picture)."""
    model, cfg, _ = load_2d(source)
    task = GAN2DTask(cfg, seed=seed, device=device)
    task.model.load_state_dict(model.state_dict())
    return task


def image_task_from_checkpoint(source, data, device=None, judge=None) -> ImageGANTask:
    model, cfg, extra = checkpoints.load(source, expect_builder=BUILDER_IMG)
    task = ImageGANTask(data, conditional=bool(cfg["n_classes"]), noise_dim=cfg["noise_dim"], width=cfg["width"],
                        device=device, judge=judge, loss=extra.get("loss", "nonsaturating"))
    task.model.load_state_dict(model.state_dict())
    return task


def pretrain(out_dir=None) -> dict:
    """Re-create the shipped GAN checkpoints: a healthy 2-D GAN on the ring, an unconditional and a conditional
    DCGAN on the 8x8 digits (fixed step budgets, seed 0, CPU)."""
    from ..classifier import load_judge
    from ..data import load

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    res = {}
    threads = torch.get_num_threads()
    set_threads(1)  # small models: one thread is fastest, and the result does not depend on the core count
    task = GAN2DTask(GAN2DConfig(), seed=0, device="cpu")
    tr = Trainer(task, record_every=50).run(steps=SHIPPED["gan_2d_ring8"].steps)
    s = summary(task, tr)
    save_2d(out_dir / "gan_2d_ring8.pt", task, {"iterations": task.iterations, **s})
    res["gan_2d_ring8"] = {k: s[k] for k in ("modes_covered", "high_quality", "mmd")}
    digits, judge = load("digits"), load_judge()
    for name, cond in (("gan_dcgan_digits", False), ("gan_cgan_digits", True)):
        task = ImageGANTask(digits, conditional=cond, seed=0, device="cpu", judge=judge)
        Trainer(task, record_every=50).run(steps=SHIPPED[name].steps)
        ev = task.evaluate()
        checkpoints.save(out_dir / f"{name}.pt", task.model, task.config, BUILDER_IMG,
                         {"loss": task.loss, "steps": SHIPPED[name].steps, "dataset": "digits", **ev})
        res[name] = ev
    set_threads(threads)
    return res


# -- CLI ----------------------------------------------------------------------------------------------------------
def cli_args(command, parser) -> None:
    parser.add_argument("--seconds", type=float, default=None, help="time budget (default 30 s for gan2d, 20 s for gan)")
    parser.add_argument("--steps", type=int, default=None, help="step budget (iterations); with --seconds, whichever first")
    parser.add_argument("--loss", default="nonsaturating", choices=list(LOSSES))
    parser.add_argument("--lr-g", type=float, default=None)
    parser.add_argument("--lr-d", type=float, default=None)
    parser.add_argument("--noise-dim", type=int, default=None)
    if command == "train gan2d":
        parser.add_argument("--dataset", default="ring8", help="ring8, grid25, moons, spiral, line")
        parser.add_argument("--points", default=None, help="CSV of x,y points to learn instead of --dataset")
        parser.add_argument("--preset", default=None, choices=list(PRESETS), help="start from a lecture preset")
        parser.add_argument("--k", type=int, default=None, help="discriminator steps per iteration")
        parser.add_argument("--m", type=int, default=None, help="generator steps per iteration")
        parser.add_argument("--noise", default=None, choices=["gaussian", "uniform"])
        parser.add_argument("--optimizer", default=None, choices=["adam", "sgd", "rmsprop"])
        parser.add_argument("--samples", default=None, help="write 2,000 generated points to this .npy file")
        parser.add_argument("--n-samples", type=int, default=2000)
    else:
        parser.add_argument("--dataset", default="digits", help="digits, mnist or fashion_mnist (once downloaded)")
        parser.add_argument("--conditional", action="store_true", help="condition G and D on the class")
        parser.add_argument("--samples", default=None, help="write a PNG grid of 64 generated images here")


def _budget(args, default_seconds):
    if args.steps is not None and args.steps < 1:
        raise InputError("--steps must be at least 1.")
    seconds = args.seconds if args.seconds is not None else (None if args.steps else default_seconds)
    return {"steps": args.steps, "seconds": seconds}


def cli_run(command, args) -> dict:
    over = {k: v for k, v in {"loss": args.loss if args.loss != "nonsaturating" or not getattr(args, "preset", None)
                              else None, "lr_g": args.lr_g, "lr_d": args.lr_d, "noise_dim": args.noise_dim}.items()
            if v is not None}
    if command == "train gan2d":
        set_threads(GAN2DTask.max_threads)  # a tiny MLP: splitting its small products over threads only costs time
        cfg = preset(args.preset, args.dataset) if args.preset else GAN2DConfig(dataset=args.dataset)
        over.update({k: v for k, v in {"k_d": args.k, "m_g": args.m, "noise": args.noise,
                                       "optimizer": args.optimizer}.items() if v is not None})
        points = None
        if args.points:
            points = parse_points_csv(Path(args.points).read_bytes())
            over["dataset"] = "points"
        task = GAN2DTask(cfg.with_(**over), seed=args.seed, device=args.device, points=points)
        tr = Trainer(task, record_every=10).run(**_budget(args, 30.0))
        out = summary(task, tr)
        if args.samples:
            if not 1 <= args.n_samples <= MAX_SAMPLES:
                raise InputError(f"--n-samples must be between 1 and {MAX_SAMPLES:,}.")
            np.save(args.samples, task.samples(args.n_samples, torch.Generator().manual_seed(args.seed + 7)))
            out["samples"] = args.samples
        if args.out:
            save_2d(args.out, task, {"iterations": task.iterations})
        return out
    from ..classifier import load_judge
    from ..data import load

    ds = load(args.dataset)
    judge = load_judge() if ds.image_shape == (1, 8, 8) else None
    kw = {k: v for k, v in over.items() if k != "loss"}
    task = ImageGANTask(ds, loss=args.loss, conditional=args.conditional, seed=args.seed, device=args.device,
                        judge=judge, **kw)
    tr = Trainer(task, record_every=10).run(**_budget(args, 20.0))
    last = tr.latest
    out = {"dataset": args.dataset, "loss": args.loss, "conditional": args.conditional, "steps": tr.steps,
           "seconds": round(tr.seconds, 3), "d_loss": last["d_loss"], "g_loss": last["g_loss"], **task.evaluate()}
    if args.samples:
        from .. import viz
        Path(args.samples).write_bytes(viz.to_png(task.grid(), 8))
        out["samples"] = args.samples
    if args.out:
        checkpoints.save(args.out, task.model, task.config, BUILDER_IMG,
                         {"loss": task.loss, "steps": tr.steps, "dataset": args.dataset})
        out["out"] = args.out
    return out
