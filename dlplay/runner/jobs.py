"""What a run is: a Job (plain data: the task factory, config, seed, budget), the key that lets identical runs be
computed once (with the digest of dlplay's source), and `execute`, the loop every backend runs: train in chunks,
send progress, obey stop/pause and knob changes, end at the budget or the time cap with one 'end' message."""

from __future__ import annotations

import math
import pickle
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from .. import limits
from ..errors import InputError, TrainingDiverged
from .settings import _THREAD_CAP, _current_threads, set_threads

CHUNK_SECONDS = 0.1          # a run checks for stop and sends its progress this often


# -- what a run is -------------------------------------------------------------------------------------------------
@dataclass
class Job:
    """Everything a run needs, as plain data: `make_task(config, seed)` builds the Task (a module-level function,
    so it can be sent to a worker process by name); the budget is steps and/or seconds."""

    make_task: Callable
    config: Any
    seed: int = 0
    steps: int | None = None
    seconds: float | None = None
    record_every: int = 1
    resume: dict | None = None        # resume_state() of a previous run: the task's state and the step counters
    live_seconds: float = 0.25        # how often a snapshot for the live view is sent (task.live_state())
    rate: float | None = None         # slow motion: at most this many steps a second, each one sent
    owner: str = ""                   # who asked (a browser session id): at most runs_per_session() at once
    device: str | None = None

    def build(self):
        from ..topics import Config, build_task
        if isinstance(self.config, Config):
            return build_task(self.make_task, self.config, self.seed, self.device)
        with _LEGACY_BUILD_LOCK:
            return self.make_task(self.seed)


_LEGACY_BUILD_LOCK = threading.RLock()


def resume_state(trainer) -> dict:
    """What a new run needs to continue where `trainer` stopped (its task state and counters)."""
    return {"task": trainer.task.state_dict(), "steps": trainer.steps, "seconds": trainer.seconds}


_CODE_VERSION: list[str] = []


def code_version() -> str:
    """A digest of dlplay's source: results computed by other code are never reused."""
    if not _CODE_VERSION:
        import hashlib
        from pathlib import Path
        h = hashlib.sha1()
        # every .py under dlplay/ (this file is dlplay/runner/jobs.py: two levels up), the topics and the runner
        for p in sorted(Path(__file__).resolve().parents[1].rglob("*.py")):
            h.update(p.read_bytes())
        _CODE_VERSION.append(h.hexdigest()[:16])
    return _CODE_VERSION[0]


def _dedup_key(job: Job) -> tuple | None:
    """Identical runs are computed once: a run is fully described by its task factory, config, seed, step budget
    and the code. Only step budgets qualify (a time budget gives a different model on every machine and load)."""
    if not job.steps or job.resume is not None or job.rate or "<" in _name(job.make_task):
        return None
    import hashlib
    try:
        cfg = hashlib.sha1(pickle.dumps(job.config, protocol=5)).hexdigest()
    except Exception:  # noqa: BLE001 - a config that cannot be pickled is simply not shared
        return None
    return (_name(job.make_task), cfg, job.seed, job.steps, job.seconds, job.record_every, job.live_seconds,
            job.device, code_version())


def _name(fn) -> str:
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"


def _sendable(fn) -> bool:
    """Can this factory be sent to another process by reference (importable, module-level)?"""
    mod, qual = getattr(fn, "__module__", ""), getattr(fn, "__qualname__", "")
    return bool(mod) and mod.startswith("dlplay") and "<" not in qual and "." not in qual


# -- the loop every backend runs -----------------------------------------------------------------------------------
def execute(job: Job, send: Callable[[dict], None], control: Callable[[], str | None],
            worker: bool = False, tunes: Callable[[], list[dict]] | None = None) -> None:
    """Train job's task in chunks, sending progress after each chunk and one final 'end' message.

    `control()` is asked between chunks and returns None, 'stop' or 'pause'; `tunes()` returns the knob changes
    asked for since the last chunk (topics.tune applies each between two steps; its mark goes with the progress).
    The run also ends at its step or time budget and at limits.MAX_RUN_SECONDS of wall-clock time."""
    from ..topics import describe_change, tune
    from ..train import Trainer

    reason, error, tr, sent = "", "", None, 0
    try:
        task = job.build()
        if task.max_threads and worker:     # a worker process runs one task: honour its thread cap
            _THREAD_CAP[0] = task.max_threads
            set_threads(min(_current_threads(), task.max_threads))
        tr = Trainer(task, record_every=job.record_every)
        if job.resume:
            task.load_state_dict(job.resume["task"])
            tr.steps, tr.seconds = int(job.resume["steps"]), float(job.resume["seconds"])
            if getattr(task, "LIVE_KNOBS", ()):   # the saved optimiser state holds the old learning rates:
                task.retune(task.config)          # the knobs of this job's config win

        step0, sec0 = tr.steps, tr.seconds
        wall0 = time.monotonic()
        cap = limits.MAX_RUN_SECONDS
        seconds = min(job.seconds if job.seconds is not None else math.inf, cap)
        last_live = -math.inf
        while True:
            cmd = control()
            if cmd in ("stop", "pause"):
                reason = "stopped" if cmd == "stop" else "paused"
                break
            marks, notice = [], ""
            for changes in (tunes() if tunes else ()):
                try:
                    diff = tune(task, changes)
                except InputError as e:          # the run goes on with its previous knobs
                    notice = str(e)
                    continue
                if diff:
                    marks.append({"step": tr.steps, "label": describe_change(diff), "changes": changes})
            if marks or notice:
                tr.marks.extend(marks)
                send({"type": "progress", "history": [], "steps": tr.steps, "seconds": tr.seconds, "live": None,
                      "marks": marks, "notice": notice})
            steps_left = None if job.steps is None else job.steps - (tr.steps - step0)
            secs_left = seconds - (tr.seconds - sec0)
            if steps_left is not None and steps_left <= 0:
                reason = "step budget reached"
                break
            if task.finished:
                reason = "finished"
                break
            if secs_left <= 0:
                reason = "time budget reached" if job.seconds is not None and job.seconds <= cap else \
                    f"stopped at the {cap:g} s limit of one run (weights kept)"
                break
            if time.monotonic() - wall0 > cap + 1:
                reason = f"stopped at the {cap:g} s limit of one run (weights kept)"
                break
            if job.rate:     # slow motion: one step, then wait for the next tick
                t0 = time.monotonic()
                tr.run(steps=1, evaluate=False)
                time.sleep(max(0.0, 1.0 / job.rate - (time.monotonic() - t0)))
            else:
                tr.run(seconds=min(CHUNK_SECONDS, secs_left), steps=steps_left, evaluate=False)
            now = time.monotonic()
            live = None
            if now - last_live >= job.live_seconds:
                live, last_live = task.live_state(), now
            send({"type": "progress", "history": tr.history[sent:], "steps": tr.steps, "seconds": tr.seconds,
                  "live": live})
            sent = len(tr.history)
    except TrainingDiverged as e:     # the engine has already put the last good weights back
        reason, error = "diverged", str(e)
    except InputError as e:
        reason, error = "refused", str(e)
    except MemoryError:
        reason, error = "out of memory", ("The run ran out of memory and was stopped; try a smaller model, batch "
                                          "or picture.")
    except Exception as e:  # noqa: BLE001 - a bug in a task must end the run with a sentence, not the server
        if type(e).__name__ == "OutOfMemoryError":
            reason, error = "out of memory", ("The GPU ran out of memory and the run was stopped; try a smaller "
                                              "model, batch or picture.")
        else:
            reason, error = "failed", f"The run failed with an internal error ({type(e).__name__}: {e})."
            traceback.print_exc()
    end = {"type": "end", "reason": reason, "error": error, "history": [], "state": None, "last_eval": {},
           "steps": 0, "seconds": 0.0}
    if tr is not None:
        try:
            end.update(history=tr.history[sent:], steps=tr.steps,
                       seconds=tr.seconds, state=tr.task.state_dict())
            if reason not in ("failed", "out of memory"):
                end["last_eval"] = tr.task.evaluate() or {}
                end["last_eval"] = {k: float(v) for k, v in end["last_eval"].items()}
        except Exception as e:  # noqa: BLE001
            end.update(error=end["error"] or f"The run's result could not be read ({type(e).__name__}: {e}).")
    send(end)
