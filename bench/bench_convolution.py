"""Convolution rows: the issue's targets (shape formula vs torch, transposed = zero-stuffed conv, the default
network's accuracy within 20 s, feature maps of a 512x512 upload) with a logistic-regression baseline on pixels.

Accuracy rows train through the engine with a time budget on seeds 0, 1 and 2 and report the worst and the spread.
The upload row times what the page does after an upload on a warm server (the backbone already loaded): decode the
PNG, resize, run the backbone to the three layers, scale the maps and build the three figures with their PNGs.
"""

from __future__ import annotations

import io
import random
import statistics
import time

import numpy as np
import torch

from dlplay import convolution as cnn
from dlplay import data, viz
from dlplay.data import read_image
from dlplay.errors import InputError
from dlplay.train import Trainer


def _shape_agreement(n: int = 200) -> tuple[int, int]:
    rng = random.Random(1)
    agree = refused = 0
    while agree < n:
        c, h = rng.randint(1, 3), rng.randint(4, 48)
        kind = rng.choice(["conv", "maxpool", "avgpool"])
        if kind == "conv":
            layer = cnn.Layer("conv", (rng.randint(1, 4), rng.randint(1, 7), rng.randint(1, 4), rng.randint(0, 3),
                                       rng.randint(1, 3)))
            mod = torch.nn.Conv2d(c, layer.args[0], layer.args[1], layer.args[2], layer.args[3], layer.args[4])
        else:
            k = rng.randint(1, 4)
            layer = cnn.Layer(kind, (k, rng.randint(1, 4)))
            mod = (torch.nn.MaxPool2d if kind == "maxpool" else torch.nn.AvgPool2d)(k, layer.args[1])
        try:
            shape = cnn.layer_table([layer], (c, h, h))[-1].shape
        except InputError:
            refused += 1
            continue
        agree += int(tuple(mod(torch.zeros(1, c, h, h)).shape[1:]) == shape)
    return agree, refused


def _accuracy(stack: str, seconds: float, seeds=(0, 1, 2)) -> list[float]:
    out = []
    for seed in seeds:
        tr = Trainer(cnn.make_task(cnn.CNNConfig(stack=stack), seed), record_every=50).run(seconds=seconds)
        out.append(tr.last_eval["test_acc"])
    return out


def _upload_seconds(repeats: int = 5) -> float:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((512, 512, 3)) * 255).astype(np.uint8)).save(buf, "PNG")
    raw = buf.getvalue()
    cnn.backbone_maps(cnn.backbone_input(read_image(raw)))     # warm server: the backbone is loaded once
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        maps = cnn.backbone_maps(cnn.backbone_input(read_image(raw)))
        for tiles, _ in maps.values():
            viz.image_grid(tiles, ncols=8).to_json()
            viz.to_png(tiles, 8)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rows(quick: bool) -> list[dict]:
    seconds = 5.0 if quick else 20.0
    agree, refused = _shape_agreement()
    g = torch.Generator().manual_seed(0)
    diffs = []
    for _ in range(200):
        s, f = int(torch.randint(1, 4, (1,), generator=g)), int(torch.randint(2, 6, (1,), generator=g))
        p = int(torch.randint(0, f - 1, (1,), generator=g))
        x, w = torch.randn(1, 4, 6, 6, generator=g), torch.randn(4, 3, f, f, generator=g)
        diffs.append(cnn.transposed_as_conv(x, w, s, p).max_diff)
    from sklearn.linear_model import LogisticRegression
    d = data.load("digits")
    lr = LogisticRegression(max_iter=2000).fit(d.x_train.flatten(1).numpy(), d.y_train.numpy())
    lr_acc = float(lr.score(d.x_test.flatten(1).numpy(), d.y_test.numpy()))
    out = [
        {"what": "shape formula vs torch's output shape, 200 random valid conv/pool layers", "dlplay": agree,
         "baseline": None, "baseline_name": "", "unit": "of 200",
         "note": f"{refused} invalid ones refused with a sentence"},
        {"what": "transposed conv vs conv over the zero-stuffed input, 200 random cases: max |difference|",
         "dlplay": max(diffs), "baseline": None, "baseline_name": "", "unit": "", "note": "goal <= 1e-5"},
    ]
    for name, stack in (("shipped two-block CNN (CNNConfig default)", cnn.TRAIN_STACK),
                        ("the lecture's stack conv(12,3,1,1) relu pool(2) fc(10)", cnn.DEFAULT_STACK)):
        acc = _accuracy(stack, seconds)
        out.append({"what": f"{name}, {seconds:g} s on the digits: test accuracy, worst of seeds 0/1/2",
                    "dlplay": min(acc), "baseline": lr_acc, "baseline_name": "logistic regression on pixels",
                    "unit": "", "note": "seeds 0/1/2: " + " / ".join(f"{a:.3f}" for a in acc) + "; goal >= 0.95"})
    out.append({"what": "512x512 upload -> feature maps at three layers with figures (warm, median of 5)",
                "dlplay": _upload_seconds(3 if quick else 5), "baseline": None, "baseline_name": "", "unit": "s",
                "note": "goal <= 2 s"})
    return out
