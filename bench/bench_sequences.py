"""Sequences: the issue's targets, each a fresh model under a time budget on the CPU.

    python bench/bench_sequences.py JOB [--seconds 60] [--seed 0]      one measurement, one JSON line
    rows(quick) for bench/run.py                                       all of them, one after another

Jobs: ngram, charlm-lstm, charlm-rnn, gradients, copy-rnn, copy-lstm, reverse-attention, reverse-plain, pixelcnn.
"""

from __future__ import annotations

from bench import bench_device

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from dlplay import sequences as sq  # noqa: E402
from dlplay.train import Trainer  # noqa: E402


KW: dict = {}   # config overrides from --kw (for sweeps)


def _train(cfg, seconds, seed, steps=None):
    cfg = cfg.replace(**{k: v for k, v in KW.items() if hasattr(cfg, k)})
    task = sq.make_task(cfg, seed, device=bench_device())
    tr = Trainer(task, record_every=50).run(seconds=seconds if steps is None else None, steps=steps)
    return task, tr


def job(name: str, seconds: float = 60.0, seed: int = 0, steps: int | None = None) -> dict:
    out = {"job": name, "seed": seed, "seconds_budget": seconds}
    if name == "ngram":
        task = sq.make_task(sq.CharConfig(arch="ngram"), seed)
        while not task.done:
            task.step()
        ev = task.evaluate()
        out.update({f"val_bpc_order{o}": m.bits_per_char(task.val_ids) for o, m in task.models.items()}, **ev)
    elif name.startswith("charlm-"):
        task, tr = _train(sq.CharConfig(arch=name.split("-")[1]), seconds, seed, steps)
        out.update(steps=tr.steps, **tr.last_eval)
    elif name == "gradients":
        models = {k: sq.fresh_char_model(k, 256, seed) for k in ("tanh", "relu", "lstm")}
        g = sq.gradient_curves(models)
        out.update({f"untrained_{k}_ratio30": float(v[30] / v[0]) for k, v in g.items()})
        trained = {k: sq.load_shipped(n)[0] for k, n in (("tanh", "seq_rnn_lee"), ("lstm", "seq_lstm_lee"))}
        g = sq.gradient_curves(trained)
        out.update({f"trained_{k}_ratio30": float(v[30] / v[0]) for k, v in g.items()})
    elif name.startswith("copy-"):
        task, tr = _train(sq.CopyConfig(arch=name.split("-")[1], delay=20), seconds, seed, steps)
        out.update(steps=tr.steps, **tr.last_eval)
    elif name.startswith("reverse-"):
        task, tr = _train(sq.ReverseConfig(attention=name.endswith("attention")), seconds, seed, steps)
        out.update(steps=tr.steps, **tr.last_eval,
                   by_length={n: sq.seq2seq.exact_match(task.model, n, 300) for n in range(1, 15)})
    elif name == "pixelcnn":
        task, tr = _train(sq.PixelConfig(), seconds, seed, steps)
        out.update(steps=tr.steps, **tr.last_eval, judged_digits=sq.judged_digits(task.model, 500, seed),
                   sample100_seconds=sq.time_pixel_samples(task.model))
    else:
        raise SystemExit(f"unknown job {name}")
    return out


def rows(quick: bool) -> list[dict]:
    s = 10.0 if quick else 60.0
    r = {n: job(n, s) for n in ("ngram", "charlm-lstm", "copy-rnn", "copy-lstm", "reverse-attention",
                               "reverse-plain", "pixelcnn", "gradients")}
    return [
        {"bench": "sequences", "what": f"LSTM char model, Lee corpus, {s:g} s: validation bits/char",
         "dlplay": r["charlm-lstm"]["val_bits_per_char"], "baseline": r["ngram"]["best_val_bits_per_char"],
         "baseline_name": "best n-gram", "unit": "bits/char"},
        {"bench": "sequences", "what": f"copy task, delay 20, {s:g} s each: accuracy",
         "dlplay": r["copy-lstm"]["accuracy"], "baseline": r["copy-rnn"]["accuracy"], "baseline_name": "tanh RNN"},
        {"bench": "sequences", "what": f"digit reversal, {s:g} s: exact match at the longest trained length",
         "dlplay": r["reverse-attention"]["exact_match_longest"], "baseline": r["reverse-plain"]["exact_match_longest"],
         "baseline_name": "no attention"},
        {"bench": "sequences", "what": f"PixelCNN, binarised digits, {s:g} s: test NLL",
         "dlplay": r["pixelcnn"]["test_nll_nats"], "unit": "nats",
         "note": f"judged digits {r['pixelcnn']['judged_digits']:.0%}"},
        {"bench": "sequences", "what": "||dL_T/ds_T-30|| / ||dL_T/ds_T||, untrained: LSTM vs tanh RNN",
         "dlplay": r["gradients"]["untrained_lstm_ratio30"], "baseline": r["gradients"]["untrained_tanh_ratio30"],
         "baseline_name": "tanh"},
    ]


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("job")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kw", default="{}", help="config overrides as JSON, e.g. '{\"hidden\": 512}'")
    a = p.parse_args()
    KW.update(json.loads(a.kw))
    torch.set_num_threads(int(__import__("os").environ.get("DLPLAY_THREADS", 2)))
    t0 = time.perf_counter()
    res = {"kw": KW, **job(a.job, a.seconds, a.seed, a.steps)}
    res["wall"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(res), flush=True)
