"""Autoencoder Lab backend: shapes and losses of every variant, short training runs, PCA comparison, codes' uses."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from dlplay import autoencoders as ae
from dlplay import checkpoints, data
from dlplay.errors import InputError
from dlplay.train import Trainer


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("variant", list(ae.VARIANTS))
@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28)])
def test_encode_decode_shapes(variant, shape):
    m = ae.build_model(variant, shape, 5)
    x = torch.rand(3, *shape)
    z = m.encode(x)
    assert z.shape == (3, 5)
    assert m.decode(z).shape == (3, *shape) and m(x).shape == (3, *shape)
    if variant == "sparse":
        assert (z >= 0).all()


def test_losses_of_each_variant(digits):
    x = digits.x_train[:32]
    g = torch.Generator().manual_seed(0)
    plain = ae.loss_terms(ae.build_model("deep"), x, "deep")
    assert plain["penalty"] == 0 and torch.isclose(plain["loss"], plain["mse"])
    m = ae.build_model("sparse")
    out = ae.loss_terms(m, x, "sparse", 0.1)
    assert torch.isclose(out["penalty"], 0.1 * m.encode(x).abs().mean())
    m = ae.build_model("contractive")
    out = ae.loss_terms(m, x, "contractive", 0.5)
    # the penalty is lambda * ||dz/dx||_F^2: check against a finite-difference Jacobian of one image
    xi = x[:1].double()
    md = m.double()
    eps = 1e-5
    jac = torch.stack([(md.encode(xi + eps * e.view(1, 1, 8, 8)) - md.encode(xi - eps * e.view(1, 1, 8, 8)))[0] / (2 * eps)
                       for e in torch.eye(64, dtype=torch.float64)], 1)
    assert torch.isclose(ae.jacobian_sq(md, xi)[0], jac.pow(2).sum(), rtol=1e-4)
    out.get("loss").backward()  # the penalty is differentiable with respect to the weights
    assert m.encoder[1].weight.grad is not None and m.encoder[1].weight.grad.abs().sum() > 0
    noisy = ae.corrupt(x, "gaussian", 0.3, g)
    assert noisy.shape == x.shape and 0 <= noisy.min() and noisy.max() <= 1 and not torch.equal(noisy, x)
    dropped = ae.corrupt(torch.ones(1000), "dropout", 0.3, g)
    assert 0.25 < (dropped == 0).float().mean() < 0.35


@pytest.mark.parametrize("variant", list(ae.VARIANTS))
def test_short_training_lowers_the_loss(variant, digits):
    task = ae.AutoencoderTask(digits, variant, seed=0, device="cpu")
    before = task.evaluate()["test_mse"]
    tr = Trainer(task, record_every=1).run(steps=60)
    losses = [h["loss"] for h in tr.history]
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert tr.last_eval["test_mse"] < before


def test_bad_settings_are_input_errors(digits):
    with pytest.raises(InputError, match="variant"):
        ae.AutoencoderTask(digits, "wavelet")
    with pytest.raises(InputError, match="code size"):
        ae.AutoencoderTask(digits, "deep", code_size=100_000)
    with pytest.raises(InputError, match="L1 weight"):
        ae.AutoencoderTask(digits, "sparse", weight=50)
    with pytest.raises(InputError, match="noise"):
        ae.AutoencoderTask(digits, "denoising", noise="salt")
    with pytest.raises(InputError):
        ae.search(ae.build_model(), digits, 10_000)


def test_linear_autoencoder_finds_pca_subspace(digits):
    task = ae.AutoencoderTask(digits, "linear", 2, lr=1e-2, batch_size=256, seed=0, device="cpu")
    pca = ae.PCABaseline(digits, 2)
    assert ae.subspace_angle(task.model, pca) > 45  # untrained: far from it
    Trainer(task).run(steps=1500)
    assert ae.subspace_angle(task.model, pca) < 10
    assert task.evaluate()["test_mse"] < 1.05 * pca.test_mse(digits.x_test)


def test_shipped_default_checkpoint_is_deep_8_and_beats_pca(digits):
    model, cfg, extra = checkpoints.load(checkpoints.shipped("autoencoder_digits"))
    assert cfg["variant"] == "deep" and cfg["code_size"] == 8
    assert model.encode(digits.x_test[:5]).shape == (5, 8)
    assert ae.mse(ae.reconstruct(model, digits.x_test), digits.x_test) < 0.8 * ae.PCABaseline(digits, 8).test_mse(digits.x_test)
    agree = ae.search_agreement(model, digits)
    assert agree["code"] > 0.8  # similar-image search by code mostly returns the same digit


def test_shipped_rotation_code_recovers_the_angle():
    rot = data.load("rotations")
    model, cfg, _ = ae.load(checkpoints.shipped("autoencoder_rotations"))
    assert cfg["code_size"] == 1
    assert ae.factor_recovery(model, rot)["angle"] > 0.9
    # walking the single code number moves the decoded image (the slider turns the arrow)
    z = ae.encode(model, rot.x_test)
    imgs = ae.decode(model, torch.linspace(z.min(), z.max(), 5).view(-1, 1))
    assert (imgs[0] - imgs[-1]).abs().mean() > 0.05


def test_code_uses(digits):
    model = ae.load(checkpoints.shipped("autoencoder_digits"))[0]
    a, b = digits.x_test[0], digits.x_test[1]
    path, fade = ae.interpolate(model, a, b, 6)
    assert path.shape == fade.shape == (6, 1, 8, 8)
    assert torch.allclose(fade[0], a) and torch.allclose(fade[-1], b)
    assert torch.allclose(path[0], ae.reconstruct(model, a[None])[0], atol=1e-5)
    res = ae.search(model, digits, 3, 8)
    assert len(res["code"]) == len(res["pixel"]) == 8 and 0 <= res["code_same"] <= 8
    idx = ae.showcase(digits, 10)
    assert sorted(digits.y_test[idx].tolist()) == list(range(10))
    assert ae.code_map(np.random.rand(50, 5)).shape == (50, 2)
    assert ae.first_filters(ae.build_model("conv")).shape == (16, 1, 3, 3)


def test_overcomplete_copies_noise_and_deep_does_not(digits):
    over = ae.load(checkpoints.shipped("autoencoder_overcomplete_digits"))[0]
    deep = ae.load(checkpoints.shipped("autoencoder_digits"))[0]
    assert ae.identity_error(over, digits) < 0.5 * ae.identity_error(deep, digits)


def test_checkpoint_round_trip_and_cli(tmp_path):
    out = tmp_path / "m.pt"
    r = subprocess.run([sys.executable, "-m", "dlplay", "train", "autoencoder", "--variant", "denoising",
                        "--steps", "20", "--out", str(out), "--json"], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "DLPLAY_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    for k in ("variant", "code_size", "steps", "seconds", "test_mse", "pca_test_mse", "psnr_noisy", "psnr_denoised"):
        assert k in summary
    model, cfg, extra = ae.load(out)
    assert cfg["variant"] == "denoising" and extra["noise"] == "gaussian"
    assert model.decode(model.encode(torch.rand(2, 1, 8, 8))).shape == (2, 1, 8, 8)
    r = subprocess.run([sys.executable, "-m", "dlplay", "train", "autoencoder", "--code-size", "0", "--steps", "1"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "code size" in r.stderr
