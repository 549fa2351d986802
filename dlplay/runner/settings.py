"""The runner's settings: how many slots, how many torch threads each run gets, how many runs one session may
hold. set_threads here is the one place in dlplay that sets torch's thread count.

_THREAD_CAP lives here only: it is a list, so jobs.py, worker.py and dlplay.runner, which import it, all share this
one object."""

from __future__ import annotations

import os


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
