"""The training panel under contention: it waits for a free slot, then trains; sessions never share models."""

import time

from streamlit.testing.v1 import AppTest

from dlplay import classifier, runner as R


def test_panel_waits_for_a_free_slot_then_trains(root, monkeypatch):
    r = R.Runner(capacity=1, backend="thread")
    monkeypatch.setattr(R, "_RUNNER", r)
    try:
        at = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=120).run()
        at.number_input(key="ds:clf:steps").set_value(100)
        other = r.submit(R.Job(classifier.make_task, classifier.ClassifierConfig(), seconds=1.5))  # holds the slot
        t0 = time.monotonic()
        at.button(key="ds:clf:start").click().run()
        waited = time.monotonic() - t0
        assert not at.exception
        assert other.messages()[-1]["type"] == "end"
        assert "Your model" in at.metric[0].label  # it trained once the slot was free
        assert waited >= 1.5
        assert r.busy == 0 and r.waiting == 0  # and gave the slot back
    finally:
        r.close()


def test_sessions_do_not_share_what_they_train(root):
    a = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=120).run()
    a.number_input(key="ds:clf:steps").set_value(100)
    a.button(key="ds:clf:start").click().run()
    b = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=120).run()
    assert "Your model" in a.metric[0].label
    assert "Shipped model" in b.metric[0].label
