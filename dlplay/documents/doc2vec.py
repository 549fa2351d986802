"""Document vectors: gensim's Doc2Vec (Le & Mikolov 2014, "Distributed Representations of Sentences and
Documents") against averaged word vectors, on the same held-out retrieval task as TF-IDF, LSA and the autoencoder.

  * PV-DM: a paragraph vector d joins the word vectors of a window to predict the next word (word2vec's CBOW
    with one more "word" that is the same everywhere in the paragraph).
  * PV-DBOW: the paragraph vector alone predicts words sampled from the paragraph (skip-gram with the paragraph
    in the centre).
A new text gets its vector by the same training with every weight frozen except its own d (`infer_vector`).
The baseline: the mean of the paragraph's word2vec vectors (the Words page's shipped model), no training at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .. import limits
from ..device import seed_everything
from ..errors import InputError
from ..topics import Config
from ..train import Task
from ..words import shipped_vectors, stop_words
from . import search as S
from .corpus import Collection, wiki_paragraphs

TITLE = "Doc2Vec: paragraph vectors (gensim)"
SHIPPED: dict = {}    # trained in seconds on the page; the page opens on the measured table instead


@dataclass(frozen=True)
class Doc2VecConfig(Config):
    mode: Literal["dbow", "dm"] = "dbow"     # PV-DBOW or PV-DM
    dim: int = 100
    window: int = 5
    min_count: int = 2
    negative: int = 5
    epochs: int = 40
    alpha: float = 0.05          # measured: 0.025 gives precision@10 0.53, 0.05 gives 0.60, 0.1 gives 0.55 (PV-DBOW)

    def check(self):
        self.one_of("mode", ("dbow", "dm"))
        self.in_range("dim", 2, 300, "dimension")
        self.in_range("window", 1, 15)
        self.in_range("min_count", 1, 100, "min count")
        self.in_range("negative", 1, 25, "negative samples")
        self.in_range("epochs", 1, 100)
        self.in_range("alpha", 1e-4, 0.5, "learning rate")
        return self


class Doc2VecTask(Task):
    """One step = one epoch of gensim's Doc2Vec over the training paragraphs (one worker, so a seed fixes the
    model), the learning rate falling linearly from alpha to alpha/100 over `epochs`; later steps keep the last rate."""

    def __init__(self, config: Doc2VecConfig, seed: int = 0, device=None, collection: Collection | None = None):
        from gensim.models.doc2vec import Doc2Vec, TaggedDocument

        self.config_ = config
        self.generator = seed_everything(seed)
        self.collection = collection or wiki_paragraphs()
        c = self.collection
        self.docs = [TaggedDocument(list(c.tokens[i]), [k]) for k, i in enumerate(c.train)]
        # The bound of one run: tokens x epochs (the built-in collection's 192,433 training tokens x 100 epochs fits;
        # its heaviest settings, PV-DM at d = 300, window 15, 25 negatives, measured 1.4 s an epoch here).
        limits.check_token_epochs(sum(len(d.words) for d in self.docs), config.epochs, "This Doc2Vec run")
        self.model = Doc2Vec(vector_size=config.dim, dm=int(config.mode == "dm"), window=config.window,
                             min_count=config.min_count, negative=config.negative, hs=0, sample=1e-3,
                             workers=1, seed=seed, epochs=config.epochs, alpha=config.alpha)
        self.model.build_vocab(self.docs)
        if len(self.model.wv) < 10:
            raise InputError(f"Only {len(self.model.wv)} words occur {config.min_count}+ times: too few for Doc2Vec.")
        self.epoch = 0

    def step(self):
        cfg = self.config_
        lo = cfg.alpha / 100
        rate = lambda e: max(lo, cfg.alpha - (cfg.alpha - lo) * e / cfg.epochs)  # noqa: E731
        self.model.train(self.docs, total_examples=len(self.docs), epochs=1, start_alpha=rate(self.epoch),
                         end_alpha=rate(self.epoch + 1))
        self.epoch += 1
        return {"epoch": self.epoch, "learning_rate": rate(self.epoch)}

    def train_vectors(self) -> np.ndarray:
        return np.asarray(self.model.dv.vectors, np.float32)

    def infer(self, tokens: list[list[str]]) -> np.ndarray:
        """Vectors of new texts (infer_vector; gensim seeds it from the text, so it repeats exactly)."""
        return np.stack([self.model.infer_vector(list(t), epochs=self.config_.epochs) for t in tokens])

    def evaluate(self):
        c = self.collection
        sims = S.cosine_rank(self.train_vectors(), self.infer([c.tokens[i] for i in c.test]))
        return {"precision_at_10": S.precision_at_k(sims, c.labels[c.test], c.labels[c.train])}

    def nearest(self, query: str, k: int = 10) -> list[dict]:
        """The k training paragraphs whose vectors are closest (cosine) to the typed text's inferred vector."""
        toks = S.query_tokens(query)
        if not any(t in self.model.wv.key_to_index for t in toks):
            raise InputError("None of the query's words is in Doc2Vec's vocabulary; try a more common word.")
        sims = S.cosine_rank(self.train_vectors(), self.infer([toks]))[0]
        return [{"doc": int(self.collection.train[i]), "score": float(sims[i])} for i in np.argsort(-sims)[:k]]


def make_task(config: Doc2VecConfig, seed: int = 0, device=None) -> Doc2VecTask:
    """A fresh Doc2Vec task (gensim, CPU only: `device` is accepted and ignored)."""
    return Doc2VecTask(config.check(), seed, device)


def mean_vectors(tokens: list[list[str]], words: list[str], vectors: np.ndarray) -> np.ndarray:
    """Each text as the mean of its content words' vectors (zeros when none is known)."""
    index = {w: i for i, w in enumerate(words)}
    sw = stop_words()
    out = np.zeros((len(tokens), vectors.shape[1]), np.float32)
    for r, doc in enumerate(tokens):
        ids = [index[t] for t in doc if t in index and t not in sw]
        if ids:
            out[r] = vectors[ids].mean(0)
    return out


def mean_word2vec_precision(collection: Collection | None = None, k: int = 10) -> float:
    """Held-out precision@k of averaged word2vec vectors (the shipped Words model), cosine."""
    c = collection or wiki_paragraphs()
    words, vectors = shipped_vectors()
    v = mean_vectors(c.tokens, words, vectors)
    return S.precision_at_k(S.cosine_rank(v[c.train], v[c.test]), c.labels[c.test], c.labels[c.train], k)
