"""Open every page of the running app in headless Chromium: it must render, show no exception box, and leave a
screenshot in test-artifacts/ for a human to look at."""

import io
import time

import pytest
from PIL import Image, ImageStat

from dlplay import catalogue

from .conftest import ARTIFACTS

pytestmark = pytest.mark.e2e
PAGES = [("home", "dlplay: an unsupervised deep learning playground")] + \
        [(d.url_path, d.title) for d in catalogue.available()]


def _running(page) -> bool:
    """The app root's script state is not 'notRunning' (initial, running, a rerun requested; fragments included),
    or the status widget says 'Running'."""
    return page.evaluate(
        "() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
        " if (a && a.getAttribute('data-test-script-state') !== 'notRunning') return true;"
        " const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
        " return !!w && /Running|Stop/.test(w.innerText) }")


def _wait_idle(page, timeout=120.0, quiet=1.0):
    """Wait until the script has finished running: the app root's script state is 'running' meanwhile (the status
    widget, also watched, is not always drawn). A rerun can follow a moment after the first ends (a link written to
    the URL, a fragment), so wait for `quiet` seconds with neither."""
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


def _screenshot_whole_page(page, path) -> None:
    """Streamlit scrolls inside its main element, not the document: grow the viewport to the content's height
    (at most 8,000 px) so the screenshot shows the whole page."""
    height = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                           " return m ? m.scrollHeight : document.body.scrollHeight }")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": max(1000, min(int(height), 8000))})
    page.wait_for_timeout(750)    # plotly charts re-lay out after the resize (the screenshot is for a human)
    page.screenshot(path=str(path))


@pytest.mark.parametrize("path,title", PAGES, ids=[p for p, _ in PAGES])
def test_page_opens_without_exception_or_error_box(server, browser, path, title):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server.url}/{'' if path == 'home' else path}", timeout=60_000)
        page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
        _wait_idle(page)
        _screenshot_whole_page(page, ARTIFACTS / f"{path}.png")
        assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
            '[data-testid="stException"]').first.inner_text()
        boxes = page.locator('[data-testid="stAlertContentError"]')      # st.error: a page opens without one
        assert boxes.count() == 0, boxes.first.inner_text()
        assert not errors, errors
    finally:
        page.close()


def test_a_fresh_server_opened_on_a_page_url_shows_that_page_with_the_grouped_sidebar(browser):
    """Streamlit runs a fresh server's first script in its old pages/-folder mode (the page alone, file names in the
    sidebar); the page must switch to app.py's navigation and still show itself. Needs its own fresh server."""
    from bench.server import Server

    demo = catalogue.available()[1]
    fresh = Server(log=ARTIFACTS / "server-fresh.log").start()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{fresh.url}/{demo.url_path}", timeout=60_000)
        page.get_by_role("heading", name=demo.title).first.wait_for(timeout=120_000)
        _wait_idle(page)
        nav = page.locator('[data-testid="stSidebarNav"]')
        nav.get_by_role("link", name=catalogue.available()[0].title).first.wait_for(timeout=30_000)
        assert demo.group.lower() in nav.inner_text().lower()
        assert page.get_by_role("heading", name=demo.title).count() >= 1   # still the page asked for, not home
    finally:
        page.close()
        fresh.stop()


def test_sidebar_groups_every_demo(server, browser):
    page = browser.new_page()
    try:
        page.goto(server.url, timeout=60_000)
        nav = page.locator('[data-testid="stSidebarNav"]')
        for d in catalogue.available():   # one link per demo, under its lecture topic
            nav.get_by_role("link", name=d.title).first.wait_for(timeout=60_000)
        text = nav.inner_text()
        for d in catalogue.available():
            assert d.title in text
        for g in {d.group for d in catalogue.available()}:
            assert g.lower() in text.lower()
    finally:
        page.close()


def _open_and_click(page, url: str, button: str, then) -> None:
    """Open a page, wait until it is idle, click a button and wait for what the click should bring (a locator)."""
    page.goto(url, timeout=60_000)
    # exact: "Train" must not match the "Steps to train" input's +/- buttons
    page.get_by_role("button", name=button, exact=True).first.wait_for(timeout=120_000)
    _wait_idle(page)
    page.get_by_role("button", name=button, exact=True).first.click()
    then.first.wait_for(timeout=90_000)


def test_training_panel_trains_in_the_browser(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        _open_and_click(page, f"{server.url}/datasets", "Train", page.get_by_text("Your model"))
        _wait_idle(page)
        _screenshot_whole_page(page, ARTIFACTS / "datasets-trained.png")
        assert page.locator('[data-testid="stException"]').count() == 0
        # Stop is answered at once, not when the budget runs out: resume for 5 s, stop after 1 s
        page.get_by_role("button", name="Resume", exact=True).first.click()
        page.get_by_role("button", name="Stop", exact=True).and_(page.locator(":enabled")).first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        t0 = time.monotonic()
        page.get_by_role("button", name="Stop", exact=True).first.click()
        page.get_by_role("button", name="Resume", exact=True).and_(page.locator(":enabled")).first.wait_for(timeout=30_000)
        assert time.monotonic() - t0 < 3.0, "Stop was not answered within 3 s"
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()


def test_gan_play_keeps_the_picture_drawn_while_it_trains(server, browser):
    """Play on the 2-D GAN redraws the layered picture in place: while it trains the picture must stay on screen;
    Pause must be answered and bring back the interactive figure."""
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    try:
        _open_and_click(page, f"{server.url}/gan", "Play", page.get_by_role("button", name="Pause"))
        page.locator('[data-testid="stImage"] img').first.wait_for(timeout=60_000)   # the first live frame
        # The live picture must stay on screen while it plays: twelve screenshots of its box, 0.5 s apart, each
        # must show a picture (what a student sees), not a blank box while the next frame loads.
        shown = []
        for _ in range(12):
            page.wait_for_timeout(500)
            box = page.locator('[data-testid="stImage"]').first
            try:
                png = box.screenshot(timeout=5_000)
            except Exception:   # noqa: BLE001 - no picture on screen at that moment
                shown.append(False)
                continue
            img = Image.open(io.BytesIO(png)).convert("L")
            shown.append(img.size[0] >= 500 and ImageStat.Stat(img).stddev[0] > 10)   # not one flat colour
        assert sum(shown) >= 11, f"live GAN picture on screen in only {sum(shown)} of 12 samples: {shown}"
        page.screenshot(path=str(ARTIFACTS / "gan-playing.png"))
        page.get_by_role("button", name="Pause").first.click()
        page.get_by_role("button", name="Play").first.wait_for(timeout=60_000)
        _wait_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        plot = page.locator(".js-plotly-plot .scatterlayer").first
        plot.wait_for(timeout=30_000)
        assert "iteration" in (page.locator(".js-plotly-plot .gtitle").first.text_content() or "")
    finally:
        page.close()
