"""Vector-space search: documents and queries as TF-IDF vectors ranked by cosine similarity; LSA; precision@10.

TF-IDF (Salton & Buckley 1988; scikit-learn's TfidfVectorizer, smooth idf, sublinear tf):
    x_dj = (1 + log tf_dj) * (log((1 + N) / (1 + df_j)) + 1),   then each row scaled to unit length,
so the cosine of two documents is the dot product of their rows. A query is ranked against every paragraph by
cos(q, x_d); only words the query shares with a paragraph add to its score, which is why a synonym finds nothing.

LSA (Deerwester et al. 1990): the truncated SVD X ~ U_K S_K V_K^T of the TF-IDF matrix; a document's K numbers
are x V_K. Words that occur in the same documents share directions, so a query can match a paragraph through
co-occurring words it does not contain.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..words.text import stop_words, tokenize

MAX_QUERY_CHARS = 2_000


def _analyzer(tokens):
    return tokens


def query_tokens(query: str) -> list[str]:
    if not isinstance(query, str) or not query.strip():
        raise InputError("The query is empty: type a few words to search for.")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"The query has {len(query):,} characters; type at most {MAX_QUERY_CHARS:,}.")
    toks = tokenize(query)
    if not toks:
        raise InputError("The query has no words in it (only numbers or punctuation).")
    return toks


@dataclass
class TfidfIndex:
    """TF-IDF vectors of a list of tokenised documents (stop words dropped), ready to search."""
    vectorizer: object
    matrix: object          # scipy sparse (N, V), rows of unit length
    vocab: list[str]

    @classmethod
    def fit(cls, tokens: list[list[str]], max_features: int | None = None, min_df: int = 1) -> "TfidfIndex":
        from sklearn.feature_extraction.text import TfidfVectorizer

        sw = stop_words()
        docs = [[t for t in d if t not in sw and len(t) > 1] for d in tokens]
        vec = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, max_features=max_features, min_df=min_df)
        m = vec.fit_transform(docs)
        return cls(vec, m.tocsr(), list(vec.get_feature_names_out()))

    def transform(self, tokens: list[list[str]]):
        return self.vectorizer.transform(tokens)

    def query(self, query: str):
        """The query's TF-IDF row, or InputError if none of its words is in the vocabulary (with close spellings)."""
        toks = query_tokens(query)
        q = self.transform([toks])
        if q.nnz == 0:
            sw = stop_words()
            content = [t for t in toks if t not in sw]
            if not content:
                raise InputError("The query has only very common words (the, of, and ...), which the index "
                                 "leaves out; add a word that carries meaning.")
            close = [c for t in content[:5] for c in difflib.get_close_matches(t, self.vocab, n=2, cutoff=0.75)]
            hint = f" Known words spelled like them: {', '.join(dict.fromkeys(close))}." if close else ""
            raise InputError(f"None of the query's words ({', '.join(content[:8])}) is among the "
                             f"{len(self.vocab):,} words of this index." + hint)
        return q

    def search(self, query: str, k: int = 10) -> list[dict]:
        """The k paragraphs with the highest cosine similarity, each with the query words it contains."""
        q = self.query(query)
        sims = (self.matrix @ q.T).toarray().ravel()
        qwords = {self.vocab[j]: float(w) for j, w in zip(q.indices, q.data)}
        out = []
        for i in np.argsort(-sims, kind="stable")[:k]:
            row = self.matrix[i]
            shared = [self.vocab[j] for j in row.indices if self.vocab[j] in qwords]
            out.append({"doc": int(i), "score": float(sims[i]), "matched": sorted(shared)})
        return out


def cosine_rank(db: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Cosine similarities (Q, N) between query vectors and database vectors."""
    def unit(a):
        a = np.asarray(a, np.float64)
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    return unit(queries) @ unit(db).T


def precision_at_k(sims: np.ndarray, query_labels: np.ndarray, db_labels: np.ndarray, k: int = 10,
                   exclude_self: bool = False) -> float:
    """Mean share of each query's k most similar database documents that carry the query's label (its article).
    exclude_self: the queries are the database itself, so each document's own row is left out."""
    sims = np.array(sims, np.float64, copy=True)
    if exclude_self:
        np.fill_diagonal(sims, -np.inf)
    k = min(k, sims.shape[1] - int(exclude_self))
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return float((db_labels[top] == query_labels[:, None]).mean())


def tfidf_precision(collection, k: int = 10, max_features: int | None = None) -> float:
    """Held-out precision@k of TF-IDF cosine: fitted on the training paragraphs, test paragraphs as queries."""
    tr, te = collection.train, collection.test
    idx = TfidfIndex.fit([collection.tokens[i] for i in tr], max_features=max_features)
    db, q = idx.matrix, idx.transform([collection.tokens[i] for i in te])
    sims = (q @ db.T).toarray()
    return precision_at_k(sims, collection.labels[te], collection.labels[tr], k)


@dataclass
class LSA:
    """TruncatedSVD of the TF-IDF matrix: K numbers per document."""
    index: TfidfIndex
    svd: object

    @classmethod
    def fit(cls, index: TfidfIndex, k: int, seed: int = 0) -> "LSA":
        from sklearn.decomposition import TruncatedSVD

        if not (1 <= k < min(index.matrix.shape)):
            raise InputError(f"LSA size {k} is out of range: choose 1 to {min(index.matrix.shape) - 1}.")
        return cls(index, TruncatedSVD(k, algorithm="arpack", random_state=seed).fit(index.matrix))

    def encode_tokens(self, tokens: list[list[str]]) -> np.ndarray:
        return self.svd.transform(self.index.transform(tokens))

    def encode_query(self, query: str) -> np.ndarray:
        return self.svd.transform(self.index.query(query))


def lsa_precision(collection, k_code: int, k: int = 10, max_features: int | None = None, seed: int = 0) -> float:
    tr, te = collection.train, collection.test
    idx = TfidfIndex.fit([collection.tokens[i] for i in tr], max_features=max_features)
    lsa = LSA.fit(idx, k_code, seed)
    db = lsa.svd.transform(idx.matrix)
    q = lsa.encode_tokens([collection.tokens[i] for i in te])
    return precision_at_k(cosine_rank(db, q), collection.labels[te], collection.labels[tr], k)


def highlight(text: str, words, max_chars: int = 400) -> str:
    """Markdown of a paragraph (cut to max_chars) with the given words in bold, for showing why it matched."""
    import re

    text = text[:max_chars] + ("..." if len(text) > max_chars else "")
    text = re.sub(r"([\\`*_{}\[\]<>#+!|$~])", r"\\\1", text)      # no markdown or LaTeX from the corpus
    words = [w for w in words if w]
    if not words:
        return text
    pat = re.compile(r"\b(" + "|".join(map(re.escape, sorted(words, key=len, reverse=True))) + r")\b", re.I)
    return pat.sub(lambda m: f"**{m.group(0)}**", text)
