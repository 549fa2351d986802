"""The two encoders, the captioner and the contrastive loss.

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
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import InputError
from .phrases import BOS, EOS, tokenize


MAX_PHRASE_WORDS = 12


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
