"""Open every page of the running app in headless Chromium: it must render, show no exception box, and leave a
screenshot in test-artifacts/ for a human to look at."""

import pytest

from dlplay import catalogue

from .conftest import ARTIFACTS

pytestmark = pytest.mark.e2e
PAGES = [("home", "dlplay: an unsupervised deep learning playground")] + \
        [(d.url_path, d.title) for d in catalogue.available()]


def _running(page) -> bool:
    return page.evaluate(
        "() => { const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
        " return !!w && /Running|Stop/.test(w.innerText) }")


def _wait_idle(page, timeout=120.0, quiet=2.0):
    """Wait until the script has finished running: Streamlit's status widget says 'Running' (with a Stop button)
    meanwhile. It can appear a moment after the first elements, so wait for `quiet` seconds without it."""
    import time

    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    end, calm_since = time.monotonic() + timeout, None
    while time.monotonic() < end:
        if _running(page) or page.locator('[data-testid="stSkeleton"]').count():
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the page was still running after {timeout:.0f} s")


@pytest.mark.parametrize("path,title", PAGES, ids=[p for p, _ in PAGES])
def test_page_opens_without_exception(server, browser, path, title):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server.url}/{'' if path == 'home' else path}", timeout=60_000)
        page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
        _wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / f"{path}.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
            '[data-testid="stException"]').first.inner_text()
        assert not errors, errors
    finally:
        page.close()


def test_sidebar_groups_every_demo(server, browser):
    page = browser.new_page()
    try:
        page.goto(server.url, timeout=60_000)
        nav = page.locator('[data-testid="stSidebarNav"]')
        nav.wait_for(timeout=60_000)
        text = nav.inner_text()
        for d in catalogue.available():
            assert d.title in text
        for g in {d.group for d in catalogue.available()}:
            assert g.lower() in text.lower()
    finally:
        page.close()


def test_training_panel_trains_in_the_browser(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{server.url}/datasets", timeout=60_000)
        page.get_by_role("button", name="Train").first.wait_for(timeout=120_000)
        _wait_idle(page)
        page.get_by_role("button", name="Train").first.click()
        page.get_by_text("Your model").first.wait_for(timeout=90_000)
        page.screenshot(path=str(ARTIFACTS / "datasets-trained.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()
