"""The run settings of the page's four kinds of run (RBM, greedy stack, DBN; the backbone's is in backbone.py) and
the bounds a user's values are checked against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..data import ImageData
from ..errors import InputError
from ..topics import Config

DATASETS = ("digits",)
MAX_WIDTH = 1024            # widest layer a user may ask for (the page's inputs mirror it)
MAX_LAYERS = 4
MAX_K = 25                  # Gibbs steps per CD update
LABEL_CHOICES = (1, 5, 10, 50)
MAX_LABELS_PER_CLASS = 100  # digits has about 140 training images per class
ACTIVATIONS = ("sigmoid", "relu")


# -- configs -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PretrainingConfig(Config):
    """Base of this topic's three kinds of run; `make_task` builds the task its subclass names."""

    dataset: str = "digits"

    def check(self):
        self.one_of("dataset", DATASETS)
        return self

    def check_sizes(self, name: str = "sizes"):
        sizes = getattr(self, name)
        if not isinstance(sizes, tuple) or not 1 <= len(sizes) <= MAX_LAYERS:
            raise InputError(f"The stack needs 1 to {MAX_LAYERS} layer sizes, not {sizes!r}.")
        for i, s in enumerate(sizes):
            if isinstance(s, bool) or not isinstance(s, int):
                raise InputError(f"Layer {i + 1}'s size must be a whole number, not {s!r}.")
            if not 1 <= s <= MAX_WIDTH:
                raise InputError(f"Layer {i + 1} has {s} units: each layer must have between 1 and {MAX_WIDTH}.")


@dataclass(frozen=True)
class RBMConfig(PretrainingConfig):
    hidden: int = 64            # hidden units H
    k: int = 1                  # Gibbs steps per update (CD-k)
    lr: float = 0.1
    momentum: float = 0.5
    batch_size: int = 32

    def check(self):
        super().check()
        self.in_range("hidden", 1, MAX_WIDTH, "Hidden units")
        self.in_range("k", 1, MAX_K, "K (Gibbs steps per CD update)")
        self.in_range("lr", 1e-4, 1.0, "Learning rate")
        self.in_range("momentum", 0.0, 0.99, "Momentum")
        self.in_range("batch_size", 1, 1024, "Batch size")
        return self


@dataclass(frozen=True)
class StackConfig(PretrainingConfig):
    sizes: tuple[int, ...] = (128, 64, 32)       # the hidden layers, bottom to top
    activation: Literal["sigmoid", "relu"] = "sigmoid"
    labels_per_class: int = 5
    pretrain_steps: int = 600                    # per layer (one shallow autoencoder each)
    finetune_steps: int = 300                    # the same for all three networks
    seeds: int = 3                               # repeats (seed, seed + 1, ...): new labels, new initialisation
    lr: float = 3e-3

    def check(self):
        super().check()
        self.check_sizes()
        self.one_of("activation", ACTIVATIONS, "activation")
        self.in_range("labels_per_class", 1, MAX_LABELS_PER_CLASS, "Labels per class")
        self.in_range("pretrain_steps", 0, 20000, "Pre-training steps per layer")
        self.in_range("finetune_steps", 1, 20000, "Fine-tuning steps")
        self.in_range("seeds", 1, 10, "Number of seeds")
        self.in_range("lr", 1e-5, 0.1, "Learning rate")
        return self


@dataclass(frozen=True)
class DBNConfig(PretrainingConfig):
    sizes: tuple[int, ...] = (128, 64, 16)       # encoder 64-128-64-16, decoder mirrored: 16-64-128-64
    k: int = 1
    rbm_steps: int = 600                         # per RBM
    finetune_steps: int = 1500
    seeds: int = 2
    rbm_lr: float = 0.1
    lr: float = 2e-3

    def check(self):
        super().check()
        self.check_sizes()
        self.in_range("k", 1, MAX_K, "K (Gibbs steps per CD update)")
        self.in_range("rbm_steps", 0, 20000, "RBM steps per layer")
        self.in_range("finetune_steps", 1, 20000, "Fine-tuning steps")
        self.in_range("seeds", 1, 10, "Number of seeds")
        self.in_range("rbm_lr", 1e-4, 1.0, "RBM learning rate")
        self.in_range("lr", 1e-5, 0.1, "Learning rate")
        return self


def _data(name: str) -> ImageData:
    from ..data import load

    return load(name)
