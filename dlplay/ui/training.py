"""The training panel every demo page reuses: seed, budget, Train / Stop / Reset, a progress bar, live metric
curves and the page's own live view. It never trains itself: it hands the run to the runner (dlplay/runner/),
which trains in a worker process, and follows the run's progress messages.

The session holds a *replica* of the task (built by the same `make_task(config, seed)`): progress messages bring
the metrics and, a few times a second, the weights for the live view; the final message brings the whole state.
So `trainer.task.model` is always the session's own model, on the page's side, and every view reads it as before.

The panel is an st.fragment: while a run is in flight only the panel (and the live view) redraws, at a fixed rate
from the latest message. Streamlit queues a click inside a fragment behind the running script, so the loop asks
`rerun_pending()` and returns when the user clicked something (Stop above all); the run goes on in its worker and
the queued rerun picks it up again. When a run ends the whole page reruns once so every view shows the new model.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import streamlit as st

from .. import limits, viz
from ..errors import InputError
from ..runner import Job, resume_state, runner
from ..topics import Config, describe_change, live_changes, tune
from ..topics import build_task as _locked_build
from ..train import Task, Trainer
from .compat import StopException, rerun_pending, session_id, stop_requested
from .present import presenting, space_key
from .share import sync as share_sync

DRAW_SECONDS = 0.5        # the live view and the curves redraw at most this often (drawing costs the run CPU)


def _state(key: str) -> dict:
    ss = st.session_state
    if f"{key}:panel" not in ss:
        ss[f"{key}:panel"] = {"trainer": None, "config": None, "run": None, "error": "", "note": "",
                              "budget": 0.0, "request": None}
    return ss[f"{key}:panel"]


def _request(key: str, what: str) -> None:
    """A button's callback: a module function with plain arguments, not a closure over the panel's state, so the
    widget's stored callback holds no trainer once the session is gone (the load test's leak counters)."""
    _state(key)["request"] = what


def get_trainer(key: str) -> Trainer | None:
    """The session's trainer for this panel, or None if the user has not trained yet."""
    return _state(key)["trainer"]


def build_task(make_task: Callable[..., Task], config: Any, seed: int) -> Task:
    """The session's replica: on the CPU (the run itself trains on the runner's device; views are small, and the
    web server holds no GPU memory per session)."""
    if isinstance(config, Config):
        return _locked_build(make_task, config, seed, device="cpu")
    return make_task(seed)


def apply_message(tr: Trainer, m: dict) -> None:
    """Bring a replica trainer up to date with one progress or end message from the runner."""
    tr.history.extend(m.get("history") or [])
    tr.marks.extend(m.get("marks") or [])
    if m.get("marks"):
        tr.notice = ""
    if m.get("notice"):
        tr.notice = m["notice"]
    if m.get("steps"):
        tr.steps, tr.seconds = int(m["steps"]), float(m["seconds"])
    if m.get("live") is not None:
        tr.task.load_live_state(m["live"])
    if m["type"] == "end":
        if m.get("state") is not None:
            tr.task.load_state_dict(m["state"])
        tr.last_eval = dict(m.get("last_eval") or {})
        tr.stopped_reason = m.get("reason", "")


def training_panel(key: str, make_task: Callable[..., Task], *, config: Any = None, seconds: float = 10.0,
                   max_seconds: float = 120.0, panels: dict[str, list[str]] | None = None,
                   live: Callable[[Trainer], None] | None = None, chunk: float = 0.25,
                   record_every: int = 1, label: str = "Train", autostart: bool = False,
                   show_budget: bool = True, status: Callable[[Trainer], str] | None = None,
                   steps: int | None = None,
                   board_picture: Callable[[Trainer], bytes] | None = None) -> Trainer | None:
    """Draw the panel; returns the session's Trainer (None before the first training).

    The topic contract (dlplay/topics.py): `make_task` is the topic's module-level `make_task(config, seed)` and
    `config` its frozen Config; the run is then plain data the runner sends to a worker process. (Older pages
    pass `make_task(seed)` and any comparable `config`; such runs train in a thread of the server.) When `config`
    changes, the old trainer is discarded. `panels` maps plot titles to metric keys; `live(trainer)` draws the
    page's own live view. `chunk` is kept for compatibility (the runner decides its chunks). `autostart` starts a
    run as soon as the settings have no model yet (a layout that should simply appear); `show_budget=False` hides
    the time slider (the run ends when its task is finished, or at max_seconds); `status(trainer)` replaces the
    progress bar's text. `steps` makes the default budget a step count (the same model on a busy lecture server
    as on an idle laptop; the panel shows the seconds it took here last time), with seconds as the other choice.
    `board_picture(trainer) -> PNG bytes` is the picture a finished run sends to the class board (dlplay/ui/board.py).
    """
    del chunk
    s = _state(key)
    max_seconds = min(float(max_seconds), limits.MAX_RUN_SECONDS)
    seconds = min(float(seconds), max_seconds)
    if s["trainer"] is not None and s["config"] != config:
        settings_changed(s, config, autostart)

    @st.fragment
    def panel():
        share_sync()   # issue 26: the page's shared link (the URL) follows the seed and budget changed in here
        request, s["request"] = s.get("request"), None
        seed = int(st.session_state.get(f"{key}:seed", 0))
        by_steps = steps is not None and st.session_state.get(f"{key}:by", "steps") == "steps"
        budget = float(st.session_state.get(f"{key}:budget", seconds)) if show_budget and not by_steps \
            else max_seconds
        step_budget = int(st.session_state.get(f"{key}:steps", steps)) if by_steps else None
        if autostart and request is None and s["trainer"] is None and s["run"] is None and not s["error"]:
            request = "start"
        if request == "stop" and s["run"] is not None:
            s["run"].stop()          # the run ends after its current chunk; its final weights still arrive
        if request == "reset":
            if s["run"] is not None:
                s["run"].stop()
            s.update(trainer=None, run=None, error="", note="")
        if request == "start" and s["run"] is None:
            _start(s, make_task, config, seed, budget, record_every, step_budget)
        running = s["run"] is not None
        if presenting():   # issue 26: a page's left column in presenter mode is narrow: seed and budget, then buttons
            c = [*st.columns([1.2, 1.6]), *st.columns(3)]
        else:
            c = st.columns([1.2, 1.6, 1, 1, 1])
        c[0].number_input("Seed", 0, 2**31 - 1, 0, key=f"{key}:seed", help="Same seed and settings give the same model.")
        if show_budget and steps is not None:
            b = c[1].columns([1, 2])
            b[0].radio("Budget", ["steps", "seconds"], key=f"{key}:by", label_visibility="collapsed",
                       help="Steps: the same model however busy the server is. Seconds: as far as it gets.")
            if by_steps:
                rate = runner().rate(make_task)
                b[1].number_input("Steps to train", 10, 100 * steps, int(steps), max(10, steps // 10),
                                  key=f"{key}:steps", help="About " + (f"{steps / rate:.0f} s here" if rate else
                                                                      "as long as it takes") + " at the default.")
            else:
                b[1].slider("Seconds to train", 1.0, float(max_seconds), float(seconds), 1.0, key=f"{key}:budget")
        elif show_budget:
            c[1].slider("Seconds to train", 1.0, float(max_seconds), float(seconds), 1.0, key=f"{key}:budget")
        tr = s["trainer"]
        space = space_key(key)   # presenter mode: Space presses Train, or Stop while a run goes (issue 26)
        c[2].button(("Resume" if tr and tr.steps else label), key=f"{key}:start", type="primary",
                    disabled=running, width="stretch", on_click=_request, args=(key, "start"),
                    shortcut=None if running else space)
        c[3].button("Stop", key=f"{key}:stop", disabled=not running, width="stretch", on_click=_request,
                    args=(key, "stop"), shortcut=space if running else None)
        c[4].button("Reset", key=f"{key}:reset", width="stretch", on_click=_request, args=(key, "reset"),
                    help="Throw away the trained model and start again from the seed.")

        text = (lambda t: status(t) if status else _status(t, s))
        bar = st.progress(0.0, text=f"Not trained yet: press {label}." if tr is None else text(tr))
        if presenting():    # presenter mode: the page's live view (its figure) right under the buttons, curves after
            live_box, chart = st.empty(), st.empty()
        else:
            chart, live_box = st.empty(), st.empty()
        if s["error"]:
            st.error(s["error"], icon=":material/error:")
        elif tr is not None and tr.notice:
            st.warning(tr.notice, icon=":material/warning:")
        elif s["note"]:
            st.info(s["note"], icon=":material/info:")

        def draw():
            if tr is None:
                return
            bar.progress(_done(tr, s), text=text(tr))
            if tr.history and panels:
                s["draws"] = s.get("draws", 0) + 1  # element keys must be unique within one script run
                chart.plotly_chart(viz.curve_panels(tr.history, panels, marks=tr.marks), key=f"{key}:curves:{s['draws']}")
            if live is not None:
                with live_box.container():
                    live(tr)

        draw()
        # The class board (issue 28): a finished run can be submitted; nothing is computed until the student does.
        if s["run"] is None and tr is not None and tr.steps > 0:
            from .board import submit_to_board
            submit_to_board(key, tr, key.split(":")[0], config, seed, picture_png=board_picture)
        if s["run"] is not None:
            _follow(s, tr, bar, draw, text)

    panel()
    return s["trainer"]


def settings_changed(s: dict, config, autostart: bool = False) -> None:
    """Knobs the task can take mid-run (its LIVE_KNOBS) apply from the next step and keep the model, marked on the
    curves; any other change (architecture, data) means a fresh model, and the toast says which setting did it.
    `s` holds the page's "trainer", "config" and "run" (the panel's state; GAN Play keeps the same keys)."""
    tr = s["trainer"]
    live, fixed = live_changes(s["config"], config, tr.task) if isinstance(config, Config) else ({}, ["settings"])
    if live and not fixed:
        run = s["run"]
        refusal = run.tune(**live) if run is not None else ""
        if refusal:          # a run shared with other sessions: leave it, keeping its last weights, and go on alone
            run.stop()
            s.update(run=None, note=refusal.split(":")[0] + ": yours now goes on from here with the new setting "
                                                             "(press Resume).")
        try:
            diff = tune(tr.task, live)       # the page's copy of the task takes the same change
        except InputError as e:
            s["error"] = str(e)
            return
        if diff and (run is None or refusal):
            tr.marks.append({"step": tr.steps, "label": describe_change(diff), "changes": live})
        s["config"] = config
        st.toast(f"{describe_change(diff)}: applies from the next step, the model is kept.")
        return
    if s["run"] is not None:
        s["run"].stop()
    s.update(trainer=None, run=None, error="", note="")
    if not autostart:
        what = ", ".join(fixed) if fixed and fixed != ["settings"] else "the settings"
        st.toast(f"Changed {what}: the next training starts from a fresh model (it changes the model or its data).")


def _start(s: dict, make_task, config, seed: int, budget: float, record_every: int,
           step_budget: int | None = None) -> None:
    try:
        if s["trainer"] is None:
            s["trainer"] = Trainer(build_task(make_task, config, seed), record_every=record_every)
            if not hasattr(s["trainer"].task, "seed"):
                s["trainer"].task.seed = seed     # the seed this model was built from (the class board sends it)
            s["config"] = config
        tr = s["trainer"]
        job = Job(make_task, config, seed, seconds=budget, steps=step_budget, record_every=record_every,
                  resume=resume_state(tr) if tr.steps else None, live_seconds=DRAW_SECONDS, owner=session_id())
        s["run"] = runner().submit(job)
    except InputError as e:
        s["error"] = str(e)
    else:
        s.update(error="", note="", budget=budget, start_seconds=tr.seconds, step_budget=step_budget,
                 start_steps=tr.steps)
        if s["run"].shared:
            s["note"] = ("Someone on this server asked for exactly this run (same settings, seed and steps): it is "
                         "computed once and you get your own copy of the same model.")


def _follow(s: dict, tr: Trainer, bar, draw, text=None) -> None:
    """Follow the session's run until it ends (then show its final status line at once and rerun the page) or the
    user clicks something (then return and let the click's rerun follow it on). `text(trainer)` is the panel's
    status line."""
    run = s["run"]
    last_draw, fresh = 0.0, True
    try:
        while True:
            for m in run.messages():
                apply_message(tr, m)
                fresh = True
            if run.finished:
                break
            now = time.monotonic()
            if run.status == "queued":
                if now - last_draw > 0.3:
                    bar.progress(0.0, text=f"Waiting for a free training slot: {run.ahead} ahead of you "
                                           f"({runner().capacity} runs train at once on this machine).")
                    last_draw = now
            elif fresh and now - last_draw >= DRAW_SECONDS:   # only when something new arrived
                draw()
                last_draw, fresh = time.monotonic(), False
            if rerun_pending():   # a click is waiting: let its rerun run now (it follows the run on)
                return
            if stop_requested():  # the tab closed while the run sends nothing (one long library call)
                raise StopException()
            time.sleep(0.03)
    except StopException:
        # The session is going away (tab closed, server stopping): stop the run and free the model's memory now.
        run.stop()
        s.update(run=None, trainer=None)
        raise
    end = run.end
    s["run"] = None
    if end.get("error"):
        s["error"] = end["error"]
    elif end.get("reason") == "paused":
        s["note"] = "Training paused while this page was not open; press Resume to go on."
    else:   # the final line ('Trained: ... | held-out: ...') now, not after the page has rerun down to the panel
        bar.progress(_done(tr, s), text=(text or (lambda t: _status(t, s)))(tr))
    st.rerun()  # redraw the whole page with the trained model


def _done(tr: Trainer, s: dict) -> float:
    if "fraction" in tr.latest:       # a task that knows how far it is (a layout)
        return min(max(tr.latest["fraction"], 0.0), 1.0)
    if s["run"] is None:
        return 1.0
    if s.get("step_budget"):
        return min(max((tr.steps - s.get("start_steps", 0)) / s["step_budget"], 0.0), 1.0)
    done = (tr.seconds - s.get("start_seconds", 0.0)) / max(s["budget"], 1e-9)
    return min(max(done, 0.0), 1.0)


def _status(tr: Trainer, s: dict) -> str:
    running = s["run"] is not None
    head = "Training" if running else "Trained"
    loss = next((f"{k} {v:.4g}" for k, v in tr.latest.items() if "loss" in k), "")
    rate = f" ({tr.steps / tr.seconds:,.0f} steps/s)" if tr.seconds > 0 else ""
    ev = ", ".join(f"{k} {v:.4g}" for k, v in tr.last_eval.items()) if not running else ""
    return f"{head}: {tr.steps:,} steps in {tr.seconds:.1f} s{rate}. {loss}" + (f" | held-out: {ev}" if ev else "")
