"""Style transfer rows: the issue's measured claims (256 px, 150 steps, offline backbone) and the perceptual lesson.

Timing: dlplay's whole optimisation loop (StyleTransferTask through the Trainer: features at 5 layers, Gram
matrices, three losses, Adam, clamping, metrics) against a bare loop of forward + backward passes of the same
backbone at the same size (features to the same deepest layer, the sum as the loss, an Adam step on the pixels).
Both run in the same process in 5 alternating chunks (timings on a busy 2-core laptop drift by 30% within a
minute; alternating lets a slow moment hit both sides alike).
"""

from __future__ import annotations

import time

import torch

from bench import bench_device, sync
from dlplay import style
from dlplay.train import Trainer

CHUNKS = 5


def _bare_steps(task: style.StyleTransferTask):
    """A bare forward+backward+Adam loop over the same layers: returns a function that takes n steps, timed."""
    x = task.content_img.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.02)
    layers = task.layers

    def run(n: int) -> float:
        sync(x.device)
        t0 = time.perf_counter()
        for _ in range(n):
            opt.zero_grad()
            f = task.bb.features(x, layers)
            loss = sum(v.pow(2).mean() for v in f.values())
            loss.backward()
            opt.step()
        sync(x.device)                  # the GPU's queue drained: the clock reads the work, not the queueing
        return time.perf_counter() - t0
    return run


PHOTOS = ["flower", "china", "astronaut", "coffee", "cat", "rocket"]


def _pair_rows(quick: bool) -> list[dict]:
    """The page defaults on every ordered pair of six offline photos (issue 18): min and median style-loss drop
    (content picture's style loss / the result's), and the worst content loss beside the style pictures' own."""
    import itertools

    import numpy as np

    photos = PHOTOS[:3] if quick else PHOTOS
    size, steps = (128, 60) if quick else (256, 150)
    drops, worst = [], 0.0
    for a, b in itertools.permutations(photos, 2):
        out = style.run_style_transfer(style.example(a), style.example(b), steps=steps, size=size, seed=0)
        drops.append(out["style_loss_drop"])
        worst = max(worst, out["content_loss_end"] / out["content_loss_of_style_image"])
    n = len(drops)
    return [{"what": f"style loss drop over {n} ordered photo pairs ({size} px, {steps} steps): min / median",
             "dlplay": float(min(drops)), "baseline": float(np.median(drops)), "baseline_name": "median",
             "unit": "x", "note": f"goal: min >= 10; content loss at most {worst:.2f} of the style picture's own"}]


def _shift_rows(quick: bool) -> list[dict]:
    """The perceptual lesson over every ordered pair of built-in pictures: how often each measure ranks the 4-px
    shift nearer than the different picture, and on how many pairs the deep ratio is the smaller."""
    survey = style.shift_survey(list(style.EXAMPLES)[:5] if quick else None)
    n = len(survey)
    deep_near = sum(r["deep"] < 1 for r in survey)
    pix_near = sum(r["pixel"] < 1 for r in survey)
    deep_smaller = sum(r["deep"] < r["pixel"] for r in survey)
    return [{"what": f"4-px shift ranked nearer than a different picture, {n} ordered pairs: deep features / pixels",
             "dlplay": deep_near, "baseline": pix_near, "baseline_name": "pixel MSE", "unit": "pairs",
             "note": f"deep ratio smaller than the pixel ratio on {deep_smaller} of {n}"}]


def rows(quick: bool) -> list[dict]:
    size, steps = (128, 40) if quick else (256, 150)
    content, sty = style.example("cat"), style.example("brush strokes (generated)")
    task = style.StyleTransferTask(content, sty, size=size, seed=0, device=bench_device())
    start = task.evaluate()
    Trainer(task).run(steps=3, evaluate=False)              # warm-up, then a fresh task for the measured run
    task = style.StyleTransferTask(content, sty, size=size, seed=0, device=bench_device())
    bare_run, tr, bare = _bare_steps(task), Trainer(task, record_every=5), 0.0
    sizes = [steps // CHUNKS + (i < steps % CHUNKS) for i in range(CHUNKS)]   # the same steps for both loops
    for i, n in enumerate(sizes):   # the Trainer resumes where it stopped: the chunks add up to one run
        bare += bare_run(n)
        tr.run(steps=n, evaluate=(i == CHUNKS - 1))
    end, ref = tr.last_eval, task.reference_losses()
    rows_ = [
        {"what": f"style transfer loop, {size} px, {steps} Adam steps, EfficientNet-Lite0", "dlplay": tr.seconds,
         "baseline": bare, "baseline_name": "bare forward+backward loop, same backbone and size", "unit": "s",
         "note": f"ratio {tr.seconds / bare:.2f} (goal <= 1.15); {CHUNKS} alternating chunks of each"},
        {"what": "style loss drop (content picture's / result's), same run", "dlplay": ref["style_of_content"] / end["style"],
         "baseline": None, "baseline_name": "", "unit": "x", "note": "goal >= 10"},
        {"what": "content loss at the end (relative)", "dlplay": end["content"], "baseline": ref["content_of_style"],
         "baseline_name": "content loss of the style picture itself", "unit": "",
         "note": "lower = more of the content kept"},
    ]
    rows_.extend(_pair_rows(quick))
    rows_p = style.perceptual_table(style.example("gravel"), style.example("bricks"), shifts=(4,))
    v = style.shift_verdict(rows_p, 4)
    deep = next(k for k in v if "deep" in k)
    rows_.append({"what": "gravel shifted 4 px vs bricks: deep-feature distance ratio (shifted / different)",
                  "dlplay": rows_p[0][deep] / rows_p[1][deep], "baseline": rows_p[0]["pixel MSE"] / rows_p[1]["pixel MSE"],
                  "baseline_name": "pixel MSE ratio", "unit": "ratio",
                  "note": f"< 1: shifted copy nearer. deep nearer: {v[deep]}, pixels nearer: {v['pixel MSE']}"})
    return rows_ + _shift_rows(quick)
