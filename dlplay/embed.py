"""The Embedding Explorer's backend: map high-dimensional vectors to 2-D or 3-D points that keep neighbours close.

Every method comes from a library, never written here: PCA, MDS, Isomap and LLE from scikit-learn, t-SNE from
openTSNE, UMAP from umap-learn. What this module adds is the glue a lecture needs:

- sources: the vectors of digits' pixels, autoencoder / VAE codes, CNN features, word vectors, uploaded tables;
- `Embedder`: one scikit-learn-style object for all six methods, with bounded knobs, a progress callback, and a
  t-SNE that reports its layout every few dozen iterations and can be stopped and resumed;
- `quality`: how much of the original neighbourhood structure a layout keeps;
- `read_table`: reading uploaded CSV / TSV / .npy tables from bytes, refusing what cannot be used with InputError;
- figure builders (plotly scatter, thumbnail layer, a PNG render) and the `embed` CLI command.

The objective t-SNE minimises (van der Maaten and Hinton, 2008, eq. 2 and 4):

    C = KL(P || Q) = sum_ij p_ij log(p_ij / q_ij),    q_ij = (1 + |y_i - y_j|^2)^-1 / sum_kl (1 + |y_k - y_l|^2)^-1

where p_ij are neighbour probabilities in the original space (Gaussians whose widths are set by the perplexity).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .errors import InputError
from .limits import check_range

METHODS = {
    "pca": "PCA (linear: the directions of largest variance)",
    "tsne": "t-SNE (openTSNE: keeps neighbours, animates)",
    "umap": "UMAP (umap-learn: neighbours plus some global shape)",
    "mds": "MDS (keeps all pairwise distances; slow, n\u00b2)",
    "isomap": "Isomap (distances along the neighbour graph)",
    "lle": "LLE (each point rebuilt from its neighbours)",
}
# Most points each method may be given (its cost in time or memory grows faster than n beyond this). Pages sample
# down to these; the backend refuses more. openTSNE's FFT gradients and UMAP's neighbour graph scale ~linearly.
MAX_POINTS = {"pca": 50_000, "tsne": 50_000, "umap": 50_000, "mds": 2_000, "isomap": 5_000, "lle": 5_000}
MAX_ROWS = 50_000          # rows of an uploaded table
MAX_COLUMNS = 4_096        # numeric columns of an uploaded table
MIN_ROWS = 5
MAX_UPLOAD_BYTES = 20 * 2**20
TSNE_EXAGGERATION_ITER = 250   # openTSNE's default length of the early-exaggeration phase
QUALITY_K = 10                 # neighbours used by both quality numbers
QUALITY_MAX_POINTS = 3_000     # trustworthiness needs an n x n rank matrix: above this, a random sample


# ------------------------------------------------------------------------------------------------ sources

@dataclass
class Source:
    """Vectors to embed, with what the plot needs: labels for colour, hover text, images for image sources."""
    name: str
    x: np.ndarray                            # (n, d) float32
    labels: np.ndarray | None = None         # (n,) int (index into class_names) or str
    class_names: list[str] | None = None
    hover: list[str] | None = None           # (n,) text per row
    images: np.ndarray | None = None         # (n, C, H, W) in [0, 1]
    description: str = ""
    columns: dict[str, np.ndarray] = field(default_factory=dict)   # extra columns to colour by
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.x)

    def hover_text(self, i: int) -> str:
        if self.hover is not None:
            return str(self.hover[i])
        return f"row {i}" + (f", {self.label_text(i)}" if self.labels is not None else "")

    def label_text(self, i: int) -> str:
        if self.labels is None:
            return ""
        lab = self.labels[i]
        if self.class_names is not None and np.issubdtype(np.asarray(self.labels).dtype, np.integer):
            return self.class_names[int(lab)]
        return str(lab)

    def take(self, idx: np.ndarray) -> "Source":
        """The rows idx (a sample), every per-row field cut the same way."""
        idx = np.asarray(idx)
        return Source(self.name, self.x[idx], None if self.labels is None else np.asarray(self.labels)[idx],
                      self.class_names, None if self.hover is None else [self.hover[i] for i in idx],
                      None if self.images is None else self.images[idx], self.description,
                      {k: np.asarray(v)[idx] for k, v in self.columns.items()}, list(self.notes))


IMAGE_SETS = ("digits", "rotations", "shapes", "mnist", "fashion_mnist")
REPRESENTATIONS = {"pixels": "raw pixels", "ae": "autoencoder codes", "vae": "VAE codes (posterior means)",
                   "cnn": "CNN features (EfficientNet-Lite0, ImageNet)"}


def source_names() -> list[str]:
    """Names `load_source` accepts: digits, digits-ae, digits-vae, digits-cnn, <set>, <set>-cnn, words."""
    out = []
    for ds in IMAGE_SETS:
        out.append(ds)
        if ds == "digits":
            out += ["digits-ae", "digits-vae"]
        out.append(f"{ds}-cnn")
    return out + ["words"]


def _images_of(dataset: str):
    """(images (n,C,H,W) float32 in [0,1], labels, class_names, description) of a dataset, in a fixed order.

    digits: all 1,797 images in scikit-learn's load_digits order (not dlplay's train/test split), so a row of
    the CLI's output is the same row of load_digits(). Generated sets: train then test. MNIST and
    Fashion-MNIST: the 10,000 test images."""
    if dataset == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x = (d.images / 16.0).astype(np.float32)[:, None]
        return x, d.target.astype(np.int64), [str(i) for i in range(10)], \
            "all 1,797 scikit-learn digits (8x8), in load_digits order"
    from . import data

    ds = data.load(dataset)
    if dataset in ("mnist", "fashion_mnist"):
        return ds.x_test.numpy(), ds.y_test.numpy(), ds.class_names, f"the {len(ds.x_test):,} {dataset} test images"
    x = np.concatenate([ds.x_train.numpy(), ds.x_test.numpy()])
    y = np.concatenate([ds.y_train.numpy(), ds.y_test.numpy()])
    return x, y, ds.class_names, f"all {len(x):,} {dataset} images ({ds.image_shape[1]}x{ds.image_shape[2]})"


def encode_images(images: np.ndarray, representation: str) -> np.ndarray:
    """Vectors (n, d) for images (n, C, H, W): pixels, the shipped autoencoder's or VAE's code, or CNN features."""
    import torch

    if representation == "pixels":
        return images.reshape(len(images), -1).astype(np.float32)
    if representation in ("ae", "vae"):
        from . import checkpoints

        # The VAE with an 8-number latent when shipped (more to project than the 2-D one), else the 2-D one.
        names = ["autoencoder_digits"] if representation == "ae" else ["vae_digits_z8", "vae_digits"]
        have = [n for n in names if (checkpoints.SHIPPED_DIR / f"{n}.pt").exists()]
        if not have:
            raise InputError(f"The {REPRESENTATIONS[representation]} need the shipped checkpoint {names[-1]!r}, "
                             "which is not part of this version of dlplay yet.")
        path = checkpoints.shipped(have[0])
        model = checkpoints.load(path)[0]
        with torch.no_grad():
            out = model.encode(torch.as_tensor(images))
            out = out[0] if isinstance(out, (tuple, list)) else out   # the VAE returns (mean, log-variance)
        return out.detach().cpu().numpy().reshape(len(images), -1).astype(np.float32)
    if representation == "cnn":
        try:
            from .backbones import image_features
        except ImportError:
            raise InputError("CNN features need dlplay.backbones (the pretrained EfficientNet-Lite0), which is not "
                             "part of this version of dlplay yet.") from None
        return np.asarray(image_features(images), np.float32).reshape(len(images), -1)
    raise InputError(f"Unknown representation {representation!r}: choose one of {', '.join(REPRESENTATIONS)}.")


def missing_piece(name: str) -> str | None:
    """Why a built-in source cannot be loaded on this machine (a sentence), or None when it can; cheap."""
    import importlib.util

    from . import checkpoints
    from .data import dataset_names

    ds, _, rep = name.partition("-")
    if name == "words" and importlib.util.find_spec("dlplay.words") is None:
        return "word vectors need the Words page's module (dlplay.words), not in this version yet"
    if rep == "cnn" and importlib.util.find_spec("dlplay.backbones") is None:
        return "CNN features need dlplay.backbones (EfficientNet-Lite0), not in this version yet"
    if rep == "ae" and not (checkpoints.SHIPPED_DIR / "autoencoder_digits.pt").exists():
        return "autoencoder codes need the shipped checkpoint autoencoder_digits, not there yet"
    if rep == "vae" and not any((checkpoints.SHIPPED_DIR / f"{n}.pt").exists() for n in ("vae_digits", "vae_digits_z8")):
        return "VAE codes need the shipped checkpoint vae_digits, not there yet"
    if ds in ("mnist", "fashion_mnist") and ds not in dataset_names(available_only=True):
        return f"{ds} is not downloaded (python -m dlplay download {ds})"
    return None


def load_source(name: str) -> Source:
    """A built-in source by name (see source_names())."""
    if name == "words":
        try:
            from .words import shipped_vectors
        except ImportError:
            raise InputError("Word vectors need dlplay.words, which is not part of this version of dlplay yet.") from None
        words, vectors = shipped_vectors()
        return Source("words", np.asarray(vectors, np.float32), hover=list(words),
                      description=f"{len(words):,} word vectors shipped with the Words page")
    ds, _, rep = name.partition("-")
    rep = rep or "pixels"
    if ds not in IMAGE_SETS or rep not in REPRESENTATIONS or (rep in ("ae", "vae") and ds != "digits"):
        raise InputError(f"Unknown source {name!r}: choose one of {', '.join(source_names())}, or give a "
                         ".csv / .tsv / .npy file.")
    images, labels, classes, blurb = _images_of(ds)
    x = encode_images(images, rep)
    hover = [f"#{i}: {classes[int(k)]}" for i, k in enumerate(labels)]
    return Source(name, x, labels, classes, hover, images, f"{REPRESENTATIONS[rep]} ({x.shape[1]} numbers) of {blurb}")


# ------------------------------------------------------------------------------------------------ uploads

_MISSING = {"", "nan", "na", "n/a", "null", "none", "?"}
LABEL_NAMES = ("label", "labels", "class", "target", "category", "digit", "species", "word", "name")


def _num(s: str) -> float:
    """A cell as a float; missing tokens give NaN; anything else raises ValueError."""
    s = s.strip()
    if s.lower() in _MISSING:
        return math.nan
    return float(s)


def _is_number(s: str) -> bool:
    try:
        _num(s)
        return True
    except ValueError:
        return False


@dataclass
class Table:
    """An uploaded table: the numeric columns to embed, and an optional label column and text columns."""
    x: np.ndarray                      # (n, d) float32
    columns: list[str]                 # names of the numeric columns
    labels: np.ndarray | None = None   # (n,) str
    label_name: str | None = None
    text: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_source(self, name: str = "upload") -> Source:
        hover = None
        first_text = next(iter(self.text.values()), None)
        if first_text is not None or self.labels is not None:
            hover = [f"row {i + 1}: " + " | ".join(str(v) for v in (
                ([self.labels[i]] if self.labels is not None else []) +
                ([first_text[i]] if first_text is not None and first_text is not self.text.get(self.label_name) else [])))
                for i in range(len(self.x))]
        cols = {c: self.x[:, j] for j, c in enumerate(self.columns[:50])}
        cols.update({k: np.asarray(v) for k, v in self.text.items() if k != self.label_name})
        return Source(name, self.x, self.labels, None, hover, None,
                      f"uploaded table: {len(self.x):,} rows x {self.x.shape[1]} numeric columns"
                      + (f", labels from column {self.label_name!r}" if self.label_name else ""), cols, list(self.notes))


def read_table(data: bytes, name: str = "table.csv", *, drop_missing: bool = False, max_rows: int = MAX_ROWS,
               max_columns: int = MAX_COLUMNS, max_bytes: int = MAX_UPLOAD_BYTES) -> Table:
    """Read an uploaded CSV / TSV (optional header, optional label column) or .npy table from bytes.

    Refuses with InputError, naming the row and column: ragged rows, text in a numeric column, infinite values,
    too few or too many rows or columns, tables whose rows are all the same. Missing values (NaN, empty cells)
    are refused too unless drop_missing=True, which leaves those rows out and says how many in `notes`.
    """
    if not data:
        raise InputError("The table file is empty (0 bytes).")
    if len(data) > max_bytes:
        raise InputError(f"The table file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    if data[:6] == b"\x93NUMPY" or name.lower().endswith(".npy"):
        table = _read_npy(data)
    else:
        from .data import read_text

        table = _read_delimited(read_text(data, max_bytes=max_bytes, what="table file"), name, max_rows)
    return _validate(table, drop_missing, max_rows, max_columns)


def _read_npy(data: bytes) -> Table:
    try:
        a = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e) or "object" in str(e).lower():
            raise InputError("This .npy file holds Python objects, not numbers; save a plain numeric array "
                             "(np.save with a float or int array).") from None
        raise InputError(f"This is not a readable .npy file ({e}).") from None
    except (OSError, EOFError) as e:
        raise InputError(f"This is not a readable .npy file; it may be truncated ({type(e).__name__}).") from None
    if not isinstance(a, np.ndarray):
        raise InputError("This .npy file does not hold one array (an .npz archive is not supported).")
    if a.dtype.names or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) or np.iscomplexobj(a):
        raise InputError(f"The .npy array has type {a.dtype}; it must hold real numbers (float or int).")
    if a.ndim != 2:
        raise InputError(f"The .npy array has shape {a.shape}; it must be a table shaped (rows, columns), "
                         "that is 2-D.")
    return Table(a.astype(np.float32), [f"c{j}" for j in range(a.shape[1])])


def _read_delimited(text: str, name: str, max_rows: int) -> Table:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if name.lower().endswith(".tsv") or "\t" in first:
        delim = "\t"
    elif ";" in first and "," not in first:
        delim = ";"
    else:
        delim = ","
    rows: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue  # blank line
            rows.append(row)
            lines.append(reader.line_num)
            if len(rows) > max_rows + 1:
                raise InputError(f"The table has more than {max_rows:,} rows; the limit is {max_rows:,}. "
                                 "Upload a sample of it.")
    except csv.Error as e:
        raise InputError(f"The table could not be read as {'TSV' if delim == chr(9) else 'CSV'} near line "
                         f"{reader.line_num} ({e}).") from None
    if not rows:
        raise InputError("The table file has no rows.")
    width = len(rows[0])
    for r, ln in zip(rows, lines):
        if len(r) != width:
            raise InputError(f"Line {ln} has {len(r)} cells but the first line has {width}: every row must have "
                             "the same number of columns.")
    # A header: the first row has a non-number where the second row has a number, or is all text.
    first_nums = [_is_number(c) for c in rows[0]]
    header = False
    if len(rows) > 1:
        second_nums = [_is_number(c) for c in rows[1]]
        header = any(not a and b for a, b in zip(first_nums, second_nums)) or not any(first_nums)
    names = [c.strip() or f"column {j + 1}" for j, c in enumerate(rows[0])] if header else \
        [f"column {j + 1}" for j in range(width)]
    body, body_lines = (rows[1:], lines[1:]) if header else (rows, lines)
    if len(body) > max_rows:
        raise InputError(f"The table has {len(body):,} rows; the limit is {max_rows:,}. Upload a sample of it.")
    if not body:
        raise InputError("The table has a header but no data rows.")
    # Text columns: non-numbers in the first data row. The label column: a column named like a label, else the
    # first text column.
    text_cols = [j for j, c in enumerate(body[0]) if not _is_number(c)]
    named = [j for j, n in enumerate(names) if n.lower() in LABEL_NAMES]
    label_col = named[0] if named else (text_cols[0] if text_cols else None)
    skip = set(text_cols) | ({label_col} if label_col is not None else set())
    num_cols = [j for j in range(width) if j not in skip]
    if not num_cols:
        raise InputError("The table has no numeric columns to embed (every column holds text).")
    x = np.empty((len(body), len(num_cols)), np.float32)
    for i, row in enumerate(body):
        try:
            x[i] = [_num(row[j]) for j in num_cols]
        except ValueError:
            for j in num_cols:
                if not _is_number(row[j]):
                    raise InputError(f"Line {body_lines[i]}, column {names[j]!r}: {row[j].strip()[:30]!r} is not a "
                                     "number (only the label column may hold text).") from None
    labels = np.array([row[label_col].strip() for row in body]) if label_col is not None else None
    text = {names[j]: [row[j].strip() for row in body] for j in text_cols}
    t = Table(x, [names[j] for j in num_cols], labels, names[label_col] if label_col is not None else None, text)
    t.notes.append(f"Read {len(body):,} rows and {len(num_cols)} numeric columns"
                   + (" (first line: header)" if header else " (no header line)")
                   + (f"; labels from column {names[label_col]!r}" if label_col is not None else "") + ".")
    t._lines = body_lines  # type: ignore[attr-defined]  (file line numbers, for messages)
    return t


def _validate(t: Table, drop_missing: bool, max_rows: int, max_columns: int) -> Table:
    x = t.x
    lines = getattr(t, "_lines", None)
    where = (lambda i: f"line {lines[i]}") if lines else (lambda i: f"row {i}")
    if len(x) > max_rows:
        raise InputError(f"The table has {len(x):,} rows; the limit is {max_rows:,}. Upload a sample of it.")
    if x.shape[1] > max_columns:
        raise InputError(f"The table has {x.shape[1]:,} numeric columns; the limit is {max_columns:,}.")
    if x.shape[1] < 2:
        raise InputError(f"The table has only {x.shape[1]} numeric column; an embedding needs at least 2.")
    bad = np.isinf(x)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(f"{where(i).capitalize()}, column {t.columns[j]!r} is infinite ({x[i, j]}); replace it "
                         "with a finite number or remove the row.")
    missing = np.isnan(x).any(1)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        j = int(np.flatnonzero(np.isnan(x[i]))[0])
        if not drop_missing:
            raise InputError(f"{int(missing.sum()):,} rows have missing values (NaN or empty cells), the first at "
                             f"{where(i)}, column {t.columns[j]!r}. Choose 'drop rows with missing values' to "
                             "leave them out, or fill them in.")
        keep = ~missing
        t.x = x = x[keep]
        if t.labels is not None:
            t.labels = t.labels[keep]
        t.text = {k: [v for v, m in zip(vs, keep) if m] for k, vs in t.text.items()}
        t.notes.append(f"Dropped {int(missing.sum()):,} rows with missing values (the first at {where(i)}).")
    if len(x) < MIN_ROWS:
        raise InputError(f"The table has {len(x)} usable row{'s' if len(x) != 1 else ''}; an embedding needs at "
                         f"least {MIN_ROWS}.")
    distinct = len(np.unique(x, axis=0))
    if distinct < 3:
        raise InputError(f"The table's {len(x):,} rows are only {distinct} distinct point"
                         f"{'s' if distinct != 1 else ''} (duplicates); an embedding needs at least 3.")
    if distinct < len(x):
        t.notes.append(f"{len(x) - distinct:,} rows duplicate other rows; they will land on the same spot.")
    return t


# ------------------------------------------------------------------------------------------------ methods

@dataclass
class Progress:
    """What a running method reports: the share done, a sentence, and (t-SNE) the current layout."""
    fraction: float
    text: str
    coords: np.ndarray | None = None
    iteration: int = 0


ProgressFn = Callable[[Progress], "bool | None"]   # return True to stop


def n_jobs() -> int:
    """Threads for openTSNE / Isomap / LLE: $DLPLAY_THREADS, else every core when the machine is idle, else one.

    openTSNE's threads wait for each other every iteration; on a machine already busier than half its cores
    (a room of students, other runs) two threads measured 4x slower than one, while on an idle laptop two are
    ~1.7x faster. The 1-minute load average decides."""
    if os.environ.get("DLPLAY_THREADS"):
        return max(1, int(os.environ["DLPLAY_THREADS"]))
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:  # not available on this platform
        busy = 0.0
    return cores if busy < 0.5 * cores else 1


def sample_indices(n: int, method: str, seed: int = 0, max_points: int | None = None) -> np.ndarray:
    """All rows, or a seeded random sample (kept in row order) when n exceeds what the method may be given."""
    cap = min(MAX_POINTS[method], max_points or MAX_POINTS[method])
    if n <= cap:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, cap, replace=False))


class Embedder:
    """One of METHODS with its knobs, scikit-learn style: parameters in __init__, results in attributes ending _.

        emb = Embedder("tsne", dim=2, perplexity=30, seed=0).fit(x, progress=print)
        emb.embedding_        # (n, dim) float32
        emb.seconds_          # time spent computing (over all fit calls)
        emb.done_             # False when a t-SNE was stopped: fit(x) again resumes where it stopped

    Knobs (each bounded, InputError outside): t-SNE perplexity 2-100, learning_rate 'auto' or 10-10000,
    early_exaggeration 1-50 for exaggeration_iter 0-1000 iterations (250), then n_iter 50-2000; UMAP n_neighbors 2-200, min_dist 0-1;
    Isomap / LLE n_neighbors 3-100.
    """

    def __init__(self, method: str = "tsne", dim: int = 2, seed: int = 0, *, perplexity: float = 30.0,
                 learning_rate: float | str = "auto", early_exaggeration: float = 12.0, n_iter: int = 500,
                 n_neighbors: int = 15, min_dist: float = 0.1, exaggeration_iter: int = TSNE_EXAGGERATION_ITER,
                 every: int = 25):
        if method not in METHODS:
            raise InputError(f"Unknown method {method!r}: choose one of {', '.join(METHODS)}.")
        if dim not in (2, 3):
            raise InputError(f"dim = {dim}: layouts are 2-D or 3-D.")
        self.method, self.dim, self.seed = method, int(dim), int(check_range("seed", seed, 0, 2**31 - 1))
        self.perplexity = float(check_range("perplexity", perplexity, 2, 100))
        if learning_rate != "auto":
            learning_rate = float(check_range("learning rate", learning_rate, 10, 10_000, " (or 'auto')"))
        self.learning_rate = learning_rate
        self.early_exaggeration = float(check_range("early exaggeration", early_exaggeration, 1, 50))
        self.n_iter = int(check_range("iterations", n_iter, 50, 2000))
        self.exaggeration_iter = int(check_range("early exaggeration iterations", exaggeration_iter, 0, 1000))
        lo, hi = (2, 200) if method == "umap" else (3, 100)
        self.n_neighbors = int(check_range("neighbours", n_neighbors, lo, hi))
        self.min_dist = float(check_range("min_dist", min_dist, 0, 1))
        self.every = max(1, int(every))
        self.embedding_: np.ndarray | None = None
        self.seconds_ = 0.0
        self.done_ = False
        self.iteration_ = 0
        self.kl_ = math.nan
        self.notes_: list[str] = []
        self._tsne = None          # openTSNE's TSNEEmbedding while a t-SNE is in progress
        self._n = None

    @property
    def total_iterations(self) -> int:
        return self.exaggeration_iter + self.n_iter if self.method == "tsne" else 0

    def params(self) -> dict:
        """The knobs that matter for this method (for captions, JSON and caching)."""
        p = {"method": self.method, "dim": self.dim, "seed": self.seed}
        if self.method == "tsne":
            p.update(perplexity=self.perplexity, learning_rate=self.learning_rate,
                     early_exaggeration=self.early_exaggeration, n_iter=self.n_iter)
        elif self.method == "umap":
            p.update(n_neighbors=self.n_neighbors, min_dist=self.min_dist)
        elif self.method in ("isomap", "lle"):
            p.update(n_neighbors=self.n_neighbors)
        return p

    def fit(self, x: np.ndarray, progress: ProgressFn | None = None) -> "Embedder":
        x = np.ascontiguousarray(x, np.float32)
        n = len(x)
        if x.ndim != 2 or n < MIN_ROWS:
            raise InputError(f"An embedding needs at least {MIN_ROWS} points given as a (points, numbers) table; "
                             f"got shape {x.shape}.")
        if n > MAX_POINTS[self.method]:
            raise InputError(f"{self.method.upper()} takes at most {MAX_POINTS[self.method]:,} points (its cost "
                             f"grows quickly with n); got {n:,}. Use a random sample.")
        if not np.isfinite(x).all():
            raise InputError("The vectors contain NaN or infinite values.")
        if self._n is not None and self._n != n:
            self._tsne, self.done_, self.iteration_ = None, False, 0
        self._n = n
        if self.done_:
            return self
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if self.method == "tsne":
                    self._fit_tsne(x, progress)
                else:
                    self.embedding_ = np.asarray(getattr(self, f"_fit_{self.method}")(x, progress), np.float32)
                    self.done_ = True
        finally:
            self.seconds_ += time.perf_counter() - t0
        return self

    # -- t-SNE (openTSNE), in its two phases, reporting every `every` iterations -------------------------------
    def _fit_tsne(self, x, progress):
        from openTSNE import TSNE
        from openTSNE.tsne import OptimizationInterrupt

        if self._tsne is None:
            perplexity = self.perplexity
            if 3 * perplexity >= len(x):
                perplexity = max(1.0, (len(x) - 1) / 3)
                self.notes_.append(f"Perplexity lowered to {perplexity:.1f}: with {len(x)} points it must stay "
                                   "below a third of the number of points.")
            if progress:
                progress(Progress(0.0, "t-SNE: finding each point's nearest neighbours (the p_ij) ..."))
            # FFT-accelerated gradients handle only 1-D and 2-D layouts; Barnes-Hut works in 3-D too.
            tsne = TSNE(n_components=self.dim, perplexity=perplexity, learning_rate=self.learning_rate,
                        early_exaggeration=self.early_exaggeration, early_exaggeration_iter=self.exaggeration_iter,
                        n_iter=self.n_iter, negative_gradient_method="bh" if self.dim == 3 else "auto",
                        n_jobs=n_jobs(), random_state=self.seed)
            self._tsne = tsne.prepare_initial(x)       # affinities P plus a PCA initialisation
            self._momentum = tsne.initial_momentum, tsne.final_momentum
            self.iteration_ = 0
            self.embedding_ = np.asarray(self._tsne, np.float32).copy()
        total = self.total_iterations
        raised: list[BaseException] = []

        def callback(start):
            def cb(it, kl, emb):
                # openTSNE calls back after computing gradient number `it`, before applying it: `it - 1` updates
                # are in `emb`. Counting those makes a resume redo exactly the step that was interrupted.
                self.iteration_ = start + it - 1
                self.kl_ = float(kl)
                self.embedding_ = np.asarray(emb, np.float32).copy()
                if progress is None:
                    return False
                phase = "early exaggeration" if self.iteration_ < self.exaggeration_iter else "main phase"
                try:
                    return bool(progress(Progress(self.iteration_ / total, f"t-SNE iteration {self.iteration_}/"
                                                  f"{total} ({phase}), KL divergence {kl:.3f}",
                                                  self.embedding_, self.iteration_)))
                except BaseException as e:  # noqa: BLE001 - e.g. Streamlit's rerun: stop cleanly, re-raise after
                    raised.append(e)
                    return True  # openTSNE then un-exaggerates P before it stops, so a resume starts clean
            return cb

        phases = [(self.exaggeration_iter, self.early_exaggeration, self._momentum[0]),
                  (total, None, self._momentum[1])]
        for end, exaggeration, momentum in phases:
            if self.iteration_ >= end:
                continue
            try:
                self._tsne.optimize(n_iter=end - self.iteration_, exaggeration=exaggeration, momentum=momentum,
                                    inplace=True, propagate_exception=True, callbacks=[callback(self.iteration_)],
                                    callbacks_every_iters=self.every)
            except OptimizationInterrupt:
                self.embedding_ = np.asarray(self._tsne, np.float32).copy()
                if raised:
                    raise raised[0]
                return  # stopped by the progress callback; fit() again resumes from self.iteration_
            self.iteration_ = end
            self.kl_ = float(getattr(self._tsne, "kl_divergence", math.nan))
        self.embedding_ = np.asarray(self._tsne, np.float32).copy()
        self.done_ = True
        self._tsne = None  # free the affinities

    # -- the others: one library call each ---------------------------------------------------------------------
    def _fit_pca(self, x, progress):
        from sklearn.decomposition import PCA

        return PCA(n_components=min(self.dim, x.shape[1]), random_state=self.seed).fit_transform(x)

    def _fit_umap(self, x, progress):
        import umap

        kw = {}
        if len(x) >= 4096:
            # umap-learn's own neighbour search (pynndescent) compiles for about a minute on first use; Annoy
            # (bundled with openTSNE, compiled C++) finds the same k-nearest-neighbour graph without that wait.
            kw["precomputed_knn"] = knn_graph(x, self.n_neighbors, self.seed, progress)
        n_neighbors = min(self.n_neighbors, len(x) - 1)
        stream = _TqdmStream(progress, "UMAP: optimising the layout")
        if progress:
            progress(Progress(0.05, "UMAP: building the fuzzy neighbour graph ..."))
        reducer = umap.UMAP(n_components=self.dim, n_neighbors=n_neighbors, min_dist=self.min_dist,
                            random_state=self.seed, tqdm_kwds={"disable": progress is None, "file": stream,
                                                               "mininterval": 0.2}, **kw)
        out = reducer.fit_transform(x)
        if stream.raised:
            raise stream.raised[0]
        return out

    def _fit_mds(self, x, progress):
        from sklearn.manifold import MDS

        if progress:
            progress(Progress(0.1, f"MDS: SMACOF on all {len(x) * (len(x) - 1) // 2:,} pairwise distances ..."))
        return MDS(n_components=self.dim, n_init=1, init="classical_mds", max_iter=300,
                   random_state=self.seed).fit_transform(x.astype(np.float64))

    def _fit_isomap(self, x, progress):
        from sklearn.manifold import Isomap

        if progress:
            progress(Progress(0.1, "Isomap: shortest paths through the neighbour graph ..."))
        return Isomap(n_neighbors=min(self.n_neighbors, len(x) - 1), n_components=self.dim,
                      n_jobs=n_jobs()).fit_transform(x)

    def _fit_lle(self, x, progress):
        from sklearn.manifold import LocallyLinearEmbedding

        if progress:
            progress(Progress(0.1, "LLE: reconstruction weights from each point's neighbours ..."))
        k = min(self.n_neighbors, len(x) - 1)
        return LocallyLinearEmbedding(n_neighbors=k, n_components=self.dim, random_state=self.seed,
                                      eigen_solver="arpack" if len(x) > 2000 else "auto",
                                      n_jobs=n_jobs()).fit_transform(x.astype(np.float64))


class _TqdmStream(io.StringIO):
    """A file for umap-learn's tqdm bar: turns 'n/total' in what it writes into Progress reports."""
    _pat = re.compile(r"(\d+)/(\d+)")

    def __init__(self, progress: ProgressFn | None, text: str):
        super().__init__()
        self.progress, self.text, self.raised = progress, text, []

    def write(self, s: str) -> int:
        m = self._pat.findall(s)
        if m and self.progress and not self.raised:
            n, total = map(int, m[-1])
            try:
                self.progress(Progress(0.1 + 0.9 * n / max(total, 1), f"{self.text}: epoch {n}/{total}"))
            except BaseException as e:  # noqa: BLE001 - re-raised by the caller after umap returns control
                self.raised.append(e)
                raise
        return len(s)


def knn_graph(x: np.ndarray, k: int, seed: int = 0, progress: ProgressFn | None = None):
    """(indices, distances) of each point's k nearest neighbours, the point itself first (umap-learn's format),
    from Annoy random-projection trees (openTSNE's bundled copy)."""
    from openTSNE.nearest_neighbors import Annoy

    if progress:
        progress(Progress(0.02, f"UMAP: finding {k} nearest neighbours of {len(x):,} points (Annoy) ..."))
    idx, dist = Annoy(x, k - 1, n_jobs=1, random_state=seed).build()
    me = np.arange(len(x))[:, None]
    return np.hstack([me, idx]).astype(np.int64), np.hstack([np.zeros((len(x), 1)), dist]).astype(np.float32), None


def embed(x: np.ndarray, method: str = "tsne", dim: int = 2, seed: int = 0, progress: ProgressFn | None = None,
          **knobs) -> np.ndarray:
    """One call: the (n, dim) layout of x by `method`."""
    return Embedder(method, dim, seed, **knobs).fit(x, progress).embedding_


# ------------------------------------------------------------------------------------------------ warm-up

_WARM = {"thread": None, "seconds": None, "error": None}
_WARM_LOCK = threading.Lock()


def warm_up_umap() -> float:
    """Run umap-learn once on a tiny random set so numba compiles its functions now (about 12-20 s on a laptop),
    through both code paths the page uses (small data: exact distances; large data: a precomputed k-NN graph)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Embedder("umap", 2, 0, n_neighbors=10).fit(x)
        import umap

        umap.UMAP(n_neighbors=10, random_state=0, n_epochs=20,
                  precomputed_knn=knn_graph(x, 10)).fit_transform(x)
    return time.perf_counter() - t0


def warm_up_in_background(delay: float = 2.0) -> threading.Thread | None:
    """Start warm_up_umap in a daemon thread once per process (idempotent). The server calls this at start-up so
    the first UMAP a user asks for is not slowed by compilation; `delay` lets the first page paint first."""
    with _WARM_LOCK:
        if os.environ.get("DLPLAY_WARMUP", "1") == "0" or "PYTEST_CURRENT_TEST" in os.environ:
            return None  # switched off, or inside a test run where it would only compete for the CPU
        if _WARM["thread"] is None:
            def work():
                time.sleep(delay)
                try:
                    _WARM["seconds"] = warm_up_umap()
                except Exception as e:  # noqa: BLE001 - a failed warm-up only means a slower first UMAP
                    _WARM["error"] = f"{type(e).__name__}: {e}"
            _WARM["thread"] = threading.Thread(target=work, name="dlplay-umap-warmup", daemon=True)
            _WARM["thread"].start()
        return _WARM["thread"]


def umap_warm() -> bool:
    return _WARM["seconds"] is not None


# ------------------------------------------------------------------------------------------------ quality

def quality(x: np.ndarray, y: np.ndarray, k: int = QUALITY_K, max_points: int = QUALITY_MAX_POINTS,
            seed: int = 0) -> dict:
    """How well a layout y keeps the neighbourhoods of x.

    trustworthiness (scikit-learn; Venna and Kaski 2001): 1 minus a penalty for points that are among a point's
    k nearest in the layout but not in the original space (1 = no intruders). It needs an n x n rank matrix, so
    above max_points it is computed on a seeded random sample of max_points points.
    knn_kept: the share of each point's k nearest original neighbours that are also among its k nearest in the
    layout, averaged over points (over a sample of max_points query points when n is larger; their neighbours
    are searched among all points, so the estimate is unbiased).
    """
    from sklearn.manifold import trustworthiness
    from sklearn.neighbors import NearestNeighbors

    x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
    n = len(x)
    k = int(min(k, (n - 1) // 2))
    if k < 1:
        raise InputError("Too few points to measure neighbourhoods.")
    rng = np.random.default_rng(seed)
    sample = np.arange(n) if n <= max_points else np.sort(rng.choice(n, max_points, replace=False))
    tw = float(trustworthiness(x[sample], y[sample], n_neighbors=k))
    nx = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x[sample], return_distance=False)
    ny = NearestNeighbors(n_neighbors=k + 1).fit(y).kneighbors(y[sample], return_distance=False)
    kept = np.mean([len((set(a) - {i}) & (set(b) - {i})) / k for i, a, b in zip(sample, nx, ny)])
    return {"trustworthiness": tw, "knn_kept": float(kept), "k": k, "n_used": int(len(sample)), "n": n}


def neighbours(x: np.ndarray, y: np.ndarray, i: int, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Indices of point i's k nearest neighbours in the original space x and in the layout y (i itself left out)."""
    from sklearn.neighbors import NearestNeighbors

    k = int(min(k, len(x) - 1))
    out = []
    for a in (x, y):
        idx = NearestNeighbors(n_neighbors=k + 1).fit(a).kneighbors(a[i:i + 1], return_distance=False)[0]
        out.append(np.array([j for j in idx if j != i][:k]))
    return out[0], out[1]


def three_blobs(n: int = 100, dim: int = 10, seed: int = 0) -> Source:
    """The 'how to read t-SNE' set: three Gaussian clusters in dim dimensions, one tight (std 1) and two wide
    (std 4), the wide ones 15 apart and the tight one 60 away. t-SNE draws them the same size, equally far apart."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((3, dim))
    centres[1, 0] = 15.0
    centres[2, 0] = 60.0
    stds = [4.0, 4.0, 1.0]
    x = np.concatenate([rng.normal(c, s, size=(n, dim)) for c, s in zip(centres, stds)]).astype(np.float32)
    labels = np.repeat(np.arange(3), n)
    names = ["A (wide, std 4)", "B (wide, std 4, 15 from A)", "C (tight, std 1, 60 from A)"]
    return Source("three blobs", x, labels, names, [f"{names[k]} #{i}" for i, k in enumerate(labels)],
                  description=f"three Gaussian clusters of {n} points in {dim}-D")


# ------------------------------------------------------------------------------------------------ figures

def _palette(n: int) -> list[str]:
    from plotly.colors import qualitative

    from .viz import PALETTE

    pal = list(PALETTE) + qualitative.Dark2 + qualitative.Set1 + qualitative.Pastel
    return [pal[i % len(pal)] for i in range(n)]


def colour_groups(values, class_names=None, max_groups: int = 40):
    """How to colour by `values`: ('groups', [(name, idx)]) for few distinct values, ('scale', floats) for many
    numbers, ('none', None) for many strings."""
    if values is None:
        return "none", None
    v = np.asarray(values)
    uniq = np.unique(v)
    if len(uniq) <= max_groups:
        groups = []
        for u in uniq:
            name = class_names[int(u)] if class_names is not None and np.issubdtype(v.dtype, np.integer) \
                and 0 <= int(u) < len(class_names) else str(u)
            groups.append((name, np.flatnonzero(v == u)))
        return "groups", groups
    if np.issubdtype(v.dtype, np.number):
        return "scale", v.astype(np.float64)
    return "none", None


def layout_figure(coords: np.ndarray, *, colour=None, colour_name: str = "", class_names=None, hover=None,
                  title: str | None = None, selected: int | None = None, neighbours_idx=None,
                  highlight=None, marker_size: int | None = None, height: int = 640, thumbnails=None):
    """Scatter of a 2-D or 3-D layout. customdata = row index (for click selection). `selected` is ringed, its
    layout neighbours outlined; `highlight` (search matches) drawn large; `thumbnails` = (idx, images) draws those
    images at their points (2-D only)."""
    import plotly.graph_objects as go

    xy = np.asarray(coords, np.float32)
    n, d = xy.shape
    three = d >= 3
    big = n > 5000
    size = marker_size or (3 if big else 5 if n > 1000 else 7)
    Sc = go.Scatter3d if three else (go.Scattergl if big else go.Scatter)

    def pts(idx):
        out = dict(x=xy[idx, 0], y=xy[idx, 1])
        if three:
            out["z"] = xy[idx, 2]
        return out

    def text(idx):
        return None if hover is None else [str(hover[j]) for j in idx]

    tmpl = "%{text}<extra></extra>" if hover is not None else "#%{customdata}<extra></extra>"
    fig = go.Figure()
    kind, groups = colour_groups(colour, class_names)
    if kind == "groups":
        for (name, idx), col in zip(groups, _palette(len(groups))):
            fig.add_trace(Sc(**pts(idx), mode="markers", name=name, customdata=idx, text=text(idx),
                             hovertemplate=tmpl, marker=dict(size=size, color=col, opacity=0.8)))
    else:
        idx = np.arange(n)
        marker = dict(size=size, opacity=0.8)
        if kind == "scale":
            marker.update(color=groups, colorscale="Viridis", showscale=True,
                          colorbar=dict(title=dict(text=colour_name[:20]), thickness=12))
        fig.add_trace(Sc(**pts(idx), mode="markers", name="points", customdata=idx, text=text(idx),
                         hovertemplate=tmpl, marker=marker, showlegend=False))
    if highlight is not None and len(highlight):
        h = np.asarray(highlight)
        fig.add_trace(Sc(**pts(h), mode="markers", name="search matches", customdata=h, text=text(h),
                         hovertemplate=tmpl, marker=dict(size=size + 8, color="rgba(0,0,0,0)",
                                                         line=dict(color="black", width=2))))
    if selected is not None:
        if neighbours_idx is not None and len(neighbours_idx):
            nb = np.asarray(neighbours_idx)
            fig.add_trace(Sc(**pts(nb), mode="markers", name="its neighbours in the layout", customdata=nb,
                             text=text(nb), hovertemplate=tmpl,
                             marker=dict(size=size + 6, color="rgba(0,0,0,0)", line=dict(color="#d62728", width=2))))
        s = np.array([selected])
        fig.add_trace(Sc(**pts(s), mode="markers", name="selected point", customdata=s, text=text(s),
                         hovertemplate=tmpl, marker=dict(size=size + 12, color="rgba(0,0,0,0)", symbol="circle",
                                                         line=dict(color="black", width=3))))
    if thumbnails is not None and not three:
        _add_thumbnails(fig, xy, *thumbnails)
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      legend=dict(itemsizing="constant", title=dict(text=colour_name) if colour_name else None),
                      dragmode="pan" if three else "zoom", uirevision="layout", hoverlabel=dict(font_size=14))
    if three:
        fig.update_layout(scene=dict(xaxis_title="", yaxis_title="", zaxis_title="", aspectmode="data"))
    else:
        fig.update_yaxes(showticklabels=False, title=None)  # no equal aspect: the plot fills the projector
        fig.update_xaxes(showticklabels=False, title=None)
    return fig


def _add_thumbnails(fig, xy, idx, images):
    """Draw images (n, C, H, W) centred on their points as plotly layout images (they zoom with the plot)."""
    import base64

    from PIL import Image

    from .viz import as_images

    span = float(max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1e-9))
    side = span / 28
    for j, im in zip(idx, as_images(images)):
        a = (np.repeat(im, 3, -1) if im.shape[-1] == 1 else im)
        a = (255 - (a * 255).round().astype(np.uint8)) if im.shape[-1] == 1 else (a * 255).round().astype(np.uint8)
        rgba = np.dstack([a, np.where(a.min(-1) > 245, 0, 230).astype(np.uint8)])  # white made transparent
        buf = io.BytesIO()
        Image.fromarray(rgba, "RGBA").resize((32, 32), Image.NEAREST).save(buf, format="PNG")
        fig.add_layout_image(source="data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(),
                             x=float(xy[j, 0]), y=float(xy[j, 1]), xref="x", yref="y", sizex=side, sizey=side,
                             xanchor="center", yanchor="middle", layer="above")


def thumbnail_sample(coords: np.ndarray, k: int = 300, seed: int = 0) -> np.ndarray:
    """Up to k points spread over the layout (one per occupied cell of a grid), for the thumbnail layer."""
    xy = np.asarray(coords)[:, :2]
    g = int(math.ceil(math.sqrt(k)))
    lo, hi = xy.min(0), xy.max(0)
    cell = np.floor((xy - lo) / np.maximum(hi - lo, 1e-9) * (g - 1e-6)).astype(int)
    order = np.random.default_rng(seed).permutation(len(xy))
    _, first = np.unique(cell[order, 0] * g + cell[order, 1], return_index=True)
    return np.sort(order[first])[:k]


def layout_png(coords: np.ndarray, colour=None, class_names=None, size: int = 1200, title: str = "") -> bytes:
    """A PNG of the 2-D layout (first two coordinates), drawn with Pillow so it needs no browser."""
    from PIL import Image, ImageDraw

    xy = np.asarray(coords, np.float64)[:, :2]
    legend_w = 220
    img = Image.new("RGB", (size + legend_w, size), "white")
    draw = ImageDraw.Draw(img)
    lo, hi = xy.min(0), xy.max(0)
    scale = (size - 60) / max(float((hi - lo).max()), 1e-9)
    p = (xy - lo) * scale + 30
    p[:, 1] = size - p[:, 1]
    r = 2 if len(xy) > 5000 else 3 if len(xy) > 1000 else 5
    kind, groups = colour_groups(colour, class_names)
    if kind != "groups":
        groups = [("points", np.arange(len(xy)))]
    cols = _palette(len(groups))
    for (name, idx), col in zip(groups, cols):
        for a, b in p[idx]:
            draw.ellipse([a - r, b - r, a + r, b + r], fill=col)
    for i, ((name, _), col) in enumerate(zip(groups[:40], cols)):
        y0 = 30 + 22 * i
        draw.ellipse([size + 10, y0, size + 24, y0 + 14], fill=col)
        draw.text((size + 32, y0), str(name)[:28], fill="black")
    if title:
        draw.text((10, 8), title, fill="black")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def coords_csv(coords: np.ndarray, labels=None, hover=None) -> bytes:
    """The layout as CSV: row (source order), x, y[, z][, label][, text]."""
    d = coords.shape[1]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["row", "x", "y", "z"][:d + 1] + (["label"] if labels is not None else []) +
               (["text"] if hover is not None else []))
    for i, c in enumerate(coords):
        w.writerow([i, *(f"{v:.6g}" for v in c)] + ([labels[i]] if labels is not None else []) +
                   ([hover[i]] if hover is not None else []))
    return out.getvalue().encode()


# ------------------------------------------------------------------------------------------------ CLI

def cli_args(command: str, parser) -> None:
    parser.add_argument("--source", default="digits",
                        help=f"one of {', '.join(source_names())}, or a .csv / .tsv / .npy file")
    parser.add_argument("--method", default="tsne", choices=list(METHODS))
    parser.add_argument("--dim", type=int, default=2, choices=[2, 3])
    parser.add_argument("--perplexity", type=float, default=30.0, help="t-SNE (2-100)")
    parser.add_argument("--learning-rate", default="auto", help="t-SNE: 'auto' or 10-10000")
    parser.add_argument("--early-exaggeration", type=float, default=12.0, help="t-SNE (1-50)")
    parser.add_argument("--iterations", type=int, default=500, help="t-SNE iterations after the 250 exaggerated ones")
    parser.add_argument("--neighbors", type=int, default=None,
                        help="UMAP n_neighbors (default 15) or Isomap / LLE neighbours (default 10)")
    parser.add_argument("--min-dist", type=float, default=0.1, help="UMAP (0-1)")
    parser.add_argument("--drop-missing", action="store_true", help="uploaded table: drop rows with NaN / empty cells")
    parser.add_argument("--no-quality", action="store_true", help="skip the quality numbers")


def cli_run(command: str, args) -> dict:
    from pathlib import Path

    if args.source in source_names():
        src = load_source(args.source)
    else:
        p = Path(args.source)
        if not p.is_file():
            raise InputError(f"--source {args.source!r} is neither a built-in source ({', '.join(source_names())}) "
                             "nor a file.")
        src = read_table(p.read_bytes(), p.name, drop_missing=args.drop_missing).to_source(p.name)
    lr = args.learning_rate if args.learning_rate == "auto" else _float(args.learning_rate, "--learning-rate")
    neighbours_ = args.neighbors or (15 if args.method == "umap" else 10)
    emb = Embedder(args.method, args.dim, args.seed, perplexity=args.perplexity, learning_rate=lr,
                   early_exaggeration=args.early_exaggeration, n_iter=args.iterations, n_neighbors=neighbours_,
                   min_dist=args.min_dist).fit(src.x)
    out = {"method": args.method, "source": args.source, "n": len(src), "dim": args.dim,
           "seconds": round(emb.seconds_, 3), **{k: v for k, v in emb.params().items() if k not in ("method", "dim")}}
    if not args.no_quality:
        q = quality(src.x, emb.embedding_)
        out.update(trustworthiness=round(q["trustworthiness"], 4), knn_kept=round(q["knn_kept"], 4),
                   quality_k=q["k"])
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".csv":
            path.write_bytes(coords_csv(emb.embedding_, None if src.labels is None else
                                        [src.label_text(i) for i in range(len(src))]))
        else:
            np.save(path, emb.embedding_)
        out["out"] = str(path)
    if emb.notes_:
        out["notes"] = emb.notes_
    return out


def _float(s: str, name: str) -> float:
    try:
        return float(s)
    except ValueError:
        raise InputError(f"{name} must be a number or 'auto', not {s!r}.") from None
