"""The training panel's "Submit to the class board" block (issue 28): class code and nickname in, a sentence out.

Everything it sends is computed only when the student presses Submit: the panel's call costs one popover.
The lecturer's side is pages/board.py; storage and validation are the dlplay/board package.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import secrets
from typing import Any, Callable

import streamlit as st

from .. import board
from ..errors import InputError
from .compat import session_id

_BAD_NAME = re.compile(r"[^A-Za-z0-9_ .:/()%\-]")


def enabled() -> bool:
    """DLPLAY_BOARD=off hides the block on every panel (a server that never runs a class board)."""
    return os.environ.get("DLPLAY_BOARD", "on").strip().lower() not in ("0", "off", "no", "false")


def client_id() -> str:
    """Who is asking, for the wrong-code and wrong-key back-off: the browser session (never stored with a
    submission). Not the address: a lecture hall behind one NAT or proxy shares it."""
    return f"session:{session_id()}"


def network_id() -> str:
    """The browser's address where Streamlit knows it ("" otherwise), for the looser per-address key back-off."""
    try:
        return str(st.context.ip_address or "")
    except Exception:   # older Streamlit, or no request (AppTest)
        return ""


def _plain(v: Any):
    if v is None or isinstance(v, (bool, int, str)):
        return v if not isinstance(v, str) else v[:200]
    if isinstance(v, float):
        return v
    if isinstance(v, (bytes, bytearray)):
        return f"<{len(v):,} bytes>"          # uploaded points and the like: too big to send, named instead
    if isinstance(v, (list, tuple)) and len(v) <= 16 and all(isinstance(x, (bool, int, float, str)) for x in v):
        return list(v)
    return str(v)[:200]


def config_dict(config: Any) -> dict:
    """A run's config as plain values (a frozen dataclass field by field)."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {f.name: _plain(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, dict):
        return {str(k): _plain(v) for k, v in config.items()}
    return {}


def config_kind(config: Any) -> str:
    t = type(config)
    return f"{t.__module__}.{t.__qualname__}" if dataclasses.is_dataclass(config) else ""


def _metric_name(k: str) -> str:
    k = _BAD_NAME.sub("_", str(k))[:60]
    return k if k[:1].isalnum() or k[:1] == "_" else "_" + k[:59]


def trainer_metrics(tr, limit: int = board.Limits.metrics) -> dict[str, float]:
    """Held-out metrics first, then the last recorded training metrics, then steps and seconds."""
    out: dict[str, float] = {}
    items = list((getattr(tr, "last_eval", None) or {}).items()) + [
        (k, v) for k, v in (getattr(tr, "latest", None) or {}).items() if k not in ("step", "time")]
    for k, v in items:
        k = _metric_name(k)
        if k in out or isinstance(v, bool):
            continue
        try:
            v = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(v):
            out[k] = v
    out = dict(list(out.items())[:limit - 2])
    out["steps"] = float(getattr(tr, "steps", 0))
    out["seconds"] = round(float(getattr(tr, "seconds", 0.0)), 2)
    return out


def trainer_curves(tr, limit: int = board.Limits.curves, points: int = board.Limits.curve_points) -> dict:
    """Each recorded metric against the step, at most `points` points (evenly thinned), at most `limit` curves."""
    hist = getattr(tr, "history", None) or []
    names: dict[str, None] = {}
    for h in hist:
        for k in h:
            if k not in ("step", "time"):
                names.setdefault(k)
    out = {}
    for k in list(names)[:limit]:
        pts = [(float(h["step"]), float(h[k])) for h in hist if k in h and "step" in h
               and isinstance(h[k], (int, float)) and math.isfinite(float(h[k]))]
        if pts:
            xs, ys = board.downsample([p[0] for p in pts], [p[1] for p in pts], points)
            out[_metric_name(k)] = {"x": xs, "y": ys}
    return out


def _value(v, tr):
    return v(tr) if callable(v) else v


def submit_to_board(key: str, trainer_or_result, page: str, config: Any, seed: int,
                    metrics: dict | Callable | None = None, curves: dict | Callable | None = None,
                    picture_png: bytes | Callable | None = None) -> None:
    """A "Submit to the class board" popover for one finished run.

    `trainer_or_result` is the panel's Trainer (metrics and curves are then read from it) or any object;
    `metrics`, `curves` and `picture_png` may be values or callables taking it (called only on Submit), so a
    panel that nobody submits from does no work. The same run submitted twice is stored once.
    """
    if not enabled():
        return
    ss = st.session_state
    mark = ss.setdefault(f"{key}:board", {})
    if mark.get("run") != id(trainer_or_result):       # a new run: remember its seed (the task's own, if it
        task_seed = getattr(getattr(trainer_or_result, "task", None), "seed", None)   # keeps one) and start afresh
        ok = isinstance(task_seed, int) and not isinstance(task_seed, bool)
        mark.update(run=id(trainer_or_result), seed=task_seed if ok else int(seed), token=None, steps=None,
                    sent="", error="")
    steps = getattr(trainer_or_result, "steps", None)
    if mark.get("steps") != steps:                     # trained on since the last submission: a new submission
        mark.update(steps=steps, token=secrets.token_hex(16), sent="", error="")
    with st.popover("Submit to the class board", icon=":material/groups:",
                    help="Send this run (settings, seed, final numbers, curves and one picture) to your "
                         "lecturer's board. Nothing else about you is stored."):
        with st.form(f"{key}:board:form", border=False):
            code = st.text_input("Class code", key=f"{key}:board:code", max_chars=12,
                                 placeholder="e.g. K7QM2P", help="The code your lecturer put on the screen.")
            nick = st.text_input("Nickname (optional)", key=f"{key}:board:nick", max_chars=40,
                                 help="Letters, digits, spaces and . ' - only; leave empty to be anonymous.")
            go = st.form_submit_button("Submit", type="primary", key=f"{key}:board:send")
        if go:
            try:
                tr = trainer_or_result
                sid = board.get_store().submit(
                    code, page=page, kind=config_kind(config), config=config_dict(config), seed=mark["seed"],
                    metrics=_value(metrics, tr) if metrics is not None else trainer_metrics(tr),
                    curves=_value(curves, tr) if curves is not None else trainer_curves(tr),
                    picture_png=_value(picture_png, tr), nickname=nick, token=mark["token"], client=client_id())
            except InputError as e:
                mark.update(error=str(e), sent="")
            else:
                mark.update(error="", sent=f"Sent to board {board.normalise_code(code)} as submission #{sid}. "
                                           "Pressing Submit again for this run does not send it twice.")
        if mark.get("error"):
            st.error(mark["error"], icon=":material/error:")
        elif mark.get("sent"):
            st.success(mark["sent"], icon=":material/check_circle:")


def as_png(image) -> bytes:
    """Any picture Pillow reads (JPEG bytes, a uint8 array) as PNG bytes, for `picture_png`."""
    import io

    import numpy as np
    from PIL import Image

    img = Image.open(io.BytesIO(image)) if isinstance(image, (bytes, bytearray)) else Image.fromarray(np.asarray(image))
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="PNG")
    return buf.getvalue()
