"""The abuse suite (issue 31): what one curious or careless student can ask of a shared server, each case against a
real local server in headless Chromium, with the bound that now holds.

    python bench/abuse.py                  # the reliable cases, then nine students train beside one abuser
    python bench/abuse.py --cases table,tsne3d --students 3 --quick

For each case: the bound, what happened (refused with a sentence / finished / freed), seconds to refusal or
completion (or from the tab closing to the worker being idle), peak server RSS (the server and its training
processes) and /_stcore/health p50 / p95 while the case ran. The "before" column is the issue's own measurement
(issue 31, before these bounds), not re-measured here. Rows marked "backend" run in this process (no page reaches
them yet). The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import io
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import CHROMIUM, FLAGS, Poller, _pct, _rss_mb, _session  # noqa: E402
from bench.server import Server  # noqa: E402

TIMEOUT = 240.0

# What the issue measured before the bounds (issue 31's text; not re-measured).
BEFORE = {
    "table": "1.6 GB per upload, health stalled 4.7-5.7 s",
    "explain": "200,000 chars: 85.7 s (40 s server CPU), every rerun",
    "tsne3d": "~2.2 h, outside the slots, not stoppable",
    "umap": "127 s, not stoppable",
    "gensim": "14 min in the page's script, not stoppable",
    "tsne_close": "kept running ~100 s after its tab closed",
    "mds_close": "13-27 s, not stoppable",
    "tabs": "one student with several tabs holds every slot",
    "metrics": "public",
    "checkpoint": "dlplay.cli:main ran: wrote a file",
    "csv_export": "=HYPERLINK(...) passed through",
}


# -- files a student might upload ---------------------------------------------------------------------------------
def long_label_csv(rows: int = 20_000, label_chars: int = 20_000) -> bytes:
    """The issue's 0.21 MB CSV: one label of 20,000 characters, the rest short (fixed-width strings made it 1.6 GB)."""
    lines = ["x,y,label"] + [f"{i % 97},{i % 89},{'a' * label_chars if i == 0 else 'b'}" for i in range(rows)]
    return "\n".join(lines).encode()


def points_csv(rows: int = 50_000, cols: int = 8, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(10, cols)) * 4
    x = centres[rng.integers(0, 10, rows)] + rng.normal(size=(rows, cols))
    buf = io.StringIO()
    buf.write(",".join(f"c{j}" for j in range(cols)) + "\n")
    np.savetxt(buf, x, fmt="%.3f", delimiter=",")
    return buf.getvalue().encode()


# -- Streamlit in Playwright ----------------------------------------------------------------------------------------
async def _select(page, label: str, option: str) -> None:
    """Choose `option` in the selectbox labelled `label`, checking that it took (a click that lands while the
    script reruns can be lost)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    await box.wait_for(timeout=60_000)
    for _ in range(4):
        await box.click(timeout=60_000)
        await page.keyboard.type(option)          # the list is searchable (and virtual: far options are not drawn)
        await page.keyboard.press("Enter")
        for _ in range(40):
            shown = (await box.text_content() or "") + " ".join(
                [await i.input_value() for i in await box.locator("input").all()])
            if option.split(" (")[0] in shown:
                return
            await asyncio.sleep(0.25)
        await _idle(page, quiet=0.5)
    raise RuntimeError(f"could not choose {option!r} in {label!r}")


async def _slider_end(page, label: str) -> None:
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text=label).locator('input[type="range"]').first
    await thumb.wait_for(state="attached", timeout=TIMEOUT * 1000)
    await thumb.focus()
    await thumb.press("End")


async def _upload(page, data: bytes, name: str, nth: int = 0) -> None:
    # the page's own uploaders, not the sidebar's lecture-deck loader (which comes first in the document)
    await page.locator('[data-testid="stMain"] [data-testid="stFileUploaderDropzoneInput"]').nth(nth).set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}])


async def _wait_text(page, pattern: str, timeout: float = TIMEOUT) -> str:
    loc = page.get_by_text(re.compile(pattern)).first
    await loc.wait_for(timeout=timeout * 1000)
    return (await loc.inner_text())[:160]


async def _checked(coro, what: str, timeout: float = 90.0):
    """An awaited step with its own time limit and a name in the error."""
    try:
        return await asyncio.wait_for(coro, timeout)
    except asyncio.TimeoutError:
        raise TimeoutError(f"step '{what}' took over {timeout:.0f} s") from None


async def _idle(page, quiet: float = 1.5, timeout: float = 20.0) -> None:
    """Until the app has stopped running for `quiet` seconds (Streamlit's status widget gone), at most `timeout`
    (a page following a run in flight stays 'running')."""
    t0, calm = time.perf_counter(), None
    while time.perf_counter() - t0 < timeout:
        busy = await page.locator('[data-testid="stStatusWidget"]').count()
        if busy:
            calm = None
        elif calm is None:
            calm = time.perf_counter()
        elif time.perf_counter() - calm > quiet:
            return
        await asyncio.sleep(0.2)


READY = {"embeddings": "Source", "words": "Type a text to classify", "datasets": None, "autoencoders": None}


async def _open(ctx, url: str, path: str):
    """A new tab on the page, once its widgets are there and the script has finished."""
    page = await ctx.new_page()
    await page.goto(f"{url}/{path}", timeout=TIMEOUT * 1000)
    ready = READY.get(path)
    if ready:
        await page.get_by_text(ready, exact=True).first.wait_for(timeout=TIMEOUT * 1000)
    else:
        await page.get_by_role("button", name=re.compile(r"^(Train|Resume)$")).first.wait_for(timeout=TIMEOUT * 1000)
    await _idle(page)
    return page


def _workers_busy(server_pid: int, sample: float = 0.5) -> int:
    """How many of the server's child processes (training workers) use more than 20% of a core right now."""
    import psutil

    kids = psutil.Process(server_pid).children(recursive=True)
    for k in kids:
        try:
            k.cpu_percent(None)
        except psutil.Error:
            pass
    time.sleep(sample)
    busy = 0
    for k in kids:
        try:
            busy += k.cpu_percent(None) > 20
        except psutil.Error:
            pass
    return busy


async def _freed_after_close(page, server_pid: int, limit: float = 120.0) -> float:
    """Close the tab; seconds until no worker is busy any more."""
    await page.close()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        if await asyncio.to_thread(_workers_busy, server_pid) == 0:
            return time.perf_counter() - t0
    return float("inf")


# -- the cases ------------------------------------------------------------------------------------------------------
async def case_table(ctx, url, pid):
    page = await _open(ctx, url, "embeddings")
    await _select(page, "Source", "Upload a table")
    await _idle(page)
    t0 = time.perf_counter()
    await _upload(page, long_label_csv(), "long-label.csv")
    msg = await _wait_text(page, r"cell longer than")
    return {"outcome": "refused: " + msg, "seconds": time.perf_counter() - t0}


async def case_explain(ctx, url, pid):
    page = await _open(ctx, url, "words")
    box = page.locator('[data-testid="stTextInput"]').filter(has_text="Type a text to classify").locator("input").first
    t0 = time.perf_counter()
    await box.fill("great film " * 20_000)        # 220,000 characters: the box keeps the first 5,000
    await box.press("Enter")
    await _idle(page)
    kept = len(await box.input_value())
    return {"outcome": f"box keeps {kept:,} characters; explained", "seconds": time.perf_counter() - t0}


async def _points_page(ctx, url, method_label: str):
    page = await _open(ctx, url, "embeddings")
    await _select(page, "Source", "Upload a table")
    await _idle(page)
    await _upload(page, POINTS, "points-50k.csv")
    await _checked(_wait_text(page, r"uploaded table: 50,000 rows"), "upload 50,000 points")
    await _select(page, "Method", method_label)
    await _idle(page)
    return page


async def case_tsne3d(ctx, url, pid):
    page = await _points_page(ctx, url, "PCA")
    await page.locator('[data-testid="stRadio"]').filter(has_text="Dimensions").get_by_text("3", exact=True).click()
    await _idle(page)
    t0 = time.perf_counter()
    await _select(page, "Method", "t-SNE")
    await _idle(page, quiet=0.5)
    await _slider_end(page, "Points (random sample")
    msg = await _wait_text(page, r"3-D t-SNE takes at most")
    return {"outcome": "refused: " + msg, "seconds": time.perf_counter() - t0}


async def case_umap(ctx, url, pid):
    page = await _points_page(ctx, url, "PCA")
    t0 = time.perf_counter()
    await _select(page, "Method", "UMAP")
    await _idle(page, quiet=0.5)
    await _slider_end(page, "n_neighbors")
    await _idle(page, quiet=0.5)
    await _slider_end(page, "Points (random sample")
    msg = await _wait_text(page, r"graph edges")
    return {"outcome": "refused: " + msg, "seconds": time.perf_counter() - t0}


async def case_tsne_close(ctx, url, pid):
    """A 2-D t-SNE of all 50,000 points (allowed: it runs in a slot, animates, stops), its tab closed mid-way."""
    page = await _points_page(ctx, url, "PCA")
    await _select(page, "Method", "t-SNE")
    await _idle(page, quiet=0.5)
    await _slider_end(page, "Points (random sample")
    await asyncio.sleep(25)                       # the affinities, then the first iterations
    running = await asyncio.to_thread(_workers_busy, pid)
    freed = await _freed_after_close(page, pid)
    return {"outcome": f"ran in a slot ({running} worker busy); tab closed: worker idle after {freed:.1f} s",
            "seconds": freed}


async def case_mds_close(ctx, url, pid):
    """MDS of the 1,797 digits (one library call, ~20 s), its tab closed 3 s in."""
    page = await _open(ctx, url, "embeddings")
    await _select(page, "Method", "MDS")
    await _idle(page, quiet=0.3, timeout=5)
    await _slider_end(page, "Points (random sample")
    await asyncio.sleep(3)
    running = await asyncio.to_thread(_workers_busy, pid)
    freed = await _freed_after_close(page, pid)
    return {"outcome": f"ran in a slot ({running} worker busy); tab closed: worker idle after {freed:.1f} s",
            "seconds": freed}


async def case_gensim(ctx, url, pid):
    page = await _open(ctx, url, "words")
    for label in ("Dimension d",):    # a select_slider: the same range input
        await _slider_end(page, label)
    for label in ("Window", "Negatives k", "Epochs (learning-rate schedule)"):
        await _idle(page, quiet=0.5)
        await _slider_end(page, label)
    await _idle(page)
    t0 = time.perf_counter()
    await page.get_by_role("button", name="Train gensim", exact=True).first.click()
    msg = await _wait_text(page, r"would read|too much work")
    return {"outcome": "refused: " + msg, "seconds": time.perf_counter() - t0}


async def case_tabs(ctx, url, pid):
    """One browser (one cookie jar), four tabs, Train pressed in each on the datasets page."""
    pages = [await _open(ctx, url, "datasets") for _ in range(4)]
    t0 = time.perf_counter()
    for p in pages:
        await p.get_by_role("button", name="Train", exact=True).first.click()
    await asyncio.sleep(2)
    queued = sum([await p.get_by_text("Waiting for a free training slot").count() > 0 for p in pages])
    refused = sum([await p.get_by_text("You already have").count() > 0 for p in pages])
    for p in pages:
        await p.close()
    return {"outcome": f"4 tabs: {4 - refused} accepted ({queued} queued), {refused} refused",
            "seconds": time.perf_counter() - t0, "accepted": 4 - refused}


async def case_metrics(ctx, url, pid):
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url + "/_stcore/metrics", timeout=10) as r:
            code = r.status
    except urllib.error.HTTPError as e:
        code = e.code
    return {"outcome": f"HTTP {code} from the app itself (block it at the proxy: README)",
            "seconds": time.perf_counter() - t0}


CASES = {
    "table": ("cells <= 1,000 characters, object strings", case_table),
    "explain": ("text box max_chars 5,000; linear explain", case_explain),
    "tsne3d": ("3-D t-SNE <= 10,000 points", case_tsne3d),
    "umap": ("UMAP points x neighbours <= 1 M", case_umap),
    "gensim": ("tokens x epochs <= 20 M, weighted work <= 25 M", case_gensim),
    "tsne_close": ("a slot, Stop, paused 6 s after its tab stops polling", case_tsne_close),
    "mds_close": ("MDS <= 2,000 points; Stop kills after 3 s", case_mds_close),
    "tabs": ("runs per session: $DLPLAY_RUNS_PER_SESSION (2)", case_tabs),
    "metrics": ("blocked at the proxy (README)", case_metrics),
}
POINTS = b""
# The cases whose page interaction is reliable in headless Chromium (measured in the README). explain, gensim,
# tsne_close and mds_close still lose widget input on a loaded machine (their bounds are checked in AppTest and unit
# tests instead); tabs measures what the per-session cap does with several tabs (each tab is its own session).
DEFAULT_CASES = ["metrics", "table", "tsne3d", "umap"]


def backend_rows() -> list[dict]:
    """Items no page reaches yet, checked in this process: checkpoint builders and spreadsheet formulas."""
    import torch

    from dlplay import checkpoints
    from dlplay.embed import coords_csv
    from dlplay.errors import InputError

    rows = []
    bad = checkpoints.to_bytes(torch.nn.Linear(1, 1), {"argv": ["train", "--out", "/tmp/dlplay-abuse-pwned"]},
                               "dlplay.cli:main")
    t0 = time.perf_counter()
    try:
        checkpoints.load(bad, expect_builder="dlplay.autoencoders:build_model")
        out = "LOADED (bug)"
    except InputError as e:
        out = f"refused: {str(e)[:100]}"
    try:   # and even when the caller names it, a builder outside the allow-list is refused
        checkpoints.load(bad, expect_builder="dlplay.cli:main")
        out = "LOADED (bug)"
    except InputError as e:
        out += f"; named by the caller: refused ({str(e)[:60]})"
    rows.append({"case": "checkpoint", "bound": "builders from an allow-list; load() names the expected one",
                 "outcome": out, "seconds": time.perf_counter() - t0, "where": "backend"})
    t0 = time.perf_counter()
    csv = coords_csv(np.zeros((2, 2), np.float32), ["=HYPERLINK(\"http://x\")", "+1"], None)
    text = csv.decode() if isinstance(csv, bytes) else csv
    rows.append({"case": "csv_export", "bound": "formula-leading cells neutralised",
                 "outcome": "neutralised" if "'=HYPERLINK" in text and "'+1" in text else f"NOT: {text[:80]}",
                 "seconds": time.perf_counter() - t0, "where": "backend"})
    return rows


async def _run_case(browser, server, name: str) -> dict:
    bound, fn = CASES[name]
    poller = Poller(server.url, server.proc.pid, every=0.1)
    poller.start()
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    t0 = time.perf_counter()
    try:
        r = await asyncio.wait_for(fn(ctx, server.url, server.proc.pid), TIMEOUT)
    except Exception as e:  # noqa: BLE001 - a failed case is a result
        r = {"outcome": f"FAILED: {type(e).__name__}: {str(e)[:160]}", "seconds": time.perf_counter() - t0}
        if os.environ.get("DLPLAY_ABUSE_SHOTS"):
            for i, pg in enumerate(ctx.pages):
                try:
                    await pg.screenshot(path=f"{os.environ['DLPLAY_ABUSE_SHOTS']}/{name}-{i}.png", full_page=True)
                except Exception:  # noqa: BLE001
                    pass
    finally:
        await ctx.close()
        poller.running = False
        await asyncio.to_thread(poller.join)
    return {"case": name, "bound": bound, "before (issue 31)": BEFORE.get(name, ""), **r,
            "peak_rss_mb": round(poller.peak_rss), "health_p50_s": round(_pct(poller.health, 0.5), 3),
            "health_p95_s": round(_pct(poller.health, 0.95), 3), "health_max_s": round(max(poller.health, default=0), 3),
            "where": "server"}


async def _nine_beside_one(browser, server, students: int, abuser: str) -> dict:
    """`students` sessions train the Autoencoder Lab together while one more runs the worst allowed case."""
    poller = Poller(server.url, server.proc.pid, every=0.1)
    poller.start()
    go = asyncio.Event()
    logs = [{"session": i} for i in range(students)]
    actx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    t0 = time.perf_counter()

    async def abuse():
        page = await _points_page(actx, server.url, "PCA")
        await _select(page, "Method", abuser)
        await _idle(page, quiet=0.5)
        await _slider_end(page, "Points (random sample")
        await asyncio.sleep(10)
        go.set()            # the students press Train once the abuser's run holds its slot
        return page

    abuse_task = asyncio.create_task(abuse())
    tasks = [asyncio.create_task(_session(browser, server.url, "autoencoders", go, TIMEOUT * 2, logs[i]))
             for i in range(students)]
    await asyncio.gather(*tasks)
    page = await abuse_task
    busy = await asyncio.to_thread(_workers_busy, server.proc.pid)
    await page.close()
    await actx.close()
    poller.running = False
    await asyncio.to_thread(poller.join)
    ok = [g for g in logs if g.get("ok")]
    return {"students": students, "abuser": f"{abuser} of 50,000 uploaded points", "finished": len(ok),
            "failures": [g.get("error") for g in logs if not g.get("ok")],
            "train_s_p50": _pct([g["train_s"] for g in ok], 0.5), "train_s_max": max([g["train_s"] for g in ok],
                                                                                        default=None),
            "abuser_still_running_at_end": bool(busy), "wall_s": round(time.perf_counter() - t0, 1),
            "peak_rss_mb": round(poller.peak_rss), "health_p50_s": round(_pct(poller.health, 0.5), 3),
            "health_p95_s": round(_pct(poller.health, 0.95), 3),
            "health_max_s": round(max(poller.health, default=0), 3), "health_polls": len(poller.health),
            "poll_failures": poller.failures}


async def _main(cases: list[str], students: int, abuser: str, env: dict) -> dict:
    from playwright.async_api import async_playwright

    global POINTS
    POINTS = points_csv()
    out: dict = {"cases": [], "nine_beside_one": None, "load_avg_1min_at_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp, Server(env=env, log=Path(tmp) / "server.log") as server:
        out["server_start_s"] = round(server.startup_seconds, 1)
        out["rss_idle_mb"] = round(_rss_mb(server.proc.pid))
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            for name in cases:
                row = await _run_case(browser, server, name)
                print(json.dumps(row), file=sys.stderr, flush=True)
                out["cases"].append(row)
                await asyncio.sleep(2)
            if students:
                out["nine_beside_one"] = await _nine_beside_one(browser, server, students, abuser)
                print(json.dumps(out["nine_beside_one"]), file=sys.stderr, flush=True)
            await browser.close()
    out["cases"] += backend_rows()
    out["load_avg_1min_at_end"] = os.getloadavg()[0]
    return out


def run(cases: list[str] | None = None, students: int = 9, abuser: str = "t-SNE", env: dict | None = None) -> dict:
    env = {"DLPLAY_WARMUP": "0", **(env or {})}
    coro = _main(list(cases or DEFAULT_CASES), students, abuser, env)
    try:
        asyncio.get_running_loop()
    except RuntimeError:                # the usual case (the command line): run here, so a SIGTERM stops the server
        return asyncio.run(coro)
    # this thread holds a running event loop (sync Playwright's, in a test session that ran browser tests before),
    # inside which asyncio.run refuses to start: run in a thread of its own
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def table(result: dict) -> str:
    """The markdown table the README shows."""
    lines = ["| case | bound | before (issue 31) | after | seconds | peak RSS MB | health p95 s |",
             "|---|---|---|---|---|---|---|"]
    for r in result["cases"]:
        rss = r.get("peak_rss_mb", "")
        lines.append(f"| {r['case']} | {r['bound']} | {r.get('before (issue 31)', '') or BEFORE.get(r['case'], '')} "
                     f"| {r['outcome'][:90]} | {r['seconds']:.1f} | {rss if r['where'] == 'server' else 'backend'} "
                     f"| {r.get('health_p95_s', '')} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    import signal

    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))   # stop the server (and its workers) on a kill too
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=",".join(DEFAULT_CASES), help="comma-separated: " + ", ".join(CASES))
    ap.add_argument("--students", type=int, default=9, help="sessions training beside the abuser (0: skip)")
    ap.add_argument("--abuser", default="t-SNE", help="method of the abuser's 50,000-point layout")
    ap.add_argument("--out", default=None, help="also write the JSON here")
    a = ap.parse_args(argv)
    r = run([c for c in a.cases.split(",") if c], a.students, a.abuser)
    print(table(r))
    if a.out:
        Path(a.out).write_text(json.dumps(r, indent=1))
    print(json.dumps(r))
    failed = [c for c in r["cases"] if c["outcome"].startswith(("FAILED", "LOADED", "NOT"))]
    nine = r["nine_beside_one"]
    return 1 if failed or (nine and (nine["finished"] < nine["students"] or nine["health_p95_s"] >= 1.0)) else 0


if __name__ == "__main__":
    sys.exit(main())
