"""GAN Lab backend: each loss, the gradient penalty, the 2-D loop and its numbers, the image GANs, CLI, checkpoints."""

import json
import math

import numpy as np
import pytest
import torch

from dlplay import checkpoints, data
from dlplay.errors import InputError
from dlplay.gan import (BUILDER_IMG, GAN2DConfig, GAN2DTask, ImageGANTask, PRESETS, d_accuracy, d_loss, g_loss,
                        generate, gradient_penalty, interpolate, load_2d, mmd, mode_stats, parse_points_csv, preset)
from dlplay.gan import viz as ganviz
from dlplay.train import Trainer

LOG2 = math.log(2)


@pytest.fixture(autouse=True)
def one_thread():
    """These models are tiny: one thread is what the page and the CLI use, and it is fastest on a busy machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# -- losses -------------------------------------------------------------------------------------------------------
def test_losses_at_an_undecided_discriminator():
    z = torch.zeros(4)
    assert d_loss("minimax", z, z).item() == pytest.approx(2 * LOG2)       # -log 1/2 - log 1/2
    assert d_loss("nonsaturating", z, z).item() == pytest.approx(2 * LOG2)
    assert g_loss("minimax", z).item() == pytest.approx(-LOG2)             # log(1 - 1/2)
    assert g_loss("nonsaturating", z).item() == pytest.approx(LOG2)        # -log 1/2
    assert d_loss("lsgan", z, z).item() == pytest.approx(0.5)              # 1/2 (0-1)^2 + 1/2 0^2
    assert g_loss("lsgan", z).item() == pytest.approx(0.5)
    r, f = torch.tensor([2.0, 4.0]), torch.tensor([-1.0, 1.0])
    assert d_loss("wgan-gp", r, f).item() == pytest.approx(0.0 - 3.0)      # E f - E r
    assert g_loss("wgan-gp", f).item() == pytest.approx(0.0)
    with pytest.raises(InputError, match="Unknown GAN loss"):
        d_loss("hinge", r, f)


def test_minimax_generator_gradient_vanishes_when_d_wins_but_nonsaturating_does_not():
    grads = {}
    for loss in ("minimax", "nonsaturating"):
        f = torch.full((8,), -8.0, requires_grad=True)  # D is sure every fake is fake
        g_loss(loss, f).backward()
        grads[loss] = f.grad.abs().sum().item()
    assert grads["minimax"] < 1e-3 * grads["nonsaturating"]


def test_discriminator_losses_fall_as_d_gets_right():
    for loss in ("minimax", "lsgan", "wgan-gp"):
        bad = d_loss(loss, torch.full((4,), -1.0), torch.full((4,), 1.0))
        good = d_loss(loss, torch.full((4,), 1.0), torch.full((4,), -1.0) if loss != "lsgan" else torch.zeros(4))
        assert good < bad


def test_gradient_penalty_is_zero_for_a_unit_slope_critic_and_grows_with_the_slope():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(64, 2), torch.randn(64, 2)
    lin = torch.nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.6, 0.8]]))          # ||grad|| = 1 everywhere
    assert gradient_penalty(lin, real, fake, g).item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        lin.weight.mul_(3.0)                                    # ||grad|| = 3: penalty (3-1)^2 = 4
    gp = gradient_penalty(lin, real, fake, g)
    assert gp.item() == pytest.approx(4.0, rel=1e-5)
    gp.backward()                                               # differentiable w.r.t. the critic's weights
    assert lin.weight.grad.abs().sum() > 0


def test_d_accuracy():
    acc_r, acc_f = d_accuracy("nonsaturating", torch.tensor([1.0, -1.0]), torch.tensor([-2.0, -3.0]))
    assert acc_r.item() == 0.5 and acc_f.item() == 1.0


# -- distances and modes ------------------------------------------------------------------------------------------
def test_mmd_and_modes_tell_a_good_sample_from_a_collapsed_one():
    real = data.toy2d("ring8", 1000, seed=0)
    good = data.toy2d("ring8", 1000, seed=1)
    centres, std = data.toy2d_modes("ring8")
    collapsed = (centres[0] + np.random.default_rng(0).normal(0, std, (1000, 2))).astype(np.float32)
    assert mmd(torch.tensor(real[:400]), torch.tensor(good[:400])) < 0.1 * mmd(torch.tensor(real[:400]),
                                                                               torch.tensor(collapsed[:400]))
    ms = mode_stats("ring8", good)
    assert ms["modes_covered"] == 8 and ms["high_quality"] > 0.98
    assert mode_stats("ring8", collapsed)["modes_covered"] == 1
    assert mode_stats("moons", good) == {}


# -- the 2-D loop -------------------------------------------------------------------------------------------------
def test_short_2d_run_brings_the_distributions_closer():
    task = GAN2DTask(GAN2DConfig(), seed=0, device="cpu")
    before = task.distances()
    Trainer(task, record_every=10).run(steps=200)
    after = task.distances()
    assert after["mmd"] < 0.5 * before["mmd"]
    assert after["js"] < before["js"]


def test_single_d_and_g_steps_and_full_iterations():
    task = GAN2DTask(GAN2DConfig(k_d=3, m_g=2), seed=0, device="cpu")
    tr = Trainer(task)
    g0 = [p.clone() for p in task.G.parameters()]
    task.phase = "d"
    tr.run(steps=1)
    assert (task.d_steps, task.g_steps, task.iterations) == (1, 0, 0)
    assert all(torch.equal(a, b) for a, b in zip(g0, task.G.parameters()))  # a D step leaves G alone
    task.phase = "g"
    tr.run(steps=1)
    assert (task.d_steps, task.g_steps) == (1, 1)
    tr.run(steps=1)  # back to full iterations: K D steps then M G steps
    assert (task.d_steps, task.g_steps, task.iterations) == (4, 3, 1)


def test_stop_and_resume_equals_one_run():
    a = GAN2DTask(GAN2DConfig(loss="wgan-gp"), seed=3, device="cpu")
    b = GAN2DTask(GAN2DConfig(loss="wgan-gp"), seed=3, device="cpu")
    Trainer(a).run(steps=20)
    tb = Trainer(b)
    tb.run(steps=7)
    tb.run(steps=13)
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))


def test_every_preset_selects_the_target_it_was_calibrated_on():
    for name in PRESETS:
        assert preset(name).dataset == "ring8"
        assert "ring" in PRESETS[name][1]                       # and its description says which
    assert preset("mode collapse", "moons").dataset == "moons"  # an explicit target (the CLI's --dataset) wins


@pytest.mark.parametrize("seed", [1, 2])
def test_vanishing_gradient_preset_starves_the_generator_on_its_target(seed):
    norms = {}
    for name in ("healthy training", "discriminator too strong: vanishing gradients"):
        task = GAN2DTask(preset(name), seed=seed, device="cpu")
        tr = Trainer(task).run(steps=120)
        norms[name] = np.median([h["g_grad_norm"] for h in tr.history[-20:]])
    # measured at seed 1: 2.7e-6 against 1.8; the README's seed-0 row: 2.3e-6 against 1.5
    assert norms["discriminator too strong: vanishing gradients"] < 0.01 * norms["healthy training"]


@pytest.mark.timeout(1200)  # pytest.ini allows 300 s; the loaded box needs more
@pytest.mark.slow   # 400 WGAN-GP iterations of 5 critic steps with a double backward: 220 s a seed on the loaded box
@pytest.mark.parametrize("seed", [1, 2])
def test_wgan_gp_preset_covers_most_modes_on_its_target_where_mode_collapse_covers_few(seed):
    covered = {}
    for name, steps in (("WGAN-GP fixes it", 400), ("mode collapse", 300)):
        task = GAN2DTask(preset(name), seed=seed, device="cpu")
        Trainer(task).run(steps=steps)
        covered[name] = task.distances()["modes_covered"]
    # of the ring's 8; measured every 50 iterations at seeds 1 / 2: 7 / 6 at 300, 5 / 7 at 350, 8 / 8 at 400
    assert covered["WGAN-GP fixes it"] >= 6
    assert covered["mode collapse"] <= 1                       # measured 0 / 0: one clump, between the modes


def test_view_and_figure():
    task = GAN2DTask(GAN2DConfig(noise_dim=3), seed=0, device="cpu")
    v = task.view(n_points=100, grid=20, manifold=7)
    assert v["fake"].shape == v["arrows"].shape == (100, 2) and v["heat"].shape == (20, 20)
    assert ((0 <= v["heat"]) & (v["heat"] <= 1)).all()
    assert v["manifold"].shape == (49, 2)
    fig = ganviz.playground(v, task.bounds, "nonsaturating")
    assert len(fig.data) == 5 and fig.to_json()
    fig = ganviz.playground(v, task.bounds, "wgan-gp", layers=("real", "generated"))
    assert [t.name for t in fig.data] == ["real", "generated"]


def test_settings_are_bounded_and_presets_named():
    with pytest.raises(InputError, match="g_hidden"):
        GAN2DConfig(g_hidden=100_000).check()
    with pytest.raises(InputError, match="k_d"):
        GAN2DTask(GAN2DConfig(k_d=0), device="cpu")
    with pytest.raises(InputError, match="Unknown preset"):
        preset("best one")
    assert len(PRESETS) == 4 and all(len(text) > 50 for _, text in PRESETS.values())


def test_points_csv():
    pts = parse_points_csv(b"x,y\n" + b"\n".join(f"{i},{i * i}".encode() for i in range(20)))
    assert pts.shape == (20, 2) and np.abs(pts).max() == pytest.approx(2.5)
    for bad, msg in [(b"x,y\n1,2\n", "at least 10"), (b"1;2\nfoo;bar\n", "Line 2"), (b"", "empty"),
                     (b"\x00\x01binary", "binary"), (b"1\n2\n3\n", "Line 1 .*1 value.*x and y")]:
        with pytest.raises(InputError, match=msg):
            parse_points_csv(bad)
    # Tabs, semicolons and spaces separate cells too; comments and blank lines are skipped.
    body = [f"{i}\t{i % 5}" for i in range(12)]
    assert parse_points_csv("\n".join(["# my points", "", *body]).encode()).shape == (12, 2)
    assert parse_points_csv("\n".join(f"{i} {i % 5}" for i in range(12)).encode()).shape == (12, 2)
    task = GAN2DTask(GAN2DConfig(dataset="points"), device="cpu", points=pts)
    assert "modes_covered" not in Trainer(task).run(steps=2).latest


def test_ragged_or_non_numeric_points_csv_is_refused_with_its_line_number():
    good = [f"{i},{i % 5}" for i in range(12)]
    for lines, msg in [(["x,y", *good[:6], "6,1,7", *good[7:]], "Line 8 .*3 values"),        # an extra cell
                       (["x,y", *good[:4], "4", *good[5:]], "Line 6 .*1 value"),             # a missing cell
                       (["x,y", *good[:9], "9,,", *good[10:]], "Line 11 .*empty cell"),
                       ([*good[:3], "3,abc", *good[4:]], "Line 4 .*'abc' is not a number"),
                       ([*good[:2], "x,y", *good[2:]], "Line 3"),                            # a header mid-file
                       ([*good[:5], "5,nan", *good[6:]], "Line 6 .*finite"),
                       ([*good[:5], "5;inf", *good[6:]], "Line 6 .*finite")]:
        with pytest.raises(InputError, match=msg):
            parse_points_csv("\n".join(lines).encode())


# -- images -------------------------------------------------------------------------------------------------------
def test_conditional_image_gan_trains_generates_and_interpolates():
    ds = data.load("digits")
    task = ImageGANTask(ds, conditional=True, seed=0, device="cpu", width=8, judge_every=5)
    tr = Trainer(task).run(steps=6)
    assert {"d_loss", "g_loss", "g_grad_norm", "mmd"} <= set(tr.latest)
    assert task.grid().shape == (64, 1, 8, 8)
    m = task.model
    a, b = generate(m, 4, seed=1, label=3), generate(m, 4, seed=1, label=7)
    assert a.shape == (4, 1, 8, 8) and not torch.allclose(a, b)  # the label changes the image
    with pytest.raises(InputError):
        generate(m, 4, label=12)
    za, zb = np.random.default_rng(0).normal(size=(2, m.noise_dim))
    path = interpolate(m, za, zb, steps=5, label=3)
    assert torch.allclose(path[0], m.generate(torch.tensor(za[None], dtype=torch.float32), torch.tensor([3]))[0],
                          atol=1e-5)


def test_shipped_checkpoints_load_and_make_digits():
    from dlplay.classifier import judge, load_judge

    model, cfg, extra = load_2d(checkpoints.shipped("gan_2d_ring8"))
    assert cfg.dataset == "ring8" and extra["modes_covered"] >= 6
    for name in ("gan_dcgan_digits", "gan_cgan_digits"):
        assert checkpoints.shipped(name).stat().st_size < 2 * 2**20
        m, _, _ = checkpoints.load(checkpoints.shipped(name), expect_builder=BUILDER_IMG)
        share = judge(load_judge(), generate(m, 64, seed=0))["confident_share"]
        noise = judge(load_judge(), torch.rand(64, 1, 8, 8))["confident_share"]
        assert share > noise + 0.2


# -- CLI ----------------------------------------------------------------------------------------------------------
def test_cli_gan2d_writes_samples_and_json(tmp_path, capsys):
    from dlplay.cli import main

    out = tmp_path / "pts.npy"
    assert main(["train", "gan2d", "--dataset", "ring8", "--loss", "lsgan", "--steps", "30", "--samples", str(out),
                 "--out", str(tmp_path / "g.pt"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 30 and {"seconds", "d_loss", "g_loss", "mmd", "js", "modes_covered"} <= set(summary)
    assert np.load(out).shape == (2000, 2)
    assert load_2d(tmp_path / "g.pt")[1].loss == "lsgan"
    assert main(["train", "gan2d", "--dataset", "nowhere", "--steps", "1"]) == 2


def test_cli_image_gan(tmp_path, capsys):
    from dlplay.cli import main

    assert main(["train", "gan", "--dataset", "digits", "--steps", "3", "--conditional", "--out",
                 str(tmp_path / "m.pt"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 3 and "judge_digit_share" in summary
    m, cfg, _ = checkpoints.load(tmp_path / "m.pt", expect_builder=BUILDER_IMG)
    assert cfg["n_classes"] == 10


@pytest.mark.timeout(1200)
@pytest.mark.slow   # 1,800 + 2,400 iterations: about 45 s a seed on an idle core
@pytest.mark.parametrize("seed", [0, 1])
def test_a_collapsed_run_switched_to_wgan_gp_without_reset_recovers_the_modes(seed):
    """Issue 26's lesson, as the page does it: the mode-collapse preset, then the 'WGAN-GP fixes it' knobs applied
    to the same networks (topics.tune), then more iterations. Seed 0 is the page's default; with the old preset
    (lr_g 3e-3) its generator died (constant output) and stayed at 0 modes."""
    from dlplay import topics

    task = GAN2DTask(preset("mode collapse"), seed=seed, device="cpu")
    tr = Trainer(task, record_every=50).run(steps=1800)
    assert task.distances()["modes_covered"] <= 1                      # collapsed: one clump
    with torch.no_grad():
        assert float(task.G(task.noise(500)).std(0).mean()) > 1e-3     # ... but a living generator
    topics.tune(task, {k: v for k, v in PRESETS["WGAN-GP fixes it"][0].items() if k != "dataset"})
    tr.run(steps=2400)
    assert task.config.loss == "wgan-gp" and task.distances()["modes_covered"] >= 7
