"""The words of each dataset: the vocabulary, what each image is (its factors), its canonical phrase (also the
caption) and the varied training phrases that may leave a factor out."""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from ..data import ImageData


# -- the words of each dataset --------------------------------------------------------------------------------------
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
DIGIT_TEMPLATES = ["{w}", "a {w}", "the digit {w}", "a handwritten {w}", "the number {n}", "{n}"]
SIZES = ["small", "large"]
SHAPE_WORDS = ["arrow", "triangle", "bar"]            # the order of data.procedural.SHAPES (the class labels)
DIRECTIONS = ["down", "right", "up"]                  # angle below -30, within +-30, above 30 degrees
SIZE_SPLIT = 0.8                                      # scale below this is 'small'
FILLERS = ["a", "the", "digit", "handwritten", "number", "pointing", "shape"]
BOS, EOS = "<bos>", "<eos>"


def vocabulary(dataset: str) -> list[str]:
    """Every word the text encoder knows for this dataset (index 0 is padding, then <bos>, <eos>)."""
    words = (DIGIT_WORDS + [str(i) for i in range(10)]) if dataset == "digits" else SIZES + SHAPE_WORDS + DIRECTIONS
    return ["<pad>", BOS, EOS] + words + FILLERS


def shape_factors(data: ImageData, split: str = "train") -> np.ndarray:
    """(N, 3) int: shape, size, direction of each shape image (from its known generating factors)."""
    f = data.factors_train if split == "train" else data.factors_test
    y = data.y_train if split == "train" else data.y_test
    size = (f["scale"] >= SIZE_SPLIT).astype(np.int64)
    direction = np.digitize(f["angle"], [-30, 30]).astype(np.int64)
    return np.c_[y.numpy(), size, direction]


def factors_of(data: ImageData, split: str = "train") -> np.ndarray:
    """What each image is, as factor values: (N, 1) digit class, or (N, 3) shape / size / direction."""
    if data.name == "shapes":
        return shape_factors(data, split)
    y = data.y_train if split == "train" else data.y_test
    return y.numpy()[:, None].astype(np.int64)


def phrase_for(dataset: str, factors: Sequence[int]) -> str:
    """The canonical phrase (also the caption) of one image's factors."""
    if dataset == "digits":
        return DIGIT_WORDS[int(factors[0])]
    shape, size, direction = map(int, factors)
    return f"{SIZES[size]} {SHAPE_WORDS[shape]} pointing {DIRECTIONS[direction]}"


def canonical_phrases(dataset: str) -> tuple[list[str], np.ndarray]:
    """Every full phrase of the dataset and its factors: 10 digit names, or 18 shape descriptions."""
    if dataset == "digits":
        f = np.arange(10)[:, None]
    else:
        f = np.array([(s, z, d) for s in range(3) for z in range(2) for d in range(3)])
    return [phrase_for(dataset, row) for row in f], f


def sample_phrase(dataset: str, factors: np.ndarray, u: Sequence[float]) -> tuple[str, np.ndarray]:
    """A training phrase for an image, and the factors it states (-1 = not stated). `u` holds three uniform
    numbers from the task's generator: the wording, and (shapes) which factors the phrase mentions."""
    if dataset == "digits":
        t = DIGIT_TEMPLATES[int(u[0] * len(DIGIT_TEMPLATES))]
        c = int(factors[0])
        return t.format(w=DIGIT_WORDS[c], n=c), factors.copy()
    shape, size, direction = map(int, factors)
    stated = factors.copy()
    words = [SHAPE_WORDS[shape]]
    if u[1] < 0.75:                                     # most phrases say everything, some leave a factor out
        words.insert(0, SIZES[size])
    else:
        stated[1] = -1
    if u[2] < 0.75:
        words += ["pointing", DIRECTIONS[direction]]
    else:
        stated[2] = -1
    if u[0] < 0.3:
        words.insert(0, "a")
    return " ".join(words), stated


def tokenize(text: str) -> list[str]:
    return re.findall(r"[a-z]+|\d", str(text).lower())
