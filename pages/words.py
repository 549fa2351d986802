"""Words and word2vec: tokens, bag of words, a linear sentiment classifier, word2vec from its two matrices."""

import numpy as np
import pandas as pd
import streamlit as st

from dlplay import words as W
from dlplay.errors import InputError
from dlplay.words import figures
from dlplay.ui import (Vectors, device_badge, errors_shown, get_trainer, page_header, publish_vectors,
                       training_panel, upload_text)

page_header(
    "Words and word2vec",
    "A computer first turns text into **tokens**: lower-case it, drop punctuation and numbers, split into words. "
    "A **bag of words** counts each word and forgets the order, and a **linear classifier** on those counts gives "
    "every word one weight towards *positive* or *negative*. **word2vec** learns a vector per word instead: a "
    "one-hot word times the first matrix W is just a row of W, and the second matrix predicts the neighbouring "
    "words; the softmax over the whole vocabulary is the expensive part, which negative sampling avoids.",
    formula=r"e_i W_{\text{in}} = W_{\text{in}}[i],\qquad \mathcal{L}_{\text{neg}} = -\log\sigma(u_o^\top h)"
            r" - \sum_{j=1}^{k}\log\sigma(-u_{n_j}^\top h)",
    try_list=["Swap the words of the second sentence: the bag-of-words vector does not change.",
              "Read the classifier's most positive and negative words; type your own review below them.",
              "Ask the shipped word2vec model for the neighbours of *france*, then the analogy king - man + woman.",
              "Train word2vec for 15 seconds on the Wikipedia sample; compare your neighbours with the shipped ones.",
              "Switch the output layer to *full softmax*: the words per second drop; see the cost plot for why.",
              "Train gensim on the same settings and compare the speed and the WordSim-353 score."])
device_badge()

# -- 1. tokens and bag of words ----------------------------------------------------------------------------------------
st.header("1. Tokens and bag of words")
c1, c2 = st.columns(2)
s1 = c1.text_input("Sentence A", "The dog bit the man!", key="words:s1")
s2 = c2.text_input("Sentence B", "The man bit the dog.", key="words:s2")
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
st.markdown("Logistic regression on bags of words: p(positive) = sigma(w . x + b), one weight w_j per word. "
            "Built in: 200 movie-review sentences (Pang & Lee, in gensim's data). That is very little text, so "
            "expect only a modest margin over the majority-class baseline; TF-IDF helps a little. Upload your own "
            "labelled CSV (columns `text` and `label`, two classes) to see the same model with more data.")
cols = st.columns([1, 2])
features = cols[0].radio("Features", ["counts", "tfidf"], horizontal=True, key="words:features",
                      format_func=lambda f: "word counts (bag of words)" if f == "counts" else "TF-IDF weighted counts")
no_stop = cols[0].checkbox("Drop stop words (the, a, of, ...)", True, key="words:clf_stop",
                           help="With only 150 training sentences, frequent words like 'it' or 'as' pick up large "
                                "weights by chance; dropping them leaves the words that carry an opinion. Untick "
                                "to see the noise.")
labelled = cols[1].file_uploader("Your labelled CSV (optional)", type=["csv"], key="words:labelled")


@st.cache_resource(show_spinner="Fitting the classifier ...")
def _sentiment(features: str, no_stop: bool):
    return W.fit_sentiment(features, drop_stop_words=no_stop)


@st.cache_resource(show_spinner="Fitting the classifier on your CSV ...", max_entries=8)
def _sentiment_upload(features: str, no_stop: bool, data: bytes):
    texts, y, classes = W.read_labelled_csv(data)
    return W.fit_sentiment(features, drop_stop_words=no_stop, data=(texts, y)), classes


with errors_shown():
    if labelled is not None:
        sm, classes = _sentiment_upload(features, no_stop, labelled.getvalue())
        st.caption(f"Your CSV: {sm.n_train + sm.n_test:,} rows; '{classes[1]}' counts as positive, "
                   f"'{classes[0]}' as negative.")
    else:
        sm = _sentiment(features, no_stop)
    m = st.columns(3)
    m[0].metric(f"Held-out accuracy ({sm.n_test} sentences)", f"{sm.test_accuracy:.0%}")
    m[1].metric("Majority-class baseline (same split)", f"{sm.majority_accuracy:.0%}")
    m[2].metric("5-fold cross-validated accuracy", f"{sm.cv_accuracy:.0%} ± {sm.cv_std:.0%}")
    pos, neg = sm.top_words(12)
    st.plotly_chart(figures.word_weights(pos, neg), key="words:weights")
    review = st.text_input("Type a review", "a moving and beautifully acted film, never boring", key="words:review")
    ex = sm.explain(review)
    coloured = " ".join(f":{'green' if c > 0 else 'red'}[**{t}** ({c:+.2f})]" if c else f":gray[{t}]"
                        for t, c in ex["tokens"])
    st.markdown(coloured)
    st.markdown(f"Score w.x + b = **{ex['score']:+.2f}**, so p(positive) = **{ex['p_positive']:.0%}**. "
                "Green words push towards positive, red towards negative"
                + (f"; grey words were never seen in training ({len(ex['unknown'])})." if ex["unknown"] else "."))

# -- 3. word2vec ----------------------------------------------------------------------------------------------------------
st.header("3. word2vec, from scratch in PyTorch")


@st.cache_resource
def _shipped():
    return W.shipped_vectors(), W.shipped_info()


@st.cache_resource(show_spinner="Reading the corpus ...")
def _corpus(name: str):
    return W.corpus(name)


(ship_words, ship_vecs), ship_info = _shipped()
ss = st.session_state
models = {"shipped": ("the shipped model (skip-gram, negative sampling, Wikipedia sample, "
                      f"{len(ship_words):,} most frequent words kept)", ship_words, ship_vecs)}
trainer = get_trainer("words:w2v")
if trainer is not None and trainer.steps:
    t = trainer.task
    models["trained"] = (f"your model ({t.arch}, {t.loss}, {len(t.vocab):,} words)", t.vocab.words, t.vectors())
if "words:loaded" in ss:
    models["loaded"] = ss["words:loaded"]

which = st.radio("Model to look at", list(models), format_func=lambda k: models[k][0], key="words:which",
                 index=len(models) - 1 if "trained" in models else 0)
label, vw, vv = models[which]
q1, q2 = st.columns([1, 1.3])
with q1:
    word = st.text_input("Nearest neighbours of", "france", key="words:query")
    with errors_shown():
        st.plotly_chart(figures.neighbours(W.nearest(vw, vv, word, 10), f"Closest words to '{word.strip().lower()}' "
                                           "(cosine similarity)"), key="words:nn")
with q2:
    st.markdown("**Analogy**: a is to b as c is to ? (nearest word to b - a + c)")
    a1, a2, a3 = st.columns(3)
    a = a1.text_input("a", "man", key="words:a")
    b = a2.text_input("b", "king", key="words:b")
    c = a3.text_input("c", "woman", key="words:c")
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
st.subheader("Train your own")
with st.expander("Settings", expanded=True):
    r = st.columns(4)
    source = r[0].selectbox("Corpus", ["wiki", "lee", "your text"], key="words:corpus",
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
    text = None
    if source == "your text":
        text = upload_text("Upload a UTF-8 .txt file (up to 20 MB)", key="words:upload")
        if text is None:
            text = st.text_area("... or paste text (one paragraph a line)", key="words:paste") or None

settings = dict(arch=arch, loss=loss, dim=dim, window=window, negative=negative, sample=sample,
                min_count=min_count, epochs=epochs)


def _docs():
    if source == "your text":
        if text is None:
            raise InputError("Upload or paste some text first (or choose a built-in corpus).")
        return W.corpus_from_text(text)
    return _corpus(source)


def make_task(seed: int):
    return W.Word2VecTask(_docs(), seed=seed, **settings)


def live(tr):
    t = tr.task
    st.caption(f"Epoch {t.epoch:.2f} of {t.epochs}, vocabulary {len(t.vocab):,} words, "
               f"{t.raw_tokens:,} tokens per epoch, learning rate {t._lr():.4f}.")


with errors_shown():
    trainer = training_panel("words:w2v", make_task, config=(source, hash(text), tuple(settings.items())),
                             seconds=15.0, max_seconds=120.0, record_every=10, live=live,
                             panels={"loss per prediction": ["loss"], "words per second": ["words_per_second"]})
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
    if st.button("Train gensim's Word2Vec with the same settings (2 threads)", key="words:gensim"):
        with st.spinner("gensim is training ..."):
            ss["words:gensim_run"] = (settings, source, W.train_gensim(_docs(), **settings))
    if "words:gensim_run" in ss:
        gs, gsource, g = ss["words:gensim_run"]
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
