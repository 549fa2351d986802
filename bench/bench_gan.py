"""GAN Lab rows: 2-D iterations per second (engine + live view versus a bare PyTorch loop of the same model), the
ring-of-8 quality after 30 s, the vanishing-gradient preset against the healthy one, and the image GAN's judge."""

from __future__ import annotations

from bench import bench_device

import time

import numpy as np
import torch

from dlplay import data
from dlplay.gan import PLAY_FRAME_SECONDS, GAN2DConfig, GAN2DTask, preset
from dlplay.gan import viz as ganviz
from dlplay.gan.gan2d import build_gan2d
from dlplay.train import Trainer


def _bare_loop_its(seconds: float) -> float:
    """The default 2-D GAN written as the plain loop a student would write: iterations per second."""
    torch.manual_seed(0)
    c = GAN2DConfig()
    m = build_gan2d(**c.model_config())
    G, D = m.G, m.D
    og = torch.optim.Adam(G.parameters(), c.lr_g, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), c.lr_d, betas=(0.5, 0.999))
    real = torch.as_tensor(data.toy2d("ring8", 4000, 0))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    ones, zeros = torch.ones(c.batch_size, 1), torch.zeros(c.batch_size, 1)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        x = real[torch.randint(0, len(real), (c.batch_size,))]
        with torch.no_grad():
            fake = G(torch.randn(c.batch_size, c.noise_dim))
        ld = bce(D(x), ones) + bce(D(fake), zeros)
        od.zero_grad()
        ld.backward()
        od.step()
        lg = bce(D(G(torch.randn(c.batch_size, c.noise_dim))), ones)
        og.zero_grad()
        lg.backward()
        og.step()
        n += 1
    return n / (time.perf_counter() - t0)


def _engine_live_its(seconds: float, frame: float = PLAY_FRAME_SECONDS) -> tuple[float, float]:
    """What the page does while playing: train `frame` seconds through the engine, then draw the layered picture
    (the PNG the page shows while training). Returns (iterations per wall-clock second, frames per second)."""
    task = GAN2DTask(GAN2DConfig(), seed=0, device="cpu")
    tr = Trainer(task, record_every=5)
    frames, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        tr.run(seconds=frame, evaluate=False)
        ganviz.playground_frame(task.view(), task.bounds, "nonsaturating", title=f"iteration {task.iterations}")
        frames += 1
    wall = time.perf_counter() - t0
    return tr.steps / wall, frames / wall


def _ring8_30s(seconds: float, seeds=(0, 1, 2)) -> list[dict]:
    rows = []
    for seed in seeds:
        task = GAN2DTask(GAN2DConfig(), seed=seed, device="cpu")
        tr = Trainer(task, record_every=50).run(seconds=seconds)
        d = task.distances()
        rows.append({"what": f"ring8, default settings, {seconds:g} s, seed {seed}: modes covered of 8",
                     "dlplay": d["modes_covered"], "unit": "modes",
                     "goal": ">= 7 modes and >= 80% near a mode",
                     "ok": d["modes_covered"] >= 7 and d["high_quality"] >= 0.8,
                     "note": f"{d['high_quality']:.0%} of 2,000 samples within 3 std of a mode; {task.iterations} "
                             "iterations"})
    return rows


def _collapse_then_switch(collapse_s: float, after_s: float, seeds=(0, 1, 2)) -> list[dict]:
    """The mid-run switch (issue 26): the mode-collapse preset for collapse_s, then the 'WGAN-GP fixes it' knobs
    applied to the same networks (topics.tune, as the page does), then after_s more; modes covered at the end."""
    from dlplay import topics
    from dlplay.gan.gan2d import PRESETS

    fix = {k: v for k, v in PRESETS["WGAN-GP fixes it"][0].items() if k != "dataset"}
    rows = []
    for seed in seeds:
        task = GAN2DTask(preset("mode collapse"), seed=seed, device="cpu")
        tr = Trainer(task, record_every=50).run(seconds=collapse_s)
        before, it0 = task.distances(), task.iterations
        topics.tune(task, fix)
        tr.run(seconds=after_s)
        d = task.distances()
        rows.append({"what": f"ring8, mode-collapse preset {collapse_s:g} s, then switched to WGAN-GP for "
                             f"{after_s:g} s, seed {seed}: modes covered of 8", "dlplay": d["modes_covered"],
                     "baseline": before["modes_covered"], "baseline_name": "at the switch", "unit": "modes",
                     "goal": ">= 7 modes", "ok": d["modes_covered"] >= 7,
                     "note": f"{it0} iterations collapsed, {task.iterations - it0} after the switch"})
    return rows


def _vanishing(steps: int) -> dict:
    norms = {}
    for name in ("healthy training", "discriminator too strong: vanishing gradients"):
        task = GAN2DTask(preset(name), seed=0, device="cpu")
        tr = Trainer(task).run(steps=steps)
        norms[name] = float(np.median([h["g_grad_norm"] for h in tr.history[-20:]]))
    v, h = norms["discriminator too strong: vanishing gradients"], norms["healthy training"]
    return {"what": f"gradient norm at G after {steps} iterations: vanishing preset (baseline: healthy preset)",
            "dlplay": v, "baseline": h, "baseline_name": "healthy preset", "unit": "||dL_G/dtheta||",
            "goal": "healthy / vanishing >= 10", "ok": h >= 10 * v,
            "note": f"healthy / vanishing = {h / max(v, 1e-12):.3g}; both presets on their target, ring8"}


def _image_gan(seconds: float) -> dict:
    from dlplay.classifier import judge, load_judge
    from dlplay.gan import ImageGANTask

    j = load_judge()
    task = ImageGANTask(data.load("digits"), conditional=True, seed=0, device=bench_device(), judge=j)
    tr = Trainer(task, record_every=10).run(seconds=seconds)
    noise = judge(j, torch.rand(64, 1, 8, 8))["confident_share"]
    return {"what": f"conditional DCGAN on digits, {seconds:g} s: share of 64 samples the judge calls a digit",
            "dlplay": task.evaluate()["judge_digit_share"], "baseline": noise, "baseline_name": "uniform noise images",
            "unit": "share", "note": f"{tr.steps} steps"}


def _copies() -> list[dict]:
    """Does the shipped GAN copy? Median distance of 500 samples to their nearest training digit, against that of
    the held-out test digits (new real digits: the yardstick; 1 = as near as they are)."""
    from dlplay import checkpoints, copies
    from dlplay.gan import image_task_from_checkpoint
    from dlplay.gan.images import generate

    ds = data.load("digits")
    out = []
    for name in ("gan_cgan_digits", "gan_dcgan_digits"):
        task = image_task_from_checkpoint(checkpoints.shipped(name), ds)
        rep = copies.copy_report(generate(task.model, 500, seed=0), ds.x_train, ds.x_test)
        out.append({"what": f"shipped {name}: median distance of 500 samples to their nearest training digit",
                    "dlplay": float(np.median(rep.sample_d)), "baseline": float(np.median(rep.test_d)),
                    "baseline_name": "held-out test digits", "unit": "RMS pixel difference",
                    "note": f"{rep.ratio:.2f}x the test digits' ({rep.verdict}); "
                            f"{rep.close_share:.0%} nearer than the closest 5% of test digits"})
    return out


def rows(quick: bool) -> list[dict]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the page and the CLI do for these tiny models (both sides of every row)
    try:
        return _rows(quick)
    finally:
        torch.set_num_threads(threads)


def _rows(quick: bool) -> list[dict]:
    secs = 3.0 if quick else 10.0
    bare = _bare_loop_its(secs)
    live, fps = _engine_live_its(secs)
    out = [{"what": "2-D GAN iterations/s, default model, engine + live view redrawn each frame", "dlplay": live,
            "baseline": bare, "baseline_name": "bare PyTorch loop", "unit": "iterations/s",
            "goal": ">= 5 frames/s and >= 0.8x the bare loop", "ok": fps >= 5 and live >= 0.8 * bare,
            "note": f"{fps:.1f} frames/s of the layered figure"}]
    out += _ring8_30s(5.0 if quick else 30.0, seeds=(0,) if quick else (0, 1, 2))
    out += _collapse_then_switch(3.0, 6.0, seeds=(0,)) if quick else _collapse_then_switch(15.0, 30.0)
    out.append(_vanishing(60 if quick else 200))
    out.append(_image_gan(3.0 if quick else 20.0))
    out += _copies()
    return out
