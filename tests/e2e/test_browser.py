"""Open every page of the running app in headless Chromium: it must render, show no exception box, and leave a
screenshot in test-artifacts/ for a human to look at."""

import pytest

from dlplay import catalogue

from .conftest import ARTIFACTS

pytestmark = pytest.mark.e2e
PAGES = [("home", "dlplay: an unsupervised deep learning playground")] + \
        [(d.url_path, d.title) for d in catalogue.available()]


def _wait_idle(page, timeout=120_000):
    """Wait until the script finished running (Streamlit shows a 'running' status widget meanwhile)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout)
    page.wait_for_timeout(500)


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
