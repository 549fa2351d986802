"""Autoregressive pixels: a small PixelCNN (van den Oord et al. 2016, "Pixel Recurrent Neural Networks", sec. 3.4)
over the 64 pixels of binarised 8x8 digits, read in raster order (row by row, left to right):

    p(x) = prod_{i=1}^{64} p(x_i | x_1 .. x_{i-1})          each factor a Bernoulli with logit from the network

The product is exact, so -log p(x) is the model's true negative log-likelihood in nats (the VAE only bounds its
own with the ELBO). The price: sampling needs 64 passes, one per pixel, each conditioned on the pixels drawn so
far. A masked convolution keeps the order: mask 'A' (first layer) hides the centre pixel and everything after
it; mask 'B' (later layers) lets the centre through, since its features already depend only on earlier pixels.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

SIDE = 8


def binarise(x: torch.Tensor) -> torch.Tensor:
    """Grey-level digits in [0, 1] -> 0/1 pixels (threshold 0.5)."""
    return (x > 0.5).float()


class MaskedConv2d(nn.Conv2d):
    """A convolution whose kernel sees only pixels before the centre in raster order ('B': the centre too)."""

    def __init__(self, mask_type: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        k = self.kernel_size[0]
        mask = torch.ones(k, k)
        mask[k // 2, k // 2 + (mask_type == "B"):] = 0    # the centre row: from the centre (A) or after it (B)
        mask[k // 2 + 1:] = 0                               # every row below
        self.register_buffer("mask", mask[None, None])

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding)


class PixelCNN(nn.Module):
    def __init__(self, channels: int = 64, layers: int = 5):
        super().__init__()
        self.channels, self.layers = channels, layers
        net = [MaskedConv2d("A", 1, channels, 7, padding=3)]
        for _ in range(layers - 1):
            net += [nn.ReLU(), MaskedConv2d("B", channels, channels, 3, padding=1)]
        net += [nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(), nn.Conv2d(channels, 1, 1)]
        self.net = nn.Sequential(*net)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, 1, 8, 8): logit i is p(x_i = 1 | x_<i); it never sees x_i itself or later pixels."""
        return self.net(x * 2 - 1)   # inputs centred at 0

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        """-log p(x) per image in nats: the sum of the 64 Bernoulli cross-entropies. Exact, not a bound."""
        return F.binary_cross_entropy_with_logits(self(x), x, reduction="none").flatten(1).sum(1)

    @torch.no_grad()
    def sample_steps(self, n: int, generator: torch.Generator | None = None, every: int = 1):
        """Draw n images pixel by pixel; yields (pixels drawn so far, the images so far, p of the next pixel)."""
        self.eval()
        dev = self.net[0].weight.device
        x = torch.zeros(n, 1, SIDE, SIDE, device=dev)
        for i in range(SIDE * SIDE):
            r, c = divmod(i, SIDE)
            p = torch.sigmoid(self(x)[:, 0, r, c]).cpu()
            x[:, 0, r, c] = torch.bernoulli(p, generator=generator).to(dev)
            if (i + 1) % every == 0 or i == SIDE * SIDE - 1:
                yield i + 1, x.cpu().clone(), p

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        *_, (_, x, _) = self.sample_steps(n, generator, every=SIDE * SIDE)
        return x


def build_model(channels: int = 64, layers: int = 5) -> PixelCNN:
    return PixelCNN(int(channels), int(layers))
