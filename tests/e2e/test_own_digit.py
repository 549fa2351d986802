"""Your own digit, in Chromium (issue 26): draw a 3 and a 7 with mouse strokes on the classifier page's canvas and
find them read correctly; draw on the Autoencoder Lab's canvas and find the reconstruction and the neighbours.
Also presenter mode at 1366x768: every page opens with ?present=1, shows its main figure and its primary button on the
first screen, and leaves a screenshot of it."""

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
  const box = el => { if (!el) return null; const r = el.getBoundingClientRect();
    return [Math.round(r.left), Math.round(r.top), Math.round(r.right), Math.round(r.bottom)]; };
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const figs = [...document.querySelectorAll('[data-testid="stPlotlyChart"], [data-testid="stImage"], '
                                             + '[data-testid="stVegaLiteChart"], [data-testid="stPyplot"]')];
  // a primary button in a closed tab is on no screen: only the open tab's count
  const buttons = [...document.querySelectorAll('[data-testid="stBaseButton-primary"]')].filter(shown);
  const fig = figs.filter(inside).sort((a, b) => box(b)[3] - box(b)[1] - box(a)[3] + box(a)[1])[0];
  const button = buttons.find(inside);
  return {figure: !!fig, figures: figs.length, button: !!button, buttons: buttons.length,
          figure_box: box(fig), button_box: box(button), button_text: button ? button.innerText.split("\\n")[0] : null};
}"""

# pages whose Train button is on another tab than the one a page opens on: that tab is opened and checked too
OTHER_TABS = {"convolution": "Train it on the digits"}


FIRST_SCREENS: dict = {}
FIGURES = ('[data-testid="stPlotlyChart"], [data-testid="stImage"], [data-testid="stVegaLiteChart"], '
           '[data-testid="stPyplot"]')


@pytest.mark.slow     # every page's opening is checked in the default run (test_browser); this adds screenshots
@pytest.mark.parametrize("demo", catalogue.available(), ids=[d.url_path for d in catalogue.available()])
def test_presenter_mode_first_screen(server, browser, demo):
    """Presenter mode at a projector's 1366x768: the explanation is folded and the type is larger; a figure and the
    page's primary (Train / Play / Run) button lie wholly inside the first screen, unscrolled (measured into
    test-artifacts/presenter-first-screen.json with their boxes). The test cannot tell which figure it found: the
    screenshot is kept for a human to judge that it is the page's main one."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(f"{server.url}/{demo.url_path}?present=1", timeout=60_000)
        page.get_by_role("heading", name=demo.title).first.wait_for(timeout=120_000)
        page.locator(FIGURES).first.wait_for(timeout=120_000)
        _wait_idle(page)
        _wait_idle(page, timeout=180.0, quiet=2.0)   # a presenter layout fills its top last
        page.wait_for_timeout(1000)      # plotly lays its figures out after the run
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("The idea").count() >= 1
        page.screenshot(path=str(ARTIFACTS / f"present-{demo.url_path}.png"))
        screens = {demo.url_path: page.evaluate(FIRST_SCREEN)}
        if demo.url_path in OTHER_TABS:
            tab = OTHER_TABS[demo.url_path]
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / f"present-{demo.url_path}-tab2.png"))
            screens[f"{demo.url_path} ({tab})"] = page.evaluate(FIRST_SCREEN)
        FIRST_SCREENS.update(screens)
        (ARTIFACTS / "presenter-first-screen.json").write_text(json.dumps(FIRST_SCREENS, indent=1))
        # Issue 26's target: the main figure and the primary button wholly on the first screen (a page without a
        # primary button on its open tab, the class board, needs only the figure)
        missing = [f"{where}: {what}" for where, seen in screens.items()
                   for what, n in (("figure", "figures"), ("button", "buttons")) if seen[n] and not seen[what]]
        assert not missing, f"not wholly on the first screen at 1366x768: {', '.join(missing)}"
        assert all(seen["figures"] for seen in screens.values())
    finally:
        page.close()
