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


def read_labelled_csv(data: bytes) -> tuple[list[str], np.ndarray, list[str]]:
    """(texts, labels 0/1, the two class names) from an uploaded CSV with a `text` column and a `label` column of
    exactly two classes (the second class in sorted order counts as "positive"). Read from memory."""
    import io

    import pandas as pd

    if not data:
        raise InputError("The file is empty.")
    try:
        df = pd.read_csv(io.BytesIO(data), nrows=MAX_LABELLED_ROWS + 1, encoding="utf-8", dtype=str)
    except UnicodeDecodeError:
        raise InputError("The file is not UTF-8 text: save it as a UTF-8 CSV.") from None
    except Exception as e:   # pandas' parser errors are many and varied; all mean "not a usable CSV"
        raise InputError(f"Could not read the file as CSV ({type(e).__name__}).") from None
    cols = {str(c).strip().lower(): c for c in df.columns}
    if "text" not in cols or "label" not in cols:
        raise InputError("The CSV needs a 'text' column and a 'label' column (found: "
                         f"{', '.join(map(str, df.columns[:8])) or 'none'}).")
    if len(df) > MAX_LABELLED_ROWS:
        raise InputError(f"The CSV has more than {MAX_LABELLED_ROWS:,} rows; the limit is {MAX_LABELLED_ROWS:,}.")
    df = df[[cols["text"], cols["label"]]].dropna()
    classes = sorted(df[cols["label"]].str.strip().unique())
    if len(classes) != 2:
        raise InputError(f"The label column must have exactly two classes; it has {len(classes)}.")
    y = (df[cols["label"]].str.strip() == classes[1]).to_numpy().astype(int)
    if min(np.bincount(y, minlength=2)) < 5 or len(df) < 20:
        raise InputError("Too few rows: the classifier needs at least 20 rows and 5 of each class.")
    return df[cols["text"]].tolist(), y, classes


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
@dataclass
class SentimentModel:
    """Bag of words (or TF-IDF) + logistic regression, with its held-out scores. Fit with `fit_sentiment`."""
    pipeline: object
    features: str
    test_accuracy: float
    majority_accuracy: float
    cv_accuracy: float
    cv_std: float
    n_train: int
    n_test: int
    vocab: list[str]
    weights: np.ndarray   # one weight per vocabulary word; > 0 pushes towards "positive"

    def top_words(self, k: int = 15) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        order = np.argsort(self.weights)
        return ([(self.vocab[i], float(self.weights[i])) for i in order[::-1][:k]],
                [(self.vocab[i], float(self.weights[i])) for i in order[:k]])

    def explain(self, text: str) -> dict:
        """Probability of 'positive' for typed text and each token's contribution w_j * x_j to the score."""
        toks = tokenize(text)
        if not toks:
            raise InputError("Type a sentence with some words in it to classify.")
        vec, clf = self.pipeline.named_steps["features"], self.pipeline.named_steps["clf"]
        x = vec.transform([toks]).toarray()[0]
        index = vec.vocabulary_
        contrib = []
        for t in toks:   # a word's share: its weight times its feature value, split over its occurrences
            j = index.get(t)
            n = toks.count(t)
            contrib.append((t, float(self.weights[j] * x[j] / n) if j is not None else None))
        score = float(x @ self.weights + clf.intercept_[0])
        return {"tokens": contrib, "score": score, "p_positive": float(1 / (1 + np.exp(-score))),
                "unknown": [t for t, c in contrib if c is None]}


def fit_sentiment(features: str = "counts", C: float = 1.0, test_size: float = 0.25, seed: int = 0,
                  drop_stop_words: bool = False, data: tuple[list[str], np.ndarray] | None = None) -> SentimentModel:
    """Fit the classifier on a training split; report accuracy on the held-out split and by 5-fold cross-validation
    (200 sentences make one split's accuracy noisy), beside always answering the majority class.
    `data` = (texts, labels) replaces the built-in sentences, e.g. with an uploaded CSV (`read_labelled_csv`)."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score, train_test_split
    from sklearn.pipeline import Pipeline

    if features not in ("counts", "tfidf"):
        raise InputError(f"Unknown features {features!r}: choose counts (bag of words) or tfidf.")
    C = float(C)
    if not (1e-4 <= C <= 1e4):
        raise InputError(f"C = {C} is out of range: choose between 0.0001 and 10000.")
    texts, y = data if data is not None else sentiment_data()
    docs = [tokenize(t, drop_stop_words=drop_stop_words) for t in texts]

    def make():
        vec = (CountVectorizer if features == "counts" else TfidfVectorizer)(analyzer=lambda d: d)
        return Pipeline([("features", vec), ("clf", LogisticRegression(C=C, max_iter=2000))])

    idx_tr, idx_te = train_test_split(np.arange(len(docs)), test_size=test_size, random_state=seed, stratify=y)
    pipe = make().fit([docs[i] for i in idx_tr], y[idx_tr])
    acc = float((pipe.predict([docs[i] for i in idx_te]) == y[idx_te]).mean())
    majority = float(max(np.mean(y[idx_te] == c) for c in np.unique(y[idx_tr])
                         if np.sum(y[idx_tr] == c) == np.bincount(y[idx_tr]).max()))
    cv = cross_val_score(make(), docs, y, cv=5)
    vec = pipe.named_steps["features"]
    return SentimentModel(pipe, features, acc, majority, float(cv.mean()), float(cv.std()), len(idx_tr), len(idx_te),
                          list(vec.get_feature_names_out()), pipe.named_steps["clf"].coef_[0].copy())


def close_words(word: str, vocab, n: int = 5) -> list[str]:
    """Words of the vocabulary spelled like `word` (for 'did you mean ...')."""
    return difflib.get_close_matches(word, list(vocab), n=n, cutoff=0.6)


def counts(docs) -> Counter:
    c: Counter = Counter()
    for d in docs:
        c.update(d)
    return c
