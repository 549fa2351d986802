"""Sequences: the cells against PyTorch's, n-gram counts, sampling and its bad inputs, the gradient through time,
the copy and reversal tasks, the PixelCNN's mask and likelihood, the shipped models' lessons, and the CLI."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from dlplay import sequences as sq
from dlplay.errors import InputError
from dlplay.sequences import pixels, rnn, seq2seq
from dlplay.sequences import text as T
from dlplay.topics import Config
from dlplay.train import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


# -- the cells are the textbook equations: they match PyTorch's own layers ----------------------------------------
def test_rnn_cell_matches_nn_rnn():
    torch.manual_seed(0)
    cell, ref = rnn.RNNCell(5, 7), nn.RNN(5, 7)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(cell.U.weight), ref.bias_ih_l0.copy_(cell.U.bias)
        ref.weight_hh_l0.copy_(cell.W.weight), ref.bias_hh_l0.zero_()
    x = torch.randn(12, 3, 5)
    out, _ = rnn.run_cell(cell, cell.U(x), cell.initial(3))
    assert torch.allclose(out, ref(x)[0], atol=1e-5)


def test_lstm_cell_matches_nn_lstm_and_starts_with_forget_bias_one():
    torch.manual_seed(0)
    cell, ref = rnn.LSTMCell(5, 7), nn.LSTM(5, 7)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(cell.U.weight), ref.bias_ih_l0.copy_(cell.U.bias)
        ref.weight_hh_l0.copy_(cell.W.weight), ref.bias_hh_l0.zero_()
    x = torch.randn(12, 3, 5)
    out, (h, c) = rnn.run_cell(cell, cell.U(x), cell.initial(3))
    ref_out, (h_ref, c_ref) = ref(x)
    assert torch.allclose(out, ref_out, atol=1e-5) and torch.allclose(c, c_ref[0], atol=1e-5)
    assert torch.all(cell.U.bias[7:14] == 1.0)


def test_identity_init_relu_rnn_keeps_its_state_without_input():
    cell = rnn.RNNCell(3, 4, "relu", "identity")
    s = torch.rand(2, 4)
    assert torch.allclose(cell(torch.zeros(2, 4), s), s)


# -- n-grams ----------------------------------------------------------------------------------------------------
def test_ngram_probabilities_sum_to_one_and_chunked_counts_equal_one_pass():
    ids = T.encode("the cat sat on the mat. the cat ate the rat.")[0]
    whole = T.NGram(3, 0.1).fit(ids)
    parts = T.NGram(3, 0.1).fit(ids[:17]).fit(ids[17:], before=ids[:17])
    assert all(np.array_equal(a, b) for a, b in zip(whole.table(), parts.table()))
    assert whole.table()[1].sum() == len(ids)
    p = whole.probs(T.encode("th")[0])
    assert p.sum() == pytest.approx(1.0) and p[T.INDEX["e"]] == p.max()
    assert whole.probs(T.encode("zq")[0]) == pytest.approx(np.full(T.V, 1 / T.V))   # an unseen context


def test_markov_lesson_longer_context_helps_until_the_data_runs_out():
    train, val = T.corpus("lee")
    bpc = {o: T.NGram(o, 0.01).fit(train).bits_per_char(val) for o in (1, 2, 3, 4, 5, 7)}
    assert bpc[1] > bpc[2] > bpc[3] > bpc[4] and bpc[1] < math.log2(T.V)
    assert min(bpc, key=bpc.get) in (4, 5) and bpc[7] > min(bpc.values())   # 7: too few examples per context


def test_ngram_task_counts_in_chunks_and_reports_every_order():
    task = sq.make_task(sq.CharConfig(arch="ngram", order=3), 0)
    m = task.step()
    assert m["chars_counted"] == sq.tasks.NGRAM_CHUNK and all(f"val_bpc_order{o}" in m for o in (1, 2, 3, 4, 5))
    assert task.models[3].seen == sq.tasks.NGRAM_CHUNK


def test_text_cleaning_unknown_symbols_and_the_split():
    ids, unknown = T.encode("Hello\n\nWORLD $5 (ok)")
    assert T.decode(ids) == "hello world ~5 ~ok~" and unknown == 3
    train, val = T.corpus("lee")
    assert len(val) > 30_000 and len(train) > 9 * len(val) * 0.95
    assert T.decode(train[-1:]) == " "   # split at a word boundary


# -- sampling and its bad inputs ---------------------------------------------------------------------------------
def test_sampling_streams_characters_and_temperature_zero_is_greedy():
    model = sq.fresh_char_model("lstm", 32)
    g = torch.Generator().manual_seed(0)
    chars = list(sq.stream_sample(model, "the ", 30, 1.0, g))
    assert len(chars) == 30 and all(len(c) == 1 and c in T.ALPHABET for c, _ in chars)
    assert all(p.shape == (T.V,) and p.sum() == pytest.approx(1.0, abs=1e-5) for _, p in chars)
    a, _ = sq.sample_text(model, "the ", 20, 0.0, torch.Generator().manual_seed(1))
    b, _ = sq.sample_text(model, "the ", 20, 0.0, torch.Generator().manual_seed(2))
    assert a == b and "greedy" in sq.check_sampling(20, 0.0)
    ng = T.NGram(3, 0.1).fit(T.encode("abcabcabcabc")[0])
    assert sq.sample_text(ng, "ab", 6, 0.0)[0] == "cabcab"


@pytest.mark.parametrize("prompt,n,temp,match", [
    ("", 10, 1.0, "empty"), ("   ", 10, 1.0, "empty"), ("x" * 600, 10, 1.0, "limit"),
    ("the", 0, 1.0, "Sample length"), ("the", 10_000, 1.0, "Sample length"), ("the", 10, 5.0, "Temperature"),
    ("the", 10, -1.0, "Temperature")])
def test_bad_sampling_requests_are_input_errors(prompt, n, temp, match):
    with pytest.raises(InputError, match=match):
        next(sq.stream_sample(sq.fresh_char_model("tanh", 16), prompt, n, temp))


def test_prompt_outside_the_alphabet_gets_a_note():
    ids, note = T.check_prompt("Grüße (über)")
    assert "unknown symbol" in note and T.UNK in T.decode(ids)
    assert T.check_prompt("plain text")[1] == ""


@pytest.mark.parametrize("cfg,match", [
    (sq.CopyConfig(delay=500), "delay"), (sq.CopyConfig(delay=0), "delay"), (sq.CharConfig(seq_len=5000), "BPTT"),
    (sq.CharConfig(arch="gru"), "architecture"), (sq.ReverseConfig(max_len=99), "longest"),
    (sq.PixelConfig(channels=0), "channels"), (sq.CharConfig(order=9), "order")])
def test_bad_configs_are_input_errors(cfg, match):
    with pytest.raises(InputError, match=match):
        sq.make_task(cfg, 0)


def test_configs_follow_the_contract():
    for cls in (sq.CharConfig, sq.CopyConfig, sq.ReverseConfig, sq.PixelConfig):
        cfg = cls()
        assert isinstance(cfg, Config) and cfg.check() is cfg and hash(cfg) == hash(cls())
    with pytest.raises(InputError):
        sq.make_task(sq.SequenceConfig(), 0)
    for sh in sq.SHIPPED.values():
        sh.config.check()


# -- vanishing gradients -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_vanishes_for_tanh_and_not_for_the_lstm(seed):
    g = sq.gradient_curves({k: sq.fresh_char_model(k, 256, seed) for k in ("tanh", "relu", "lstm")}, batch=8)
    ratio = {k: v[30] / v[0] for k, v in g.items()}
    assert ratio["tanh"] < 1e-3
    assert ratio["lstm"] >= 100 * ratio["tanh"]
    assert ratio["relu"] >= 100 * ratio["tanh"]
    assert all(len(v) == 50 for v in g.values())


def test_gradient_through_time_leaves_the_model_unchanged():
    m = sq.fresh_char_model("lstm", 32)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    sq.gradient_curves({"m": m}, T_steps=10, batch=4)
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    assert all(p.grad is None for p in m.parameters())


# -- training: each task learns ------------------------------------------------------------------------------------
def test_char_lm_loss_falls_and_resume_is_exact():
    cfg = sq.CharConfig(arch="lstm", hidden=48, seq_len=16, batch_size=16)
    task = sq.make_task(cfg, 0)
    tr = Trainer(task).run(steps=40, evaluate=False)
    first, last = tr.history[0]["train_bpc"], np.mean([h["train_bpc"] for h in tr.history[-5:]])
    assert last < first - 1.0
    a = sq.make_task(cfg, 3)
    Trainer(a).run(steps=6, evaluate=False)
    b = sq.make_task(cfg, 3)
    tb = Trainer(b)
    tb.run(steps=3, evaluate=False)
    tb.run(steps=3, evaluate=False)
    assert all(torch.equal(x, y) for x, y in zip(a.model.parameters(), b.model.parameters()))


def test_copy_task_batches_and_a_short_delay_is_learned():
    x, y = rnn.copy_batch(5, 7, torch.Generator().manual_seed(0))
    assert x.shape == (9, 5) and torch.equal(x[0], y) and torch.all(x[-1] == rnn.GO)
    task = sq.make_task(sq.CopyConfig(arch="lstm", delay=2, hidden=32, lr=1e-2), 0)
    Trainer(task).run(steps=150)
    assert task.evaluate()["accuracy"] > 0.6       # chance is 1/8


def test_reversal_attention_weights_are_distributions_and_training_helps():
    x, y = seq2seq.reversal_batch(4, 6, torch.Generator().manual_seed(0))
    assert torch.equal(y[:, :6], x.flip(1)) and torch.all(y[:, 6] == seq2seq.EOS)
    task = sq.make_task(sq.ReverseConfig(max_len=4, hidden=64, lr=1e-2), 0)
    before = task.evaluate()["exact_match_trained"]
    tr = Trainer(task).run(steps=150)
    assert tr.history[-1]["token_accuracy"] > 0.6 and tr.last_eval["exact_match_trained"] > before + 0.2
    out, att = task.model.greedy(x[:, :4], 5)
    assert att.shape == (4, 5, 4) and torch.allclose(att.sum(-1), torch.ones(4, 5), atol=1e-5)


def test_pixelcnn_is_causal_and_its_nll_is_the_bernoulli_sum():
    torch.manual_seed(0)
    m = pixels.build_model(channels=8, layers=3)
    x = (torch.rand(2, 1, 8, 8) > 0.5).float().requires_grad_()
    logits = m(x)
    for i in (0, 9, 27, 63):
        r, c = divmod(i, 8)
        g, = torch.autograd.grad(logits[:, 0, r, c].sum(), x, retain_graph=True)
        g = g.abs().sum(0).flatten()
        assert torch.all(g[i:] == 0), f"pixel {i} sees itself or later pixels"
        assert i == 0 or g[:i].sum() > 0
    ref = -torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(m.nll(x), ref, atol=1e-4)
    s = m.sample(3, torch.Generator().manual_seed(0))
    assert s.shape == (3, 1, 8, 8) and set(s.unique().tolist()) <= {0.0, 1.0}


def test_pixelcnn_training_lowers_the_test_nll():
    task = sq.make_task(sq.PixelConfig(channels=16, layers=3), 0)
    before = task.evaluate()["test_nll_nats"]
    Trainer(task).run(steps=60)
    assert task.evaluate()["test_nll_nats"] < before - 10


# -- the shipped models hold the page's claims -----------------------------------------------------------------------
def test_shipped_char_models_beat_the_ngrams():
    bpc_lstm = sq.load_shipped("seq_lstm_lee")[2]["val_bits_per_char"]
    bpc_rnn = sq.load_shipped("seq_rnn_lee")[2]["val_bits_per_char"]
    model = sq.load_shipped("seq_lstm_lee")[0]
    _, val = T.corpus("lee")
    assert rnn.bits_per_char(model, val[:6000]) < 2.3
    ngram_best = T.NGram(5, 0.01).fit(T.corpus("lee")[0]).bits_per_char(val)   # 2.27, the best order
    assert bpc_lstm < ngram_best and bpc_rnn < ngram_best


def test_shipped_copy_models_and_the_measured_sweep():
    lstm, rnn_ = sq.load_shipped("seq_copy_lstm_d20")[0], sq.load_shipped("seq_copy_rnn_d20")[0]
    assert sq.copy_accuracy(lstm, 20) >= 0.9 and sq.copy_accuracy(rnn_, 20) >= 0.9   # both learn delay 20 (Adam)
    sweep = sq.load_shipped("seq_copy_lstm_d20")[2]["sweep"]
    assert set(sweep) == {f"{a}_d{d}" for a in ("rnn", "lstm") for d in sq.COPY_DELAYS}
    assert sweep["rnn_d30"] < sweep["rnn_d5"]                # the RNN's accuracy falls with the delay


def test_shipped_reversal_attention_beats_no_attention():
    att, plain = sq.load_shipped("seq_reverse_attention")[0], sq.load_shipped("seq_reverse_plain")[0]
    trained = [seq2seq.exact_match(att, n, 200) for n in range(1, 11)]
    assert min(trained) >= 0.8 and np.mean(trained) >= 0.95
    assert seq2seq.exact_match(att, 10, 300) >= seq2seq.exact_match(plain, 10, 300) + 0.2


def test_shipped_pixelcnn_likelihood_and_samples():
    model, _, extra = sq.load_shipped("seq_pixelcnn_digits")
    x_test = pixels.binarise(__import__("dlplay.data", fromlist=["load"]).load("digits").x_test)
    nll = model.nll(x_test).mean().item()
    assert nll == pytest.approx(extra["test_nll_nats"], abs=0.05)
    assert nll <= min(extra["vae2_test_neg_elbo"], extra["vae16_test_neg_elbo"])
    assert sq.judged_digits(model, 200, seed=5) >= 0.6


def test_checkpoint_round_trip_rebuilds_every_kind(tmp_path):
    from dlplay import checkpoints
    from dlplay.topics import save_checkpoint

    for cfg in (sq.CharConfig(arch="rnn", hidden=16), sq.CopyConfig(hidden=16), sq.ReverseConfig(hidden=16),
                sq.PixelConfig(channels=8, layers=2)):
        task = sq.make_task(cfg, 0)
        save_checkpoint(tmp_path / "m.pt", sq, task)
        model, conf, _ = checkpoints.load(tmp_path / "m.pt", expect_builder=sq.BUILDER)
        assert conf == task.model_config
        assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), task.model.state_dict().values()))


# -- the command line ------------------------------------------------------------------------------------------------
def _cli(capsys, *args):
    from dlplay import cli

    code = cli.main([*args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out.strip().splitlines()[-1]) if code == 0 else None), err


def test_cli_charlm_copy_and_pixelcnn(tmp_path, capsys):
    code, out, err = _cli(capsys, "train", "charlm", "--arch", "lstm", "--hidden", "32", "--steps", "5",
                          "--out", str(tmp_path / "c.pt"))
    assert code == 0, err
    assert out["val_bits_per_char"] > 0 and len(out["samples"]) == 3 and (tmp_path / "c.pt").exists()
    code, out, err = _cli(capsys, "train", "charlm", "--arch", "ngram", "--order", "3", "--steps", "2")
    assert code == 0 and out["val_bits_per_char"] < 3.5 and all(len(s) == 200 for s in out["samples"])
    code, out, err = _cli(capsys, "train", "copy-task", "--arch", "rnn", "--delay", "7", "--steps", "3")
    assert code == 0 and 0 <= out["accuracy"] <= 1
    code, out, err = _cli(capsys, "train", "pixelcnn", "--channels", "8", "--layers", "2", "--steps", "2")
    assert code == 0 and out["test_nll_nats"] > 0 and 0 <= out["judged_digits"] <= 1
    code, out, err = _cli(capsys, "train", "copy-task", "--delay", "1000", "--steps", "1")
    assert code == 2 and "delay = 1000 is out of range" in err


@pytest.mark.slow
def test_cli_runs_as_a_module():
    env = {**os.environ, "DLPLAY_THREADS": "1", "DLPLAY_DEVICE": "cpu"}
    r = subprocess.run([sys.executable, "-m", "dlplay", "train", "reverse", "--hidden", "16", "--steps", "2",
                        "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "exact_match_longest" in json.loads(r.stdout.strip().splitlines()[-1])
