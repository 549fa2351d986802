"""Autoencoder Lab rows: every claim the page makes, each on a comparison that changes one thing (deep vs PCA,
linear = PCA's subspace, the L1 penalty on the same ReLU code, code dropout, L1 on the weights, tied weights, the
perceptual loss, 2-D codes, search by code vs pixels), and the engine's training throughput against a bare PyTorch
loop of the same model and batch. Step budgets throughout: the same models on a busy machine as on an idle one."""

from __future__ import annotations

from bench import bench_device

import time

import torch
from torch.nn import functional as F

from dlplay import autoencoders as ae
from dlplay import data
from dlplay.train import Trainer


class _BareLoop:
    """What one would write without dlplay: the same model, Adam and minibatches, in a plain loop."""

    def __init__(self, ds, seed: int = 0, batch_size: int = 64):
        torch.manual_seed(seed)
        self.model = ae.build_model("deep", ds.image_shape, 8)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=2e-3)
        self.x, self.batch_size = ds.x_train, batch_size
        self.perm, self.pos = torch.randperm(len(self.x)), 0

    def run(self, seconds: float | None = None, steps: int | None = None) -> tuple[int, float]:
        taken, t0, bs = 0, time.perf_counter(), self.batch_size
        while (steps is None or taken < steps) and (seconds is None or time.perf_counter() - t0 < seconds):
            if self.pos + bs > len(self.x):
                self.perm, self.pos = torch.randperm(len(self.x)), 0
            xb = self.x[self.perm[self.pos:self.pos + bs]]
            self.pos += bs
            loss = F.mse_loss(self.model(xb), xb)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            taken += 1
        return taken, time.perf_counter() - t0


def _throughput(ds, quick: bool) -> dict:
    """Alternate chunks of engine and bare-loop steps (the machine's load changes over time) and sum them."""
    n, rounds = (200, 3) if quick else (1000, 5)
    task = ae.make_task(ae.AutoencoderConfig(variant="deep", code_size=8), device=bench_device())
    tr = Trainer(task, record_every=20)
    bare_loop = _BareLoop(ds)
    tr.run(steps=50, evaluate=False)
    bare_loop.run(steps=50)
    eng = bare = 0.0  # both models advance chunk by chunk, so both sides train equally far (same weights' regime)
    for _ in range(rounds):
        t0 = time.perf_counter()
        tr.run(steps=n, evaluate=False)
        eng += time.perf_counter() - t0
        bare += bare_loop.run(steps=n)[1]
    return {"what": "training throughput, deep AE 64-128-64-8, batch 64 (digits)", "dlplay": n * rounds / eng,
            "baseline": n * rounds / bare, "baseline_name": "bare PyTorch loop", "unit": "steps/s",
            "note": f"{rounds} alternating chunks of {n} steps each; goal ratio >= 0.9"}


def _train(steps: int, seed: int = 0, **kw):
    task = ae.make_task(ae.AutoencoderConfig(**kw), seed, device=bench_device())
    Trainer(task, record_every=100).run(steps=steps)
    return task


def rows(quick: bool) -> list[dict]:
    ds = data.load("digits")
    n = 1000 if quick else 4000
    out = [_throughput(ds, quick)]

    pca8 = ae.PCABaseline(ds, 8)
    deep8 = _train(n, variant="deep", code_size=8).evaluate()["test_mse"]
    out.append({"what": f"deep AE, code 8, {n} steps: test MSE", "dlplay": deep8, "baseline": pca8.test_mse(ds.x_test),
                "baseline_name": "PCA, 8 components", "unit": "MSE/pixel", "note": "goal <= 0.8x"})

    for tied in (False, True):
        lin = _train(n, variant="linear", code_size=8, tied=tied)
        out.append({"what": f"linear AE{' (tied)' if tied else ''}, code 8, {n} steps: largest principal angle to "
                            "PCA's subspace", "dlplay": ae.subspace_angle(lin.model, pca8), "unit": "degrees",
                    "note": f"{ae.parameter_count(lin.model)} parameters; goal < {2 if tied else 5}"})

    sp = {w: _train(n, variant="sparse", code_size=16, weight=w) for w in (0.0, ae.VARIANTS["sparse"].knob_default)}
    (w0, e0), (w1, e1) = [(w, t.evaluate()) for w, t in sp.items()]
    out.append({"what": f"sparse AE (ReLU code 16), L1 {w1} vs 0, {n} steps: share of code numbers exactly 0",
                "dlplay": e1["zero_share"], "baseline": e0["zero_share"], "baseline_name": "same network, L1 = 0",
                "unit": "share", "note": f"non-zero per image {e1['active_per_image']:.1f} vs {e0['active_per_image']:.1f}, "
                                         f"unused units {e1['dead_units']:.0f} vs {e0['dead_units']:.0f}; test MSE "
                                         f"{e1['test_mse'] / e0['test_mse']:.2f}x"})

    plain, red = _train(n, variant="deep", code_size=16), _train(n, variant="redundant", code_size=16)
    kp, kr = (ae.knockout_curve(t.model, ds, [0, 4]) for t in (plain, red))
    out.append({"what": f"redundant AE (code dropout 0.25) vs plain, code 16, {n} steps: test MSE rise with 4 of 16 "
                        "code numbers zeroed", "dlplay": kr[4] / kr[0], "baseline": kp[4] / kp[0],
                "baseline_name": "plain deep AE", "unit": "x full-code MSE", "note": "goal <= 1.5x vs >= 3x"})

    wl = {mu: _train(n, variant="deep", code_size=8, weight_l1=mu) for mu in (0.0, 0.1)}
    z0, z1 = (ae.weight_zero_fraction(t.model) for t in wl.values())
    m0, m1 = (t.evaluate()["test_mse"] for t in wl.values())
    out.append({"what": f"L1 on the first layer (mu 0.1, soft threshold), deep AE, {n} steps: its weights exactly 0",
                "dlplay": z1, "baseline": z0, "baseline_name": "no penalty", "unit": "share",
                "note": f"test MSE {m1 / m0:.2f}x; goal >= 0.3 vs < 0.01 within 1.3x"})

    pix, per = _train(n, variant="deep", code_size=2), _train(n, variant="deep", code_size=2, loss="perceptual")
    out.append({"what": f"perceptual vs pixel loss, code 2, {n} steps: reconstructions the classifier recognises",
                "dlplay": ae.recognition_rate(per.model, ds), "baseline": ae.recognition_rate(pix.model, ds),
                "baseline_name": "pixel MSE", "unit": "share", "note": "goal >= +0.05"})
    pca2 = ae.PCABaseline(ds, 2)
    out.append({"what": f"deep AE 2-D code vs PCA 2-D, {n} steps: 5-NN accuracy on test codes",
                "dlplay": ae.knn_accuracy(ae.train_codes(pix.model, ds), ds.y_train, ae.encode(pix.model, ds.x_test),
                                          ds.y_test),
                "baseline": ae.knn_accuracy(pca2.encode(ds.x_train), ds.y_train, pca2.encode(ds.x_test), ds.y_test),
                "baseline_name": "PCA, 2 components", "unit": "accuracy", "note": "goal >= +0.15"})

    stride, pool = _train(n, variant="conv"), _train(n, variant="conv_pool")
    e_pool = pool.evaluate()
    out.append({"what": f"max-pooling + unpooling vs stride-2 conv AE, code 8, {n} steps: test MSE",
                "dlplay": e_pool["test_mse"], "baseline": stride.evaluate()["test_mse"], "baseline_name": "stride 2",
                "unit": "MSE/pixel", "note": f"from the code alone (no switches): {e_pool['test_mse_without_switches']:.4f}; "
                                             "goal <= 1.2x"})

    deep = _train(n, variant="deep", code_size=8)
    for kind, t in ae.search_table(deep.model, ds).items():
        out.append({"what": f"search by code (deep AE, code 8) vs pixels, {kind} queries: label agreement of 8 NN",
                    "dlplay": t["code"], "baseline": t["pixel"], "baseline_name": "pixels", "unit": "share",
                    "note": f"index {t['code_bytes']} vs {t['pixel_bytes']} bytes per image"})

    for noise in ae.NOISE_KINDS:
        e = _train(n, variant="denoising", code_size=8, noise=noise).evaluate()
        out.append({"what": f"denoising AE ({noise}, level {ae.VARIANTS['denoising'].knob_default}), {n} steps: PSNR "
                            "on noisy test images", "dlplay": e["psnr_denoised"], "baseline": e["psnr_noisy"],
                    "baseline_name": "noisy input", "unit": "dB",
                    "note": f"gain {e['psnr_denoised'] - e['psnr_noisy']:+.1f} dB; goal >= +3 dB"})
    return out
