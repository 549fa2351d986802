"""Leak counters for the load test (debug only): what the server holds, written to a file once a second.

Set `$DLPLAY_DEBUG_COUNTS` to a file path before starting the server; the first page opened starts one thread that
rewrites that file every second with one JSON object:

    {"time": ..., "sessions": 3, "active_sessions": 2, "trainers": 2, "models": 2, "running": 1, "queued": 0}

sessions: Streamlit sessions the server keeps (a closed tab's session is kept 30 s, then dropped; see README);
trainers / models: live `Trainer` objects and the distinct models their tasks hold (after a garbage collection);
running / queued: the runner's runs in worker slots and waiting for one. `bench/load.py` reads it to check that a
lecture's worth of closed tabs leaves nothing behind. Without the variable nothing starts and nothing is counted.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
import weakref
from pathlib import Path

TRAINERS: "weakref.WeakSet" = weakref.WeakSet()   # every Trainer registers itself here (dlplay/train.py)
_STARTED = False
_LOCK = threading.Lock()
_STOP = threading.Event()


def counts() -> dict:
    """What the server holds now (one garbage collection first, so only what is really referenced counts)."""
    gc.collect()
    out = {"time": time.time(), "sessions": None, "active_sessions": None}
    try:
        from .ui.compat import session_counts   # Streamlit internals live in one place

        kept = session_counts()
        if kept is not None:
            out["sessions"], out["active_sessions"] = kept
    except Exception:   # noqa: BLE001 - a debug aid never fails its caller
        pass
    trainers = list(TRAINERS)
    out["trainers"] = len(trainers)
    out["models"] = len({id(m) for t in trainers if (m := getattr(t.task, "model", None)) is not None})
    from .runner import _RUNNER
    out["running"] = _RUNNER.busy if _RUNNER is not None and not _RUNNER._closed else 0
    out["queued"] = _RUNNER.waiting if _RUNNER is not None and not _RUNNER._closed else 0
    return out


def _loop(path: Path, every: float, stop_event: threading.Event) -> None:
    while not stop_event.is_set():
        try:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(counts()))
            tmp.replace(path)      # readers never see half a file
        except Exception:   # noqa: BLE001 - a debug aid must never take the server down
            pass
        stop_event.wait(every)


def stop() -> None:
    """End the counter thread (tests); a later start_from_env() starts a new one."""
    global _STARTED
    with _LOCK:
        _STOP.set()
        _STARTED = False


def start_from_env(every: float = 1.0) -> bool:
    """Start the counter thread once per process if $DLPLAY_DEBUG_COUNTS names a file; True if it runs."""
    global _STARTED, _STOP
    path = os.environ.get("DLPLAY_DEBUG_COUNTS")
    if not path:
        return False
    with _LOCK:
        if not _STARTED:
            _STOP = threading.Event()      # each thread its own, so a stopped one never comes back
            threading.Thread(target=_loop, args=(Path(path), every, _STOP), daemon=True, name="dlplay-counts").start()
            _STARTED = True
    return True
