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
    half = r["closed_mid_training"]
    return out + [
        {"what": f"{n} sessions press Train at once (own seeds), {half} close their tab 2 s later: the others "
                 "completed, with the whole budget and accuracy above chance", "dlplay": r["completed"],
         "baseline": n - half, "baseline_name": "stayed", "unit": "sessions", "goal": "all who stayed",
         "ok": r["completed"] == n - half and r["failed"] == 0,
         "note": f"{r['queued_sessions']} saw the queue; lowest test accuracy {r['accuracy_min']}; failures "
                 f"{r['failures'] or 'none'}"},
        {"what": "closed tabs: seconds until slots and queue hold only the remaining students' runs",
         "dlplay": r["closed_half_slots_freed_s"], "unit": "s", "goal": "<= 5 s", "ok": r["slots_freed_within_5s"]},
        {"what": "leak counters (sessions, trainers, models, runs held) back to their pre-load values after the "
                 "last tab closed", "dlplay": r["leaks_back_to_before_s"], "unit": "s", "goal": "<= 60 s",
         "ok": r["no_leak_within_60s"], "note": f"before {r['held_before']}, after {r['held_after']}; a closed "
                                              "tab's session is kept 30 s for a reconnect"},
        {"what": "health p50 / p95 during the load", "dlplay": r["health_p95_s"], "unit": "s (p95)",
         "note": f"p50 {r['health_p50_s']:.3f} s; home page p95 {r['home_p95_s']:.3f} s"},
        {"what": "server RSS: before / peak / after tabs closed", "dlplay": r["rss_peak_mb"],
         "baseline": r["rss_before_mb"], "baseline_name": "before", "unit": "MB",
         "note": f"after {settle:.0f} s: {r['rss_after_settle_mb']} MB "
                 f"(Python keeps freed memory for reuse: the leak counters, not RSS, say what is held); {note}"},
        {"what": "slowest session: press Train until trained", "dlplay": r["train_s_max"], "unit": "s",
         "note": f"p50 {r['train_s_p50']:.1f} s, each run's budget 5 s, slots = cores"},
    ]
