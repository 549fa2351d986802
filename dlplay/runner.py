"""The one place long computations run: training slots and their queue, worker processes, thread shares, the
per-run time cap, stop, and progress.

Every page, whatever it computes for more than a second (training a model, GAN Play, a t-SNE layout, style
transfer), hands the runner a `Job`: plain data saying which topic function builds the Task, with which config and
seed, for how long. The runner answers with a `Run` handle the page polls for progress messages (plain dicts of
metrics and small state snapshots) and can stop. Nothing here knows Streamlit.

    job = Job(autoencoders.make_task, config, seed=0, seconds=10, record_every=20)
    run = runner().submit(job)             # queued; run.ahead says how many runs are in front of it
    while not run.finished:
        for msg in run.messages():         # {"type": "progress", "history": [...], "steps": ..., "live": ...}
            ...                            # the last one is {"type": "end", "state": ..., "last_eval": ...}
        time.sleep(0.1)

Two backends, the same interface:
- "process" (default): one worker process per slot, started once (spawn) and reused. Each worker trains one run
  at a time with its own thread count, so a run trains at the CLI's speed: no GIL or thread pool shared with the
  web server, the live views or other sessions. A worker that crashes (or is killed for memory) ends only its run,
  with a sentence, and is replaced.
- "thread": runs in a thread of this process ($DLPLAY_RUNNER=thread; also used for jobs whose task factory is
  not a module-level function, which cannot be sent to another process).

A cluster backend (Ray) plugs in beside these: a run is described entirely by its Job.

Slots: $DLPLAY_SLOTS (default one per CPU core, four per GPU). Each browser session may hold at most
$DLPLAY_RUNS_PER_SESSION (default 2) runs running or queued. This module is the only one that sets torch's thread
count: cores split between the runs in progress ($DLPLAY_THREADS fixes it).
"""

from __future__ import annotations

import collections

import itertools
import math
import multiprocessing as mp
import os
import pickle
import sys
import threading
import types
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_connections
from typing import Any, Callable

from . import limits
from .errors import InputError, TrainingDiverged

CHUNK_SECONDS = 0.1          # a run checks for stop and sends its progress this often
STALE_SECONDS = 4.0          # a run nobody polls for this long (its tab closed or left the page) is paused
                             # (pages poll every 30 ms while they follow a run; a live view draws in < 1 s)
STOP_GRACE_SECONDS = 3.0     # a worker that has not ended its run this long after Stop (one long library call:
                             # a UMAP, an MDS) is killed and replaced; the run keeps its last live state


# -- settings ------------------------------------------------------------------------------------------------------
def _gpu_count() -> int:
    dev = (os.environ.get("DLPLAY_DEVICE") or "auto").lower()
    if dev == "cpu":
        return 0
    import torch
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def default_capacity() -> int:
    env = os.environ.get("DLPLAY_SLOTS")
    if env:
        return max(1, int(env))
    gpus = _gpu_count()
    return 4 * gpus if gpus else max(1, os.cpu_count() or 1)


def threads_per_run(running: int) -> int:
    """torch threads for one run while `running` runs share the CPU: the cores but one split between them, at
    least 1. One core is left to the web server and the browsers' drawing: OpenMP threads that find a core busy
    spin and wait, and the demo models are small (measured on 2 cores: 1 thread gives 0.9-1.05x the speed of 2
    when alone, and far more than 2 beside a busy server)."""
    if os.environ.get("DLPLAY_THREADS"):
        return max(1, int(os.environ["DLPLAY_THREADS"]))
    cores = os.cpu_count() or 1
    return max(1, (cores - 1 if cores > 1 else 1) // max(1, running))


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op thread count for this process (default: $DLPLAY_THREADS, else every core), never
    above the running task's own cap. The only place in dlplay that sets it."""
    import torch
    n = n or int(os.environ.get("DLPLAY_THREADS", 0) or 0) or os.cpu_count() or 1
    if _THREAD_CAP[0]:
        n = min(n, _THREAD_CAP[0])
    if torch.get_num_threads() != n:
        torch.set_num_threads(max(1, n))
    return torch.get_num_threads()


_THREAD_CAP = [0]     # in a worker: the running task's max_threads (0: no cap)


def _current_threads() -> int:
    import torch
    return torch.get_num_threads()


def runs_per_session() -> int:
    return max(1, int(os.environ.get("DLPLAY_RUNS_PER_SESSION", 2)))


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
        from .topics import Config, build_task
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
        for p in sorted(Path(__file__).resolve().parent.rglob("*.py")):
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
    from .topics import describe_change, tune
    from .train import Trainer

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


# -- runs ----------------------------------------------------------------------------------------------------------
class _Execution:
    """One job being computed (queued, running, done), watched by one or more Run handles: identical requests
    (same task factory, config, seed, step budget and code version) share one execution."""

    def __init__(self, runner: "Runner", job: Job, rid: int, key: tuple | None):
        self._runner, self.job, self.id, self.key = runner, job, rid, key
        self.status = "queued"      # queued, running, done
        self.backend = ""
        self._control: str | None = None
        self.tunes: list[dict] = []  # knob changes asked for, in order; `tunes_sent` of them have gone to the run
        self.tunes_sent = 0
        self.handles: list[Run] = []
        self.log: list[bytes] = []  # every message so far (shared runs): a late joiner replays it
        self.end: dict | None = None
        self.replayed = False       # a finished computation replayed from the result cache

    @property
    def seen(self) -> float:
        return max((h.seen for h in self.handles), default=-math.inf)

    def _post(self, msg: dict, raw: bytes | None = None) -> None:
        raw = raw if raw is not None else _dumps(msg)
        if self.key is not None:
            self.log.append(raw)
        for h in list(self.handles):
            h._inbox.append(raw)
        if msg["type"] == "end":
            self.end = msg
            self._runner._remember(self)

    def attach(self, h: "Run") -> None:
        h._inbox.extend(self.log)
        self.handles.append(h)

    def detach(self, h: "Run", how: str) -> None:
        """One watcher leaves: the computation goes on for the others, or ends (stop/pause) if it was the last."""
        if h in self.handles:
            self.handles.remove(h)
        if not self.handles and self.status != "done":
            self._control = how


class Run:
    """A handle on one submitted job. Poll `messages()`; `finished` once the 'end' message has been read.
    Every handle gets its own copy of every message (its own weights), even when the computation is shared."""

    def __init__(self, ex: _Execution, rid: int):
        self._ex, self.id, self.job = ex, rid, ex.job
        self.end: dict | None = None
        self._inbox: collections.deque = collections.deque()
        self.seen = time.monotonic()
        self._left = False

    # asked by the caller
    def messages(self) -> list[dict]:
        self.seen = time.monotonic()
        out = []
        while self._inbox:
            m = pickle.loads(self._inbox.popleft())
            out.append(m)
            if m["type"] == "end":
                self.end = m
        return out

    @property
    def finished(self) -> bool:
        return self.end is not None

    @property
    def status(self) -> str:
        return "done" if self._left else self._ex.status

    @property
    def backend(self) -> str:
        return self._ex.backend

    @property
    def shared(self) -> bool:
        """True when this run's results come from a computation another request started (or finished) first."""
        return (self._ex.replayed or self._ex.handles[:1] != [self]) and not self._left

    @property
    def ahead(self) -> int:
        return self._ex._runner.ahead(self._ex)

    def stop(self) -> None:
        self._leave("stop")

    def pause(self) -> None:
        self._leave("pause")

    def _leave(self, how: str) -> None:
        ex = self._ex
        with ex._runner._lock:
            if len(ex.handles) > 1 and self in ex.handles:
                # Others watch the same computation: only this handle leaves, keeping its last live weights.
                ex.detach(self, how)
                self._left = True
                self._inbox.append(_dumps({"type": "end", "reason": "stopped" if how == "stop" else "paused",
                                           "error": "", "history": [], "state": None, "last_eval": {},
                                           "steps": 0, "seconds": 0.0}))
            elif self in ex.handles:
                ex._control = how
        ex._runner.wake()

    def touch(self) -> None:
        self.seen = time.monotonic()

    def tune(self, **changes) -> str:
        """Change knobs of the running task from its next step on, keeping its weights (topics.tune checks them
        in the run; a refusal comes back as the progress message's 'notice'). Returns "" when sent, or a
        sentence saying why not."""
        ex = self._ex
        with ex._runner._lock:
            if ex.status == "done" or self.end is not None:
                return "The run has ended: the change applies to the next one."
            if len(ex.handles) > 1:
                return (f"This run is shared with {len(ex.handles) - 1} other session(s) (the same settings and "
                        "seed): the change applies to your next run.")
            if ex.key is not None:            # changed from now on: no longer the run others would ask for
                ex._runner._inflight.pop(ex.key, None)
                ex.key = None
            ex.tunes.append(dict(changes))
        ex._runner.wake()
        return ""


def _dumps(obj) -> bytes:
    return pickle.dumps(obj, protocol=5)


# -- the worker process --------------------------------------------------------------------------------------------
def _worker_main(conn, threads: int) -> None:
    """A worker: receive jobs, run them with execute(), send pickled progress; obey 'stop'/'pause'/threads."""
    set_threads(threads)
    state = {"cmd": None, "tunes": []}

    def control():
        while conn.poll():
            msg = pickle.loads(conn.recv_bytes())
            if msg.get("threads"):
                set_threads(msg["threads"])
            if msg.get("cmd"):
                state["cmd"] = msg["cmd"]
            if msg.get("tune"):
                state["tunes"].append(msg["tune"])
        return state["cmd"]

    def tunes():
        out, state["tunes"] = state["tunes"], []
        return out

    while True:
        try:
            msg = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if msg.get("quit"):
            return
        if msg.get("warm"):
            _warm_up()
            continue
        _THREAD_CAP[0] = 0
        if msg.get("threads"):
            set_threads(msg["threads"])
        if "job" not in msg:
            continue
        state["cmd"], state["tunes"] = None, []
        execute(msg["job"], lambda m: conn.send_bytes(_dumps(m)), control, worker=True, tunes=tunes)


def _warm_up() -> None:
    """A new worker imports what runs need (torch, the topics) before the first run asks; and, unless
    $DLPLAY_WARMUP=0, compiles UMAP's numba code once (about 12 s), so the first UMAP of a lecture is fast."""
    import importlib

    from .topics import TOPICS
    for name in TOPICS:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a topic that cannot import fails later, with its own sentence
            pass
    if os.environ.get("DLPLAY_WARMUP", "1") != "0" and "PYTEST_CURRENT_TEST" not in os.environ:
        try:
            from .embed import warm_up_umap
            warm_up_umap()
        except Exception:  # noqa: BLE001 - a failed warm-up only means a slower first UMAP
            pass


_SPAWN_LOCK = threading.Lock()


class _Worker:
    def __init__(self, ctx, threads: int):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, threads), daemon=True, name="dlplay-worker")
        # spawn re-imports the parent's __main__ in the child. Inside Streamlit (and AppTest) __main__ is the page
        # script being run, which must not run again in a worker (it would start its own workers): hide it.
        with _SPAWN_LOCK:
            real = sys.modules.get("__main__")
            sys.modules["__main__"] = types.ModuleType("__main__")
            try:
                self.proc.start()
            finally:
                if real is not None:
                    sys.modules["__main__"] = real
        child.close()
        self.run: _Execution | None = None
        self.threads = threads
        self.sent_cmd: str | None = None
        self.sent_at = 0.0

    def send(self, msg: dict) -> bool:
        try:
            self.conn.send_bytes(_dumps(msg))
            return True
        except (OSError, BrokenPipeError):
            return False

    def close(self) -> None:
        self.send({"quit": True})
        self.proc.join(timeout=2)
        if self.proc.is_alive():
            self.proc.kill()


# -- the runner ----------------------------------------------------------------------------------------------------
class Runner:
    """Slots, queue and dispatch. One per server process (`runner()`), shared by every session."""

    def __init__(self, capacity: int | None = None, backend: str | None = None,
                 stale_seconds: float = STALE_SECONDS):
        self.capacity = capacity or default_capacity()
        self.backend = (backend or os.environ.get("DLPLAY_RUNNER") or "process").lower()
        if self.backend not in ("process", "thread"):
            raise InputError(f"Unknown runner backend {self.backend!r}: choose process or thread.")
        self.stale_seconds = stale_seconds
        self._lock = threading.RLock()
        self._queue: list[_Execution] = []
        self._running: list[_Execution] = []
        self._ids = itertools.count(1)
        self._workers: list[_Worker] = []
        self._ctx = mp.get_context("spawn")
        self._wake = threading.Event()
        self._closed = False
        self.crashes = 0
        self._rates: dict[str, float] = {}
        self._inflight: dict[tuple, _Execution] = {}
        self._results: collections.OrderedDict[tuple, list[bytes]] = collections.OrderedDict()
        self.result_cache_size = int(os.environ.get("DLPLAY_RESULT_CACHE", 32))
        self._thread = threading.Thread(target=self._loop, name="dlplay-runner", daemon=True)
        self._thread.start()

    # -- public -----------------------------------------------------------------------------------------------
    def submit(self, job: Job) -> Run:
        """Queue a job; InputError if this owner already has runs_per_session() runs running or queued."""
        with self._lock:
            if job.owner:
                mine = [h for ex in self._queue + self._running for h in ex.handles if h.job.owner == job.owner]
                if len(mine) >= runs_per_session():
                    raise InputError(f"You already have {len(mine)} runs training or waiting (in this or another "
                                     "tab); stop one first, so everyone in the room gets a turn.")
            key = _dedup_key(job)
            ex = self._inflight.get(key) if key is not None else None
            cached = self._results.get(key) if key is not None else None
            if ex is None:
                ex = _Execution(self, job, next(self._ids), key)
                if cached is not None:          # computed before: replay it
                    self._results.move_to_end(key)
                    ex.log, ex.status, ex.replayed = list(cached), "done", True
                else:
                    self._queue.append(ex)
                    if key is not None:
                        self._inflight[key] = ex
            run = Run(ex, next(self._ids))
            ex.attach(run)
        self.wake()
        return run

    def ahead(self, run: "_Execution") -> int:
        with self._lock:
            return self._queue.index(run) + 1 if run in self._queue else 0

    @property
    def busy(self) -> int:
        with self._lock:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._queue)

    def wake(self) -> None:
        self._wake.set()

    def rate(self, make_task) -> float | None:
        """Steps a second the last runs of this task factory reached here (for 'about N s' next to a step budget)."""
        return self._rates.get(_name(make_task))

    def close(self) -> None:
        self._closed = True
        self.wake()
        self._thread.join(timeout=3)
        for w in self._workers:
            w.close()

    # -- dispatch ---------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._closed:
            try:
                self._tick()
            except Exception:  # noqa: BLE001 - the dispatcher must survive anything
                traceback.print_exc()
                time.sleep(0.1)

    def _tick(self) -> None:
        now = time.monotonic()
        with self._lock:
            for r in list(self._queue):                      # a queued run nobody waits for any more
                if r._control or now - r.seen > self.stale_seconds:
                    self._queue.remove(r)
                    r.status = "done"
                    if r.key is not None:
                        self._inflight.pop(r.key, None)
                    r._post({"type": "end", "reason": "left the queue", "error": "", "history": [],
                             "state": None, "last_eval": {}, "steps": 0, "seconds": 0.0})
            for r in self._running:                           # nobody polls it: its tab closed or left the page
                if r._control is None and now - r.seen > self.stale_seconds:
                    r._control = "pause"
            while self._queue and len(self._running) < self.capacity:
                self._start(self._queue.pop(0))
            self._balance_threads()
        workers = [w for w in self._workers if w.run is not None]
        for w in workers:   # forward stop / pause / knob changes to the worker (only the dispatcher writes to it)
            while w.run.tunes_sent < len(w.run.tunes):
                w.send({"tune": w.run.tunes[w.run.tunes_sent]})
                w.run.tunes_sent += 1
            if w.run._control and w.sent_cmd != w.run._control:
                w.sent_cmd, w.sent_at = w.run._control, now
                w.send({"cmd": w.run._control})
            elif w.sent_cmd and now - w.sent_at > STOP_GRACE_SECONDS:
                self._crashed(w, forced=True)
        workers = [w for w in self._workers if w.run is not None]
        if not workers:
            self._wake.wait(0.05)
            self._wake.clear()
            return
        ready = wait_connections([w.conn for w in workers] + [w.proc.sentinel for w in workers], timeout=0.05)
        for w in workers:
            if w.conn in ready:
                try:
                    while w.conn.poll():
                        raw = w.conn.recv_bytes()
                        msg = pickle.loads(raw)
                        w.run._post(msg, raw)
                        if msg["type"] == "end":
                            self._finish(w.run)
                            w.run, w.sent_cmd = None, None
                            self._recycle_if_big(w)
                            break
                except (EOFError, OSError):
                    pass
            if w.run is not None and not w.proc.is_alive():
                self._crashed(w)

    def _start(self, run: _Execution) -> None:
        run.status = "running"
        self._running.append(run)
        threads = threads_per_run(len(self._running))
        if self.backend == "thread" or not _sendable(run.job.make_task):
            run.backend = "thread"
            threading.Thread(target=self._thread_run, args=(run,), daemon=True, name=f"dlplay-run-{run.id}").start()
            return
        run.backend = "process"
        w = next((w for w in self._workers if w.run is None and w.proc.is_alive()), None)
        if w is None:
            self._workers = [w for w in self._workers if w.run is not None or w.proc.is_alive()]
            w = _Worker(self._ctx, threads)
            self._workers.append(w)
        w.run, w.sent_cmd = run, None
        job = run.job
        try:
            ok = w.send({"job": job, "threads": threads})
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            w.run = None
            self._running.remove(run)
            run.status = "done"
            run._post({"type": "end", "reason": "refused", "history": [], "state": None, "last_eval": {},
                       "steps": 0, "seconds": 0.0,
                       "error": f"This run cannot be sent to a training process ({type(e).__name__}: {e})."})
            return
        if not ok:
            self._crashed(w)

    def _thread_run(self, run: _Execution) -> None:
        def control():
            set_threads(threads_per_run(self.busy))
            return run._control

        def tunes():
            with self._lock:
                out, run.tunes_sent = run.tunes[run.tunes_sent:], len(run.tunes)
            return out
        execute(run.job, run._post, control, tunes=tunes)
        with self._lock:
            self._finish(run)
        self.wake()

    def _remember(self, ex: _Execution) -> None:
        """A shared computation ended: later identical requests replay it (if it ran its whole step budget)."""
        with self._lock:
            if ex.key is None:
                return
            self._inflight.pop(ex.key, None)
            end = ex.end or {}
            if end.get("reason") in ("step budget reached", "finished") and not end.get("error"):
                self._results[ex.key] = ex.log
                while len(self._results) > self.result_cache_size:
                    self._results.popitem(last=False)

    def _finish(self, run: "_Execution") -> None:
        with self._lock:
            if run in self._running:
                self._running.remove(run)
            run.status = "done"
            end = run.end
            if end and end.get("seconds", 0) > 1 and run.job.resume is None:
                self._rates[_name(run.job.make_task)] = end["steps"] / end["seconds"]

    def _crashed(self, w: _Worker, forced: bool = False) -> None:
        run = w.run
        self.crashes += 0 if forced else 1
        code = w.proc.exitcode
        w.run = None
        try:
            w.proc.kill()
        except Exception:  # noqa: BLE001
            pass
        with self._lock:
            self._workers.remove(w)
        if run is not None and forced:
            run._post({"type": "end", "reason": "stopped", "history": [], "state": None, "last_eval": {},
                       "steps": 0, "seconds": 0.0, "error": "",
                       "note": "Stopped in the middle of one long computation: its last picture is kept."})
            self._finish(run)
        elif run is not None:
            why = "it was killed, probably for using too much memory" if code in (-9, 137) else \
                f"its process ended unexpectedly (exit code {code})"
            run._post({"type": "end", "reason": "crashed", "history": [], "state": None, "last_eval": {},
                       "steps": 0, "seconds": 0.0,
                       "error": f"The training run stopped: {why}. Your last live weights are kept; try a "
                                "smaller model or batch, or press Train again."})
            self._finish(run)

    def _recycle_if_big(self, w: _Worker) -> None:
        """A worker that grew past $DLPLAY_WORKER_MAX_MB (default 2,000) during a run is replaced, which gives the
        memory a large run used back to the machine (Python and PyTorch keep freed memory in their own pools)."""
        try:
            import psutil
            rss = psutil.Process(w.proc.pid).memory_info().rss / 2**20
        except Exception:  # noqa: BLE001
            return
        if rss > float(os.environ.get("DLPLAY_WORKER_MAX_MB", 2000)):
            with self._lock:
                self._workers.remove(w)
            threading.Thread(target=w.close, daemon=True).start()

    def _balance_threads(self) -> None:
        n = threads_per_run(len(self._running))
        for w in self._workers:
            if w.run is not None and w.threads != n:
                w.threads = n
                w.send({"threads": n})

    def prestart(self) -> int:
        """Start every slot's worker now and let it warm up (the server calls this at start-up, so the first Train
        of a lecture does not wait for a process to start and import torch)."""
        if self.backend != "process":
            return 0
        with self._lock:
            while len(self._workers) < self.capacity:
                w = _Worker(self._ctx, threads_per_run(1))
                w.send({"warm": True})
                self._workers.append(w)
        return len(self._workers)

    def worker_pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers if w.proc.is_alive()]


_RUNNER: Runner | None = None
_RUNNER_LOCK = threading.Lock()


def runner() -> Runner:
    """The process-wide runner (one per server process, shared by every session)."""
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None or _RUNNER._closed:
            _RUNNER = Runner()
        return _RUNNER


def run_now(job: Job, poll: float = 0.05, on_progress: Callable[[dict], None] | None = None) -> dict:
    """Submit a job and wait for it: the final 'end' message (for the CLI, tests and benchmarks)."""
    run = runner().submit(job)
    while True:
        for m in run.messages():
            if on_progress is not None:
                on_progress(m)
        if run.finished:
            return run.end
        time.sleep(poll)
