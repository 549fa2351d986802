"""Benchmark harness: `python bench/run.py [--quick]` or `python -m dlplay bench [--quick]`.

Every file bench/bench_<name>.py defines `rows(quick: bool) -> list[dict]`; each row is one measurement:

    {"bench": "vae", "what": "digits, 20 s: test ELBO", "dlplay": -28.1, "baseline": None,
     "baseline_name": "", "unit": "nats", "note": "..."}

`baseline` is the same thing done the way people would do it without dlplay (a bare PyTorch loop, openTSNE's
defaults, ...), measured in the same process, so the two numbers sit side by side. A row that states a goal
carries it as `"goal": ">= 0.8"` (words a reader understands) and the verdict as `"ok": True / False`, computed by
the bench that measured it. The harness prints a table (a row with ok == False is marked FAIL), then the rows as
one JSON object on the last line, writes bench/results/latest.json (not committed; a summary the README quotes is
committed next to it, e.g. bench/results/README-table.json), and exits 1 when any row failed or a bench crashed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def discover(only: list[str] | None = None) -> list[str]:
    names = sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))
    return [n for n in names if not only or n in only]


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def failed(r: dict) -> bool:
    """A row fails when its bench crashed or it carries a goal it did not meet (ok is False)."""
    return r.get("what") == "FAILED" or r.get("ok") is False


def verdict(r: dict) -> str:
    if failed(r):
        return "FAIL"
    return "ok" if r.get("ok") is True else ""


def table(rows: list[dict]) -> str:
    head = ["", "bench", "what", "dlplay", "baseline", "ratio", "unit", "goal", "note"]
    body = []
    for r in rows:
        ratio = r.get("ratio")
        if ratio is None and isinstance(r.get("baseline"), (int, float)) and r.get("baseline") and \
                isinstance(r.get("dlplay"), (int, float)):
            ratio = r["dlplay"] / r["baseline"]
        base = _fmt(r.get("baseline")) + (f" ({r['baseline_name']})" if r.get("baseline_name") else "")
        body.append([verdict(r), r.get("bench", ""), r.get("what", ""), _fmt(r.get("dlplay")), base, _fmt(ratio),
                     r.get("unit", ""), r.get("goal", ""), r.get("note", "")])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, body)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every row")
    ap.add_argument("--only", nargs="*", default=None, help="bench names (files bench_<name>.py)")
    ap.add_argument("--out", default=None, help="JSON file to write (default bench/results/latest.json)")
    ap.add_argument("--device", default=None, help="train the rows' tasks on this device (default cpu); "
                    "the timed loops wait for the GPU before reading the clock")
    args = ap.parse_args(argv)
    if args.device:
        import os
        os.environ["DLPLAY_BENCH_DEVICE"] = args.device
    sys.path.insert(0, str(ROOT))
    import torch

    from dlplay.device import describe_device
    from dlplay.runner import set_threads
    set_threads()
    rows: list[dict] = []
    for name in discover(args.only):
        start = time.perf_counter()
        print(f"== bench_{name} ...", file=sys.stderr, flush=True)
        try:
            mod = importlib.import_module(f"bench.bench_{name}")
            got = mod.rows(args.quick)
        except Exception as e:  # one broken bench must not hide the others' numbers
            traceback.print_exc()
            got = [{"what": "FAILED", "note": f"{type(e).__name__}: {e}"}]
        for r in got:
            r.setdefault("bench", name)
        rows.extend(got)
        print(f"   {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    result = {"machine": {"python": platform.python_version(), "torch": torch.__version__,
                          "device": describe_device(), "platform": platform.platform()},
              "quick": args.quick, "rows": rows}
    out = Path(args.out) if args.out else HERE / "results" / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=float))
    print(table(rows))
    bad = [r for r in rows if failed(r)]
    for r in bad:
        print(f"FAIL {r.get('bench', '')}: {r.get('what', '')}: {_fmt(r.get('dlplay'))} {r.get('unit', '')} "
              f"(goal {r.get('goal', 'none stated')}) {r.get('note', '')}", file=sys.stderr)
    print(f"{len(bad)} of {len(rows)} rows FAIL; {sum(r.get('ok') is True for r in rows)} met their goal",
          file=sys.stderr)
    print(json.dumps(result, default=float))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
