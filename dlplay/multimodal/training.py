"""The run's settings (MMConfig) and the task the engine steps: a batch of images, one sampled phrase each, the
contrastive loss, plus the captioner's next-word loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch.nn import functional as F

from ..data import on_device
from ..data import load as load_data
from ..device import to_device
from ..topics import Config
from ..train import Batches, ModelTask
from .model import build_model, clip_loss, token_ids
from .phrases import BOS, EOS, canonical_phrases, factors_of, sample_phrase, tokenize, vocabulary
from .space import evaluate


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
        from ..device import get_device, seed_everything

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
