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

This module holds the parts the equations name: the vocabulary and its Huffman tree, the two matrices, the three
output layers and the training pairs. Its siblings: word2vec_task.py (Word2VecTask: the SGD step that uses them,
Word2VecConfig, make_task, the softmax-cost timing), vectors.py (nearest words, analogies, WordSim-353 and the
analogy questions), gensim_baseline.py (gensim's Word2Vec on the same settings, as a Task).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import InputError
from .text import close_words


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
