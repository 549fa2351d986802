"""Unit tests of the foundation: device, data, the training engine, checkpoints, viz, classifier, CLI."""

import copy
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from dlplay import checkpoints, data, viz
from dlplay.classifier import BUILDER, ClassifierTask, judge, load_judge
from dlplay.device import describe_device, get_device, seed_everything
from dlplay.errors import InputError, TrainingDiverged
from dlplay.train import Batches, FunctionTask, ModelTask, Task, Trainer


# -- device ----------------------------------------------------------------------------------------------------
def test_device_env_override_and_bad_value(monkeypatch):
    monkeypatch.setenv("DLPLAY_DEVICE", "cpu")
    assert get_device().type == "cpu"
    assert "CPU" in describe_device(get_device())
    monkeypatch.setenv("DLPLAY_DEVICE", "tpu")
    with pytest.raises(InputError, match="Unknown device 'tpu'"):
        get_device()
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA GPU"):
            get_device("cuda")


def test_seed_everything_repeats():
    g = seed_everything(3)
    a = (np.random.rand(), torch.rand(2), torch.rand(2, generator=g))
    g = seed_everything(3)
    b = (np.random.rand(), torch.rand(2), torch.rand(2, generator=g))
    assert a[0] == b[0] and torch.equal(a[1], b[1]) and torch.equal(a[2], b[2])


# -- data ------------------------------------------------------------------------------------------------------
def test_digits_split_and_range():
    ds = data.load("digits")
    assert ds.image_shape == (1, 8, 8)
    assert len(ds.x_train) + len(ds.x_test) == 1797
    assert 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    assert set(ds.y_test.tolist()) == set(range(10))


@pytest.mark.parametrize("name", ["rotations", "shapes"])
def test_procedural_sets_have_known_factors(name):
    ds = data.load(name)
    assert ds.factors_train and all(len(v) == len(ds.x_train) for v in ds.factors_train.values())
    assert ds.x_train.std() > 0.05  # not blank images


def test_rotations_images_follow_the_angle():
    ds = data.load("rotations")
    ang = ds.factors_train["angle"]
    i, j = int(np.argmin(ang)), int(np.argmax(ang))
    assert not torch.allclose(ds.x_train[i], ds.x_train[j], atol=0.1)


def test_unknown_and_missing_datasets_are_input_errors(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="Unknown dataset"):
        data.load("cifar100")
    monkeypatch.setenv("DLPLAY_DATA", str(tmp_path))
    data.DATASETS["mnist"][0].cache_clear() if hasattr(data.DATASETS["mnist"][0], "cache_clear") else None
    with pytest.raises(InputError) as e:
        data.DATASETS["mnist"][0]()
    assert "download" in str(e.value).lower()


@pytest.mark.parametrize("name", list(data.TOY2D))
def test_toy2d_shapes_and_seed(name):
    a, b = data.toy2d(name, 500, seed=1), data.toy2d(name, 500, seed=1)
    assert a.shape == (500, 2) and np.array_equal(a, b) and np.isfinite(a).all()


# -- uploads ---------------------------------------------------------------------------------------------------
def _png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_read_image_rejects_bad_files():
    from PIL import Image

    good = _png(Image.new("RGB", (40, 30), (10, 200, 30)))
    with pytest.raises(InputError, match="empty"):
        data.read_image(b"")
    with pytest.raises(InputError, match="not an image"):
        data.read_image(b"hello, this is text pretending to be a jpg")
    with pytest.raises(InputError, match="damaged or truncated"):
        data.read_image(good[: len(good) // 2])
    with pytest.raises(InputError, match="at least 64"):
        data.read_image(good, min_side=64)
    assert data.read_image(good).size == (40, 30)


def test_read_image_refuses_decompression_bomb_before_decoding():
    import struct
    import zlib

    # A valid PNG header claiming 50,000 x 50,000 pixels with (almost) no data.
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    with pytest.raises(InputError, match="megapixels"):
        data.read_image(png)


@pytest.mark.parametrize("mode,note", [("CMYK", "CMYK"), ("RGBA", "transparent"), ("I;16", "8 bits")])
def test_read_image_converts_unusual_modes_and_says_so(mode, note):
    from PIL import Image

    if mode == "CMYK":
        img = Image.new("CMYK", (16, 16), (0, 100, 100, 0))
        buf = io.BytesIO()
        img.save(buf, format="JPEG")
        raw = buf.getvalue()
    elif mode == "RGBA":
        raw = _png(Image.new("RGBA", (16, 16), (255, 0, 0, 0)))
    else:
        raw = _png(Image.fromarray((np.arange(256, dtype=np.uint16).reshape(16, 16) * 256)))
    notes = []
    out = data.read_image(raw, notes=notes)
    assert out.mode == "RGB" and any(note in n for n in notes)


def test_read_image_animated_gif_uses_first_frame():
    from PIL import Image

    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    notes = []
    assert data.read_image(buf.getvalue(), notes=notes).size == (20, 20)
    assert any("animated" in n for n in notes)


def test_read_text():
    assert data.read_text("héllo wörld".encode("utf-8")) == "héllo wörld"
    with pytest.raises(InputError, match="not UTF-8"):
        data.read_text("héllo".encode("latin-1"))
    with pytest.raises(InputError, match="binary"):
        data.read_text(b"\x00\x01\x02abc")
    with pytest.raises(InputError, match="empty"):
        data.read_text(b"")


# -- training engine --------------------------------------------------------------------------------------------
class Quadratic(Task):
    """Minimise |w - target|^2 with SGD on noisy targets drawn from the task's own generator."""

    def __init__(self, seed=0, lr=0.1):
        self.generator = torch.Generator().manual_seed(seed)
        self.w = torch.zeros(3, requires_grad=True)
        self.opt = torch.optim.SGD([self.w], lr=lr)

    def step(self):
        target = torch.ones(3) + 0.1 * torch.randn(3, generator=self.generator)
        loss = ((self.w - target) ** 2).sum()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"loss": loss}

    def evaluate(self):
        return {"distance": float((self.w - 1).norm())}

    def state_dict(self):
        return {"w": self.w.detach().clone(), "rng": self.generator.get_state(), "opt": self.opt.state_dict()}

    def load_state_dict(self, s):
        with torch.no_grad():
            self.w.copy_(s["w"])
        self.generator.set_state(s["rng"])
        self.opt.load_state_dict(s["opt"])


def test_trainer_step_budget_history_and_eval():
    tr = Trainer(Quadratic()).run(steps=50)
    assert tr.steps == 50 and len(tr.history) == 50 and tr.stopped_reason == "step budget reached"
    assert tr.history[-1]["loss"] < tr.history[0]["loss"]
    assert tr.last_eval["distance"] < 0.2
    steps, values = tr.series("loss")
    assert steps[0] == 1 and len(values) == 50


def test_trainer_time_budget_and_record_every():
    tr = Trainer(Quadratic(), record_every=10).run(seconds=0.2)
    assert tr.stopped_reason == "time budget reached" and tr.steps > 10
    assert all(h["step"] % 10 == 0 for h in tr.history)


def test_stop_and_resume_gives_same_model_as_one_run():
    a = Trainer(Quadratic(seed=5)).run(steps=40)
    b = Trainer(Quadratic(seed=5))
    b.run(steps=13)
    b.run(steps=27)
    assert torch.equal(a.task.w, b.task.w) and b.steps == 40


def test_callback_can_stop():
    tr = Trainer(Quadratic()).run(steps=100, callback=lambda t, m: m["step"] < 7)
    assert tr.steps == 7 and tr.stopped_reason == "stopped"


def test_divergence_raises_and_restores_last_good_weights():
    task = Quadratic(lr=1.5)  # |1 - 2 lr| > 1: the iterates explode
    tr = Trainer(task, snapshot_seconds=0.0)
    with pytest.raises(TrainingDiverged, match="learning rate"):
        tr.run(steps=10_000)
    assert torch.isfinite(task.w).all() and tr.stopped_reason == "diverged"


class _Exploding(ModelTask):
    """A real model, optimiser and batch order: linear regression with SGD at a learning rate that diverges.
    Before each step it notes the state and, after it, that step's loss, so a test can say which weights last
    gave a finite loss."""

    def __init__(self, lr=0.7):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(256, 8, generator=g) * 3
        self.y = self.x @ torch.randn(8, 1, generator=g)
        self.model = torch.nn.Linear(8, 1)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.batches = Batches(256, 32, g)
        self.log = []    # (state before the step, loss of the step)

    def step(self):
        before = copy.deepcopy(self.model.state_dict())
        idx = self.batches.next()
        loss = torch.nn.functional.mse_loss(self.model(self.x[idx]), self.y[idx])
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.log.append((before, float(loss.detach())))
        return {"loss": loss}


def _rolls_back_right(trainer_cls) -> bool:
    """Explode a ModelTask with record_every=10; True if the weights put back are the last ones whose loss was
    finite (and the explosion was caught on the step it happened)."""
    task = _Exploding()
    tr = trainer_cls(task, record_every=10, snapshot_seconds=0.0)
    with pytest.raises(TrainingDiverged):
        tr.run(steps=5000)
    first_bad = next(i for i, (_, loss) in enumerate(task.log) if not math.isfinite(loss))
    assert first_bad > 10 and first_bad % 10 != 9, "the test must explode between recorded steps"
    good_state = task.log[first_bad - 1][0]         # the weights that gave the last finite loss
    now = task.model.state_dict()
    return tr.steps == first_bad + 1 and all(torch.equal(now[k], good_state[k]) for k in now)


def test_divergence_is_caught_on_its_step_and_restores_the_last_finite_weights():
    assert _rolls_back_right(Trainer)


def test_the_rollback_check_fails_when_rollback_is_disabled():
    class NoRollback(Trainer):
        def _diverged(self, bad, m):
            self._snapshot = None          # forget the good weights: nothing is put back
            super()._diverged(bad, m)

    assert not _rolls_back_right(NoRollback)


def test_function_task_and_budget_required():
    n = [0]

    def step():
        n[0] += 1
        return {"loss": 1.0 / n[0]}
    tr = Trainer(FunctionTask(step))
    with pytest.raises(ValueError):
        tr.run()
    tr.run(steps=3)
    assert n[0] == 3


def test_batches_cover_every_index_once_per_epoch():
    b = Batches(10, 4, torch.Generator().manual_seed(0))
    seen = torch.cat([b.next() for _ in range(2)])
    assert len(set(seen.tolist())) == 8 and b.epoch == 1


# -- checkpoints -----------------------------------------------------------------------------------------------
def test_checkpoint_round_trip_and_refusals(tmp_path):
    task = ClassifierTask(data.load("digits"), hidden=16)
    p = tmp_path / "m.pt"
    checkpoints.save(p, task.model, task.config, BUILDER, {"note": "x"})
    model, cfg, extra = checkpoints.load(p, expect_builder=BUILDER)
    assert cfg["hidden"] == 16 and extra == {"note": "x"}
    x = data.load("digits").x_test[:4]
    task.model.eval()
    assert torch.allclose(model(x), task.model(x))
    raw = checkpoints.to_bytes(task.model, task.config, BUILDER)
    with pytest.raises(InputError, match="not the"):
        checkpoints.load(raw, expect_builder="dlplay.vae:build_model")
    import pickle
    with pytest.raises(InputError, match="not a dlplay checkpoint"):
        checkpoints.load(pickle.dumps({"a": 1}), expect_builder=BUILDER)
    for builder in ("os:system", "dlplay.cli:main"):   # any callable but an allowed model builder is refused,
        buf = io.BytesIO()                               # even when the caller names it
        torch.save({"format": checkpoints.FORMAT, "builder": builder, "config_json": '{"argv": ["list"]}',
                    "state_dict": {}}, buf)
        with pytest.raises(InputError, match="not a dlplay model builder"):
            checkpoints.load(buf.getvalue(), expect_builder=builder)
    bad = checkpoints.to_bytes(task.model, {**task.config, "hidden": 99}, BUILDER)
    with pytest.raises(InputError, match="do not fit"):
        checkpoints.load(bad, expect_builder=BUILDER)


def test_shipped_classifier_is_a_useful_judge():
    judge_model = load_judge()
    ds = data.load("digits")
    real = judge(judge_model, ds.x_test)
    noise = judge(judge_model, torch.rand(200, 1, 8, 8, generator=torch.Generator().manual_seed(0)))
    assert real["confident_share"] > 0.85
    assert noise["confident_share"] < 0.2


# -- viz -------------------------------------------------------------------------------------------------------
def test_viz_builders():
    imgs = torch.rand(10, 1, 8, 8)
    t = viz.tile(imgs, ncols=4)
    assert t.dtype == np.uint8 and t.shape == (3 * 9 + 1, 4 * 9 + 1, 3)
    assert viz.to_png(imgs)[:4] == b"\x89PNG"
    fig = viz.image_grid(imgs, titles=[str(i) for i in range(10)])
    assert len(fig.layout.annotations) == 10
    hist = [{"step": i, "loss": 1 / (i + 1), "acc": i / 10} for i in range(5000)]
    fig = viz.curve_panels(hist, {"loss": ["loss"], "acc": ["acc"]})
    assert len(fig.data) == 2 and len(fig.data[0].x) <= 1501 and fig.data[0].x[-1] == 4999
    sc = viz.scatter(np.random.rand(30, 3), labels=np.arange(30) % 3)
    assert len(sc.data) == 3 and sc.data[0].type == "scatter3d"


# -- CLI -------------------------------------------------------------------------------------------------------
def _cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "dlplay", *args], capture_output=True, text=True, timeout=timeout)


def test_cli_help_and_list():
    r = _cli("--help")
    assert r.returncode == 0 and "train" in r.stdout and "bench" in r.stdout
    r = _cli("list")
    assert r.returncode == 0 and "digits" in r.stdout and "Autoencoder Lab" in r.stdout


def test_cli_train_classifier_json_last_line(tmp_path):
    out = tmp_path / "c.pt"
    r = _cli("train", "classifier", "--seconds", "1", "--seed", "1", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["steps"] > 10 and summary["test_acc"] > 0.5 and out.exists()
    r = _cli("train", "classifier", "--dataset", "nope", "--seconds", "1")
    assert r.returncode == 2 and "Unknown dataset" in r.stderr and "Traceback" not in r.stderr
    r = _cli("train", "classifier", "--device", "tpu", "--seconds", "1")
    assert r.returncode == 2 and "Unknown device" in r.stderr
