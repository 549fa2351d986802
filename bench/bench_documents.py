"""Documents rows: held-out precision@10 (same article) of the deep document autoencoder beside LSA at the same
code size over several seeds, TF-IDF, Doc2Vec and averaged word2vec on the same task; GloVe beside the project's
word2vec on the same corpus; query latency on a warm library."""

from __future__ import annotations

from bench import bench_device

import time

import numpy as np


def _spread(vals) -> str:
    return f"{np.mean(vals):.3f} ({min(vals):.3f}-{max(vals):.3f})"


def _ae_rows(quick: bool) -> list[dict]:
    from dlplay import documents as D
    from dlplay.train import Trainer

    lib = D.library()
    seeds = (0,) if quick else (0, 1, 2)
    steps = 400 if quick else D.SHIPPED["doc_ae_wiki_k2"].steps
    out = []
    for k in (2, 10):
        lsa = D.retrieval(lib.lsa_codes[k], lib.collection)
        evs = []
        for seed in seeds:
            task = D.make_task(D.DocAEConfig(code_size=k), seed=seed)
            Trainer(task, record_every=100).run(steps=steps)
            evs.append(task.evaluate())
        for dist in ("euclid", "cosine"):
            vals = [e[f"precision_{dist}"] for e in evs]
            out.append({"what": f"precision@10, {k}-number code, {dist} distance: deep AE ({steps} steps) vs LSA",
                        "dlplay": float(np.mean(vals)), "baseline": lsa[f"precision_{dist}"],
                        "baseline_name": "LSA (TruncatedSVD, same 2,000 words)", "unit": "share",
                        "note": f"seeds {', '.join(map(str, seeds))}: {_spread(vals)}"})
    return out


def _docvec_rows(quick: bool) -> list[dict]:
    from dlplay import documents as D
    from dlplay.documents import doc2vec
    from dlplay.train import Trainer

    lib = D.library()
    table = {r["method"] + str(r["size"]): r for r in D.retrieval_table(lib)}
    tfidf = next(r for r in table.values() if r["method"].startswith("TF-IDF"))["precision_cosine"]
    lsa100 = next(r for r in table.values() if r["method"] == "LSA (all words)")["precision_cosine"]
    out = [{"what": f"precision@10, LSA {lib.search_k} numbers over all words", "dlplay": lsa100, "baseline": tfidf,
            "baseline_name": "TF-IDF cosine", "unit": "share", "note": ""},
           {"what": "precision@10, mean of the shipped word2vec vectors", "dlplay":
            doc2vec.mean_word2vec_precision(lib.collection), "baseline": tfidf, "baseline_name": "TF-IDF cosine",
            "unit": "share", "note": ""}]
    for mode, seeds in (("dbow", (0,) if quick else (0, 1, 2)), ("dm", (0,))):
        cfg = doc2vec.Doc2VecConfig(mode=mode, epochs=10 if quick else 40)
        vals, secs = [], []
        for seed in seeds:
            task = doc2vec.make_task(cfg, seed)
            tr = Trainer(task).run(steps=cfg.epochs)
            vals.append(task.evaluate()["precision_at_10"])
            secs.append(tr.seconds)
        out.append({"what": f"precision@10, Doc2Vec PV-{mode.upper()} d={cfg.dim}, {cfg.epochs} epochs",
                    "dlplay": float(np.mean(vals)), "baseline": tfidf, "baseline_name": "TF-IDF cosine",
                    "unit": "share", "note": f"seeds {', '.join(map(str, seeds))}: {_spread(vals)}; "
                                             f"{np.mean(secs):.0f} s to train"})
    return out


def _glove_rows(quick: bool) -> list[dict]:
    from dlplay.documents import glove
    from dlplay.train import Trainer
    from dlplay.words import PRETRAIN_SETTINGS, Word2VecTask, corpus

    name = "lee" if quick else "wiki"
    epochs = 3 if quick else 10
    task = glove.make_task(glove.GloveConfig(corpus=name), seed=0)
    tr = Trainer(task, record_every=50).run(steps=epochs * task.steps_per_epoch)   # a step budget: this CPU's
    g = glove.scores(task.vocab.words, task.vectors())                              # speed drifts with its load
    settings = {**PRETRAIN_SETTINGS, "epochs": 1 if quick else 5}
    w2v = Word2VecTask(corpus(name), seed=0, device=bench_device(), **settings)
    t = Trainer(w2v, record_every=200).run(steps=w2v.total_steps)
    w = glove.scores(w2v.vocab.words, w2v.vectors())
    note = f"GloVe {tr.seconds:.0f} s; word2vec {t.seconds:.0f} s in the same run"
    return [{"what": f"{name}: WordSim-353 Spearman, GloVe {epochs} epochs vs word2vec (skip-gram, "
                     f"{settings['epochs']} epochs)", "dlplay": g["wordsim353_spearman"],
             "baseline": w["wordsim353_spearman"], "baseline_name": "dlplay word2vec", "unit": "rho", "note": note},
            {"what": f"{name}: SimLex-999 Spearman, same runs", "dlplay": g["simlex999_spearman"],
             "baseline": w["simlex999_spearman"], "baseline_name": "dlplay word2vec", "unit": "rho", "note": ""},
            {"what": f"{name}: GloVe seconds per epoch vs word2vec seconds per epoch, same run",
             "dlplay": tr.seconds / epochs, "baseline": t.seconds / settings["epochs"],
             "baseline_name": "dlplay word2vec", "unit": "s", "note": f"{len(task.x):,} non-zero X_ij"}]


def _latency_rows() -> list[dict]:
    from dlplay import documents as D

    lib = D.library()
    out = []
    for method in ("tfidf", "lsa", "ae"):
        lib.search("a wolf pig and horse on a farm", method)     # warm
        times = []
        for q in ("a wolf pig and horse on a farm", "frogs and toads lay eggs in ponds",
                  "the army fought a long war", "president shot at the theatre"):
            t0 = time.perf_counter()
            lib.search(q, method, 10)
            times.append(time.perf_counter() - t0)
        out.append({"what": f"one query on a warm library ({method})", "dlplay": float(np.median(times)),
                    "baseline": 0.3, "baseline_name": "goal", "unit": "s",
                    "note": f"{len(lib.collection):,} paragraphs"})
    return out


def rows(quick: bool) -> list[dict]:
    return [*_latency_rows(), *_ae_rows(quick), *_docvec_rows(quick), *_glove_rows(quick)]
