"""Your own digit, in Chromium (issue 26): draw a 3 and a 7 with mouse strokes on the classifier page's canvas and
find them read correctly; draw on the Autoencoder Lab's canvas and find the reconstruction and the neighbours.
Also presenter mode at 1366x768: every page opens with ?present=1 and leaves a screenshot of its first screen."""

import json

import pytest

from dlplay import catalogue

from .conftest import ARTIFACTS
from .test_browser import _wait_idle

pytestmark = pytest.mark.e2e

# the same strokes as tests/test_drawing.py, in the canvas's own pixels (280 x 280)
STROKES = {
    3: [[(80, 60), (140, 40), (195, 70), (190, 120), (135, 140)],
        [(135, 140), (200, 165), (200, 215), (140, 245), (75, 225)]],
    7: [[(70, 55), (210, 55), (150, 150), (120, 245)], [(110, 150), (190, 150)]],
}


def _open_drawing(page, url, expander_text):
    page.goto(url, timeout=60_000)
    page.get_by_text(expander_text).first.wait_for(timeout=120_000)
    _wait_idle(page)
    page.get_by_text(expander_text).first.click()
    canvas = page.locator("canvas.upper-canvas").first     # Fabric.js draws on its upper canvas
    canvas.wait_for(timeout=60_000)
    canvas.scroll_into_view_if_needed()
    return canvas


def _draw(page, canvas, strokes):
    for stroke in strokes:
        # each stroke reruns the page, and the results it shows beside the canvas can move it: measure it afresh
        _wait_idle(page, quiet=1.0)
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        sx, sy = box["width"] / 280, box["height"] / 280
        pts = []
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):   # dense points along each segment, like a hand
            pts += [(x0 + (x1 - x0) * t / 8, y0 + (y1 - y0) * t / 8) for t in range(8)]
        pts.append(stroke[-1])
        page.mouse.move(box["x"] + pts[0][0] * sx, box["y"] + pts[0][1] * sy)
        page.mouse.down()
        for x, y in pts[1:]:
            page.mouse.move(box["x"] + x * sx, box["y"] + y * sy, steps=2)
        page.mouse.up()
        page.wait_for_timeout(300)
    _wait_idle(page, quiet=1.5)


def _clear(page):
    page.locator('[aria-label="Reset canvas & history"]').first.click()   # the canvas toolbar's bin
    _wait_idle(page, quiet=1.5)


def test_a_drawn_three_and_seven_are_classified(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        canvas = _open_drawing(page, f"{server.url}/datasets", "Your own digit")
        for digit in (3, 7):
            _draw(page, canvas, STROKES[digit])
            metric = page.locator('[data-testid="stMetric"]').filter(has_text="Classified as").first
            metric.wait_for(timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / f"own-digit-{digit}.png"))
            value = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
            assert value == str(digit), value
            _clear(page)
    finally:
        page.close()


@pytest.mark.slow     # the default run draws the 3 and the 7 (above); this one adds the Autoencoder Lab
def test_a_drawn_digit_is_reconstructed_and_placed(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        canvas = _open_drawing(page, f"{server.url}/autoencoders", "Your own digit")
        _draw(page, canvas, STROKES[3])
        page.get_by_text("Your digit and its reconstruction").first.wait_for(timeout=60_000)
        page.get_by_text("Its 8 nearest training images").first.wait_for(timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(ARTIFACTS / "own-digit-autoencoder.png"))
    finally:
        page.close()


FIRST_SCREEN = """() => {
  const H = window.innerHeight, W = window.innerWidth;
  const inside = el => { const r = el.getBoundingClientRect();
    return r.height >= 20 && r.width >= 20 && r.top >= 0 && r.bottom <= H + 1 && r.left >= 0 && r.right <= W + 1; };
  const figs = [...document.querySelectorAll('[data-testid="stPlotlyChart"], [data-testid="stImage"], '
                                             + '[data-testid="stVegaLiteChart"], [data-testid="stPyplot"]')];
  const buttons = [...document.querySelectorAll('[data-testid="stBaseButton-primary"]')];
  return {figure: figs.some(inside), figures: figs.length, button: buttons.some(inside), buttons: buttons.length};
}"""


FIRST_SCREENS: dict = {}


@pytest.mark.slow     # every page's opening is checked in the default run (test_browser); this adds screenshots
@pytest.mark.parametrize("demo", catalogue.available(), ids=[d.url_path for d in catalogue.available()])
def test_presenter_mode_first_screen(server, browser, demo):
    """Presenter mode at a projector's 1366x768: the explanation is folded and the type is larger; whether a figure
    and the page's primary (Train / Play / Run) button lie wholly inside the first screen, unscrolled, is measured
    (test-artifacts/presenter-first-screen.json) and an expected failure while not. The screenshot is kept for a
    human to judge which figure that is."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(f"{server.url}/{demo.url_path}?present=1", timeout=60_000)
        page.get_by_role("heading", name=demo.title).first.wait_for(timeout=120_000)
        _wait_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("The idea").count() >= 1
        page.screenshot(path=str(ARTIFACTS / f"present-{demo.url_path}.png"))
        seen = page.evaluate(FIRST_SCREEN)
        FIRST_SCREENS[demo.url_path] = seen
        (ARTIFACTS / "presenter-first-screen.json").write_text(json.dumps(FIRST_SCREENS, indent=1))
        # Issue 26's target, not met yet (7 Dec: 2 of 15 pages show a whole figure on the first screen, 8 of 14 the
        # button): reported as an expected failure naming what is missing, so the gap shows in every run.
        missing = [what for what, n in (("figure", "figures"), ("button", "buttons")) if seen[n] and not seen[what]]
        if missing:
            pytest.xfail(f"not wholly on the first screen at 1366x768: {', '.join(missing)} (issue 26, open)")
    finally:
        page.close()
