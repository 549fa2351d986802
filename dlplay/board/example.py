"""The example board the page opens on: twelve real 2-D GAN runs, re-created by `python -m dlplay pretrain board`."""

from __future__ import annotations

import io
import json
from pathlib import Path

from .schema import Submission
from .validate import downsample


# -- the example board the page opens on -------------------------------------------------------------------------
EXAMPLE_FILE = "board_example.json"
EXAMPLE_PRESETS = ("healthy training", "mode collapse", "WGAN-GP fixes it")
EXAMPLE_SEEDS = (0, 1, 2, 3)
EXAMPLE_STEPS = 1000


def pretrain(out_dir=None) -> dict:
    """Re-create the example board (`python -m dlplay pretrain board`): the 2-D GAN Lab's three ring-of-8 presets
    on four seeds each, EXAMPLE_STEPS iterations, what a room of twelve would submit. Real runs, on the CPU."""
    import base64

    from PIL import Image

    from .. import checkpoints
    from ..gan import viz as ganviz
    from ..gan.gan2d import make_task, preset
    from ..train import Trainer

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    runs = []
    for name in EXAMPLE_PRESETS:
        cfg = preset(name)
        for seed in EXAMPLE_SEEDS:
            task = make_task(cfg, seed, device="cpu")
            tr = Trainer(task, record_every=10).run(steps=EXAMPLE_STEPS)
            d = task.distances()
            hist = [h for h in tr.history if "d_loss" in h]
            xs, ys = downsample([h["step"] for h in hist], [h["d_loss"] for h in hist], 50)
            pic = ganviz.playground_frame(task.view(), task.bounds, cfg.loss, ("real", "generated"), size=160)
            buf = io.BytesIO()
            Image.open(io.BytesIO(pic)).convert("RGB").save(buf, format="PNG", optimize=True)
            runs.append({"preset": name, "seed": seed, "config": {k: v for k, v in cfg.as_dict().items()
                                                                  if not isinstance(v, bytes)},
                         "metrics": {k: round(float(v), 4) for k, v in {**d, "steps": tr.steps}.items()},
                         "curves": {"d_loss": {"x": xs, "y": [round(y, 4) for y in ys]}},
                         "picture": base64.b64encode(buf.getvalue()).decode()})
    (out_dir / EXAMPLE_FILE).write_text(json.dumps({"steps": EXAMPLE_STEPS, "runs": runs}))
    return {p: [r["metrics"]["modes_covered"] for r in runs if r["preset"] == p] for p in EXAMPLE_PRESETS}


def example_submissions() -> list[tuple[Submission, bytes]]:
    """The shipped example board as submissions (with their pictures), for the page to open on."""
    import base64

    from .. import checkpoints

    raw = json.loads((checkpoints.SHIPPED_DIR / EXAMPLE_FILE).read_text())
    out = []
    for i, r in enumerate(raw["runs"], 1):
        s = Submission(i, 0.0, "gan", "dlplay.gan.gan2d.GAN2DConfig", f"example {i}", r["seed"],
                       {"preset": r["preset"], **r["config"]}, r["metrics"], r["curves"], False, True)
        out.append((s, base64.b64decode(r["picture"])))
    return out
