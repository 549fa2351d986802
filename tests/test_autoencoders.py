"""Autoencoder Lab backend: shapes and losses of every variant, the topic contract, and every lesson the page
states, checked on freshly trained models (seeds 0, 1 and 2, step budgets) rather than only on the shipped files."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from dlplay import autoencoders as ae
from dlplay import checkpoints, data, topics
from dlplay.errors import InputError
from dlplay.train import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")
C = ae.AutoencoderConfig


def _trained(steps: int, seed: int = 0, **kw):
    task = ae.make_task(C(**kw), seed, device="cpu")
    Trainer(task, record_every=100).run(steps=steps)
    return task


# -- the topic contract --------------------------------------------------------------------------------------------
def test_follows_the_topic_contract():
    assert isinstance(ae, topics.Topic)
    assert topics.config_type(ae) is C
    with pytest.raises(dataclasses.FrozenInstanceError):
        C().code_size = 3
    for name, sh in ae.SHIPPED.items():
        assert isinstance(sh, topics.Shipped) and sh.name == name and sh.config.dataset == sh.dataset
        sh.config.check()
    task = ae.make_task(C(variant="linear", code_size=3), seed=0)
    assert task.model_config == {"variant": "linear", "image_shape": [1, 8, 8], "code_size": 3,
                                 "hidden": [128, 64], "tied": False}
    again = ae.make_task(C(variant="linear", code_size=3), seed=0)   # same config and seed, same model
    assert all(torch.equal(a, b) for a, b in zip(task.model.state_dict().values(), again.model.state_dict().values()))
    import pickle
    assert pickle.loads(pickle.dumps(C(variant="sparse"))) == C(variant="sparse")   # a run is plain data


def test_resolved_fills_the_variants_defaults():
    r = C(variant="overcomplete").resolved()
    assert r.code_size == 128 and r.lr == 2e-3 and r.batch_size == 64
    r = C(variant="linear").resolved()
    assert r.code_size == 8 and r.lr == ae.VARIANTS["linear"].lr and r.batch_size == 2048
    assert C(variant="sparse").resolved().weight == ae.VARIANTS["sparse"].knob_default


# -- shapes and losses ---------------------------------------------------------------------------------------------
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


@pytest.mark.parametrize("variant", ae.TIED_VARIANTS)
def test_tied_decoder_is_the_encoder_transposed(variant):
    untied, tied = ae.build_model(variant, code_size=8), ae.build_model(variant, code_size=8, tied=True)
    weights = lambda m: sum(p.numel() for n, p in m.named_parameters() if n.endswith("weight"))  # noqa: E731
    assert weights(tied) * 2 == weights(untied)                  # the decoder owns no weight matrix
    assert ae.parameter_count(tied) < 0.55 * ae.parameter_count(untied)
    z = torch.rand(4, 8)
    if variant == "linear":
        W = tied.encoder[1].weight
        assert torch.allclose(tied.decode(z).flatten(1), z @ W + tied.decoder.biases[0], atol=1e-6)
    tied(torch.rand(2, 1, 8, 8)).sum().backward()                # gradients reach the shared matrices
    assert tied.encoder[1].weight.grad.abs().sum() > 0
    round_trip = checkpoints.load(checkpoints.to_bytes(tied, {"variant": variant, "code_size": 8, "tied": True},
                                                       ae.BUILDER), expect_builder=ae.BUILDER)[0]
    assert torch.allclose(round_trip.decode(z), tied.eval().decode(z), atol=1e-6)


def test_losses_of_each_variant(digits):
    x = digits.x_train[:32]
    g = torch.Generator().manual_seed(0)
    plain = ae.loss_terms(ae.build_model("deep"), x, "deep")
    assert plain["penalty"] == 0 and torch.isclose(plain["loss"], plain["mse"])
    m = ae.build_model("sparse")
    out = ae.loss_terms(m, x, "sparse", 0.1)
    assert torch.isclose(out["penalty"], 0.1 * m.encode(x).abs().mean())
    assert ae.loss_terms(m, x, "sparse", 0.0)["penalty"] == 0          # L1 = 0 is the same network, unpenalised
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
    kept = ae.drop_code(torch.ones(100, 40), 0.25, g)
    assert set(kept.unique().tolist()) == {0.0, 1.0} and 0.2 < (kept == 0).float().mean() < 0.3   # no rescaling
    phi = ae.perceptual_features()
    assert not any(p.requires_grad for p in phi.parameters()) and phi(x).shape[0] == 32


def test_soft_threshold_makes_exact_zeros():
    m = ae.build_model("deep")
    before = ae.first_layer(m).weight.detach().clone()
    ae.soft_threshold_(m, 0.05)
    after = ae.first_layer(m).weight.detach()
    assert torch.equal(after == 0, before.abs() <= 0.05)
    assert torch.allclose(after[before > 0.05], before[before > 0.05] - 0.05)


@pytest.mark.parametrize("variant", list(ae.VARIANTS))
def test_short_training_lowers_the_loss(variant, digits):
    task = ae.make_task(C(variant=variant), seed=0, device="cpu")
    before = task.evaluate()["test_mse"]
    tr = Trainer(task, record_every=1).run(steps=60)
    losses = [h["loss"] for h in tr.history]
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert tr.last_eval["test_mse"] < before


@pytest.mark.parametrize("bad, match", [
    (dict(variant="wavelet"), "variant"), (dict(code_size=100_000), "code size"), (dict(code_size=0), "code size"),
    (dict(variant="sparse", weight=50), "L1 weight"), (dict(variant="denoising", noise="salt"), "noise"),
    (dict(variant="conv", tied=True), "Tied"), (dict(dataset="rotations", loss="perceptual"), "digits"),
    (dict(weight_l1=-1), "L1 weight on the weights"), (dict(lr=5.0), "learning rate"), (dict(dataset="x"), "dataset"),
    (dict(hidden=(0,)), "Hidden"), (dict(variant="deep", weight=0.5), "no knob")])
def test_bad_settings_are_input_errors(bad, match):
    with pytest.raises(InputError, match=match):
        ae.make_task(C(**bad))


def test_bad_search_is_an_input_error(digits):
    with pytest.raises(InputError):
        ae.search(ae.build_model(), digits, 10_000)
    with pytest.raises(InputError, match="query kind"):
        ae.distort(digits.x_test[:1], "upside-down")


# -- lessons on freshly trained models -----------------------------------------------------------------------------
SEEDS = [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)]
OTHER_SEED = [0, pytest.param(1, marks=pytest.mark.slow)]   # seed 0 in the quick run, seed 1 with -m slow


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_autoencoder_finds_pca_subspace(seed, digits):
    """The page's default linear run (K = 8, its defaults) reaches a small angle in the steps the caption says."""
    task = ae.make_task(C(variant="linear"), seed, device="cpu")
    pca = ae.PCABaseline(digits, 8)
    assert ae.subspace_angle(task.model, pca) > 60  # untrained: far from it
    Trainer(task).run(steps=500)
    assert ae.subspace_angle(task.model, pca) > 10  # the caption's "a short run is still turning"
    Trainer(task).run(steps=1500)
    assert ae.subspace_angle(task.model, pca) < 2  # 2,000 steps in all: "under 1°" on seeds 0-2 as measured
    assert task.evaluate()["test_mse"] < 1.02 * pca.test_mse(digits.x_test)


@pytest.mark.parametrize("seed", OTHER_SEED)
def test_tied_linear_autoencoder_finds_it_with_half_the_parameters(seed, digits):
    pca = ae.PCABaseline(digits, 8)
    task = _trained(2000, seed, variant="linear", tied=True)
    assert ae.subspace_angle(task.model, pca) < 2
    assert ae.parameter_count(task.model) < 0.55 * ae.parameter_count(ae.build_model("linear", code_size=8))


@pytest.mark.parametrize("seed", OTHER_SEED)
def test_l1_penalty_raises_code_sparsity_on_the_same_relu_network(seed, digits):
    """Same ReLU-code network, same seed and steps, lambda = 0 versus the default: the penalty itself adds many
    exact zeros (issue 18: a comparison against the linear-code deep AE measured the ReLU, not the penalty)."""
    reps = {w: ae.sparsity_report(ae.encode(_trained(1000, seed, variant="sparse", weight=w).model, digits.x_test))
            for w in (0.0, ae.VARIANTS["sparse"].knob_default)}
    off, on = reps.values()
    assert on["zero_share"] > off["zero_share"] + 0.15
    assert on["active_per_image"] < 0.7 * off["active_per_image"]


@pytest.mark.parametrize("seed", OTHER_SEED)
def test_redundant_code_survives_knockouts(seed, digits):
    """Code dropout in training: zeroing a quarter of the code raises the error far less than for the plain AE."""
    plain, red = (_trained(1500, seed, variant=v, code_size=16).model for v in ("deep", "redundant"))
    rise = {name: ae.knockout_mse(m, digits, 4) / ae.knockout_mse(m, digits, 0)
            for name, m in (("plain", plain), ("redundant", red))}
    assert rise["redundant"] < 1.5 and rise["plain"] > 2.5, rise


@pytest.mark.parametrize("seed", OTHER_SEED)
def test_l1_on_the_weights_gives_exact_zeros(seed, digits):
    off, on = (_trained(1500, seed, variant="deep", weight_l1=mu) for mu in (0.0, 0.1))
    assert ae.weight_zero_fraction(off.model) < 0.01
    assert ae.weight_zero_fraction(on.model) > 0.3
    assert on.evaluate()["test_mse"] < 1.3 * off.evaluate()["test_mse"]
    assert on.evaluate()["weight_zero_fraction"] == ae.weight_zero_fraction(on.model)


@pytest.mark.parametrize("seed", OTHER_SEED)
def test_pooling_autoencoder_beats_stride_2_only_through_its_switches(seed, digits):
    """Issue 21's target (pooling within 1.2x the stride-2 error) and the page's caveat: the switches, not the
    code, carry the gain; decoded from the code alone the pooling model is far worse than the stride-2 one."""
    e_stride = _trained(1500, seed, variant="conv").evaluate()["test_mse"]
    e_pool = _trained(1500, seed, variant="conv_pool").evaluate()
    assert e_pool["test_mse"] < 1.2 * e_stride
    assert e_pool["test_mse_without_switches"] > 3 * e_stride


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_perceptual_loss_makes_recognisable_reconstructions(seed, digits):
    pix, per = (_trained(2000, seed, variant="deep", code_size=2, loss=loss).model for loss in ae.LOSSES)
    assert ae.recognition_rate(per, digits) > ae.recognition_rate(pix, digits) + 0.05


@pytest.mark.parametrize("fresh_seeds", [(), pytest.param((1, 2), marks=pytest.mark.slow)])
def test_search_by_code_and_by_pixels_as_the_page_says(fresh_seeds, digits):
    """The page's search caption (issue 30): all the pixels agree with the labels at least as often as the code for
    every kind of query; at the code's memory the code beats the same number of best pixels on every kind (by a lot
    on clean and shifted queries), beats PCA's as many numbers on clean and shifted queries, and loses to PCA on
    noisy ones. Checked on the shipped model and on fresh deep models of seeds 1 and 2."""
    models = [ae.load(checkpoints.shipped("autoencoder_digits"))[0]]
    models += [_trained(1500, s, variant="deep").model for s in fresh_seeds]
    for m in models:
        t = ae.search_table(m, digits)
        for kind, row in t.items():
            assert row["pixel"] >= row["code"] - 0.01, (kind, row)
            assert row["code"] > row["pixel_k"], (kind, row)
        for kind in ("clean", "shifted"):
            assert t[kind]["code"] > t[kind]["pixel_k"] + 0.1 and t[kind]["code"] > t[kind]["pca_k"], t[kind]
        assert t["noisy"]["pca_k"] > t["noisy"]["code"] + 0.1
        assert t["clean"]["code"] > 0.85 and t["clean"]["pixel_bytes"] == 8 * t["clean"]["code_bytes"]


# -- the shipped models --------------------------------------------------------------------------------------------
def test_every_shipped_checkpoint_loads_with_its_settings():
    for name, sh in ae.SHIPPED.items():
        model, cfg, extra = ae.load(checkpoints.shipped(name))
        run = ae.settings(extra)
        assert run == sh.config.resolved(), name
        assert cfg == run.model_config(data.load(sh.dataset).image_shape), name
        assert extra["steps"] == sh.steps


def test_shipped_default_checkpoint_is_deep_8_and_beats_pca(digits):
    model, cfg, extra = checkpoints.load(checkpoints.shipped("autoencoder_digits"), expect_builder=ae.BUILDER)
    assert cfg["variant"] == "deep" and cfg["code_size"] == 8
    assert model.encode(digits.x_test[:5]).shape == (5, 8)
    assert ae.mse(ae.reconstruct(model, digits.x_test), digits.x_test) < 0.8 * ae.PCABaseline(digits, 8).test_mse(digits.x_test)


def test_shipped_sparse_pair_and_2d_codes(digits):
    on, off = (ae.sparsity_report(ae.encode(ae.load(checkpoints.shipped(n))[0], digits.x_test))
               for n in ("autoencoder_sparse_digits", "autoencoder_sparse0_digits"))
    assert on["zero_share"] > off["zero_share"] + 0.15
    z2 = ae.load(checkpoints.shipped("autoencoder_z2_digits"))[0]
    pca2 = ae.PCABaseline(digits, 2)
    knn_ae = ae.knn_accuracy(ae.train_codes(z2, digits), digits.y_train, ae.encode(z2, digits.x_test), digits.y_test)
    knn_pca = ae.knn_accuracy(pca2.encode(digits.x_train), digits.y_train, pca2.encode(digits.x_test), digits.y_test)
    assert knn_ae > knn_pca + 0.15


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
    res = ae.search(model, digits, 3, 8, "noisy")
    assert len(res["code"]) == len(res["pixel"]) == 8 and 0 <= res["code_same"] <= 8
    assert not torch.equal(res["query"], digits.x_test[3])
    assert torch.equal(ae.distort(digits.x_test[:2], "shifted")[..., 1:], digits.x_test[:2, ..., :-1])
    idx = ae.showcase(digits, 10)
    assert sorted(digits.y_test[idx].tolist()) == list(range(10))
    assert ae.code_map(np.random.rand(50, 5)).shape == (50, 2)
    assert ae.first_filters(ae.build_model("conv")).shape == (16, 1, 3, 3)
    assert ae.first_filters(model).shape == (128, 1, 8, 8)
    curve = ae.knockout_curve(model, digits, [0, 2, 8])
    assert curve[0] < curve[2] < curve[8]


def test_overcomplete_copies_noise_and_deep_does_not(digits):
    over = ae.load(checkpoints.shipped("autoencoder_overcomplete_digits"))[0]
    deep = ae.load(checkpoints.shipped("autoencoder_digits"))[0]
    assert ae.identity_error(over, digits) < 0.5 * ae.identity_error(deep, digits)


# -- pretrain and the command line ---------------------------------------------------------------------------------
def test_pretrain_writes_a_checkpoint_the_page_can_use(tmp_path, monkeypatch, digits):
    small = topics.Shipped("autoencoder_z2_digits", "digits", C(variant="deep", code_size=2), 300)
    monkeypatch.setattr(ae, "SHIPPED", {small.name: small})
    res = ae.pretrain(tmp_path)
    model, cfg, extra = ae.load(tmp_path / "autoencoder_z2_digits.pt")
    assert ae.settings(extra) == small.config.resolved() and extra["steps"] == 300
    assert res["autoencoder_z2_digits"]["test_mse"] == pytest.approx(extra["test_mse"], abs=1e-4)
    assert extra["test_mse"] < 0.06 and model.encode(digits.x_test[:3]).shape == (3, 2)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "dlplay", "train", "autoencoder", *args], capture_output=True,
                          text=True, timeout=180, env={**os.environ, "DLPLAY_THREADS": "1"})


def test_checkpoint_round_trip_and_cli(tmp_path):
    out = tmp_path / "m.pt"
    r = _cli("--variant", "denoising", "--steps", "20", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    for k in ("variant", "code_size", "steps", "seconds", "test_mse", "pca_test_mse", "psnr_noisy", "psnr_denoised"):
        assert k in summary
    assert summary["steps"] == 20 and summary["weight"] == ae.VARIANTS["denoising"].knob_default
    model, cfg, extra = ae.load(out)
    assert cfg["variant"] == "denoising" and ae.settings(extra).noise == "gaussian"
    assert model.decode(model.encode(torch.rand(2, 1, 8, 8))).shape == (2, 1, 8, 8)
    r = _cli("--code-size", "0", "--steps", "1")
    assert r.returncode == 2 and "code size" in r.stderr


def _cli_here(capsys, *args):
    from dlplay import cli

    rc = cli.main(["train", "autoencoder", *args])
    out = capsys.readouterr()
    return rc, out


def test_cli_options_of_the_new_variants(capsys):
    rc, out = _cli_here(capsys, "--variant", "linear", "--tied", "--weight-l1", "0.3", "--steps", "20", "--json")
    assert rc == 0, out.err
    summary = json.loads(out.out.strip().splitlines()[-1])
    assert summary["tied"] is True and summary["weight_l1"] == 0.3 and summary["steps"] == 20
    for k in ("subspace_angle_deg", "weight_zero_fraction", "parameters", "mse_vs_pca"):
        assert isinstance(summary[k], (int, float)), k
    rc, out = _cli_here(capsys, "--variant", "redundant", "--steps", "5", "--json")
    assert rc == 0 and "mse_quarter_knocked_out" in json.loads(out.out.strip().splitlines()[-1])
    rc, out = _cli_here(capsys, "--code-size", "2", "--loss", "perceptual", "--steps", "5", "--json")
    assert rc == 0 and 0 <= json.loads(out.out.strip().splitlines()[-1])["recognised"] <= 1
    rc, out = _cli_here(capsys, "--variant", "conv", "--tied", "--steps", "1")
    assert rc == 2 and "Tied weights" in out.err
