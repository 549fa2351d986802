"""Adversarial domain adaptation: learn on clean digits (labelled), work on digits in the wild (unlabelled).

A network trained on one domain (the source) reads another (the target) badly; DANN (Ganin et al. 2016) adds a
domain discriminator on the features and trains the features to fool it, so they stop carrying the domain. The
page compares source only, the alternating game of the course notes and the gradient reversal layer on the same
data, batches and step budget, and asks whether a fresh discriminator can still tell the domains apart.

    from dlplay import domain
    task = domain.make_task(domain.DomainConfig(target="photo", method="grl"), seed=0)
    Trainer(task).run(steps=1500)
    task.evaluate()   # source_accuracy, target_accuracy, domain_accuracy (a fresh discriminator, held out)

The package:
    datasets.py  the two domains: clean digits, and the same set inverted or over photo textures (MNIST-M style)
    network.py   DANN's network (features G_f, label classifier G_y, discriminator G_d), the gradient reversal layer
    training.py  DomainConfig, the three methods' objectives and lambda's schedule, DomainTask, make_task
    measures.py  accuracies, the quiz (a fresh discriminator), the verdict, the t-SNE map and its figure
    __init__.py  (here) the shipped networks, checkpoints and the CLI
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .. import checkpoints
from ..limits import check_range
from ..topics import Shipped, checkpoint_bytes, config_from_args, add_budget_args, add_config_args
from ..train import Trainer
from .datasets import MAX_SIZE, MIN_SIZE, PHOTOS, TARGETS, Domains, render_target, domains
from .measures import (COLLAPSE_SOURCE_ACC, DISCRIMINATOR_WINS, MIN_GAIN, accuracy, discriminator_accuracy,
                       domain_accuracy, evaluate, features, mixing, predict, tsne_figure, tsne_map, verdict,
                       wrong_guesses)
from .network import DANN, GradReverse, build_model, grad_reverse
from .training import EVAL_EVERY, MAX_LAMBDA, METHODS, SCHEDULES, DomainConfig, DomainTask, lambda_at, make_task

__all__ = ["BUILDER", "COLLAPSE_SOURCE_ACC", "DANN", "DISCRIMINATOR_WINS", "EVAL_EVERY", "MAX_LAMBDA", "MAX_SIZE",
           "METHODS", "MIN_GAIN", "MIN_SIZE", "PHOTOS", "PRETRAIN_STEPS", "SCHEDULES", "SHIPPED", "TARGETS", "TITLE",
           "accuracy", "build_model", "cli_args", "cli_run", "discriminator_accuracy", "domain_accuracy",
           "DomainConfig", "Domains", "domains", "DomainTask", "evaluate", "features", "grad_reverse", "GradReverse",
           "lambda_at", "load", "make_task", "mixing", "model_bytes", "predict", "pretrain", "render_target",
           "shipped_name", "tsne_figure", "tsne_map", "verdict", "wrong_guesses"]

TITLE = "Domain adaptation"
BUILDER = "dlplay.domain:build_model"



# -- shipped models, CLI ---------------------------------------------------------------------------------------------
PRETRAIN_STEPS = 1500
SHIPPED: dict[str, Shipped] = {
    "domain_photo_source_only": Shipped("domain_photo_source_only", "digits",
                                        DomainConfig(target="photo", method="source-only"), PRETRAIN_STEPS),
    "domain_photo_grl": Shipped("domain_photo_grl", "digits", DomainConfig(target="photo", method="grl"),
                                PRETRAIN_STEPS),
    "domain_inverted_source_only": Shipped("domain_inverted_source_only", "digits",
                                           DomainConfig(target="inverted", method="source-only"), PRETRAIN_STEPS),
    "domain_inverted_grl": Shipped("domain_inverted_grl", "digits", DomainConfig(target="inverted", method="grl"),
                                   PRETRAIN_STEPS),
}


def shipped_name(target: str, adapted: bool) -> str:
    return f"domain_{target}_{'grl' if adapted else 'source_only'}"


def load(source) -> tuple[DANN, dict, dict]:
    return checkpoints.load(source, expect_builder=BUILDER)


def pretrain(out_dir=None, names=None) -> dict:
    """Re-create the shipped networks (a step budget each, on the CPU); weights in half precision (small files)."""
    import copy

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    results = {}
    for name, sh in SHIPPED.items():
        if names and name not in names:
            continue
        task = make_task(sh.config, sh.seed, device="cpu")
        Trainer(task, record_every=100).run(steps=sh.steps)
        ev = task.evaluate()
        m = tsne_map(task.model, task.data)   # stored with the weights: the page's maps appear at once
        tsne = {"xy": np.round(m["xy"], 2).tolist(), "domain": m["domain"].tolist(), "label": m["label"].tolist()}
        checkpoints.save(out_dir / f"{name}.pt", copy.deepcopy(task.model).half(), task.model_config, BUILDER,
                         {"config": sh.config.as_dict(), "steps": sh.steps, "seed": sh.seed, **ev, "tsne": tsne})
        results[name] = {k: round(v, 4) for k, v in ev.items()}
    return results


def model_bytes(task: DomainTask, ev: dict | None = None) -> bytes:
    """The user's trained network as a checkpoint download (with its held-out numbers `ev`, if given)."""
    return checkpoint_bytes(sys.modules[__name__], task, {"config": task.cfg.as_dict(), **(ev or {})})


def cli_args(command, parser) -> None:
    add_config_args(parser, DomainConfig)
    parser.add_argument("--lambda", dest="lam", type=float, default=DomainConfig.lam,
                        help=f"the trade-off weight lambda (default {DomainConfig.lam})")
    add_budget_args(parser, seconds=30.0)


def _shipped_reference(target: str) -> dict | None:
    """The shipped source-only network's metrics on this target (what a verdict compares with), if it is on disk."""
    path = checkpoints.SHIPPED_DIR / f"{shipped_name(target, adapted=False)}.pt"
    return load(path)[2] if path.exists() else None


def cli_run(command, args) -> dict:
    """`python -m dlplay train domain-adapt ...`: source_accuracy, target_accuracy, domain_accuracy as JSON."""
    cfg = config_from_args(DomainConfig, args)
    if args.steps is not None:
        check_range("steps", args.steps, 1, 1_000_000)
    if args.steps is None:
        check_range("seconds", args.seconds, 0.1, 3600)
    task = make_task(cfg, args.seed, device=args.device)
    tr = Trainer(task, record_every=50).run(steps=args.steps, seconds=None if args.steps else args.seconds)
    ev = tr.last_eval
    out = {**cfg.as_dict(), "lambda": cfg.lam, "steps": tr.steps, "seconds": round(tr.seconds, 3),
           "steps_per_second": round(tr.steps / max(tr.seconds, 1e-9), 1), **ev,
           "verdict": verdict(ev, cfg.method, _shipped_reference(cfg.target))[0]}
    if args.out:
        checkpoints.save(args.out, task.model, task.model_config, BUILDER, {"config": cfg.as_dict(), **ev})
    return out
