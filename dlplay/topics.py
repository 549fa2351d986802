"""The topic contract: what every topic module exposes. Read this file to add a topic.

A topic is one lecture's demo: `dlplay/<topic>.py` (or a package `dlplay/<topic>/`) with its models, losses and
metrics, and one thin page `pages/<topic>.py`. Everything that is the same for all topics (the CLI's `train` and
`pretrain`, the pages' training panel and "shipped model or yours" block, the runner that executes long work in a
slot, with a time cap, stop and progress) is shared code over the names below, so a topic writes only its lesson.

A topic module defines

    TITLE = "Autoencoders"                       # one line, shown by `python -m dlplay list`

    @dataclass(frozen=True)
    class MyConfig(Config):                      # every knob of one run, with its default
        dataset: str = "digits"
        code_size: int = 8                       # bounds go in check(), which names the bad value and its limit
        lr: float = 2e-3
        def check(self):
            self.in_range("code_size", 1, 1024)  # raises InputError("code_size = 5000 is out of range ...")
            self.one_of("dataset", dataset_names())
            return self

    def make_task(config: MyConfig, seed: int = 0, device=None) -> Task:
        '''A fresh Task (dlplay.train) for the engine: config.check() first; all randomness from the task's own
        generator (device.seed_everything(seed) returns one), so the same config and seed give the same model.'''

    SHIPPED: dict[str, Shipped] = {"autoencoder_digits": Shipped("autoencoder_digits", "digits", MyConfig(), 4000)}
    BUILDER = "dlplay.mytopic:build_model"       # rebuilds task.model from task.model_config (see checkpoints.py)

and, where the topic has them, these functions with these return types (same names in every topic):

    encode(model, x) -> torch.Tensor (N, K)           # codes, on the CPU
    decode(model, z) -> torch.Tensor (N, C, H, W)     # images in [0, 1], on the CPU
    sample(model, n, generator) -> torch.Tensor       # n generated items, on the CPU
    interpolate(model, a, b, steps) -> Interpolation  # .path (decoded walk in code space), .fade (pixel cross-fade)

Why the config is a frozen dataclass and the task is built by a module-level function: a run is then fully
described by plain data, `(make_task, config, seed, budget)`, which can be pickled to a worker process (or a Ray
cluster), compared to find identical runs, written into a URL, or turned into a CLI command line. A page passes
exactly that to `dlplay.ui.training_panel(key, mytopic.make_task, config=cfg)`; it never builds tasks itself.

Tasks that own a model (`ModelTask`) set `task.model` and `task.model_config` (the JSON-able keyword arguments of
BUILDER); then `save_checkpoint`, `pretrain_shipped` and `cli_train` below work for the topic with no more code.
A topic with more to say on the command line adds `cli_args(command, parser)` / `cli_run(command, args) -> dict`
(see cli.py); otherwise `cli_train` is used, with one `--name` option per config field.

Knobs that change while a run trains (the learning rate, K and M, the GAN loss, beta, a penalty weight, the noise
level): a task lists them in `LIVE_KNOBS` and takes the new config in `retune(config)` (adjusting its optimisers,
keeping its weights). `tune(task, changes)` below checks and applies a change; `live_changes(old, new, task)` tells
a page whether a changed config can be applied to the running model or needs a fresh one. `retune` sets
`task.config` itself. The runner applies a
change between two steps and marks it on the run's curves.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import math
import threading
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple, Protocol, Sequence, runtime_checkable

from .errors import InputError


@dataclass(frozen=True)
class Config:
    """Base class of every topic's run settings: a frozen dataclass whose `check()` validates the values.

    Like a scikit-learn estimator's parameters: creating one only stores the values; `check()` (called by
    `make_task`) raises `InputError` naming the field, the bad value and its limit, and returns the config.
    """

    def check(self) -> "Config":
        return self

    def replace(self, **changes) -> "Config":
        """A copy with some fields changed (and checked)."""
        return dataclasses.replace(self, **changes).check()

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # -- helpers for check() ---------------------------------------------------------------------------------------
    def in_range(self, name: str, lo: float, hi: float, label: str | None = None) -> None:
        v = getattr(self, name)
        label = label or name.replace("_", " ")
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(f"{label} must be a number, not {v!r}.")
        if not (lo <= v <= hi) or (isinstance(v, float) and not math.isfinite(v)):
            raise InputError(f"{label} = {v} is out of range: it must be between {lo} and {hi}.")

    def one_of(self, name: str, choices: Sequence, label: str | None = None) -> None:
        v = getattr(self, name)
        if v not in choices:
            label = label or name.replace("_", " ")
            raise InputError(f"Unknown {label} {v!r}: choose one of {', '.join(map(str, choices))}.")


@dataclass(frozen=True)
class Shipped:
    """A checkpoint the project trained itself and ships in dlplay/assets/checkpoints/<name>.pt.

    A step budget, not seconds, so `python -m dlplay pretrain` writes the same file on any machine (0: the task
    ends by itself, `task.finished`, as a comparison over a fixed plan does)."""

    name: str
    dataset: str
    config: Config
    steps: int
    seed: int = 0


class Interpolation(NamedTuple):
    path: Any      # decoded images along the straight line between two codes
    fade: Any      # the pixel cross-fade (1 - t) x_a + t x_b, for comparison


@runtime_checkable
class Topic(Protocol):
    """What a topic module provides (checked by tests/test_topics.py for every module in TOPICS)."""

    TITLE: str
    SHIPPED: dict[str, Shipped]

    def make_task(self, config: Config, seed: int = 0, device=None): ...


# Every topic module, in lecture order. tests/test_topics.py checks each against the contract.
TOPICS = [
    "dlplay.classifier",
    "dlplay.autoencoders",
    "dlplay.vae",
    "dlplay.gan",
    "dlplay.embed",
    "dlplay.words",
    "dlplay.style",
    "dlplay.convolution",
    "dlplay.qlearning",
    "dlplay.multimodal",
    "dlplay.pretraining",
    "dlplay.documents",
    "dlplay.documents.glove",
    "dlplay.documents.doc2vec",
    "dlplay.sequences",
    "dlplay.domain",
]


_BUILD_LOCK = threading.RLock()


def build_task(make_task: Callable, config: Config, seed: int = 0, device=None):
    """make_task(config, seed, device) under a process-wide lock: tasks seed torch's global generator and build
    their models from it, so two sessions building at once in one process must take turns, or the same seed
    would give different models."""
    with _BUILD_LOCK:
        return make_task(config, seed, device=device)


# -- knobs that change mid-run -------------------------------------------------------------------------------
def live_knobs(task_or_type) -> tuple[str, ...]:
    """The knobs a task (or task class, or an explicit tuple of names) can take mid-run."""
    if isinstance(task_or_type, (tuple, list, set, frozenset)):
        return tuple(task_or_type)
    return tuple(getattr(task_or_type, "LIVE_KNOBS", ()))


def live_changes(old: Config, new: Config, task_or_type) -> tuple[dict[str, Any], list[str]]:
    """Split the fields that differ between two configs: ({knob: new value} a running task can take as it is,
    [names of the other changed fields, which need a fresh model])."""
    if type(old) is not type(new):
        return {}, ["the kind of model"]
    live = set(live_knobs(task_or_type))
    changed = [f.name for f in dataclasses.fields(old) if getattr(old, f.name) != getattr(new, f.name)]
    return ({k: getattr(new, k) for k in changed if k in live}, [k for k in changed if k not in live])


def tune(task, changes: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Apply knob changes to a task between two steps, keeping its weights: {knob: (old, new)} of what changed.

    Only the task's LIVE_KNOBS may change (anything else alters the architecture or the data); the new config is
    checked like any other, so a bad value is an InputError and the task keeps its old config."""
    live = live_knobs(task)
    fixed = sorted(k for k in changes if k not in live and getattr(task.config, k, None) != changes[k])
    if fixed:
        raise InputError(f"{', '.join(fixed)} cannot change while the model trains (it changes the model or its "
                         f"data); what can: {', '.join(live) or 'nothing on this page'}.")
    old = task.config
    new = dataclasses.replace(old, **{k: v for k, v in changes.items() if k in live}).check()
    resolved = new.resolved() if hasattr(new, "resolved") else new
    diff = {k: (getattr(old, k), getattr(resolved, k)) for k in changes if getattr(old, k) != getattr(resolved, k)}
    if diff:
        task.retune(new)          # the task sets its config (resolved, if it resolves defaults) and its optimisers
    return diff


def describe_change(diff: dict[str, tuple[Any, Any]]) -> str:
    """'loss: nonsaturating -> wgan-gp, lr_g: 0.002 -> 0.0005', the label of a change's mark on the curves."""
    fmt = lambda v: f"{v:g}" if isinstance(v, float) else str(v)  # noqa: E731
    return ", ".join(f"{k}: {fmt(a)} → {fmt(b)}" for k, (a, b) in diff.items())


def config_type(module) -> type[Config]:
    """The Config subclass that module.make_task takes (its first parameter's annotation)."""
    hints = typing.get_type_hints(module.make_task)
    first = next(iter(inspect.signature(module.make_task).parameters))
    cls = hints.get(first)
    if not (isinstance(cls, type) and issubclass(cls, Config)):
        raise TypeError(f"{module.__name__}.make_task must annotate its first parameter with a Config subclass")
    return cls


# -- checkpoints over the contract ---------------------------------------------------------------------------------
def save_checkpoint(target, module, task, extra: dict | None = None) -> None:
    """Save task.model with task.model_config under the module's BUILDER (a copy is saved; the task's own model
    stays where it is, on its device)."""
    from . import checkpoints
    checkpoints.save(target, task.model, task.model_config, module.BUILDER, extra)


def checkpoint_bytes(module, task, extra: dict | None = None) -> bytes:
    from . import checkpoints
    return checkpoints.to_bytes(task.model, task.model_config, module.BUILDER, extra)


def pretrain_shipped(module, out_dir=None, names: Sequence[str] | None = None,
                     extra: Callable[[Any], dict] | None = None) -> dict:
    """Train every Shipped entry of a topic on the CPU for its step budget and save it; returns held-out metrics
    per name. `extra(task)` adds topic-specific results to the checkpoint's extra."""
    from . import checkpoints
    from .train import Trainer

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    results = {}
    for name, sh in module.SHIPPED.items():
        if names and name not in names:
            continue
        task = module.make_task(sh.config, sh.seed, device="cpu")
        Trainer(task, record_every=100).run(steps=sh.steps)
        ev = task.evaluate()
        save_checkpoint(out_dir / f"{name}.pt", module, task,
                        {"config": sh.config.as_dict(), "steps": sh.steps, **ev, **(extra(task) if extra else {})})
        results[name] = {k: round(float(v), 4) for k, v in ev.items()}
    return results


# -- the command line over the contract ----------------------------------------------------------------------------
def _field_type(cls, f: dataclasses.Field):
    t = typing.get_type_hints(cls)[f.name]
    args = typing.get_args(t)
    if typing.get_origin(t) is typing.Literal:
        return str, list(args)
    if t in (int, float, str, bool):
        return t, None
    if args and all(a in (int, float, str, type(None)) for a in args):   # e.g. int | None
        return next(a for a in args if a is not type(None)), None
    return None, None


def add_config_args(parser: argparse.ArgumentParser, cls: type[Config]) -> None:
    """One `--field-name` option per simple config field (int, float, str, bool, Literal), default from the class."""
    for f in dataclasses.fields(cls):
        typ, choices = _field_type(cls, f)
        if typ is None:
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        flag = "--" + f.name.replace("_", "-")
        if typ is bool:
            parser.add_argument(flag, type=lambda s: s.lower() in ("1", "true", "yes", "on"), default=default,
                                metavar="{true,false}", help=f"(default {default})")
        else:
            parser.add_argument(flag, type=typ, default=default, choices=choices, help=f"(default {default})")


def config_from_args(cls: type[Config], args: argparse.Namespace) -> Config:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    return cls(**values).check()


def add_budget_args(parser: argparse.ArgumentParser, seconds: float = 10.0) -> None:
    parser.add_argument("--seconds", type=float, default=seconds, help="time budget (default %(default)s)")
    parser.add_argument("--steps", type=int, default=None, help="a step budget instead (same model on any machine)")


def cli_train(module, args: argparse.Namespace, record_every: int = 50) -> tuple[Any, dict]:
    """`python -m dlplay train TOPIC`: build the config from the options, train, save --out; (task, summary)."""
    from .train import Trainer

    cfg = config_from_args(config_type(module), args)
    task = module.make_task(cfg, args.seed, device=args.device)
    tr = Trainer(task, record_every=record_every).run(steps=args.steps,
                                                      seconds=None if args.steps else args.seconds)
    summary = {**cfg.as_dict(), "steps": tr.steps, "seconds": round(tr.seconds, 3),
               "steps_per_second": round(tr.steps / max(tr.seconds, 1e-9), 1), **tr.last_eval}
    if getattr(args, "out", None) and hasattr(task, "model_config"):
        save_checkpoint(args.out, module, task, {"config": cfg.as_dict(), **tr.last_eval})
    return task, summary
