"""What trained word vectors are for: the nearest words by cosine similarity, analogies (b - a + c), how many
neighbours two seeds share, and the standard scores on gensim's test sets (WordSim-353, the Google analogy
questions)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .word2vec import Vocab


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
