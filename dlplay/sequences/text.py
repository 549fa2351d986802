"""Characters as a sequence: the corpus, its alphabet, and the n-gram model that makes the Markov assumption.

An n-gram model of order n predicts the next character from the n-1 before it only (the Markov assumption):

    p(x_t | x_1 .. x_{t-1})  ~=  p(x_t | x_{t-n+1} .. x_{t-1})
                              =  (count(context, x_t) + k) / (count(context) + k V)      (add-k smoothing)

with V the alphabet size. Bits per character on held-out text, -1/T sum_t log2 p(x_t | ...), is the score every
character model on the page is measured by (lower is better; a uniform guess over V symbols scores log2 V).
"""

from __future__ import annotations

import math
from collections import defaultdict
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
    """Character n-gram counts with add-k smoothing. `fit` may be called on successive chunks of text."""

    def __init__(self, order: int = 3, k: float = 0.1):
        self.order, self.k = int(order), float(k)
        self.counts: dict[tuple, np.ndarray] = defaultdict(lambda: np.zeros(V, np.float64))
        self.seen = 0

    def fit(self, ids: torch.Tensor, before: torch.Tensor | None = None) -> "NGram":
        """Count every character of ids in its context; `before` is the text just before ids (when counting a long
        text chunk by chunk), used as context only."""
        pre = [] if before is None else before.tolist()[len(before) - self.order + 1:] if self.order > 1 else []
        seq = pre + ids.tolist()
        n = self.order - 1
        for t in range(len(pre), len(seq)):
            ctx = tuple(seq[max(0, t - n):t])
            self.counts[ctx][seq[t]] += 1    # contexts shorter than n only at the very start of the text
        self.seen += len(seq) - len(pre)
        return self

    def probs(self, context) -> np.ndarray:
        """p(next | the last order-1 characters of context), add-k smoothed (unseen contexts: uniform)."""
        ctx = tuple(int(c) for c in list(context)[max(0, len(context) - self.order + 1):]) if self.order > 1 else ()
        c = self.counts.get(ctx)
        if c is None:
            return np.full(V, 1.0 / V)
        return (c + self.k) / (c.sum() + self.k * V)

    def bits_per_char(self, ids: torch.Tensor) -> float:
        seq = ids.tolist()
        n = self.order - 1
        total = 0.0
        for t in range(len(seq)):
            total -= math.log2(self.probs(seq[max(0, t - n):t])[seq[t]])
        return total / max(1, len(seq))

    def sample(self, prompt_ids, n: int, temperature: float = 1.0, generator=None) -> tuple[list[int], np.ndarray]:
        """Continue the prompt by n characters: (ids, the next-character distributions used, shape (n, V))."""
        rng = np.random.default_rng(int(torch.randint(0, 2**31, (1,), generator=generator)))
        seq, dists = list(int(i) for i in prompt_ids), []
        for _ in range(n):
            p = self.probs(seq)
            q = sharpen(p, temperature)
            dists.append(p)
            seq.append(int(q.argmax()) if temperature == 0 else int(rng.choice(V, p=q)))
        return seq[len(prompt_ids):], np.array(dists)


def sharpen(p: np.ndarray, temperature: float) -> np.ndarray:
    """p^(1/T), renormalised: T < 1 sharpens, T > 1 flattens; T = 0 puts all mass on the argmax (greedy)."""
    if temperature == 0:
        out = np.zeros_like(p)
        out[int(np.argmax(p))] = 1.0
        return out
    logp = np.log(np.maximum(p, 1e-30)) / temperature
    q = np.exp(logp - logp.max())
    return q / q.sum()
