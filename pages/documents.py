"""Documents: search by words (TF-IDF), by LSA and by a deep document autoencoder; Doc2Vec; GloVe."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from dlplay import documents as D
from dlplay import topics
from dlplay import words as W
from dlplay.documents import doc2vec, figures, glove
from dlplay.words import figures as word_figures
from dlplay.errors import InputError
from dlplay.ui import (device_badge, draw_key, errors_shown, get_trainer, page_header, present, training_panel,
                       upload_text)
from dlplay.ui import share

# Default budgets are step counts (issue 30): a busy lecture server trains the same model as an idle laptop; the
# panel shows the seconds a run took here. Rates measured on one thread of the 2-core laptop, 7 Dec.
DOC_AE_STEPS = 3000   # about 220 steps/s: 14 s
D2V_EPOCHS = doc2vec.Doc2VecConfig.epochs   # one step is one epoch; the run ends there (about 5 s)
GLOVE_STEPS = 2000    # about 75 steps/s: 27 s

page_header(
    "Documents: search, LSA and a deep autoencoder",
    "A search engine can rank paragraphs by the words they share with a query: **TF-IDF** weighs each word by how "
    "rare it is and compares the two vectors by their angle. It knows nothing about meaning, so a synonym finds "
    "nothing. **LSA** squeezes the word vectors into K numbers with a truncated SVD, a **deep autoencoder** does "
    "it with a non-linear network (Hinton & Salakhutdinov's document network), and **Doc2Vec** learns a vector "
    "per paragraph the way word2vec learns one per word. **GloVe** learns word vectors from the whole corpus's "
    "co-occurrence counts at once.",
    formula=r"\cos(q, d) = \frac{q^\top d}{\lVert q\rVert\,\lVert d\rVert},\qquad x_{dj} = (1 + \log \mathrm{tf}_{dj})"
            r"\,\log\frac{1+N}{1+\mathrm{df}_j},\qquad J_{\text{GloVe}} = \sum_{ij} f(X_{ij})\,(w_i^\top\tilde w_j"
            r" + b_i + \tilde b_j - \log X_{ij})^2",
    try_list=[
        "Search *frogs and toads lay eggs in ponds*: TF-IDF finds the paragraphs that contain those words; the bold "
        "words say why each one matched.",
        "Pick *a wolf pig and horse on a farm* or *boy with learning difficulties*: TF-IDF ranks paragraphs that "
        "share one word by accident; switch to LSA, which matches by topic learned from words that occur together.",
        "Compare the two 2-D maps: LSA's two numbers pile the articles on top of each other, the autoencoder's "
        "separate them; the precision@10 numbers say by how much.",
        "Train your own 2-D autoencoder (3,000 steps, about 15 s) and watch the map form; then try a 10-number code.",
        "Train Doc2Vec (PV-DBOW, then PV-DM) and compare it with TF-IDF and averaged word2vec in the table.",
        "GloVe: type a few words to see their co-occurrence counts; compare GloVe's neighbours and WordSim-353 / "
        "SimLex-999 scores with word2vec's on the same corpus.",
    ])
device_badge()


@st.cache_resource(show_spinner="Reading the Wikipedia sample into paragraphs (first visit only) ...")
def _library():
    return D.library()


@st.cache_resource(show_spinner="Indexing your paragraphs ...", max_entries=4)
def _user_library(text: str):
    return D.Library.build(D.from_text(text))


@st.cache_resource
def _retrieval_table():
    return D.retrieval_table(_library())


@st.cache_resource
def _mean_w2v():
    return doc2vec.mean_word2vec_precision(_library().collection)


lib = _library()
coll = lib.collection

# presenter mode (issue 26): section 2 (Train and the two 2-D maps) is drawn here, at the top
sec2 = present.ahead()

# -- 1. vector-space search -------------------------------------------------------------------------------------------
st.header("1. Search by words: TF-IDF and cosine similarity")
st.markdown(f"The collection: **{len(coll):,} paragraphs from {len(coll.names)} Wikipedia articles** (gensim's "
            "offline sample). Every paragraph is a TF-IDF vector; a query is ranked against all of them by the "
            "cosine of the angle between the vectors.")
EXAMPLES = {"frogs and toads lay eggs in ponds": "the article uses these very words",
            "a wolf pig and horse on a farm": "each word occurs, but mostly elsewhere",
            "boy with learning difficulties": "the articles say children, disability, impairment",
            "president shot at the theatre": "TF-IDF follows 'theatre' to the Oscars"}
share.link("documents", [share.integer("results", "docs:k", 1, 30, 5),
                         share.choice("method", "docs:method", ["tfidf", "lsa", "ae"]),
                         share.choice("code_size", "docs:ae_k", [2, 10]), *share.panel("docs:ae", steps=DOC_AE_STEPS, seconds=15.0),
                         share.choice("d2v_mode", "docs:d2v_mode", ["dbow", "dm"]),
                         *share.panel("docs:d2v", steps=D2V_EPOCHS, seconds=30.0, prefix="d2v_"),
                         share.choice("glove_dim", "docs:g_dim", [25, 50, 100, 200], 100),
                         share.integer("glove_window", "docs:g_window", 2, 15, 10),
                         share.choice("glove_xmax", "docs:g_xmax", [10.0, 30.0, 100.0, 300.0], 100.0),
                         *share.panel("docs:glove", steps=GLOVE_STEPS, seconds=30.0, prefix="glove_")])
c = st.columns([3, 2, 1])
example = c[1].selectbox("Examples", list(EXAMPLES), format_func=lambda q: f"{q} ({EXAMPLES[q]})",
                         key="docs:example")
query = c[0].text_input("Query", example, key=f"docs:query:{example}")
k_hits = c[2].number_input("Results", 1, 30, 5, key="docs:k")
methods = {"tfidf": "TF-IDF (shared words)", "lsa": f"LSA, {lib.search_k} numbers",
           "ae": "deep autoencoder, 10 numbers"}
d2v_trainer = get_trainer("docs:d2v")
if d2v_trainer is not None and d2v_trainer.steps:
    methods["doc2vec"] = "your Doc2Vec"
method = st.radio("Rank by", list(methods), format_func=methods.get, horizontal=True, key="docs:method")
own = upload_text("Or search your own paragraphs (.txt, UTF-8; blank lines between paragraphs; a line "
                  "'# Title' starts an article)", key="docs:upload")
with errors_shown():
    search_lib = _user_library(own) if own else lib
    if own and method not in ("tfidf", "lsa"):
        st.info("Your paragraphs are searched with TF-IDF or LSA (the autoencoder and Doc2Vec were trained on the "
                "Wikipedia sample).", icon=":material/info:")
        method = "tfidf"
    t0 = time.perf_counter()
    hits = search_lib.search(query, method, int(k_hits),
                             model=d2v_trainer.task if method == "doc2vec" else None, code_size=10)
    ms = 1000 * (time.perf_counter() - t0)
    st.caption(f"{methods[method]}: the {len(hits)} best of {len(search_lib.collection):,} paragraphs, answered in "
               f"{ms:.0f} ms. Score = cosine similarity to the query (1 = same direction); bold = query words "
               "the paragraph contains."
               + (" The autoencoder learned its codes from whole paragraphs; a few-word query is far from what it "
                  "saw, so it searches worse than LSA here (its strength is the map and paragraph-to-paragraph "
                  "search below)." if method == "ae" else ""))
    for r, h in enumerate(hits, 1):
        st.markdown(f"**{r}. {h['article']}** · score {h['score']:.3f} · shared words: "
                    f"{', '.join(h['matched']) or '*none*'}  \n"
                    + D.search.highlight(search_lib.collection.texts[h["doc"]], h["matched"]))

# -- 2. LSA versus the deep autoencoder ------------------------------------------------------------------------------
with sec2:
    st.header("2. LSA versus a deep document autoencoder")
    with present.secondary("How the two are trained and scored", icon=":material/info:"):
        st.markdown("Both squeeze a paragraph's 2,000 word counts into K numbers: LSA with a linear map (the truncated "
                    "SVD), the autoencoder with a 2000-128-64-K network trained to predict the paragraph's words back "
                    "from the code. They are scored the same way: each held-out paragraph searches the training "
                    "paragraphs by its code, and **precision@10** is the share of the 10 nearest that come from the "
                    "query's own article (guessing gives about 2%).")
        st.latex(r"x_d = \frac{\log(1 + c_d)}{\max_j \log(1 + c_{dj})},\qquad "
                 r"\mathcal{L} = -\sum_j p_{dj}\,\log \operatorname{softmax}(g(f(x_d)))_j,\quad "
                 r"p_{dj} = c_{dj} / \textstyle\sum_k c_{dk}")
    ctl, stage = present.stage((4, 8))   # presenter mode: the settings and Train on the left, the two maps on the right
    code_size = ctl.radio("Code size K for your model", [2, 10], horizontal=True, key="docs:ae_k")
    cfg = D.DocAEConfig(code_size=int(code_size))
    article_idx = ctl.multiselect("Articles in colour (the rest grey)", range(len(coll.names)),
                                  default=list(range(0, len(coll.names), 8))[:8], format_func=lambda i: coll.names[i],
                                  key="docs:show")


    def _map_of(codes, title):
        return figures.doc_map(codes, coll.labels, coll.names, coll.texts, title, show=list(article_idx) or None,
                               height=present.height(520, 430))


    def live(trainer):
        task = trainer.task
        if task.model_config["code_size"] == 2:
            st.plotly_chart(_map_of(task.codes(), "Live: your autoencoder's 2-D codes"), key=draw_key("docs:live"))


    with ctl:
        trainer = training_panel("docs:ae", D.make_task, config=cfg, steps=DOC_AE_STEPS, seconds=15.0, max_seconds=120.0,
                                 panels={"reconstruction loss (nats per word)": ["loss"]}, live=live, record_every=20)
        share.code_behind("docs:ae", D.make_task, cfg,
                          command='train doc-ae', steps=DOC_AE_STEPS, seconds=15.0, title='Documents: search, LSA and a deep autoencoder')
    with errors_shown():
        enc2, vocab2, info2 = D.shipped_encoder(2)
        enc10, vocab10, info10 = D.shipped_encoder(10)
        ae2 = lib.codes(enc2, vocab2)
        m = stage.columns(2)
        m[0].plotly_chart(_map_of(lib.lsa_codes[2], "LSA: 2 numbers per paragraph"), key="docs:map_lsa")
        mine = trainer is not None and trainer.steps > 0 and trainer.task.model_config["code_size"] == 2
        m[1].plotly_chart(_map_of(trainer.task.codes() if mine else ae2,
                                  f"Deep autoencoder ({'yours' if mine else 'shipped'}): 2 numbers per paragraph"),
                          key="docs:map_ae")
        rows = []
        for k, info in ((2, info2), (10, info10)):
            lsa = D.retrieval(lib.lsa_codes[k], coll)
            rows.append({"code size K": k, "method": "LSA", "precision@10 (cosine)": lsa["precision_cosine"],
                         "precision@10 (Euclidean)": lsa["precision_euclid"]})
            rows.append({"code size K": k, "method": f"deep autoencoder (shipped, {info['steps']:,} steps)",
                         "precision@10 (cosine)": info["precision_cosine"],
                         "precision@10 (Euclidean)": info["precision_euclid"]})
        if trainer is not None and trainer.steps > 0 and trainer.last_eval:
            ev = trainer.last_eval
            rows.append({"code size K": cfg.code_size, "method": f"deep autoencoder (yours, {trainer.steps:,} steps)",
                         "precision@10 (cosine)": ev["precision_cosine"],
                         "precision@10 (Euclidean)": ev["precision_euclid"]})
        if trainer is not None and trainer.steps > 0:
            st.download_button("Download your autoencoder (checkpoint)", topics.checkpoint_bytes(
                D, trainer.task, {"vocab": trainer.task.vocab, **trainer.last_eval}),
                file_name=f"doc_ae_k{trainer.task.model_config['code_size']}.pt", key="docs:ae_dl", on_click="ignore")
        tfidf = _retrieval_table()[0]
        rows.append({"code size K": tfidf["size"], "method": "TF-IDF, all words (no squeezing)",
                     "precision@10 (cosine)": tfidf["precision_cosine"], "precision@10 (Euclidean)": np.nan})
        st.dataframe(pd.DataFrame(rows).style.format({"precision@10 (cosine)": "{:.1%}",
                                                      "precision@10 (Euclidean)": "{:.1%}"}, na_rep="-"),
                     hide_index=True, key="docs:ptable")
        st.caption("Held-out: 459 test paragraphs (a fifth of each article) search 1,842 training paragraphs. The README "
                   "gives the spread over seeds 0, 1 and 2. With two numbers LSA keeps the two strongest directions of "
                   "the TF-IDF matrix (the first is roughly 'how typical is this paragraph'), which say little about "
                   "its article; the autoencoder bends its two numbers to spread the articles apart. Cosine in 2-D "
                   "compares only the angle of a code, so there Euclidean distance is the fairer measure for both.")

# -- 3. document vectors ------------------------------------------------------------------------------------------
st.header("3. Document vectors: Doc2Vec against averaged word vectors")
st.markdown("**Doc2Vec** (gensim) gives every paragraph its own vector, trained with the word vectors: PV-DM adds it "
            "to the context words that predict the next word, PV-DBOW asks it alone to predict the paragraph's "
            "words. A new text gets a vector by the same training with everything else frozen. The simplest "
            "document vector is the **mean of its words' word2vec vectors** (the Words page's shipped model).")
mode = st.radio("Doc2Vec variant", ["dbow", "dm"], horizontal=True, key="docs:d2v_mode",
                format_func=lambda v: {"dbow": "PV-DBOW", "dm": "PV-DM"}[v])
d2v = training_panel("docs:d2v", doc2vec.make_task, config=doc2vec.Doc2VecConfig(mode=mode), steps=D2V_EPOCHS, seconds=30.0,
                     max_seconds=120.0, panels={"learning rate": ["learning_rate"]}, label="Train Doc2Vec")
share.code_behind("docs:d2v", doc2vec.make_task, doc2vec.Doc2VecConfig(mode=mode),
                  steps=D2V_EPOCHS, seconds=30.0, title='Documents: search, LSA and a deep autoencoder')
with errors_shown():
    table = [{"method": "TF-IDF (all words)", "precision": _retrieval_table()[0]["precision_cosine"]},
             {"method": "LSA, 10 numbers", "precision": D.retrieval(lib.lsa_codes[10], coll)["precision_cosine"]},
             {"method": f"LSA, {lib.search_k} numbers (all words)",
              "precision": _retrieval_table()[-1]["precision_cosine"]},
             {"method": "deep autoencoder, 10 numbers", "precision": info10["precision_cosine"]},
             {"method": "mean of word2vec vectors (100 numbers)", "precision": _mean_w2v()}]
    if d2v is not None and d2v.steps and d2v.last_eval:
        table.append({"method": f"your Doc2Vec {mode.upper()} ({d2v.steps} epochs, "
                                f"{d2v.task.config_.dim} numbers)", "precision": d2v.last_eval["precision_at_10"]})
    else:
        st.caption("Press *Train Doc2Vec* (its 40 epochs take about half a minute) to add it to the table and to search with it above.")
    st.plotly_chart(figures.precision_bars(table), key="docs:d2v_bars")
    if d2v is not None and d2v.steps:
        sentence = st.text_input("Nearest paragraphs to a sentence (by your Doc2Vec)", "a war between two armies",
                                 key="docs:d2v_q")
        for h in lib.search(sentence, "doc2vec", 3, model=d2v.task):
            st.markdown(f"**{h['article']}** · cosine {h['score']:.3f}  \n"
                        + D.search.highlight(coll.texts[h["doc"]], h["matched"], 250))

# -- 4. GloVe -------------------------------------------------------------------------------------------------------
st.header("4. GloVe: word vectors from the co-occurrence matrix")
st.markdown("word2vec reads the text window by window. **GloVe** first counts, for every pair of words, how often "
            "they occur near each other (X_ij), then fits vectors whose dot products match log X_ij, weighting "
            "each pair by f(X_ij) so that rare pairs count less and very frequent ones are capped. Both are "
            "trained here on the same Wikipedia sample (whole articles, as on the Words page).")
st.latex(r"f(x) = \begin{cases}(x/x_{\max})^{3/4} & x < x_{\max}\\ 1 & \text{otherwise}\end{cases},\qquad "
         r"\text{vector of word } i = w_i + \tilde w_i")
with errors_shown():
    g_words, g_vecs = glove.shipped_vectors()
    g_info = glove.shipped_info()
    w_words, w_vecs = W.shipped_vectors()
    n_common = min(len(g_words), len(w_words))
    cmp = {f"GloVe (shipped, {g_info['epochs']:g} epochs)": glove.scores(g_words[:n_common], g_vecs[:n_common]),
           "word2vec (Words page, shipped)": glove.scores(w_words[:n_common], w_vecs[:n_common])}
    gt = get_trainer("docs:glove")
    if gt is not None and gt.steps:
        cmp[f"GloVe (yours, {gt.steps / gt.task.steps_per_epoch:.1f} epochs)"] = glove.scores(
            gt.task.vocab.words[:n_common], gt.task.vectors()[:n_common])
    st.plotly_chart(figures.score_bars(cmp), key="docs:glove_scores")
    st.caption(f"Scored on the word pairs whose both words are among the {n_common:,} most frequent words, for "
               f"every model alike. On the full {g_info['vocab_trained']:,}-word vocabulary the shipped GloVe scores "
               f"WordSim-353 {g_info['wordsim353_spearman']:.3f} and SimLex-999 {g_info['simlex999_spearman']:.3f}.")
    word = st.text_input("Neighbours of a word", "king", key="docs:glove_word")
    nc = st.columns(2)
    nc[0].plotly_chart(word_figures.neighbours(W.nearest(g_words, g_vecs, word, 8), "GloVe"), key="docs:g_nb")
    nc[1].plotly_chart(word_figures.neighbours(W.nearest(w_words, w_vecs, word, 8), "word2vec"), key="docs:w_nb")

chosen = st.text_input("Words for the co-occurrence matrix", "ice solid gas water liquid temperature music",
                       key="docs:cooc")
if st.toggle("Count co-occurrences in the Wikipedia sample (a few seconds the first time)", key="docs:cooc_on"):
    with errors_shown():
        with st.spinner("Counting co-occurrences ..."):
            vocab, i, j, x = glove.cooccurrence("wiki", 10, 5, 30_000)
        typed = list(dict.fromkeys(W.tokenize(chosen)))[:12]
        ws = [w for w in typed if w in vocab.index]
        if len(typed) > len(ws):
            st.caption("Not in the vocabulary (seen fewer than 5 times), left out: "
                       + ", ".join(w for w in typed if w not in vocab.index))
        if len(ws) < 2:
            raise InputError("Type at least two words that are in the vocabulary for the co-occurrence matrix.")
        st.plotly_chart(figures.cooccurrence(ws, glove.cooccurrence_table(vocab, i, j, x, ws)), key="docs:cooc_fig")

st.subheader("Train GloVe")
gcol = st.columns(3)
g_dim = gcol[0].select_slider("Dimension", [25, 50, 100, 200], 100, key="docs:g_dim")
g_window = gcol[1].slider("Window", 2, 15, 10, key="docs:g_window")
g_xmax = gcol[2].select_slider("x_max", [10.0, 30.0, 100.0, 300.0], 100.0, key="docs:g_xmax")
training_panel("docs:glove", glove.make_task,
               config=glove.GloveConfig(dim=int(g_dim), window=int(g_window), x_max=float(g_xmax)), steps=GLOVE_STEPS, seconds=30.0,
               max_seconds=120.0, panels={"weighted squared error per pair": ["loss"]}, record_every=10,
               label="Train GloVe")
share.code_behind("docs:glove", glove.make_task,
                  glove.GloveConfig(dim=int(g_dim), window=int(g_window), x_max=float(g_xmax)),
                  command='train glove', steps=GLOVE_STEPS, seconds=30.0, title='Documents: search, LSA and a deep autoencoder')
gt = get_trainer("docs:glove")
if gt is not None and gt.steps:
    st.download_button("Download your GloVe vectors (word2vec text format)",
                       W.to_word2vec_text(gt.task.vocab.words, gt.task.vectors()), file_name="glove_vectors.txt",
                       key="docs:g_dl", on_click="ignore")
