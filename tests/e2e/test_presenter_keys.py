"""Presenter mode's keys in Chromium (issue 26): Space presses the training panel's Train, and N steps to the next
bookmark of the lecture deck while the sidebar that holds the deck is collapsed."""

import pytest

from .test_browser import _wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _main_focus(page) -> None:
    page.evaluate("() => document.activeElement && document.activeElement.blur()")   # keys go to the page


def test_space_trains_and_n_opens_the_next_bookmark(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(f"{server.url}/datasets?present=1", timeout=60_000)
        page.get_by_role("heading", name="Datasets and a first model").first.wait_for(timeout=120_000)
        _wait_idle(page)
        steps = page.get_by_role("spinbutton", name="Steps to train")
        steps.fill("200")
        steps.press("Enter")
        _wait_idle(page)
        _main_focus(page)
        page.keyboard.press("Space")
        page.get_by_text("Trained:").first.wait_for(timeout=120_000)     # Space pressed Train

        # bookmark this state (seed 7) from the sidebar, change the seed, collapse the sidebar, press N
        page.get_by_test_id("stExpandSidebarButton").click()
        page.get_by_text("Lecture deck").first.click()
        seed = page.get_by_role("spinbutton", name="Seed").first
        seed.fill("7")
        seed.press("Enter")
        _wait_idle(page)
        page.get_by_role("button", name="Bookmark this state").click()
        _wait_idle(page)
        seed.fill("3")
        seed.press("Enter")
        _wait_idle(page)
        page.get_by_test_id("stSidebarCollapseButton").click()
        _main_focus(page)
        page.keyboard.press("n")
        page.wait_for_url("**seed=7**", timeout=60_000)
        _wait_idle(page)
        assert page.get_by_role("spinbutton", name="Seed").first.input_value() == "7"
    finally:
        page.close()
