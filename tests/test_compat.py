"""What dlplay/ui/compat.py takes from Streamlit beyond its public API. Each test fails loudly (with what changed)
when the pinned Streamlit release moves or renames one of these; then compat.py is the one file to fix."""

import inspect
import re


def test_private_names_compat_relies_on_still_exist():
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner_utils import script_requests
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    assert hasattr(script_requests.ScriptRequestType, "RERUN"), "ScriptRequestType.RERUN is gone"
    assert "_state" in inspect.getsource(script_requests.ScriptRequests.__init__), \
        "ScriptRequests no longer keeps its state in _state: rerun_pending() would always answer False"
    assert hasattr(PagesManager, "uses_pages_directory"), "PagesManager.uses_pages_directory is gone"
    assert issubclass(StopException, BaseException)
    assert callable(get_script_run_ctx)
    from streamlit.runtime import Runtime
    from streamlit.runtime.session_manager import SessionManager
    assert callable(Runtime.exists) and "_session_mgr" in inspect.getsource(Runtime.__init__), \
        "Runtime no longer keeps its session manager in _session_mgr: the load test's session count breaks"
    assert callable(SessionManager.list_sessions) and callable(SessionManager.num_active_sessions)


def test_rerun_pending_sees_a_queued_rerun():
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

    from dlplay.ui import compat

    req = ScriptRequests()

    class Ctx:
        script_requests = req
        session_id = "abc"

    import streamlit.runtime.scriptrunner_utils.script_run_context as src
    real = compat.get_script_run_ctx
    compat.get_script_run_ctx = lambda: Ctx()
    try:
        assert not compat.rerun_pending()
        req.request_rerun(RerunData())
        assert compat.rerun_pending()
        assert compat.session_id() == "abc"
    finally:
        compat.get_script_run_ctx = real
    assert src.get_script_run_ctx is not None


def test_no_page_reads_globals_or_streamlit_internals(root):
    bad = []
    for p in [*(root / "pages").glob("*.py"), *(root / "dlplay").rglob("*.py")]:
        text = p.read_text()
        if p.name == "compat.py":
            continue
        for needle in ("globals()", "streamlit.runtime", "._state"):
            if needle in text:
                bad.append(f"{p.relative_to(root)}: {needle}")
        if re.search(r"\b[A-Z]\w*\.__new__\(", text):    # objects built by hand from outside their class
            bad.append(f"{p.relative_to(root)}: Class.__new__")
        if p.parent.name == "pages" and re.search(r"\.\_[a-z]\w*\(", text):   # a page calling a private method
            bad.append(f"{p.relative_to(root)}: private call")
    assert bad == []


def test_stop_requested_sees_a_closed_session():
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequests

    from dlplay.ui import compat

    req = ScriptRequests()

    class Ctx:
        script_requests = req

    real = compat.get_script_run_ctx
    compat.get_script_run_ctx = lambda: Ctx()
    try:
        assert not compat.stop_requested()
        req.request_stop()
        assert compat.stop_requested() and not compat.rerun_pending()
    finally:
        compat.get_script_run_ctx = real
