"""Lecture-hall rows: N real Chromium sessions training at once (bench/load.py) and the hostile-file suite."""

from __future__ import annotations

from pathlib import Path


def rows(quick: bool) -> list[dict]:
    from bench.hostile import run_all

    h = run_all()
    out = [{"what": "hostile files x upload paths handled (InputError or noted conversion)",
            "dlplay": h["handled"], "baseline": h["tried"], "baseline_name": "tried", "unit": "cases",
            "note": f"{h['files']} files x {len(h['paths'])} paths"}]
    if not Path("/usr/bin/chromium").exists():
        return out + [{"what": "load test", "note": "skipped: no /usr/bin/chromium"}]
    from bench.load import run

    n, settle = (3, 10.0) if quick else (10, 60.0)
    r = run(sessions=n, settle=settle, verbose=False)
    note = f"{n} sessions on the datasets page"
    return out + [
        {"what": f"{n} sessions press Train at once: completed", "dlplay": r["completed"], "baseline": n,
         "baseline_name": "sessions", "unit": "sessions", "note": f"{r['queued_sessions']} saw the queue"},
        {"what": "health p50 / p95 during the load", "dlplay": r["health_p95_s"], "unit": "s (p95)",
         "note": f"p50 {r['health_p50_s']:.3f} s; home page p95 {r['home_p95_s']:.3f} s"},
        {"what": "server RSS: before / peak / after tabs closed", "dlplay": r["rss_peak_mb"],
         "baseline": r["rss_before_mb"], "baseline_name": "before", "unit": "MB",
         "note": f"after {settle:.0f} s: {r['rss_after_settle_mb']} MB "
                 f"({'within' if r['memory_returned_within_10pct'] else 'NOT within'} 10%); {note}"},
        {"what": "slowest session: press Train until trained", "dlplay": r["train_s_max"], "unit": "s",
         "note": f"p50 {r['train_s_p50']:.1f} s, each run's budget 5 s, slots = cores"},
    ]
