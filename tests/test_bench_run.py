"""bench/run.py: a row with a goal it missed (ok == False) is printed as FAIL and the harness exits non-zero."""

import json
import sys
import types

from bench import run


def _fake_bench(monkeypatch, rows):
    mod = types.ModuleType("bench.bench_fake")
    mod.rows = lambda quick: [dict(r) for r in rows]
    monkeypatch.setitem(sys.modules, "bench.bench_fake", mod)
    monkeypatch.setattr(run, "discover", lambda only=None: ["fake"])


def test_a_row_below_its_goal_is_marked_fail_and_the_run_exits_non_zero(monkeypatch, tmp_path, capsys):
    _fake_bench(monkeypatch, [{"what": "speed", "dlplay": 3.0, "goal": ">= 5", "ok": False, "unit": "it/s"},
                              {"what": "quality", "dlplay": 0.9, "goal": ">= 0.8", "ok": True},
                              {"what": "no goal", "dlplay": 1.0}])
    assert run.main(["--out", str(tmp_path / "r.json")]) == 1
    out, err = capsys.readouterr()
    lines = {ln.split("|")[3].strip(): ln.split("|")[1].strip() for ln in out.splitlines() if ln.startswith("| ")}
    assert lines["speed"] == "FAIL" and lines["quality"] == "ok" and lines["no goal"] == ""
    assert "FAIL fake: speed" in err and "1 of 3 rows FAIL" in err
    saved = json.loads((tmp_path / "r.json").read_text())
    assert [r["ok"] for r in saved["rows"] if "ok" in r] == [False, True]


def test_all_goals_met_exits_zero_and_a_crashed_bench_fails(monkeypatch, tmp_path, capsys):
    _fake_bench(monkeypatch, [{"what": "quality", "dlplay": 0.9, "goal": ">= 0.8", "ok": True}])
    assert run.main(["--out", str(tmp_path / "r.json")]) == 0
    mod = types.ModuleType("bench.bench_fake")
    mod.rows = lambda quick: 1 / 0
    monkeypatch.setitem(sys.modules, "bench.bench_fake", mod)
    assert run.main(["--out", str(tmp_path / "r.json")]) == 1
    assert "FAIL fake: FAILED" in capsys.readouterr().err
