"""Convolutional layers: the shape arithmetic against torch's own layers, receptive fields against gradients,
transposed convolution against a zero-stuffed convolution, training on the digits, the CLI and bad input."""

import json
import random

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from dlplay import convolution as cnn
from dlplay import topics
from dlplay.errors import InputError
from dlplay.train import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


def _torch_layer(layer: cnn.Layer, c_in: int) -> nn.Module:
    """torch's own layer for a Layer, written out independently of convolution.network._module."""
    a = layer.args
    if layer.kind == "conv":
        return nn.Conv2d(c_in, a[0], a[1], stride=a[2], padding=a[3], dilation=a[4])
    if layer.kind == "maxpool":
        return nn.MaxPool2d(a[0], a[1])
    return nn.AvgPool2d(a[0], a[1])


def _random_layer(rng: random.Random) -> cnn.Layer:
    kind = rng.choice(["conv", "conv", "maxpool", "avgpool"])
    if kind == "conv":
        return cnn.Layer("conv", (rng.randint(1, 6), rng.randint(1, 7), rng.randint(1, 4), rng.randint(0, 3),
                                  rng.randint(1, 3)))
    k = rng.randint(1, 4)
    return cnn.Layer(kind, (k, rng.choice([k, rng.randint(1, 4)])))


def test_shape_formula_agrees_with_torch_on_200_random_valid_configurations():
    rng = random.Random(0)
    valid = invalid = 0
    while valid < 200:
        c, h, w = rng.randint(1, 3), rng.randint(4, 40), rng.randint(4, 40)
        layers = [_random_layer(rng) for _ in range(rng.randint(1, 3))]
        try:
            rows = cnn.layer_table(layers, (c, h, w))
        except InputError as e:
            invalid += 1
            msg = str(e)
            assert msg.startswith("Layer ") and ("not a whole number" in msg or "no output left" in msg), msg
            n = int(msg.split()[1].rstrip(","))
            bad = layers[n - 1]
            assert str(bad) in msg
            # torch either refuses too or floors the division: it never gives the exact formula a whole number
            x = torch.zeros(1, c, h, w)
            for lay in layers[:n - 1]:
                x = _torch_layer(lay, x.shape[1])(x)
            side = x.shape[2] if "high" in msg else x.shape[3]
            if bad.kind == "conv":
                _, f, s, p, d = bad.args
            else:
                (f, s), p, d = bad.args, 0, 1
            assert (side - d * (f - 1) - 1 + 2 * p) % s != 0 or side - d * (f - 1) - 1 + 2 * p < 0
            continue
        valid += 1
        x = torch.zeros(1, c, h, w)
        params = 0
        for lay, row in zip(layers, rows[1:]):
            m = _torch_layer(lay, x.shape[1])
            x = m(x)
            params += sum(p.numel() for p in m.parameters())
            assert tuple(x.shape[1:]) == row.shape, (layers, rows)
        assert sum(r.params for r in rows) == params
    assert invalid > 20   # the generator also produced impossible stacks, and each was refused with a sentence


def test_the_lectures_stack_and_its_numbers():
    rows = cnn.layer_table("conv(12,3,1,1) relu pool(2) fc(10)", (3, 32, 32))
    assert [r.shape for r in rows] == [(3, 32, 32), (12, 32, 32), (12, 32, 32), (12, 16, 16), (10, 1, 1)]
    assert rows[1].params == 12 * (3 * 3 * 3 + 1) and rows[4].params == 10 * (12 * 16 * 16 + 1)
    assert "(32 - 3 + 2·1)/1 + 1 = 32" in rows[1].formula
    assert [r.rf for r in rows[:4]] == [1, 3, 3, 4]
    model = cnn.build_model("conv(12,3,1,1) relu pool(2) fc(10)", (3, 32, 32))
    assert sum(p.numel() for p in model.parameters()) == sum(r.params for r in rows)


def _fits(stack, side):
    try:
        cnn.layer_table(stack, (1, side, side))
        return True
    except InputError:
        return False


def test_receptive_field_is_where_the_gradient_of_one_output_reaches():
    """The side of the input square that one output value depends on, measured with autograd (positive weights,
    a positive input, no ReLU, so no contribution cancels), equals the recurrence's receptive field. (Average
    pooling here: a max-pool passes the gradient to one pixel of its window, although it could have chosen any.)"""
    for stack in ["conv(2,3,1,1) conv(2,3,1,1)", "conv(2,3,2,1) avgpool(2) conv(2,3,1,1)",
                  "conv(2,3,1,2,2) avgpool(3,2) conv(2,5,2,2)", "conv(2,7,3,3) avgpool(2,1) conv(2,3,1,0,3)",
                  "conv(2,4,2,1) conv(2,4,2,1) fc(3)"]:
        side = next(n for n in range(80, 200) if _fits(stack, n))
        rows = cnn.layer_table(stack, (1, side, side))
        model = cnn.build_model(stack, (1, side, side), n_classes=None)
        for p in model.parameters():
            nn.init.constant_(p, 0.1)
        x = torch.rand(1, 1, side, side) + 0.5
        x.requires_grad_(True)
        y = model(x)
        i, j = (y.shape[2] // 2, y.shape[3] // 2) if y.ndim == 4 else (0, 0)
        (y[0, 0, i, j] if y.ndim == 4 else y[0, 0]).backward()
        rows_hit = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
        cols_hit = torch.nonzero(x.grad[0, 0].abs().sum(0)).flatten()
        # a dilated kernel leaves holes inside the field: the field is the span, first to last pixel reached;
        # an fc layer's field (it sees everything) counts the zero padding too, so the picture clips it
        rf = min(rows[-1].rf, side)
        assert int(rows_hit[-1] - rows_hit[0]) + 1 == rf, stack
        assert int(cols_hit[-1] - cols_hit[0]) + 1 == rf, stack
        if rf < side:
            centre = (rows_hit[0] + rows_hit[-1]).item() / 2
            assert centre == pytest.approx(rows[-1].start + i * rows[-1].jump), stack


@pytest.mark.parametrize("text, words", [
    ("", "empty"), ("conv(12,3) blah(2)", "unknown layer"), ("conv(12)", "takes 2 to 5 numbers"),
    ("conv(1.5,3)", "whole numbers"), ("conv(0,3)", "depth = 0 is out of range"), ("pool(2", "bracket"),
    ("fc(10) conv(4,3)", "already flattened"), ("conv(12,3,2) relu", "15.5 is not a whole number"),
    ("conv(8,5) pool(2) conv(8,5) pool(2) conv(8,5) conv(8,3)", "no output left"),
    (" ".join(["conv(256,3,1,1)"] * 6), "over the limit"),
    ("conv(200,3,1,1) conv(200,3,1,1)", "million multiply-adds"),
])
def test_impossible_stacks_are_refused_with_a_sentence(text, words):
    with pytest.raises(InputError, match=words):
        cnn.layer_table(text, (3, 32, 32))


def test_transposed_convolution_equals_a_convolution_over_the_zero_stuffed_input():
    g = torch.Generator().manual_seed(0)
    for _ in range(60):
        s, f = int(torch.randint(1, 4, (1,), generator=g)), int(torch.randint(1, 6, (1,), generator=g))
        p = int(torch.randint(0, f, (1,), generator=g))
        h = int(torch.randint(2, 7, (1,), generator=g))
        x = torch.randn(2, 3, h, h + 1, generator=g)
        w = torch.randn(3, 4, f, f, generator=g)
        if (h - 1) * s - 2 * p + f < 1:   # the padding would cut away the whole output
            with pytest.raises(InputError, match="below 1"):
                cnn.transposed_as_conv(x, w, s, p)
            continue
        t = cnn.transposed_as_conv(x, w, s, p)
        assert t.direct.shape[-2:] == ((h - 1) * s - 2 * p + f, h * s - 2 * p + f)
        assert t.via_conv.shape == t.direct.shape
        assert t.max_diff < 1e-5
    with pytest.raises(InputError):
        cnn.transposed_as_conv(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), 2, 3)


def test_the_step_by_step_convolution_is_torchs_conv2d():
    x = np.arange(49, dtype=float).reshape(7, 7) % 5
    k = np.array(cnn.KERNELS["vertical edges"], float)
    for s, p in [(1, 0), (2, 1), (3, 2), (2, 0)]:
        walk = cnn.conv_walk(x, k, s, p)
        ref = F.conv2d(torch.tensor(x)[None, None], torch.tensor(k)[None, None], stride=s, padding=p)[0, 0]
        np.testing.assert_allclose(walk.output, ref.numpy())
        t = walk.positions - 1
        i, j = walk.position(t)
        assert walk.sum_text(t).endswith(f"= {walk.output[i, j]:g}")
        assert (walk.note != "") == ((7 - 3 + 2 * p) % s != 0)
    assert cnn.walk_figure(cnn.conv_walk(x, k, 2, 1), 3).data


def test_max_pooling_switches_and_the_two_unpoolings():
    x = torch.rand(8, 8, generator=torch.Generator().manual_seed(1))
    r = cnn.pool_unpool(x, 2)
    assert r.pooled.shape == (4, 4) and int(r.switches.sum()) == 16
    # unpooling with switches puts each maximum back where it came from and zeros elsewhere ...
    assert torch.equal(r.unpooled_switches, x * r.switches)
    # ... repetition copies it over the whole block; pooling either one again gives the pooled map back
    assert torch.equal(F.max_pool2d(r.unpooled_repeat[None, None], 2)[0, 0], r.pooled)
    assert torch.equal(F.max_pool2d(r.unpooled_switches[None, None], 2)[0, 0], r.pooled)
    assert int((r.unpooled_switches == 0).sum()) == 64 - 16 and bool((r.unpooled_repeat > 0).all())
    with pytest.raises(InputError):
        cnn.pool_unpool(torch.rand(7, 8), 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("stack, steps", [(cnn.TRAIN_STACK, 250), (cnn.DEFAULT_STACK, 500)],
                         ids=["shipped-stack", "lecture-stack"])
def test_the_default_networks_learn_the_digits(stack, steps, seed):
    """The config's default (the shipped two-block CNN) and the page's default (the lecture's stack) both pass 95%
    test accuracy within a few seconds (250 / 500 steps: about 2 / 3 s on one loaded core)."""
    task = cnn.make_task(cnn.CNNConfig(stack=stack), seed)
    before = task.evaluate()["test_acc"]
    tr = Trainer(task, record_every=25).run(steps=steps)
    assert before < 0.3
    assert tr.last_eval["test_acc"] >= 0.95, tr.last_eval
    first, last = tr.history[0]["loss"], np.mean([h["loss"] for h in tr.history[-4:]])
    assert last < first / 5


def test_a_fresh_task_is_reproducible_and_filters_change_as_it_learns():
    a, b = cnn.make_task(cnn.CNNConfig(), 3), cnn.make_task(cnn.CNNConfig(), 3)
    f0 = cnn.first_filters(a.model).clone()
    Trainer(a).run(steps=20)
    Trainer(b).run(steps=20)
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)
    f1 = cnn.first_filters(a.model)
    assert f1.shape == (16, 1, 3, 3) and 0 <= f1.min() and f1.max() <= 1
    assert not torch.allclose(f0, f1)


def test_configs_are_plain_picklable_data():
    """A run is (make_task, config, seed, budget): it must pickle to a worker process."""
    import pickle
    for cfg, make in ((cnn.CNNConfig(stack=cnn.DEFAULT_STACK), cnn.make_task),
                      (cnn.VisConfig(layer="stem", channel=3), cnn.make_visualise_task)):
        again, fn = pickle.loads(pickle.dumps((cfg, make)))
        assert again == cfg and fn is make
    with pytest.raises(Exception):
        cnn.CNNConfig().lr = 1.0   # frozen


def test_config_check_names_the_bad_value():
    with pytest.raises(InputError, match="Layer 1"):
        cnn.make_task(cnn.CNNConfig(stack="conv(4,9)"))
    with pytest.raises(InputError, match="learning rate"):
        cnn.CNNConfig(lr=5.0).check()
    with pytest.raises(InputError, match="dataset"):
        cnn.CNNConfig(dataset="cifar").check()
    # a stack without the classifier's fc(10) gets one
    task = cnn.make_task(cnn.CNNConfig(stack="conv(4,3,1,1) relu pool(2)"))
    assert isinstance(task.model[-1], nn.Linear) and task.model[-1].out_features == 10


def test_topic_contract_and_the_shipped_checkpoint(digits):
    assert isinstance(cnn, topics.Topic)
    assert topics.config_type(cnn) is cnn.CNNConfig
    model, cfg, extra = cnn.load_shipped()
    assert cfg["stack"] == cnn.CNNConfig().stack and extra["steps"] == cnn.SHIPPED["cnn_digits"].steps
    assert cnn.accuracy(model, digits.x_test, digits.y_test) >= 0.95
    task = cnn.make_task(cnn.CNNConfig(), 0)
    raw = topics.checkpoint_bytes(cnn, task, {})
    again = cnn.load(raw)[0]
    x = digits.x_test[:5]
    assert torch.allclose(again(x), task.model(x))
    assert len(cnn.feature_maps(model, x)) == len(model)


def test_cli_shapes_and_train(capsys, tmp_path):
    from dlplay import cli
    assert cli.main(["cnn", "shapes", "conv(12,3,1,1) relu pool(2) fc(10)", "--input", "32x32x3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [lay["shape"] for lay in out["layers"]] == [[12, 32, 32], [12, 32, 32], [12, 16, 16], [10, 1, 1]]
    assert [lay["receptive_field"] for lay in out["layers"]] == [3, 3, 4, 34]
    assert out["params"] == 336 + 30730
    assert cli.main(["cnn", "shapes", "conv(12,3,2) relu", "--input", "32x32x3", "--json"]) == 2
    err = capsys.readouterr().err
    assert "Layer 1" in err and "15.5 is not a whole number" in err
    assert cli.main(["cnn", "shapes", "relu", "--input", "big"]) == 2
    ck = tmp_path / "cnn.pt"
    assert cli.main(["train", "cnn", "--steps", "30", "--json", "--out", str(ck)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["steps"] == 30 and 0 <= out["test_acc"] <= 1 and ck.is_file()


def test_lite0_receptive_fields_match_the_gradient_of_the_real_network():
    from dlplay.backbones import get_backbone
    bb = get_backbone("efficientnet-lite0", "cpu")
    rfs = cnn.lite0_receptive_fields()
    assert rfs["stem"] == 3 and rfs["stem"] < rfs["stage2"] < rfs["stage4"] < rfs["stage6"]
    for layer in ["stem", "stage2", "stage3"]:
        x = torch.rand(1, 3, 160, 160, generator=torch.Generator().manual_seed(0))
        x.requires_grad_(True)
        f = bb.features(x, [layer])[layer]
        i, j = f.shape[2] // 2, f.shape[3] // 2
        f[0, :, i, j].sum().backward()
        hit = torch.nonzero(x.grad[0].abs().sum((0, 2))).flatten()
        assert int(hit[-1] - hit[0]) + 1 == rfs[layer], layer


def test_what_layers_see():
    from PIL import Image
    img = Image.fromarray((np.random.default_rng(0).random((512, 512, 3)) * 255).astype(np.uint8))
    x = cnn.backbone_input(img)
    assert x.shape == (1, 3, 224, 224)
    maps = cnn.backbone_maps(x)
    assert [tuple(maps[k][0].shape[2:]) for k in (cnn.SHALLOW, cnn.MIDDLE, cnn.DEEP)] == [(112, 112), (28, 28), (7, 7)]
    assert all(len(maps[k][1]) == 8 for k in maps)
    with pytest.raises(InputError):
        cnn.VisConfig(layer="stage9").check()
    with pytest.raises(InputError, match="channel"):
        cnn.VisConfig(layer="stem", channel=32).check()


@pytest.mark.slow
def test_top_patches_rank_the_bank():
    """(slow: the first call runs the network over all 637 patches)"""
    patches, acts = cnn.top_patches("stage2", 3, k=6)
    assert patches.shape == (6, 3, 64, 64) and acts == sorted(acts, reverse=True)
    assert acts[0] >= float(cnn.patch_scores("stage2")[:, 3].median())
    with pytest.raises(InputError):
        cnn.top_patches("stage2", 99)


def test_gradient_ascent_raises_the_channels_activation():
    for seed in (0, 1):
        task = cnn.make_visualise_task(cnn.VisConfig(layer="stage2", channel=5, size=64), seed)
        start = task.evaluate()["activation"]
        Trainer(task).run(steps=25)
        assert task.evaluate()["activation"] > start + 0.5
        assert task.picture().shape == (1, 3, 64, 64)
