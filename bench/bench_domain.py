"""Domain adaptation rows (issue 20): on the photo-texture target, source only against the two adversarial forms,
the same network, data, batches and step budget (only the adversarial term differs), seeds 0, 1, 2: target and
source test accuracy, the discriminator played against and a fresh one, each as mean and spread over the seeds.
"""

from __future__ import annotations

from bench import bench_device

import statistics

from dlplay import domain as D
from dlplay.train import Trainer

KEYS = ("target_accuracy", "source_accuracy", "domain_accuracy", "fresh_domain_accuracy")


def _runs(method: str, steps: int, seeds, target: str = "photo") -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in KEYS}
    out["seconds"] = []
    for seed in seeds:
        task = D.make_task(D.DomainConfig(target=target, method=method), seed, device=bench_device())
        tr = Trainer(task, record_every=50).run(steps=steps)
        for k in KEYS:
            out[k].append(tr.last_eval[k])
        out["seconds"].append(tr.seconds)
    return out


def _ms(v: list[float]) -> str:
    return f"{statistics.mean(v):.3f} ± {statistics.pstdev(v):.3f}"


def rows(quick: bool) -> list[dict]:
    steps, seeds = (200, [0]) if quick else (D.PRETRAIN_STEPS, [0, 1, 2])
    base = _runs("source-only", steps, seeds)
    out = []
    for method in ("grl", "alternating"):
        r = _runs(method, steps, seeds)
        note = (f"{steps} steps, seeds {seeds}; source acc {_ms(r['source_accuracy'])} vs "
                f"{_ms(base['source_accuracy'])};"
                f" its discriminator {_ms(r['domain_accuracy'])} vs {_ms(base['domain_accuracy'])}; fresh "
                f"discriminator {_ms(r['fresh_domain_accuracy'])} vs {_ms(base['fresh_domain_accuracy'])}; "
                f"{statistics.mean(r['seconds']):.0f} s per run")
        out.append({"what": f"photo-texture target, {method}: target test accuracy (mean of {len(seeds)} seeds)",
                    "dlplay": statistics.mean(r["target_accuracy"]),
                    "baseline": statistics.mean(base["target_accuracy"]),
                    "baseline_name": "source only (same net, data, batches, steps)", "unit": "accuracy",
                    "note": note})
    return out
