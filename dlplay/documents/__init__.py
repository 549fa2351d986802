"""Documents: search by words (TF-IDF), by LSA and by a deep document autoencoder; GloVe and Doc2Vec.

    from dlplay import documents as D
    lib = D.library()                                  # paragraphs of the Wikipedia sample, indexes, shipped models
    lib.search("president shot theatre", "tfidf")      # ranked paragraphs with the query words they contain
    task = D.make_task(D.DocAEConfig(code_size=2))      # the deep autoencoder on bags of words (topic contract)
    Trainer(task).run(steps=1500); task.evaluate()      # held-out precision@10 (same article)

Modules: `corpus` (paragraphs labelled by article, the split), `search` (TF-IDF, LSA, precision@k), `docae` (the
autoencoder: this package's topic), `glove` (GloVe in PyTorch: its own topic), `doc2vec` (gensim's Doc2Vec and
averaged word2vec: its own topic), `figures` (plotly).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import checkpoints
from ..errors import InputError
from ..topics import Shipped
from . import search
from .corpus import Collection, from_text, wiki_paragraphs
from .docae import (BUILDER_ENCODER, DocAEConfig, DocAETask, build_encoder, build_model, encode, euclid_sims,
                    make_task, multinomial_loss, query_vector, retrieval, squash)
from .search import LSA, TfidfIndex, cosine_rank, precision_at_k

TITLE = "Documents: TF-IDF, LSA and a deep document autoencoder"
BUILDER = "dlplay.documents:build_model"
SHIPPED: dict[str, Shipped] = {
    "doc_ae_wiki_k2": Shipped("doc_ae_wiki_k2", "wiki", DocAEConfig(code_size=2), 2000),
    "doc_ae_wiki_k10": Shipped("doc_ae_wiki_k10", "wiki", DocAEConfig(code_size=10), 2000),
}
METHODS = ("tfidf", "lsa", "ae", "doc2vec")

__all__ = ["BUILDER", "Collection", "DocAEConfig", "DocAETask", "LSA", "METHODS", "SHIPPED", "TITLE", "TfidfIndex",
           "build_encoder", "build_model", "cosine_rank", "encode", "euclid_sims", "from_text", "library",
           "make_task", "multinomial_loss", "precision_at_k", "pretrain", "query_vector", "retrieval", "search",
           "shipped_encoder", "squash", "wiki_paragraphs"]


# -- shipped encoders --------------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def shipped_encoder(code_size: int):
    """(encoder, its vocabulary, extra) of the shipped autoencoder with a `code_size`-number code (2 or 10)."""
    model, _, extra = checkpoints.load(checkpoints.shipped(f"doc_ae_wiki_k{code_size}"), expect_builder=BUILDER_ENCODER)
    return model.float(), list(extra["vocab"]), {k: v for k, v in extra.items() if k != "vocab"}


# -- one object for the page and the CLI ---------------------------------------------------------------------------
@dataclass
class Library:
    """A collection with its TF-IDF index, LSA models and autoencoder codes; search by each method.
    Everything is fitted on the training paragraphs; every paragraph can be found."""
    collection: Collection
    index: TfidfIndex
    lsa: dict = field(default_factory=dict)       # K -> LSA
    lsa_codes: dict = field(default_factory=dict)  # K -> (N, K)
    search_k: int = 100                             # LSA for the search box: 100 numbers over all words

    @classmethod
    def build(cls, coll: Collection, lsa_sizes=(2, 10)) -> "Library":
        c = coll
        index = TfidfIndex.fit([c.tokens[i] for i in c.train])
        index.matrix = index.transform(c.tokens).tocsr()      # every paragraph, in the training vocabulary
        lib = cls(c, index)
        train_rows = index.vectorizer.transform([c.tokens[i] for i in c.train])
        lib.search_k = max(1, min(lib.search_k, min(train_rows.shape) - 1))
        lib.lsa_search = LSA.fit(TfidfIndex(index.vectorizer, train_rows, index.vocab), lib.search_k)
        lib.lsa_search_codes = lib.lsa_search.svd.transform(index.matrix)
        small = TfidfIndex.fit([c.tokens[i] for i in c.train], max_features=2000)   # the autoencoder's words
        small.matrix_all = small.transform(c.tokens)
        lib.small = small
        for k in lsa_sizes:
            if k < min(small.matrix.shape):
                lib.lsa[k] = LSA.fit(small, k)
                lib.lsa_codes[k] = lib.lsa[k].svd.transform(small.matrix_all)
        return lib

    def lsa_query(self, query: str, k: int) -> np.ndarray:
        return self.lsa[k].svd.transform(self.small.query(query))

    def search(self, query: str, method: str = "tfidf", k: int = 10, model=None, vocab=None, code_size: int = 10):
        """Ranked paragraphs for a typed query: [{'doc', 'article', 'score', 'matched'}]. 'lsa' searches with
        `search_k` (100) LSA numbers over all words; 'ae' with an encoder and its vocabulary (default: the shipped
        one with `code_size` numbers); 'doc2vec' with a trained Doc2VecTask passed as `model`."""
        c = self.collection
        if method not in METHODS:
            raise InputError(f"Unknown method {method!r}: choose one of {', '.join(METHODS)}.")
        if method == "tfidf":
            hits = self.index.search(query, k)
        elif method == "lsa":
            q = self.lsa_search.svd.transform(self.index.query(query))
            sims = cosine_rank(self.lsa_search_codes, q)[0]
            hits = [{"doc": int(i), "score": float(sims[i])} for i in np.argsort(-sims)[:k]]
        elif method == "ae":
            shipped = model is None
            if shipped:
                model, vocab, _ = shipped_encoder(code_size)
            codes = self.codes(model, vocab, cache=shipped)
            sims = cosine_rank(codes, encode(model, query_vector(query, vocab)).numpy())[0]
            hits = [{"doc": int(i), "score": float(sims[i])} for i in np.argsort(-sims)[:k]]
        else:
            if model is None:
                raise InputError("Train Doc2Vec first: it has no shipped model.")
            hits = model.nearest(query, k)
        qwords = set(search.query_tokens(query))
        for h in hits:
            h["article"] = c.names[c.labels[h["doc"]]]
            h.setdefault("matched", sorted(qwords & set(c.tokens[h["doc"]]) - search.stop_words()))
        return hits

    def codes(self, model, vocab, cache: bool = True) -> np.ndarray:
        """Codes of every paragraph under an encoder (N, K); cached per model object when `cache` (only for
        models that no longer change, like the shipped ones)."""
        from .docae import counts

        if not cache:
            return encode(model, squash(counts(self.collection.tokens, vocab))).numpy()
        store = self.__dict__.setdefault("_codes", {})
        key = (id(model), len(vocab))
        if key not in store:
            if len(store) > 8:
                store.clear()
            store[key] = encode(model, squash(counts(self.collection.tokens, vocab))).numpy()
        return store[key]


@lru_cache(maxsize=1)
def library() -> Library:
    """The Wikipedia paragraphs' library (cached: a few seconds to build)."""
    return Library.build(wiki_paragraphs())


def retrieval_table(lib: Library | None = None) -> list[dict]:
    """Held-out precision@10 of TF-IDF and of LSA at each size (cosine and Euclidean), no training needed."""
    lib = lib or library()
    c = lib.collection
    sims = (lib.index.matrix[c.test] @ lib.index.matrix[c.train].T).toarray()
    rows = [{"method": "TF-IDF (all words)", "size": lib.index.matrix.shape[1],
             "precision_cosine": precision_at_k(sims, c.labels[c.test], c.labels[c.train])}]
    for k, z in lib.lsa_codes.items():
        rows.append({"method": "LSA (2,000 words)", "size": k, **retrieval(z, c)})
    rows.append({"method": "LSA (all words)", "size": lib.search_k, **retrieval(lib.lsa_search_codes, c)})
    return rows


# -- pretrain: the shipped encoders --------------------------------------------------------------------------------
def pretrain(out_dir=None) -> dict:
    """Train the shipped autoencoders (2-D and 10-D codes) for their step budgets on the CPU; keep the encoders in
    float16 (about 0.5 MB each) with their vocabulary and held-out scores, beside LSA's at the same size."""
    from ..train import Trainer

    from .corpus import write_asset

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    if out_dir.resolve() == checkpoints.SHIPPED_DIR.resolve():   # the shipped paragraphs too (not a checkpoint)
        write_asset()
        library.cache_clear()
    lib = library()
    results = {}
    for name, sh in SHIPPED.items():
        t0 = time.perf_counter()
        task = make_task(sh.config, sh.seed, device="cpu")
        Trainer(task, record_every=100).run(steps=sh.steps)
        ev = task.evaluate()
        enc = build_encoder(**task.model_config)
        enc.load_state_dict(task.model.encoder.state_dict())
        enc.half()
        k = sh.config.code_size
        lsa = retrieval(lib.lsa_codes[k], lib.collection) if k in lib.lsa_codes else {}
        extra = {"vocab": task.vocab, "config": sh.config.as_dict(), "steps": sh.steps, "seed": sh.seed,
                 "seconds": round(time.perf_counter() - t0, 1), **ev, **{f"lsa_{k}": v for k, v in lsa.items()}}
        checkpoints.save(out_dir / f"{name}.pt", enc, task.model_config, BUILDER_ENCODER, extra)
        results[name] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in extra.items() if k != "vocab"}
    shipped_encoder.cache_clear()
    return results


# -- command line ----------------------------------------------------------------------------------------------------
def cli_args(command: str, parser) -> None:
    from ..topics import add_budget_args, add_config_args

    if command == "search":
        parser.add_argument("query", help="words to search for")
        parser.add_argument("--method", default="tfidf", choices=METHODS)
        parser.add_argument("--k", type=int, default=10, help="how many paragraphs (default 10)")
        parser.add_argument("--code-size", type=int, default=10, choices=(2, 10),
                            help="LSA / shipped autoencoder code size (default 10)")
        return
    add_config_args(parser, DocAEConfig)
    add_budget_args(parser, seconds=20.0)


def cli_run(command: str, args) -> dict:
    from ..topics import cli_train

    if command == "search":
        if not 1 <= args.k <= 100:
            raise InputError(f"--k {args.k} is out of range: choose 1 to 100.")
        lib = library()
        model = None
        extra = {}
        if args.method == "doc2vec":
            from ..train import Trainer
            from . import doc2vec

            model = doc2vec.make_task(doc2vec.Doc2VecConfig(), args.seed)
            Trainer(model).run(steps=model.config_.epochs)
            extra = {"doc2vec_trained_epochs": model.epoch}
        t0 = time.perf_counter()
        hits = lib.search(args.query, args.method, args.k, model=model, code_size=args.code_size)
        secs = time.perf_counter() - t0
        c = lib.collection
        for h in hits:
            h["text"] = c.texts[h["doc"]][:300]
            h["score"] = round(h["score"], 4)
        if not getattr(args, "json", False):
            for r, h in enumerate(hits, 1):
                print(f"{r:2d}. [{h['article']}] {h['score']:.3f} {', '.join(h['matched'])}\n    {h['text'][:160]}")
        return {"query": args.query, "method": args.method, "query_seconds": round(secs, 4), **extra,
                "results": hits if getattr(args, "json", False) else len(hits)}
    task, summary = cli_train(sys.modules[__name__], args, record_every=50)
    c = task.collection
    lsa = LSA.fit(library().small, task.config_.code_size) if task.config_.code_size < 2000 else None
    if lsa is not None:
        z = lsa.svd.transform(library().small.matrix_all)
        summary.update({f"lsa_{k}": v for k, v in retrieval(z, c).items()})
    return summary
