"""The variational autoencoder (Kingma & Welling 2014) and the plain autoencoder it becomes without its noise and
its prior: an encoder q(z|x), a decoder p(x|z), trained on the evidence lower bound (ELBO); what its latent space
looks like (the manifold, posteriors, interpolation, samples judged by a classifier) and the beta trade-off
(posterior collapse as the KL term's weight grows).

    from dlplay import vae
    task = vae.make_task(vae.VAEConfig(latent=2, beta=1.0), seed=0)
    Trainer(task).run(steps=3000)
    vae.manifold(task.model, n=15)      # images decoded over the prior's quantiles

The package:
    model.py     the network (VAE, build_model), the reparameterisation trick, the KL term and the ELBO (K&W eqs.)
    training.py  VAEConfig, VAETask (and make_task), PairTask: a VAE and its plain-AE twin on the same batches
    latent.py    posterior means, decoding, the manifold grid, random codes, interpolation, sample quality
    beta.py      the beta sweep: active units, the sweep task, its table, the shipped table
    figures.py   plotly figures: the manifold, the encoder's posteriors, the beta trade-off
    __init__.py  (here) checkpoints, the shipped models, pretraining and the CLI
"""

from __future__ import annotations

import copy

from .. import checkpoints
from ..topics import Shipped
from ..train import Trainer
from .beta import (ACTIVE_THRESHOLD, BETA_SWEEP_STEPS, BETA_TABLE_FILE, BETA_TABLE_LATENT, BETAS, BetaSweepTask,
                   active_units, beta_sweep, beta_table, collapsed, make_beta_sweep_task, pretrain_beta_table,
                   shipped_beta_table)
from .figures import beta_figure, encoder_figure, manifold_figure
from .latent import decode_np, encode_means, interpolate, manifold, prior_grid, random_codes, sample_quality
from .model import (ARCHS, BETA_RANGE, BUILDER, HIDDEN_RANGE, LATENT_RANGE, VAE, build_model, kl_to_prior,
                    loss_terms, recon_nll, reparameterise)
from .training import TITLE, PairTask, VAEConfig, VAETask, default_arch, make_pair_task, make_task

__all__ = ["ACTIVE_THRESHOLD", "ARCHS", "BETAS", "BETA_RANGE", "BETA_SWEEP_STEPS", "BETA_TABLE_FILE",
           "BETA_TABLE_LATENT", "BUILDER", "HIDDEN_RANGE", "LATENT_RANGE", "SHIPPED", "TITLE", "VAE", "BetaSweepTask",
           "PairTask", "VAEConfig", "VAETask", "active_units", "beta_figure", "beta_sweep", "beta_table",
           "build_model", "cli_args", "cli_run", "collapsed", "decode_np", "default_arch", "encode_means",
           "encoder_figure", "interpolate", "kl_to_prior", "load", "loss_terms", "make_beta_sweep_task",
           "make_pair_task", "make_task", "manifold", "manifold_figure", "pretrain", "pretrain_beta_table",
           "prior_grid", "random_codes", "recon_nll", "reparameterise", "sample_quality", "save",
           "shipped_beta_table"]


# -- checkpoints, pretraining and the CLI ---------------------------------------------------------------------------
def save(path_or_buffer, task: VAETask, extra: dict | None = None) -> None:
    checkpoints.save(path_or_buffer, task.model, task.config, BUILDER, {**task.extra(), **(extra or {})})


def load(source) -> tuple[VAE, dict, dict]:
    return checkpoints.load(source, expect_builder=BUILDER)


SHIPPED = {name: Shipped(name, "digits", VAEConfig(latent=z, variational=v), 3000)
           for name, z, v in [("vae_digits", 2, True), ("ae_digits", 2, False),
                              ("vae_digits_z16", 16, True), ("ae_digits_z16", 16, False)]}


def pretrain(out_dir=None, seed: int = 0) -> dict:
    """Re-create the shipped checkpoints: 2-D and 16-D latent VAEs on digits and the matching plain AEs."""
    from pathlib import Path

    from ..data import load as load_data

    out = {}
    for name, sh in SHIPPED.items():
        task = make_task(sh.config, seed, device="cpu")
        Trainer(task, record_every=100).run(steps=sh.steps)
        save(Path(out_dir or checkpoints.SHIPPED_DIR) / f"{name}.pt", task, {"steps": sh.steps})
        ev = task.evaluate()
        out[name] = {k: round(v, 3) for k, v in ev.items()}
    table = pretrain_beta_table(out_dir, seed)
    out["vae_beta_sweep"] = {f"beta {r['beta']:g}": {k: r[k] for k in ("active_units", "sampled_digits", "test_kl")}
                             for r in table["rows"]}
    return out


def cli_args(command, parser) -> None:
    parser.add_argument("--dataset", default="digits", help="digits (default), rotations, shapes, mnist, ...")
    parser.add_argument("--latent", type=int, default=2, help="latent size, 2 to 32")
    parser.add_argument("--beta", type=float, default=1.0, help="weight of the KL term (1 = the VAE)")
    parser.add_argument("--arch", choices=ARCHS, default=None, help="mlp or conv (default: mlp for 8x8, conv above)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--ae", action="store_true", help="train the plain autoencoder (no noise, no KL) instead")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--steps", type=int, default=None, help="step budget (with --seconds, whichever first)")
    parser.add_argument("--judge", action="store_true",
                        help="also report how many of 500 prior samples the digit classifier accepts")


def cli_run(command, args) -> dict:
    from ..data import load as load_data

    ds = load_data(args.dataset)
    task = VAETask(ds, latent=args.latent, beta=args.beta, arch=args.arch or default_arch(ds), hidden=args.hidden,
                   variational=not args.ae, seed=args.seed, device=args.device)
    start = task.evaluate()
    tr = Trainer(task, record_every=50).run(steps=args.steps, seconds=args.seconds)
    out = {"dataset": args.dataset, "model": "ae" if args.ae else "vae", "latent": args.latent, "beta": args.beta,
           "steps": tr.steps, "seconds": round(tr.seconds, 3), **tr.last_eval}
    if "test_elbo" in start:
        out["test_elbo_at_init"] = start["test_elbo"]
    if args.judge and ds.image_shape == (1, 8, 8):
        from ..classifier import load_judge

        codes = None if not args.ae else encode_means(task.model, ds.x_test)[0]
        q = sample_quality(copy.deepcopy(task.model).cpu(), load_judge(), 500, args.seed, codes)  # a copy: the
        # task's own model stays on its device (save() below evaluates it there)
        out.update({f"judge_{k}": v for k, v in q.items()})
    if args.out:
        save(args.out, task, {"steps": tr.steps})
    return out
