"""Sequences and autoregressive models: from the Markov assumption to LSTMs, attention and pixel-by-pixel digits.

    from dlplay import sequences as sq
    task = sq.make_task(sq.CharConfig(arch="lstm"), seed=0)   # also CopyConfig, ReverseConfig, PixelConfig
    Trainer(task).run(seconds=60); task.evaluate()            # {'val_bits_per_char': ...}
    model, cfg, extra = sq.load_shipped("seq_lstm_lee")

`text` holds the corpus, the alphabet and the n-gram model; `rnn` the RNN and LSTM cells written out, the
character model, the gradient through time and the copy task; `seq2seq` the encoder-decoder with attention;
`pixels` the PixelCNN; `tasks` the configs and Tasks; `figures` the plotly figures.
"""

from __future__ import annotations

import argparse
import time
import types

import torch

from .. import checkpoints
from ..device import cpu_copy
from ..errors import InputError
from ..topics import Shipped, add_budget_args, add_config_args, cli_train, pretrain_shipped
from . import pixels, rnn, seq2seq
from . import text as T
from .tasks import (CharConfig, CharLMTask, CopyConfig, CopyTask, NGramTask, PixelConfig, PixelTask, ReverseConfig,
                    ReverseTask, SequenceConfig, binary_digits, build, copy_accuracy, make_task)

TITLE = "Sequences and autoregressive models"
BUILDER = "dlplay.sequences:build_model"

# Step budgets, so `python -m dlplay pretrain sequences` writes the same files on any machine.
EXAMPLE = CharConfig(arch="lstm", hidden=16, seq_len=8, batch_size=4)   # small, for the contract tests
SHIPPED: dict[str, Shipped] = {
    "seq_rnn_lee": Shipped("seq_rnn_lee", "lee", CharConfig(arch="rnn"), 3000),
    "seq_lstm_lee": Shipped("seq_lstm_lee", "lee", CharConfig(arch="lstm"), 3000),
    "seq_copy_rnn_d20": Shipped("seq_copy_rnn_d20", "copy", CopyConfig(arch="rnn", delay=20), 1500),
    "seq_copy_lstm_d20": Shipped("seq_copy_lstm_d20", "copy", CopyConfig(arch="lstm", delay=20), 1500),
    "seq_reverse_attention": Shipped("seq_reverse_attention", "reverse", ReverseConfig(attention=True), 2500),
    "seq_reverse_plain": Shipped("seq_reverse_plain", "reverse", ReverseConfig(attention=False), 2500),
    "seq_pixelcnn_digits": Shipped("seq_pixelcnn_digits", "digits", PixelConfig(), 750),
}
COPY_DELAYS = (5, 10, 20, 30)     # the accuracy-against-delay sweep pretrain measures and ships


def build_model(kind: str = "charlm", **kw):
    """The checkpoint builder (BUILDER): kind is charlm, copy, reverse or pixelcnn."""
    return build({"kind": kind, **kw})


def load_shipped(name: str):
    """(model, model config, extra) of a shipped checkpoint, on the CPU in eval mode."""
    if name not in SHIPPED:
        raise InputError(f"Unknown shipped sequence model {name!r}: choose one of {', '.join(SHIPPED)}.")
    return checkpoints.load(checkpoints.shipped(name), expect_builder=BUILDER)


# -- pixel model comparisons -------------------------------------------------------------------------------------
def vae_on_binary_digits(steps: int = 3000, latent: int = 16, seed: int = 0) -> dict:
    """The VAE of the VAE page (same network, same step budget as its shipped model) trained on the same binarised
    digits: its negative test ELBO in nats (a bound on its -log p(x)) and the time to draw 100 samples."""
    from dataclasses import replace

    from .. import vae
    from ..train import Trainer

    x_train, x_test, ds = binary_digits()
    bds = replace(ds, name="digits (binarised)", x_train=x_train, x_test=x_test)
    task = vae.VAETask(bds, latent=latent, seed=seed, device="cpu")
    Trainer(task, record_every=100).run(steps=steps)
    ev = task.evaluate()
    return {f"vae{latent}_test_neg_elbo": -ev["test_elbo"],
            f"vae{latent}_sample100_seconds": time_vae_samples(task.model)}


def time_vae_samples(model, n: int = 100) -> float:
    start = time.perf_counter()
    model.sample(n, torch.Generator().manual_seed(0))
    return time.perf_counter() - start


def time_pixel_samples(model, n: int = 100) -> float:
    start = time.perf_counter()
    model.sample(n, torch.Generator().manual_seed(0))
    return time.perf_counter() - start


def judged_digits(model, n: int = 500, seed: int = 0) -> float:
    """Share of n PixelCNN samples the project's digit classifier calls a digit (probability > 0.5)."""
    from ..classifier import judge, load_judge

    x = model.sample(n, torch.Generator().manual_seed(seed))
    return judge(load_judge(), x)["confident_share"]


def copy_sweep(delays=COPY_DELAYS, steps: int = 1500, seed: int = 0) -> dict:
    """Accuracy against delay for the RNN and the LSTM, each trained afresh at every delay for `steps` steps."""
    from ..train import Trainer

    out = {}
    for arch in ("rnn", "lstm"):
        for d in delays:
            task = make_task(CopyConfig(arch=arch, delay=d), seed, device="cpu")
            Trainer(task, record_every=100).run(steps=steps)
            out[f"{arch}_d{d}"] = task.evaluate()["accuracy"]
    return out


def _extra(task) -> dict:
    if isinstance(task, PixelTask):
        return {"judged_digits": judged_digits(cpu_copy(task.model)),
                "sample100_seconds": time_pixel_samples(cpu_copy(task.model)),
                **vae_on_binary_digits(latent=2), **vae_on_binary_digits(latent=16)}
    if isinstance(task, CopyTask) and task.config.arch == "lstm":
        return {"sweep": copy_sweep()}
    return {}


def pretrain(out_dir=None, names=None) -> dict:
    """Re-create every shipped sequence model (step budgets, CPU)."""
    import math
    import sys

    from .. import limits

    # A step budget must not be cut short by the lecture-hall cap on one run's seconds (Trainer.run applies it to
    # step budgets too): on a busy CPU the LSTM's 1,200 steps take longer than that.
    cap, limits.MAX_RUN_SECONDS = limits.MAX_RUN_SECONDS, math.inf
    try:
        return pretrain_shipped(sys.modules[__name__], out_dir, names, extra=_extra)
    finally:
        limits.MAX_RUN_SECONDS = cap


# -- the command line -------------------------------------------------------------------------------------------
CLI_CONFIGS = {"train charlm": CharConfig, "train copy-task": CopyConfig, "train reverse": ReverseConfig,
               "train pixelcnn": PixelConfig}


def _shim(cls):
    """A module-like object whose make_task takes `cls`: lets the shared topics.cli_train build the options."""
    def make(config: cls, seed: int = 0, device=None):   # type: ignore[valid-type]
        return make_task(config, seed, device)
    make.__annotations__ = {"config": cls}
    return types.SimpleNamespace(make_task=make, BUILDER=BUILDER, __name__=__name__)


def cli_args(command: str, parser: argparse.ArgumentParser) -> None:
    add_budget_args(parser, seconds=30.0)
    add_config_args(parser, CLI_CONFIGS[command])
    if command == "train charlm":
        parser.add_argument("--prompt", default="the ", help="text the samples continue (default %(default)r)")
        parser.add_argument("--temperature", type=float, default=0.8)


def cli_run(command: str, args: argparse.Namespace) -> dict:
    cls = CLI_CONFIGS[command]
    if cls is CharConfig and getattr(args, "arch", None) == "ngram":
        args.out = None       # counts, not weights: nothing to save
    task, summary = cli_train(_shim(cls), args)
    if cls is CharConfig:
        g = torch.Generator().manual_seed(args.seed)
        summary["samples"] = [sample_text(task, args.prompt, 200, args.temperature, g)[0] for _ in range(3)]
    elif cls is PixelConfig:
        summary["judged_digits"] = judged_digits(cpu_copy(task.model), 500, args.seed)   # a copy: never move it
    return summary


# -- what the page shows -----------------------------------------------------------------------------------------
MAX_SAMPLE_CHARS = 2000
MAX_TEMPERATURE = 3.0


def check_sampling(n: int, temperature: float) -> str:
    """Raise InputError for an impossible request; a note when temperature 0 means greedy decoding."""
    if not (1 <= int(n) <= MAX_SAMPLE_CHARS):
        raise InputError(f"Sample length = {n} is out of range: it must be between 1 and {MAX_SAMPLE_CHARS}.")
    if not (0 <= float(temperature) <= MAX_TEMPERATURE):
        raise InputError(f"Temperature = {temperature} is out of range: it must be between 0 and {MAX_TEMPERATURE}.")
    return ("Temperature 0: greedy decoding, always the most likely next character (the same text every time)."
            if float(temperature) == 0 else "")


def stream_sample(model, prompt: str, n: int, temperature: float = 1.0, generator=None):
    """Yield (character, p(next character) over the alphabet as a numpy array) one at a time, for a trained
    SequenceNet or an NGram. Bad prompts, lengths or temperatures raise InputError before the first character."""
    check_sampling(n, temperature)
    ids, _ = T.check_prompt(prompt)
    if isinstance(model, T.NGram):
        seq = ids.tolist()
        rng = torch.Generator().manual_seed(int(torch.randint(0, 2**31, (1,), generator=generator)))
        for _ in range(int(n)):
            p = model.probs(seq)
            q = torch.as_tensor(T.sharpen(p, temperature))
            nxt = int(q.argmax()) if temperature == 0 else int(torch.multinomial(q, 1, generator=rng))
            seq.append(nxt)
            yield T.ALPHABET[nxt], p
        return
    for nxt, p in rnn.sample_chars(model, ids, int(n), float(temperature), generator):
        yield T.ALPHABET[nxt], p.numpy()


def sample_text(model_or_task, prompt: str, n: int, temperature: float = 1.0, generator=None):
    """(the continuation, the next-character distributions (n, V)) in one go."""
    import numpy as np

    model = getattr(model_or_task, "model", model_or_task)
    chars, dists = [], []
    for c, p in stream_sample(model, prompt, n, temperature, generator):
        chars.append(c)
        dists.append(p)
    return "".join(chars), np.array(dists)


def gradient_curves(models: dict, corpus: str = "lee", T_steps: int = 50, batch: int = 32) -> dict:
    """{name: ||dL_T/ds_{T-k}|| for k = 0..T_steps-1} over the same validation windows for every model."""
    _, val = T.corpus(corpus)
    g = torch.Generator().manual_seed(0)
    starts = torch.randint(0, len(val) - T_steps - 2, (batch,), generator=g)
    ids = torch.stack([val[s:s + T_steps + 1] for s in starts.tolist()])
    return {name: rnn.gradient_through_time(m, ids, T_steps).numpy() for name, m in models.items()}


def fresh_char_model(cell: str, hidden: int = 192, seed: int = 0):
    """An untrained character model (tanh, ReLU with identity init, or LSTM) for the gradient comparison."""
    torch.manual_seed(seed)
    return rnn.build_model(T.V, cell, hidden)


__all__ = ["BUILDER", "CharConfig", "CharLMTask", "CopyConfig", "CopyTask", "NGramTask", "PixelConfig", "PixelTask",
           "ReverseConfig", "ReverseTask", "SHIPPED", "SequenceConfig", "TITLE", "T", "build_model", "check_sampling",
           "copy_accuracy", "copy_sweep", "fresh_char_model", "gradient_curves", "judged_digits", "load_shipped",
           "make_task", "pixels", "pretrain", "rnn", "sample_text", "seq2seq", "stream_sample"]
