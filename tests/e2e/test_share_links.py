"""A link for every state, in Chromium (issue 26): set several knobs on a page, take the link from its Share dialog,
open it in a new browser context (a student's phone: no cookies, no session) and find every widget as it was."""

import pytest

from dlplay import catalogue

from .conftest import ARTIFACTS
from .test_browser import _wait_idle

pytestmark = pytest.mark.e2e

# What to change on each page: (widget kind, its label, the value typed or the option's position in the list).
RECIPES = {
    "autoencoders": [("select", "Variant", "Sparse (L1 on the code)"), ("number", "Code size K", "12"),
                     ("number", "Seed", "5"), ("number", "Steps to train", "700")],
    "vae": [("number", "Latent size", "4"), ("select", "Network", "mlp"), ("number", "Seed", "3"),
            ("tab", "Encoder view", None)],
    "gan": [("select", "Target distribution", 2), ("number", "Seed", "7"),
            ("tab", "Images: DCGAN and conditional GAN", None), ("toggle", "Conditional GAN", None)],
}
# Every page with a link; tests/pages/test_share_all_pages.py also checks every shared widget of every page, off its
# default and restored, in AppTest (sliders and radios, which this test does not type into).
SHARED = [d for d in catalogue.available() if "share.link(" in d.path.read_text()]
DEFAULT_RECIPE = [("number", "Seed", "4")]
SLOW_RECIPES = {page: [("number", "Seed", "4"), ("number", "Steps to train", "50")]   # step budgets (issue 30)
                for page in ("words", "sequences")}
SLOW_RECIPES["convolution"] = [("tab", "Train it on the digits", None), ("number", "Seed", "4"),   # the tab is
                               ("number", "Steps to train", "50"), ("tab", "Build a network", None)]   # not shared

SNAPSHOT = """() => {
  const out = {}, seen = {};
  const put = (kind, label, value) => {
    let k = kind + ':' + (label || '').trim(); seen[k] = (seen[k] || 0) + 1;
    if (seen[k] > 1) k += '#' + seen[k];
    out[k] = value;
  };
  const label = el => (el.querySelector('[data-testid="stWidgetLabel"]') || {}).innerText;
  document.querySelectorAll('[data-testid="stNumberInput"]').forEach(e => put('number', label(e), e.querySelector('input').value));
  document.querySelectorAll('[data-testid="stSelectbox"]').forEach(e => put('select', label(e),
      (e.querySelector('input[role="combobox"]') || {}).value));
  document.querySelectorAll('[data-testid="stSlider"]').forEach(e => put('slider', label(e),
      [...e.querySelectorAll('[role="slider"]')].map(s => s.getAttribute('aria-valuenow')).join(',')));
  document.querySelectorAll('[data-testid="stCheckbox"]').forEach(e => put('check', e.innerText,
      e.querySelector('input') ? e.querySelector('input').checked : e.getAttribute('data-selected')));
  document.querySelectorAll('[data-testid="stRadio"]').forEach(e => put('radio', label(e),
      [...e.querySelectorAll('input')].findIndex(i => i.checked)));
  document.querySelectorAll('[role="tab"][aria-selected="true"]').forEach(e => put('tab', '', e.innerText));
  return out;
}"""


def _set(page, kind, label, value):
    if kind == "number":
        box = page.locator(f'input[aria-label="{label}"]:visible').first   # the one on show (others sit in tabs)
        box.fill(str(value))
        box.press("Enter")
    elif kind == "select":
        page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.locator(
            'button[aria-label="Open"]').click()
        options = page.get_by_role("option")
        (options.nth(value) if isinstance(value, int) else options.filter(has_text=value).first).click()
    elif kind == "tab":
        page.get_by_role("tab", name=label).first.click()
    elif kind == "toggle":
        page.locator('[data-testid="stCheckbox"]').filter(has_text=label).first.click()
    _wait_idle(page, quiet=1.5)


def _open(browser, url):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(url, timeout=60_000)
    page.get_by_role("button", name="Share this state").first.wait_for(timeout=120_000)
    _wait_idle(page)
    return ctx, page


# The autoencoders page's recipe runs in the default suite (one page through the whole path); every other page
# runs with -m slow (.ci/run runs both), keeping the README's test command near six minutes on two cores.
_CASES = [pytest.param(d, id=d.url_path, marks=() if d.url_path == "autoencoders" else pytest.mark.slow)
          for d in SHARED]
RECIPES.update(SLOW_RECIPES)


@pytest.mark.parametrize("demo", _CASES)
def test_shared_link_restores_every_value(server, browser, demo):
    ctx, page = _open(browser, f"{server.url}/{demo.url_path}")
    try:
        before = page.evaluate(SNAPSHOT)
        for step in RECIPES.get(demo.url_path, DEFAULT_RECIPE):
            _set(page, *step)
        after = page.evaluate(SNAPSHOT)
        changed = {k for k in after if before.get(k) != after[k]}
        wanted = RECIPES.get(demo.url_path, DEFAULT_RECIPE)
        values = [w for w in wanted if w[0] != "tab"]          # a tab click may only move between views
        assert len(changed) >= max(1, len(values) - 1), (before, after)
        page.get_by_role("button", name="Share this state").first.click()
        dialog = page.get_by_role("dialog")
        dialog.locator("img").first.wait_for(timeout=30_000)              # the QR code
        link = dialog.locator("code").first.inner_text().strip()
        page.screenshot(path=str(ARTIFACTS / f"share-{demo.url_path}.png"))
        assert link.startswith(f"{server.url}/{demo.url_path}?"), link
    finally:
        ctx.close()
    ctx2, page2 = _open(browser, link)          # a new context: nothing shared with the first but the link
    try:
        restored = page2.evaluate(SNAPSHOT)
        assert page2.locator('[data-testid="stException"]').count() == 0
        diff = {k: (after.get(k), restored.get(k)) for k in set(after) | set(restored)
                if after.get(k) != restored.get(k)}
        assert not diff, diff
    finally:
        ctx2.close()
