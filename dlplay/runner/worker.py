"""The worker process: one per slot, started once with the spawn method and reused. It receives pickled jobs, runs
each with execute() under its own thread count, and sends pickled progress back. _worker_main is the spawn target,
pickled by its module path (dlplay.runner.worker), so the child imports it from here."""

from __future__ import annotations

import os
import pickle
import sys
import threading
import types

from .jobs import execute
from .runs import _dumps, _Execution
from .settings import _THREAD_CAP, set_threads


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

    from ..topics import TOPICS
    for name in TOPICS:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a topic that cannot import fails later, with its own sentence
            pass
    # What a process pays the first time it builds a task, paid here rather than after a student's first Train:
    # the first optimiser imports torch._dynamo (torch.optim's lazy import) and the bundled digits import
    # scikit-learn's datasets, about 1 s each on a 2-core CPU (issue 32's click-to-Trained time).
    try:
        import torch._dynamo  # noqa: F401
        from ..data import load
        load("digits")
    except Exception:  # noqa: BLE001 - a failed warm-up only means a slower first run
        pass
    if os.environ.get("DLPLAY_WARMUP", "1") != "0" and "PYTEST_CURRENT_TEST" not in os.environ:
        try:
            from ..embed import warm_up_umap
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
