"""Embedding Explorer rows: t-SNE on the digits against openTSNE's defaults and scikit-learn's TSNE (same process,
same data), UMAP's first call in a fresh server process against a warm call, and 20,000 uploaded rows of 50
dimensions through t-SNE and UMAP with their peak memory (each in a fresh process, so the peak is the run's own)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

from bench.server import ROOT


def _fresh(code: str, timeout: float = 1200) -> dict:
    """Run `code` in a fresh Python process (repo on the path); it prints one JSON line last."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _tsne_digits(quick: bool) -> list[dict]:
    from openTSNE import TSNE

    from dlplay import embed as E

    x = E.load_source("digits").x
    t0 = time.perf_counter()
    y0 = np.asarray(TSNE(random_state=0).fit(x))
    base = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb = E.Embedder("tsne", 2, 0).fit(x)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    y_same = np.asarray(TSNE(random_state=0, n_jobs=E.n_jobs()).fit(x))
    base_same = time.perf_counter() - t0
    q = E.quality(x, emb.embedding_)
    rows = [
        {"what": "digits (1,797), t-SNE 2-D: time", "dlplay": ours, "baseline": base,
         "baseline_name": "openTSNE defaults (n_jobs=1)", "unit": "s",
         "note": f"dlplay uses {E.n_jobs()} jobs; openTSNE with the same jobs: {base_same:.2f} s "
                 f"(ratio {ours / base_same:.2f})"},
        {"what": "digits (1,797), t-SNE 2-D: trustworthiness (k=10)", "dlplay": q["trustworthiness"],
         "baseline": E.quality(x, y0)["trustworthiness"], "baseline_name": "openTSNE defaults", "unit": "",
         "note": f"share of 10 nearest neighbours kept: {q['knn_kept']:.2f} (goal: trustworthiness >= 0.97)"},
    ]
    if not quick:
        from sklearn.manifold import TSNE as SKTSNE

        t0 = time.perf_counter()
        y_sk = SKTSNE(random_state=0).fit_transform(x)
        sk = time.perf_counter() - t0
        rows.append({"what": "digits (1,797), t-SNE 2-D: time", "dlplay": ours, "baseline": sk,
                     "baseline_name": "scikit-learn TSNE defaults", "unit": "s",
                     "note": f"scikit-learn's trustworthiness {E.quality(x, y_sk)['trustworthiness']:.3f}"})
    del y_same
    return rows


_UMAP_FRESH = """
import json, time, numpy as np
t0 = time.perf_counter()
from dlplay import embed as E
warm = {warm}
if warm:
    th = E.warm_up_in_background(delay=0.0)   # what app.py does when the server starts
    th.join()                                  # the lecturer opens the home page, then this page
warm_s = time.perf_counter() - t0
x = E.load_source("digits").x
t = time.perf_counter(); E.embed(x, "umap", 2, 0); first = time.perf_counter() - t
t = time.perf_counter(); E.embed(x, "umap", 2, 0); second = time.perf_counter() - t
print(json.dumps(dict(first=first, second=second, warm_s=warm_s)))
"""


def _umap_first_call() -> list[dict]:
    cold = _fresh(_UMAP_FRESH.format(warm=False))
    hot = _fresh(_UMAP_FRESH.format(warm=True))
    return [
        {"what": "UMAP on digits: first call in a fresh server (after the background warm-up)",
         "dlplay": hot["first"], "baseline": hot["second"], "baseline_name": "warm call, same process", "unit": "s",
         "note": f"warm-up ran {hot['warm_s']:.1f} s in the background from server start (goal: ratio <= 1.5)"},
        {"what": "UMAP on digits: first call in a fresh process without warm-up", "dlplay": cold["first"],
         "baseline": cold["second"], "baseline_name": "warm call, same process", "unit": "s",
         "note": "numba compiling on the user's time: what the warm-up avoids"},
    ]


_BIG = """
import json, resource, time, numpy as np, psutil
from dlplay import embed as E
rng = np.random.default_rng(0)
n, d = {n}, 50
centres = rng.normal(0, 6, size=(20, d))
lab = rng.integers(0, 20, n)
x = centres[lab] + rng.normal(size=(n, d))
csv = "\\n".join([",".join(["f%d" % j for j in range(d)] + ["label"])] +
                 [",".join("%.4f" % v for v in row) + ",c%d" % k for row, k in zip(x, lab)]).encode()
t = time.perf_counter()
src = E.read_table(csv, "big.csv").to_source()
read_s = time.perf_counter() - t
del csv
before = psutil.Process().memory_info().rss
reports = []
def progress(p):
    reports.append(p.fraction)
t = time.perf_counter()
emb = E.Embedder("{method}", 2, 0).fit(src.x, progress=progress)
secs = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
q = E.quality(src.x, emb.embedding_)
print(json.dumps(dict(secs=secs, read_s=read_s, peak=peak, before=before, reports=len(reports),
                      tw=q["trustworthiness"], kept=q["knn_kept"], data_mb=src.x.nbytes / 2**20)))
"""


def _big_upload(quick: bool) -> list[dict]:
    n = 5_000 if quick else 20_000
    rows = []
    for method in ("tsne", "umap"):
        r = _fresh(_BIG.format(n=n, method=method))
        rows.append({"what": f"upload {n:,} x 50 CSV, {method}: time", "dlplay": r["secs"], "unit": "s",
                     "note": f"reading the CSV {r['read_s']:.1f} s; {r['reports']} progress reports; "
                             f"trustworthiness {r['tw']:.3f} (sample of 3,000), 10-NN kept {r['kept']:.2f}"})
        rows.append({"what": f"upload {n:,} x 50 CSV, {method}: peak memory of the process", "dlplay": r["peak"] / 2**20,
                     "baseline": r["before"] / 2**20, "baseline_name": "same process before the run", "unit": "MiB",
                     "note": f"the table itself is {r['data_mb']:.1f} MiB"})
    return rows


def rows(quick: bool) -> list[dict]:
    return [*_tsne_digits(quick), *_umap_first_call(), *_big_upload(quick)]
