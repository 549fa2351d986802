"""VAE: the ELBO's terms against closed forms, reparameterisation, the AE as the same net minus noise and KL,
a short training run, checkpoints, the CLI, and the shipped models judged by the digit classifier."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence
from torch.nn import functional as F

from dlplay import checkpoints, data, vae
from dlplay.classifier import judge, load_judge
from dlplay.errors import InputError
from dlplay.train import Trainer


pytestmark = pytest.mark.usefixtures("one_thread")


def test_kl_matches_torch_distributions_and_is_zero_at_the_prior():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(50, 3, generator=g), torch.randn(50, 3, generator=g)
    ref = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(vae.kl_to_prior(mu, logvar), ref, atol=1e-5)
    assert torch.allclose(vae.kl_to_prior(torch.zeros(4, 2), torch.zeros(4, 2)), torch.zeros(4))
    # one dimension by hand: mu = 1, sigma^2 = e -> KL = 1/2 (e + 1 - 1 - 1) = (e - 1) / 2
    assert vae.kl_to_prior(torch.ones(1, 1), torch.ones(1, 1)).item() == pytest.approx((np.e - 1) / 2, rel=1e-5)


def test_recon_term_is_the_bernoulli_negative_log_likelihood():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(6, 1, 8, 8, generator=g)
    x = (torch.rand(6, 1, 8, 8, generator=g) > 0.5).float()
    ref = -Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(vae.recon_nll(logits, x), ref, atol=1e-4)


def test_elbo_is_minus_recon_minus_kl_and_beta_weights_only_the_kl(digits):
    model = vae.build_model(latent=2)
    x = digits.x_test[:64]
    t1 = vae.loss_terms(model, x, 1.0, torch.Generator().manual_seed(0))
    t4 = vae.loss_terms(model, x, 4.0, torch.Generator().manual_seed(0))
    assert torch.allclose(t1["elbo"], -(t1["recon"] + t1["kl"]))
    assert torch.allclose(t4["loss"], t1["recon"] + 4 * t1["kl"])
    assert t1["kl"] > 0


def test_reparameterisation_has_the_right_moments_and_passes_gradients():
    mu = torch.tensor([[1.0, -2.0]]).repeat(20000, 1).requires_grad_()
    logvar = torch.log(torch.tensor([[0.25, 4.0]])).repeat(20000, 1).requires_grad_()
    z = vae.reparameterise(mu, logvar, torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(0), torch.tensor([1.0, -2.0]), atol=0.05)
    assert torch.allclose(z.std(0), torch.tensor([0.5, 2.0]), atol=0.05)
    z.sum().backward()
    assert mu.grad.abs().sum() > 0 and logvar.grad.abs().sum() > 0


def test_plain_ae_is_the_same_network_without_noise_or_kl(digits):
    v, a = vae.build_model(latent=4), vae.build_model(latent=4, variational=False)
    assert a.logvar is None
    n_v, n_a = (sum(p.numel() for p in m.parameters()) for m in (v, a))
    assert n_v - n_a == sum(p.numel() for p in v.logvar.parameters())  # only the variance head differs
    x = digits.x_test[:8]
    mu, logvar = a.encode(x)
    assert torch.isinf(logvar).all() and (logvar < 0).all()  # a point mass: variance 0
    r1, r2 = a(x, torch.Generator().manual_seed(0))[0], a(x, torch.Generator().manual_seed(1))[0]
    assert torch.equal(r1, r2)  # no noise: deterministic
    terms = vae.loss_terms(a, x)
    assert set(terms) == {"loss", "recon"} and torch.equal(terms["loss"], terms["recon"])


def test_short_training_improves_the_test_elbo_and_resume_equals_one_run(digits):
    t = vae.VAETask(digits, latent=2, seed=3, device="cpu")
    start = t.evaluate()["test_elbo"]
    Trainer(t).run(steps=300)
    assert t.evaluate()["test_elbo"] > start + 10  # nats per image
    one = vae.VAETask(digits, latent=2, seed=4, device="cpu")
    Trainer(one).run(steps=40)
    two = vae.VAETask(digits, latent=2, seed=4, device="cpu")
    tr = Trainer(two)
    tr.run(steps=15)
    tr.run(steps=25)
    for p, q in zip(one.model.parameters(), two.model.parameters()):
        assert torch.equal(p, q)


def test_conv_vae_and_pair_task_train(digits):
    t = vae.VAETask(digits, latent=3, arch="conv", device="cpu")
    Trainer(t).run(steps=5)
    assert t.model.decode(torch.zeros(2, 3)).shape == (2, 1, 8, 8)
    p = vae.PairTask(digits, latent=2, seed=0, device="cpu")
    Trainer(p).run(steps=5)
    ev = p.evaluate()
    assert {"vae_test_elbo", "vae_test_kl", "ae_test_recon"} <= set(ev)


@pytest.mark.parametrize("kw,match", [({"latent": 0}, "Latent size"), ({"latent": 64}, "Latent size"),
                                      ({"beta": -1}, "beta"), ({"beta": float("nan")}, "beta"),
                                      ({"arch": "rnn"}, "architecture"), ({"batch_size": 10**6}, "Batch size"),
                                      ({"hidden": 10**5}, "Hidden")])
def test_bad_settings_are_input_errors(digits, kw, match):
    with pytest.raises(InputError, match=match):
        vae.VAETask(digits, device="cpu", **kw)


def test_views_shapes_and_bounds():
    model = vae.build_model(latent=3)
    assert vae.manifold(model, 5, (0, 2)).shape == (25, 1, 8, 8)
    with pytest.raises(InputError):
        vae.manifold(model, 5, (1, 1))
    with pytest.raises(InputError):
        vae.manifold(model, 500)
    with pytest.raises(InputError):
        model.sample(10**7)
    g = vae.prior_grid(9)
    assert g[4] == pytest.approx(0, abs=1e-9) and g[0] == pytest.approx(-1.645, abs=1e-3)
    x = torch.rand(2, 1, 8, 8)
    path = vae.interpolate(model, x[0], x[1], 6)
    assert path.shape == (6, 1, 8, 8)
    mu, _ = model.encode(x)
    assert np.allclose(path[0], model.decode(mu[:1]).detach().numpy(), atol=1e-6)


def test_shipped_vae_api_and_prior_samples_look_like_digits(digits):
    model, config, extra = checkpoints.load(checkpoints.shipped("vae_digits"), expect_builder=vae.BUILDER)
    assert config["latent"] == 2 and config["variational"] and extra["test_elbo"] < 0
    mu, logvar = model.encode(digits.x_test[:5])
    assert mu.shape == logvar.shape == (5, 2)
    assert model.decode(mu).shape == (5, 1, 8, 8) and model.sample(3).shape == (3, 1, 8, 8)
    q = vae.sample_quality(model, load_judge(), 500, seed=0)
    assert q["confident_share"] >= 0.8


def test_shipped_ae_versus_vae_the_judge_prefers_the_vae(digits):
    j = load_judge()
    conf = {}
    for name in ("vae_digits_z16", "ae_digits_z16"):
        m = vae.load(checkpoints.shipped(name))[0]
        codes = vae.encode_means(m, digits.x_test)[0]
        conf[name] = vae.sample_quality(m, j, 500, seed=1, codes=codes)["mean_confidence"]
    assert conf["vae_digits_z16"] > conf["ae_digits_z16"] + 0.05


def test_judge_accepts_soft_digits_and_rejects_junk(digits):
    j, x = load_judge(), digits.x_test
    k = torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]).view(1, 1, 3, 3) / 16
    blurred = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k)
    assert judge(j, blurred)["confident_share"] > 0.75  # a decoder's soft digits still count as digits
    g = torch.Generator().manual_seed(0)
    blobs = F.avg_pool2d(torch.rand(300, 1, 8, 8, generator=g), 3, 1, 1)
    blobs = (blobs - blobs.amin((1, 2, 3), True)) / (blobs.amax((1, 2, 3), True) - blobs.amin((1, 2, 3), True))
    assert judge(j, blobs)["confident_share"] < 0.05
    i, i2 = torch.randperm(len(x), generator=g), torch.randperm(len(x), generator=g)
    keep = digits.y_test[i] != digits.y_test[i2]
    assert judge(j, 0.5 * (x[i] + x[i2])[keep])["confident_share"] < 0.4  # two digits at once: mostly not one


def test_cli_train_vae_json(tmp_path):
    out = tmp_path / "v.pt"
    env = {**os.environ, "DLPLAY_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "dlplay", "train", "vae", "--latent", "2", "--beta", "1.0",
                        "--seconds", "20", "--steps", "150", "--out", str(out), "--json"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"steps", "seconds", "test_elbo", "test_recon", "test_kl"} <= set(res)
    assert res["test_elbo"] > res["test_elbo_at_init"]
    model = vae.load(out.read_bytes())[0]
    assert model.sample(2).shape == (2, 1, 8, 8)
    r = subprocess.run([sys.executable, "-m", "dlplay", "train", "vae", "--beta", "-3", "--seconds", "1"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 2 and "beta" in r.stderr


# -- the beta trade-off (issue 30): measured on fresh models, not on the shipped table -------------------------------
def _sweep(seed, betas, steps):
    rows = vae.beta_sweep(vae.VAEConfig(latent=vae.BETA_TABLE_LATENT), steps, seed, load_judge(), betas=betas)
    return {r["beta"]: r for r in rows}


@pytest.mark.parametrize("seed", [1, 2])
def test_beta_4_collapses_the_posterior_and_beta_1_samples_better(seed):
    rows = _sweep(seed, (1.0, 4.0), 500)   # at 300 steps seed 2 judged only 14% of beta 1 samples digits
    b1, b4 = rows[1.0], rows[4.0]
    assert b4["active_units"] == 0 and vae.collapsed(b4)       # posterior collapse: no unit carries the input
    assert b4["test_kl"] < 0.05 and b4["max_mean_variance"] < vae.ACTIVE_THRESHOLD
    assert b4["sampled_digits"] < 0.05                          # every sample the same blob: not a digit
    assert b1["active_units"] >= 2 and not vae.collapsed(b1)
    assert b1["sampled_digits"] > b4["sampled_digits"] + 0.15


@pytest.mark.timeout(1200)  # pytest.ini allows 300 s; the loaded box needs more
@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_beta_trade_off_over_the_page_sweep(seed):
    """The shipped table's whole story at its budget: sampling best at a moderate beta, worse at beta 0 (codes off
    the prior) and gone at beta 4 (collapse); active units fall as beta grows."""
    rows = _sweep(seed, vae.BETAS, vae.BETA_SWEEP_STEPS)
    q = {b: r["sampled_digits"] for b, r in rows.items()}
    au = [rows[b]["active_units"] for b in vae.BETAS]
    assert au[0] == vae.BETA_TABLE_LATENT and au[0] > au[2] and au[-1] == 0   # 8 / 5 / 4 / 3 / 0 at seed 0
    assert max(q[0.5], q[1.0]) > q[0.0] + 0.2 and max(q[0.5], q[1.0]) > q[4.0] + 0.5


def test_active_units_count_units_whose_mean_moves_with_the_input(digits):
    model = vae.build_model(latent=3)
    with torch.no_grad():   # unit 1 switched off: its mean no longer depends on the image
        model.mu.weight[1].zero_()
        model.mu.bias[1] = 0.7
    k, var = vae.active_units(model, digits.x_test)
    assert var[1] == pytest.approx(0, abs=1e-10) and k == int((var > vae.ACTIVE_THRESHOLD).sum())
    assert 1 not in np.flatnonzero(var > vae.ACTIVE_THRESHOLD)


def test_shipped_beta_table_shows_the_trade_off_and_draws():
    t = vae.shipped_beta_table()
    rows = {r["beta"]: r for r in t["rows"]}
    assert tuple(rows) == vae.BETAS and t["latent"] == vae.BETA_TABLE_LATENT
    assert t["steps"] == vae.BETA_SWEEP_STEPS and all(r["steps"] == t["steps"] for r in t["rows"])  # not cut short
    assert vae.collapsed(rows[4.0]) and rows[4.0]["sampled_digits"] < 0.05
    assert max(rows[0.5]["sampled_digits"], rows[1.0]["sampled_digits"]) > rows[0.0]["sampled_digits"] + 0.2
    fig = vae.beta_figure(t["rows"])
    assert any(a.text == "posterior collapse" for a in fig.layout.annotations)
    assert [tr.type for tr in fig.data] == ["bar", "scatter", "image"]


def test_beta_sweep_task_trains_one_model_per_beta_on_the_same_batches(digits):
    t = vae.make_beta_sweep_task(vae.VAEConfig(latent=2, beta=3.0), seed=0, device="cpu")
    assert t.betas == vae.BETAS and [m.beta for m in t.tasks] == list(vae.BETAS)
    a, b = t.tasks[0], t.tasks[-1]
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))  # same start
    m = Trainer(t).run(steps=3).latest
    assert {"kl_beta0", "kl_beta4", "recon_beta1"} <= set(m)
    s = t.state_dict()
    t2 = vae.make_beta_sweep_task(vae.VAEConfig(latent=2), seed=5, device="cpu")
    t2.load_state_dict(s)
    assert all(torch.equal(p, q) for p, q in zip(t.tasks[2].model.parameters(), t2.tasks[2].model.parameters()))
