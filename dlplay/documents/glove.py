"""GloVe in plain PyTorch (Pennington, Socher & Manning 2014, "GloVe: Global Vectors for Word Representation").

1. Count: X_ij = how often word j occurs within `window` words of word i, each occurrence weighted 1/distance
   (the paper's decreasing weighting; symmetric, so X_ij = X_ji).
2. Fit: word vectors w_i, context vectors w~_j and biases b_i, b~_j minimise the weighted least squares (eq. 8)
       J = sum_{i,j: X_ij > 0} f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2,
       f(x) = (x / x_max)^alpha if x < x_max else 1        (eq. 9; x_max = 100, alpha = 3/4)
   by AdaGrad on minibatches of the non-zero entries (as the paper's reference code, learning rate 0.05).
3. Use w_i + w~_i as word i's vector (the paper's section 4.2).

word2vec streams through the text window by window; GloVe first summarises the whole corpus in X, then fits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ..device import get_device, seed_everything
from ..errors import InputError
from ..topics import Config, Shipped
from ..train import Batches, Task
from ..words import build_vocab, corpus, evaluate_vectors, wordsim
from ..words.word2vec import encode as encode_tokens

TITLE = "GloVe: word vectors from a co-occurrence matrix"
BUILDER = "dlplay.documents.glove:build_model"
VECTORS_BUILDER = "dlplay.documents.glove:build_vectors"
CORPORA = ("wiki", "lee")
MAX_NONZEROS = 20_000_000


@dataclass(frozen=True)
class GloveConfig(Config):
    corpus: str = "wiki"
    dim: int = 100
    window: int = 10
    min_count: int = 5
    max_vocab: int = 30_000
    x_max: float = 100.0
    alpha: float = 0.75
    lr: float = 0.05
    batch_size: int = 16_384

    def check(self):
        self.one_of("corpus", CORPORA)
        self.in_range("dim", 2, 300, "dimension")
        self.in_range("window", 1, 20)
        self.in_range("min_count", 1, 1000, "min count")
        self.in_range("max_vocab", 100, 100_000, "max vocabulary")
        self.in_range("x_max", 1.0, 10_000.0, "x_max")
        self.in_range("alpha", 0.0, 2.0)
        self.in_range("lr", 1e-4, 1.0, "learning rate")
        self.in_range("batch_size", 256, 1_000_000, "batch size")
        return self


@lru_cache(maxsize=2)
def cooccurrence(corpus_name: str = "wiki", window: int = 10, min_count: int = 5, max_vocab: int = 30_000):
    """(vocab, rows i, cols j, values X_ij) of the non-zero co-occurrence counts of a built-in corpus over the
    word2vec vocabulary (same corpus and min count as the Words page). Cached per corpus and window."""
    docs = corpus(corpus_name)
    vocab = build_vocab(docs, min_count, max_vocab)
    return (vocab, *cooccurrence_counts(docs, vocab, window))


def cooccurrence_counts(docs, vocab, window: int = 10) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(i, j, X_ij) for every non-zero entry: each pair of in-vocabulary tokens at most `window` apart in one
    document adds 1/distance to both X_ij and X_ji (words outside the vocabulary are dropped first, as word2vec
    does)."""
    import scipy.sparse as sp

    ids, doc, _ = encode_tokens(docs, vocab)
    ids, doc = ids.numpy(), doc.numpy()
    V = len(vocab)
    rows, cols, vals = [], [], []
    for o in range(1, window + 1):
        same = doc[o:] == doc[:-o]
        rows.append(ids[:-o][same].astype(np.int32))
        cols.append(ids[o:][same].astype(np.int32))
        vals.append(np.full(int(same.sum()), 1.0 / o, np.float32))
    upper = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(V, V)).tocsr()          # duplicates summed: X_ij for word i left of word j
    X = (upper + upper.T).tocoo()
    if X.nnz > MAX_NONZEROS:
        raise InputError(f"The co-occurrence matrix has {X.nnz:,} non-zero entries; the limit is {MAX_NONZEROS:,}. "
                         "Use a smaller window or a higher min count.")
    return (torch.from_numpy(X.row.astype(np.int64)), torch.from_numpy(X.col.astype(np.int64)),
            torch.from_numpy(X.data.astype(np.float32)))


def weighting(x: torch.Tensor, x_max: float = 100.0, alpha: float = 0.75) -> torch.Tensor:
    """f(x) = (x / x_max)^alpha below x_max, 1 above (eq. 9): rare pairs count less, frequent ones are capped."""
    return torch.clamp(x / x_max, max=1.0) ** alpha


class Glove(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 100):
        super().__init__()
        # rows not in a minibatch get a zero gradient, so AdaGrad leaves them as they are (dense gradients measured
        # faster than sparse=True here)
        self.w = nn.Embedding(vocab_size, dim)
        self.w_ctx = nn.Embedding(vocab_size, dim)
        self.b = nn.Embedding(vocab_size, 1)
        self.b_ctx = nn.Embedding(vocab_size, 1)
        for e in (self.w, self.w_ctx):
            nn.init.uniform_(e.weight, -0.5 / dim, 0.5 / dim)
        for e in (self.b, self.b_ctx):
            nn.init.zeros_(e.weight)

    def vectors(self) -> torch.Tensor:
        """w_i + w~_i: word i's vector (section 4.2 of the paper)."""
        return (self.w.weight + self.w_ctx.weight).detach()


def build_model(vocab_size: int, dim: int = 100) -> Glove:
    return Glove(vocab_size, dim)


class GloveVectors(nn.Module):
    """Only the final vectors w + w~ (what the shipped file keeps)."""

    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        self.W = nn.Parameter(torch.zeros(vocab_size, dim), requires_grad=False)


def build_vectors(vocab_size: int, dim: int) -> GloveVectors:
    return GloveVectors(vocab_size, dim)


def glove_loss(model: Glove, i, j, x, x_max: float = 100.0, alpha: float = 0.75) -> torch.Tensor:
    """sum f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2 over a minibatch of non-zero entries (eq. 8)."""
    # rows by index_select (its backward is an index_add, ~20% faster per step here than nn.Embedding's backward)
    w, w_ctx = model.w.weight.index_select(0, i), model.w_ctx.weight.index_select(0, j)
    pred = (w * w_ctx).sum(1) + model.b.weight[:, 0].index_select(0, i) + model.b_ctx.weight[:, 0].index_select(0, j)
    return (weighting(x, x_max, alpha) * (pred - torch.log(x)) ** 2).sum()


class GloveTask(Task):
    """One step = one minibatch of non-zero co-occurrence entries, visited in a shuffled order epoch by epoch.
    Metrics: the weighted squared error per entry, epoch."""

    def __init__(self, config: GloveConfig, seed: int = 0, device=None):
        self.config_ = config
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.vocab, self.i, self.j, self.x = cooccurrence(config.corpus, config.window, config.min_count,
                                                          config.max_vocab)
        V = len(self.vocab)
        if V <= config.dim // 10 or len(self.x) < 100:
            raise InputError(f"Only {V} words and {len(self.x)} co-occurring pairs: too few to fit GloVe. Use a "
                             "lower min count or a bigger corpus.")
        self.model_config = {"vocab_size": V, "dim": config.dim}
        self.model = build_model(**self.model_config).to(self.device)
        # AdaGrad's accumulators start at 0 (torch's default): the first step moves each touched entry by about
        # the full learning rate. Starting them at 1 as glove.c does, or at 0.1 / 0.01, measured far worse here
        # (WordSim-353 below 0.1 after 6 epochs on the wiki sample).
        self.opt = torch.optim.Adagrad(self.model.parameters(), lr=config.lr)
        self.batches = Batches(len(self.x), config.batch_size, self.generator, device=self.device)
        self.i_dev, self.j_dev, self.x_dev = (t.to(self.device) for t in (self.i, self.j, self.x))

    @property
    def steps_per_epoch(self) -> int:
        return max(1, len(self.x) // self.batches.batch_size)

    def step(self):
        b = self.batches.next()
        loss = glove_loss(self.model, self.i_dev[b], self.j_dev[b], self.x_dev[b], self.config_.x_max,
                          self.config_.alpha)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.detach() / len(b), "epoch": self.batches.epoch}

    def vectors(self) -> np.ndarray:
        return self.model.vectors().cpu().numpy()

    def evaluate(self):
        return scores(self.vocab.words, self.vectors())

    def state_dict(self):
        return {"model": {k: v.clone() for k, v in self.model.state_dict().items()}, "opt": self.opt.state_dict(),
                "batches": self.batches.state_dict()}

    def load_state_dict(self, s):
        self.model.load_state_dict(s["model"])
        self.opt.load_state_dict(s["opt"])
        self.batches.load_state_dict(s["batches"])


def make_task(config: GloveConfig, seed: int = 0, device=None) -> GloveTask:
    """A fresh GloVe task (config checked first; the co-occurrence matrix is cached per corpus and window)."""
    return GloveTask(config.check(), seed, device)


def scores(words, vectors) -> dict:
    """WordSim-353 and SimLex-999 Spearman correlations (pairs with both words in the vocabulary)."""
    ws, sl = wordsim(words, vectors), wordsim(words, vectors, "simlex999.txt")
    return {"wordsim353_spearman": ws["spearman"], "simlex999_spearman": sl["spearman"]}


def cooccurrence_table(vocab, i, j, x, chosen: list[str]) -> np.ndarray:
    """X_ab for a few chosen words (rows and columns in the order given), for drawing."""
    idx = [vocab.get(w) for w in chosen]      # InputError naming close words for an unknown one
    pos = {w: k for k, w in enumerate(idx)}
    out = np.zeros((len(idx), len(idx)))
    sel = torch.isin(i, torch.tensor(idx)) & torch.isin(j, torch.tensor(idx))
    for a, b, v in zip(i[sel].tolist(), j[sel].tolist(), x[sel].tolist()):
        out[pos[a], pos[b]] = v
    return out


SHIPPED_WORDS = 4000
PRETRAIN_STEPS = 2220      # 15 epochs of the wiki matrix (2.44 million non-zeros, 148 batches of 16,384)
SHIPPED: dict[str, Shipped] = {"glove_wiki": Shipped("glove_wiki", "wiki", GloveConfig(), PRETRAIN_STEPS)}


# -- shipped vectors, pretrain, CLI ----------------------------------------------------------------------------------
def pretrain(out_dir=None, seed: int = 0) -> dict:
    """Train GloVe on the Wikipedia sample for PRETRAIN_STEPS steps (a step budget); keep w + w~ of the
    SHIPPED_WORDS most frequent words in float16 (about 0.8 MB), with scores measured on the full vocabulary."""
    import time
    from pathlib import Path

    from .. import checkpoints
    from ..train import Trainer

    sh = SHIPPED["glove_wiki"]
    cfg, steps = sh.config, sh.steps
    task = make_task(cfg, seed, device="cpu")
    t0 = time.perf_counter()
    Trainer(task, record_every=100).run(steps=steps)
    secs = time.perf_counter() - t0
    words, W = task.vocab.words, task.vectors()
    ev = evaluate_vectors(words, W)
    ev.update(scores(words, W))
    small = build_vectors(min(SHIPPED_WORDS, len(words)), W.shape[1])
    small.W.data = torch.from_numpy(W[:SHIPPED_WORDS].copy()).half()
    extra = {"words": words[:SHIPPED_WORDS], "config": cfg.as_dict(), "steps": steps,
             "epochs": round(steps / task.steps_per_epoch, 2),
             "seed": seed, "vocab_trained": len(words), "nonzeros": len(task.x), "seconds": round(secs, 1), **ev}
    checkpoints.save(Path(out_dir or checkpoints.SHIPPED_DIR) / "glove_wiki.pt", small,
                     {"vocab_size": small.W.shape[0], "dim": W.shape[1]}, VECTORS_BUILDER, extra)
    _shipped.cache_clear()
    return {k: v for k, v in extra.items() if k != "words"}


@lru_cache(maxsize=1)
def _shipped():
    from .. import checkpoints

    model, _, extra = checkpoints.load(checkpoints.shipped("glove_wiki"), expect_builder=VECTORS_BUILDER)
    return list(extra["words"]), model.W.detach().float().numpy(), {k: v for k, v in extra.items() if k != "words"}


def shipped_vectors() -> tuple[list[str], np.ndarray]:
    words, W, _ = _shipped()
    return words, W


def shipped_info() -> dict:
    return dict(_shipped()[2])


def cli_args(command: str, parser) -> None:
    from ..topics import add_budget_args, add_config_args

    add_config_args(parser, GloveConfig)
    add_budget_args(parser, seconds=60.0)
    parser.add_argument("--word2vec", action="store_true",
                        help="also train the project's word2vec (5 epochs) and gensim's on the same corpus")


def cli_run(command: str, args) -> dict:
    """`train glove`: train for --seconds (or --steps), write vectors in word2vec text format to --out."""
    from pathlib import Path

    from ..topics import config_from_args
    from ..train import Trainer
    from ..words import PRETRAIN_SETTINGS, Word2VecTask, to_word2vec_text, train_gensim

    cfg = config_from_args(GloveConfig, args)
    task = make_task(cfg, args.seed, device=args.device)
    tr = Trainer(task, record_every=50).run(steps=args.steps, seconds=None if args.steps else args.seconds)
    words, W = task.vocab.words, task.vectors()
    if args.out:
        Path(args.out).write_bytes(to_word2vec_text(words, W))
    out = {**cfg.as_dict(), "vocab": len(words), "nonzeros": len(task.x), "steps": tr.steps,
           "epochs": round(tr.steps / task.steps_per_epoch, 2), "seconds": round(tr.seconds, 3),
           "final_loss": tr.history[-1]["loss"] if tr.history else None, **scores(words, W)}
    if args.word2vec:
        docs = corpus(cfg.corpus)
        w2v = Word2VecTask(docs, seed=args.seed, device=args.device, **PRETRAIN_SETTINGS)
        t = Trainer(w2v, record_every=200).run(steps=w2v.total_steps)
        out.update({f"word2vec_{k}": v for k, v in scores(w2v.vocab.words, w2v.vectors()).items()},
                   word2vec_seconds=round(t.seconds, 2))
        g = train_gensim(docs, seed=args.seed, **{k: v for k, v in PRETRAIN_SETTINGS.items()})
        out.update({f"gensim_{k}": v for k, v in scores(g["words"], g["vectors"]).items()},
                   gensim_seconds=round(g["seconds"], 2))
    return out
