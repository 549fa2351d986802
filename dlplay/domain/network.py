"""One network for every method (Ganin et al. 2016, "Domain-adversarial training of neural networks"):

    features h = G_f(x)        two conv layers          (the representation both domains share)
    label classifier G_y(h)     two linear layers        trained on the labelled source only
    domain discriminator G_d(h) two linear layers        P(target | h)

and the gradient reversal layer R_lambda that DANN puts between the features and G_d."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import InputError
from ..limits import check_range
from .datasets import MAX_SIZE, MIN_SIZE


# -- the network -----------------------------------------------------------------------------------------------------
class GradReverse(torch.autograd.Function):
    """Identity forward; multiplies the gradient by -lambda backward (DANN's gradient reversal layer R_lambda)."""

    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.lam * grad, None


def grad_reverse(x: torch.Tensor, lam: float) -> torch.Tensor:
    return GradReverse.apply(x, float(lam))


class DANN(nn.Module):
    """Features G_f (conv 5x5 -> BN -> pool -> conv 3x3 -> BN -> pool), label classifier G_y, domain discriminator G_d:
    a scaled-down version of DANN's MNIST network (conv 5x5 32 and 48 channels, then 100 units per head)."""

    def __init__(self, image_size: int = 16, channels=(16, 32), hidden: int = 64, n_classes: int = 10):
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        self.image_size = int(image_size)
        # Batch norm after each conv: source and target batches go through separately, so each is normalised by
        # its own batch statistics while training (every method, source-only included, does this; measured on
        # the photo target, seed 0: without it the adversarial term did not confuse the discriminator at all).
        self.features = nn.Sequential(nn.Conv2d(3, c1, 5, padding=2), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Flatten())
        self.n_features = c2 * (self.image_size // 4) ** 2
        self.classifier = nn.Sequential(nn.Linear(self.n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))
        self.discriminator = nn.Sequential(nn.Linear(self.n_features, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def build_model(image_size: int = 16, channels=(16, 32), hidden: int = 64, n_classes: int = 10) -> DANN:
    """The checkpoint builder (bounds checked, so a bad file is a sentence)."""
    check_range("image size", image_size, MIN_SIZE, MAX_SIZE, " pixels")
    if len(channels) != 2 or any(not 1 <= int(c) <= 256 for c in channels) or not 1 <= int(hidden) <= 1024:
        raise InputError("The domain-adaptation network's layer sizes must be between 1 and 256 (hidden: 1024).")
    return DANN(int(image_size), tuple(channels), int(hidden), int(n_classes))
