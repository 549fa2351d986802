"""The code behind a run (issue 26): the `python -m dlplay ...` line, a short standalone script and a notebook that
train the same model as a page's training panel, from the same plain data the panel hands the runner:
`(make_task, config, seed, steps or seconds)`. No Streamlit here (dlplay.ui.share draws them on the pages).

The script uses dlplay's own topic code, `make_task(config, seed)` and the one `Trainer`, so a student reads the
lesson's PyTorch in the topic module and gets the same model as the page for the same seed and step budget.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from typing import Any, Callable

from .topics import Config

MAX_CONFIG_CHARS = 3000     # a config longer than this as source holds data, not settings


def _config_source(config: Config) -> str:
    """`ClassName(field=value, ...)`, only the fields that differ from the class's defaults (checked to rebuild
    the same config)."""
    cls = type(config)
    parts = []
    for f in dataclasses.fields(cls):
        v = getattr(config, f.name)
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
        if default is dataclasses.MISSING or v != default:
            parts.append(f"{f.name}={v!r}")
    src = f"{cls.__name__}({', '.join(parts)})"
    if len(src) > MAX_CONFIG_CHARS:
        raise ValueError("its settings hold data (an uploaded picture, text or table), too much for a script")
    try:
        same = eval(src, {cls.__name__: cls}) == config   # noqa: S307  (our own repr of plain values)
    except Exception:   # noqa: BLE001  (a field holds an object, not a plain value)
        same = False
    if not same:
        raise ValueError("its settings hold objects (loaded data) that a script cannot spell out")
    return src


def _budget(steps: int | None, seconds: float | None) -> str:
    return f"steps={int(steps)}" if steps else f"seconds={float(seconds or 10.0):g}"


def cli_command(command: str, config: Config, seed: int = 0, steps: int | None = None,
                seconds: float | None = None) -> tuple[str, list[str]]:
    """(the command line, the settings it cannot say). `command` is a key of cli.COMMANDS ("train vae"): each
    config field with a CLI option is written when it differs from the option's default."""
    from . import cli

    parts = command.split()
    ns = cli.build_parser(parts).parse_args(parts)
    args, missing = list(parts), []
    for f in dataclasses.fields(config):
        v = getattr(config, f.name)
        if not hasattr(ns, f.name):
            default = f.default if f.default is not dataclasses.MISSING else None
            if v != default and v is not None:
                missing.append(f"{f.name} = {v!r}")
            continue
        if v is None or v == getattr(ns, f.name):
            continue
        if not isinstance(v, (bool, int, float, str)):
            missing.append(f"{f.name} = {v!r}")
            continue
        value = ("true" if v else "false") if isinstance(v, bool) else (repr(v) if isinstance(v, float) else str(v))
        args += ["--" + f.name.replace("_", "-"), value]
    if seed:
        args += ["--seed", str(int(seed))]
    args += ["--steps", str(int(steps))] if steps else ["--seconds", f"{float(seconds or 10.0):g}"]
    args.append("--json")
    return "python -m dlplay " + " ".join(shlex.quote(a) for a in args), missing


def script(make_task: Callable, config: Config, seed: int = 0, steps: int | None = None,
           seconds: float | None = None, title: str = "a dlplay run") -> str:
    """A standalone Python script that trains the page's run and prints its held-out metrics as JSON."""
    cls = type(config)
    mod, cmod = _public_module(make_task), _public_module(cls)
    imports = (f"from {mod} import {cls.__name__}, make_task\n" if cmod == mod else
               f"from {cmod} import {cls.__name__}\nfrom {mod} import make_task\n")
    return f'''"""{title}: the run behind the page, as a script. The same settings, seed and budget give the same model.

Run it in the dlplay folder (or with dlplay installed):  python {filename_for(config)}
The lesson's PyTorch (the model, its loss, one training step) is in {make_task.__module__};
Trainer (dlplay/train.py) only calls it.
"""

import json

import torch

{imports}from dlplay.train import Trainer

config = {_config_source(config)}
SEED = {int(seed)}

task = make_task(config, SEED)                  # the model, its data and every random draw come from the seed
trainer = Trainer(task, record_every=50).run({_budget(steps, seconds)})
print(json.dumps({{"steps": trainer.steps, **trainer.last_eval}}, default=float))   # held-out metrics
if hasattr(task, "model"):
    torch.save(task.model.state_dict(), "model_state.pt")   # the trained network: plain PyTorch weights
'''


def _public_module(obj) -> str:
    """The shortest module path that exports obj (dlplay.autoencoders rather than dlplay.autoencoders.training)."""
    import importlib
    parts = obj.__module__.split(".")
    for i in range(2, len(parts) + 1):
        name = ".".join(parts[:i])
        try:
            if getattr(importlib.import_module(name), obj.__name__, None) is obj:
                return name
        except ImportError:
            continue
    return obj.__module__


def filename_for(config: Config) -> str:
    return f"dlplay_{type(config).__name__.lower().removesuffix('config')}_run.py"


def notebook(make_task: Callable, config: Config, seed: int = 0, steps: int | None = None,
             seconds: float | None = None, title: str = "a dlplay run") -> str:
    """The same run as a Jupyter notebook (nbformat 4 JSON): settings, training, the metrics and the curve."""
    src = script(make_task, config, seed, steps, seconds, title)
    body = src.split('"""', 2)[2].strip()
    setup, train = body.split("\ntask = make_task", 1)
    train = "task = make_task" + train

    def cell(kind: str, text: str) -> dict:
        c: dict[str, Any] = {"cell_type": kind, "metadata": {}, "source": text.strip("\n").splitlines(True)}
        if kind == "code":
            c.update(execution_count=None, outputs=[])
        return c

    cells = [cell("markdown", f"# {title}\n\nThe run behind the page: the same settings, seed and budget give "
                              f"the same model. The lesson's PyTorch is in `{make_task.__module__}`."),
             cell("code", setup), cell("code", train),
             cell("code", "import pandas as pd\n\n# the metrics recorded while training (one row every 50 steps)\n"
                          "pd.DataFrame(trainer.history).set_index('step').plot(subplots=True, figsize=(8, 6));")]
    nb = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                      "name": "python3"},
                                       "language_info": {"name": "python"}},
          "nbformat": 4, "nbformat_minor": 4}
    return json.dumps(nb, indent=1)
