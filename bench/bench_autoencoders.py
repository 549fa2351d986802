"""Autoencoder Lab rows: the issue's measured claims (deep vs PCA, linear = PCA's subspace, sparse, denoising) and
the engine's training throughput against a bare PyTorch loop of the same model and batch."""

from __future__ import annotations

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
    task = ae.AutoencoderTask(ds, "deep", 8, device="cpu")
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


def rows(quick: bool) -> list[dict]:
    ds = data.load("digits")
    secs = 3.0 if quick else 10.0
    out = [_throughput(ds, quick)]

    pca8 = ae.PCABaseline(ds, 8).test_mse(ds.x_test)
    task = ae.AutoencoderTask(ds, "deep", 8, device="cpu")
    tr = Trainer(task, record_every=50).run(seconds=secs)
    deep8 = tr.last_eval["test_mse"]
    bare_loop = _BareLoop(ds)
    bare_loop.run(seconds=secs)
    bare_model = bare_loop.model
    out.append({"what": f"deep AE, code 8, digits, {secs:g} s: test MSE", "dlplay": deep8, "baseline": pca8,
                "baseline_name": "PCA, 8 components", "unit": "MSE/pixel",
                "note": f"{tr.steps} steps; same {secs:g} s in a bare loop: "
                        f"{ae.mse(ae.reconstruct(bare_model, ds.x_test), ds.x_test) / pca8:.2f}x PCA; goal <= 0.8x"})

    lin = ae.AutoencoderTask(ds, "linear", 8, device="cpu")
    Trainer(lin).run(seconds=secs)
    out.append({"what": f"linear AE, code 8, {secs:g} s: largest principal angle to PCA's subspace",
                "dlplay": ae.subspace_angle(lin.model, ae.PCABaseline(ds, 8)), "unit": "degrees",
                "note": "goal < 10"})

    deep16 = ae.AutoencoderTask(ds, "deep", 16, device="cpu")
    Trainer(deep16, record_every=50).run(seconds=secs)
    sparse = ae.AutoencoderTask(ds, "sparse", 16, device="cpu")
    Trainer(sparse, record_every=50).run(seconds=secs)
    e_d, e_s = deep16.evaluate(), sparse.evaluate()
    out.append({"what": f"sparse AE, code 16, L1 {sparse.weight}, {secs:g} s: code sparsity",
                "dlplay": e_s["code_sparsity"], "baseline": e_d["code_sparsity"], "baseline_name": "deep AE, code 16",
                "unit": "share |z|<0.01", "note": f"test MSE {e_s['test_mse']:.4f} vs deep {e_d['test_mse']:.4f} "
                                                  f"({e_s['test_mse'] / e_d['test_mse']:.2f}x; goal <= 1.5x)"})

    for noise in ae.NOISE_KINDS:
        dn = ae.AutoencoderTask(ds, "denoising", 8, noise=noise, device="cpu")
        Trainer(dn, record_every=50).run(seconds=secs)
        e = dn.evaluate()
        out.append({"what": f"denoising AE ({noise}, level {dn.weight}), {secs:g} s: PSNR on noisy test images",
                    "dlplay": e["psnr_denoised"], "baseline": e["psnr_noisy"], "baseline_name": "noisy input",
                    "unit": "dB", "note": f"gain {e['psnr_denoised'] - e['psnr_noisy']:+.1f} dB; goal >= +3 dB"})
    return out
