"""Training slots: at most `capacity` training runs compute at once in this process; the others wait in a
first-come, first-served queue and can ask how many are ahead of them.

In a lecture hall a room of students presses Train at the same moment on one laptop. Running every run at once
would make all of them slow (and oversubscribe the cores); a queue keeps each run fast and tells the rest how
long the line is. Capacity: $DLPLAY_SLOTS, default one slot per CPU core (four per GPU). Before each chunk of
training a run sets torch's thread count to cores / runs in progress (see `threads_per_run`).
"""

from __future__ import annotations

import itertools
import os
import threading
import time

import torch


def default_capacity() -> int:
    env = os.environ.get("DLPLAY_SLOTS")
    if env:
        return max(1, int(env))
    if torch.cuda.is_available():
        return 4 * torch.cuda.device_count()
    return max(1, os.cpu_count() or 1)


def threads_per_run(running: int) -> int:
    """torch threads for one run while `running` runs share the CPU: the cores split between them, at least 1.
    A lecturer training alone gets every core; a full room gets one core per run, never more threads than cores."""
    if os.environ.get("DLPLAY_THREADS"):
        return max(1, int(os.environ["DLPLAY_THREADS"]))
    return max(1, (os.cpu_count() or 1) // max(1, running))


class SlotPool:
    """A fair (FIFO) counting semaphore whose waiters can see their place in the line.

    Holders and waiters prove they are alive with `touch(ticket)` (every call that names the ticket counts);
    a ticket silent for `stale_seconds` is dropped, so a browser tab that vanished cannot keep a slot.
    """

    def __init__(self, capacity: int | None = None, stale_seconds: float = 5.0):
        self.capacity = capacity or default_capacity()
        self.stale_seconds = stale_seconds
        self._lock = threading.Condition()
        self._queue: list[int] = []      # tickets waiting, in arrival order
        self._running: set[int] = set()  # tickets holding a slot
        self._seen: dict[int, float] = {}
        self._ids = itertools.count(1)

    def join(self) -> int:
        """Get in line; returns a ticket. Then `wait(ticket, timeout)` until it returns True."""
        with self._lock:
            t = next(self._ids)
            self._queue.append(t)
            self._seen[t] = time.monotonic()
            self._promote()
            return t

    def touch(self, ticket: int) -> bool:
        """Heartbeat; False if the ticket was dropped (released or stale)."""
        with self._lock:
            if ticket not in self._seen:
                return False
            self._seen[ticket] = time.monotonic()
            self._promote()
            return True

    def _reap(self) -> None:
        old = time.monotonic() - self.stale_seconds
        for t in [t for t, seen in self._seen.items() if seen < old]:
            self._running.discard(t)
            if t in self._queue:
                self._queue.remove(t)
            del self._seen[t]

    def _promote(self) -> None:
        self._reap()
        while self._queue and len(self._running) < self.capacity:
            self._running.add(self._queue.pop(0))
            self._lock.notify_all()

    def ahead(self, ticket: int) -> int:
        """How many runs are ahead of this ticket: 0 once it holds a slot (or is unknown)."""
        with self._lock:
            return self._queue.index(ticket) + 1 if ticket in self._queue else 0

    def holds(self, ticket: int) -> bool:
        with self._lock:
            return ticket in self._running

    def wait(self, ticket: int, timeout: float) -> bool:
        """Block up to `timeout` seconds for a slot; True when the ticket holds one."""
        deadline = time.monotonic() + timeout
        with self._lock:
            if ticket in self._seen:
                self._seen[ticket] = time.monotonic()
            while ticket not in self._running:
                left = deadline - time.monotonic()
                if left <= 0 or ticket not in self._queue:
                    return False
                self._lock.wait(left)
            return True

    def release(self, ticket: int) -> None:
        """Give the slot back (or leave the line). Safe to call more than once."""
        with self._lock:
            self._running.discard(ticket)
            if ticket in self._queue:
                self._queue.remove(ticket)
            self._seen.pop(ticket, None)
            self._promote()

    @property
    def busy(self) -> int:
        with self._lock:
            self._promote()
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._lock:
            self._promote()
            return len(self._queue)


_POOL: SlotPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> SlotPool:
    """The process-wide pool (one per server process, shared by every session)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = SlotPool()
        return _POOL
