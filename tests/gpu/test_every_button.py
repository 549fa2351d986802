"""Every button of every page pressed at least once under the fake GPU (issue 29): a page that moves a trainer's
model in place, reads a device tensor into numpy or mixes devices crashes here, where on the CPU it would not.

Budgets are cut first (every steps / seconds / epochs box to at most 20, never below its minimum; one run at
most 3 s), then each
button the page shows is pressed once, in the order the page shows them; buttons that appear afterwards (Resume,
Submit, ...) are pressed too. A sentence in an error box is allowed (some buttons need an upload first and say so);
an exception is not."""

import pytest
from streamlit.testing.v1 import AppTest

from dlplay import catalogue, limits

pytestmark = pytest.mark.fakegpu

BUDGET_WORDS = ("steps", "seconds", "epochs", "episodes", "iterations", "budget")
MAX_PRESSES = 40          # a page with more buttons than this is cut off here (none has that many)


@pytest.fixture
def short_runs(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RUN_SECONDS", 3)


def _cut_budgets(at):
    for box in at.number_input:
        key = str(box.key or "") + " " + str(box.label or "")
        if not box.disabled and any(w in key.lower() for w in BUDGET_WORDS) and box.min is not None:
            box.set_value(max(box.min, min(box.value, 20) if isinstance(box.value, (int, float)) else box.min))


def _name(button) -> str:
    return f"{button.label!r} ({button.key})" if button.key else repr(button.label)


def _exceptions(at):
    return [e.value for e in at.exception]


@pytest.mark.parametrize("demo", catalogue.available(), ids=[d.url_path for d in catalogue.available()])
def test_every_button_of_the_page_runs_on_the_fake_gpu(root, short_runs, fresh_runner, demo):
    at = AppTest.from_file(str(demo.path), default_timeout=300).run()
    assert not _exceptions(at), _exceptions(at)
    pressed: list[str] = []
    for _ in range(MAX_PRESSES):
        todo = [b for b in at.button if _name(b) not in pressed and not b.disabled]
        if not todo:
            break
        button = todo[0]
        pressed.append(_name(button))
        _cut_budgets(at)
        button.click().run()
        assert not _exceptions(at), f"after pressing {_name(button)}: {_exceptions(at)}"
    print(demo.url_path, "pressed:", pressed)
