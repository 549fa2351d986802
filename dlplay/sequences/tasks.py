"""The page's four training problems as configs and Tasks for the engine (dlplay.train): a character language
model (n-gram, RNN or LSTM), the copy task, digit-string reversal with or without attention, and the PixelCNN."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

import torch
from torch.nn import functional as F

from ..device import get_device, seed_everything
from ..errors import InputError
from ..topics import Config
from ..train import Batches, ModelTask, Task
from . import pixels, rnn, seq2seq
from . import text as T

NGRAM_ORDERS = (1, 2, 3, 4, 5)
NGRAM_CHUNK = 20_000     # characters counted per step (the live curve: more text, better estimates)


@dataclass(frozen=True)
class SequenceConfig(Config):
    """Base of this topic's configs (make_task dispatches on the subclass)."""


@dataclass(frozen=True)
class CharConfig(SequenceConfig):
    arch: Literal["ngram", "rnn", "lstm"] = "lstm"
    corpus: Literal["lee", "wiki"] = "lee"
    order: int = 5              # n-gram only: predict from the previous order-1 characters
    smoothing: float = 0.01     # n-gram only: add-k
    hidden: int = 192
    seq_len: int = 64           # truncated BPTT window
    batch_size: int = 32
    lr: float = 3e-3

    def check(self):
        self.one_of("arch", ("ngram", "rnn", "lstm"), "architecture")
        self.one_of("corpus", tuple(T.CORPORA))
        self.in_range("order", 1, 8, "n-gram order")
        self.in_range("smoothing", 1e-4, 5.0, "add-k smoothing")
        self.in_range("hidden", 8, 1024, "hidden size")
        self.in_range("seq_len", 4, 512, "BPTT length")
        self.in_range("batch_size", 1, 512, "batch size")
        self.in_range("lr", 1e-5, 0.1, "learning rate")
        return self


@dataclass(frozen=True)
class CopyConfig(SequenceConfig):
    arch: Literal["rnn", "lstm"] = "lstm"
    delay: int = 20
    hidden: int = 128
    batch_size: int = 64
    lr: float = 3e-3
    forget_bias: float = 1.0    # LSTM only: the forget gate's starting bias

    def check(self):
        self.one_of("arch", ("rnn", "lstm"), "architecture")
        self.in_range("delay", 1, rnn.MAX_DELAY, "delay")
        self.in_range("forget_bias", -5.0, 10.0, "forget-gate bias")
        self.in_range("hidden", 8, 1024, "hidden size")
        self.in_range("batch_size", 1, 1024, "batch size")
        self.in_range("lr", 1e-5, 0.1, "learning rate")
        return self


@dataclass(frozen=True)
class ReverseConfig(SequenceConfig):
    attention: bool = True
    max_len: int = 10           # trained on strings of 1 .. max_len digits
    hidden: int = 128
    batch_size: int = 64
    lr: float = 3e-3

    def check(self):
        if not isinstance(self.attention, bool):
            raise InputError(f"attention must be true or false, not {self.attention!r}.")
        self.in_range("max_len", 1, seq2seq.MAX_LEN, "longest training string")
        self.in_range("hidden", 8, 1024, "hidden size")
        self.in_range("batch_size", 1, 1024, "batch size")
        self.in_range("lr", 1e-5, 0.1, "learning rate")
        return self


@dataclass(frozen=True)
class PixelConfig(SequenceConfig):
    channels: int = 32          # small: 1,437 training digits overfit a 64-channel net (test NLL 33 vs train 9)
    layers: int = 6
    batch_size: int = 64
    lr: float = 2e-3

    def check(self):
        self.in_range("channels", 4, 256, "channels")
        self.in_range("layers", 2, 12, "masked layers")
        self.in_range("batch_size", 8, 1024, "batch size")
        self.in_range("lr", 1e-5, 0.1, "learning rate")
        return self


# -- the character language model ------------------------------------------------------------------------------
class NGramTask(Task):
    """Counts the training text chunk by chunk for orders 1..5 (and the config's order); each step records every
    order's validation bits per character, so the curve shows which order wins with how much text."""

    def __init__(self, cfg: CharConfig, seed: int = 0, device=None):
        self.config, self.generator = cfg, seed_everything(seed)
        self.train_ids, self.val_ids = T.corpus(cfg.corpus)
        self.orders = sorted(set(NGRAM_ORDERS) | {cfg.order})
        self.models = {o: T.NGram(o, cfg.smoothing) for o in self.orders}
        self.pos = 0
        self._last: dict = {}

    @property
    def model(self) -> T.NGram:
        return self.models[self.config.order]

    @property
    def done(self) -> bool:
        return self.pos >= len(self.train_ids)

    def step(self):
        if self.done:            # the whole text is counted: nothing left to learn
            time.sleep(0.05)
            return self._last
        chunk = self.train_ids[self.pos:self.pos + NGRAM_CHUNK]
        for o, m in self.models.items():
            m.fit(chunk, before=self.train_ids[max(0, self.pos - 8):self.pos])
        self.pos += len(chunk)
        val = self.val_ids
        self._last = {"chars_counted": float(self.pos),
                      **{f"val_bpc_order{o}": m.bits_per_char(val) for o, m in self.models.items()}}
        return self._last

    def evaluate(self):
        bpc = {o: m.bits_per_char(self.val_ids) for o, m in self.models.items()}
        return {"val_bits_per_char": bpc[self.config.order], "best_order": float(min(bpc, key=bpc.get)),
                "best_val_bits_per_char": min(bpc.values())}

    def state_dict(self):
        return None


class Windows:
    """The text as `batch` streams read window after window; the recurrent state carries over between windows
    (its gradient does not: truncated BPTT). Saved and restored with the model, so a resume is exact."""

    def __init__(self, ids: torch.Tensor, batch: int, length: int, device=None):
        # the streams copied to the model's device once: a window is then a slice there, never a copy
        self.data, self.length, self.pos, self.state = rnn.streams(ids, batch), length, 0, None
        if device is not None:
            self.data = self.data.to(device)
        if self.data.shape[0] < length + 1:
            raise InputError(f"The text is too short for {batch} streams of {length}-character windows.")

    def next(self):
        if self.pos + self.length + 1 > self.data.shape[0]:
            self.pos, self.state = 0, None        # a new epoch starts with a fresh state
        x = self.data[self.pos:self.pos + self.length]
        y = self.data[self.pos + 1:self.pos + 1 + self.length]
        self.pos += self.length
        return x, y

    def state_dict(self):
        return {"pos": self.pos, "state": self.state}

    def load_state_dict(self, s):
        self.pos, self.state = s["pos"], s["state"]


class CharLMTask(ModelTask):
    def __init__(self, cfg: CharConfig, seed: int = 0, device=None):
        self.config, self.device = cfg, get_device(device)
        self.generator = seed_everything(seed)
        self.train_ids, self.val_ids = T.corpus(cfg.corpus)
        self.model_config = {"kind": "charlm", "vocab": T.V, "cell": "tanh" if cfg.arch == "rnn" else "lstm",
                             "hidden": cfg.hidden}
        self.model = build(self.model_config).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.batches = Windows(self.train_ids, cfg.batch_size, cfg.seq_len, self.device)

    def step(self):
        self.model.train()
        x, y = self.batches.next()
        logits, state = self.model(x, self.batches.state)
        self.batches.state = rnn.detach(state)                     # carry the state, cut the gradient
        loss = F.cross_entropy(logits.reshape(-1, T.V), y.reshape(-1))   # a loss at every step
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        return {"loss": loss.detach(), "train_bpc": loss.detach() / math.log(2)}

    def evaluate(self):
        return {"val_bits_per_char": rnn.bits_per_char(self.model, self.val_ids)}


# -- the copy task -------------------------------------------------------------------------------------------
class CopyTask(ModelTask):
    def __init__(self, cfg: CopyConfig, seed: int = 0, device=None):
        self.config, self.device = cfg, get_device(device)
        self.generator = seed_everything(seed)
        self.model_config = {"kind": "copy", "vocab": rnn.COPY_SYMBOLS + 1, "n_out": rnn.COPY_SYMBOLS,
                             "cell": "tanh" if cfg.arch == "rnn" else "lstm", "hidden": cfg.hidden, "embed": 16,
                             "forget_bias": cfg.forget_bias}
        self.model = build(self.model_config).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)

    def step(self):
        self.model.train()
        x, y = rnn.copy_batch(self.config.batch_size, self.config.delay, self.generator)
        logits = rnn.copy_logits(self.model, x.to(self.device))
        loss = F.cross_entropy(logits, y.to(self.device))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        return {"loss": loss.detach(), "accuracy": (logits.argmax(1) == y.to(self.device)).float().mean()}

    def evaluate(self):
        return {"accuracy": copy_accuracy(self.model, self.config.delay)}

    def state_dict(self):
        return {"model": self.model.state_dict(), "opt": self.opt.state_dict(), "rng": self.generator.get_state()}

    def load_state_dict(self, s):
        self.model.load_state_dict(s["model"])
        self.opt.load_state_dict(s["opt"])
        self.generator.set_state(s["rng"])


@torch.no_grad()
def copy_accuracy(model, delay: int, n: int = 1000, seed: int = 99) -> float:
    """Share of n fresh sequences whose first symbol the model names after `delay` distractors."""
    model.eval()
    x, y = rnn.copy_batch(n, int(delay), torch.Generator().manual_seed(seed))
    return (rnn.copy_logits(model, x.to(model.out.weight.device)).argmax(1).cpu() == y).float().mean().item()


# -- reversal with / without attention ----------------------------------------------------------------------
class ReverseTask(ModelTask):
    def __init__(self, cfg: ReverseConfig, seed: int = 0, device=None):
        self.config, self.device = cfg, get_device(device)
        self.generator = seed_everything(seed)
        self.model_config = {"kind": "reverse", "hidden": cfg.hidden, "attention": cfg.attention}
        self.model = build(self.model_config).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)

    def step(self):
        self.model.train()
        length = int(torch.randint(1, self.config.max_len + 1, (1,), generator=self.generator))
        x, y = seq2seq.reversal_batch(self.config.batch_size, length, self.generator)
        x, y = x.to(self.device), y.to(self.device)
        logits = self.model(x, y)
        loss = F.cross_entropy(logits.reshape(-1, seq2seq.VOCAB), y.reshape(-1))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        return {"loss": loss.detach(), "token_accuracy": (logits.argmax(-1) == y).float().mean()}

    def evaluate(self):
        L = self.config.max_len
        trained = [seq2seq.exact_match(self.model, n, 200) for n in range(1, L + 1)]
        return {"exact_match_trained": sum(trained) / len(trained), "exact_match_longest": trained[-1]}

    state_dict = CopyTask.state_dict
    load_state_dict = CopyTask.load_state_dict


# -- the PixelCNN -----------------------------------------------------------------------------------------------
def binary_digits():
    from ..data import load

    ds = load("digits")
    return pixels.binarise(ds.x_train), pixels.binarise(ds.x_test), ds


class PixelTask(ModelTask):
    def __init__(self, cfg: PixelConfig, seed: int = 0, device=None):
        self.config, self.device = cfg, get_device(device)
        self.generator = seed_everything(seed)
        self.model_config = {"kind": "pixelcnn", "channels": cfg.channels, "layers": cfg.layers}
        self.model = build(self.model_config).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        x_train, x_test, _ = binary_digits()
        self.x, self.x_test = x_train.to(self.device), x_test.to(self.device)
        self.batches = Batches(len(self.x), cfg.batch_size, self.generator, device=self.device)

    def step(self):
        self.model.train()
        x = self.x[self.batches.next()]
        loss = self.model.nll(x).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.detach(), "train_nll_nats": loss.detach()}

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        return {"test_nll_nats": self.model.nll(self.x_test).mean().item()}


# -- the contract's make_task and builder -------------------------------------------------------------------
TASKS = {CharConfig: None, CopyConfig: CopyTask, ReverseConfig: ReverseTask, PixelConfig: PixelTask}


def make_task(config: SequenceConfig, seed: int = 0, device=None) -> Task:
    """A fresh task for any of this topic's configs (checked first)."""
    if not isinstance(config, SequenceConfig) or type(config) is SequenceConfig:
        raise InputError(f"Not a sequences config: {config!r}.")
    config.check()
    if isinstance(config, CharConfig):
        return NGramTask(config, seed, device) if config.arch == "ngram" else CharLMTask(config, seed, device)
    return TASKS[type(config)](config, seed, device)


def build(model_config: dict):
    """Rebuild a model from its JSON-able config: {"kind": charlm | copy | reverse | pixelcnn, ...}."""
    kw = dict(model_config)
    kind = kw.pop("kind", None)
    if kind in ("charlm", "copy"):
        return rnn.build_model(**kw)
    if kind == "reverse":
        return seq2seq.build_model(**kw)
    if kind == "pixelcnn":
        return pixels.build_model(**kw)
    raise InputError(f"Unknown sequence model kind {kind!r}.")
