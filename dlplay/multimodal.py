"""Images and words in one space: an image encoder and a text encoder trained with a contrastive loss so that a
picture and a phrase that describes it land on nearby unit vectors; retrieval both ways, cross-modal arithmetic,
tagging, and a tiny captioner that decodes the image's vector into words.

Images are dense and real-valued, text is discrete and sparse: each gets its own encoder, and only their outputs
meet. The loss is CLIP's symmetric InfoNCE (Radford et al. 2021, eq. in Fig. 3), with one change for datasets
where many pictures share a caption: every pair whose phrase fits the picture counts as a match (a soft target),
not only the diagonal:

    logits_ij = <f(x_i), g(t_j)> / tau              f, g end in an L2 normalisation
    L = 1/2 [ CE(softmax_j logits_ij, P_ij) + CE(softmax_i logits_ij, P_ji) ]
    P_ij = match(i, j) / sum_j' match(i, j')        match = the phrase's stated factors agree with the image's

The captioner is a GRU (Cho et al. 2014) started from the image's vector (detached: only the contrastive loss
shapes the space) and trained with teacher forcing to write the factor words, e.g. 'small arrow pointing up'.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from torch import nn
from torch.nn import functional as F

from .data import on_device
from . import checkpoints
from .data import ImageData
from .data import load as load_data
from .device import to_device
from .errors import InputError
from .topics import Config, Shipped
from .train import Batches, ModelTask

TITLE = "Images and words in one space"
BUILDER = "dlplay.multimodal:build_model"
MAX_PHRASE_WORDS = 12

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


# -- the model ------------------------------------------------------------------------------------------------------
class MultiModal(nn.Module):
    """f: image -> unit vector (an MLP on pixels); g: phrase -> unit vector (mean of word embeddings, then a linear
    map); a GRU captioner from the image vector to words."""

    def __init__(self, n_pixels: int, vocab: list[str], dim: int = 32, hidden: int = 256, word_dim: int = 64,
                 caption_hidden: int = 64, dataset: str = "digits"):
        super().__init__()
        self.vocab, self.dataset, self.dim = list(vocab), dataset, dim
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.image_encoder = nn.Sequential(nn.Flatten(), nn.Linear(n_pixels, hidden), nn.ReLU(),
                                           nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.words = nn.EmbeddingBag(len(vocab), word_dim, mode="mean", padding_idx=0)
        self.text_proj = nn.Linear(word_dim, dim)
        self.cap_init = nn.Linear(dim, caption_hidden)
        self.cap_embed = nn.Embedding(len(vocab), 32, padding_idx=0)
        self.cap_gru = nn.GRU(32, caption_hidden, batch_first=True)
        self.cap_out = nn.Linear(caption_hidden, len(vocab))

    def encode_image(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_encoder(x), dim=-1)

    def encode_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text_proj(self.words(ids)), dim=-1)

    def caption_logits(self, z: torch.Tensor, tokens_in: torch.Tensor) -> torch.Tensor:
        h0 = torch.tanh(self.cap_init(z))[None]
        out, _ = self.cap_gru(self.cap_embed(tokens_in), h0)
        return self.cap_out(out)


def build_model(n_pixels: int, vocab: list[str], dim: int = 32, hidden: int = 256, word_dim: int = 64,
                caption_hidden: int = 64, dataset: str = "digits") -> MultiModal:
    return MultiModal(n_pixels, vocab, dim, hidden, word_dim, caption_hidden, dataset)


def token_ids(model: MultiModal, phrases: Sequence[str], strict: bool = True) -> torch.Tensor:
    """(N, L) word indices, 0-padded; an unknown word is an InputError that names it and suggests known words."""
    rows = []
    for p in phrases:
        toks = tokenize(p)
        if not toks:
            raise InputError(f"The phrase {p!r} has no words in it; try e.g. {_examples(model)}.")
        if len(toks) > MAX_PHRASE_WORDS:
            raise InputError(f"The phrase {p!r} has {len(toks)} words; at most {MAX_PHRASE_WORDS} are allowed.")
        unknown = [t for t in toks if t not in model.index or t in (BOS, EOS)]
        if unknown and strict:
            close = difflib.get_close_matches(unknown[0], model.vocab[3:], n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise InputError(f"The model does not know the word {unknown[0]!r} (it was trained on phrases like "
                             f"{_examples(model)}).{hint}")
        rows.append([model.index[t] for t in toks if t in model.index])
    n = max(map(len, rows))
    return torch.tensor([r + [0] * (n - len(r)) for r in rows], dtype=torch.long)


def _examples(model: MultiModal) -> str:
    return "'three', 'the digit seven'" if model.dataset == "digits" else "'small arrow pointing up', 'bar'"


def clip_loss(zi: torch.Tensor, zt: torch.Tensor, match: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE with soft targets: every (image, phrase) pair whose phrase fits counts as a match.

    Written as KL(P || softmax) rather than the cross-entropy: the same gradient, but 0 is the best possible value
    (with several matches per row the cross-entropy cannot fall below the targets' own entropy)."""
    logits = zi @ zt.T / temperature

    def kl(p, logits):
        return (torch.xlogy(p, p) - p * logits.log_softmax(1)).sum(1).mean()

    return 0.5 * (kl(match / match.sum(1, keepdim=True), logits) + kl(match.T / match.T.sum(1, keepdim=True), logits.T))


# -- run settings and the task --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MMConfig(Config):
    dataset: Literal["digits", "shapes"] = "digits"
    dim: int = 32                      # size of the shared space
    hidden: int = 256                  # hidden units of the image encoder
    temperature: float = 0.1           # tau of the contrastive loss
    lr: float = 2e-3
    batch_size: int = 128
    caption_weight: float = 1.0        # 0 = no captioner training

    def check(self):
        self.one_of("dataset", ["digits", "shapes"])
        self.in_range("dim", 2, 256, "size of the shared space")
        self.in_range("hidden", 8, 2048, "hidden units")
        self.in_range("temperature", 0.01, 10.0, "temperature")
        self.in_range("lr", 1e-5, 0.1, "learning rate")
        self.in_range("batch_size", 8, 1024, "batch size")
        self.in_range("caption_weight", 0.0, 100.0, "caption loss weight")
        return self


class MultimodalTask(ModelTask):
    """One step: a batch of training images, one phrase each drawn from the task's generator, the contrastive
    loss between the two encoders, plus the captioner's next-word loss on the (detached) image vectors."""

    def __init__(self, config: MMConfig, seed: int = 0, device=None):
        from .device import get_device, seed_everything

        self.config = config
        self.generator = seed_everything(seed)
        self.device = get_device(device)
        self.data = load_data(config.dataset)
        vocab = vocabulary(config.dataset)
        self.model_config = {"n_pixels": self.data.n_pixels, "vocab": vocab, "dim": config.dim,
                             "hidden": config.hidden, "dataset": config.dataset}
        self.model = build_model(**self.model_config).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.batches = Batches(len(self.data.x_train), config.batch_size, self.generator)
        self.x = on_device(self.data.x_train, self.device)
        self.factors = factors_of(self.data, "train")
        phrases, _ = canonical_phrases(config.dataset)
        self.captions = self._caption_tokens(phrases)
        self.phrase_of = {tuple(f): i for i, f in enumerate(canonical_phrases(config.dataset)[1])}

    def _caption_tokens(self, phrases):
        ids = [[self.model.index[BOS]] + [self.model.index[w] for w in tokenize(p)] + [self.model.index[EOS]]
               for p in phrases]
        return torch.tensor(ids, dtype=torch.long, device=self.device)

    def step(self):
        idx = self.batches.next()
        f = self.factors[idx.numpy()]
        u = torch.rand(len(idx), 3, generator=self.generator).tolist()
        texts, stated = zip(*(sample_phrase(self.config.dataset, f[i], u[i]) for i in range(len(idx))))
        stated = np.stack(stated)
        # match[i, j]: phrase j fits image i (every factor the phrase states agrees with the image's)
        match = ((stated[None, :, :] == -1) | (stated[None, :, :] == f[:, None, :])).all(-1)
        # what the step built on the host, copied in one go without waiting for the GPU
        cap_rows = torch.tensor([self.phrase_of[tuple(r)] for r in f])
        idx_d, tok, match_d, cap_rows = to_device(
            (idx, token_ids(self.model, texts), torch.as_tensor(match, dtype=torch.float32), cap_rows), self.device)
        zi = self.model.encode_image(self.x[idx_d])
        zt = self.model.encode_tokens(tok)
        loss = clip_loss(zi, zt, match_d, self.config.temperature)
        out = {"contrastive": loss.detach()}
        if self.config.caption_weight > 0:
            cap = self.captions[cap_rows]
            logits = self.model.caption_logits(zi.detach(), cap[:, :-1])
            cap_loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), cap[:, 1:].reshape(-1))
            loss = loss + self.config.caption_weight * cap_loss
            out["caption"] = cap_loss.detach()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        out["loss"] = loss.detach()
        return out

    def evaluate(self):
        return evaluate(self.model, self.data)


def make_task(config: MMConfig, seed: int = 0, device=None) -> MultimodalTask:
    return MultimodalTask(config.check(), seed, device)


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


# -- figures ----------------------------------------------------------------------------------------------------------
def space_points(model: MultiModal, data: ImageData, n_images: int = 400, seed: int = 0):
    """A sample of test-image vectors and every canonical phrase's vector, stacked: (vectors, labels, modality,
    hover, image indices)."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(data.x_test), size=min(n_images, len(data.x_test)), replace=False))
    zi = encode_images(model, data.x_test[idx]).numpy()
    f = factors_of(data, "test")[idx]
    phrases, pf = canonical_phrases(data.name)
    zt = encode_texts(model, phrases).numpy()
    labels = [phrase_for(data.name, r) for r in f] + phrases
    modality = ["image"] * len(idx) + ["phrase"] * len(phrases)
    hover = [f"test image #{i}: {phrase_for(data.name, r)}" for i, r in zip(idx, f)] + [f'"{p}"' for p in phrases]
    return np.vstack([zi, zt]), labels, modality, hover, idx


def space_figure(coords: np.ndarray, labels: Sequence[str], modality: Sequence[str], hover: Sequence[str],
                 colour_by: Sequence[str] | None = None, title: str | None = None) -> go.Figure:
    """Both modalities in one 2-D map: images as dots, phrases as large labelled stars, coloured alike."""
    from .viz import PALETTE

    colour_by = list(colour_by if colour_by is not None else labels)
    groups = sorted(set(colour_by), key=colour_by.index)
    cmap = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    modality = np.asarray(modality)
    fig = go.Figure()
    for g in groups:
        for mod in ("image", "phrase"):
            sel = [i for i in range(len(labels)) if colour_by[i] == g and modality[i] == mod]
            if not sel:
                continue
            star = mod == "phrase"
            fig.add_trace(go.Scatter(
                x=coords[sel, 0], y=coords[sel, 1], mode="markers+text" if star else "markers",
                text=[labels[i] for i in sel] if star else None, textposition="top center",
                hovertext=[hover[i] for i in sel], hoverinfo="text", customdata=sel,
                name=f"{g} ({'phrase' if star else 'images'})", legendgroup=g, showlegend=not star,
                marker=dict(color=cmap[g], size=16 if star else 6, symbol="star" if star else "circle",
                            line=dict(color="black", width=1.5) if star else None, opacity=1 if star else 0.6)))
    fig.update_layout(title=title, height=600, margin=dict(l=10, r=10, t=40 if title else 10, b=10))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def similarity_bars(items: list[tuple[str, float]], title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=[s for _, s in items][::-1], y=[w for w, _ in items][::-1], orientation="h",
                           text=[f"{s:.2f}" for _, s in items][::-1], textposition="auto"))
    fig.update_layout(title=title, height=60 + 32 * len(items), margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title="cosine similarity", xaxis_range=[-1, 1])
    return fig


# -- shipped models, pretrain, CLI ------------------------------------------------------------------------------
SHIPPED: dict[str, Shipped] = {
    "multimodal_digits": Shipped("multimodal_digits", "digits", MMConfig(), 600),
    "multimodal_shapes": Shipped("multimodal_shapes", "shapes", MMConfig(dataset="shapes"), 1000),
}


def shipped_for(dataset: str) -> str:
    return next(name for name, sh in SHIPPED.items() if sh.dataset == dataset)


def load(source) -> tuple[MultiModal, dict, dict]:
    return checkpoints.load(source, expect_builder=BUILDER)


def pretrain(out_dir=None) -> dict:
    """Train each shipped model for its step budget on the CPU; weights stored in half precision (the files stay
    small; loading copies them back into float32)."""
    import copy
    from pathlib import Path

    from .train import Trainer

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    results = {}
    for name, sh in SHIPPED.items():
        task = make_task(sh.config, sh.seed, device="cpu")
        Trainer(task, record_every=100).run(steps=sh.steps)
        ev = task.evaluate()
        ev.update(arithmetic_scores(task.model, task.data))
        checkpoints.save(out_dir / f"{name}.pt", copy.deepcopy(task.model).half(), task.model_config, BUILDER,
                         {"config": sh.config.as_dict(), "steps": sh.steps, **ev})
        results[name] = {k: round(float(v), 4) for k, v in ev.items()}
    return results


def cli_args(command, parser) -> None:
    from .topics import add_budget_args, add_config_args

    add_config_args(parser, MMConfig)
    add_budget_args(parser, seconds=10.0)
    parser.add_argument("--query", action="append", default=[],
                        help="after training, a phrase to retrieve test images for (repeatable)")


def cli_run(command, args) -> dict:
    import sys

    from .topics import cli_train

    task, summary = cli_train(sys.modules[__name__], args, record_every=50)
    summary.update(arithmetic_scores(task.model, task.data))
    zi = encode_images(task.model, task.data.x_test)
    for q in args.query:
        idx, sims = text_to_images(task.model, task.data.x_test, q, 5, zi)
        f = factors_of(task.data, "test")
        summary[f"query {q!r}"] = ", ".join(f"#{i} ({phrase_for(task.data.name, f[i])}, {s:.2f})"
                                            for i, s in zip(idx, sims))
    return summary
