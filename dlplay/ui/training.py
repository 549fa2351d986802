"""The training panel every demo page reuses: seed, time budget, train / stop / reset, a progress bar and live
metric curves. Training runs through dlplay.train.Trainer; the trainer lives in the user's own session state.

The panel is an st.fragment: while it trains, only the panel (and the page's live view passed as `live`) redraws,
in chunks of a fraction of a second. Streamlit queues a click inside a fragment behind the running script instead
of interrupting it, so after every chunk the loop asks `rerun_pending()` and, when the user clicked something
(Stop above all), ends this run; the queued rerun then acts on the click and carries on training unless it was Stop.
When a run ends the whole page reruns once so every view shows the newly trained model.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import streamlit as st
import torch
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from .. import limits, slots, viz
from ..errors import InputError
from ..topics import Config
from ..train import Task, Trainer


def _state(key: str) -> dict:
    ss = st.session_state
    if f"{key}:panel" not in ss:
        ss[f"{key}:panel"] = {"trainer": None, "config": None, "running": False, "target": 0.0, "error": "",
                              "budget": 0.0}
    return ss[f"{key}:panel"]


def get_trainer(key: str) -> Trainer | None:
    """The session's trainer for this panel, or None if the user has not trained yet."""
    return _state(key)["trainer"]


def training_panel(key: str, make_task: Callable[..., Task], *, config: Any = None, seconds: float = 10.0,
                   max_seconds: float = 120.0, panels: dict[str, list[str]] | None = None,
                   live: Callable[[Trainer], None] | None = None, chunk: float = 0.25,
                   record_every: int = 1, label: str = "Train") -> Trainer | None:
    """Draw the panel; returns the session's Trainer (None before the first training).

    The topic contract (dlplay/topics.py): `make_task` is the topic's module-level `make_task(config, seed)` and
    `config` its frozen Config; a run is then plain data the runner can send to a worker process. (Older pages
    pass `make_task(seed)` and any comparable `config`.) When `config` changes, the old trainer is discarded. `panels` maps plot titles to metric keys.
    `live(trainer)` draws the page's own live view (e.g. reconstructions) after each chunk.
    """
    s = _state(key)
    max_seconds = min(float(max_seconds), limits.MAX_RUN_SECONDS)
    seconds = min(float(seconds), max_seconds)
    if s["trainer"] is not None and s["config"] != config:
        if s.get("ticket") is not None:
            slots.pool().release(s["ticket"])
        s.update(trainer=None, running=False, error="", ticket=None)
        st.toast("Settings changed: the next training starts from a fresh model.")

    def _release():
        if s.get("ticket") is not None:
            slots.pool().release(s["ticket"])
        s["ticket"] = None

    # The buttons only leave a request (their callbacks run before the rerun); the panel acts on it *before* it
    # draws the buttons, so they are drawn in the new state at once (Stop enabled while training, Train disabled),
    # and with this run's settings and make_task.
    def _request(what: str):
        s["request"] = what

    @st.fragment
    def panel():
        request, s["request"] = s.get("request"), None
        seed = int(st.session_state.get(f"{key}:seed", 0))
        budget = float(st.session_state.get(f"{key}:budget", seconds))
        if request in ("stop", "reset"):
            s["running"] = False
            _release()
        if request == "reset":
            s.update(trainer=None, error="")
        if request == "start":
            try:
                if s["trainer"] is None:
                    task = make_task(config, seed) if isinstance(config, Config) else make_task(seed)
                    s["trainer"] = Trainer(task, record_every=record_every)
                    s["config"] = config
            except InputError as e:
                s["error"] = str(e)
            else:
                s.update(running=True, error="", target=s["trainer"].seconds + budget, budget=budget)
        c = st.columns([1.2, 1.6, 1, 1, 1])
        c[0].number_input("Seed", 0, 2**31 - 1, 0, key=f"{key}:seed", help="Same seed and settings give the same model.")
        c[1].slider("Seconds to train", 1.0, float(max_seconds), float(seconds), 1.0, key=f"{key}:budget")
        tr = s["trainer"]
        c[2].button(("Resume" if tr and tr.steps else label), key=f"{key}:start", type="primary",
                    disabled=s["running"], width="stretch", on_click=_request, args=("start",))
        c[3].button("Stop", key=f"{key}:stop", disabled=not s["running"], width="stretch", on_click=_request,
                    args=("stop",))
        c[4].button("Reset", key=f"{key}:reset", width="stretch", on_click=_request, args=("reset",),
                    help="Throw away the trained model and start again from the seed.")

        bar = st.progress(0.0, text="Not trained yet: press Train." if tr is None else _status(tr, s))
        chart = st.empty()
        live_box = st.empty()
        if s["error"]:
            st.error(s["error"], icon=":material/error:")

        def draw():
            if tr is None:
                return
            done = 1.0 - max(0.0, s["target"] - tr.seconds) / max(s["budget"], 1e-9) if s["running"] else 1.0
            bar.progress(min(max(done, 0.0), 1.0), text=_status(tr, s))
            if tr.history and panels:
                s["draws"] = s.get("draws", 0) + 1  # element keys must be unique within one script run
                chart.plotly_chart(viz.curve_panels(tr.history, panels), key=f"{key}:curves:{s['draws']}")
            if live is not None:
                with live_box.container():
                    live(tr)

        draw()
        if s["running"]:
            _train_in_a_slot(s, tr, bar, draw, chunk)

    panel()
    return s["trainer"]


def _train_in_a_slot(s: dict, tr: Trainer, bar, draw, chunk: float) -> None:
    """Train in chunks while holding one of the process's training slots (queueing for one first).

    The ticket survives reruns (a slider moved mid-training keeps the user's place); it is released when the run
    ends, and at once when the session stops (tab closed). A ticket nobody touches for a few seconds (the user
    went to another page) is dropped by the pool itself.
    """
    pool = slots.pool()
    if s.get("ticket") is None or not pool.touch(s["ticket"]):
        s["ticket"] = pool.join()
    ticket = s["ticket"]
    finished = False
    try:
        while s["running"]:
            if not pool.wait(ticket, 0.0):
                ahead = pool.ahead(ticket)
                if ahead == 0 and not pool.touch(ticket):  # dropped as stale while we were away: line up again
                    ticket = s["ticket"] = pool.join()
                    continue
                bar.progress(0.0, text=f"Waiting for a free training slot: {ahead} ahead of you "
                                       f"({pool.capacity} runs train at once on this machine).")
                pool.wait(ticket, 0.3)
                continue
            left = s["target"] - tr.seconds
            if left <= 0:
                s["running"], finished = False, True
                break
            try:
                torch.set_num_threads(slots.threads_per_run(pool.busy))
                tr.run(seconds=min(chunk, left), evaluate=False)
            except InputError as e:  # TrainingDiverged included: last good weights are already restored
                s.update(running=False, error=str(e))
                finished = True
                break
            pool.touch(ticket)
            draw()
            if rerun_pending():   # a click is waiting: let its rerun run now (it trains on unless it was Stop)
                return
            time.sleep(0.001)
    except StopException:
        # The session is going away (tab closed, server stopping): free the slot and the model's memory now.
        pool.release(ticket)
        s.update(ticket=None, running=False, trainer=None)
        raise
    if finished:
        pool.release(ticket)
        s["ticket"] = None
        tr.last_eval = tr.task.evaluate()
        st.rerun()  # redraw the whole page with the trained model


def rerun_pending() -> bool:
    """True when the user clicked or changed something while this script run is still going.

    Streamlit does not interrupt a running fragment for a click inside it; it queues the rerun. Long loops in a
    fragment (training, the GAN's Play) call this between chunks and return when it is True, so the queued rerun
    runs at once. Reads the script runner's request state (a private attribute of the pinned Streamlit release;
    if it ever disappears this answers False and a click is seen when the run ends, as before)."""
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    requests = getattr(get_script_run_ctx(), "script_requests", None)
    return getattr(requests, "_state", None) == ScriptRequestType.RERUN


def _status(tr: Trainer, s: dict) -> str:
    head = "Training" if s["running"] else "Trained"
    loss = next((f"{k} {v:.4g}" for k, v in tr.latest.items() if "loss" in k), "")
    ev = ", ".join(f"{k} {v:.4g}" for k, v in tr.last_eval.items()) if not s["running"] else ""
    return f"{head}: {tr.steps:,} steps in {tr.seconds:.1f} s. {loss}" + (f" | held-out: {ev}" if ev else "")
