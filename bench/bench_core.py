"""Foundation rows: server cold start, each page's first render in AppTest, the engine's overhead."""

from __future__ import annotations

import time

import torch

from bench.server import ROOT, Server


def _cold_start() -> list[dict]:
    with Server() as s:
        rows = [{"what": "server cold start until home page answers", "dlplay": s.startup_seconds, "unit": "s",
                 "note": "streamlit run app.py, fresh process, HTTP 200 on /"}]
    from pathlib import Path
    if not Path("/usr/bin/chromium").exists():
        return rows
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import FLAGS
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=FLAGS)
        page = b.new_page()
        t0 = time.perf_counter()
        with Server() as s:
            page.goto(s.url)
            page.get_by_role("heading", name="dlplay: an unsupervised deep learning playground").wait_for(timeout=120_000)
            rows.append({"what": "server cold start until home page rendered in Chromium",
                         "dlplay": time.perf_counter() - t0, "unit": "s", "note": "process start to visible title"})
        b.close()
    return rows


def _first_renders() -> list[dict]:
    from streamlit.testing.v1 import AppTest

    from dlplay import catalogue

    rows = []
    for path, title in [(ROOT / "app.py", "home")] + [(d.path, d.title) for d in catalogue.available()]:
        t0 = time.perf_counter()
        at = AppTest.from_file(str(path), default_timeout=120).run()
        rows.append({"what": f"first render in AppTest: {title}", "dlplay": time.perf_counter() - t0, "unit": "s",
                     "note": "exception!" if at.exception else ""})
    return rows


def _engine_overhead(quick: bool) -> dict:
    """Trainer.run against a bare loop over the same model and batches: the engine should cost ~nothing."""
    from dlplay.train import FunctionTask, Trainer

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 64))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.randn(128, 64)

    def step():
        loss = ((model(x) - x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss}

    n = 300 if quick else 3000
    for _ in range(20):
        step()
    # Alternate chunks of the two, so a background job (e.g. UMAP's warm-up compiling) slows both alike.
    tr = Trainer(FunctionTask(step))
    t_bare = t_eng = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n // 5):
            step()
        t_bare += time.perf_counter() - t0
        t0 = time.perf_counter()
        tr.run(steps=n // 5)
        t_eng += time.perf_counter() - t0
    bare, eng = n / t_bare, n / t_eng
    return {"what": "engine steps/s, 64-256-64 MLP, batch 128", "dlplay": eng, "baseline": bare,
            "baseline_name": "bare loop", "unit": "steps/s", "note": "5 alternating chunks of each"}


def rows(quick: bool) -> list[dict]:
    return [*_cold_start(), *_first_renders(), _engine_overhead(quick)]
