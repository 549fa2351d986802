"""A deep autoencoder on bag-of-words vectors (Hinton & Salakhutdinov 2006, "Reducing the dimensionality of data
with neural networks", the 2000-500-250-125-10 document network; here scaled to a corpus of ~2,300 paragraphs:
V-128-64-K, trained end to end with Adam instead of stacked RBMs).

Input: a paragraph's word counts c_d over the V most frequent content words, squashed to
    x_d = log(1 + c_d) / max_j log(1 + c_dj)            (values in [0, 1], long paragraphs do not dominate)
Output: a distribution over the V words, softmax(g(f(x_d))), and the loss is the cross-entropy with the
paragraph's own word distribution p_d = c_d / sum_j c_dj (the multinomial likelihood of its words, per word):
    L = -(1/B) sum_d sum_j p_dj log softmax(g(f(x_d)))_j
The code z_d = f(x_d) (K = 2 for a map, 10 for search) is compared with LSA's K numbers for the same paragraphs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..device import get_device, seed_everything
from ..errors import InputError
from ..topics import Config
from ..train import Batches, ModelTask
from . import search as S
from .corpus import Collection, wiki_paragraphs

CORPORA = ("wiki",)
BUILDER = "dlplay.documents:build_model"
BUILDER_ENCODER = "dlplay.documents:build_encoder"


@dataclass(frozen=True)
class DocAEConfig(Config):
    """One run of the document autoencoder."""
    corpus: str = "wiki"
    code_size: int = 2          # K numbers per paragraph
    vocab_size: int = 2000      # V most frequent content words (training paragraphs)
    hidden1: int = 128
    hidden2: int = 64
    lr: float = 1e-3
    batch_size: int = 64

    def check(self):
        self.one_of("corpus", CORPORA)
        self.in_range("code_size", 1, 64, "code size")
        self.in_range("vocab_size", 100, 5000, "vocabulary size")
        self.in_range("hidden1", 8, 1024, "first hidden layer")
        self.in_range("hidden2", 4, 512, "second hidden layer")
        self.in_range("lr", 1e-5, 0.1, "learning rate")
        self.in_range("batch_size", 8, 1024, "batch size")
        for f in ("code_size", "vocab_size", "hidden1", "hidden2", "batch_size"):
            if not isinstance(getattr(self, f), int):
                raise InputError(f"{f.replace('_', ' ')} must be a whole number, not {getattr(self, f)!r}.")
        return self


def collection(name: str = "wiki") -> Collection:
    if name != "wiki":
        raise InputError(f"Unknown corpus {name!r}: choose one of {', '.join(CORPORA)}.")
    return wiki_paragraphs()


@lru_cache(maxsize=4)
def bag_of_words(name: str = "wiki", vocab_size: int = 2000) -> tuple[list[str], np.ndarray]:
    """(vocabulary, counts (N, V) float32) over the `vocab_size` most frequent content words of the training
    paragraphs (the same words LSA uses at that size)."""
    c = collection(name)
    idx = S.TfidfIndex.fit([c.tokens[i] for i in c.train], max_features=vocab_size)
    return idx.vocab, counts(c.tokens, idx.vocab)


def counts(tokens: list[list[str]], vocab: list[str]) -> np.ndarray:
    index = {w: j for j, w in enumerate(vocab)}
    out = np.zeros((len(tokens), len(vocab)), np.float32)
    for i, doc in enumerate(tokens):
        for t in doc:
            j = index.get(t)
            if j is not None:
                out[i, j] += 1
    return out


def squash(c: np.ndarray | torch.Tensor) -> torch.Tensor:
    """x = log(1 + c) / max_j log(1 + c_j), row by row (an empty row stays 0)."""
    x = torch.log1p(torch.as_tensor(c, dtype=torch.float32))
    return x / x.amax(1, keepdim=True).clamp_min(1e-9)


class DocEncoder(nn.Module):
    """f: V -> hidden1 -> hidden2 -> K (ELU between layers, a linear code)."""

    def __init__(self, vocab_size: int, hidden1: int, hidden2: int, code_size: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(vocab_size, hidden1), nn.ELU(), nn.Linear(hidden1, hidden2), nn.ELU(),
                                 nn.Linear(hidden2, code_size))

    def forward(self, x):
        return self.net(x)


class DocAutoencoder(nn.Module):
    def __init__(self, vocab_size: int = 2000, hidden1: int = 128, hidden2: int = 64, code_size: int = 2):
        super().__init__()
        self.code_size = code_size
        self.encoder = DocEncoder(vocab_size, hidden1, hidden2, code_size)
        self.decoder = nn.Sequential(nn.Linear(code_size, hidden2), nn.ELU(), nn.Linear(hidden2, hidden1), nn.ELU(),
                                     nn.Linear(hidden1, vocab_size))   # logits over the vocabulary

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build_model(vocab_size: int = 2000, hidden1: int = 128, hidden2: int = 64, code_size: int = 2) -> DocAutoencoder:
    return DocAutoencoder(vocab_size, hidden1, hidden2, code_size)


def build_encoder(vocab_size: int = 2000, hidden1: int = 128, hidden2: int = 64, code_size: int = 2) -> DocEncoder:
    """Only f (what the shipped files keep: the decoder is needed for training, not for search or maps)."""
    return DocEncoder(vocab_size, hidden1, hidden2, code_size)


def multinomial_loss(logits: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """-(1/B) sum_d sum_j p_dj log softmax(logits_d)_j: cross-entropy with each paragraph's word distribution."""
    return -(p * F.log_softmax(logits, 1)).sum(1).mean()


@torch.no_grad()
def encode(model, x) -> torch.Tensor:
    """Codes (N, K) on the CPU of squashed bag-of-words rows x (N, V); works with a full model or an encoder."""
    enc = model.encoder if hasattr(model, "encoder") else model
    p = next(enc.parameters())
    out = [enc(torch.as_tensor(x[s:s + 2048], dtype=torch.float32).to(p.device, p.dtype)).float().cpu()
           for s in range(0, len(x), 2048)]
    return torch.cat(out) if out else torch.zeros(0, enc.net[-1].out_features)


def euclid_sims(db: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Minus squared Euclidean distances (Q, N): larger = closer, like cosine similarities."""
    db, q = np.asarray(db, np.float64), np.asarray(q, np.float64)
    return -((q ** 2).sum(1)[:, None] - 2 * q @ db.T + (db ** 2).sum(1)[None, :])


def retrieval(codes: np.ndarray, coll: Collection, k: int = 10) -> dict:
    """Held-out precision@k of codes for all paragraphs: test paragraphs search the training paragraphs, by cosine
    and by Euclidean distance."""
    tr, te = coll.train, coll.test
    ql, dl = coll.labels[te], coll.labels[tr]
    return {"precision_cosine": S.precision_at_k(S.cosine_rank(codes[tr], codes[te]), ql, dl, k),
            "precision_euclid": S.precision_at_k(euclid_sims(codes[tr], codes[te]), ql, dl, k)}


class DocAETask(ModelTask):
    """Minibatches of training paragraphs; Adam on the multinomial reconstruction loss."""

    def __init__(self, config: DocAEConfig, seed: int = 0, device=None):
        self.config_ = config
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.collection = collection(config.corpus)
        self.vocab, c = bag_of_words(config.corpus, config.vocab_size)
        self.x = squash(c)
        self.p = torch.as_tensor(c / np.maximum(c.sum(1, keepdims=True), 1.0))
        self.train_idx = torch.as_tensor(self.collection.train)
        self.x_dev, self.p_dev = self.x.to(self.device), self.p.to(self.device)
        self.model_config = {"vocab_size": len(self.vocab), "hidden1": config.hidden1, "hidden2": config.hidden2,
                             "code_size": config.code_size}
        self.model = build_model(**self.model_config).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.batches = Batches(len(self.train_idx), config.batch_size, self.generator, device=self.device)
        self.train_idx_dev = self.train_idx.to(self.device)

    def step(self):
        b = self.train_idx_dev[self.batches.next()]
        loss = multinomial_loss(self.model(self.x_dev[b]), self.p_dev[b])
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.detach(), "epoch": self.batches.epoch}

    def codes(self) -> np.ndarray:
        return encode(self.model, self.x).numpy()

    def evaluate(self):
        with torch.no_grad():
            te = torch.as_tensor(self.collection.test).to(self.device)
            test_loss = float(multinomial_loss(self.model(self.x_dev[te]), self.p_dev[te]))
        return {"test_loss": test_loss, **retrieval(self.codes(), self.collection)}


def make_task(config: DocAEConfig, seed: int = 0, device=None) -> DocAETask:
    """A fresh document-autoencoder task (config checked first; all randomness from the task's generator)."""
    return DocAETask(config.check(), seed, device)


def query_vector(query: str, vocab: list[str]) -> torch.Tensor:
    """A typed query as one squashed bag-of-words row over the model's vocabulary (InputError if no word is in it)."""
    toks = S.query_tokens(query)
    c = counts([toks], vocab)
    if c.sum() == 0:
        raise InputError("None of the query's words is among the autoencoder's "
                         f"{len(vocab):,} words; try a more common word.")
    return squash(c)
