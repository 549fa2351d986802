"""Rows measured where students see them: a real server, headless Chromium, clicks on the pages.

- each training page's steps per second inside its run (the panel's own count) against the CLI's steps per second
  for the same configuration, run right before it on the same machine, and the final held-out metric of both;
- the Autoencoder Lab's click-to-"Trained" time for a 10 s budget (the panel switched from its 4,000-step
  default to seconds; goal: budget + 2 s);
- animated t-SNE of the 1,797 digits, from choosing t-SNE to the finished layout, against openTSNE's own
  in-process time with the same settings (goal: at most 1.3x);
- GAN Play: distinct frames a second that reach the browser, and iterations a second while playing, against a
  bare loop of the same task (goals: 8 frames/s, 0.75x).

`python bench/browser.py --url http://127.0.0.1:8501` measures a server that is already running (for example an
older checkout, for a before/after table); through bench/run.py it starts its own.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATUS = re.compile(r"Trained: ([\d,]+) steps in ([\d.]+) s")


def _cli(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "dlplay", *args, "--json"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _wait_idle(page, timeout=180.0, quiet=1.5):
    from tests.e2e.test_browser import _wait_idle as wait
    wait(page, timeout, quiet)


def _status_text(page, scope=None) -> str:
    loc = (scope or page).locator('[data-testid="stProgress"]')
    return " | ".join(loc.nth(i).inner_text() for i in range(loc.count()))


def _train_on_page(browser, url: str, button: str, timeout: float, tab: str | None = None,
                   seconds: float | None = None) -> dict:
    """Open a page, press its Train button, wait for the panel's 'Trained: N steps in X s' line. With `seconds`
    the panel's budget is switched from its step default to seconds first (the slider must then show `seconds`,
    the page's default time budget)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(url, timeout=60_000)
        _wait_idle(page)
        if tab:
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(500)
        if seconds is not None:
            page.locator('[data-testid="stRadio"]').filter(has_text="steps").get_by_text("seconds", exact=True).click()
            slider = page.locator('[data-testid="stSlider"]').filter(has_text="Seconds to train")
            slider.first.wait_for(timeout=60_000)
            _wait_idle(page)
            shown = slider.first.locator('[data-testid="stSliderThumbValue"]').first.inner_text()
            if float(shown.replace(",", "")) != seconds:
                raise RuntimeError(f"{url}: the time budget shows {shown} s, not {seconds:g} s")
        btn = page.get_by_role("button", name=button, exact=True).first
        t0 = time.perf_counter()
        btn.click()
        page.wait_for_timeout(1000)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            text = _status_text(page)
            m = STATUS.search(text)
            if m and "held-out" in text:
                clicked_to_trained = time.perf_counter() - t0
                steps, secs = int(m.group(1).replace(",", "")), float(m.group(2))
                metric = re.search(r"held-out: (\w+) ([-\d.e]+)", text)
                return {"steps": steps, "seconds": secs, "steps_per_second": steps / max(secs, 1e-9),
                        "click_to_trained": clicked_to_trained, "metric": metric.group(1) if metric else "",
                        "value": float(metric.group(2)) if metric else None, "text": text}
            page.wait_for_timeout(200)
        raise TimeoutError(f"{url}: no 'Trained' line after {timeout:.0f} s (last status: {_status_text(page)!r})")
    finally:
        page.close()


PAGES = [  # page, Train button, tab, CLI arguments of the same run, the CLI's key for the page's held-out metric,
    # the page's time budget to train with (None: the panel's default budget, a step count on these pages)
    ("autoencoders", "Train", None, ["train", "autoencoder", "--variant", "deep", "--seconds", "10"], "test_mse",
     10.0),
    ("datasets", "Train", None, ["train", "classifier", "--seconds", "5"], "test_acc", None),
    ("vae", "Train", None, ["train", "vae", "--seconds", "20"], "test_elbo", None),
    ("gan", "Train", "Images: DCGAN and conditional GAN",
     ["train", "gan", "--dataset", "digits", "--conditional", "--seconds", "20"], "judge_digit_share", None),
]


def training_rows(browser, base: str, quick: bool) -> list[dict]:
    rows = []
    for page, button, tab, cli, key, budget in PAGES[:1] if quick else PAGES:
        c = _cli(cli)
        p = _train_on_page(browser, f"{base}/{page}", button, timeout=240, tab=tab, seconds=budget)
        cli_rate = c["steps"] / max(c["seconds"], 1e-9)
        rows.append({"what": f"{page}: steps/s inside the page's run (Chromium) vs the CLI, same config",
                     "dlplay": round(p["steps_per_second"], 1), "baseline": round(cli_rate, 1),
                     "baseline_name": "CLI", "unit": "steps/s", "goal": ">= 0.8x",
                     "ok": p["steps_per_second"] >= 0.8 * cli_rate,
                     "note": f"page {p['metric']} {p['value']}, CLI {key} {c.get(key)}"})
        if page == "autoencoders":
            rows.append({"what": f"autoencoders: click Train ({budget:g} s budget) to the 'Trained' line",
                         "unit": "s", "dlplay": round(p["click_to_trained"], 2), "goal": f"<= {budget + 2:g} s",
                         "ok": p["click_to_trained"] <= budget + 2.0,
                         "note": f"{p['steps']:,} steps in {p['seconds']:.1f} s of training"})
    return rows


def tsne_row(browser, base: str) -> dict:
    import numpy as np
    from openTSNE import TSNE
    from sklearn.datasets import load_digits

    from dlplay.embed import n_jobs

    x = (load_digits().data / 16.0).astype(np.float32)
    t0 = time.perf_counter()
    TSNE(n_jobs=n_jobs(), random_state=0).fit(x)
    alone = time.perf_counter() - t0
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{base}/embeddings", timeout=60_000)
        _wait_idle(page)
        page.locator('[data-testid="stSelectbox"]').nth(1).click()      # Method
        t0 = time.perf_counter()
        page.get_by_role("option", name=re.compile("^t-SNE")).click()
        title = page.locator("text.gtitle", has_text=re.compile(r"^t-SNE of 1,797 points$"))
        title.first.wait_for(timeout=180_000)
        took = time.perf_counter() - t0
    finally:
        page.close()
    return {"what": "t-SNE of the 1,797 digits animated in Chromium, choice to finished layout", "unit": "s",
            "dlplay": round(took, 2), "baseline": round(alone, 2), "baseline_name": "openTSNE in-process",
            "goal": "<= 1.3x", "ok": took <= 1.3 * alone}


def gan_play_rows(browser, base: str, seconds: float = 6.0) -> list[dict]:
    import torch

    from dlplay.gan import GAN2DConfig, GAN2DTask

    torch.set_num_threads(1)
    task = GAN2DTask(GAN2DConfig(), seed=0, device="cpu")
    for _ in range(20):
        task.step()
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < 3.0:
        task.step()
        n += 1
    bare = n / (time.perf_counter() - t0)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{base}/gan", timeout=60_000)
        _wait_idle(page)
        page.get_by_role("button", name="Play", exact=True).click()
        page.get_by_role("button", name="Pause", exact=True).wait_for(timeout=60_000)
        page.wait_for_timeout(2500)   # the run starts (a worker builds its task) and frames begin

        def iterations() -> int:
            v = page.locator('[data-testid="stMetricValue"]').first.inner_text()
            return int(v.replace(",", ""))

        srcs, it0, t0 = set(), iterations(), time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            srcs.update(page.evaluate("() => Array.from(document.querySelectorAll('[data-testid=\"stImage\"] img'))"
                                      ".map(i => i.src)"))
            page.wait_for_timeout(40)
        el = time.perf_counter() - t0
        its = (iterations() - it0) / el
        page.get_by_role("button", name="Pause", exact=True).click()
    finally:
        page.close()
    fps = len(srcs) / el
    return [{"what": "GAN Play: distinct frames a second reaching Chromium", "unit": "frames/s",
             "dlplay": round(fps, 1), "goal": ">= 8", "ok": fps >= 8},
            {"what": "GAN Play: iterations a second while playing vs a bare loop (1 thread)", "unit": "it/s",
             "dlplay": round(its, 1), "baseline": round(bare, 1), "baseline_name": "bare loop",
             "goal": ">= 0.75x", "ok": its >= 0.75 * bare}]


def measure(base: str, quick: bool = False) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, FLAGS
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            rows = training_rows(b, base, quick)
            rows += gan_play_rows(b, base)
            if not quick:
                rows.append(tsne_row(b, base))
        finally:
            b.close()
    return rows


def rows(quick: bool) -> list[dict]:
    if not Path("/usr/bin/chromium").exists():
        return [{"what": "browser rows", "note": "skipped: no /usr/bin/chromium"}]
    from bench.server import Server
    # No UMAP warm-up: it would compete with the first measured run (none of these rows uses UMAP).
    with Server(env={"DLPLAY_WARMUP": "0"}) as s:
        time.sleep(5)     # the workers start and import torch
        return measure(s.url, quick)


if __name__ == "__main__":
    import argparse
    sys.path.insert(0, str(ROOT))
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default=None, help="measure this running server instead of starting one")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    out = measure(a.url, a.quick) if a.url else rows(a.quick)
    for r in out:
        print(json.dumps(r))
