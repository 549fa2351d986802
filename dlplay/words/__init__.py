"""Words: text as tokens, bag of words, a linear sentiment classifier, and word2vec built from its two matrices.

    from dlplay import words
    docs = words.corpus("wiki")                              # documents of tokens, offline (gensim's package data)
    task = words.Word2VecTask(docs, epochs=1)               # skip-gram with negative sampling, plain PyTorch
    Trainer(task).run(steps=task.total_steps)
    words.nearest(task.vocab.words, task.vectors(), "king")
    vocab, vectors = words.shipped_vectors()                # the model this project trained and ships

`text` holds tokenising, bag of words and the classifier; `word2vec` the model: vocabulary, Huffman tree, the two
matrices, its three output layers and the training pairs; `word2vec_task` training (Word2VecTask, Word2VecConfig,
make_task) and the softmax-cost timing; `vectors` using and scoring vectors (nearest, analogies, WordSim-353);
`gensim_baseline` gensim's Word2Vec on the same settings; `figures` the plotly figures.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .. import checkpoints
from ..errors import InputError
from ..topics import Shipped
from .text import (CORPORA, DROP_STOP_WORDS, LABELLED_SETS, MAX_EXPLAIN_CHARS, WIKI_TOPICS, TextClassifier,
                   bag_of_words, close_words, corpus, corpus_from_text, filtering_steps, fit_classifier,
                   fit_sentiment, read_labelled_csv, sentiment_data, stop_words, tokenize, wiki_topics)
from .gensim_baseline import GensimTask, make_gensim_task, train_gensim
from .vectors import analogies, analogy, evaluate_vectors, nearest, neighbour_overlap, unit, wordsim
from .word2vec import (ARCHS, LOSSES, Vocab, Word2Vec, WordVectors, build_model, build_vectors, build_vocab,
                       hierarchical_loss, huffman_tree, negative_sampling_loss, one_hot_identity, softmax_loss)
from .word2vec_task import Word2VecConfig, Word2VecTask, config_docs, make_task, softmax_cost

TITLE = "Words and word2vec"
BUILDER = "dlplay.words:build_model"            # rebuilds a task's full model (both matrices)
VECTORS_BUILDER = "dlplay.words:build_vectors"  # the shipped file: the first matrix only
PRETRAIN_SETTINGS = dict(arch="skipgram", loss="negative", dim=100, window=5, negative=5, min_count=5, epochs=5)
SHIPPED_NAME = "word2vec_wiki"
# 5 epochs of the Wikipedia sample's 412,531 in-vocabulary tokens, 2,000 a step (Word2VecTask.total_steps)
SHIPPED: dict[str, Shipped] = {SHIPPED_NAME: Shipped(SHIPPED_NAME, "wiki", Word2VecConfig(**PRETRAIN_SETTINGS),
                                                  1035)}
SHIPPED_WORDS = 6000          # the shipped file keeps the 6,000 most frequent words (float16): about 1.2 MB
MAX_VECTOR_FILE_WORDS = 200_000
MAX_WORD_CHARS = 50           # a word typed into a query box
MAX_SENTENCE_CHARS = 500      # the two sentences of the bag-of-words view
MAX_PASTE_CHARS = 2_000_000   # text pasted as a corpus (a file upload may be larger, up to 20 MB)

# "What to try" on the shipped model, chosen because they work on this small corpus (tests/test_words.py checks
# each on the shipped model and on freshly trained seeds 1 and 2): a query word and words its neighbours include.
TRY_NEIGHBOURS = {"water": ("hydrogen", "carbon", "oxygen", "liquid", "atoms", "compounds", "elements", "metals"),
                  "greek": ("latin", "arabic", "english", "classical", "ancient", "medieval", "roman", "hebrew"),
                  "moon": ("armstrong", "aldrin", "lunar", "module", "landing", "flight", "launch", "surface",
                           "orbit", "crew", "earth", "apollo")}
# words whose neighbours are compared between seeds (frequent content words of the corpus)
OVERLAP_WORDS = 200

__all__ = ["CORPORA", "ARCHS", "LOSSES", "TITLE", "BUILDER", "SHIPPED", "Vocab", "Word2Vec", "Word2VecConfig",
           "Word2VecTask", "WordVectors", "TextClassifier", "LABELLED_SETS", "DROP_STOP_WORDS", "WIKI_TOPICS",
           "MAX_EXPLAIN_CHARS", "analogies", "analogy", "bag_of_words", "build_model", "build_vectors",
           "build_vocab", "close_words", "config_docs", "corpus", "corpus_from_text", "evaluate_vectors",
           "filtering_steps", "fit_classifier", "fit_sentiment", "huffman_tree", "hierarchical_loss", "make_task",
           "negative_sampling_loss", "nearest", "neighbour_overlap", "softmax_loss", "unit", "one_hot_identity",
           "sentiment_data", "shipped_vectors", "stop_words", "shipped_info", "read_labelled_csv", "softmax_cost",
           "tokenize", "train_gensim", "GensimTask", "make_gensim_task", "wiki_topics", "wordsim", "to_word2vec_text", "read_word2vec_text",
           "overlap_words", "seed_overlap"]


# -- the shipped vectors ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _shipped():
    model, config, extra = checkpoints.load(checkpoints.shipped(SHIPPED_NAME), expect_builder=VECTORS_BUILDER)
    return extra["words"], model.W_in.detach().numpy().astype(np.float32), extra


def shipped_vectors() -> tuple[list[str], np.ndarray]:
    """(words, vectors (n, d)) of the word2vec model dlplay trained on the Wikipedia sample and ships (cached)."""
    words, vectors, _ = _shipped()
    return list(words), vectors


def shipped_info() -> dict:
    """What the shipped model was trained with and its scores (settings, wordsim, the softmax-cost timings)."""
    return {k: v for k, v in _shipped()[2].items() if k != "words"}


# -- word2vec text format ---------------------------------------------------------------------------------------------
def to_word2vec_text(words: list[str], vectors: np.ndarray) -> bytes:
    """The classic word2vec text format: a header 'count dimension', then one 'word v1 v2 ...' line per word."""
    out = io.StringIO()
    out.write(f"{len(words)} {vectors.shape[1]}\n")
    for w, v in zip(words, vectors):
        out.write(w + " " + " ".join(f"{x:.5f}" for x in v) + "\n")
    return out.getvalue().encode("utf-8")


def read_word2vec_text(data: bytes) -> tuple[list[str], np.ndarray]:
    """Read vectors in word2vec text format (with or without the header line), or raise InputError saying why not."""
    from ..data import read_text

    lines = read_text(data, what="vector file").splitlines()
    first = lines[0].split()
    start = 1
    if len(first) == 2 and all(p.isdigit() for p in first):
        lines, start = lines[1:], 2
    if len(lines) > MAX_VECTOR_FILE_WORDS:
        raise InputError(f"The vector file has {len(lines):,} words; the limit is {MAX_VECTOR_FILE_WORDS:,}.")
    words, rows, dim = [], [], None
    for n, line in enumerate(lines, start):
        parts = line.rstrip().split(" ")
        if not line.strip():
            continue
        try:
            v = [float(x) for x in parts[1:]]
        except ValueError:
            raise InputError(f"Line {n} of the vector file is not 'word number number ...'.") from None
        if dim is None:
            dim = len(v)
            if dim < 1:
                raise InputError(f"Line {n} of the vector file has a word but no numbers.")
        if len(v) != dim:
            raise InputError(f"Line {n} of the vector file has {len(v)} numbers; the lines before have {dim}.")
        words.append(parts[0].lower())
        rows.append(v)
    if len(words) < 2:
        raise InputError("The vector file holds fewer than 2 words.")
    vectors = np.array(rows, np.float32)
    if not np.isfinite(vectors).all():
        raise InputError("The vector file contains numbers that are not finite (nan or inf).")
    return words, vectors


# -- seed to seed: how much of a word's neighbourhood is the corpus, how much the seed ------------------------------
def overlap_words(words: list[str], n: int = OVERLAP_WORDS) -> list[str]:
    """The n most frequent words that are not stop words and have at least 3 letters (the vocabulary is sorted
    by frequency): the words whose neighbours are compared between two runs."""
    sw = stop_words()
    return [w for w in words if w not in sw and len(w) >= 3][:n]


def seed_overlap(words_a, vecs_a, words_b, vecs_b, queries=None, k: int = 10) -> dict:
    """How many of each query word's k nearest neighbours two models share (0..1), per word and on average."""
    queries = list(queries) if queries is not None else overlap_words(list(words_a))
    per = neighbour_overlap(words_a, vecs_a, words_b, vecs_b, queries, k)
    vals = [v for v in per.values() if v is not None]
    return {"per_word": per, "mean": float(np.mean(vals)) if vals else float("nan"), "k": k, "words": len(vals)}


# -- pretrain, CLI ---------------------------------------------------------------------------------------------------
def _train(config: Word2VecConfig, seed: int):
    from ..train import Trainer

    task = make_task(config, seed, device="cpu")
    tr = Trainer(task, record_every=50).run(steps=SHIPPED[SHIPPED_NAME].steps)
    return task, tr


def pretrain(out_dir=None, seed: int = 0) -> dict:
    """Train the shipped model: skip-gram with negative sampling on the Wikipedia sample, 5 epochs (a step budget,
    so the result does not depend on the machine's speed); keep the first matrix for the 6,000 most frequent words.
    Two more runs with seeds 1 and 2 measure how much of each word's neighbourhood is the seed's doing."""
    sh = SHIPPED[SHIPPED_NAME]
    task, tr = _train(sh.config, seed)
    words, W = task.vocab.words, task.vectors()
    ev = evaluate_vectors(words, W)
    others = [_train(sh.config, s)[0] for s in (1, 2)]
    queries = overlap_words(words) + [w for w in TRY_NEIGHBOURS if w not in overlap_words(words)]
    overlaps = [seed_overlap(words, W, o.vocab.words, o.vectors(), queries) for o in others]
    per_word = {q: [ov["per_word"][q] for ov in overlaps] for q in queries}
    u = unit(W[:1000])
    cost = softmax_cost(repeats=2)
    small = build_vectors(min(SHIPPED_WORDS, len(words)), W.shape[1])
    small.W_in.data = torch.from_numpy(W[:SHIPPED_WORDS].copy()).half()   # float16 halves the file
    extra = {"words": words[:SHIPPED_WORDS], "settings": {"corpus": "wiki", **PRETRAIN_SETTINGS, "seed": seed},
             "steps": sh.steps, "vocab_trained": len(words), "tokens": task.raw_tokens,
             "seconds": round(tr.seconds, 2), "words_per_second": round(task.raw_tokens * task.epochs / tr.seconds),
             **ev, "seed_overlap_seeds": [1, 2], "seed_overlap_k": 10,
             "seed_overlap_mean": [round(ov["mean"], 4) for ov in overlaps],
             "seed_overlap_words": {q: [round(v, 2) for v in per_word[q]] for q in queries},
             "mean_cosine_top1000": float((u @ u.T).mean()), "softmax_cost": cost}
    checkpoints.save(Path(out_dir or checkpoints.SHIPPED_DIR) / f"{SHIPPED_NAME}.pt", small,
                     {"vocab_size": small.W_in.shape[0], "dim": W.shape[1]}, VECTORS_BUILDER, extra)
    _shipped.cache_clear()
    return {k: v for k, v in extra.items() if k not in ("words", "softmax_cost", "seed_overlap_words")}


def _config(args) -> Word2VecConfig:
    """The CLI's --corpus is a built-in corpus or a path to a UTF-8 .txt file (then read like an upload)."""
    settings = dict(arch=args.arch, loss=args.loss, dim=args.dim, window=args.window, negative=args.negative,
                    min_count=args.min_count, sample=args.sample, epochs=args.epochs)
    name = args.corpus
    if name in CORPORA:
        return Word2VecConfig(corpus=name, **settings).check()
    from ..data import read_text

    p = Path(name)
    if not p.is_file():
        raise InputError(f"{name!r} is neither a built-in corpus ({', '.join(CORPORA)}) nor a text file.")
    return Word2VecConfig(corpus="text", text=read_text(p.read_bytes()), **settings).check()


def cli_args(command: str, parser) -> None:
    if command == "corpus":
        parser.add_argument("name", choices=list(CORPORA), help="which built-in corpus")
        return
    parser.add_argument("--corpus", default="wiki", help=f"{', '.join(CORPORA)} or a path to a UTF-8 .txt file")
    parser.add_argument("--arch", default="skipgram", choices=ARCHS)
    parser.add_argument("--loss", default="negative", choices=LOSSES)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3, help="subsampling threshold (0 = off)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--gensim", action="store_true", help="also train gensim's Word2Vec (2 workers) and report it")


def cli_run(command: str, args) -> dict:
    from ..train import Trainer

    if command == "corpus":
        docs = corpus(args.name)
        text = "\n".join(" ".join(d) for d in docs) + "\n"
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            print(text, end="")
        return {"corpus": args.name, "documents": len(docs), "tokens": sum(map(len, docs)), "out": args.out}
    config = _config(args)
    docs = config_docs(config)
    settings = {k: v for k, v in config.settings().items() if k in ("arch", "loss", "dim", "window", "negative",
                                                                    "min_count", "sample", "epochs")}
    task = make_task(config, args.seed, device=args.device)
    tr = Trainer(task, record_every=50).run(steps=task.total_steps)
    words, W = task.vocab.words, task.vectors()
    if args.out:
        Path(args.out).write_bytes(to_word2vec_text(words, W))
    ev = evaluate_vectors(words, W)
    out = {"corpus": args.corpus, **settings, "tokens": task.raw_tokens, "vocab": len(words),
           "seconds": round(tr.seconds, 3), "words_per_second": round(task.raw_tokens * task.epochs / tr.seconds),
           "final_loss": tr.history[-1]["loss"], **ev}
    if args.gensim:
        g = train_gensim(docs, seed=args.seed, **settings)
        gev = evaluate_vectors(g["words"], g["vectors"])
        out.update(gensim_seconds=round(g["seconds"], 3), gensim_words_per_second=round(g["words_per_second"]),
                   **{f"gensim_{k}": v for k, v in gev.items()})
    return out
