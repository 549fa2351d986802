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
- `leave_pages_folder_mode()`: a fresh server's first visitor on a page URL runs that page without app.py
  (Streamlit's old pages/ folder mode); the page leaves that mode and reruns through app.py.
"""

from __future__ import annotations

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


def leave_pages_folder_mode() -> None:
    from streamlit.runtime.pages_manager import PagesManager
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
