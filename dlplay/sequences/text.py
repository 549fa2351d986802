"""Characters as a sequence: the corpus, its alphabet, and the n-gram model that makes the Markov assumption.

An n-gram model of order n predicts the next character from the n-1 before it only (the Markov assumption):

    p(x_t | x_1 .. x_{t-1})  ~=  p(x_t | x_{t-n+1} .. x_{t-1})
                              =  (count(context, x_t) + k) / (count(context) + k V)      (add-k smoothing)

with V the alphabet size. Bits per character on held-out text, -1/T sum_t log2 p(x_t | ...), is the score every
character model on the page is measured by (lower is better; a uniform guess over V symbols scores log2 V).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ..errors import InputError

# The alphabet: lower-case letters, digits, space and common punctuation. Anything else (brackets, $, accented
# letters, ...) becomes UNK, drawn as "~"; a newline becomes a space.
UNK = "~"
ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789.,'\"-?!:;" + UNK
INDEX = {c: i for i, c in enumerate(ALPHABET)}
V = len(ALPHABET)
CORPORA = {
    "lee": "the Lee news corpus (300 Australian news stories, about 360,000 characters)",
    "wiki": "a sample of English Wikipedia articles (plain text of the first 1,000,000 characters)",
}
VAL_SHARE = 0.1
MAX_PROMPT = 500


def clean(text: str) -> str:
    """Lower-case, newlines and tabs to spaces, runs of spaces to one."""
    return " ".join(text.lower().split())


def encode(text: str) -> tuple[torch.Tensor, int]:
    """Character ids (long tensor) and how many characters were outside the alphabet (mapped to UNK)."""
    text = clean(text)
    ids = [INDEX.get(c, INDEX[UNK]) for c in text]
    return torch.tensor(ids, dtype=torch.long), sum(c not in INDEX for c in text)


def decode(ids) -> str:
    return "".join(ALPHABET[int(i)] for i in ids)


def check_prompt(prompt: str) -> tuple[torch.Tensor, str]:
    """A user's prompt as ids, with a note when some characters had to become the unknown symbol."""
    if prompt is None or not clean(prompt):
        raise InputError("The prompt is empty: type a few characters for the model to continue.")
    if len(prompt) > MAX_PROMPT:
        raise InputError(f"The prompt has {len(prompt)} characters; the limit is {MAX_PROMPT}.")
    ids, unknown = encode(prompt)
    note = ""
    if unknown:
        bad = sorted({c for c in clean(prompt) if c not in INDEX})
        note = (f"{unknown} character(s) of the prompt are not in the model's alphabet ({' '.join(bad[:10])}) and "
                f"were replaced by the unknown symbol {UNK}.")
    return ids, note


@lru_cache(maxsize=2)
def corpus(name: str = "lee") -> tuple[torch.Tensor, torch.Tensor]:
    """(train ids, validation ids): the last 10% of the corpus is held out (whole stories, never seen in training)."""
    from ..words.text import WIKI_FILE, _datapath

    if name == "lee":
        with open(_datapath("lee_background.cor"), encoding="utf-8") as f:
            text = f.read()
    elif name == "wiki":
        from gensim.corpora.wikicorpus import extract_pages, filter_wiki
        import bz2

        parts, n = [], 0
        with bz2.open(_datapath(WIKI_FILE), "rb") as f:
            for _, body, _ in extract_pages(f):
                plain = clean(filter_wiki(body))
                parts.append(plain)
                n += len(plain)
                if n > 1_000_000:
                    break
        text = " ".join(parts)[:1_000_000]
    else:
        raise InputError(f"Unknown corpus {name!r}: choose one of {', '.join(CORPORA)}.")
    ids, _ = encode(text)
    cut = int(len(ids) * (1 - VAL_SHARE))
    cut = int(ids[:cut].eq(INDEX[" "]).nonzero()[-1]) + 1   # split at a space
    return ids[:cut], ids[cut:]


# -- the n-gram model --------------------------------------------------------------------------------------------
class NGram:
    """Character n-gram counts with add-k smoothing. `fit` may be called on successive chunks of text.

    Each (context, next character) pair is counted under one integer code, its characters read as digits in
    base V (next character lowest), so counting is numpy's `unique` and a context's counts are one contiguous
    run of the sorted codes. The text is taken to start after n-1 spaces."""

    def __init__(self, order: int = 3, k: float = 0.1):
        self.order, self.k = int(order), float(k)
        self._chunks: list[np.ndarray] = []
        self._table = None
        self.seen = 0

    def _codes(self, seq: np.ndarray) -> np.ndarray:
        """code(x_{t-n+1..t-1}, x_t) = x_t + sum_j x_{t-j} V^j for every t after the first n-1 (the padding)."""
        n = self.order - 1
        code = seq[n:].astype(np.int64)
        for j in range(1, n + 1):
            code = code + seq[n - j:len(seq) - j].astype(np.int64) * V ** j
        return code

    def _padded(self, ids, before=None) -> np.ndarray:
        n = self.order - 1
        pre = np.zeros(n, np.int64)                       # spaces (index 0)
        if before is not None and n:
            b = np.asarray(before, np.int64)[-n:]
            pre[n - len(b):] = b
        return np.concatenate([pre, np.asarray(ids, np.int64)])

    def fit(self, ids: torch.Tensor, before: torch.Tensor | None = None) -> "NGram":
        """Count every character of ids in its context; `before` is the text just before ids (when counting a long
        text chunk by chunk), used as context only."""
        self._chunks.append(self._codes(self._padded(ids, before)))
        self._table = None
        self.seen += len(ids)
        return self

    def table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(pair codes, their counts, context codes, their counts), sorted."""
        if self._table is None:
            codes = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int64)
            keys, counts = np.unique(codes, return_counts=True)
            ctx, inv = np.unique(keys // V, return_inverse=True)
            self._table = (keys, counts.astype(np.float64), ctx, np.bincount(inv, weights=counts).astype(np.float64))
        return self._table

    def probs(self, context) -> np.ndarray:
        """p(next | the last order-1 characters of context), add-k smoothed (an unseen context: uniform)."""
        keys, counts, _, _ = self.table()
        seq = self._padded(list(context)[max(0, len(context) - self.order + 1):] if self.order > 1 else [])
        c_code = int(self._codes(np.append(seq, 0))[-1]) // V if self.order > 1 else 0
        lo, hi = np.searchsorted(keys, [c_code * V, c_code * V + V])
        c = np.zeros(V)
        c[keys[lo:hi] % V] = counts[lo:hi]
        return (c + self.k) / (c.sum() + self.k * V)

    def bits_per_char(self, ids: torch.Tensor) -> float:
        """-1/T sum_t log2 p(x_t | x_{t-n+1..t-1}) over the text."""
        keys, counts, ctx, ctx_counts = self.table()
        codes = self._codes(self._padded(ids))
        if len(codes) == 0:
            return float("nan")

        def lookup(sorted_keys, values, q):
            i = np.clip(np.searchsorted(sorted_keys, q), 0, max(len(sorted_keys) - 1, 0))
            hit = (sorted_keys[i] == q) if len(sorted_keys) else np.zeros(len(q), bool)
            return np.where(hit, values[i] if len(values) else 0.0, 0.0)

        p = (lookup(keys, counts, codes) + self.k) / (lookup(ctx, ctx_counts, codes // V) + self.k * V)
        return float(-np.log2(p).mean())


def sharpen(p: np.ndarray, temperature: float) -> np.ndarray:
    """p^(1/T), renormalised: T < 1 sharpens, T > 1 flattens; T = 0 puts all mass on the argmax (greedy)."""
    if temperature == 0:
        out = np.zeros_like(p)
        out[int(np.argmax(p))] = 1.0
        return out
    logp = np.log(np.maximum(p, 1e-30)) / temperature
    q = np.exp(logp - logp.max())
    return q / q.sum()
