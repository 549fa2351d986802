"""A link for every state (issue 26): a page's knobs, seed, budget and tab live in the URL's query parameters.

A page lists the widgets it shares, once, before it draws them:

    share.link("vae", [share.choice("dataset", "vae:dataset", names),
                       share.integer("latent", "vae:latent", 1, 32, 2),
                       *share.panel("vae:train", steps=3000)])

`link` does three things on every run:
1. the first time a session opens the page, it reads the URL's query parameters into `st.session_state` (the
   widgets then start from them), each one checked: an unknown name is dropped, a wrong type or an out-of-range
   value becomes the nearest valid value, and one line on the page says what was changed;
2. it writes the current widget values back into the URL, so the address bar is always a link to this state;
3. it draws a "Share" button in the sidebar: the link and a QR code big enough to scan from the back of a hall.

The URL's name of a setting is short (`latent`), its widget key may depend on other settings
(`key=lambda v: f"ae:k:{v['dataset']}:{v['variant']}"`), and so may its range or choices.
Widgets inside a fragment (the training panel's seed and steps) reach the URL on the next full rerun: when a run
ends, when any other knob changes, or when the Share button is pressed.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence
from urllib.parse import urlencode

import streamlit as st

PRESENT = "present"          # ?present=1: presenter mode (kept in the URL, never treated as unknown)
RESERVED = (PRESENT, "embed", "embed_options")
MAX_PARAMS = 64              # a link with more than this many settings is cut (a link is not a data channel)


@dataclass(frozen=True)
class Param:
    name: str                                   # the URL's name
    key: str | Callable[[dict], str]            # the widget's key (may depend on earlier settings' values)
    kind: str                                   # "int", "float", "choice", "bool", "str"
    lo: Any = None
    hi: Any = None
    choices: Any = None                         # a sequence, or a function of the earlier settings' values
    default: Any = None                         # a value, or a function of the earlier settings' values
    label: str | None = None                    # how the note names it (default: the URL name)

    def resolve(self, field: str, values: dict):
        v = getattr(self, field)
        return v(values) if callable(v) else v

    def default_value(self, values: dict):
        d = self.resolve("default", values)
        if d is None and self.kind == "choice":
            d = next(iter(self.resolve("choices", values)), None)
        return d

    def widget_key(self, values: dict) -> str:
        return self.resolve("key", values)


def integer(name, key, lo, hi, default, label=None) -> Param:
    return Param(name, key, "int", lo, hi, None, default, label)


def number(name, key, lo, hi, default, label=None) -> Param:
    return Param(name, key, "float", lo, hi, None, default, label)


def choice(name, key, choices, default=None, label=None) -> Param:
    """A selectbox, radio, select_slider or tab: the value is one of `choices` (default: the first)."""
    return Param(name, key, "choice", None, None, choices, default, label)


def text(name, key, default="", label=None, max_len: int = 300) -> Param:
    """A text input (a network written as a line, a query): kept as typed, cut at max_len characters."""
    return Param(name, key, "str", None, max_len, None, default, label)


def flag(name, key, default=False, label=None) -> Param:
    return Param(name, key, "bool", None, None, None, default, label)


def panel(key: str, *, steps=None, seconds=10.0, max_seconds: float = 120.0, prefix: str = "") -> list[Param]:
    """The settings of a `training_panel(key, ...)`: seed, and the step or time budget (as the panel draws them).
    `steps` and `seconds` as the page passes them, or functions of the earlier settings' values."""
    from .. import limits
    cap = min(float(max_seconds), limits.MAX_RUN_SECONDS)
    of = lambda x: x if callable(x) else (lambda v: x)  # noqa: E731
    steps_of, seconds_of = of(steps), of(seconds)
    out = [integer(prefix + "seed", f"{key}:seed", 0, 2**31 - 1, 0, "seed")]
    if steps is not None:
        out += [choice(prefix + "budget", f"{key}:by", ["steps", "seconds"], "steps", "budget"),
                integer(prefix + "steps", f"{key}:steps", 10, lambda v: 100 * steps_of(v), steps_of,
                        "steps to train")]
    out.append(number(prefix + "seconds", f"{key}:budget", 1.0, cap, lambda v: min(float(seconds_of(v)), cap),
                      "seconds to train"))
    return out


# -- parsing and checking one value --------------------------------------------------------------------------------
def _is_number(c) -> bool:
    return isinstance(c, (int, float)) and not isinstance(c, bool)


def _fmt(v) -> str:
    """A value as it goes into the URL (and as the note shows it)."""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def check_value(p: Param, raw: str, values: dict) -> tuple[Any, str | None]:
    """(the value to use, a note saying what was changed or None)."""
    label = p.label or p.name.replace("_", " ")
    default = p.default_value(values)
    if p.kind in ("int", "float"):
        lo, hi = p.resolve("lo", values), p.resolve("hi", values)
        try:
            x = float(raw)
            if not math.isfinite(x):
                raise ValueError
        except (TypeError, ValueError):
            return default, f"{label} {raw!r} is not a number: used {_fmt(default)}"
        if p.kind == "int":
            if not x.is_integer():
                y = int(round(x))
                y = min(max(y, lo), hi)
                return y, f"{label} {raw} is not a whole number: used {y}"
            x = int(x)
        if x < lo:
            return (int(lo) if p.kind == "int" else float(lo)), f"{label} {raw} is below the smallest: used {_fmt(lo)}"
        if x > hi:
            return (int(hi) if p.kind == "int" else float(hi)), f"{label} {raw} is above the largest: used {_fmt(hi)}"
        return x, None
    if p.kind == "str":
        cut = p.resolve("hi", values)
        return (str(raw)[:cut], f"{label} was cut to {cut} characters") if len(str(raw)) > cut else (str(raw), None)
    if p.kind == "bool":
        s = str(raw).strip().lower()
        if s in ("1", "true", "yes", "on"):
            return True, None
        if s in ("0", "false", "no", "off"):
            return False, None
        return bool(default), f"{label} {raw!r} is neither on nor off: used {'on' if default else 'off'}"
    choices = list(p.resolve("choices", values))
    for c in choices:
        if _fmt(c) == raw or str(c) == raw:
            return c, None
    numeric = [c for c in choices if _is_number(c)]
    try:
        x = float(raw)
    except (TypeError, ValueError):
        x = None
    if numeric and x is not None and math.isfinite(x):
        best = min(numeric, key=lambda c: abs(c - x))
        return best, f"{label} {raw} is not one of the choices: used the nearest, {_fmt(best)}"
    shown = ", ".join(_fmt(c) for c in choices[:8]) + (", ..." if len(choices) > 8 else "")
    return default, f"unknown {label} {raw!r} (choices: {shown}): used {_fmt(default)}"


def restore(params: Sequence[Param], query: dict[str, str], state, reset_missing: bool = False
            ) -> tuple[dict, list[str]]:
    """Put the query's values into `state` (a mapping: st.session_state); (every setting's current value, notes).
    `reset_missing`: settings the query does not name go back to their defaults (a bookmark opened in a session
    that changed them). Pure apart from `state`, so it is tested without Streamlit."""
    values: dict[str, Any] = {}
    notes: list[str] = []
    names = {p.name for p in params}
    for p in params:
        key = p.widget_key(values)
        if reset_missing and p.name not in query and key in state:
            del state[key]
        if p.name in query:
            v, note = check_value(p, query[p.name], values)
            state[key] = v
            if note:
                notes.append(note)
        values[p.name] = state[key] if key in state else p.default_value(values)
    unknown = [k for k in query if k not in names and k not in RESERVED]
    if unknown:
        notes.append("dropped what this page does not have: " + ", ".join(repr(k) for k in unknown[:6])
                     + (" ..." if len(unknown) > 6 else ""))
    return values, notes


def _valid(p: Param, v, values: dict) -> bool:
    """Whether a widget's value still fits (a tab of another variant, left in the session state, does not)."""
    try:
        return check_value(p, _fmt(v), values)[1] is None
    except Exception:  # noqa: BLE001
        return False


def current(params: Sequence[Param], state) -> dict[str, str]:
    """The URL's settings for what the widgets show now, defaults left out (and widgets not drawn yet)."""
    values: dict[str, Any] = {}
    out: dict[str, str] = {}
    for p in params:
        key = p.widget_key(values)
        if key in state and _valid(p, state[key], values):
            values[p.name] = state[key]
            if _fmt(state[key]) != _fmt(p.default_value(values)):   # a default is left out: a shorter link
                out[p.name] = _fmt(state[key])
        else:
            values[p.name] = p.default_value(values)
    return out


# -- the Streamlit side ----------------------------------------------------------------------------------------------
def _query() -> dict[str, str]:
    qp = st.query_params
    return {k: qp[k] for k in list(qp)[:MAX_PARAMS]}


def base_url(page: str) -> str:
    """Where students reach this page: $DLPLAY_PUBLIC_URL (the address a hall's network knows, when the lecturer's
    own browser is on localhost) or the browser's own address (st.context.url)."""
    public = os.environ.get("DLPLAY_PUBLIC_URL", "").strip().rstrip("/")
    if public:
        return f"{public}/{page}"
    try:
        url = st.context.url
    except Exception:   # noqa: BLE001  (no browser: AppTest, bare mode)
        url = None
    return url.rstrip("/") if url else f"http://localhost:8501/{page}"


def url_for(page: str, settings: dict[str, str]) -> str:
    q = urlencode(settings)
    return base_url(page) + (f"?{q}" if q else "")


def qr_png(text: str, scale: int = 10) -> bytes:
    """A QR code as PNG (segno): medium error correction, a quiet zone of 4 modules as the standard asks."""
    import segno
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def link(page: str, params: Sequence[Param]) -> str:
    """Restore this page's settings from the URL (once per session), write them back, draw the Share button;
    returns the link to the current state."""
    ss = st.session_state
    flag_key = f"share:{page}:read"
    reread = ss.get("share:reread") == page          # a bookmark of the deck was opened
    if not ss.get(flag_key) or reread:
        ss[flag_key] = True
        ss.pop("share:reread", None)
        _, notes = restore(params, _query(), ss, reset_missing=reread)
        if notes:
            st.info("This link's settings were adjusted: " + "; ".join(notes) + ".", icon=":material/link:")
    ss["share:page"] = (page, list(params))
    url = sync()
    if st.sidebar.button("Share this state", key=f"share:{page}:open", icon=":material/qr_code_2:",
                         help="A link (and a QR code) that opens this page with every setting as it is now.",
                         width="stretch"):
        _dialog(url)
    from .present import sidebar
    sidebar(page, _query())
    return url


def sync() -> str:
    """Write the current page's settings into the URL (when they changed); returns the link. `link` calls it on
    every run, and the training panel's fragment on its own reruns (its seed and budget change there)."""
    ss = st.session_state
    page, params = ss.get("share:page") or (None, None)
    if page is None:
        return ""
    keep = {k: st.query_params[k] for k in RESERVED if k in st.query_params}
    want = {**current(params, ss), **keep}
    if _query() != want:
        st.query_params.from_dict(want)
    url = url_for(page, {k: v for k, v in want.items() if k != PRESENT})   # students get the page, not the talk
    ss[f"share:{page}:url"] = url
    return url


@st.dialog("Share this state", width="large")
def _dialog(url: str) -> None:
    st.markdown("Opening this link (or scanning the code) shows this page with the same settings and seed; "
                "pressing Train then gives the same model.")
    st.code(url, language=None, wrap_lines=True)
    st.image(qr_png(url), width=520, caption="Scan to open the same state. A phone reads a code from about ten "
             "times its width away (a rule of thumb): for the back rows, show it full screen (the image's corner "
             "button).")


def tabs(labels: Sequence[str], key: str):
    """st.tabs whose open tab is remembered (and so shared by `link` as a `choice(..., key, labels)`). Switching
    tabs reruns the page, as Streamlit's tab state needs."""
    return st.tabs(list(labels), key=key, on_change="rerun")


def code_behind(panel_key: str, make_task: Callable, config, *, command: str | None = None, steps: int | None = None,
                seconds: float = 10.0, title: str = "a dlplay run") -> None:
    """'The code behind this run': the `python -m dlplay ...` line and a standalone script / notebook (downloads)
    for the run `training_panel(panel_key, make_task, config=config, steps=steps, seconds=seconds)` would start now.
    """
    from .. import reproduce
    from ..errors import InputError

    ss = st.session_state
    seed = int(ss.get(f"{panel_key}:seed", 0))
    by_steps = steps is not None and ss.get(f"{panel_key}:by", "steps") == "steps"
    n = int(ss.get(f"{panel_key}:steps", steps)) if by_steps else None
    secs = None if by_steps else float(ss.get(f"{panel_key}:budget", seconds))
    with st.expander("The code behind this run", icon=":material/code:", key=f"{panel_key}:code",
                     on_change="rerun"):   # opening it reruns the page, so it shows the panel's latest seed
        try:
            src = reproduce.script(make_task, config, seed, n, secs, title)
            nb = reproduce.notebook(make_task, config, seed, n, secs, title)
        except (InputError, ValueError) as e:
            st.caption(f"This run cannot be written out as a script: {e}")
            return
        if command:
            line, missing = reproduce.cli_command(command, config, seed, n, secs)
            st.markdown("**On the command line** (prints the held-out metrics as JSON; `--out model.pt` saves the "
                        "checkpoint):")
            st.code(line, language="bash", wrap_lines=True)
            if missing:
                st.caption("The command line has no option for " + ", ".join(missing) + "; the script below sets "
                           "it.")
        st.markdown(f"**As a script** (seed {seed}, " + (f"{n:,} steps" if n else f"{secs:g} s") + "):")
        st.code(src, language="python")
        if not n:
            st.caption("A time budget trains a different number of steps on each machine: choose *steps* in the "
                       "panel for exactly the same model.")
        c = st.columns(2)
        c[0].download_button("Download the script (.py)", src, file_name=reproduce.filename_for(config),
                             mime="text/x-python", key=f"{panel_key}:code:py", on_click="ignore")
        c[1].download_button("Download as a notebook (.ipynb)", nb,
                             file_name=reproduce.filename_for(config).replace(".py", ".ipynb"),
                             mime="application/x-ipynb+json", key=f"{panel_key}:code:nb", on_click="ignore")
