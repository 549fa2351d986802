"""Before end-to-end: how deep networks were first made to train. Greedy layer-wise pre-training, the restricted
Boltzmann machine (RBM) trained with contrastive divergence, and the deep belief net unrolled into an autoencoder.

**Greedy layer-wise pre-training** (Bengio et al. 2007; Hinton & Salakhutdinov 2006). Train a shallow autoencoder
x -> h1 -> x on the pixels; freeze it, train the next one h1 -> h2 -> h1 on its codes; and so on. The encoders,
stacked, initialise a deep network; a softmax head goes on top and everything is fine-tuned with the few labels
there are. `StackConfig` compares that with the same network from random initialisation (same labels, same
fine-tuning steps) and with the pre-trained features frozen (a linear probe: only the head learns).

**The RBM** (Smolensky 1986; Hinton 2002), binary visible units v (pixels) and hidden units h:

    E(v, h) = -b'v - c'h - v'W h                                   (the energy; p(v, h) = exp(-E) / Z)
    p(h_j = 1 | v) = sigmoid(c_j + v'W_:j)                         (hidden units independent given v)
    p(v_i = 1 | h) = sigmoid(b_i + W_i: h)                         (visible units independent given h)
    F(v) = -log sum_h exp(-E(v, h)) = -b'v - sum_j softplus(c_j + v'W_:j)       (the free energy; p(v) ~ exp(-F))

The log-likelihood gradient is <v h'>_data - <v h'>_model. Contrastive divergence CD-k (Hinton 2002) replaces the
model expectation by k steps of Gibbs sampling started at the data: v0 -> h0 -> v1 -> h1 -> ... -> vk, and

    dW = <v0 p(h|v0)'> - <vk p(h|vk)'>,   db = <v0 - vk>,   dc = <p(h|v0) - p(h|vk)>

**The deep belief net** (Hinton, Osindero & Teh 2006): RBMs stacked greedily (each trained on the hidden
probabilities of the one below), then unrolled into an autoencoder (the encoder uses W, the decoder W') and
fine-tuned end to end on the reconstruction error; seed 002's 784-1000-500-250-30 recipe, scaled to 8x8 digits.
`DBNConfig` compares it with the same autoencoder from random initialisation at the same total number of steps.

**Reusing another network's weights** (today's pre-training): `BackboneConfig` puts the project's offline ImageNet
network (EfficientNet-Lite0) on upsampled digits, frozen (a linear head on its features) against fine-tuned (its top
block learns too), same labels, same start, same steps.

    from dlplay import pretraining as pt
    task = pt.make_task(pt.RBMConfig(hidden=64, k=1), seed=0)
    Trainer(task).run(steps=2000)
    pt.free_energy_test(task.model, data.load("digits"))      # real digits below their shuffled copies?

The package: configs.py (run settings, bounds), rbm.py (the RBM, CD-k, free energy, Gibbs chains), models.py (the
networks, what each comparison holds, the checkpoint builder), training.py (the RBM task and the plan tasks: greedy
stack, DBN), backbone.py (frozen against fine-tuned ImageNet network), figures.py (plotly); here make_task, the
shipped checkpoints, the label-count curves, pretrain, load and the CLI.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import torch

from .. import checkpoints
from ..data import ImageData
from ..errors import InputError
from ..topics import Shipped
from ..train import Task, Trainer
from .backbone import SPLIT_LAYER, BackboneConfig, BackboneTask, BackboneTop, backbone_maps, test_maps
from .configs import (ACTIVATIONS, DATASETS, LABEL_CHOICES, MAX_K, MAX_LABELS_PER_CLASS, MAX_LAYERS, MAX_WIDTH,
                      DBNConfig, PretrainingConfig, RBMConfig, StackConfig, _data)
from .figures import accuracy_figure, backbone_figure, chain_figure, free_energy_figure, mse_bars
from .models import (BACKBONE_METHODS, BACKBONE_NAMES, DBN_METHODS, DBN_NAMES, STACK_METHODS, STACK_NAMES, Compared,
                     DeepAE, StackNet, build_model)
from .rbm import (RBM, bernoulli, binarise, cd_k, filters, free_energies, free_energy_test, gibbs_chain,
                  judge_samples, reconstruct, reconstruction_error, shuffled_pixels)
from .training import DBNTask, PlanTask, RBMTask, StackTask, labelled_subset, pretrain_layer, summarise

TITLE = "Before end-to-end: pre-training, the RBM, the deep belief net and reusing an ImageNet network"
BUILDER = "dlplay.pretraining:build_model"


def make_task(config: PretrainingConfig, seed: int = 0, device=None) -> Task:
    """A fresh task for any of this topic's configs: RBMConfig, StackConfig, DBNConfig or BackboneConfig (checked
    first)."""
    config.check()
    for cls, task in ((RBMConfig, RBMTask), (StackConfig, StackTask), (DBNConfig, DBNTask),
                      (BackboneConfig, BackboneTask)):
        if isinstance(config, cls):
            return task(config, seed, device)
    raise InputError(f"{type(config).__name__} is not a configuration of the pre-training page.")


# -- shipped checkpoints, comparisons over label counts, CLI -------------------------------------------------------
SHIPPED: dict[str, Shipped] = {
    "rbm_digits": Shipped("rbm_digits", "digits", RBMConfig(), 4000),
    "pretrain_stack_digits": Shipped("pretrain_stack_digits", "digits", StackConfig(), 0),
    "dbn_digits": Shipped("dbn_digits", "digits", DBNConfig(), 0),
    "backbone_digits": Shipped("backbone_digits", "digits", BackboneConfig(), 0),
}
BACKBONE_LABELS = (5, 50)
EXAMPLE = StackConfig(sizes=(16, 8), pretrain_steps=2, finetune_steps=2, seeds=1)   # small, for the contract tests


def run_to_end(config: PretrainingConfig, seed: int = 0, device=None) -> PlanTask:
    """Run a comparison task's planned repeats (config.seeds of them, a step budget) and return the task."""
    task = make_task(config, seed, device)
    Trainer(task, record_every=100).run(steps=task.total_steps)
    assert task.finished
    return task


def label_curve(config: StackConfig, labels=LABEL_CHOICES, seed: int = 0, device=None) -> dict[int, StackTask]:
    """The comparison at several label counts (one full StackTask each): {labels per class: finished task}."""
    return {n: run_to_end(config.replace(labels_per_class=n), seed, device) for n in labels}


def pca_mse(data: ImageData, k: int) -> float:
    from sklearn.decomposition import PCA

    flat = data.x_train.flatten(1).numpy()
    pca = PCA(n_components=min(k, *flat.shape), random_state=0).fit(flat)
    test = data.x_test.flatten(1).numpy()
    return float(np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2))


def pretrain(out_dir=None, names=None) -> dict:
    """Re-create the shipped files on the CPU with step budgets: the RBM; the stack comparison (its curve over all
    label counts is stored with the weights of the last run); the DBN comparison."""
    from ..topics import save_checkpoint

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    results = {}
    for name, sh in SHIPPED.items():
        if names and name not in names:
            continue
        if isinstance(sh.config, RBMConfig):
            task = make_task(sh.config, sh.seed, device="cpu")
            Trainer(task, record_every=100).run(steps=sh.steps)
            ev = task.evaluate()
            extra = {"config": sh.config.as_dict(), "steps": sh.steps, **ev}
            ship = task
        elif isinstance(sh.config, StackConfig):
            tasks = label_curve(sh.config, seed=sh.seed, device="cpu")
            curve = {str(n): t.evaluate() for n, t in tasks.items()}
            ev = curve[str(sh.config.labels_per_class)]
            extra = {"config": sh.config.as_dict(), "curve": curve}
            ship = tasks[sh.config.labels_per_class]
        elif isinstance(sh.config, BackboneConfig):   # only the two new heads are stored; the curve is the point
            tasks = {n: run_to_end(sh.config.replace(labels_per_class=n), sh.seed, "cpu") for n in BACKBONE_LABELS}
            curve = {str(n): t.evaluate() for n, t in tasks.items()}
            ev = curve[str(sh.config.labels_per_class)]
            extra = {"config": sh.config.as_dict(), "curve": curve}
            ship = tasks[sh.config.labels_per_class]
        else:
            task = run_to_end(sh.config, sh.seed, device="cpu")
            ev = task.evaluate()
            extra = {"config": sh.config.as_dict(), **ev, "pca_mse": pca_mse(_data(sh.dataset), sh.config.sizes[-1])}
            ship = task
        ship.model = copy.deepcopy(ship.model).half()   # half precision: the files stay small
        save_checkpoint(out_dir / f"{name}.pt", _Module, ship, extra)
        results[name] = {k: round(float(v), 4) for k, v in ev.items()}
    return results


class _Module:
    BUILDER = BUILDER


def load(name_or_source):
    """(model in float32 on the CPU, config, extra) of a shipped name or a checkpoint's bytes/path."""
    src = checkpoints.shipped(name_or_source) if isinstance(name_or_source, str) and name_or_source in SHIPPED \
        else name_or_source
    model, cfg, extra = checkpoints.load(src, expect_builder=BUILDER)
    return model.float(), cfg, extra


def cli_args(command, parser) -> None:
    parser.add_argument("--seconds", type=float, default=None,
                        help="rbm: a time budget (default 10); the comparisons run their whole plan")
    parser.add_argument("--steps", type=int, default=None, help="rbm: a step budget instead")
    if command == "train rbm":
        parser.add_argument("--k", type=int, default=1, help="Gibbs steps per CD update (1..%d)" % MAX_K)
        parser.add_argument("--hidden", type=int, default=64)
        parser.add_argument("--lr", type=float, default=RBMConfig.lr)
        parser.add_argument("--gibbs-steps", type=int, default=1000, help="length of the sampling chains judged")
    else:
        parser.add_argument("--sizes", default="128,64,32", help="hidden layer sizes, bottom to top")
        parser.add_argument("--activation", default="sigmoid", choices=ACTIVATIONS)
        parser.add_argument("--labels-per-class", type=int, default=5)
        parser.add_argument("--pretrain-steps", type=int, default=StackConfig.pretrain_steps)
        parser.add_argument("--finetune-steps", type=int, default=StackConfig.finetune_steps)
        parser.add_argument("--seeds", type=int, default=3, help="repeats (seed, seed+1, ...): mean and std")


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in str(text).replace(" ", "").split(",") if s)
    except ValueError:
        raise InputError(f"Layer sizes must be whole numbers separated by commas, like 128,64,32 (not {text!r}).") \
            from None


def cli_run(command, args) -> dict:
    if command == "train rbm":
        cfg = RBMConfig(hidden=args.hidden, k=args.k, lr=args.lr).check()
        task = make_task(cfg, args.seed, device=args.device)
        start = reconstruction_error(task.model, task.v_test)
        tr = Trainer(task, record_every=50).run(steps=args.steps,
                                                seconds=None if args.steps else (args.seconds or 10.0))
        steps, frames = gibbs_chain(task.model, 100, args.gibbs_steps, torch.Generator().manual_seed(args.seed))
        out = {"k": cfg.k, "hidden": cfg.hidden, "steps": tr.steps, "seconds": round(tr.seconds, 3),
               "recon_error_start": start, "recon_error_end": tr.last_eval["recon_error"],
               "recon_error_drop": 1 - tr.last_eval["recon_error"] / start,
               "free_energy_real_below_shuffled": tr.last_eval["free_energy_real_below_shuffled"],
               "gibbs_steps": args.gibbs_steps, "gibbs_samples_judged_digits": judge_samples(frames[-1])}
    else:
        cfg = StackConfig(sizes=_sizes(args.sizes), activation=args.activation,
                          labels_per_class=args.labels_per_class, pretrain_steps=args.pretrain_steps,
                          finetune_steps=args.finetune_steps, seeds=args.seeds).check()
        t0 = time.perf_counter()
        task = run_to_end(cfg, args.seed, device=args.device)
        ev = task.evaluate()
        out = {**{k: v for k, v in cfg.as_dict().items() if k != "sizes"}, "sizes": ",".join(map(str, cfg.sizes)),
               "seconds": round(time.perf_counter() - t0, 3), "seeds_run": list(range(args.seed, args.seed + cfg.seeds)),
               **{f"accuracy_{m}": ev[m] for m in STACK_METHODS},
               **{f"accuracy_{m}_std": ev[f"{m}_std"] for m in STACK_METHODS}}
    if args.out:
        from ..topics import save_checkpoint
        save_checkpoint(args.out, _Module, task, {"config": cfg.as_dict()})
    return out
