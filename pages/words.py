"""Words and word2vec: tokens, bag of words, a linear sentiment classifier, word2vec from its two matrices."""

import numpy as np
import pandas as pd
import streamlit as st

from dlplay import limits
from dlplay import words as W
from dlplay.words import figures
from dlplay.ui import (Vectors, device_badge, errors_shown, get_trainer, page_header, present, publish_vectors,
                       training_panel, upload_text)
from dlplay.ui import share

# Default budgets are step counts (issue 30): a busy lecture server trains the same model as an idle laptop; the
# panel shows the seconds a run took here. Rates measured on one thread of the 2-core laptop, 7 Dec.
W2V_STEPS = 800       # about 50 steps/s: 16 s

page_header(
    "Words and word2vec",
    "A computer first turns text into **tokens**: lower-case it, drop punctuation and numbers, split into words. "
    "A **bag of words** counts each word and forgets the order, and a **linear classifier** on those counts gives "
    "every word one weight per class. **word2vec** learns a vector per word instead: a one-hot word times the "
    "first matrix W is just a row of W, and the second matrix predicts the neighbouring words; the softmax over "
    "the whole vocabulary is the expensive part, which negative sampling avoids.",
    formula=r"p(c\mid x)=\operatorname{softmax}_c(w_c^\top x+b_c),\qquad e_i W_{\text{in}} = W_{\text{in}}[i],"
            r"\qquad \mathcal{L}_{\text{neg}} = -\log\sigma(u_o^\top h) - \sum_{j=1}^{k}\log\sigma(-u_{n_j}^\top h)",
    try_list=["Swap the words of the second sentence: the bag-of-words vector does not change.",
              "Read the top words of each Wikipedia topic, then type a sentence about rockets or acids and see "
              "which words decide its topic.",
              "Switch the labelled set to the 200 movie-review sentences: cross-validated accuracy falls to about "
              "the majority rate. Too little text for a bag of words to learn opinions.",
              "Ask the shipped word2vec model for the neighbours of *moon*, *water* or *greek*; then read how "
              "many of them a second seed finds too.",
              "Train word2vec on the Wikipedia sample with your own seed; compare your neighbours with the "
              "shipped ones (the overlap is shown).",
              "Switch the output layer to *full softmax*: the words per second drop; see the cost plot for why.",
              "Train gensim on the same settings and compare the speed and the WordSim-353 score."])
device_badge()
share.link("words", [share.flag("stop", "words:stop"), share.choice("set", "words:set", [*W.LABELLED_SETS, "your CSV"]),
                     share.choice("features", "words:features", ["counts", "tfidf"]),
                     share.choice("corpus", "words:corpus", ["wiki", "lee", "text"]),
                     share.choice("arch", "words:arch", list(W.ARCHS)),
                     share.choice("loss", "words:loss", list(W.LOSSES)),
                     share.choice("dim", "words:dim", [10, 25, 50, 100, 200, 300], 50),
                     share.integer("window", "words:window", 1, 10, 5), share.integer("neg", "words:neg", 1, 25, 5),
                     share.choice("sample", "words:sample", [0.0, 1e-5, 1e-4, 1e-3, 1e-2], 1e-3),
                     share.integer("min_count", "words:min", 1, 50, 5),
                     share.integer("epochs", "words:epochs", 1, 20, 3),
                     *share.panel("words:w2v", steps=W2V_STEPS, seconds=15.0)])

# presenter mode (issue 26): word2vec (section 3: Train and the neighbours of a word) is drawn here, at the top
w2v = present.ahead()

# -- 1. tokens and bag of words ----------------------------------------------------------------------------------------
st.header("1. Tokens and bag of words")
c1, c2 = st.columns(2)
s1 = c1.text_input("Sentence A", "The dog bit the man!", key="words:s1", max_chars=W.MAX_SENTENCE_CHARS)
s2 = c2.text_input("Sentence B", "The man bit the dog.", key="words:s2", max_chars=W.MAX_SENTENCE_CHARS)
drop = st.checkbox("Also remove stop words (the, a, of, ...)", key="words:stop")
with errors_shown():
    steps = W.filtering_steps(s1, drop)
    st.markdown("  \n".join(f"**{name}:** `{txt}`" for name, txt in steps))
    vocab, counts = W.bag_of_words([s1, s2], drop)
    st.plotly_chart(figures.bow_heatmap(vocab, counts, ["A", "B"]), key="words:bow")
    same = np.array_equal(counts[0], counts[1])
    st.markdown(f"Tokens of A: `{W.tokenize(s1, drop_stop_words=drop)}`  \n"
                + ("**A and B have the same bag-of-words vector**: the order of the words is lost."
                   if same else "A and B have different bag-of-words vectors (they use different words or counts)."))

# -- 2. the linear classifier -------------------------------------------------------------------------------------------
st.header("2. A linear text classifier")
st.markdown("Logistic regression on bags of words: one weight w_cj per word j and class c; a text goes to the class "
            "whose words it has most of, weighted. Accuracy is **5-fold cross-validated**: every text is scored by a "
            "model that never saw it, beside the rate of always answering the most common class.")
SETS = {**{k: v[1] for k, v in W.LABELLED_SETS.items()}, "your CSV": "your labelled CSV (columns text and label)"}
cols = st.columns([1.3, 1, 1.2])
dataset = cols[0].radio("Labelled set", list(SETS), key="words:set", format_func=lambda k: SETS[k])
features = cols[1].radio("Features", ["counts", "tfidf"], key="words:features",
                         format_func=lambda f: "word counts (bag of words)" if f == "counts" else "TF-IDF weighted")
stop_default = W.DROP_STOP_WORDS.get(dataset, False)
no_stop = cols[1].checkbox("Drop stop words (the, a, of, ...)", stop_default, key=f"words:clf_stop:{dataset}",
                           help="The default is the setting with the higher cross-validated accuracy on this set.")
labelled = None
if dataset == "your CSV":
    labelled = cols[2].file_uploader("Your labelled CSV (2-20 classes, at least 20 rows)", type=["csv"],
                                     key="words:labelled")


@st.cache_resource(show_spinner="Fitting the classifier (5-fold cross-validation) ...", max_entries=16)
def _classifier(dataset: str, features: str, no_stop: bool):
    return W.fit_classifier(dataset, features, drop_stop_words=no_stop)


@st.cache_resource(show_spinner="Fitting the classifier on your CSV ...", max_entries=8)
def _classifier_upload(features: str, no_stop: bool, data: bytes):
    return W.fit_classifier("your CSV", features, drop_stop_words=no_stop, data=W.read_labelled_csv(data))


EXAMPLE_TEXT = {"wiki topics": "The crew fired the engine and the spacecraft left orbit around the moon.",
                "sentiment": "a moving and beautifully acted film, never boring"}
sm = None
with errors_shown():
    if dataset == "your CSV":
        if labelled is None:
            st.info("Upload a CSV with a `text` column and a `label` column to fit the classifier on it.",
                    icon=":material/upload_file:")
        else:
            sm = _classifier_upload(features, no_stop, labelled.getvalue())
    else:
        sm = _classifier(dataset, features, no_stop)
if sm is not None:
    m = st.columns(3)
    m[0].metric("5-fold cross-validated accuracy", f"{sm.cv_accuracy:.0%} ± {sm.cv_std:.0%}",
                help="Mean and spread over the 5 folds; each fold is scored by a model fitted on the other four.")
    m[1].metric("Majority-class rate (always the most common class)", f"{sm.majority_accuracy:.0%}")
    m[2].metric("Labelled texts / classes", f"{sm.n:,} / {sm.n_classes}")
    if dataset == "sentiment":
        st.warning(f"Only 200 short sentences: cross-validated accuracy {sm.cv_accuracy:.0%} ± {sm.cv_std:.0%} "
                   f"against {sm.majority_accuracy:.0%} for always answering one class. With this little text most "
                   "words are seen once or twice, so their weights are mostly chance: a bag of words needs "
                   "thousands of reviews to learn opinions.", icon=":material/warning:")
    top = sm.top_words(10 if sm.n_classes > 2 else 12)
    st.plotly_chart(figures.class_words(top), key="words:weights")
    review = st.text_input("Type a text to classify", EXAMPLE_TEXT.get(dataset, ""), key=f"words:review:{dataset}",
                           max_chars=W.MAX_EXPLAIN_CHARS)
    with errors_shown():
        ex = sm.explain(review)
        coloured = " ".join(f":{'green' if c > 0 else 'red'}[**{t}** ({c:+.2f})]" if c else f":gray[{t}]"
                            for t, c in ex["tokens"])
        st.markdown(coloured)
        probs = ", ".join(f"{k} {v:.0%}" for k, v in sorted(ex["p"].items(), key=lambda kv: -kv[1]))
        st.markdown(f"Predicted class: **{ex['predicted']}** (probabilities: {probs}). Each word shows its push "
                    f"towards *{ex['predicted']}*: green for, red against"
                    + (f"; grey words were never seen in the labelled set ({len(ex['unknown'])})."
                       if ex["unknown"] else "."))

# -- 3. word2vec ----------------------------------------------------------------------------------------------------------
w2v.header("3. word2vec, from scratch in PyTorch")


@st.cache_resource
def _shipped():
    return W.shipped_vectors(), W.shipped_info()


(ship_words, ship_vecs), ship_info = _shipped()
with w2v, present.secondary("What the shipped model can do", icon=":material/info:"):
    st.markdown(
        f"The Wikipedia sample has **{ship_info['tokens']:,} tokens** from about a hundred articles; word2vec is usually "
        "trained on billions. That is enough for the neighbours of frequent words in the sample's subjects (chemistry, "
        "spaceflight, countries, languages) to be related words, not for analogies: the shipped model answers "
        f"{ship_info['analogy_accuracy']:.1%} of the Google analogy questions whose words it knows, and "
        "king - man + woman does not give queen. Its ten nearest neighbours all score close to 1 in cosine "
        "similarity, while two of the 1,000 most frequent words picked at random average "
        f"{ship_info.get('mean_cosine_top1000', float('nan')):.2f} (the vectors share a common direction), so read the "
        "order of the neighbours, not the values. And much of the order is the seed's: see the overlap below.")
ss = st.session_state
with w2v:   # presenter mode: the model, the settings and Train on the left, the neighbours of a word on the right
    ctl, stage = present.stage()
models = {"shipped": ("the shipped model (skip-gram, negative sampling, Wikipedia sample, seed 0, "
                      f"{len(ship_words):,} most frequent words kept)", ship_words, ship_vecs)}
trainer = get_trainer("words:w2v")
if trainer is not None and trainer.steps:
    t = trainer.task
    models["trained"] = (f"your model ({t.arch}, {t.loss}, {len(t.vocab):,} words)", t.vocab.words, t.vectors())
if "words:loaded" in ss:
    models["loaded"] = ss["words:loaded"]

which = ctl.radio("Model to look at", list(models), format_func=lambda k: models[k][0], key="words:which",
                  index=len(models) - 1 if "trained" in models else 0)
label, vw, vv = models[which]
q1, q2 = (stage, w2v.container()) if present.presenting() else st.columns([1, 1.3])
with q1:
    word = st.text_input("Nearest neighbours of", "moon", key="words:query", max_chars=W.MAX_WORD_CHARS)
    with errors_shown():
        nn = W.nearest(vw, vv, word, 10)
        q = word.strip().lower()
        st.plotly_chart(figures.neighbours(nn, f"Closest words to '{q}' (cosine similarity)"), key="words:nn")
        seeds = ship_info.get("seed_overlap_words", {}).get(q)
        if which == "shipped" and seeds:
            st.markdown(f"**Seed to seed:** the same settings trained again with seeds "
                        f"{' and '.join(map(str, ship_info['seed_overlap_seeds']))} find "
                        f"{' and '.join(f'{v:.0%}' for v in seeds)} of these 10 neighbours. Over the "
                        f"{len(ship_info['seed_overlap_words'])} frequent words measured, two seeds share "
                        f"{np.mean(ship_info['seed_overlap_mean']):.0%} of the 10 nearest on average: on this small "
                        "corpus, much of a word's neighbourhood is the seed's doing.")
        elif which != "shipped":
            ov = W.neighbour_overlap(vw, vv, ship_words, ship_vecs, [q], 10)[q]
            if ov is not None:
                st.markdown(f"**Against the shipped model:** {ov:.0%} of these 10 neighbours are among the shipped "
                            f"model's 10 for '{q}'"
                            + (f" (two seeds of the shipped settings share {np.mean(ship_info['seed_overlap_mean']):.0%}"
                               " on average)." if ship_info.get("seed_overlap_mean") else "."))
with q2:
    st.markdown("**Analogy**: a is to b as c is to ? (nearest word to b - a + c). On this corpus most fail; "
                "read the next best too.")
    a1, a2, a3 = st.columns(3)
    a = a1.text_input("a", "man", key="words:a", max_chars=W.MAX_WORD_CHARS)
    b = a2.text_input("b", "king", key="words:b", max_chars=W.MAX_WORD_CHARS)
    c = a3.text_input("c", "woman", key="words:c", max_chars=W.MAX_WORD_CHARS)
    with errors_shown():
        ans = W.analogy(vw, vv, a, b, c, 5)
        st.markdown(f"{a} : {b} :: {c} : **{ans[0][0]}**  \nnext best: "
                    + ", ".join(f"{w} ({s:.2f})" for w, s in ans[1:]))
    st.markdown("**One-hot times W is a row of W** (on this model's real matrix)")
    with errors_shown():
        i = W.Vocab(vw, np.zeros(len(vw)), {w: k for k, w in enumerate(vw)}).get(word)
        import torch
        prod, row, diff = W.one_hot_identity(torch.from_numpy(vv), i)
        st.markdown(f"e_{{{i}}} ('{vw[i]}') is a 1 x {len(vw):,} row of zeros with one 1; "
                    f"(e @ W)[:5] = `{np.round(prod[:5].numpy(), 4)}`, W[{i}][:5] = `{np.round(row[:5].numpy(), 4)}`; "
                    f"largest difference over all {vv.shape[1]} numbers: **{diff:g}**.")

# training
with ctl:
    st.subheader("Train your own")
    with st.expander("Settings", expanded=not present.presenting()):
        r = st.columns(4)
        source = r[0].selectbox("Corpus", ["wiki", "lee", "text"], key="words:corpus",
                                format_func=lambda k: W.CORPORA.get(k, "your text (upload or paste below)")[:60])
        arch = r[1].selectbox("Architecture", W.ARCHS, key="words:arch")
        loss = r[2].selectbox("Output layer", W.LOSSES, key="words:loss",
                              format_func=lambda k: {"negative": "negative sampling", "hierarchical": "hierarchical softmax",
                                                     "softmax": "full softmax"}[k])
        dim = r[3].select_slider("Dimension d", [10, 25, 50, 100, 200, 300], 50, key="words:dim")
        r = st.columns(5)
        window = r[0].slider("Window", 1, 10, 5, key="words:window")
        negative = r[1].slider("Negatives k", 1, 25, 5, key="words:neg", disabled=loss != "negative")
        sample = r[2].select_slider("Subsampling threshold", [0.0, 1e-5, 1e-4, 1e-3, 1e-2], 1e-3, key="words:sample")
        min_count = r[3].slider("Min count", 1, 50, 5, key="words:min")
        epochs = r[4].slider("Epochs (learning-rate schedule)", 1, 20, 3, key="words:epochs")
        text = ""
        if source == "text":
            text = upload_text("Upload a UTF-8 .txt file (up to 20 MB)", key="words:upload") or ""
            if not text:
                text = st.text_area("... or paste text (one paragraph a line)", key="words:paste",
                                    max_chars=W.MAX_PASTE_CHARS) or ""

cfg = W.Word2VecConfig(corpus=source, text=text, arch=arch, loss=loss, dim=dim, window=window, negative=negative,
                       sample=sample, min_count=min_count, epochs=epochs)


def live(tr):
    t = tr.task
    st.caption(f"Epoch {t.epoch:.2f} of {t.epochs}, vocabulary {len(t.vocab):,} words, "
               f"{t.raw_tokens:,} tokens per epoch, learning rate {t.learning_rate():.4f}.")


with ctl:
    trainer = training_panel("words:w2v", W.make_task, config=cfg, steps=W2V_STEPS, seconds=15.0, max_seconds=120.0, record_every=10,
                             live=live, panels={"loss per prediction": ["loss"], "words per second": ["words_per_second"]})
    share.code_behind("words:w2v", W.make_task, cfg, command='train word2vec', steps=W2V_STEPS, seconds=15.0, title='Words and word2vec')
    if trainer is not None and trainer.steps:
        t = trainer.task
        publish_vectors(Vectors(name=f"Words: your word2vec ({t.arch}, {t.loss}, {source})",
                                vectors=t.vectors()[:3000], hover=t.vocab.words[:3000],
                                labels=np.minimum(np.log10(t.vocab.counts[:3000]).astype(int), 4),
                                description="The 3,000 most frequent words; colour = log10 of the word's count."))
        st.download_button("Download your vectors (word2vec text format)", W.to_word2vec_text(t.vocab.words, t.vectors()),
                           file_name="vectors.txt", key="words:download", on_click="ignore")
        st.caption("Your vectors are also listed as a source on the Embedding Explorer page.")
    else:
        publish_vectors(Vectors(name="Words: shipped word2vec (Wikipedia sample)", vectors=ship_vecs[:3000],
                                hover=ship_words[:3000], description="The 3,000 most frequent words of the shipped model."))
    with st.expander("Load vectors in word2vec text format"):
        up = upload_text("Vector file (.txt)", key="words:vecfile", types=("txt", "vec"))
        if up is not None:
            with errors_shown():
                lw, lv = W.read_word2vec_text(up.encode("utf-8"))
                ss["words:loaded"] = (f"your loaded file ({len(lw):,} words, d = {lv.shape[1]})", lw, lv)
                st.success(f"Loaded {len(lw):,} vectors of dimension {lv.shape[1]}: choose it under 'Model to look at'.")

# -- 4. the softmax cost ----------------------------------------------------------------------------------------------------
st.header("4. Why the full softmax is expensive")
st.markdown("The full softmax scores all V words for every prediction; negative sampling scores 1 + k; "
            "hierarchical softmax about log2(V) inner nodes of a Huffman tree.")
cost = ss.get("words:cost_run")
if st.button("Measure on this machine (a few seconds)", key="words:measure"):
    with errors_shown(), st.spinner("Timing the three output layers ..."):
        cost = ss["words:cost_run"] = W.softmax_cost()
st.plotly_chart(figures.softmax_cost(cost or ship_info.get("softmax_cost", [])), key="words:cost")
st.caption("Measured on this machine just now." if cost else
           "Measured when the shipped model was made; press the button to measure here.")

# -- 5. evaluation and gensim ------------------------------------------------------------------------------------------------
st.header("5. Evaluation and gensim")


@st.cache_data(show_spinner="Evaluating ...", max_entries=8)
def _evaluate(key: str, words: list, vectors: np.ndarray):
    return W.evaluate_vectors(words, vectors)


def _row(name, words, vectors, extra=None):
    ev = _evaluate(name, list(words), vectors)
    return {"model": name, "vocabulary": len(words),
            "WordSim-353 Spearman": round(ev["wordsim353_spearman"], 3),
            "pairs used / out of vocab": f"{ev['wordsim353_pairs']} / {ev['wordsim353_oov']}",
            "analogy accuracy": round(ev["analogy_accuracy"], 3),
            "questions used / out of vocab": f"{ev['analogy_questions']} / {ev['analogy_oov']}", **(extra or {})}


with errors_shown():
    rows = [_row(models[which][0], vw, vv)]
    st.markdown("**gensim's Word2Vec with the same settings** (one epoch a step, in a training slot like every run; "
                f"refused above {limits.MAX_TOKEN_EPOCHS:,.0f} tokens x epochs or the equivalent work at heavier "
                "settings).")
    gtr = training_panel("words:gensim", W.make_gensim_task, config=cfg, seconds=float(limits.MAX_RUN_SECONDS),
                         max_seconds=float(limits.MAX_RUN_SECONDS), label="Train gensim", show_budget=False,
                         status=lambda t: f"gensim: epoch {t.task.epoch} of {t.task.epochs}, "
                                          f"{t.task.tokens:,} tokens an epoch ({t.task.train_seconds:.1f} s)")
    g = gtr.task.result() if gtr is not None and gtr.task.model is not None else None
    if g is not None:
        gs = {"arch": cfg.arch, "loss": cfg.loss}
        gsource = source
        rows.append(_row(f"gensim ({gs['arch']}, {gs['loss']}, {gsource})", g["words"], g["vectors"],
                         {"words per second": round(g["words_per_second"])}))
        if trainer is not None and trainer.steps:
            rows[0]["words per second"] = round(trainer.task.raw_tokens * trainer.task.epoch / trainer.seconds)
        with errors_shown():
            st.plotly_chart(figures.neighbours(W.nearest(g["words"], g["vectors"], word, 10),
                                               f"gensim's closest words to '{word.strip().lower()}'"),
                            key="words:gnn")
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption("WordSim-353: Spearman correlation of cosine similarity with human ratings of word pairs (1 = same "
               "order). Analogy accuracy: share of Google's a:b::c:d questions answered exactly. Only pairs and "
               "questions whose words are all in the vocabulary count; the out-of-vocabulary numbers say how many not.")
