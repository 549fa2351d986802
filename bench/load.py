"""A lecture hall at once: N students open a demo page in real headless Chromium tabs and press Train at the same
moment, while a separate client polls the server's health endpoint and home page.

    python bench/load.py                 # 10 sessions (this 2-core machine); --sessions 40 on a bigger one
    python bench/load.py --page gan --sessions 20 --settle 60

Each student trains with a seed of their own (identical runs would be computed once and shared). Half the
students (every second tab; `--no-close-half` keeps them all) close their tab 2 s after pressing Train,
mid-training or still in the queue. The server runs with its leak counters on ($DLPLAY_DEBUG_COUNTS,
dlplay/debug.py): sessions, trainers and models it holds, runs in slots and queued.

Reports sessions completed / closed / failed (a session fails on an exception, a browser error, an error box, or a
result that is not right: fewer steps than the budget, or test accuracy not above chance), p50 / p95 of health and
home-page response times during the load, peak server memory (RSS); seconds from the closing of half the tabs
until the slots and queue held only the remaining students' runs; and seconds from the last tab closing until
sessions, trainers and models held were back to their values before the load (goal: 60 s). The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import Server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def _rss_mb(pid: int) -> float:
    import psutil

    p = psutil.Process(pid)
    return (p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))) / 2**20


class Poller(threading.Thread):
    """Polls /_stcore/health and / every `every` seconds, recording latencies and the server's RSS."""

    def __init__(self, url: str, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.url, self.pid, self.every = url, pid, every
        self.health: list[float] = []
        self.home: list[float] = []
        self.failures = 0
        self.peak_rss = 0.0
        self.running = True

    def _get(self, path: str) -> float | None:
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as r:
                r.read()
                return time.perf_counter() - t0 if r.status == 200 else None
        except OSError:
            return None

    def run(self):
        while self.running:
            for path, out in (("/_stcore/health", self.health), ("/", self.home)):
                dt = self._get(path)
                if dt is None:
                    self.failures += 1
                else:
                    out.append(dt)
            self.peak_rss = max(self.peak_rss, _rss_mb(self.pid))
            time.sleep(self.every)


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


HELD = ("sessions", "trainers", "models", "running", "queued")   # the leak counters compared (dlplay/debug.py)
EXPECT = {"datasets": {"steps": 1500, "metric": r"accuracy on the [\d,]+ test digits", "chance": 0.1}}


class Counters(threading.Thread):
    """Reads the server's leak-counter file (dlplay/debug.py) every 0.25 s: a timeline of (time, counts)."""

    def __init__(self, path: Path):
        super().__init__(daemon=True)
        self.path, self.timeline, self.running = path, [], True

    def run(self):
        while self.running:
            try:
                self.timeline.append((time.perf_counter(), json.loads(self.path.read_text())))
            except (OSError, ValueError):
                pass
            time.sleep(0.25)

    def last(self) -> dict:
        return self.timeline[-1][1] if self.timeline else {}


async def _session(browser, url: str, page_path: str, go: asyncio.Event, timeout_s: float, log: dict,
                   close_after: float | None = None, seed: int | None = None):
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        t0 = time.perf_counter()
        await page.goto(f"{url}/{page_path}", timeout=timeout_s * 1000)
        train = page.get_by_role("button", name=re.compile(r"^(Train|Resume)")).first
        await train.wait_for(timeout=timeout_s * 1000)
        if seed is not None:   # a seed of its own: identical requests would share one computation (dlplay/runner/)
            box = page.locator('input[aria-label="Seed"]:visible').first
            await box.fill(str(seed))
            await box.press("Enter")
            await page.wait_for_timeout(1500)
        log["open_s"] = time.perf_counter() - t0
        await go.wait()  # everyone presses Train at the same moment
        t1 = log["pressed_at"] = time.perf_counter()
        await train.click()
        if close_after is not None:          # a student who leaves mid-training (or while still queued)
            await asyncio.sleep(close_after)
            log["closed_at"] = time.perf_counter()
            log["closed"] = True
            return
        saw_queue = False
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if await page.get_by_text("Waiting for a free training slot").count():
                saw_queue = True
            if await page.get_by_text(re.compile(r"^Trained: ")).count():
                break
            await asyncio.sleep(0.25)
        else:
            raise TimeoutError("training did not finish")
        log["train_s"] = time.perf_counter() - t1
        log["done_at"] = time.perf_counter()
        log["queued"] = saw_queue
        status = await page.locator('[data-testid="stProgress"]').first.inner_text()
        m = re.search(r"Trained: ([\d,]+) steps in ([\d.]+) s", status)
        if m:
            log["steps"], log["run_s"] = int(m.group(1).replace(",", "")), float(m.group(2))
        if await page.locator('[data-testid="stException"]').count():
            raise RuntimeError(await page.locator('[data-testid="stException"]').first.inner_text())
        if await page.locator('[data-testid="stAlertContentError"]').count():
            raise RuntimeError("error box: " + await page.locator('[data-testid="stAlertContentError"]').first
                               .inner_text())
        if errors:
            raise RuntimeError(errors[0])
        want = EXPECT.get(page_path)
        if want:   # the result itself: the whole step budget, and a model better than chance on the test set
            if log.get("steps") != want["steps"]:
                raise RuntimeError(f"took {log.get('steps')} steps, not the budget's {want['steps']}")
            metric = page.locator('[data-testid="stMetric"]').filter(has_text=re.compile(want["metric"])).last
            value = float((await metric.locator('[data-testid="stMetricValue"]').inner_text()).strip(" %")) / 100
            log["accuracy"] = value
            if value <= want["chance"]:
                raise RuntimeError(f"test accuracy {value:.1%} is not above chance ({want['chance']:.0%})")
        log["ok"] = True
    except Exception as e:  # noqa: BLE001 - a failed session is a result, not a crash of the benchmark
        log["ok"] = False
        log["error"] = f"{type(e).__name__}: {str(e)[:200]}"
    finally:
        await ctx.close()
        log["gone_at"] = time.perf_counter()


async def _drive(url: str, sessions: int, page_path: str, timeout_s: float, close_half: bool = False,
                 own_seeds: bool = False) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        go = asyncio.Event()
        logs = [{"session": i} for i in range(sessions)]
        tasks = [asyncio.create_task(_session(browser, url, page_path, go, timeout_s, logs[i],
                                              2.0 if close_half and i % 2 else None, i + 1 if own_seeds else None))
                 for i in range(sessions)]
        # Release the button presses once every tab has opened its page (or after a timeout).
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout_s and sum("open_s" in g or "ok" in g for g in logs) < sessions:
            await asyncio.sleep(0.1)
        go.set()
        await asyncio.gather(*tasks)
        await browser.close()
    return logs


CLI_RUNS = {"datasets": ["train", "classifier", "--steps", "1500"],
            "autoencoders": ["train", "autoencoder", "--variant", "deep", "--seconds", "10"]}


def _cli_rate(page: str, repeats: int = 3) -> float | None:
    """Steps a second of the page's default run from the CLI, three runs back to back (sum steps / sum seconds)."""
    import json
    import subprocess
    if page not in CLI_RUNS:
        return None
    steps = secs = 0.0
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-m", "dlplay", *CLI_RUNS[page], "--json"], capture_output=True,
                             text=True, cwd=Path(__file__).resolve().parent.parent, timeout=600)
        d = json.loads(out.stdout.strip().splitlines()[-1])
        steps, secs = steps + d["steps"], secs + d["seconds"]
    return round(steps / secs, 1)


def _freed_after(timeline, t0: float, logs: list[dict]) -> float | None:
    """Seconds after t0 until the runs in slots and queue were no more than the students still training."""
    for t, c in timeline:
        if t < t0:
            continue
        training = sum(1 for g in logs if not g.get("closed") and g.get("done_at", g.get("gone_at", math.inf)) > t)
        if c.get("running", 0) + c.get("queued", 0) <= training:
            return round(t - t0, 2)
    return None


def _back_to(counters: Counters, base: dict, t0: float, limit: float) -> float | None:
    """Wait (at most `limit` s after t0) until sessions, trainers and models held are back to `base`."""
    while time.perf_counter() - t0 < limit:
        c = counters.last()
        if c and all((c.get(k) or 0) <= (base.get(k) or 0) for k in HELD):
            return round(time.perf_counter() - t0, 1)
        time.sleep(0.5)
    return None


def run(sessions: int = 10, page: str = "datasets", settle: float = 60.0, timeout_s: float = 300.0,
        verbose: bool = True, close_half: bool = True) -> dict:
    import tempfile

    say = (lambda *a: print(*a, file=sys.stderr, flush=True)) if verbose else (lambda *a: None)
    count_file = Path(tempfile.mkdtemp(prefix="dlplay-load-")) / "counts.json"
    with Server(env={"DLPLAY_DEBUG_COUNTS": str(count_file)}) as server:
        say(f"server up in {server.startup_seconds:.1f} s at {server.url}")
        pid = server.proc.pid
        counters = Counters(count_file)
        counters.start()
        say("warm-up session (loads the shared datasets and models once) ...")
        warm = asyncio.run(_drive(server.url, 1, page, timeout_s))
        # The warm-up tab is closed: what it held must go too (its session is kept 30 s after the disconnect).
        warm_freed = _back_to(counters, {}, time.perf_counter(), 90.0)
        base = counters.last()
        rss_before = _rss_mb(pid)
        poller = Poller(server.url, pid)
        poller.start()
        say(f"pre-load RSS {rss_before:.0f} MB, held {base}; {sessions} sessions open {page!r} and press Train "
            f"together{' (half close their tab 2 s later)' if close_half else ''} ...")
        t0 = time.perf_counter()
        logs = asyncio.run(_drive(server.url, sessions, page, timeout_s, close_half, own_seeds=True))
        wall = time.perf_counter() - t0
        t_gone = max(g.get("gone_at", 0.0) for g in logs)
        peak = max((c for t, c in counters.timeline if t >= t0), key=lambda c: c.get("sessions") or 0, default={})
        say(f"load done in {wall:.1f} s; tabs closed; waiting up to {settle:.0f} s for what they held to go ...")
        leak_s = _back_to(counters, base, t_gone, settle)
        poller.running = False
        poller.join()
        rss_after = _rss_mb(pid)
        counters.running = False
        held_after = counters.last()
    closed = [g for g in logs if g.get("closed")]
    kept = [g for g in logs if not g.get("closed")]
    ok = [g for g in kept if g.get("ok")]
    t_close = max((g["closed_at"] for g in closed), default=None)
    freed_s = _freed_after(counters.timeline, t_close, logs) if t_close is not None else None
    # The machine's training throughput during the load: all steps the sessions took over the time from the first
    # press to the last 'Trained', against the CLI's steps per second for the same run, back to back.
    steps = sum(g.get("steps", 0) for g in ok)
    span = (max(g["done_at"] for g in ok) - min(g["pressed_at"] for g in ok)) if ok else 0.0
    cli = _cli_rate(page) if ok else None
    result = {
        "sessions": sessions, "page": page, "closed_mid_training": len(closed), "completed": len(ok),
        "failed": len(kept) - len(ok),
        "failures": [g.get("error") for g in logs if not g.get("ok") and not g.get("closed")],
        "warmup_ok": bool(warm and warm[0].get("ok")), "warmup_freed_s": warm_freed,
        "queued_sessions": sum(bool(g.get("queued")) for g in ok),
        "accuracy_min": min((g["accuracy"] for g in ok if "accuracy" in g), default=None),
        "load_wall_s": round(wall, 2),
        "open_page_s_p50": _pct([g["open_s"] for g in logs if "open_s" in g], 0.5),
        "train_s_p50": _pct([g["train_s"] for g in ok], 0.5), "train_s_max": max([g["train_s"] for g in ok], default=None),
        "health_p50_s": _pct(poller.health, 0.5), "health_p95_s": _pct(poller.health, 0.95),
        "home_p50_s": _pct(poller.home, 0.5), "home_p95_s": _pct(poller.home, 0.95),
        "poll_failures": poller.failures, "polls": len(poller.health),
        "held_before": {k: base.get(k) for k in HELD},
        "held_peak_sessions": peak.get("sessions"),
        "held_after": {k: held_after.get(k) for k in HELD},
        "closed_half_slots_freed_s": freed_s, "slots_freed_within_5s": freed_s is not None and freed_s <= 5.0,
        "leaks_back_to_before_s": leak_s, "no_leak_within_60s": leak_s is not None and leak_s <= 60.0,
        "rss_before_mb": round(rss_before, 1), "rss_peak_mb": round(max(poller.peak_rss, rss_before), 1),
        "rss_after_settle_mb": round(rss_after, 1), "settle_s": settle,
        "total_steps": steps, "aggregate_steps_per_s": round(steps / span, 1) if span else None,
        "cli_steps_per_s": cli, "aggregate_vs_cli": round(steps / span / cli, 3) if span and cli else None,
    }
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--page", default="datasets", help="url path of the demo page each session trains on")
    ap.add_argument("--settle", type=float, default=60.0, help="seconds to wait after the tabs close")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--no-close-half", dest="close_half", action="store_false",
                    help="every student stays until trained (by default every second tab closes 2 s after Train)")
    a = ap.parse_args(argv)
    r = run(a.sessions, a.page, a.settle, a.timeout, close_half=a.close_half)
    for k, v in r.items():
        print(f"{k:>30}: {v:.3f}" if isinstance(v, float) else f"{k:>30}: {v}")
    print(json.dumps(r))
    return 0 if r["failed"] == 0 and r["no_leak_within_60s"] and (r["slots_freed_within_5s"] or
                                                                   not r["closed_mid_training"]) else 1


if __name__ == "__main__":
    sys.exit(main())
