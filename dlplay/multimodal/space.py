"""Using the space: unit vectors of images and phrases, retrieval both ways, cross-modal arithmetic, greedy
captions, and the held-out scores of each."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from ..data import ImageData
from ..errors import InputError
from .model import MultiModal, token_ids
from .phrases import (BOS, DIGIT_TEMPLATES, DIGIT_WORDS, DIRECTIONS, EOS, SHAPE_WORDS, SIZES, canonical_phrases,
                      factors_of, tokenize)


# -- using the space --------------------------------------------------------------------------------------------------
@torch.no_grad()
def encode_images(model: MultiModal, x: torch.Tensor, batch: int = 2048) -> torch.Tensor:
    """Unit vectors of images, on the CPU."""
    dev = next(model.parameters()).device    # no dropout or batch norm: train/eval mode makes no difference
    return torch.cat([model.encode_image(x[i:i + batch].to(dev)).cpu() for i in range(0, len(x), batch)])


@torch.no_grad()
def encode_texts(model: MultiModal, phrases: Sequence[str]) -> torch.Tensor:
    """Unit vectors of phrases, on the CPU (InputError for unknown words)."""
    dev = next(model.parameters()).device
    return model.encode_tokens(token_ids(model, phrases).to(dev)).cpu()


def text_to_images(model: MultiModal, images: torch.Tensor, phrase: str, k: int = 8,
                   z_images: torch.Tensor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k images nearest to a phrase: (indices, cosine similarities)."""
    zi = encode_images(model, images) if z_images is None else z_images
    sims = zi @ encode_texts(model, [phrase])[0]
    top = sims.topk(min(k, len(sims)))
    return top.indices.numpy(), top.values.numpy()


def image_to_texts(model: MultiModal, image: torch.Tensor, phrases: Sequence[str] | None = None,
                   k: int = 5) -> list[tuple[str, float]]:
    """The k phrases nearest to one image (the tags), with cosine similarities."""
    phrases = list(phrases or canonical_phrases(model.dataset)[0])
    sims = encode_texts(model, phrases) @ encode_images(model, image[None])[0]
    order = sims.argsort(descending=True)[:k]
    return [(phrases[int(i)], float(sims[i])) for i in order]


def query_vector(model: MultiModal, terms: Sequence[tuple[float, object]], images: torch.Tensor) -> torch.Tensor:
    """A sum of signed terms, each an image index (into `images`) or a phrase: e.g. [(+1, 17), (-1, 'three'),
    (+1, 'seven')] is 'this image of a 3, minus three, plus seven'; normalised to a unit vector."""
    if not terms:
        raise InputError("The query is empty: give at least one image or phrase.")
    q = torch.zeros(model.dim)
    for sign, t in terms:
        if isinstance(t, (int, np.integer)):
            if not 0 <= int(t) < len(images):
                raise InputError(f"There is no image #{t}: pick one between 0 and {len(images) - 1}.")
            q += float(sign) * encode_images(model, images[int(t)][None])[0]
        else:
            q += float(sign) * encode_texts(model, [str(t)])[0]
    if q.norm() < 1e-6:
        raise InputError("The terms of the query cancel out exactly; change one of them.")
    return F.normalize(q, dim=0)


def nearest_images(q: torch.Tensor, z_images: torch.Tensor, k: int = 8, exclude: Sequence[int] = ()):
    sims = (z_images @ q).clone()
    for i in exclude:
        sims[int(i)] = -2.0
    top = sims.topk(min(k, len(sims)))
    return top.indices.numpy(), top.values.numpy()


@torch.no_grad()
def caption(model: MultiModal, images: torch.Tensor, max_words: int = 6) -> list[str]:
    """Greedy decoding of the captioner from each image's vector."""
    dev = next(model.parameters()).device
    z = encode_images(model, images).to(dev)
    h = torch.tanh(model.cap_init(z))[None]
    tok = torch.full((len(z), 1), model.index[BOS], dtype=torch.long, device=dev)
    words = [[] for _ in range(len(z))]
    done = torch.zeros(len(z), dtype=torch.bool, device=dev)
    for _ in range(max_words):
        out, h = model.cap_gru(model.cap_embed(tok), h)
        tok = model.cap_out(out[:, -1]).argmax(-1, keepdim=True)
        for i, t in enumerate(tok[:, 0].tolist()):
            if not done[i] and t != model.index[EOS]:
                words[i].append(model.vocab[t])
        done |= tok[:, 0] == model.index[EOS]
        if done.all():
            break
    return [" ".join(w) for w in words]


def caption_accuracy(model: MultiModal, data: ImageData) -> dict[str, float]:
    """Share of test images whose caption names each factor right, and all of them."""
    caps = [set(tokenize(c)) for c in caption(model, data.x_test)]
    f = factors_of(data, "test")
    if data.name == "digits":
        ok = np.array([DIGIT_WORDS[int(r[0])] in c for r, c in zip(f, caps)])
        return {"caption_digit": float(ok.mean()), "caption_all": float(ok.mean())}
    names = {"shape": SHAPE_WORDS, "size": SIZES, "direction": DIRECTIONS}
    out, all_ok = {}, np.ones(len(f), bool)
    for j, (factor, words) in enumerate(names.items()):
        # right = the true word is there and no other word of the same factor
        ok = np.array([words[int(r[j])] in c and len(c & set(words)) == 1 for r, c in zip(f, caps)])
        out[f"caption_{factor}"] = float(ok.mean())
        all_ok &= ok
    out["caption_all"] = float(all_ok.mean())
    return out


def retrieval_scores(model: MultiModal, data: ImageData) -> dict[str, float]:
    """The issue's retrieval numbers on the test images.

    digits: text -> image top-1 over every wording of every digit name (the top image shows that digit), and
    image -> text accuracy (the nearest of the ten names is right).
    shapes: image -> text recall@5 (the image's full phrase is among its 5 nearest of the 18), text -> image
    precision@5 (share of the 5 nearest images that fit the phrase exactly), image -> text top-1.
    """
    zi = encode_images(model, data.x_test)
    f = factors_of(data, "test")
    phrases, pf = canonical_phrases(data.name)
    zt = encode_texts(model, phrases)
    sims = zi @ zt.T                                         # (images, phrases)
    truth = np.array([np.flatnonzero((pf == r).all(1))[0] for r in f])
    rank = (sims > sims[np.arange(len(f)), truth][:, None]).sum(1).numpy()
    out = {"image_to_text_top1": float((rank == 0).mean())}
    if data.name == "digits":
        queries = [(t.format(w=w, n=c), c) for c in range(10) for w in [DIGIT_WORDS[c]] for t in DIGIT_TEMPLATES]
        zq = encode_texts(model, [q for q, _ in queries])
        top1 = (zq @ zi.T).argmax(1).numpy()
        out["text_to_image_top1"] = float(np.mean([f[t, 0] == c for t, (_, c) in zip(top1, queries)]))
    else:
        out["image_to_text_recall5"] = float((rank < 5).mean())
        top5 = (zt @ zi.T).topk(5, dim=1).indices.numpy()
        out["text_to_image_precision5"] = float(np.mean([(f[top5[j]] == pf[j]).all(1).mean()
                                                         for j in range(len(phrases))]))
    return out


def arithmetic_scores(model: MultiModal, data: ImageData, n: int = 200, seed: int = 0) -> dict[str, float]:
    """Does 'image - its word + another word' find images of the other word *that keep the rest of the image*?

    digits: image of a, minus name(a), plus name(b): share of top-1 results showing b.
    shapes: image of (shape, size, direction), minus its shape word, plus another shape word: share of the top-5
    with the new shape, and with the query's size and direction kept; beside the same numbers for the new shape
    word alone (which knows nothing of the image), so the difference is what the image term contributes.
    """
    rng = np.random.default_rng(seed)
    zi = encode_images(model, data.x_test)
    f = factors_of(data, "test")
    picks = rng.choice(len(f), size=min(n, len(f)), replace=False)
    if data.name == "digits":
        hits = []
        for i in picks:
            a = int(f[i, 0])
            b = int(rng.choice([c for c in range(10) if c != a]))
            q = query_vector(model, [(1, int(i)), (-1, DIGIT_WORDS[a]), (1, DIGIT_WORDS[b])], data.x_test)
            top, _ = nearest_images(q, zi, 1, exclude=[i])
            hits.append(f[top[0], 0] == b)
        return {"arithmetic_top1": float(np.mean(hits))}
    new_shape, kept, kept_text_only = [], [], []
    for i in picks:
        s = int(f[i, 0])
        b = int(rng.choice([c for c in range(3) if c != s]))
        q = query_vector(model, [(1, int(i)), (-1, SHAPE_WORDS[s]), (1, SHAPE_WORDS[b])], data.x_test)
        top, _ = nearest_images(q, zi, 5, exclude=[i])
        new_shape.append((f[top, 0] == b).mean())
        kept.append(((f[top, 0] == b) & (f[top, 1:] == f[i, 1:]).all(1)).mean())
        top_t, _ = nearest_images(encode_texts(model, [SHAPE_WORDS[b]])[0], zi, 5, exclude=[i])
        kept_text_only.append(((f[top_t, 0] == b) & (f[top_t, 1:] == f[i, 1:]).all(1)).mean())
    return {"arithmetic_new_shape5": float(np.mean(new_shape)), "arithmetic_kept5": float(np.mean(kept)),
            "text_only_kept5": float(np.mean(kept_text_only))}


def evaluate(model: MultiModal, data: ImageData) -> dict[str, float]:
    return {**retrieval_scores(model, data), **caption_accuracy(model, data)}
