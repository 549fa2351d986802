"""GPU smoke run (issue 29): `python bench/gpu_smoke.py` on a CUDA machine (2-3 minutes), or `--dry-run` on the CPU
under the fake CUDA device of tests/fakecuda.py (the same code paths; the speeds then say nothing about a GPU).

Prints one markdown table and writes JSON (bench/results/gpu_smoke.json):
- per task: steps/s on the CPU and on the GPU (the same EXAMPLE config, a step budget, metrics read once at the
  end), host-device waits per step (`torch.cuda.set_sync_debug_mode('warn')` on a GPU, the fake's counter in a dry
  run), peak GPU memory;
- the crash flows of issue 29 (train vae --judge --out on cuda, one_hot_identity, get_device(torch.device(...)));
- every CLI command with --device cuda (the table of tests/gpu/test_fake_gpu.py);
- style transfer at 256 / 512 / 1024 px: fp32, fp32 + cudnn.benchmark + TF32, and bf16 autocast ($DLPLAY_AMP).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import torch  # noqa: E402


class Waits:
    """Host-device waits inside a block: the fake's counter, or CUDA's sync debug warnings on a real GPU."""

    def __init__(self, dry: bool):
        self.dry, self.count = dry, 0

    @contextlib.contextmanager
    def count_in(self):
        if self.dry:
            import fakecuda
            with fakecuda.counting() as c:
                yield
            self.count = c.count
            return
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("warn")
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                torch.cuda.set_sync_debug_mode(0)
        self.count = sum("synchroniz" in str(x.message) for x in w)


def _sync(dev):
    if torch.device(dev).type == "cuda":
        torch.cuda.synchronize()


def steps_per_second(mod, cfg, device, steps: int) -> float:
    from dlplay.train import Trainer
    task = mod.make_task(cfg, 0, device=device)
    tr = Trainer(task, record_every=10**6)
    tr.run(steps=2, evaluate=False)          # warm-up (cuDNN's autotuner, lazy buffers)
    _sync(device)
    t0 = time.perf_counter()
    tr.run(steps=steps, evaluate=False)      # the last step is recorded: one read, which waits for the GPU
    _sync(device)
    return steps / (time.perf_counter() - t0)


def task_rows(dry: bool, steps: int) -> list[dict]:
    from dlplay import topics
    from dlplay.gan import images
    from dlplay.train import Trainer
    entries = [(n, importlib.import_module(n)) for n in topics.TOPICS]
    entries.append(("dlplay.gan (image DCGAN)", images))
    rows = []
    for name, mod in entries:
        cfg = images.ImageGANConfig() if mod is images else (getattr(mod, "EXAMPLE", None)
                                                             or topics.config_type(mod)())
        row = {"task": name}
        try:
            row["cpu_steps_s"] = steps_per_second(mod, cfg, "cpu", steps)
            if not dry:
                torch.cuda.reset_peak_memory_stats()
            row["gpu_steps_s"] = steps_per_second(mod, cfg, "cuda", steps)
            task = mod.make_task(cfg, 0, device="cuda")
            tr = Trainer(task, record_every=10**6)
            tr.run(steps=2, evaluate=False)
            w = Waits(dry)
            with w.count_in():
                tr.run(steps=steps, evaluate=False)
            row["waits_per_step"] = w.count / steps
            row["peak_gpu_mb"] = 0.0 if dry else torch.cuda.max_memory_allocated() / 2**20
        except Exception as e:  # noqa: BLE001 - one failing task must not hide the others
            row["error"] = f"{type(e).__name__}: {str(e)[:120]}"
        rows.append(row)
    return rows


def crash_rows() -> list[dict]:
    from dlplay.cli import main
    from dlplay.device import get_device
    from dlplay.words import one_hot_identity
    out = []

    def check(what, fn):
        try:
            fn()
            out.append({"flow": what, "ok": True})
        except Exception as e:  # noqa: BLE001
            out.append({"flow": what, "ok": False, "error": f"{type(e).__name__}: {str(e)[:120]}"})

    with tempfile.TemporaryDirectory() as tmp:
        def vae():
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["train", "vae", "--steps", "20", "--judge", "--out", f"{tmp}/v.pt",
                             "--device", "cuda", "--json"]) == 0
        check("train vae --judge --out x.pt --device cuda", vae)
    check("one_hot_identity on the device", lambda: one_hot_identity(torch.randn(30, 4, device="cuda"), 3))
    check("get_device(torch.device('cuda'))", lambda: get_device(torch.device("cuda")))
    return out


def cli_rows() -> list[dict]:
    from dlplay.cli import main
    sys.path.insert(0, str(ROOT / "tests" / "gpu"))
    from test_fake_gpu import CLI
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for key, extra in CLI.items():
            extra = [a.format(tmp=tmp) for a in extra]
            pos = [a for i, a in enumerate(extra) if not a.startswith("--") and (i == 0 or not extra[i - 1].startswith("--"))]
            opts = [a for a in extra if a not in pos]
            t0 = time.perf_counter()
            err = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                try:
                    rc = main([*key.split(), *pos, "--device", "cuda", "--json", *opts])
                except SystemExit as e:
                    rc = e.code
            rows.append({"command": key, "rc": rc, "seconds": time.perf_counter() - t0,
                         **({"error": err.getvalue()[-200:]} if rc else {})})
    return rows


def style_rows(dry: bool) -> list[dict]:
    from dlplay import style
    from dlplay.device import configure_cuda
    sizes, steps = ((64, 96, 128), 2) if dry else ((256, 512, 1024), 20)
    content, sty = style.example("cat"), style.example("brush strokes (generated)")
    rows = []
    for size in sizes:
        for mode in ("fp32", "fp32+benchmark+tf32", "bf16"):
            torch.backends.cudnn.benchmark = mode != "fp32"
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = mode != "fp32"
            os.environ["DLPLAY_AMP"] = "1" if mode == "bf16" else "0"
            try:
                task = style.StyleTransferTask(content, sty, size=size, seed=0, device=torch.device("cuda"))
                if mode == "fp32":     # get_device switched them on; this row measures without
                    torch.backends.cudnn.benchmark = False
                    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
                from dlplay.train import Trainer
                tr = Trainer(task, record_every=10**6)
                tr.run(steps=2, evaluate=False)
                _sync("cuda")
                t0 = time.perf_counter()
                tr.run(steps=steps, evaluate=False)
                _sync("cuda")
                rows.append({"size": size, "mode": mode, "steps_s": steps / (time.perf_counter() - t0),
                             "style_loss": tr.latest.get("style")})
            except Exception as e:  # noqa: BLE001 - an OOM at 1024 px is a result too
                rows.append({"size": size, "mode": mode, "error": f"{type(e).__name__}: {str(e)[:100]}"})
    os.environ.pop("DLPLAY_AMP", None)
    configure_cuda()
    return rows


def _table(rows: list[dict], cols: list[str]) -> str:
    def fmt(v):
        return f"{v:.3g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="no GPU: the fake CUDA device of tests/fakecuda.py")
    ap.add_argument("--steps", type=int, default=None, help="steps per speed measurement (default 30; dry 5)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "gpu_smoke.json"))
    args = ap.parse_args(argv)
    steps = args.steps or (5 if args.dry_run else 30)
    torch.set_num_threads(int(os.environ.get("DLPLAY_THREADS", 0) or torch.get_num_threads()))
    with contextlib.ExitStack() as stack:
        if args.dry_run:
            import fakecuda
            stack.enter_context(fakecuda.fake_cuda())
            os.environ["DLPLAY_DEVICE"] = "cuda"
        elif not torch.cuda.is_available():
            print("No CUDA GPU here: run with --dry-run.", file=sys.stderr)
            return 2
        t0 = time.perf_counter()
        result = {"dry_run": args.dry_run, "device": "fake CUDA (tests/fakecuda.py)" if args.dry_run
                  else torch.cuda.get_device_name(0), "torch": torch.__version__,
                  "tasks": task_rows(args.dry_run, steps), "crashes": crash_rows(), "cli": cli_rows(),
                  "style": style_rows(args.dry_run)}
        result["seconds"] = time.perf_counter() - t0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, default=float))
    print(f"# GPU smoke ({result['device']}; {result['seconds']:.0f} s)\n")
    print(_table(result["tasks"], ["task", "cpu_steps_s", "gpu_steps_s", "waits_per_step", "peak_gpu_mb", "error"]))
    print()
    print(_table(result["crashes"], ["flow", "ok", "error"]))
    print()
    print(_table(result["cli"], ["command", "rc", "seconds", "error"]))
    print()
    print(_table(result["style"], ["size", "mode", "steps_s", "style_loss", "error"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
