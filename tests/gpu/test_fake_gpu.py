"""The GPU path, tested without a GPU (tests/fakecuda.py): every topic's task builds, steps, resumes exactly,
evaluates and round-trips a checkpoint on a fake cuda:0 that enforces CUDA's device and generator rules; the
host-device waits per step stay within budget; every CLI command runs with --device cuda.

Left out of the default run (pytest.ini: -m "not slow and not fakegpu"); `python -m pytest -m fakegpu` runs it.
Step budgets only, small configs."""

import dataclasses
import importlib
import json
import math
import pickle
from contextlib import redirect_stdout

import pytest
import torch

import fakecuda
from dlplay import topics
from dlplay.train import Trainer

pytestmark = [pytest.mark.fakegpu, pytest.mark.usefixtures("one_thread")]

# Topics whose work does not run on the GPU, by design (said here so the suite does not demand it of them):
ON_CPU = {
    "dlplay.embed": "t-SNE / UMAP / scikit-learn layouts have no GPU path",
    "dlplay.gan": "the 2-D GAN (its EXAMPLE) stays on the CPU: tiny MLPs; the image GAN is tested below",
    "dlplay.qlearning": "the tabular example has no network",
    "dlplay.documents.doc2vec": "gensim's Doc2Vec runs on the CPU",
}
# Smaller or longer-phased configs where the EXAMPLE would cross a plan's phase boundary inside the measured steps
# (a plan task reads each phase's last loss at the boundary: allowed, but not per step)
BUDGET_CONFIG = {"dlplay.pretraining": lambda c: dataclasses.replace(c, pretrain_steps=40)}


def _example(mod):
    return getattr(mod, "EXAMPLE", None) or topics.config_type(mod)()


def _params_on(task, kind):
    model = getattr(task, "model", None)
    if not isinstance(model, torch.nn.Module):
        return True
    return all(p.device.type == kind for p in model.parameters())


def _flat_state(task):
    model = getattr(task, "model", None)
    if not isinstance(model, torch.nn.Module):
        return None
    return {k: (v.elem if isinstance(v, fakecuda.FakeCudaTensor) else v).detach().clone()
            for k, v in model.state_dict().items()}


# -- the fake itself enforces the rules (a fake that allowed everything would prove nothing) -------------------------
def test_the_fake_refuses_what_a_gpu_refuses(fake_gpu):
    x = torch.randn(4, 3, device="cuda")
    assert x.device.type == "cuda" and torch.nn.Linear(3, 2).to("cuda").weight.device.type == "cuda"
    with pytest.raises(RuntimeError, match="same device"):
        x + torch.ones(4, 3)
    assert (x + torch.tensor(2.0)).device.type == "cuda"        # a 0-d CPU tensor is allowed, as on a GPU
    with pytest.raises(TypeError, match="numpy"):
        x.numpy()
    with pytest.raises(RuntimeError, match="generator"):
        torch.randn(3, device="cuda", generator=torch.Generator())
    with pytest.raises(RuntimeError, match="generator"):
        torch.randn(3, generator=torch.Generator(device="cuda"))
    with fakecuda.counting() as c:
        x.sum().item()
        x.cpu().numpy()
        x[torch.arange(2)]                 # CPU indices: copied to the device first
        bool((x > 0).any())
        x.tolist()
        torch.zeros(3).to("cuda")
    assert c.count == 6, c.kinds
    with fakecuda.counting() as c:
        y = (x @ x.T).relu().sum(0)         # device work only: no wait
        torch.zeros(3, device="cuda") + y[:3]
    assert c.count == 0


# -- every topic: steps, waits, resume, evaluation, checkpoint --------------------------------------------------------
@pytest.mark.parametrize("name", topics.TOPICS)
def test_topic_trains_on_the_fake_gpu_within_its_wait_budget(name, fake_gpu):
    mod = importlib.import_module(name)
    cfg = BUDGET_CONFIG.get(name, lambda c: c)(_example(mod))
    task = mod.make_task(cfg, 0, device="cuda")
    if name not in ON_CPU:
        assert _params_on(task, "cuda"), f"{name}: make_task(device='cuda') left the model on the CPU"
    tr = Trainer(task, record_every=1000)
    tr.run(steps=2, evaluate=False)                                # warm-up: lazy buffers, the first epoch's order
    epoch0 = getattr(getattr(task, "batches", None), "epoch", 0)
    with fakecuda.counting(trace=True) as c:
        tr.run(steps=4 if tr.steps + 4 < 1000 else 1, evaluate=False)    # the last of these is recorded (budget end)
    epochs = getattr(getattr(task, "batches", None), "epoch", 0) - epoch0   # each new epoch's order: one copy
    assert c.count <= 1 + epochs, f"{name}: {c.count} waits in 4 steps (1 recorded): {dict(c.where)}"
    with fakecuda.counting(trace=True) as c:
        Trainer(task, record_every=1000).run(steps=3, evaluate=False)    # the budget's end records the last one
    assert c.count <= 1 + epochs + 1, dict(c.where)
    assert all(math.isfinite(v) for v in tr.latest.values())
    ev = task.evaluate()
    assert all(isinstance(float(v), float) for v in ev.values())
    if name not in ON_CPU:
        assert _params_on(task, "cuda"), f"{name}: evaluate() moved the model off the device"


@pytest.mark.parametrize("name", topics.TOPICS)
def test_stop_and_resume_on_the_fake_gpu_is_exact(name, fake_gpu):
    """The same model whether a run stops and resumes in a fresh task (the runner's way) or not: the batch order,
    the device generator's noise and the global generator all carried in state_dict()."""
    mod = importlib.import_module(name)
    cfg = _example(mod)
    if name == "dlplay.pretraining":
        pytest.skip("a plan task resumes at its next seed, on the CPU too (PlanTask), not mid-seed")
    a = mod.make_task(cfg, 0, device="cuda")
    Trainer(a).run(steps=6, evaluate=False)
    b = mod.make_task(cfg, 0, device="cuda")
    Trainer(b).run(steps=3, evaluate=False)
    state = b.state_dict()
    if state is None:
        pytest.skip(f"{name} keeps no state to resume")
    c = mod.make_task(cfg, 0, device="cuda")
    c.load_state_dict(pickle.loads(pickle.dumps(state)))
    Trainer(c).run(steps=3, evaluate=False)
    sa, sc = _flat_state(a), _flat_state(c)
    if sa is not None:
        assert sa.keys() == sc.keys()
        assert all(torch.equal(sa[k], sc[k]) for k in sa), f"{name}: resumed run differs"
    if name not in ON_CPU:
        assert _params_on(c, "cuda")


@pytest.mark.parametrize("name", [n for n in topics.TOPICS if n not in ON_CPU])
def test_checkpoint_round_trip_from_the_fake_gpu(name, fake_gpu):
    from dlplay import checkpoints
    mod = importlib.import_module(name)
    task = mod.make_task(_example(mod), 0, device="cuda")
    if not hasattr(task, "model_config") or not hasattr(mod, "BUILDER"):
        pytest.skip(f"{name} saves no model checkpoint")
    if mod.BUILDER not in checkpoints.ALLOWED_BUILDERS:
        pytest.xfail(f"{mod.BUILDER} is not in checkpoints.ALLOWED_BUILDERS (on the CPU too): its --out cannot "
                     "be loaded back")
    Trainer(task).run(steps=2, evaluate=False)
    data = topics.checkpoint_bytes(mod, task)
    assert _params_on(task, "cuda"), "saving moved the task's model"
    model, _, _ = checkpoints.load(data, expect_builder=mod.BUILDER)
    want = _flat_state(task)
    got = {k: v for k, v in model.state_dict().items()}
    assert all(v.device.type == "cpu" for v in got.values())
    assert all(torch.equal(want[k], got[k]) for k in want)
    Trainer(task).run(steps=1, evaluate=False)                       # and the task trains on


def test_image_gan_on_the_fake_gpu_waits_once_per_recorded_step(fake_gpu):
    from dlplay.gan import images
    for loss in ("nonsaturating", "wgan-gp"):
        task = images.make_task(images.ImageGANConfig(loss=loss), 0, device="cuda")
        assert _params_on(task, "cuda")
        tr = Trainer(task, record_every=1000)
        tr.run(steps=2, evaluate=False)
        with fakecuda.counting(trace=True) as c:
            tr.run(steps=4, evaluate=False)
        assert c.count <= 1, (loss, dict(c.where))


def test_gan2d_stays_on_the_cpu_when_cuda_is_asked(fake_gpu):
    from dlplay.gan import gan2d
    task = gan2d.make_task(gan2d.GAN2DConfig(), 0, device="cuda") if hasattr(gan2d, "make_task") else \
        gan2d.GAN2DTask(device="cuda")
    assert _params_on(task, "cpu")


def test_cuda_out_of_memory_is_a_sentence(fake_gpu):
    from dlplay.errors import InputError
    from dlplay.train import FunctionTask

    def step():
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
    with pytest.raises(InputError, match="smaller"):
        Trainer(FunctionTask(step)).run(steps=1)


def test_get_device_accepts_a_torch_device_and_sets_up_cuda(fake_gpu, monkeypatch):
    from dlplay.device import get_device
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    assert get_device(torch.device("cuda")).type == "cuda"
    assert get_device(torch.device("cpu")).type == "cpu"
    assert torch.backends.cudnn.benchmark and torch.backends.cuda.matmul.allow_tf32


def test_one_hot_identity_on_the_device(fake_gpu):
    from dlplay.words import one_hot_identity
    W = torch.randn(50, 8, device="cuda")
    product, row, diff = one_hot_identity(W, 7)
    assert product.device.type == "cuda" and diff == 0.0


def test_one_dataset_copy_per_device(fake_gpu):
    from dlplay import classifier
    a = classifier.make_task(classifier.ClassifierConfig(), 0, device="cuda")
    b = classifier.make_task(classifier.ClassifierConfig(), 1, device="cuda")
    assert a.x is b.x and a.x.device.type == "cuda"


# -- every CLI command with --device cuda ------------------------------------------------------------------------------
CLI = {
    "train classifier": ["--steps", "3"],
    "train autoencoder": ["--steps", "3"],
    "train vae": ["--steps", "3", "--judge", "--out", "{tmp}/vae.pt"],      # the crash flow of issue 29
    "train gan2d": ["--steps", "3"],
    "train gan": ["--steps", "3", "--out", "{tmp}/gan.pt"],
    "train word2vec": ["--epochs", "1", "--corpus", "lee", "--dim", "16"],
    "train rbm": ["--steps", "3"],
    "train pretrain-stack": ["--steps", "3", "--pretrain-steps", "2", "--finetune-steps", "2", "--seeds", "1"],
    "train glove": ["--steps", "3"],
    "train doc-ae": ["--steps", "3"],
    "search": ["--method", "lsa", "--k", "3", "money"],
    "train charlm": ["--steps", "3", "--arch", "lstm"],
    "train copy-task": ["--steps", "3"],
    "train reverse": ["--steps", "3"],
    "train pixelcnn": ["--steps", "3", "--out", "{tmp}/pixel.pt"],
    "train domain-adapt": ["--steps", "3"],
    "embed": ["--method", "pca", "--no-quality"],
    "style": ["--steps", "2", "--size", "64", "--out", "{tmp}/style.png"],
    "corpus": ["lee", "--out", "{tmp}/lee.txt"],
    "train cnn": ["--steps", "3"],
    "cnn": ["shapes", "conv(8,3,1,1) relu pool(2)", "--input", "8x8x1"],
    "train qlearning": ["--steps", "3"],
    "train multimodal": ["--steps", "3", "--out", "{tmp}/mm.pt"],
}


def test_the_cli_table_covers_every_command():
    from dlplay.cli import COMMANDS
    assert set(CLI) == set(COMMANDS)


@pytest.mark.parametrize("key", list(CLI))
def test_cli_command_with_device_cuda(key, fake_gpu, tmp_path, capsys):
    from dlplay.cli import main
    parts = key.split()
    extra = [a.format(tmp=tmp_path) for a in CLI[key]]
    # positional arguments (search's query, corpus's name, cnn's verb) come before the options
    pos = [a for a in extra if not a.startswith("--") and extra[max(0, extra.index(a) - 1)][:2] != "--"]
    opts = [a for a in extra if a not in pos]
    rc = main([*parts, *pos, "--device", "cuda", "--json", *opts])
    out, err = capsys.readouterr()
    assert rc == 0, f"{key}: rc {rc}\n{err[-2000:]}"
    assert "Traceback" not in err
    if out.strip().startswith("{"):
        json.loads(out.strip().splitlines()[-1])
