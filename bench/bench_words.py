"""Words rows: dlplay's PyTorch word2vec beside gensim's Word2Vec (same corpus and settings, same process), the
softmax-cost lesson, and the bag-of-words classifiers (Wikipedia topics, sentiment sentences) beside the
majority-class rate, by 5-fold cross-validation."""

from __future__ import annotations

from bench import bench_device

import itertools
import time

import torch


def _word2vec_rows(quick: bool) -> list[dict]:
    from dlplay import words as W
    from dlplay.train import Trainer

    name = "lee" if quick else "wiki"
    docs = W.corpus(name)
    settings = dict(arch="skipgram", loss="negative", dim=100, window=5, negative=5, min_count=5, sample=1e-3,
                    epochs=1 if quick else 5)
    g = W.train_gensim(docs, workers=2, **settings)
    task = W.Word2VecTask(docs, seed=0, device=bench_device(), **settings)
    t0 = time.perf_counter()
    Trainer(task, record_every=50).run(steps=task.total_steps)
    secs = time.perf_counter() - t0
    wps = task.raw_tokens * task.epochs / secs
    ours = W.evaluate_vectors(task.vocab.words, task.vectors())
    theirs = W.evaluate_vectors(g["words"], g["vectors"])
    what = f"{name}, skip-gram + negative sampling, d=100, window 5, k=5, {settings['epochs']} epochs"
    note = f"{task.raw_tokens:,} tokens, vocab {len(task.vocab):,}; dlplay {torch.get_num_threads()} torch threads"
    return [
        {"what": f"{what}: words per second", "dlplay": wps, "baseline": g["words_per_second"],
         "baseline_name": "gensim Word2Vec, 2 workers", "unit": "words/s", "note": note},
        {"what": f"{what}: WordSim-353 Spearman", "dlplay": ours["wordsim353_spearman"],
         "baseline": theirs["wordsim353_spearman"], "baseline_name": "gensim Word2Vec", "unit": "rho",
         "note": f"{ours['wordsim353_pairs']} of 353 pairs in vocabulary"},
        {"what": f"{what}: analogy accuracy", "dlplay": ours["analogy_accuracy"],
         "baseline": theirs["analogy_accuracy"], "baseline_name": "gensim Word2Vec", "unit": "share",
         "note": f"{ours['analogy_questions']} questions in vocabulary"},
    ]


def _softmax_rows(quick: bool) -> list[dict]:
    from dlplay import words as W

    sizes = (1_000, 10_000) if quick else (1_000, 4_000, 16_000, 64_000)
    rows = W.softmax_cost(sizes, repeats=2 if quick else 5)
    out = []
    for V in sizes:
        t = {r["loss"]: r["ms_per_step"] for r in rows if r["vocab"] == V}
        out.append({"what": f"ms per step, V={V:,}, batch 256: negative sampling vs full softmax",
                    "dlplay": t["negative"], "baseline": t["softmax"], "baseline_name": "full softmax", "unit": "ms",
                    "note": f"hierarchical softmax {t['hierarchical']:.2f} ms"})
    return out


def _classifier_rows() -> list[dict]:
    """Both labelled sets, both feature kinds, stop words kept and dropped: 5-fold cross-validated accuracy beside
    the majority-class rate (the page's numbers; the page default per set is the better stop-word setting)."""
    from dlplay import words as W

    out = []
    for dataset in W.LABELLED_SETS:
        for (features, name), no_stop in itertools.product((("counts", "bag of words"), ("tfidf", "TF-IDF")),
                                                           (True, False)):
            sm = W.fit_classifier(dataset, features, drop_stop_words=no_stop)
            stop = "stop words dropped" if no_stop else "stop words kept"
            default = " (page default)" if features == "counts" and no_stop == W.DROP_STOP_WORDS[dataset] else ""
            out.append({"what": f"{dataset}: 5-fold CV accuracy of {name} + logistic regression, {stop}{default}",
                        "dlplay": sm.cv_accuracy, "baseline": sm.majority_accuracy, "baseline_name": "majority class",
                        "unit": "accuracy", "note": f"± {sm.cv_std:.3f} over folds; {sm.n} texts, {sm.n_classes} "
                                                    "classes" + ("; goal >= 0.85" if dataset == "wiki topics" else
                                                                 "; 200 sentences: near chance, shown with a caveat")})
    return out


def rows(quick: bool) -> list[dict]:
    return [*_word2vec_rows(quick), *_softmax_rows(quick), *_classifier_rows()]
