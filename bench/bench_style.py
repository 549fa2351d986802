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

from dlplay import style
from dlplay.train import Trainer

CHUNKS = 5


def _bare_steps(task: style.StyleTransferTask):
    """A bare forward+backward+Adam loop over the same layers: returns a function that takes n steps, timed."""
    x = task.content_img.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.02)
    layers = task.layers

    def run(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            opt.zero_grad()
            f = task.bb.features(x, layers)
            loss = sum(v.pow(2).mean() for v in f.values())
            loss.backward()
            opt.step()
        return time.perf_counter() - t0
    return run


def rows(quick: bool) -> list[dict]:
    size, steps = (128, 40) if quick else (256, 150)
    content, sty = style.example("cat"), style.example("brush strokes (generated)")
    task = style.StyleTransferTask(content, sty, size=size, seed=0)
    start = task.evaluate()
    Trainer(task).run(steps=3, evaluate=False)              # warm-up, then a fresh task for the measured run
    task = style.StyleTransferTask(content, sty, size=size, seed=0)
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
        {"what": "style loss drop (start / end), same run", "dlplay": start["style"] / end["style"],
         "baseline": None, "baseline_name": "", "unit": "x", "note": "goal >= 10"},
        {"what": "content loss at the end (relative)", "dlplay": end["content"], "baseline": ref["content_of_style"],
         "baseline_name": "content loss of the style picture itself", "unit": "",
         "note": "lower = more of the content kept"},
    ]
    rows_p = style.perceptual_table(style.example("gravel"), style.example("bricks"), shifts=(4,))
    v = style.shift_verdict(rows_p, 4)
    deep = next(k for k in v if "deep" in k)
    rows_.append({"what": "gravel shifted 4 px vs bricks: deep-feature distance ratio (shifted / different)",
                  "dlplay": rows_p[0][deep] / rows_p[1][deep], "baseline": rows_p[0]["pixel MSE"] / rows_p[1]["pixel MSE"],
                  "baseline_name": "pixel MSE ratio", "unit": "ratio",
                  "note": f"< 1: shifted copy nearer. deep nearer: {v[deep]}, pixels nearer: {v['pixel MSE']}"})
    return rows_
