"""The six methods, one scikit-learn-style Embedder over the libraries, and the UMAP warm-up."""

from __future__ import annotations

import io
import math
import os
import re
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import InputError
from ..limits import check_range
from .tables import MIN_ROWS

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
TSNE_EXAGGERATION_ITER = 250   # openTSNE's default length of the early-exaggeration phase
# Point x dimension budgets, checked before a method starts (one library call cannot be stopped half-way: Stop
# ends it by replacing its worker process, so its size is what bounds its time and memory).
MAX_CELLS = 25_000_000         # points x input numbers for every method: 100 MB as float32 (MDS, LLE: 200 MB float64)
# points x neighbours for the graph methods, measured on this 2-core machine while other sessions ran (load 3-6):
# UMAP 20,000 x 200 took 145 s and 50,000 x 50 203 s (the issue: 50,000 x 200 127 s on a quieter machine); Isomap
# 5,000 x 100 99 s and 5,000 x 10 34 s (its shortest paths grow with both); LLE 5,000 x 100 13 s.
MAX_NEIGHBOUR_EDGES = {"umap": 1_000_000, "isomap": 150_000, "lle": 500_000}


def check_budget(method: str, n: int, d: int, dim: int = 2, n_neighbors: int = 15) -> None:
    """InputError (with the numbers and what to change) when a layout of n points with d numbers each is over the
    method's budget: MAX_POINTS, MAX_CELLS, MAX_NEIGHBOUR_EDGES, and 3-D t-SNE at most MAX_TSNE_3D_POINTS."""
    name = method.upper() if method in ("pca", "mds", "lle", "umap") else {"tsne": "t-SNE"}.get(method, "Isomap")
    if n > MAX_POINTS[method]:
        raise InputError(f"{name} takes at most {MAX_POINTS[method]:,} points (its cost grows quickly with n); got "
                         f"{n:,}. Use a random sample.")
    if method == "tsne" and dim == 3 and n > MAX_TSNE_3D_POINTS:
        raise InputError(f"3-D t-SNE takes at most {MAX_TSNE_3D_POINTS:,} points (it would run for hours on "
                         f"{n:,}); use 2-D or a random sample.")
    if n * d > MAX_CELLS:
        raise InputError(f"{n:,} points x {d:,} numbers each is {n * d:,} numbers; {name} here takes at most "
                         f"{MAX_CELLS:,} (about {MAX_CELLS // max(d, 1):,} points of this size). Use a random sample.")
    if method in MAX_NEIGHBOUR_EDGES:
        k = min(n_neighbors, n - 1)
        cap = MAX_NEIGHBOUR_EDGES[method]
        if n * k > cap:
            raise InputError(f"{name} with {k} neighbours of each of {n:,} points is {n * k:,} graph edges; the limit "
                             f"here is {cap:,} (it cannot be stopped half-way). Use at most {max(1, cap // n)} "
                             f"neighbours or about {cap // max(k, 1):,} points.")


MAX_TSNE_3D_POINTS = 10_000    # Barnes-Hut in 3-D is ~n log n with a large constant: 10k points take minutes


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
    import torch
    cores = torch.get_num_threads()   # the runner's share of the cores for this run
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
        # scikit-learn style: __init__ only stores the parameters; fit() checks them (see _check).
        self.method, self.dim, self.seed = method, dim, seed
        self.perplexity, self.learning_rate, self.early_exaggeration = perplexity, learning_rate, early_exaggeration
        self.n_iter, self.exaggeration_iter = n_iter, exaggeration_iter
        self.n_neighbors, self.min_dist, self.every = n_neighbors, min_dist, every
        self.embedding_: np.ndarray | None = None
        self.seconds_ = 0.0
        self.done_ = False
        self.iteration_ = 0
        self.kl_ = math.nan
        self.notes_: list[str] = []
        self._tsne = None          # openTSNE's TSNEEmbedding while a t-SNE is in progress
        self._n = None

    def _check(self) -> None:
        """Validate the parameters (InputError naming the bad value and its range) and normalise their types."""
        if self.method not in METHODS:
            raise InputError(f"Unknown method {self.method!r}: choose one of {', '.join(METHODS)}.")
        if self.dim not in (2, 3):
            raise InputError(f"dim = {self.dim}: layouts are 2-D or 3-D.")
        self.dim, self.seed = int(self.dim), int(check_range("seed", self.seed, 0, 2**31 - 1))
        self.perplexity = float(check_range("perplexity", self.perplexity, 2, 100))
        if self.learning_rate != "auto":
            self.learning_rate = float(check_range("learning rate", self.learning_rate, 10, 10_000, " (or 'auto')"))
        self.early_exaggeration = float(check_range("early exaggeration", self.early_exaggeration, 1, 50))
        self.n_iter = int(check_range("iterations", self.n_iter, 50, 2000))
        self.exaggeration_iter = int(check_range("early exaggeration iterations", self.exaggeration_iter, 0, 1000))
        lo, hi = (2, 200) if self.method == "umap" else (3, 100)
        self.n_neighbors = int(check_range("neighbours", self.n_neighbors, lo, hi))
        self.min_dist = float(check_range("min_dist", self.min_dist, 0, 1))
        self.every = max(1, int(self.every))

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
        self._check()
        x = np.ascontiguousarray(x, np.float32)
        n = len(x)
        if x.ndim != 2 or n < MIN_ROWS:
            raise InputError(f"An embedding needs at least {MIN_ROWS} points given as a (points, numbers) table; "
                             f"got shape {x.shape}.")
        check_budget(self.method, n, x.shape[1], self.dim, self.n_neighbors)
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
