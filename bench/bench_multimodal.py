"""Multimodal rows: the issue's retrieval and caption targets on seeds 0 / 1 / 2, beside their baselines.

- digits: text -> image top-1 over 60 wordings of the ten names; image -> text top-1 beside a logistic
  regression trained on the pixels with the labels (the supervised way to name a digit).
- shapes: image -> text recall@5, text -> image precision@5, captions with every factor right.
- arithmetic on shapes: image - its shape word + another shape word, share of the top 5 that keep the image's size
  and direction, beside the new shape word alone.
"""

from __future__ import annotations

from bench import bench_device

import numpy as np

from dlplay import multimodal as mm
from dlplay.data import load as load_data
from dlplay.train import Trainer


def _runs(dataset: str, seeds):
    for seed in seeds:
        task = mm.make_task(mm.MMConfig(dataset=dataset), seed, device=bench_device())
        tr = Trainer(task, record_every=50).run(steps=mm.SHIPPED[mm.shipped_for(dataset)].steps)
        yield task, tr


def _fmt(v):
    return " / ".join(f"{x:.3f}" for x in v)


def rows(quick: bool = False) -> list[dict]:
    from sklearn.linear_model import LogisticRegression

    seeds = [0] if quick else [0, 1, 2]
    sd = "/".join(map(str, seeds))
    out = []
    d = load_data("digits")
    t2i, i2t, secs = [], [], []
    for task, tr in _runs("digits", seeds):
        t2i.append(tr.last_eval["text_to_image_top1"])
        i2t.append(tr.last_eval["image_to_text_top1"])
        secs.append(tr.seconds)
    lr = LogisticRegression(max_iter=2000).fit(d.x_train.flatten(1).numpy(), d.y_train.numpy())
    lr_acc = float(lr.score(d.x_test.flatten(1).numpy(), d.y_test.numpy()))
    steps = mm.SHIPPED["multimodal_digits"].steps
    out += [{"what": f"digits, {steps} steps: text -> image top-1 (seeds {sd})", "dlplay": _fmt(t2i),
             "baseline": 0.9, "baseline_name": "goal", "unit": "share", "note": f"{np.mean(secs):.1f} s per run"},
            {"what": f"digits, {steps} steps: image -> nearest name right (seeds {sd})", "dlplay": _fmt(i2t),
             "baseline": lr_acc, "baseline_name": "logistic regression on pixels, with labels", "unit": "share"}]
    r5, p5, cap, kept, text_only, secs = [], [], [], [], [], []
    for task, tr in _runs("shapes", seeds):
        ev = tr.last_eval
        r5.append(ev["image_to_text_recall5"])
        p5.append(ev["text_to_image_precision5"])
        cap.append(ev["caption_all"])
        ar = mm.arithmetic_scores(task.model, task.data)
        kept.append(ar["arithmetic_kept5"])
        text_only.append(ar["text_only_kept5"])
        secs.append(tr.seconds)
    steps = mm.SHIPPED["multimodal_shapes"].steps
    out += [{"what": f"shapes, {steps} steps: image -> text recall@5 / text -> image precision@5 (seeds {sd})",
             "dlplay": _fmt(r5) + " | " + _fmt(p5), "baseline": 0.6, "baseline_name": "goal (recall@5)",
             "unit": "share", "note": f"{np.mean(secs):.1f} s per run"},
            {"what": f"shapes: captions with shape, size and direction all right (seeds {sd})", "dlplay": _fmt(cap),
             "baseline": 0.7, "baseline_name": "goal", "unit": "share"},
            {"what": "shapes: image - 'arrow' + 'bar' style queries, top 5 keeping size and direction",
             "dlplay": _fmt(kept), "baseline": _fmt(text_only), "baseline_name": "the new shape word alone",
             "unit": "share"}]
    return [{"bench": "multimodal", **r} for r in out]
