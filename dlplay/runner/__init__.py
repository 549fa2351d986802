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
$DLPLAY_RUNS_PER_SESSION (default 2) runs running or queued. This package is the only place that sets torch's
thread count (settings.set_threads): cores split between the runs in progress ($DLPLAY_THREADS fixes it).

The package:
    settings.py  slots, threads per run, runs per session, set_threads and the running task's thread cap
    jobs.py      Job, resume_state, the dedup key and code_version, execute (the loop every backend runs, in chunks)
    runs.py      _Execution (one computation, shared by identical requests) and Run (the handle a page polls)
    worker.py    the worker process: _worker_main (the spawn target), the warm-up, _Worker
    __init__.py  (here) Runner (slots, queue, dispatch, crash recovery), the process-wide runner() and run_now.
                 runner() and its _RUNNER stay here, so `dlplay.runner._RUNNER = ...` (tests, debug.py) is the
                 runner every caller gets.
"""

from __future__ import annotations

import collections
import itertools
import multiprocessing as mp
import os
import pickle
import threading
import time
import traceback
from multiprocessing.connection import wait as wait_connections
from typing import Callable

from ..errors import InputError
# Every name the module had before it became a package stays importable from dlplay.runner. The lists and locks
# (_THREAD_CAP, _CODE_VERSION, _LEGACY_BUILD_LOCK, _SPAWN_LOCK) are the submodules' own objects, shared. Each number
# lives beside its one reader: STALE_SECONDS and STOP_GRACE_SECONDS here (Runner), CHUNK_SECONDS in jobs.py
# (execute; the copy here is for reading only).
from .jobs import (_CODE_VERSION, _LEGACY_BUILD_LOCK, CHUNK_SECONDS, Job, _dedup_key, _name, _sendable,
                   code_version, execute, resume_state)
from .runs import Run, _dumps, _Execution
from .settings import (_THREAD_CAP, _current_threads, _gpu_count, default_capacity, runs_per_session, set_threads,
                       threads_per_run)
from .worker import _SPAWN_LOCK, _warm_up, _Worker, _worker_main

__all__ = ["CHUNK_SECONDS", "Job", "Run", "Runner", "STALE_SECONDS", "STOP_GRACE_SECONDS", "code_version",
           "default_capacity", "execute", "resume_state", "run_now", "runner", "runs_per_session", "set_threads",
           "threads_per_run"]

STALE_SECONDS = 4.0          # a run nobody polls for this long (its tab closed or left the page) is paused
                             # (pages poll every 30 ms while they follow a run; a live view draws in < 1 s)
STOP_GRACE_SECONDS = 3.0     # a worker that has not ended its run this long after Stop (one long library call:
                             # a UMAP, an MDS) is killed and replaced; the run keeps its last live state


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
