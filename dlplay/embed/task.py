"""A layout as a Task for the runner: a t-SNE advances a few dozen iterations per step (so it animates, stops and
resumes, in a worker process like any training run); the other methods are one step. The topic contract's config
and make_task, so the Embedding Explorer uses the same panel as every other page."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from ..device import get_device
from ..errors import InputError
from ..topics import Config
from ..train import Task
from .methods import MAX_POINTS, MAX_TSNE_3D_POINTS, METHODS, Embedder, check_budget  # noqa: F401

TSNE_STEP_ITERATIONS = 25     # t-SNE iterations per engine step (one live frame at most every step)


@dataclass(frozen=True)
class Vectors:
    """An array inside a config: compared by its digest (cheap, exact), carried whole to the worker."""
    digest: str
    array: np.ndarray = field(compare=False, repr=False)

    @classmethod
    def of(cls, x) -> "Vectors":
        x = np.ascontiguousarray(x, np.float32)
        return cls(f"{x.shape}:{hashlib.sha1(x.tobytes()).hexdigest()}", x)


@dataclass(frozen=True)
class EmbedConfig(Config):
    data: Vectors | None = None
    method: str = "tsne"
    dim: int = 2
    perplexity: float = 30.0
    learning_rate: float | str = "auto"
    early_exaggeration: float = 12.0
    n_iter: int = 500
    n_neighbors: int = 15
    min_dist: float = 0.1

    def check(self):
        self.one_of("method", list(METHODS))
        self.one_of("dim", (2, 3), "layout dimension")
        if self.data is None:
            raise InputError("There are no vectors to embed yet.")
        x = self.data.array
        if x.ndim != 2:
            raise InputError(f"The vectors must be a (points, numbers) table; got shape {x.shape}.")
        check_budget(self.method, len(x), x.shape[1], self.dim, int(self.n_neighbors))
        return self

    def embedder(self, seed: int) -> Embedder:
        return Embedder(self.method, self.dim, seed, perplexity=self.perplexity, learning_rate=self.learning_rate,
                        early_exaggeration=self.early_exaggeration, n_iter=self.n_iter,
                        n_neighbors=self.n_neighbors, min_dist=self.min_dist)


class EmbedTask(Task):
    """One layout. `finished` once the method has converged (the runner then ends the run)."""

    rollback = False   # nothing to roll back to (the state is a layout), and it is large: no snapshots

    def __init__(self, config: EmbedConfig, seed: int = 0):
        self.config = config.check()
        self.emb = config.embedder(seed)
        self.emb.every = TSNE_STEP_ITERATIONS
        self.emb._check()
        self.x = config.data.array

    @property
    def finished(self) -> bool:
        return self.emb.done_

    def fraction(self) -> float:
        total = self.emb.total_iterations
        return 1.0 if self.emb.done_ else (self.emb.iteration_ / total if total else 0.0)

    def step(self):
        if not self.emb.done_:   # t-SNE stops at its first report (resumable); the other methods run to the end
            self.emb.fit(self.x, progress=lambda p: p.coords is not None)
        out = {"iteration": float(self.emb.iteration_), "fraction": self.fraction()}
        if math.isfinite(self.emb.kl_):
            out["kl"] = self.emb.kl_
        return out

    def state_dict(self):
        return {"emb": self.emb}        # openTSNE's embedding pickles exactly (affinities and optimiser state)

    def load_state_dict(self, s):
        self.emb = s["emb"]

    def live_state(self):
        e = self.emb
        return {"embedding": e.embedding_, "iteration": e.iteration_, "kl": e.kl_, "seconds": e.seconds_,
                "done": e.done_, "notes": list(e.notes_)}

    def load_live_state(self, s):
        e = self.emb
        e.embedding_, e.iteration_, e.kl_, e.seconds_, e.done_ = (s["embedding"], s["iteration"], s["kl"],
                                                                  s["seconds"], s["done"])
        e.notes_ = s["notes"]


def make_task(config: EmbedConfig, seed: int = 0, device=None) -> EmbedTask:
    """The topic contract's task factory. The layouts (openTSNE, umap-learn, scikit-learn) have no GPU path: they
    run on the CPU whatever the device; the device is still checked, so a bad or missing one is an error."""
    get_device(device)
    return EmbedTask(config, seed)


@dataclass(frozen=True)
class LessonConfig(Config):
    """The 'how to read t-SNE' lesson: the same vectors at several perplexities."""
    data: Vectors | None = None
    perplexities: tuple[float, ...] = (5.0, 30.0, 100.0)

    def check(self):
        if self.data is None or len(self.data.array) < 10:
            raise InputError("The lesson needs at least 10 points.")
        return self


class LessonTask(Task):
    """One full t-SNE per step, one step per perplexity."""

    rollback = False

    def __init__(self, config: LessonConfig, seed: int = 0):
        self.config, self.seed = config.check(), seed
        self.layouts: list[np.ndarray] = []

    @property
    def finished(self) -> bool:
        return len(self.layouts) == len(self.config.perplexities)

    def step(self):
        if not self.finished:
            p = self.config.perplexities[len(self.layouts)]
            self.layouts.append(Embedder("tsne", 2, self.seed, perplexity=p).fit(self.config.data.array).embedding_)
        return {"fraction": len(self.layouts) / len(self.config.perplexities)}

    def state_dict(self):
        return {"layouts": list(self.layouts)}

    def load_state_dict(self, s):
        self.layouts = list(s["layouts"])


def make_lesson_task(config: LessonConfig, seed: int = 0, device=None) -> LessonTask:
    get_device(device)     # checked; t-SNE runs on the CPU (see make_task)
    return LessonTask(config, seed)
