"""The training panel under contention: it waits for a slot, then trains; Stop frees the slot."""

import threading
import time

from streamlit.testing.v1 import AppTest

from dlplay import slots


def test_panel_waits_for_a_free_slot_then_trains(root, monkeypatch):
    pool = slots.SlotPool(capacity=1, stale_seconds=30)
    monkeypatch.setattr(slots, "_POOL", pool)
    at = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=120).run()
    at.slider(key="ds:clf:budget").set_value(1.0)
    other = pool.join()  # another student's run holds the only slot for 1.5 s
    threading.Timer(1.5, pool.release, args=(other,)).start()
    t0 = time.monotonic()
    at.button(key="ds:clf:start").click().run()
    waited = time.monotonic() - t0
    assert not at.exception
    assert "Your model" in at.metric[0].label  # it trained once the slot was free
    assert waited >= 1.5
    assert pool.busy == 0 and pool.waiting == 0  # and gave the slot back


def test_sessions_do_not_share_what_they_train(root):
    a = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=120).run()
    a.slider(key="ds:clf:budget").set_value(1.0)
    a.button(key="ds:clf:start").click().run()
    b = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=120).run()
    assert "Your model" in a.metric[0].label
    assert "Shipped model" in b.metric[0].label
