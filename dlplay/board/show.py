"""What the board shows and exports: the knobs a plot can group by, the strip plot (plotly, and a matplotlib PNG),
the CSV, and the `python -m dlplay train ...` line that retrains a submission."""

from __future__ import annotations

import io
import json
from typing import Sequence

from .schema import Submission


# -- what the board shows -------------------------------------------------------------------------------------
def knobs(subs: Sequence[Submission]) -> list[str]:
    """Config settings that differ between submissions (what a plot can group by), plus page and seed."""
    keys: dict[str, set] = {}
    for s in subs:
        for k, v in s.config.items():
            keys.setdefault(k, set()).add(json.dumps(v))
    varying = [k for k, vals in keys.items() if len(vals) > 1]
    return ["page", "seed"] + sorted(varying) + sorted(k for k in keys if k not in varying)


def metric_names(subs: Sequence[Submission]) -> list[str]:
    seen: dict[str, None] = {}
    for s in subs:
        for k in s.metrics:
            seen.setdefault(k)
    return list(seen)


def knob_value(s: Submission, knob: str) -> str:
    if knob == "page":
        return s.page
    if knob == "seed":
        return str(s.seed)
    v = s.config.get(knob)
    return "(not set)" if v is None else str(v)


def label(s: Submission) -> str:
    return f"#{s.id} {s.nickname or 'anonymous'}"


def _order(groups) -> list[str]:
    """Group names in numeric order when they are all numbers ('2' before '10'), else alphabetical."""
    try:
        return sorted(groups, key=float)
    except ValueError:
        return sorted(groups)


def strip_figure(subs: Sequence[Submission], metric: str, knob: str, kind: str = "strip"):
    """A strip plot (one dot per submission) or a histogram of one metric, grouped by a config knob."""
    import plotly.graph_objects as go

    groups: dict[str, list[Submission]] = {}
    for s in subs:
        if metric in s.metrics:
            groups.setdefault(knob_value(s, knob), []).append(s)
    fig = go.Figure()
    for i, (g, members) in enumerate((g, groups[g]) for g in _order(groups)):
        vals = [s.metrics[metric] for s in members]
        if kind == "histogram":
            fig.add_trace(go.Histogram(x=vals, name=f"{knob} = {g}", opacity=0.75))
        else:
            jitter = [((s.id * 2654435761) % 1000) / 1000 * 0.5 - 0.25 for s in members]   # fixed per submission
            fig.add_trace(go.Scatter(x=vals, y=[i + j for j in jitter], mode="markers", name=f"{knob} = {g}",
                                     marker=dict(size=11, opacity=0.8), customdata=[s.id for s in members],
                                     text=[label(s) for s in members],
                                     hovertemplate="%{text}<br>" + metric + " = %{x:.4g}<extra></extra>"))
    n = sum(len(m) for m in groups.values())
    if kind == "histogram":
        fig.update_layout(barmode="overlay", xaxis_title=metric, yaxis_title="submissions")
    else:
        names = _order(groups)
        fig.update_layout(xaxis_title=metric, yaxis=dict(tickvals=list(range(len(names))), ticktext=names,
                                                         title=knob))
    fig.update_layout(title=f"{metric} across {n} submissions, by {knob}", height=380,
                      margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h"))
    return fig


def strip_png(subs: Sequence[Submission], metric: str, knob: str, kind: str = "strip") -> bytes:
    """The same plot as strip_figure, as a PNG drawn with matplotlib (plotly's PNG export needs Chrome)."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    groups: dict[str, list[float]] = {}
    ids: dict[str, list[int]] = {}
    for s in subs:
        if metric in s.metrics:
            groups.setdefault(knob_value(s, knob), []).append(s.metrics[metric])
            ids.setdefault(knob_value(s, knob), []).append(s.id)
    fig = Figure(figsize=(8, 4), dpi=120)
    ax = fig.add_subplot()
    names = _order(groups)
    for i, g in enumerate(names):
        if kind == "histogram":
            ax.hist(groups[g], alpha=0.6, label=f"{knob} = {g}")
        else:
            jit = [((j * 2654435761) % 1000) / 1000 * 0.5 - 0.25 for j in ids[g]]
            ax.scatter(groups[g], [i + j for j in jit], s=40, alpha=0.8, label=f"{knob} = {g}")
    if kind == "histogram":
        ax.set_ylabel("submissions")
    else:
        ax.set_yticks(range(len(names)), names)
        ax.set_ylabel(knob)
    ax.set_xlabel(metric)
    ax.set_title(f"{metric} across {sum(map(len, groups.values()))} submissions, by {knob}")
    if names:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def board_csv(subs: Sequence[Submission]) -> bytes:
    """One row per submission: id, time, nickname, page, kind, seed, hidden, every setting, every metric. Text
    cells are neutralised against spreadsheet formulas (dlplay.embed.figures._cell, the other exports' rule)."""
    import csv
    from datetime import datetime, timezone

    from ..embed.figures import _cell

    cfg_keys = sorted({k for s in subs for k in s.config})
    met_keys = metric_names(subs)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["id", "submitted_utc", "nickname", "page", "kind", "seed", "hidden"]
               + [f"config.{k}" for k in cfg_keys] + [f"metric.{k}" for k in met_keys])
    for s in subs:
        w.writerow([s.id, datetime.fromtimestamp(s.created, timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
                    _cell(s.nickname), _cell(s.page), _cell(s.kind), s.seed, int(s.hidden)]
                   + [_cell(json.dumps(s.config[k]) if isinstance(s.config.get(k), list) else s.config.get(k, ""))
                      for k in cfg_keys]
                   + [f"{s.metrics[k]:.6g}" if k in s.metrics else "" for k in met_keys])
    return out.getvalue().encode()


# -- configuration -> command line --------------------------------------------------------------------------
# Config classes whose module serves several `train` commands (the others are found by their module).
_COMMAND_OF_CONFIG = {"GAN2DConfig": "train gan2d", "ImageGANConfig": "train gan", "CharConfig": "train charlm",
                      "CopyConfig": "train copy-task", "ReverseConfig": "train reverse",
                      "PixelConfig": "train pixelcnn", "RBMConfig": "train rbm",
                      "StackConfig": "train pretrain-stack"}


# Config fields whose command-line option has another name (`train gan2d --k` sets GAN2DConfig.k_d).
_OPTION_OF_FIELD = {"GAN2DConfig": {"k_d": "k", "m_g": "m"}}


def cli_command(kind: str) -> str | None:
    """The `python -m dlplay` command that trains this kind of run ("dlplay.vae.VAEConfig" -> "train vae")."""
    from ..cli import COMMANDS

    cls = kind.rsplit(".", 1)[-1]
    if cls in _COMMAND_OF_CONFIG:
        return _COMMAND_OF_CONFIG[cls]
    best = None
    for cmd, (module, _) in COMMANDS.items():
        if cmd.startswith("train ") and (kind == module or kind.startswith(module + ".")):
            if best is None or len(module) > len(COMMANDS[best][0]):
                best = cmd
    return best


def command_line(s: Submission) -> tuple[str | None, list[str]]:
    """(a `python -m dlplay train ...` line that retrains this submission, settings it cannot carry). The options
    come from the command's own parser, so only real options appear; None when no command trains this kind."""
    import argparse
    import shlex

    from ..cli import build_parser

    cmd = cli_command(s.kind)
    if cmd is None:
        return None, list(s.config)
    argv = cmd.split()
    parser = build_parser(argv)
    sub = parser
    for word in argv:      # walk down to the command's own subparser
        act = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction))
        sub = act.choices[word]
    options = {a.dest: a for a in sub._actions if a.option_strings}
    parts, left = ["python", "-m", "dlplay", *argv, "--seed", str(s.seed)], []
    steps = s.metrics.get("steps")
    alias = _OPTION_OF_FIELD.get(s.kind.rsplit(".", 1)[-1], {})
    for k, v in s.config.items():
        a = options.get(alias.get(k, k))
        if a is None or isinstance(v, list):
            left.append(k)
            continue
        flag = a.option_strings[-1]
        if isinstance(a, argparse._StoreTrueAction):
            if v:
                parts.append(flag)
        elif v is not None and v != a.default:
            parts += [flag, str(v).lower() if isinstance(v, bool) else str(v)]
    if steps and "steps" in options:
        parts += ["--steps", str(int(steps))]
    return " ".join(shlex.quote(p) for p in parts), left
