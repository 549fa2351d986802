"""Every outcome a page states in its "What to try" list or a caption, measured on fresh models over seeds and on
an input nobody tuned for (issue 30).

Each `Lesson` names where the page says it, what is measured (through the same topic functions the page calls,
with the page's default settings and a step budget), and the check that decides whether it holds. The tests in
tests/test_lessons.py run the checks on seeds 1 and 2 and on the other input; lessons already checked that way by a
per-topic test name it in `test` and have no measure here unless the spread is cheap to re-measure.

    DLPLAY_THREADS=1 OMP_NUM_THREADS=1 python -m bench.lessons [--only PAGE] [--seeds 0 1 2]

writes bench/results/lessons.json and prints the README's Lessons table (the min / median / max of each lesson's
number over the seeds at the default input, and the number at the other input).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

RESULTS = Path(__file__).parent / "results" / "lessons.json"


@dataclass(frozen=True)
class Lesson:
    id: str                      # "page/short-name": also the test id
    page: str                    # the page's file name
    where: str                   # "try 2" (the 2nd "What to try" line) or "caption: ..."
    claim: str                   # what the page says, in short
    metric: str                  # what the number in the table is
    measure: Callable[[int, str], dict] | None = None   # (seed, input) -> {"value": float, ...}
    holds: Callable[[dict], bool] | None = None          # the check on measure's result
    inputs: tuple[str, ...] = ("default",)               # the page's default input first, then the other one
    test: str = "tests/test_lessons.py"                  # where the check runs (another file: reused, not redone)
    slow: bool = False                                   # under @pytest.mark.slow
    changed: str = "-"                                   # "wording", "experiment" or "-" (held as written)
    seeded: bool = True                                  # False: nothing random (only the inputs vary)
    note: str = ""


# -- shared, cached inputs ------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _data(name: str):
    from dlplay import data
    return data.load(name)


@functools.lru_cache(maxsize=None)
def _pca(name: str, k: int):
    from dlplay import autoencoders as ae
    return ae.PCABaseline(_data(name), k)


@functools.lru_cache(maxsize=None)
def _judge():
    from dlplay.classifier import load_judge
    return load_judge()


def _ae(steps: int, seed: int, **kw):
    from dlplay import autoencoders as ae
    from dlplay.train import Trainer

    task = ae.make_task(ae.AutoencoderConfig(**kw), seed, device="cpu")
    Trainer(task).run(steps=steps, evaluate=False)
    return task


# -- datasets -------------------------------------------------------------------------------------------------------
def datasets_seed_changes_curve_not_accuracy(seed: int, inp: str) -> dict:
    """The page's classifier (1,500 steps) from `seed`, again from `seed`, and from seed + 3: the loss curves of
    the two seeds differ, their test accuracies barely; the same seed twice gives exactly the same curve."""
    from dlplay import classifier
    from dlplay.train import Trainer

    def run(s, steps=1500):
        t = classifier.make_task(classifier.ClassifierConfig(), s, device="cpu")
        tr = Trainer(t, record_every=50).run(steps=steps)
        return list(tr.series("loss")[1]), t.evaluate()["test_acc"]

    (c0, a0), (c1, a1), (c0b, _) = run(seed), run(seed + 3), run(seed, 300)   # the repeat: its first 300 steps
    return {"value": abs(a1 - a0), "acc_seed": a0, "acc_other_seed": a1,
            "curve_gap": float(np.mean(np.abs(np.asarray(c0) - np.asarray(c1)))), "repeat_equal": c0[:len(c0b)] == c0b}


# -- rewards --------------------------------------------------------------------------------------------------------
def rewards_epsilon_zero(seed: int, inp: str) -> dict:
    """2,000 episodes as the page trains, epsilon 0 against the preset's epsilon, with random start cells (the
    default: each new start explores for the agent) and without: cells whose greedy move is not optimal, max
    |V - V*| and the share of cells from which the greedy policy reaches the goal."""
    from dlplay import qlearning as ql

    base = ql.PRESETS[inp]
    out = {}
    for name, eps, rs in (("default", base.epsilon, False), ("zero", 0.0, False), ("zero_random_starts", 0.0, True)):
        task = ql.make_task(base.replace(epsilon=eps, random_starts=rs), seed)
        ql.train_episodes(task, 2000)
        a = ql.agent_of(task)
        ok, n = a.policy_agreement()
        out[name] = (n - ok, a.max_err(), a.reached()[0] / a.reached()[1])
    return {"value": out["zero"][0], "wrong_default_eps": out["default"][0], "err_zero": out["zero"][1],
            "err_default": out["default"][1], "reached_zero": out["zero"][2],
            "wrong_zero_random_starts": out["zero_random_starts"][0], "cells": n}


def rewards_gamma_half_far_cells(seed: int, inp: str) -> dict:
    """2,000 episodes at gamma 0.5 and at the preset's gamma: what the goal adds to the learned value of the
    farthest quarter of cells (V(s) + step_cost / (1 - gamma), the part not made of step costs), per unit of goal
    reward, at most over those cells."""
    from dlplay import qlearning as ql

    base = ql.PRESETS[inp]
    out = {}
    for g in (base.gamma, 0.5):
        task = ql.make_task(base.replace(gamma=g), seed)
        ql.train_episodes(task, 2000)
        a = ql.agent_of(task)
        steps = np.array([len(a.env.greedy_path(a.q_star, s)) if a.scored[s] else -1 for s in range(a.env.n)])
        far = a.scored & (steps >= np.quantile(steps[a.scored], 0.75))
        out[g] = float((a.q.max(1)[far] + base.step_cost / (1 - g)).max()) / base.goal_reward
    return {"value": out[0.5], "goal_share_default_gamma": out[base.gamma]}


# -- autoencoders ---------------------------------------------------------------------------------------------------
def ae_deep_beats_pca(seed: int, inp: str) -> dict:
    from dlplay import autoencoders as ae

    t = _ae(1500, seed, dataset=inp, variant="deep")
    k = t.model.code_size
    e, p = t.evaluate()["test_mse"], _pca(inp, k).test_mse(_data(inp).x_test)
    return {"value": e / p, "ae_mse": e, "pca_mse": p}


def ae_linear_angle(seed: int, inp: str) -> dict:
    from dlplay import autoencoders as ae
    from dlplay.train import Trainer

    task = ae.make_task(ae.AutoencoderConfig(dataset=inp, variant="linear"), seed, device="cpu")
    pca = _pca(inp, task.model.code_size)
    Trainer(task).run(steps=1000, evaluate=False)
    a1000 = ae.subspace_angle(task.model, pca)
    Trainer(task).run(steps=1000, evaluate=False)
    return {"value": ae.subspace_angle(task.model, pca), "angle_1000": a1000, "input": inp,
            "mse_ratio": task.evaluate()["test_mse"] / pca.test_mse(_data(inp).x_test)}


def ae_tied_half_parameters(seed: int, inp: str) -> dict:
    from dlplay import autoencoders as ae

    t = _ae(2000, seed, dataset=inp, variant="linear", tied=True)
    untied = ae.build_model("linear", image_shape=_data(inp).image_shape, code_size=t.model.code_size)
    return {"value": ae.subspace_angle(t.model, _pca(inp, t.model.code_size)),
            "param_share": ae.parameter_count(t.model) / ae.parameter_count(untied)}


def ae_rotation_code_is_the_angle(seed: int, inp: str) -> dict:
    from dlplay import autoencoders as ae

    t = _ae(1500, seed, dataset="rotations", variant="deep", code_size=1)
    return {"value": ae.factor_recovery(t.model, _data("rotations"))["angle"]}


def ae_two_number_code_separates(seed: int, inp: str) -> dict:
    from dlplay import autoencoders as ae

    d = _data(inp)
    t = _ae(1500, seed, dataset=inp, variant="deep", code_size=2)
    knn = ae.knn_accuracy(ae.train_codes(t.model, d), d.y_train, ae.encode(t.model, d.x_test), d.y_test)
    p = _pca(inp, 2)
    knn_pca = ae.knn_accuracy(p.encode(d.x_train), d.y_train, p.encode(d.x_test), d.y_test)
    return {"value": knn - knn_pca, "knn_code": knn, "knn_pca": knn_pca, "input": inp}


def ae_overcomplete_copies_noise(seed: int, inp: str) -> dict:
    from dlplay import autoencoders as ae

    d = _data(inp)
    over = _ae(800, seed, dataset=inp, variant="overcomplete")
    deep = _ae(800, seed, dataset=inp, variant="deep")
    return {"value": ae.identity_error(over.model, d) / ae.identity_error(deep.model, d),
            "over_mse": over.evaluate()["test_mse"], "deep_mse": deep.evaluate()["test_mse"]}


def ae_sparse_penalty_adds_zeros(seed: int, inp: str) -> dict:
    from dlplay import autoencoders as ae

    d = _data(inp)
    reps = [ae.sparsity_report(ae.encode(_ae(1000, seed, dataset=inp, variant="sparse", weight=w).model, d.x_test))
            for w in (0.0, ae.VARIANTS["sparse"].knob_default)]
    return {"value": reps[1]["zero_share"] - reps[0]["zero_share"],
            "active_ratio": reps[1]["active_per_image"] / max(reps[0]["active_per_image"], 1e-9)}


def ae_redundant_survives_knockouts(seed: int, inp: str) -> dict:
    from dlplay import autoencoders as ae

    d = _data(inp)
    rise = {}
    for v in ("deep", "redundant"):
        m = _ae(1500, seed, dataset=inp, variant=v, code_size=16).model
        rise[v] = ae.knockout_mse(m, d, 4) / ae.knockout_mse(m, d, 0)
    return {"value": rise["deep"] / rise["redundant"], "rise_plain": rise["deep"], "rise_redundant": rise["redundant"]}


def ae_denoising_gains_psnr(seed: int, inp: str) -> dict:
    from dlplay import autoencoders as ae

    d = _data("digits")
    t = _ae(1500, seed, variant="denoising", noise=inp)
    level = ae.VARIANTS["denoising"].knob_default
    noisy = ae.noisy_test(d, inp, level)
    return {"value": ae.psnr(ae.reconstruct(t.model, noisy), d.x_test) - ae.psnr(noisy, d.x_test)}


def ae_pooling_wins_through_switches(seed: int, inp: str) -> dict:
    e_stride = _ae(1500, seed, variant="conv").evaluate()["test_mse"]
    e_pool = _ae(1500, seed, variant="conv_pool").evaluate()
    return {"value": e_pool["test_mse"] / e_stride, "code_only_ratio": e_pool["test_mse_without_switches"] / e_stride}


def ae_weight_l1_zeros(seed: int, inp: str) -> dict:
    from dlplay import autoencoders as ae

    off, on = (_ae(1500, seed, variant="deep", weight_l1=mu) for mu in (0.0, 0.1))
    return {"value": ae.weight_zero_fraction(on.model), "zeros_without": ae.weight_zero_fraction(off.model),
            "mse_ratio": on.evaluate()["test_mse"] / off.evaluate()["test_mse"]}


def ae_perceptual_recognised(seed: int, inp: str) -> dict:
    from dlplay import autoencoders as ae

    d = _data("digits")
    pix, per = (_ae(2000, seed, variant="deep", code_size=2, loss=loss) for loss in ("pixel", "perceptual"))
    return {"value": ae.recognition_rate(per.model, d) - ae.recognition_rate(pix.model, d),
            "pixel_mse_ratio": ae.mse(ae.reconstruct(per.model, d.x_test), d.x_test)
            / ae.mse(ae.reconstruct(pix.model, d.x_test), d.x_test)}


# -- embeddings -----------------------------------------------------------------------------------------------------
def embed_tsne_keeps_neighbours(seed: int, inp: str) -> dict:
    from dlplay import embed as E

    src = E.load_source(inp)
    idx = E.sample_indices(len(src.x), "tsne", seed, 1000)
    x = src.x[idx]
    q = {m: E.quality(x, E.embed(x, m, seed=seed)) for m in ("pca", "tsne")}
    return {"value": q["tsne"]["knn_kept"] - q["pca"]["knn_kept"],
            "tw_tsne": q["tsne"]["trustworthiness"], "tw_pca": q["pca"]["trustworthiness"]}


def embed_three_blobs(seed: int, inp: str) -> dict:
    """The three-perplexity lesson's own task on three_blobs(150, 10, seed): C's spread against A's in the plot
    (0.25 in the data) and the gap A-C against A-B (4 in the data) at each perplexity."""
    from dlplay import embed as E
    from dlplay.train import Trainer

    ls = E.three_blobs(150, 10, seed)
    task = E.make_lesson_task(E.LessonConfig(data=E.Vectors.of(ls.x)), seed)
    Trainer(task).run(steps=3, evaluate=False)
    sizes, gaps = [], []
    for y in task.layouts:
        c = [y[ls.labels == k] for k in range(3)]
        m = [v.mean(0) for v in c]
        spread = [float(np.sqrt(((v - mu) ** 2).sum(1).mean())) for v, mu in zip(c, m)]
        sizes.append(spread[2] / spread[0])
        gaps.append(float(np.linalg.norm(m[2] - m[0]) / np.linalg.norm(m[1] - m[0])))
    return {"value": sizes[1], "size_ratio_by_perplexity": sizes, "gap_ratio_by_perplexity": gaps}


# -- VAE ------------------------------------------------------------------------------------------------------------
def vae_beats_ae_on_random_codes(seed: int, inp: str) -> dict:
    """The page's 'train my own pair' with a 16-number code, at 1,500 steps (the page's default is 3,000; at
    1,000 seed 1 gave only +0.045): the judge's mean confidence on 500
    random codes decoded by the VAE minus the plain AE's (the same draws, each in its own code region)."""
    from dlplay import vae
    from dlplay.classifier import judge
    from dlplay.train import Trainer

    task = vae.make_pair_task(vae.VAEConfig(latent=16), seed, device="cpu")
    Trainer(task).run(steps=1500, evaluate=False)
    conf = {}
    for name, m in (("vae", task.vae.model), ("ae", task.ae.model)):
        codes = vae.encode_means(m, _data("digits").x_test)[0]
        import torch
        conf[name] = judge(_judge(), torch.as_tensor(vae.decode_np(m, vae.random_codes(m, codes, 500, seed=1))))
    return {"value": conf["vae"]["mean_confidence"] - conf["ae"]["mean_confidence"],
            "digits_vae": conf["vae"]["confident_share"], "digits_ae": conf["ae"]["confident_share"]}


def vae_beta4_collapses(seed: int, inp: str) -> dict:
    from dlplay import vae

    rows = {r["beta"]: r for r in vae.beta_sweep(vae.VAEConfig(latent=vae.BETA_TABLE_LATENT), 500, seed, _judge(),
                                                  betas=(1.0, 4.0))}
    return {"value": rows[4.0]["active_units"], "digits_beta1": rows[1.0]["sampled_digits"],
            "digits_beta4": rows[4.0]["sampled_digits"], "active_beta1": rows[1.0]["active_units"],
            "kl_beta4": rows[4.0]["test_kl"]}


# -- GAN ------------------------------------------------------------------------------------------------------------
def gan_healthy_covers_the_ring(seed: int, inp: str) -> dict:
    from dlplay.gan import GAN2DTask, preset
    from dlplay.train import Trainer

    task = GAN2DTask(preset("healthy training"), seed=seed, device="cpu")
    tr = Trainer(task).run(steps=1500)
    h = tr.history[-50:]
    acc = float(np.mean([0.5 * (x["d_acc_real"] + x["d_acc_fake"]) for x in h]))
    return {"value": task.distances()["modes_covered"], "d_acc": acc}


def gan_images_become_digits(seed: int, inp: str) -> dict:
    """The image GAN with the page's defaults (conditional on, 800 steps): the judge's share of samples it calls
    digits, before and after. `inp`: 'conditional' (the page's default) or 'dcgan' (the toggle off)."""
    from dlplay.gan.images import ImageGANConfig, make_task
    from dlplay.train import Trainer

    task = make_task(ImageGANConfig(conditional=inp == "conditional"), seed, device="cpu")
    start = task.evaluate()["judge_digit_share"]
    Trainer(task).run(steps=800, evaluate=False)
    return {"value": task.evaluate()["judge_digit_share"], "start": start}


def gan_strong_d_starves_g(seed: int, inp: str) -> dict:
    from dlplay.gan import GAN2DTask, preset
    from dlplay.train import Trainer

    norms = {}
    for name in ("healthy training", "discriminator too strong: vanishing gradients"):
        tr = Trainer(GAN2DTask(preset(name), seed=seed, device="cpu")).run(steps=120)
        norms[name] = float(np.median([h["g_grad_norm"] for h in tr.history[-20:]]))
    return {"value": norms["discriminator too strong: vanishing gradients"] / norms["healthy training"]}


# -- pretraining -----------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _stack(seed: int, labels: int) -> dict:
    from dlplay import pretraining as pt

    return pt.run_to_end(pt.StackConfig(labels_per_class=labels, seeds=1), seed).evaluate()


def pretraining_gap_shrinks_with_labels(seed: int, inp: str) -> dict:
    """The page's stack (sigmoid, default budgets), one repeat from `seed`: pre-trained - random at 5 and at 50
    labels per class."""
    g5, g50 = (_stack(seed, n)["pretrained"] - _stack(seed, n)["random_init"] for n in (5, 50))
    return {"value": g5 - g50, "gap5": g5, "gap50": g50}


def pretraining_probe(seed: int, inp: str) -> dict:
    """Linear probe (frozen pre-trained features) against fine-tuning everything, at 5 and 50 labels per class."""
    d5, d50 = (_stack(seed, n)["pretrained"] - _stack(seed, n)["linear_probe"] for n in (5, 50))
    return {"value": d5, "finetune_minus_probe50": d50}


# -- domain adaptation ------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _domain_run(seed: int, target: str, method: str, lam: float = 1.0, schedule: str = "ramp", steps: int = 300):
    from dlplay import domain as D
    from dlplay.train import Trainer

    task = D.make_task(D.DomainConfig(target=target, method=method, lam=lam, schedule=schedule), seed)
    Trainer(task).run(steps=steps, evaluate=False)
    return D.evaluate(task.model, task.data, seed)


def domain_source_only_fails_on_target(seed: int, inp: str) -> dict:
    """Source only, 300 steps: accuracy on the clean test digits minus on the same digits in the target domain,
    and the quiz (a fresh discriminator on its features)."""
    ev = _domain_run(seed, inp, "source-only")
    return {"value": ev["source_accuracy"] - ev["target_accuracy"], **ev}


def domain_lambda_too_high(seed: int, inp: str) -> dict:
    """The page's 'Lambda too high' preset (alternating, lambda 20 constant) against source only, same seed, data
    and 300 steps: the drop in source and in target accuracy, and the page's verdict."""
    from dlplay import domain as D

    so, hi = _domain_run(seed, inp, "source-only"), _domain_run(seed, inp, "alternating", 20.0, "constant")
    return {"value": so["source_accuracy"] - hi["source_accuracy"],
            "target_drop": so["target_accuracy"] - hi["target_accuracy"], "source_accuracy": hi["source_accuracy"],
            "target_accuracy": hi["target_accuracy"],
            "verdict": D.verdict(hi, "alternating", so)[0]}


# -- sequences ------------------------------------------------------------------------------------------------------
def sequences_relu_identity_keeps_gradient(seed: int, inp: str) -> dict:
    """Untrained models of the page's size: ||dL_T/ds_{T-30}|| / ||dL_T/ds_T|| for tanh, LSTM and identity ReLU."""
    from dlplay import sequences as sq

    g = sq.gradient_curves({k: sq.fresh_char_model(k, 256, seed) for k in ("tanh", "relu", "lstm")}, batch=8)
    r = {k: float(v[30] / v[0]) for k, v in g.items()}
    return {"value": r["relu"], "tanh": r["tanh"], "lstm": r["lstm"]}


def sequences_greedy_loops(seed: int, inp: str) -> dict:
    """Both shipped character models, 500 greedy characters (temperature 0) after the prompt: the shortest period
    p <= 200 with which the last 200 characters repeat (0: no loop), the larger of the two."""
    from dlplay import sequences as sq

    periods = []
    for name in ("seq_lstm_lee", "seq_rnn_lee"):
        text, _ = sq.sample_text(sq.load_shipped(name)[0], inp, 500, 0.0)
        tail = text[-400:]
        periods.append(next((p for p in range(1, 201) if tail[-200:] == tail[-200 - p:len(tail) - p]), 0))
    return {"value": float(max(periods)), "periods": periods, "loops": all(p > 0 for p in periods)}


def sequences_attention_reverses(seed: int, inp: str) -> dict:
    """The page's reversal part from scratch, with and without attention: its default training lengths (1-10
    digits) and its step budget (the shipped models' 2,500 steps, PART_BUDGETS in pages/sequences.py), the same
    seed for both. Exact match (every digit and the end right, 300 fresh strings per length, as the page's length
    plot) at the longest trained length, at the page's 12 digits, and the mean over 1-10; and the attention weight
    output t (1-based) puts on the anti-diagonal band at 12 digits: input n + 1 - t (the digit it writes) or
    n + 2 - t (the encoder state right after reading it, where the shipped model looks most)."""
    import torch

    from dlplay import sequences as sq
    from dlplay.train import Trainer

    steps, longest, shown = sq.SHIPPED["seq_reverse_attention"].steps, sq.ReverseConfig().max_len, 12
    out = {}
    for att in (True, False):
        task = sq.make_task(sq.ReverseConfig(attention=att), seed, device="cpu")
        Trainer(task).run(steps=steps, evaluate=False)
        curve = [sq.seq2seq.exact_match(task.model, n, 300) for n in range(1, shown + 1)]
        k = "att" if att else "plain"
        out.update({f"{k}_longest": curve[longest - 1], f"{k}_12": curve[shown - 1],
                    f"{k}_mean_trained": float(np.mean(curve[:longest]))})
        if att:
            x, _ = sq.seq2seq.reversal_batch(100, shown, torch.Generator().manual_seed(seed + 99))
            a = task.model.greedy(x, shown + 1)[1][:, :shown]           # (B, outputs before the end, inputs)
            t, i = torch.meshgrid(torch.arange(shown), torch.arange(shown), indexing="ij")
            out["anti_diagonal"] = float((a * ((t + i == shown - 1) | (t + i == shown))).sum(-1).mean())
    return {"value": out["att_longest"] - out["plain_longest"], "steps": steps, **out}


# -- style ----------------------------------------------------------------------------------------------------------
STYLE_STEPS, STYLE_SIZE = 150, 256     # the page's step budget (pages/style.py STYLE_STEPS) and CPU output size


def style_stem_only(seed: int, inp: str, *, size: int = STYLE_SIZE, steps: int = STYLE_STEPS) -> dict:
    """Style from the stem layer only against the page's four style layers (stem, stage2-4): the same pictures,
    page defaults (256 px, 150 Adam steps, the colour-matched start), only the layer set differs. For each result,
    each style layer's relative Gram error (the page's style-loss term of that layer) against the style picture:
    fine grain is the stem's error, larger strokes the deeper layers'. `value`: the share of the deeper layers'
    Gram error that the stem-only run removes, as a fraction of what the four-layer run removes (mean over
    stage2-4; 0 = none of the strokes). Colours: the default start already has the style's colour means and
    spreads, so a third run starts from the content picture as it is (stem only) and the mean-RGB distance to the
    style picture is compared with the content picture's. Nothing is random at these settings: seeds 0, 1, 2 give
    the same pictures bit for bit (the seed only draws the noise start). `size` / `steps`: a smaller, faster run
    for tests/test_style.py."""
    import torch
    import torch.nn.functional as F

    from dlplay import style
    from dlplay.train import Trainer

    content, sty = inp.split(" / ")

    def run(layers, init="colour-matched content"):
        cfg = style.StyleConfig(content=content, style=sty, size=size, style_layers=layers, init=init)
        task = style.make_task(cfg, seed, device="cpu")
        start = task.image.detach().clone()
        Trainer(task).run(steps=steps, evaluate=False)
        return task, start, task.image.detach()

    @torch.no_grad()
    def gram_errors(task, x, layers):
        f, ref = task.bb.features(x, layers), task.bb.features(task.style_img, layers)
        out = {}
        for k in layers:
            g = style.gram_matrix(ref[k])
            out[k] = float(F.mse_loss(style.gram_matrix(f[k]), g) / g.pow(2).mean())
        return out

    def colour_gap(x, ref):      # distance of the mean RGB colours (0-1 scale)
        return float((x[0].reshape(3, -1).mean(1) - ref[0].reshape(3, -1).mean(1)).norm())

    task_all, start, x_all = run(None)
    layers = list(task_all.style_layers)                     # stem, stage2, stage3, stage4
    stem, deep = layers[0], layers[1:]
    task_stem, _, x_stem = run((stem,))
    e0, e_stem, e_all = (gram_errors(task_all, x, layers) for x in (start, x_stem, x_all))
    closed = [(e0[k] - e_stem[k]) / (e0[k] - e_all[k]) for k in deep]
    task_c, _, x_c = run((stem,), "content")
    return {"value": float(np.mean(closed)), "closed_by_layer": dict(zip(deep, closed)),
            "stem_fall_stem_only": e0[stem] / e_stem[stem], "stem_fall_all": e0[stem] / e_all[stem],
            "deep_fall_all": float(np.mean([e0[k] / e_all[k] for k in deep])),
            "deep_fall_stem_only": float(np.mean([e0[k] / e_stem[k] for k in deep])),
            "errors_start": e0, "errors_stem_only": e_stem, "errors_all": e_all,
            "colour_gap_content": colour_gap(task_c.content_img, task_c.style_img),
            "colour_gap_stem_from_content": colour_gap(x_c, task_c.style_img),
            "colour_gap_default_start": colour_gap(start, task_all.style_img)}


# -- the registry ---------------------------------------------------------------------------------------------------
L = Lesson
LESSONS: list[Lesson] = [
    # datasets
    L("datasets/seed-changes-curve-not-accuracy", "datasets.py", "try 2-3",
      "another seed: the curves differ, the accuracy barely; the same seed: exactly the same curve",
      "|test accuracy(seed) - test accuracy(seed + 3)|, 1,500 steps", datasets_seed_changes_curve_not_accuracy,
      lambda r: r["value"] < 0.03 and r["curve_gap"] > 1e-3 and r["repeat_equal"]),
    # rewards
    L("rewards/train-reaches-exact-values", "rewards.py", "try 2",
      "2,000 episodes: return rises, max |V - V*| falls to about 0", "max |V - V*|",
      test="tests/test_qlearning.py::test_default_grid_learns_the_exact_values_within_2000_episodes (seeds 0-2)"),
    L("rewards/cliff-sarsa-safe-q-edge", "rewards.py", "try 4",
      "cliff: SARSA the safe path, Q-learning the edge, SARSA earns more while exploring", "paths",
      test="tests/test_qlearning.py::test_cliff_sarsa_keeps_off_the_edge_and_q_learning_walks_it (seeds 0-2)"),
    L("rewards/epsilon-zero-cells-stay-wrong", "rewards.py", "try 5a",
      "epsilon 0 without random starts: some cells stay wrong (with random starts, the default, it still learns)",
      "cells with a non-optimal greedy move, epsilon 0, fixed start (2,000 episodes)", rewards_epsilon_zero,
      lambda r: r["value"] >= r["wrong_default_eps"] + 2 and r["reached_zero"] < 1,
      inputs=("6x6 grid (default)", "Slippery 6x6 (20% of moves slip)"), changed="wording",
      note="was 'the agent never explores and many cells stay wrong'; with random starts on it held on 0 of 3 seeds "
           "(0-1 of 27 cells wrong)"),
    L("rewards/gamma-half-far-cells", "rewards.py", "try 5b",
      "gamma 0.5: far cells barely see the goal",
      "what the goal adds to V of the farthest quarter of cells (per unit of goal reward), gamma 0.5",
      rewards_gamma_half_far_cells, lambda r: r["value"] < 0.05 and r["goal_share_default_gamma"] > 0.2,
      inputs=("6x6 grid (default)", "Four rooms")),
    L("rewards/dqn-learns-the-grid", "rewards.py", "try 7", "DQN: a network replaces the table", "|V - V*|",
      test="tests/test_qlearning.py::test_dqn_learns_the_grid(_on_other_seeds) (seeds 0, 1, 2; slow)"),
    # autoencoders
    L("autoencoders/deep-beats-pca", "autoencoders.py", "try 1",
      "the deep 8-number code beats PCA's 8 numbers", "test MSE deep / PCA, 1,500 steps", ae_deep_beats_pca,
      lambda r: r["value"] < 0.9, inputs=("digits", "shapes")),
    L("autoencoders/linear-finds-pca", "autoencoders.py", "try 2 + caption (linear tab)",
      "linear AE: 7-18° after 1,000 steps, under 1° after 2,000 (digits)",
      "largest angle to PCA's subspace after 2,000 steps (°)", ae_linear_angle,
      lambda r: r["value"] < (1 if r["input"] == "digits" else 1.5) and r["angle_1000"] < 20
      and r["mse_ratio"] < 1.02, inputs=("digits", "shapes"), changed="wording",
      note="was 'under 10° after about 1,000' (and '3-8°' in the caption): seed 2 is at 18.4°",
      test="tests/test_autoencoders.py::test_linear_autoencoder_finds_pca_subspace (digits, seeds 0-2) + here"),
    L("autoencoders/tied-half-parameters", "autoencoders.py", "try 3",
      "tied weights: half the parameters, the same subspace", "angle to PCA after 2,000 steps (°)",
      ae_tied_half_parameters, lambda r: r["value"] < 2 and r["param_share"] < 0.55, inputs=("digits",),
      test="tests/test_autoencoders.py::test_tied_linear_autoencoder_finds_it_with_half_the_parameters (seeds 0, 1) "
      "+ here"),
    L("autoencoders/rotation-code-is-the-angle", "autoencoders.py", "try 4",
      "rotations, 1-number code: the code follows the true angle", "R² of the angle from the code, 1,500 steps",
      ae_rotation_code_is_the_angle, lambda r: r["value"] > 0.9),
    L("autoencoders/two-number-code-separates", "autoencoders.py", "try 5",
      "code size 2: on digits the deep code separates the classes better than PCA's 2-D projection; on shapes "
      "the two are level", "5-NN accuracy, deep 2-number code - PCA 2-D, 1,500 steps", ae_two_number_code_separates,
      lambda r: r["value"] > 0.1 if r["input"] == "digits" else abs(r["value"]) < 0.05, inputs=("digits", "shapes"),
      changed="wording", note="the page implied the deep code wins; on shapes it does not (-0.017)"),
    L("autoencoders/overcomplete-copies-noise", "autoencoders.py", "try 6",
      "overcomplete: near-perfect reconstructions, and it reconstructs noise too",
      "noisy-input copy error, overcomplete / deep 8, 800 steps", ae_overcomplete_copies_noise,
      lambda r: r["value"] < 0.5 and r["over_mse"] < r["deep_mse"], inputs=("digits", "shapes")),
    L("autoencoders/sparse-penalty-adds-zeros", "autoencoders.py", "try 7",
      "sparse: the L1 penalty (not the ReLU) makes the zeros", "zero share with - without the penalty, 1,000 steps",
      ae_sparse_penalty_adds_zeros, lambda r: r["value"] > 0.15 and r["active_ratio"] < 0.7,
      inputs=("digits", "shapes")),
    L("autoencoders/redundant-survives-knockouts", "autoencoders.py", "try 8",
      "redundant: knock code numbers out; the plain network's error climbs much faster",
      "error rise with 4 of 16 knocked out, plain / redundant, 1,500 steps", ae_redundant_survives_knockouts,
      lambda r: r["value"] > 1.5, inputs=("digits", "shapes")),
    L("autoencoders/denoising-gains-psnr", "autoencoders.py", "try 9",
      "denoising: the PSNR gained is positive", "PSNR after - before (dB), 1,500 steps", ae_denoising_gains_psnr,
      lambda r: r["value"] > 1.0, inputs=("gaussian", "dropout")),
    L("autoencoders/pooling-wins-through-switches", "autoencoders.py", "try 10 + caption (pooling tab)",
      "max-pooling + unpooling beats stride 2, only through its switches",
      "test MSE pooling / stride 2, 1,500 steps", ae_pooling_wins_through_switches,
      lambda r: r["value"] < 1.0 and r["code_only_ratio"] > 3),
    L("autoencoders/search-pixels-vs-codes", "autoencoders.py", "try 11 + caption (search tab)",
      "all pixels agree with labels most often; the code wins on memory", "label agreement",
      test="tests/test_autoencoders.py::test_search_by_code_and_by_pixels_as_the_page_says (shipped + seeds 1, 2)"),
    L("autoencoders/weight-l1-zeros", "autoencoders.py", "try 12",
      "L1 on the first layer's weights 0.1: about 40% exact zeros after 1,500 steps, about the same error",
      "share of first-layer weights exactly 0", ae_weight_l1_zeros,
      lambda r: r["value"] > 0.3 and r["zeros_without"] < 0.01 and r["mse_ratio"] < 1.3),
    L("autoencoders/perceptual-recognised", "autoencoders.py", "try 13",
      "perceptual loss, code size 2: more reconstructions recognised, higher pixel error",
      "recognition rate perceptual - pixel, 2,000 steps", ae_perceptual_recognised,
      lambda r: r["value"] > 0.05, slow=True),
    # embeddings
    L("embeddings/tsne-keeps-neighbours", "embeddings.py", "try 3",
      "quality numbers: t-SNE keeps more neighbours than PCA", "k-NN kept, t-SNE - PCA (1,000 points)",
      embed_tsne_keeps_neighbours, lambda r: r["value"] > 0.2 and r["tw_tsne"] > r["tw_pca"],
      inputs=("digits", "shapes")),
    L("embeddings/three-blobs-same-size", "embeddings.py", "try 5 + lesson text",
      "t-SNE draws the three blobs about the same size although C is 4x tighter; the gaps are not to scale",
      "C's spread / A's in the plot at perplexity 30 (0.25 in the data)", embed_three_blobs,
      lambda r: r["value"] > 0.5 and max(r["gap_ratio_by_perplexity"]) / min(r["gap_ratio_by_perplexity"]) > 1.2),
    # VAE
    L("vae/vae-beats-ae-on-random-codes", "vae.py", "try 3 + caption (AE versus VAE)",
      "the same random draws: the judge prefers the VAE's decodings to the plain AE's",
      "judge's mean confidence VAE - AE, 16-number code, 1,500 steps", vae_beats_ae_on_random_codes,
      lambda r: r["value"] > 0.05, slow=True),
    L("vae/beta-trade-off", "vae.py", "try 4 + beta tab",
      "samples best at a moderate beta, codes off the prior at 0, collapse at 4", "digits judged, active units",
      test="tests/test_vae.py::test_beta_trade_off_over_the_page_sweep (seeds 1, 2; slow)"),
    L("vae/beta4-collapses", "vae.py", "try 5", "latent 8, beta 4: active units fall to 0 of 8, samples one blob",
      "active latent units at beta 4, 500 steps", vae_beta4_collapses,
      lambda r: r["value"] == 0 and r["digits_beta4"] < 0.05 and r["digits_beta1"] > r["digits_beta4"] + 0.15,
      test="tests/test_vae.py::test_beta_4_collapses_the_posterior_and_beta_1_samples_better (seeds 1, 2)"),
    # GAN
    L("gan/healthy-covers-the-ring", "gan.py", "try 1",
      "healthy training: the points split into the eight modes; D's accuracy drifts towards 50%",
      "modes covered of 8 after 1,500 iterations", gan_healthy_covers_the_ring,
      lambda r: r["value"] >= 6 and 0.35 < r["d_acc"] < 0.75, slow=True),
    L("gan/strong-d-starves-g", "gan.py", "try 2",
      "discriminator too strong: G's gradient norm falls a hundredfold",
      "median |grad at G| too strong / healthy, 120 iterations", gan_strong_d_starves_g,
      lambda r: r["value"] < 0.01,
      test="tests/test_gan.py::test_vanishing_gradient_preset_starves_the_generator_on_its_target (seeds 1, 2)"),
    L("gan/wgan-gp-fixes-collapse", "gan.py", "try 3", "mode collapse covers 0-1 modes; WGAN-GP most of the 8",
      "modes covered", test="tests/test_gan.py::test_wgan_gp_preset_covers_most_modes... (seeds 1, 2; slow)"),
    # embeddings (other lines: no stated outcome: click a point, upload a table)
    # pretraining
    L("pretraining/pretrained-beats-random-5-labels", "pretraining.py", "intro + try 1",
      "with 5 labels per class the pre-trained network beats the same network from random weights",
      "accuracy pre-trained - random", test="tests/test_pretraining.py::test_stack_pretraining_beats_random_init"
      "_with_five_labels (seeds 0-2 in one run) + ::test_stack_claims_hold_on_other_seeds... (seeds 3-5; slow)"),
    L("pretraining/relu-closes-gap", "pretraining.py", "try 2", "relu: the gap to random initialisation almost closes",
      "gap relu < gap sigmoid", test="tests/test_pretraining.py::test_stack_claims_hold_on_other_seeds_and_relu_"
      "shrinks_the_gap (seeds 3-5; slow)"),
    L("pretraining/gap-shrinks-at-50-labels", "pretraining.py", "try 3",
      "at 50 labels per class the gap shrinks", "gap at 5 labels - gap at 50 (one repeat per seed)",
      pretraining_gap_shrinks_with_labels, lambda r: r["value"] > 0, slow=True),
    L("pretraining/probe-matches-at-few-labels", "pretraining.py", "try 4",
      "linear probe about as good as fine-tuning at 1-5 labels; fine-tuning pulls ahead at 50",
      "fine-tuned - probe at 5 labels (accuracy)", pretraining_probe,
      lambda r: abs(r["value"]) < 0.05 and r["finetune_minus_probe50"] > r["value"], slow=True),
    L("pretraining/rbm-chains-become-digits", "pretraining.py", "try 5", "Gibbs chains from noise become digits",
      "judge", test="tests/test_pretraining.py::test_gibbs_chains_from_noise_become_digits (seeds 0, 1) + "
      "::test_rbm_learns_digits_on_every_seed (0-2)"),
    # domain
    L("domain/source-only-fails-on-target", "domain.py", "try 1-2",
      "source only reads the clean digits and far fewer on the target; a fresh discriminator tells the features apart",
      "source - target accuracy, source only, 300 steps", domain_source_only_fails_on_target,
      lambda r: r["value"] > 0.15 and r["fresh_domain_accuracy"] > 0.9, inputs=("photo", "inverted"), slow=True),
    L("domain/dann-beats-source-only", "domain.py", "try 4", "DANN beats source only on the target",
      "target accuracy gain", test="tests/test_domain.py::test_adversarial_term_beats_source_only_on_fresh_models_"
      "over_three_seeds (seeds 0-2; slow)"),
    L("domain/lambda-too-high-drops-both", "domain.py", "try 6 + preset text",
      "lambda too high: source and target accuracy both drop below source only's (collapse: on some seeds; "
      "inverted: the target, below chance, moves up to about chance)",
      "source accuracy lost against source only, same seed and 300 steps", domain_lambda_too_high,
      lambda r: (r["value"] > 0.05 and (r["target_drop"] > 0 or r["target_accuracy"] < 0.15)   # inverted: ~chance
                 and r["verdict"] != "ok"),
      inputs=("photo", "inverted"), slow=True,
      changed="wording and verdict", note="was 'the features stop carrying the digits ... and the page says so': "
      "the verdict 'collapsed' (source below 60%) came on seed 0 only, and on seeds 1-2 the page said 'Adapted' "
      "(CI caught it); the verdict now compares with source only and says 'no gain' there"),
    # sequences
    L("sequences/markov-orders", "sequences.py", "try 1", "longer contexts help until the data runs out",
      "held-out bits/char", test="tests/test_sequences.py::test_markov_lesson_longer_context_helps_until_the_data_"
      "runs_out (counts: no seed)"),
    L("sequences/vanishing-gradients", "sequences.py", "try 3",
      "untrained, k = 30: tanh's gradient falls by many more orders than the LSTM's; identity ReLU hardly falls",
      "||dL/ds_{T-30}|| / ||dL/ds_T||, identity ReLU", sequences_relu_identity_keeps_gradient,
      lambda r: r["tanh"] < 1e-3 and r["lstm"] > 100 * r["tanh"] and r["value"] > 0.1,
      test="tests/test_sequences.py::test_gradient_vanishes_for_tanh_and_not_for_the_lstm (seeds 0-2) + here"),
    # convolution
    L("convolution/digits-reach-95", "convolution.py", "try 5", "the digits reach 95% test accuracy in a few seconds",
      "test accuracy", test="tests/test_convolution.py::test_the_default_networks_learn_the_digits (seeds 0-2)"),
    L("convolution/shapes-and-transposed", "convolution.py", "try 1-4, 7",
      "the lecture stack's sizes, 15.5, dilation 15 px, transposed = zero-stuffed", "exact numbers",
      test="tests/test_convolution.py (formula and torch agree: no seed)"),
    # style
    L("style/style-loss-falls-tenfold", "style.py", "try 1", "the style loss falls more than tenfold",
      "style-loss drop", test="tests/test_style.py::test_style_loss_drops_tenfold_on_every_ordered_pair_of_six_photos "
      "(30 picture pairs; slow)"),
    L("style/shift-nearer-in-deep-features", "style.py", "try 6 + caption",
      "a 4-px shift: deep features see it as much nearer than a different picture; pixels much less so",
      "ratio shifted / different", test="tests/test_style.py::test_perceptual_lesson_deep_features_see_the_shift_as_"
      "nearer_than_pixels_do (12 ordered pairs; no training, no seed)"),
    L("style/shallow-content-keeps-pixels", "style.py", "layer comparison",
      "content matched at a shallow layer keeps the pixels, at a deep layer much less",
      "pixel MSE", test="tests/test_style.py::test_layer_comparison_runs_with_zero_style_weight... (seeds 0-2)"),
    # documents
    L("documents/autoencoder-2d-beats-lsa-2d", "documents.py", "try 3",
      "LSA's two numbers pile the articles up, the autoencoder's separate them (precision@10)",
      "precision@10", test="tests/test_documents.py::test_two_number_autoencoder_code_beats_two_number_lsa (seeds 0-2)"
      " + ::test_shipped_budget_autoencoder_beats_lsa_on_other_seeds (1, 2; slow)"),
    L("documents/tfidf-matches-words", "documents.py", "try 1-2",
      "TF-IDF finds paragraphs that share the words, misses meaning", "hits",
      test="tests/test_documents.py::test_tfidf_search_shows_shared_words_and_misses_meaning (no seed)"),
    # words
    L("words/reviews-near-majority", "words.py", "try 3",
      "movie reviews: cross-validated accuracy about the majority rate",
      "CV accuracy", test="tests/test_words.py::test_sentiment_sentences_are_reported_near_chance_with_the_caveat "
      "(folds; no seed)"),
    L("words/neighbours-and-overlap", "words.py", "try 4-5",
      "neighbours of moon / water / greek; a second seed finds some of them too", "overlap",
      test="tests/test_words.py::test_what_to_try_neighbours_hold_on_other_seeds (seeds 1, 2; slow)"),
    # multimodal
    L("multimodal/seven-finds-sevens", "multimodal.py", "try 1, 3-5",
      "'seven' finds sevens; 3 - three + seven = sevens; shapes arithmetic keeps size and direction", "top-1",
      test="tests/test_multimodal.py::test_targets_hold_on_other_seeds (digits and shapes, seeds 1, 2; slow)"),
    L("sequences/greedy-loops", "sequences.py", "try 2", "temperature 0 (greedy) loops",
      "period of the repeating tail of 500 greedy characters (both shipped models; 0 = none)", sequences_greedy_loops,
      lambda r: r["loops"], inputs=("the government said ", "a quick brown fox "), seeded=False),
    L("sequences/attention-reverses", "sequences.py", "try 5",
      "after the page's 2,500 steps on 1-10 digits: with attention 86-95% of 10-digit strings come out exactly "
      "reversed and 55-81% of 12-digit ones (an anti-diagonal heat map); without attention 32-64% and 3-12%",
      "exact match at 10 digits (longest trained), attention - no attention (300 strings)",
      sequences_attention_reverses,
      lambda r: (r["att_longest"] >= 0.8 and r["value"] >= 0.15 and r["att_12"] >= r["plain_12"] + 0.3
                 and r["plain_12"] <= 0.25 and r["anti_diagonal"] >= 0.6), slow=True, changed="wording",
      note="was 'reverse a 12-digit string ... without attention, long strings fail', checked on the shipped pair "
           "only; 12 digits is 2 past the trained lengths, where attention reverses 55-81% exactly, not every one. "
           "Seeds 0 / 1 / 2 (attention, no attention): 10 digits 0.86 / 0.89 / 0.95 and 0.40 / 0.64 / 0.32; "
           "12 digits 0.55 / 0.59 / 0.81 and 0.03 / 0.12 / 0.03; mean over 1-10 digits 0.97 / 0.98 / 0.98 and "
           "0.90 / 0.94 / 0.86; anti-diagonal weight 0.85 / 0.85 / 0.94"),
    L("pretraining/free-energy-real-below-shuffled", "pretraining.py", "try 7",
      "real test digits sit far below their shuffled copies in free energy", "share of digits below their copy",
      test="tests/test_pretraining.py::test_rbm_learns_digits_on_every_seed (seeds 0-2)"),
    L("domain/inverted-below-chance", "domain.py", "try 7",
      "inverted target: source only is below chance", "target accuracy, source only, 300 steps",
      lambda seed, inp: {"value": _domain_run(seed, inp, "source-only")["target_accuracy"]},
      lambda r: r["value"] < 0.1, inputs=("inverted",), slow=True,
      note="the shipped DANN's small gain there: shipped only (tests/test_domain.py::test_shipped_networks_hold_the_"
           "lesson)"),
    L("gan/dcgan-digits", "gan.py", "try 6",
      "images: after the page's 800 steps the fixed noise grid has turned into digits (the judge calls about half or "
      "more of the samples digits, none at the start)",
      "judge: share of samples called digits after 800 steps (0 at step 0)", gan_images_become_digits,
      lambda r: r["start"] == 0.0 and r["value"] >= 0.35, inputs=("conditional", "dcgan"), slow=True,
      changed="wording",
      note="was 'train the DCGAN for 20 seconds': the page's budget is 800 steps (10.5 s conditional, 9.4 s DCGAN "
           "on one thread of the idle 2-core machine); measured 7 Dec 2026, conditional "
           "0.75 / 0.78 / 0.59, DCGAN 0.64 / 0.48 / 0.47 (seeds 0, 1, 2)"),
    L("style/stem-only-colours", "style.py", "try 4",
      "only the stem layer for style: its own (fine-grain) Gram error falls 6-21x; of what all four layers remove "
      "from the deeper layers' errors (12-42x) it removes at most 8% (no larger strokes); from the content picture "
      "as it is, the stem alone moves the colour means to the style's",
      "share of the deeper layers' (stage2-4) Gram error removed by stem only, as a fraction of what all four "
      "layers remove (0 = none)", style_stem_only,
      lambda r: (r["value"] < 0.2 and r["stem_fall_stem_only"] > 2 and r["deep_fall_all"] > 5
                 and r["colour_gap_stem_from_content"] < 0.6 * r["colour_gap_content"]),
      inputs=("cat / brush strokes", "astronaut / stained glass", "china / flower"), seeded=False, slow=True,
      changed="wording", note="was 'only colours and fine grain transfer, no larger strokes' with no number; "
      "at the default start the colours are the style's before the first step (the start is the recoloured "
      "content), so the colour half is shown from the content picture as it is. Pairs cat / astronaut / china: "
      "stem error fall 6.5 / 20.7 / 7.8x (all four layers: 2.9 / 6.7 / 1.6x); stage2-4 errors, start / result "
      "(mean of the three): stem only 0.96 / 0.91 / 1.08, all four 42 / 13 / 12; mean-RGB gap from the content "
      "picture 0.37 to 0.02 / 0.03 to 0.02 / 0.56 to 0.13. Seeds 0, 1, 2: the same pictures bit for bit"),
]

BY_ID = {l.id: l for l in LESSONS}


def cases(lesson: Lesson, seeds=(1, 2)) -> list[tuple[int, str]]:
    """What the tests check: the default input on `seeds`, and the other input (if any) on seed 0 (every input on
    seed 0 alone when nothing is random)."""
    if not lesson.seeded:
        return [(0, inp) for inp in lesson.inputs]
    out = [(s, lesson.inputs[0]) for s in seeds]
    out += [(0, inp) for inp in lesson.inputs[1:]]
    return out


# -- the table ------------------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    if isinstance(v, bool):
        return str(v)
    v = float(v)
    return f"{v:.0f}" if v == int(v) and abs(v) >= 1 else (f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}")


def run(ids=None, seeds=(0, 1, 2), out: Path = RESULTS) -> dict:
    old = json.loads(out.read_text()) if out.exists() else {}
    res = dict(old)
    for l in LESSONS:
        if l.measure is None or (ids and not any(l.id.startswith(i) for i in ids)):
            continue
        rows = []
        for seed in seeds:
            if not l.seeded and seed != seeds[0]:
                continue
            for inp in (l.inputs if seed == seeds[0] else l.inputs[:1]):
                t = time.perf_counter()
                try:
                    r = l.measure(seed, inp)
                except Exception as e:      # keep measuring the others; the row says what went wrong
                    r = {"value": float("nan"), "error": f"{type(e).__name__}: {e}"}
                r = {k: (float(v) if isinstance(v, (np.floating, np.integer)) else v) for k, v in r.items()}
                rows.append({"seed": seed, "input": inp, "holds": "error" not in r and bool(l.holds(r)),
                             "seconds": time.perf_counter() - t,
                             **r})
                print(f"{l.id} seed {seed} {inp}: {_fmt(r['value'])} holds={rows[-1]['holds']} "
                      f"({rows[-1]['seconds']:.1f} s)", flush=True)
        res[l.id] = rows
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=1, default=str))
    return res


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def table(res: dict) -> str:
    lines = ["| Lesson (page: where) | Claim | Checked by (seeds, inputs) | Number | min / median / max over seeds "
             "(default input) | other input | Holds | Changed |",
             "|---|---|---|---|---|---|---|---|"]
    for l in LESSONS:
        rows = res.get(l.id, [])
        base = [r for r in rows if r["input"] == l.inputs[0]]
        other = [r for r in rows if r["input"] != l.inputs[0]]
        if base:
            vals = [r["value"] for r in base]
            spread = f"{_fmt(min(vals))} / {_fmt(statistics.median(vals))} / {_fmt(max(vals))} (seeds " + \
                     ", ".join(str(r["seed"]) for r in base) + ")" if l.seeded else f"{_fmt(vals[0])} (no seed)"
            oth = "; ".join(f"{r['input']}: {_fmt(r['value'])}" for r in other) or "n/a"
            ok = "yes" if all(r["holds"] for r in rows) else \
                f"{sum(r['holds'] for r in rows)} of {len(rows)}"
        elif l.test.startswith("not checked"):
            spread, oth, ok = "not measured", "", "not checked"
        else:
            spread, oth, ok = "see the test", "", "in its test"
        if l.measure is None:
            check = l.test
        elif not l.seeded:
            check = f"{l.test}, inputs " + ", ".join(repr(i) for i in l.inputs) + " (nothing random)"
        else:
            check = f"{l.test}, seeds 1, 2" + (f"; seed 0 on {', '.join(l.inputs[1:])}" if len(l.inputs) > 1 else "") \
                + (" (slow)" if l.slow else "")
        note = l.changed + (f": {l.note}" if l.note and l.changed != "-" else "")
        if l.note and l.changed == "-":
            note = f"- ({l.note})"
        lines.append("| " + " | ".join(_cell(c) for c in (f"`{l.id}` ({l.page}: {l.where})", l.claim, check, l.metric,
                                                          spread, oth, ok, note)) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", help="lesson id prefixes (e.g. autoencoders/ vae/beta4)")
    p.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    p.add_argument("--table", action="store_true", help="only print the table from the saved results")
    a = p.parse_args(argv)
    res = json.loads(RESULTS.read_text()) if a.table else run(a.only, tuple(a.seeds))
    print(table(res))


if __name__ == "__main__":
    main()
