"""Runs: an _Execution is one job being computed (queued, running, done), watched by one or more Run handles, the
objects a page polls for messages and stops, pauses or tunes."""

from __future__ import annotations

import collections
import math
import pickle
import time
from typing import TYPE_CHECKING

from .jobs import Job

if TYPE_CHECKING:
    from . import Runner


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
