"""The document collection: the offline Wikipedia sample cut into paragraphs, each labelled by its article.

Retrieval is scored by a label nobody typed by hand: a paragraph's "relevant" documents are the other paragraphs of
the same article. Each article keeps at most MAX_PER_ARTICLE paragraphs (so a few long articles do not dominate the
score) and articles with fewer than MIN_PER_ARTICLE are left out (precision@10 needs 10 relevant paragraphs).
The held-out split is stratified by article: models are fitted on the training paragraphs, and test paragraphs
are the queries that search the training paragraphs.
"""

from __future__ import annotations

import json
import lzma
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..words.text import WIKI_FILE, _datapath, tokenize

MIN_TOKENS = 40           # shorter blocks are list items, captions, tables
MIN_PER_ARTICLE = 20
MAX_PER_ARTICLE = 40
MAX_UPLOAD_CHARS = 5_000_000
MAX_UPLOAD_DOCS = 20_000
TEST_SHARE = 0.2

_MARKUP = re.compile(r"'{2,}")          # ''italic'' and '''bold'''
_HEADING = re.compile(r"^\s*=+.*=+\s*$")


@dataclass
class Collection:
    """Paragraphs (display text and tokens), their article label, and a fixed train / test split."""
    texts: list[str]
    tokens: list[list[str]]
    labels: np.ndarray               # int, index into names
    names: list[str]                 # article titles
    train: np.ndarray = field(default=None)   # indices of the training paragraphs
    test: np.ndarray = field(default=None)    # indices of the query paragraphs

    def __len__(self):
        return len(self.texts)

    def __post_init__(self):
        if self.train is None:
            self.train, self.test = split(self.labels)


def split(labels: np.ndarray, test_share: float = TEST_SHARE, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A stratified split: test_share of each article's paragraphs (at least one when it has 5 or more) are queries."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(test_share * len(idx))) if len(idx) >= 5 else 0
        test.extend(idx[:n_test])
        train.extend(idx[n_test:])
    return np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(test, dtype=np.int64))


def _paragraphs(wikitext: str) -> list[str]:
    from gensim.corpora.wikicorpus import filter_wiki

    text = filter_wiki(wikitext)
    out = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.splitlines() if ln.strip() and not _HEADING.match(ln)
                 and not ln.lstrip().startswith(("|", "!", "{", "}"))]
        para = _MARKUP.sub("", " ".join(ln.strip() for ln in lines)).strip()
        if para:
            out.append(re.sub(r"\s{2,}", " ", para))
    return out


ASSET = Path(__file__).resolve().parent.parent / "assets" / "documents" / "wiki_paragraphs.json.xz"
ASSET_FORMAT = f"wiki-paragraphs-1/{MIN_TOKENS}/{MIN_PER_ARTICLE}/{MAX_PER_ARTICLE}"


@lru_cache(maxsize=1)
def wiki_paragraphs() -> Collection:
    """The Wikipedia sample (gensim's test data) as paragraphs labelled by article. Read from the shipped copy
    (0.45 MB, about 1 s; `write_asset` re-creates it) or, without it, parsed from the dump (5-10 s)."""
    if ASSET.exists():
        with lzma.open(ASSET, "rt", encoding="utf-8") as f:
            data = json.load(f)
        if data.get("format") == ASSET_FORMAT:
            return Collection(data["texts"], [tokenize(t) for t in data["texts"]], np.array(data["labels"]),
                              data["names"])
    return parse_wiki()


def write_asset(path: Path = ASSET) -> dict:
    """Parse the dump and write the shipped copy of its paragraphs (run by `python -m dlplay pretrain documents`)."""
    c = parse_wiki()
    path.parent.mkdir(parents=True, exist_ok=True)
    with lzma.open(path, "wt", encoding="utf-8", preset=9) as f:
        json.dump({"format": ASSET_FORMAT, "names": c.names, "labels": c.labels.tolist(), "texts": c.texts}, f)
    wiki_paragraphs.cache_clear()
    return {"paragraphs": len(c), "articles": len(c.names), "bytes": path.stat().st_size}


def parse_wiki() -> Collection:
    """Cut the Wikipedia dump into paragraphs (gensim's page reader and wiki-markup filter)."""
    import bz2

    from gensim.corpora.wikicorpus import extract_pages

    texts, tokens, labels, names = [], [], [], []
    with bz2.open(_datapath(WIKI_FILE)) as f:
        for title, wikitext, _ in extract_pages(f):
            paras = [(p, t) for p in _paragraphs(wikitext) if len(t := tokenize(p)) >= MIN_TOKENS]
            if len(paras) < MIN_PER_ARTICLE:
                continue
            for p, t in paras[:MAX_PER_ARTICLE]:
                texts.append(p)
                tokens.append(t)
                labels.append(len(names))
            names.append(title)
    return Collection(texts, tokens, np.array(labels), names)


def from_text(text: str) -> Collection:
    """A user's text as a collection: paragraphs separated by blank lines; a line `# Title` starts a new article
    (the label used for precision@10). Without any `#` line every paragraph is its own article."""
    if not text or not text.strip():
        raise InputError("The text is empty: paste or upload some paragraphs first.")
    if len(text) > MAX_UPLOAD_CHARS:
        raise InputError(f"The text has {len(text):,} characters; the limit here is {MAX_UPLOAD_CHARS:,}.")
    texts, tokens, labels, names = [], [], [], []
    current = None
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        while lines and lines[0].lstrip().startswith("#"):
            names.append(lines.pop(0).lstrip("# ").strip() or f"article {len(names) + 1}")
            current = len(names) - 1
        para = " ".join(ln.strip() for ln in lines)
        toks = tokenize(para)
        if not toks:
            continue
        if current is None:
            names.append(f"paragraph {len(texts) + 1}")
            labels.append(len(names) - 1)
        else:
            labels.append(current)
        texts.append(para)
        tokens.append(toks)
        if len(texts) > MAX_UPLOAD_DOCS:
            raise InputError(f"The text has more than {MAX_UPLOAD_DOCS:,} paragraphs; the limit is "
                             f"{MAX_UPLOAD_DOCS:,}.")
    if len(texts) < 12:
        raise InputError(f"The text has {len(texts)} paragraph(s) with words in them; at least 12 are needed "
                         "(separate paragraphs with a blank line).")
    used = sorted(set(labels))
    remap = {old: new for new, old in enumerate(used)}
    return Collection(texts, tokens, np.array([remap[c] for c in labels]), [names[c] for c in used])
