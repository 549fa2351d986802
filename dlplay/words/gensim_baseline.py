"""The baseline: gensim's C-optimised Word2Vec on the same corpus and settings, as a function and as a Task (one
epoch a step) so pages run it through the runner like any other training."""

from __future__ import annotations

import time

import numpy as np
import torch

from .. import limits
from ..errors import InputError
from ..train import Task
from .word2vec import _check
from .word2vec_task import Word2VecConfig, config_docs


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
