"""Text as tokens, bag of words, and a linear sentiment classifier on it.

The steps of the lecture, in order:
  1. filter: lower-case, drop punctuation and numbers (optionally common "stop words");
  2. tokenise: split what is left into words;
  3. bag of words: a vector x with x_j = how often vocabulary word j occurs; the order of the words is lost;
  4. a linear classifier on x: p(positive | x) = sigma(w . x + b), so every word j gets one weight w_j that
     pushes the sentence towards positive (w_j > 0) or negative (w_j < 0).

The built-in texts come with gensim's package data (offline): a Wikipedia sample, the Lee news corpus and
Pang & Lee's movie-review sentences labelled by sentiment.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import InputError

CORPORA = {
    "wiki": "a sample of English Wikipedia articles (106 articles, about 450,000 tokens)",
    "lee": "the Lee news corpus (300 short Australian news stories, about 60,000 tokens)",
    "sentiment": "movie-review sentences labelled positive or negative (Pang & Lee, 200 sentences)",
}
MAX_TEXT_CHARS = 25_000_000   # ~ the 20 MB upload limit, also for pasted text
WIKI_FILE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def _datapath(name: str) -> str:
    from gensim.test.utils import datapath

    return datapath(name)


# -- 1 + 2: filtering and tokenising ------------------------------------------------------------------------------
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")   # runs of letters (any alphabet), with an inner apostrophe


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from gensim.parsing.preprocessing import STOPWORDS

    return frozenset(STOPWORDS)


def tokenize(text: str, *, drop_stop_words: bool = False, min_len: int = 1) -> list[str]:
    """Lower-case, keep runs of letters (numbers and punctuation are filtered out), optionally drop stop words."""
    toks = _TOKEN.findall(text.lower())
    if min_len > 1:
        toks = [t for t in toks if len(t) >= min_len]
    if drop_stop_words:
        sw = stop_words()
        toks = [t for t in toks if t not in sw]
    return toks


def filtering_steps(text: str, drop_stop_words: bool = False) -> list[tuple[str, str]]:
    """The text after each filtering step, for display: (what was done, result)."""
    if len(text) > 100_000:
        raise InputError("Please paste at most 100,000 characters here (use the corpus upload below for more).")
    low = text.lower()
    no_punct = " ".join(_TOKEN.findall(low))
    steps = [("original", text), ("lower-cased", low), ("numbers and punctuation removed", no_punct)]
    if drop_stop_words:
        steps.append(("stop words removed", " ".join(tokenize(text, drop_stop_words=True))))
    return steps


# -- corpora -------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def corpus(name: str) -> tuple[tuple[str, ...], ...]:
    """A built-in corpus as documents (or sentences) of tokens. Cached: the Wikipedia sample takes ~2 s to parse."""
    if name == "wiki":
        from gensim.corpora import WikiCorpus

        wc = WikiCorpus(_datapath(WIKI_FILE), dictionary={}, processes=1)  # its own tokeniser: lower-case letters
        return tuple(tuple(doc) for doc in wc.get_texts())
    if name == "lee":
        with open(_datapath("lee_background.cor"), encoding="utf-8") as f:
            return tuple(tuple(tokenize(line)) for line in f if line.strip())
    if name == "sentiment":
        return tuple(tuple(tokenize(s)) for s in sentiment_data()[0])
    raise InputError(f"Unknown corpus {name!r}: choose one of {', '.join(CORPORA)}.")


def corpus_from_text(text: str) -> tuple[tuple[str, ...], ...]:
    """A user's text as a corpus: one document per non-empty line (paragraph), tokenised."""
    if not text or not text.strip():
        raise InputError("The text is empty: paste or upload some text first.")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"The text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}.")
    docs = tuple(t for t in (tuple(tokenize(line)) for line in text.splitlines()) if t)
    if not docs:
        raise InputError("The text contains no words (only numbers, punctuation or symbols).")
    return docs


@lru_cache(maxsize=1)
def sentiment_data() -> tuple[list[str], np.ndarray]:
    """(sentences, labels) of Pang & Lee's polarity sentences: label 1 = positive, 0 = negative."""
    texts, labels = [], []
    with open(_datapath("pang_lee_polarity.cor"), encoding="cp1252", errors="replace") as f:  # not UTF-8
        for line in f:
            tag, _, sentence = line.strip().partition(" ")
            if sentence:
                texts.append(sentence)
                labels.append(1 if tag == "__label__pos" else 0)
    return texts, np.array(labels)


MAX_LABELLED_ROWS = 50_000
MAX_LABELLED_CELL = 20_000      # characters in one cell of an uploaded CSV (a review, not a book)
MAX_CLASSES = 20


def read_labelled_csv(data: bytes) -> tuple[list[str], np.ndarray, list[str]]:
    """(texts, labels 0..K-1, the K class names in sorted order) from an uploaded CSV with a `text` column and a
    `label` column of 2 to 20 classes. Read from memory; cells are Python strings (no fixed-width arrays)."""
    import csv
    import io

    import pandas as pd

    if not data:
        raise InputError("The file is empty.")
    try:
        df = pd.read_csv(io.BytesIO(data), nrows=MAX_LABELLED_ROWS + 1, encoding="utf-8", dtype=str)
    except UnicodeDecodeError:
        raise InputError("The file is not UTF-8 text: save it as a UTF-8 CSV.") from None
    except (csv.Error, Exception) as e:   # pandas' parser errors are many and varied; all mean "not a usable CSV"
        raise InputError(f"Could not read the file as CSV ({type(e).__name__}).") from None
    cols = {str(c).strip().lower(): c for c in df.columns}
    if "text" not in cols or "label" not in cols:
        raise InputError("The CSV needs a 'text' column and a 'label' column (found: "
                         f"{', '.join(map(str, df.columns[:8])) or 'none'}).")
    if len(df) > MAX_LABELLED_ROWS:
        raise InputError(f"The CSV has more than {MAX_LABELLED_ROWS:,} rows; the limit is {MAX_LABELLED_ROWS:,}.")
    df = df[[cols["text"], cols["label"]]].dropna()
    long = df[cols["text"]].str.len().to_numpy() > MAX_LABELLED_CELL
    if long.any():
        raise InputError(f"Row {int(np.argmax(long)) + 2} has a text of more than {MAX_LABELLED_CELL:,} characters; "
                         "the classifier takes short texts (a sentence or a paragraph per row).")
    labels = df[cols["label"]].str.strip()
    classes = sorted(labels.unique())
    if not (2 <= len(classes) <= MAX_CLASSES):
        raise InputError(f"The label column must have between 2 and {MAX_CLASSES} classes; it has {len(classes)}.")
    y = labels.map({c: i for i, c in enumerate(classes)}).to_numpy().astype(int)
    if min(np.bincount(y, minlength=len(classes))) < 5 or len(df) < 20:
        raise InputError("Too few rows: the classifier needs at least 20 rows and 5 of each class.")
    return df[cols["text"]].tolist(), y, classes


# -- a labelled set that shows the lesson: Wikipedia paragraphs labelled by topic --------------------------------------
# Each topic is a few articles of the Wikipedia sample (gensim's package data, offline); a paragraph is labelled by the
# topic of the article it comes from. Balanced: PER_TOPIC paragraphs of at least MIN_PARAGRAPH_TOKENS words each.
WIKI_TOPICS = {
    "chemistry": ("Alkali metal", "Alkane", "Acid", "Atomic number", "Alchemy"),
    "spaceflight": ("Apollo 8", "Apollo 11", "Astronaut", "Amateur astronomy"),
    "countries": ("Albania", "Algeria", "Azerbaijan", "Angola", "Andorra", "Afghanistan"),
    "philosophy": ("Aristotle", "Arthur Schopenhauer", "Altruism", "Anarchism", "Ayn Rand"),
    "biology": ("Amphibian", "Algae", "Anatomy", "Aardvark", "Aardwolf", "Actinopterygii"),
}
PER_TOPIC = 120
MIN_PARAGRAPH_TOKENS = 30


@lru_cache(maxsize=1)
def wiki_paragraphs() -> dict[str, tuple[str, ...]]:
    """Article title -> its paragraphs (wiki markup removed by gensim's filter_wiki) with at least 30 words."""
    import bz2

    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    out = {}
    with bz2.BZ2File(_datapath(WIKI_FILE)) as f:
        for title, text, _ in extract_pages(f, filter_namespaces=("0",)):
            paras = (p.strip() for p in re.split(r"\n\s*\n", filter_wiki(text)))
            out[title] = tuple(p for p in paras if len(_TOKEN.findall(p)) >= MIN_PARAGRAPH_TOKENS)
    return out


@lru_cache(maxsize=1)
def wiki_topics() -> tuple[list[str], np.ndarray, list[str]]:
    """(paragraphs, labels, topic names): PER_TOPIC paragraphs of each topic in WIKI_TOPICS, drawn with a fixed
    seed from the topic's articles (so the set is the same on every machine)."""
    paras = wiki_paragraphs()
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for k, arts in enumerate(WIKI_TOPICS.values()):
        pool = [p for a in arts for p in paras.get(a, ())]
        if len(pool) < PER_TOPIC:
            raise InputError("The Wikipedia sample in gensim's data is not the expected one (too few paragraphs).")
        texts += [pool[i] for i in sorted(rng.choice(len(pool), PER_TOPIC, replace=False))]
        labels += [k] * PER_TOPIC
    return texts, np.array(labels), list(WIKI_TOPICS)


def _sentiment_set() -> tuple[list[str], np.ndarray, list[str]]:
    texts, y = sentiment_data()
    return texts, y, ["negative", "positive"]


# name -> (loader, what it is)
LABELLED_SETS = {
    "wiki topics": (wiki_topics, f"{PER_TOPIC * len(WIKI_TOPICS)} Wikipedia paragraphs labelled by topic "
                                 f"({', '.join(WIKI_TOPICS)}: {PER_TOPIC} each)"),
    "sentiment": (_sentiment_set, "200 movie-review sentences labelled positive or negative (Pang & Lee)"),
}
# The stop-word setting that 5-fold cross-validation supports on each built-in set (tests/test_words.py checks it:
# the default's CV accuracy is at least the other setting's).
DROP_STOP_WORDS = {"wiki topics": True, "sentiment": False}


# -- 3: bag of words -----------------------------------------------------------------------------------------------
def bag_of_words(sentences: list[str], drop_stop_words: bool = False) -> tuple[list[str], np.ndarray]:
    """(vocabulary, counts) where counts[i, j] = how often word j occurs in sentence i. Order is ignored."""
    from sklearn.feature_extraction.text import CountVectorizer

    docs = [tokenize(s, drop_stop_words=drop_stop_words) for s in sentences]
    if not any(docs):
        raise InputError("There are no words to count: type a sentence with some letters in it.")
    cv = CountVectorizer(analyzer=lambda d: d)   # our own tokens, counted by scikit-learn
    x = cv.fit_transform(docs).toarray()
    return list(cv.get_feature_names_out()), x


# -- 4: a linear classifier on bags of words -------------------------------------------------------------------------
MAX_EXPLAIN_CHARS = 5_000     # the "type a text" box: a review or a paragraph


def _identity(doc):
    return doc


@dataclass
class TextClassifier:
    """Bag of words (or TF-IDF) + logistic regression, scored by 5-fold cross-validation beside the majority-class
    rate. Fit with `fit_classifier`. `weights[k, j]`: how much word j pushes a text towards class k (centred over
    the classes, since adding the same number to every class's score changes no probability)."""
    pipeline: object
    dataset: str
    features: str
    drop_stop_words: bool
    classes: list[str]
    cv_accuracy: float          # mean over the 5 folds
    cv_std: float               # their standard deviation
    cv_folds: list[float]
    majority_accuracy: float    # always answering the most common class
    n: int
    vocab: list[str]
    weights: np.ndarray         # (K, V)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    # the older two-class names, used by the sentiment view
    @property
    def test_accuracy(self) -> float:
        return self.cv_accuracy

    def top_words(self, k: int = 10) -> dict[str, list[tuple[str, float]]]:
        """The k words with the largest weight towards each class."""
        return {c: [(self.vocab[j], float(self.weights[i, j])) for j in np.argsort(-self.weights[i])[:k]]
                for i, c in enumerate(self.classes)}

    def explain(self, text: str) -> dict:
        """Class probabilities for typed text, the predicted class, and each token's push w_cj * x_j / n_j towards
        it (the feature value split over the word's n_j occurrences). Linear in the text's length."""
        if len(text) > MAX_EXPLAIN_CHARS:
            raise InputError(f"Please type at most {MAX_EXPLAIN_CHARS:,} characters here (you have {len(text):,}).")
        toks = tokenize(text, drop_stop_words=self.drop_stop_words)
        if not toks:
            raise InputError("Type a sentence with some words in it to classify"
                             + (" (stop words are dropped)." if self.drop_stop_words else "."))
        vec = self.pipeline.named_steps["features"]
        x = vec.transform([toks]).toarray()[0]
        p = self.pipeline.predict_proba([toks])[0]
        c = int(np.argmax(p))
        index, n = vec.vocabulary_, Counter(toks)
        contrib = []
        for t in toks:
            j = index.get(t)
            contrib.append((t, float(self.weights[c, j] * x[j] / n[t]) if j is not None else None))
        return {"tokens": contrib, "predicted": self.classes[c], "p": dict(zip(self.classes, map(float, p))),
                "p_positive": float(p[-1]), "unknown": [t for t, v in contrib if v is None]}


def fit_classifier(dataset: str = "wiki topics", features: str = "counts", C: float = 1.0,
                   drop_stop_words: bool | None = None, seed: int = 0,
                   data: tuple[list[str], np.ndarray, list[str]] | None = None) -> TextClassifier:
    """Fit bag of words (or TF-IDF) + logistic regression on a labelled set; score it by stratified 5-fold
    cross-validation (each text is scored by a model that never saw it), then refit on all of it for the weights.
    `data` = (texts, labels, class names) replaces the built-in set (an uploaded CSV, `read_labelled_csv`)."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import Pipeline

    if features not in ("counts", "tfidf"):
        raise InputError(f"Unknown features {features!r}: choose counts (bag of words) or tfidf.")
    C = float(C)
    if not (1e-4 <= C <= 1e4):
        raise InputError(f"C = {C} is out of range: choose between 0.0001 and 10000.")
    if data is None:
        if dataset not in LABELLED_SETS:
            raise InputError(f"Unknown labelled set {dataset!r}: choose one of {', '.join(LABELLED_SETS)}.")
        data = LABELLED_SETS[dataset][0]()
        if drop_stop_words is None:
            drop_stop_words = DROP_STOP_WORDS[dataset]
    texts, y, classes = data
    drop_stop_words = bool(drop_stop_words)
    y = np.asarray(y)
    docs = [tokenize(t, drop_stop_words=drop_stop_words) for t in texts]

    def make():
        vec = (CountVectorizer if features == "counts" else TfidfVectorizer)(analyzer=_identity)
        return Pipeline([("features", vec), ("clf", LogisticRegression(C=C, max_iter=2000))])

    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    cv = cross_val_score(make(), docs, y, cv=folds)
    pipe = make().fit(docs, y)
    coef = pipe.named_steps["clf"].coef_
    w = np.concatenate([-coef / 2, coef / 2]) if coef.shape[0] == 1 else coef - coef.mean(0, keepdims=True)
    return TextClassifier(pipe, dataset, features, drop_stop_words, list(classes),
                          float(cv.mean()), float(cv.std()), [float(a) for a in cv],
                          float(np.bincount(y).max() / len(y)), len(y),
                          list(pipe.named_steps["features"].get_feature_names_out()), w)


def fit_sentiment(features: str = "counts", C: float = 1.0, seed: int = 0, drop_stop_words: bool | None = None,
                  data: tuple[list[str], np.ndarray] | None = None) -> TextClassifier:
    """The classifier on the 200 movie-review sentences (or two-class `data` = (texts, labels 0/1))."""
    if data is not None:
        return fit_classifier("your CSV", features, C, drop_stop_words, seed,
                              data=(data[0], data[1], ["negative", "positive"]))
    return fit_classifier("sentiment", features, C, drop_stop_words, seed)


def close_words(word: str, vocab, n: int = 5) -> list[str]:
    """Words of the vocabulary spelled like `word` (for 'did you mean ...')."""
    return difflib.get_close_matches(word, list(vocab), n=n, cutoff=0.6)


def counts(docs) -> Counter:
    c: Counter = Counter()
    for d in docs:
        c.update(d)
    return c
