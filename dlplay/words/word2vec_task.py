"""Training word2vec as a Task: one step = the next `batch_words` tokens of the corpus, subsampled, cut into
windows, and one SGD update that touches only the rows of W_in and W_out it uses (the three output layers'
gradients written out, as word2vec.c computes them). Also the topic contract (Word2VecConfig, make_task) and the
softmax-cost lesson (milliseconds per step of each output layer as the vocabulary grows)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import torch
from torch.nn import functional as F

from ..device import get_device, seed_everything
from ..errors import InputError
from ..topics import Config
from ..train import Task
from .text import CORPORA, corpus, corpus_from_text
from .vectors import wordsim
from .word2vec import (ARCHS, LIMITS, LOSSES, SOFTMAX_MAX_LOGITS, Vocab, _check, _rows, build_model, build_vocab,
                       cbow_windows, encode, huffman_tree, keep_probability, skipgram_pairs)


# -- training as a Task ----------------------------------------------------------------------------------------------
class Word2VecTask(Task):
    """word2vec on a corpus. One step = the next `batch_words` tokens of the corpus: subsample, cut into windows,
    one SGD update with the learning rate decaying linearly to ~0 over `epochs` passes (then it stays there).
    Metrics: loss per prediction, words per second (corpus tokens read per second of training), epoch."""

    def __init__(self, docs, *, arch: str = "skipgram", loss: str = "negative", dim: int = 100, window: int = 5,
                 negative: int = 5, min_count: int = 5, sample: float = 1e-3, epochs: int = 5, alpha: float = 0.025,
                 batch_words: int = 2000, max_vocab: int = 30_000, dup_cap: float = 32.0, seed: int = 0, device=None, vocab: Vocab | None = None):
        dim, window, negative = _check("dim", dim), _check("window", window), _check("negative", negative)
        self.epochs, self.batch_words = _check("epochs", epochs), _check("batch_words", batch_words)
        sample, alpha = _check("sample", sample, float), _check("alpha", alpha, float)
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.vocab = vocab or build_vocab(docs, min_count, max_vocab)
        V = len(self.vocab)
        if V <= window or (loss == "negative" and V <= negative):
            raise InputError(f"The vocabulary has only {V} words after min count {min_count}: fewer than "
                             f"{'the window (' + str(window) + ')' if V <= window else 'the negatives (' + str(negative) + ')'}"
                             ". Use more text, a lower min count, or smaller settings.")
        self.ids, self.doc, self.raw_tokens = encode(docs, self.vocab)
        _check("tokens", len(self.ids))
        self.arch, self.loss, self.window, self.negative, self.alpha0 = arch, loss, window, negative, alpha
        self.model_config = {"vocab_size": V, "dim": dim, "loss": loss, "arch": arch}
        self.config = None      # the Word2VecConfig, when built by make_task
        # the model's random start comes from the task's own generator (not torch's process-wide one), so two
        # sessions building at once with the same seed get the same model
        self.model = build_model(**self.model_config, generator=self.generator).to(self.device)
        self._device_rng()      # made now (one draw on a GPU), so a resumed task's draws line up with the original
        self.keep = keep_probability(self.vocab.counts, sample)
        # negative sampling: a table where word w fills a share proportional to count^0.75 (as the C code's table)
        p = self.vocab.counts ** 0.75
        self.table = torch.repeat_interleave(torch.arange(V), torch.tensor(np.maximum(1, np.round(p / p.sum() * 1e6)).astype(np.int64)))
        if loss == "hierarchical":
            self._build_paths()
        self.dup_cap = float(dup_cap)
        self.pos = 0            # where in the corpus the next step starts
        self.words_done = 0     # tokens (in-vocabulary) processed so far, over all epochs
        self._rate = (0.0, 0)   # (seconds, raw words) over recent steps, for the words-per-second metric

    def _build_paths(self) -> None:
        """Each word's Huffman path as padded tensors: codes (V, L), inner-node indices (V, L) and a mask."""
        codes, points = huffman_tree(self.vocab.counts)
        V, L = len(codes), max(map(len, codes))
        self.codes, self.points, self.path_mask = torch.zeros(V, L), torch.zeros(V, L, dtype=torch.long), torch.zeros(V, L)
        for w, (c, pt) in enumerate(zip(codes, points)):
            self.codes[w, :len(c)] = torch.tensor(c, dtype=torch.float32)
            self.points[w, :len(pt)] = torch.tensor(pt)
            self.path_mask[w, :len(c)] = 1.0
        self.codes, self.points, self.path_mask = (t.to(self.device) for t in (self.codes, self.points, self.path_mask))

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.ids) / self.batch_words)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    @property
    def epoch(self) -> float:
        return self.words_done / len(self.ids)

    def learning_rate(self) -> float:
        """The current step size: alpha0 falling linearly to alpha0 / 10^4 over the planned epochs (as in word2vec.c)."""
        done = min(1.0, self.words_done / (self.epochs * len(self.ids)))
        return max(self.alpha0 * (1 - done), self.alpha0 * 1e-4)

    @classmethod
    def output_layer_only(cls, vocab, dim: int, loss: str, negative: int, generator, device) -> "Word2VecTask":
        """A task with a vocabulary but no corpus, for timing the output layer alone (the softmax-cost table)."""
        task = cls.__new__(cls)
        task.vocab, task.loss, task.arch, task.negative, task.generator, task.device = (vocab, loss, "skipgram",
                                                                                        negative, generator, device)
        task.model = build_model(len(vocab), dim, loss).to(device)
        task.dup_cap = 32.0
        task.table = torch.arange(len(vocab))
        if loss == "hierarchical":
            task._build_paths()
        return task

    def _negatives(self, n: int) -> torch.Tensor:
        if self.device.type == "cpu":
            draw = torch.randint(len(self.table), (n * self.negative,), generator=self.generator)
            return self.table.index_select(0, draw).view(n, self.negative)
        # on a GPU: the table copied there once, the draws made there (a step then never waits for a copy)
        if getattr(self, "_table_dev", None) is None:
            self._table_dev = self.table.to(self.device)
        draw = torch.randint(len(self.table), (n * self.negative,), generator=self._device_rng(), device=self.device)
        return self._table_dev.index_select(0, draw).view(n, self.negative)

    def _device_rng(self) -> torch.Generator:
        if getattr(self, "device_generator", None) is None:
            from ..device import device_generator
            self.device_generator = device_generator(self.device, self.generator)
        return self.device_generator

    def _scale(self, W: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """A factor for each use of a row in this batch. word2vec updates after every single pair; a batch sums the
        gradients of all pairs, so a frequent word (say "the") would get hundreds of steps at once and the training
        blows up. So a row used more than `dup_cap` times in the batch gets the mean of its gradients times dup_cap
        (roughly what happens one pair at a time, where the sigmoid saturates after a few steps)."""
        uses = torch.bincount(idx.reshape(-1), minlength=W.shape[0]).to(W.dtype)
        return (self.dup_cap / uses.clamp(min=self.dup_cap))[idx]

    def _update(self, W: torch.Tensor, idx: torch.Tensor, grad: torch.Tensor, lr: float) -> None:
        """W[idx[b]] -= lr * grad[b] for every b (rows used twice get both), with the frequent-row cap above."""
        grad = grad * self._scale(W, idx).unsqueeze(-1)
        W.index_add_(0, idx.reshape(-1), grad.reshape(-1, W.shape[1]), alpha=-lr)

    def _update_outer(self, W: torch.Tensor, idx: torch.Tensor, g: torch.Tensor, h: torch.Tensor, lr: float) -> None:
        """W[idx[b, j]] -= lr * g[b, j] * h[b] for every b, j: the output rows' gradient dL/du = g h.
        Written as one sparse (V x B) @ (B x d) product instead of materialising all B x n outer products."""
        B, n = idx.shape
        coef = (g * self._scale(W, idx)).reshape(-1)
        pos = torch.stack([idx.reshape(-1), torch.arange(B, device=h.device).repeat_interleave(n)])
        G = torch.sparse_coo_tensor(pos, coef, (W.shape[0], B), check_invariants=False)
        W.add_(torch.sparse.mm(G, h), alpha=-lr)

    def sgd_step(self, in_idx: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None, lr: float) -> torch.Tensor:
        """One SGD update that touches only the rows of W_in and W_out this batch uses (as word2vec does).

        in_idx: (B,) centre words (skip-gram) or (B, 2*window) context words with their mask (CBOW);
        target: (B,) the words to predict. Returns the summed loss.

        All three output layers score rows u of W_out against the hidden vector h, s = u . h, and their loss has the
        same simple gradient with respect to each score (what the original C code computes as `g`):
            sigmoid(s) - label   (negative sampling: label 1 for the true word, 0 for the noise words;
                                  hierarchical softmax: label 1 - code at each node on the path)
            softmax(s) - one_hot (full softmax)
        so dL/dh = sum_o g_o u_o and dL/du_o = g_o h: two small products, no autograd needed."""
        m = self.model
        rows_in = _rows(m.W_in, in_idx)                        # e_i @ W_in == W_in[i]: a lookup, not a product
        if mask is None:
            h = rows_in                                        # skip-gram: h = the centre word's row
        else:
            n_ctx = mask.sum(1, keepdim=True)
            h = (rows_in * mask.unsqueeze(-1)).sum(1) / n_ctx  # CBOW: mean of the context rows
        if self.loss == "softmax":                             # every row of W_out, every time: the expensive one
            s = h @ m.W_out.T                                  # (B, V)
            loss = F.cross_entropy(s, target, reduction="sum")
            g = torch.softmax(s, 1)
            g[torch.arange(len(target)), target] -= 1.0
            grad_h, grad_out, out_idx = g @ m.W_out, g.T @ h, None
        else:
            if self.loss == "negative":
                out_idx = torch.cat([target.unsqueeze(1), self._negatives(len(target))], 1)   # (B, 1 + k)
                label = torch.zeros(out_idx.shape, device=h.device)
                label[:, 0] = 1.0
                weight = None
            else:                                              # hierarchical: the inner nodes on the path to target
                out_idx = self.points[target]                  # (B, L)
                label, weight = 1.0 - self.codes[target], self.path_mask[target]
            u = _rows(m.W_out, out_idx)                        # (B, n, d)
            s = (u * h.unsqueeze(1)).sum(-1)                   # scores u . h, (B, n)
            loss = -F.logsigmoid(torch.where(label > 0, s, -s))   # -log sigma(s) for label 1, -log sigma(-s) for 0
            g = torch.sigmoid(s) - label
            if weight is not None:
                loss, g = loss * weight, g * weight
            loss = loss.sum()
            grad_h = torch.bmm(g.unsqueeze(1), u).squeeze(1)   # dL/dh = sum_o g_o u_o
        grad_in = grad_h if mask is None else (grad_h / n_ctx).unsqueeze(1) * mask.unsqueeze(-1)
        with torch.no_grad():                                  # W <- W - lr * dL/dW, row by row
            self._update(m.W_in, in_idx, grad_in, lr)
            if out_idx is None:
                m.W_out.add_(grad_out, alpha=-lr)
            else:
                self._update_outer(m.W_out, out_idx, g, h, lr)
        return loss.detach()     # a tensor: read once per recorded step by the engine, not here

    def step(self):
        t0 = time.perf_counter()
        ids = self.ids[self.pos:self.pos + self.batch_words]
        doc = self.doc[self.pos:self.pos + self.batch_words]
        n_read = len(ids)
        self.pos += n_read
        if self.pos >= len(self.ids):
            self.pos = 0
        keep = torch.rand(n_read, generator=self.generator) < self.keep[ids]
        ids, doc = ids[keep], doc[keep]
        lr = self.learning_rate()
        if self.arch == "skipgram":
            inputs, targets = self._to_device(skipgram_pairs(ids, doc, self.window, self.generator))
            mask = None
        else:
            targets, inputs, mask = self._to_device(cbow_windows(ids, doc, self.window, self.generator))
        n = len(targets)
        # the full softmax needs a B x V matrix of logits: split the batch so that it fits in memory
        chunk = max(1, SOFTMAX_MAX_LOGITS // len(self.vocab)) if self.loss == "softmax" else max(1, n)
        total = torch.zeros((), device=self.device)
        for s in range(0, n, chunk):
            total += self.sgd_step(inputs[s:s + chunk], targets[s:s + chunk],
                                   None if mask is None else mask[s:s + chunk], lr)
        self.words_done += n_read
        secs, words = self._rate
        secs, words = 0.9 * secs + time.perf_counter() - t0, 0.9 * words + n_read
        self._rate = (secs, words)
        return {"loss": total / max(n, 1), "words_per_second": words / max(secs, 1e-9), "epoch": self.epoch,
                "learning_rate": lr}

    def _to_device(self, tensors):
        """The step's pairs (built on the CPU, as the C code builds them) copied to the GPU without waiting for
        it: from pinned memory, non-blocking. On the CPU: as they are."""
        if self.device.type == "cpu":
            return tuple(tensors)
        pin = self.device.type == "cuda"
        return tuple((t.pin_memory() if pin else t).to(self.device, non_blocking=True) for t in tensors)

    def vectors(self) -> np.ndarray:
        return self.model.W_in.detach().cpu().numpy()

    def evaluate(self):
        ev = wordsim(self.vocab.words, self.vectors())
        return {"wordsim353_spearman": ev["spearman"]}

    def state_dict(self):
        return {"model": {k: v.clone() for k, v in self.model.state_dict().items()}, "pos": self.pos, "words_done": self.words_done,
                "rng": self.generator.get_state(),
                **({"device_rng": self._device_rng().get_state()} if self.device.type != "cpu" else {})}

    def load_state_dict(self, s):
        self.model.load_state_dict(s["model"])
        self.pos, self.words_done = s["pos"], s["words_done"]
        self.generator.set_state(s["rng"])
        if "device_rng" in s:
            self.device_generator.set_state(s["device_rng"])


# -- the topic contract (dlplay/topics.py) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Word2VecConfig(Config):
    """Every setting of one word2vec run: the corpus (a built-in one, or the user's own text) and the model."""
    corpus: str = "wiki"              # "wiki", "lee" or "text" (then `text` is the corpus)
    text: str = ""                    # the user's text, one paragraph a line (only with corpus = "text")
    arch: Literal["skipgram", "cbow"] = "skipgram"
    loss: Literal["negative", "hierarchical", "softmax"] = "negative"
    dim: int = 100
    window: int = 5
    negative: int = 5
    min_count: int = 5
    sample: float = 1e-3
    epochs: int = 5
    alpha: float = 0.025
    batch_words: int = 2000
    max_vocab: int = 30_000

    def check(self) -> "Word2VecConfig":
        self.one_of("corpus", [k for k in CORPORA if k != "sentiment"] + ["text"])
        self.one_of("arch", ARCHS, "architecture")
        self.one_of("loss", LOSSES, "output layer")
        for name in ("dim", "window", "negative", "min_count", "sample", "epochs", "alpha", "batch_words",
                     "max_vocab"):
            self.in_range(name, *LIMITS[name])
        if self.corpus == "text" and not self.text.strip():
            raise InputError("Upload or paste some text first (or choose a built-in corpus).")
        return self

    def settings(self) -> dict:
        """The model settings (everything but the corpus), as Word2VecTask's keyword arguments."""
        return {k: v for k, v in self.as_dict().items() if k not in ("corpus", "text")}


@lru_cache(maxsize=2)
def _text_docs(text: str):
    return corpus_from_text(text)


def config_docs(config: Word2VecConfig):
    """The documents a config trains on (built-in corpora and the last two texts are cached)."""
    return _text_docs(config.text) if config.corpus == "text" else corpus(config.corpus)


def make_task(config: Word2VecConfig, seed: int = 0, device=None) -> Word2VecTask:
    """A fresh word2vec run (the topic contract): same config and seed, same vectors."""
    config = config.check()
    task = Word2VecTask(config_docs(config), seed=seed, device=device, **config.settings())
    task.config = config
    return task


# -- the softmax cost lesson ------------------------------------------------------------------------------------------
def softmax_cost(vocab_sizes=(1_000, 4_000, 16_000, 64_000), losses=LOSSES, dim: int = 100, batch: int = 256,
                 negative: int = 5, repeats: int = 3, seed: int = 0, device=None) -> list[dict]:
    """Milliseconds per training step (forward, backward, update) of each output layer as the vocabulary grows,
    for a batch of random skip-gram pairs. Words follow Zipf's law so the Huffman tree has its usual shape."""
    if len(vocab_sizes) > 8 or max(vocab_sizes) > 200_000 or min(vocab_sizes) < 2:
        raise InputError("Choose at most 8 vocabulary sizes between 2 and 200,000.")
    _check("dim", dim)
    device = get_device(device)
    g = seed_everything(seed)
    rows = []
    for V in vocab_sizes:
        counts = (1e6 / np.arange(1, V + 1)).astype(np.int64) + 1
        voc = Vocab([f"w{i}" for i in range(V)], counts, {})
        for loss in losses:
            task = Word2VecTask.output_layer_only(voc, dim, loss, negative, g, device)
            centre = torch.randint(V, (batch,), generator=g).to(device)
            target = torch.randint(V, (batch,), generator=g).to(device)
            times = []
            for r in range(repeats + 1):
                t0 = time.perf_counter()
                task.sgd_step(centre, target, None, 0.01)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                if r:   # the first repeat warms up
                    times.append(time.perf_counter() - t0)
            rows.append({"vocab": V, "loss": loss, "ms_per_step": 1000 * float(np.median(times)), "batch": batch})
    return rows
