"""word2vec from scratch in plain PyTorch: two matrices and three ways to score a prediction.

Mikolov et al. 2013a ("Efficient Estimation of Word Representations in Vector Space") and 2013b ("Distributed
Representations of Words and Phrases and their Compositionality"):

  * W_in  (V x d): the first matrix. A word i enters the network as a one-hot row vector e_i, and
    e_i @ W_in == W_in[i]: the "hidden layer" is just row i, the word's vector. (`one_hot_identity` checks this.)
  * W_out (V x d): the second matrix. It scores every vocabulary word o as a prediction from the hidden vector h:
        p(o | h) = exp(u_o . h) / sum_{w=1..V} exp(u_w . h)          (full softmax, 2013a eq. 1)
    The sum over all V words is the expensive part; two cheaper objectives replace it:
  * negative sampling (2013b eq. 4): push the true pair together and k random "noise" words apart,
        loss = -log sigma(u_o . h) - sum_{j=1..k} log sigma(-u_{n_j} . h),   n_j ~ P(w) proportional to count(w)^(3/4)
  * hierarchical softmax (2013b eq. 3): the words are leaves of a Huffman tree; W_out holds the V-1 inner nodes,
    and p(o | h) is the product of left/right decisions sigma(+-v_node . h) along the path to o: about log2(V)
    dot products instead of V.

Skip-gram predicts each neighbour from the centre word (h = W_in[centre]); CBOW predicts the centre word from the
mean of its neighbours' rows (h = mean_c W_in[c]). Frequent words are randomly dropped ("subsampling", 2013b
eq. 5, in the form of the original C code) and the window size is drawn per word from 1..window, as word2vec does.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import limits
from ..device import get_device, seed_everything
from ..errors import InputError
from ..topics import Config
from ..train import Task
from .text import CORPORA, close_words, corpus, corpus_from_text

ARCHS = ("skipgram", "cbow")
LOSSES = ("negative", "hierarchical", "softmax")
LIMITS = {"dim": (2, 300), "window": (1, 10), "negative": (1, 25), "epochs": (1, 50), "min_count": (1, 1000),
          "max_vocab": (10, 100_000), "sample": (0.0, 0.1), "alpha": (1e-4, 1.0), "batch_words": (100, 50_000),
          "tokens": (10, 20_000_000)}
SOFTMAX_MAX_LOGITS = 4_000_000   # full softmax: at most this many logits at once (memory); the batch is split


def _check(name: str, value, cast=int):
    lo, hi = LIMITS[name]
    try:
        v = cast(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, not {value!r}.") from None
    if not (lo <= v <= hi):
        raise InputError(f"{name} = {value} is out of range: it must be between {lo} and {hi}.")
    return v


# -- vocabulary and the Huffman tree ---------------------------------------------------------------------------------
@dataclass
class Vocab:
    words: list[str]          # most frequent first
    counts: np.ndarray        # int64, same order
    index: dict[str, int]

    def __len__(self):
        return len(self.words)

    def get(self, word: str) -> int:
        """Index of a word, or InputError naming close words that are in the vocabulary."""
        w = word.strip().lower()
        if w in self.index:
            return self.index[w]
        if not w:
            raise InputError("Type a word first.")
        close = close_words(w, self.words[:50_000])
        hint = f" Close words that are in it: {', '.join(close)}." if close else ""
        raise InputError(f"'{w}' is not in the vocabulary ({len(self):,} words).{hint}")


def build_vocab(docs, min_count: int = 5, max_vocab: int = 30_000) -> Vocab:
    """Words seen at least min_count times, the max_vocab most frequent of them."""
    from collections import Counter

    min_count, max_vocab = _check("min_count", min_count), _check("max_vocab", max_vocab)
    c: Counter = Counter()
    for d in docs:
        c.update(d)
    kept = [(w, n) for w, n in c.most_common(max_vocab) if n >= min_count]
    if len(kept) < 2:
        raise InputError(f"Only {len(kept)} word(s) occur at least {min_count} times: the vocabulary is too small "
                         "to train on. Use more text or a lower min count.")
    words = [w for w, _ in kept]
    return Vocab(words, np.array([n for _, n in kept], np.int64), {w: i for i, w in enumerate(words)})


def huffman_tree(counts) -> tuple[list[list[int]], list[list[int]]]:
    """(codes, points) of each word: the 0/1 decisions and the inner-node indices (0..V-2) from the root to its leaf.

    Built as in Huffman (1952): repeatedly merge the two least frequent nodes, so frequent words get short codes.
    Leaves are 0..V-1, inner nodes V..2V-2 (stored as rows 0..V-2 of W_out)."""
    counts = [int(c) for c in counts]
    V = len(counts)
    if V < 2:
        raise InputError("Hierarchical softmax needs at least 2 words in the vocabulary.")
    heap = [(c, i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    parent, bit = [0] * (2 * V - 1), [0] * (2 * V - 1)
    nxt = V
    while len(heap) > 1:
        c1, a = heapq.heappop(heap)
        c2, b = heapq.heappop(heap)
        parent[a], bit[a] = nxt, 0
        parent[b], bit[b] = nxt, 1
        heapq.heappush(heap, (c1 + c2, nxt))
        nxt += 1
    root = 2 * V - 2
    codes, points = [], []
    for w in range(V):
        code, point, n = [], [], w
        while n != root:
            code.append(bit[n])
            point.append(parent[n] - V)
            n = parent[n]
        codes.append(code[::-1])
        points.append(point[::-1])
    return codes, points


# -- the model: two matrices -----------------------------------------------------------------------------------------
class Word2Vec(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 100, loss: str = "negative", arch: str = "skipgram",
                 generator: torch.Generator | None = None):
        super().__init__()
        if loss not in LOSSES:
            raise InputError(f"Unknown output layer {loss!r}: choose one of {', '.join(LOSSES)}.")
        if arch not in ARCHS:
            raise InputError(f"Unknown architecture {arch!r}: choose skipgram or cbow.")
        self.loss, self.arch = loss, arch
        # W_in: row i is word i's vector (as the original C code: small random values).
        self.W_in = nn.Parameter(torch.empty(vocab_size, dim).uniform_(-0.5 / dim, 0.5 / dim, generator=generator),
                                 requires_grad=False)
        # W_out: one row per word (softmax, negative sampling) or per inner tree node (hierarchical: V - 1 rows).
        n_out = vocab_size - 1 if loss == "hierarchical" else vocab_size
        self.W_out = nn.Parameter(torch.zeros(n_out, dim), requires_grad=False)


def build_model(vocab_size: int, dim: int = 100, loss: str = "negative", arch: str = "skipgram",
                generator: torch.Generator | None = None) -> Word2Vec:
    return Word2Vec(vocab_size, dim, loss, arch, generator)


class WordVectors(nn.Module):
    """Only the first matrix (the word vectors): what the shipped model keeps, to stay small."""

    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        self.W_in = nn.Parameter(torch.zeros(vocab_size, dim), requires_grad=False)


def build_vectors(vocab_size: int, dim: int) -> WordVectors:
    return WordVectors(vocab_size, dim)


def one_hot_identity(W: torch.Tensor, i: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(e_i @ W, W[i], largest difference): multiplying a one-hot row by W just picks row i."""
    e = F.one_hot(torch.tensor(i, device=W.device), W.shape[0]).to(W.dtype)   # (V,) all zeros but a 1 at i
    product = e @ W                                            # a full V x d matrix product ...
    return product, W[i], float((product - W[i]).abs().max())  # ... equals the row lookup


def _rows(W: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """W[idx] for an index tensor of any shape (index_select is several times faster than W[idx] on the CPU)."""
    return W.index_select(0, idx.reshape(-1)).view(*idx.shape, W.shape[1])


# -- the three output layers (the lesson's equations) ----------------------------------------------------------------
def softmax_loss(h: torch.Tensor, target: torch.Tensor, W_out: torch.Tensor) -> torch.Tensor:
    """-log p(target | h) with the full softmax over all V rows of W_out, summed over the batch."""
    return F.cross_entropy(h @ W_out.T, target, reduction="sum")


def negative_sampling_loss(h: torch.Tensor, u_pos: torch.Tensor, u_neg: torch.Tensor) -> torch.Tensor:
    """-log sigma(u_o . h) - sum_j log sigma(-u_nj . h), summed over the batch.
    h: (B, d), u_pos: (B, d) rows of W_out for the true words, u_neg: (B, k, d) rows for the noise words."""
    pos = F.logsigmoid((h * u_pos).sum(-1))
    neg = F.logsigmoid(-torch.bmm(u_neg, h.unsqueeze(-1)).squeeze(-1)).sum(-1)
    return -(pos + neg).sum()


def hierarchical_loss(h: torch.Tensor, v_nodes: torch.Tensor, codes: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """-sum over the path of log sigma(+-v_node . h): going left (code 0) means sigma(v.h), right means sigma(-v.h)
    (the sign convention of the original C code). v_nodes: (B, L, d), codes and mask: (B, L) padded paths."""
    score = torch.bmm(v_nodes, h.unsqueeze(-1)).squeeze(-1)          # (B, L)
    return -(F.logsigmoid((1 - 2 * codes) * score) * mask).sum()


# -- turning text into training pairs --------------------------------------------------------------------------------
def encode(docs, vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor, int]:
    """All in-vocabulary tokens as one long id tensor, with each token's document number; and the raw token count
    (words out of the vocabulary are dropped, as word2vec does)."""
    ids, doc_ids, raw = [], [], 0
    index = vocab.index
    for k, d in enumerate(docs):
        raw += len(d)
        kept = [index[w] for w in d if w in index]
        ids.extend(kept)
        doc_ids.extend([k] * len(kept))
    return torch.tensor(ids, dtype=torch.long), torch.tensor(doc_ids, dtype=torch.int32), raw


def keep_probability(counts: np.ndarray, sample: float) -> torch.Tensor:
    """Subsampling of frequent words (2013b eq. 5, as in the C code): keep w with p = (sqrt(f/t) + 1) t / f,
    f = count(w) / total, t = sample. Words rarer than t are always kept."""
    if sample <= 0:
        return torch.ones(len(counts))
    f = counts / counts.sum()
    return torch.tensor(np.minimum(1.0, (np.sqrt(f / sample) + 1) * sample / f), dtype=torch.float32)


def skipgram_pairs(ids, doc, window: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(centre, context) index pairs: every word within a random window b ~ U{1..window} of each centre word."""
    b = torch.randint(1, window + 1, (len(ids),), generator=g)
    centres, contexts = [], []
    for o in range(1, window + 1):
        same = (doc[o:] == doc[:-o]) & (o <= b[:-o]) if o < len(ids) else None   # right neighbour at distance o
        if same is None:
            break
        i = torch.nonzero(same).squeeze(1)
        centres.append(ids[i]), contexts.append(ids[i + o])
        same_l = (doc[o:] == doc[:-o]) & (o <= b[o:])                        # left neighbour at distance o
        i = torch.nonzero(same_l).squeeze(1) + o
        centres.append(ids[i]), contexts.append(ids[i - o])
    if not centres:
        return torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)
    return torch.cat(centres), torch.cat(contexts)


def cbow_windows(ids, doc, window: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(centre (N,), contexts (N, 2*window) padded, mask (N, 2*window)) for CBOW."""
    n = len(ids)
    b = torch.randint(1, window + 1, (n,), generator=g)
    offsets = torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)])
    pos = torch.arange(n).unsqueeze(1) + offsets                                  # (n, 2w)
    inside = (pos >= 0) & (pos < n)
    pos_c = pos.clamp(0, n - 1)
    mask = inside & (doc[pos_c] == doc.unsqueeze(1)) & (offsets.abs() <= b.unsqueeze(1))
    has = mask.any(1)
    return ids[has], ids[pos_c[has]], mask[has].float()


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


# -- using the vectors ------------------------------------------------------------------------------------------------
def unit(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def nearest(words: list[str], vectors: np.ndarray, query, k: int = 10, exclude=(), index=None) -> list[tuple[str, float]]:
    """The k words with the largest cosine similarity to a word (or a vector)."""
    index = index or {w: i for i, w in enumerate(words)}
    if isinstance(query, str):
        q = query.strip().lower()
        if q not in index:
            Vocab(words, np.zeros(len(words)), index).get(q)   # raises InputError with close words
        exclude = set(exclude) | {q}
        query = vectors[index[q]]
    u = unit(vectors)
    sims = u @ (query / max(np.linalg.norm(query), 1e-12))
    out = []
    for i in np.argsort(-sims):
        if words[i] not in exclude:
            out.append((words[i], float(sims[i])))
            if len(out) == k:
                break
    return out


def neighbour_overlap(words_a, vecs_a, words_b, vecs_b, queries, k: int = 10) -> dict[str, float | None]:
    """For each query word, the share of its k nearest neighbours in model A that are also among its k nearest in
    model B (None when a model lacks the word). Two seeds of the same settings on a small corpus share few."""
    ia, ib = {w: i for i, w in enumerate(words_a)}, {w: i for i, w in enumerate(words_b)}
    out: dict[str, float | None] = {}
    for q in queries:
        if q not in ia or q not in ib:
            out[q] = None
            continue
        na = {w for w, _ in nearest(words_a, vecs_a, q, k, index=ia)}
        nb = {w for w, _ in nearest(words_b, vecs_b, q, k, index=ib)}
        out[q] = len(na & nb) / k
    return out


def analogy(words, vectors, a: str, b: str, c: str, k: int = 5) -> list[tuple[str, float]]:
    """a is to b as c is to ?: the words nearest to b - a + c (on unit vectors, as in 2013a)."""
    index = {w: i for i, w in enumerate(words)}
    voc = Vocab(words, np.zeros(len(words)), index)
    ia, ib, ic = voc.get(a), voc.get(b), voc.get(c)
    u = unit(vectors)
    return nearest(words, vectors, u[ib] - u[ia] + u[ic], k, exclude={words[ia], words[ib], words[ic]}, index=index)


# -- evaluation on gensim's test sets ------------------------------------------------------------------------------
def _read_wordsim(name: str = "wordsim353.tsv") -> list[tuple[str, str, float]]:
    from gensim.test.utils import datapath

    rows = []
    with open(datapath(name), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            p = line.strip().split("\t")
            if len(p) >= 3:
                rows.append((p[0].lower(), p[1].lower(), float(p[2])))
    return rows


def wordsim(words, vectors, name: str = "wordsim353.tsv") -> dict:
    """Spearman correlation between cosine similarities and human similarity ratings, on the pairs whose two words
    are both in the vocabulary (as gensim's evaluate_word_pairs does); with how many pairs were out of vocabulary."""
    from scipy.stats import spearmanr

    index = {w: i for i, w in enumerate(words)}
    rows = _read_wordsim(name)
    used = [(index[a], index[b], s) for a, b, s in rows if a in index and b in index]
    if len(used) < 3:
        return {"spearman": float("nan"), "pairs": len(used), "oov_pairs": len(rows) - len(used)}
    u = unit(vectors)
    cos = [float(u[i] @ u[j]) for i, j, _ in used]
    return {"spearman": float(spearmanr(cos, [s for *_, s in used])[0]), "pairs": len(used),
            "oov_pairs": len(rows) - len(used)}


def analogies(words, vectors, max_questions: int | None = None) -> dict:
    """Accuracy on the Google analogy questions (a : b :: c : d, answer = nearest to b - a + c, excluding a, b, c),
    over the questions whose four words are in the vocabulary (lower-cased, as gensim's evaluate_word_analogies)."""
    from gensim.test.utils import datapath

    index = {w: i for i, w in enumerate(words)}
    qs, total = [], 0
    with open(datapath("questions-words.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith(":"):
                continue
            p = line.lower().split()
            if len(p) != 4:
                continue
            total += 1
            if all(w in index for w in p):
                qs.append([index[w] for w in p])
    if max_questions:
        qs = qs[:max_questions]
    if not qs:
        return {"accuracy": float("nan"), "questions": 0, "oov_questions": total}
    q = torch.tensor(qs)
    u = torch.from_numpy(unit(vectors))
    correct = 0
    for s in range(0, len(q), 512):
        a, b, c, d = q[s:s + 512].T
        target = u[b] - u[a] + u[c]
        sims = target @ u.T
        for col in (a, b, c):
            sims[torch.arange(len(col)), col] = -math.inf
        correct += int((sims.argmax(1) == d).sum())
    return {"accuracy": correct / len(qs), "questions": len(qs), "oov_questions": total - len(qs)}


def evaluate_vectors(words, vectors, with_analogies: bool = True) -> dict:
    ws = wordsim(words, vectors)
    out = {"wordsim353_spearman": ws["spearman"], "wordsim353_pairs": ws["pairs"], "wordsim353_oov": ws["oov_pairs"]}
    if with_analogies:
        an = analogies(words, vectors)
        out.update(analogy_accuracy=an["accuracy"], analogy_questions=an["questions"], analogy_oov=an["oov_questions"])
    return out


# -- the baseline: gensim's Word2Vec on the same corpus and settings -------------------------------------------------
def _gensim_docs(docs) -> list[list[str]]:
    # gensim reads at most 10,000 tokens per "sentence": cut long documents so it sees all of them
    docs = [list(d) for d in docs]
    return [d[i:i + 10_000] for d in docs for i in range(0, len(d), 10_000)]


def _gensim_model(arch, loss, dim, window, negative, min_count, sample, alpha, max_vocab, workers, seed):
    from gensim.models import Word2Vec as GensimW2V

    if loss == "softmax":
        raise InputError("gensim has no full-softmax word2vec; compare negative sampling or hierarchical softmax.")
    return GensimW2V(vector_size=_check("dim", dim), window=_check("window", window), min_count=min_count,
                     sample=sample, sg=int(arch == "skipgram"), hs=int(loss == "hierarchical"),
                     negative=_check("negative", negative) if loss == "negative" else 0, alpha=alpha,
                     workers=workers, seed=seed, max_final_vocab=_check("max_vocab", max_vocab))


def train_gensim(docs, *, arch="skipgram", loss="negative", dim=100, window=5, negative=5, min_count=5, sample=1e-3,
                 epochs=5, alpha=0.025, max_vocab=30_000, workers=2, seed=0) -> dict:
    """gensim's C-optimised Word2Vec with the same settings; full softmax has no gensim counterpart. Refused
    (InputError) above limits.MAX_TOKEN_EPOCHS / MAX_GENSIM_WORK; pages run it through the runner (GensimTask)."""
    docs = _gensim_docs(docs)
    raw = sum(len(d) for d in docs)
    limits.check_gensim_budget(raw, _check("epochs", epochs), window, negative, dim, loss)
    m = _gensim_model(arch, loss, dim, window, negative, min_count, sample, alpha, max_vocab, workers, seed)
    m.build_vocab(docs)
    t0 = time.perf_counter()
    m.train(docs, total_examples=len(docs), epochs=epochs)
    secs = time.perf_counter() - t0
    return {"words": list(m.wv.index_to_key), "vectors": m.wv.vectors.copy(), "seconds": secs,
            "words_per_second": raw * epochs / secs, "tokens": raw}


class GensimTask(Task):
    """gensim's Word2Vec as a run like any other (a slot, the time cap, Stop, pause when the tab closes): one step
    is one epoch, the learning rate falling linearly from alpha to gensim's min_alpha over the epochs, as one
    multi-epoch `train` call does. The budget (limits.check_gensim_budget) is checked before anything is built;
    the gensim model itself is built at the first step (in the runner's worker), so the page's replica is cheap."""

    rollback = False
    MIN_ALPHA = 1e-4          # gensim's default min_alpha

    def __init__(self, docs, *, arch="skipgram", loss="negative", dim=100, window=5, negative=5, min_count=5,
                 sample=1e-3, epochs=5, alpha=0.025, max_vocab=30_000, seed=0, **_ignored):
        self.docs = _gensim_docs(docs)
        self.tokens = sum(len(d) for d in self.docs)
        self.epochs = _check("epochs", epochs)
        if self.tokens < 10:
            raise InputError(f"The text has {self.tokens} words: too few to train word vectors.")
        self.work = limits.check_gensim_budget(self.tokens, self.epochs, window, negative, dim, loss)
        if loss == "softmax":
            raise InputError("gensim has no full-softmax word2vec; compare negative sampling or hierarchical softmax.")
        self.settings = dict(arch=arch, loss=loss, dim=dim, window=window, negative=negative, min_count=min_count,
                             sample=sample, alpha=alpha, max_vocab=max_vocab, seed=seed)
        self.model = None
        self.epoch, self.train_seconds, self.workers = 0, 0.0, 0

    @property
    def finished(self) -> bool:
        return self.epoch >= self.epochs

    def _rate(self, e: int) -> float:
        a0 = self.settings["alpha"]
        return a0 - (a0 - self.MIN_ALPHA) * e / self.epochs

    def step(self):
        if self.model is None:
            # gensim's own threads: the runner's share of the cores for this run (torch's thread count here)
            self.workers = max(1, torch.get_num_threads())
            self.model = _gensim_model(workers=self.workers, **self.settings)
            self.model.build_vocab(self.docs)
        if self.finished:
            return {"epoch": float(self.epoch)}
        t0 = time.perf_counter()
        self.model.train(self.docs, total_examples=len(self.docs), epochs=1, start_alpha=self._rate(self.epoch),
                         end_alpha=self._rate(self.epoch + 1))
        dt = time.perf_counter() - t0
        self.epoch += 1
        self.train_seconds += dt
        return {"epoch": float(self.epoch), "words_per_second": self.tokens / max(dt, 1e-9)}

    def state_dict(self):
        return {"model": self.model, "epoch": self.epoch, "train_seconds": self.train_seconds,
                "workers": self.workers}

    def load_state_dict(self, s):
        self.model, self.epoch, self.train_seconds = s["model"], s["epoch"], s["train_seconds"]
        self.workers = s.get("workers", 0)

    def live_state(self):
        return {"epoch": self.epoch, "train_seconds": self.train_seconds, "workers": self.workers}

    def load_live_state(self, s):
        if s is not None:
            self.epoch, self.train_seconds, self.workers = s["epoch"], s["train_seconds"], s["workers"]

    def result(self) -> dict | None:
        """train_gensim's answer (words, vectors, seconds, words per second, tokens), or None before training."""
        if self.model is None or not self.epoch:
            return None
        return {"words": list(self.model.wv.index_to_key), "vectors": np.asarray(self.model.wv.vectors).copy(),
                "seconds": self.train_seconds, "tokens": self.tokens, "epochs": self.epoch,
                "words_per_second": self.tokens * self.epoch / max(self.train_seconds, 1e-9)}


def make_gensim_task(config: Word2VecConfig, seed: int = 0, device=None) -> GensimTask:
    """gensim's Word2Vec on the same config as make_task (CPU only: `device` is accepted and ignored)."""
    config = config.check()
    return GensimTask(config_docs(config), seed=seed, **config.settings())


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
