"""Everything dlplay takes from Streamlit beyond its public API, in one place (tests/test_compat.py fails loudly when
the pinned Streamlit release changes any of it).

- `rerun_pending()`: a click inside a running fragment is queued, not delivered; long loops ask this between chunks
  and return so the queued rerun runs at once. Streamlit has no public way to ask.
- `StopException`: raised into a script when its session ends (tab closed, server stopping), so a loop can free
  what it holds. Public API has no name for it.
- `stop_requested()`: the same question for the session ending (a closed tab), so a waiting loop frees its run.
- `session_id()`: who is asking, for the runner's fair share of slots (public: the script run context).
- `session_counts()`: sessions the server keeps and how many are connected, for the load test's leak counters
  (dlplay/debug.py); Streamlit has no public way to list them.
- `start_session_janitor()`: a closed tab's session is kept `disconnectedSessionTTL` seconds for a reconnect, in a
  TTL cache that drops expired entries only when it is next changed; after the last students leave nothing changes
  it, and every expired session (its trainers and models) stayed in memory. The janitor expires it on time and
  empties its state (Streamlit's send loop still holds the last session it served).
- `leave_pages_folder_mode()`: a fresh server's first visitor on a page URL runs that page without app.py
  (Streamlit's old pages/ folder mode); the page leaves that mode and reruns through app.py.
"""

from __future__ import annotations

import threading
import time

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import StopException  # noqa: F401  (re-exported)
from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx


def rerun_pending() -> bool:
    """True when the user clicked or changed something while this script run is still going."""
    requests = getattr(get_script_run_ctx(), "script_requests", None)
    return getattr(requests, "_state", None) == ScriptRequestType.RERUN


def stop_requested() -> bool:
    """True when this session is ending (its tab closed, the server stopping): a loop that makes no Streamlit
    call while it waits (a run inside one long library call sends nothing) would otherwise never hear of it."""
    requests = getattr(get_script_run_ctx(), "script_requests", None)
    return getattr(requests, "_state", None) == ScriptRequestType.STOP


def session_id() -> str:
    ctx = get_script_run_ctx()
    return getattr(ctx, "session_id", "") or ""


def session_counts() -> tuple[int, int] | None:
    """(sessions kept, sessions connected) by this server, or None outside a running server."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    mgr = Runtime.instance()._session_mgr
    return len(mgr.list_sessions()), mgr.num_active_sessions()


_JANITOR_LOCK = threading.Lock()
_JANITOR_STARTED = False


def _expire_disconnected_sessions() -> None:
    """On the server's event loop: drop the disconnected sessions whose time to reconnect has passed."""
    from streamlit.runtime import Runtime

    storage = getattr(Runtime.instance()._session_mgr, "_session_storage", None)
    expire = getattr(getattr(storage, "_cache", None), "expire", None)
    for _, info in (expire() if expire is not None else ()) or ():
        # Streamlit's send loop keeps its last session in a loop variable until another connects: empty the
        # state of an expired session (and its fragments, whose closures hold the panels' state), so that one
        # holds no trainer or model either.
        session = getattr(info, "session", None)
        for part in (getattr(session, "session_state", None), getattr(session, "_fragment_storage", None)):
            if part is not None:
                part.clear()


def _janitor(loop, every: float) -> None:
    while not loop.is_closed():
        time.sleep(every)
        try:
            loop.call_soon_threadsafe(_expire_disconnected_sessions)
        except RuntimeError:   # the loop closed between the check and the call: the server is stopping
            return


def start_session_janitor(every: float = 5.0) -> None:
    """Once per server process: every `every` s, expire disconnected sessions on the server's event loop (the TTL
    cache is not thread-safe, so the call is handed to that loop)."""
    global _JANITOR_STARTED
    from streamlit.runtime import Runtime

    with _JANITOR_LOCK:
        if _JANITOR_STARTED or not Runtime.exists():
            return
        loop = Runtime.instance()._get_async_objs().eventloop
        threading.Thread(target=_janitor, args=(loop, every), daemon=True, name="dlplay-session-janitor").start()
        _JANITOR_STARTED = True


def leave_pages_folder_mode() -> None:
    from streamlit.runtime.pages_manager import PagesManager
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
