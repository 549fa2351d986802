"""The autoencoders themselves: one class, one builder, one table of variants.

Every model has encode: images (N, C, H, W) -> codes (N, K) and decode: codes -> images; forward = decode(encode).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import InputError
from ..limits import check_range

MAX_CODE = 1024          # longest code a user may ask for (the backend bound; the page slider mirrors it)
MAX_HIDDEN = 2048


@dataclass(frozen=True)
class Variant:
    title: str
    code_size: int               # default code size on digits (the overcomplete one: a multiple of the pixels)
    knob: str | None = None      # the variant's own knob: its name, default, range
    knob_default: float = 0.0
    knob_range: tuple[float, float] = (0.0, 1.0)
    blurb: str = ""
    lr: float = 2e-3             # its default learning rate (Adam) and minibatch size
    batch_size: int = 64


VARIANTS: dict[str, Variant] = {
    "deep": Variant("Deep", 8, blurb="Two hidden layers each side and a linear 8-number code: beats PCA at the same "
                                     "code size because the decoder can bend."),
    "linear": Variant("Linear (= PCA)", 8, lr=3e-2, batch_size=2048,
                      blurb="One linear layer each side, no nonlinearity: it can only find a linear subspace, and it "
                            "finds PCA's. (It trains with larger steps than the others, on up to 2,048 images at "
                            "once: a linear model is safe there, and the last directions of the subspace are slow "
                            "to settle, so minibatch noise would keep them turning.)"),
    "sparse": Variant("Sparse (L1 on the code)", 16, "L1 weight lambda", 0.01, (0.0, 0.1),
                      "A non-negative (ReLU) code with an L1 penalty on it. Set lambda to 0 to train the same "
                      "network without the penalty: the ReLU alone gives a few zeros; the penalty many more."),
    "denoising": Variant("Denoising", 8, "noise level", 0.3, (0.0, 0.9),
                         "Trained to rebuild the clean image from a corrupted one (Gaussian noise, or pixels "
                         "dropped to zero)."),
    "redundant": Variant("Redundant (dropout on the code)", 16, "code dropout p", 0.25, (0.0, 0.75),
                         "The deep autoencoder with each code number zeroed with probability p during training, so "
                         "no number is indispensable: knock some out at test time and the others cover for them."),
    "overcomplete": Variant("Overcomplete (no regularisation)", 128, blurb="A code longer than the image (here "
                            "twice the pixels) and nothing else: it can simply copy the input."),
    "contractive": Variant("Contractive", 8, "contraction weight lambda", 0.002, (0.0, 0.1),
                           "Penalises how much the code moves when the input moves a little (the Jacobian norm)."),
    "conv": Variant("Convolutional", 8, blurb="Convolutions and stride-2 downsampling in the encoder, transposed "
                                              "convolutions ('deconvolution') in the decoder."),
    "conv_pool": Variant("Convolutional, max-pooling + unpooling", 8,
                         blurb="Convolutions with 2x2 max-pooling in the encoder; the decoder unpools, putting each "
                               "value back where its maximum was (the 'switches' the encoder remembered), then "
                               "convolves. Decoding a code alone has no switches: each value goes to its window's "
                               "top-left corner."),
}
TIED_VARIANTS = ("linear", "deep")   # where the decoder can be the encoder transposed


def _mlp(sizes: list[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return layers[:-1]  # no ReLU after the last layer


class TiedDecoder(nn.Module):
    """A decoder that owns no weight matrices: layer i uses the transpose of the encoder's matching layer,
    x_hat = s(W_1^T r(W_2^T ... r(W_L^T z + c_L) ... + c_2) + c_1), with its own biases c (tied weights, e.g.
    Vincent et al. 2010). Half the parameters; the lecture's point is that this symmetry is allowed, not needed."""

    def __init__(self, encoder_layers: list[nn.Linear], out: nn.Module):
        super().__init__()
        self._layers = list(encoder_layers)          # a plain list: the weights stay registered once, in the encoder
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(lin.in_features)) for lin in reversed(encoder_layers)])
        self.out = out

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = z
        for i, (lin, c) in enumerate(zip(reversed(self._layers), self.biases)):
            h = F.linear(h, lin.weight.t(), c)
            if i < len(self._layers) - 1:
                h = F.relu(h)
        return self.out(h)


class Autoencoder(nn.Module):
    """encode: images (N, C, H, W) -> codes (N, K); decode: codes -> images; forward = decode(encode(x))."""

    def __init__(self, variant: str = "deep", image_shape=(1, 8, 8), code_size: int = 8, hidden=(128, 64),
                 tied: bool = False):
        super().__init__()
        self.variant, self.image_shape, self.code_size = variant, tuple(image_shape), int(code_size)
        self.tied = bool(tied)
        c, h, w = self.image_shape
        d = c * h * w
        if variant == "linear":  # x_hat = W_d (W_e x + b_e) + b_d: the PCA setting
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(d, code_size))
            self.decoder = (TiedDecoder([self.encoder[1]], nn.Identity()) if tied
                            else nn.Sequential(nn.Linear(code_size, d)))
        elif variant == "overcomplete":  # one wide layer each side: code longer than the input
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(d, code_size), nn.ReLU())
            self.decoder = nn.Sequential(nn.Linear(code_size, d), nn.Sigmoid())
        elif variant == "conv":
            ch = (16, 32)
            h4, w4 = -(-h // 4), -(-w // 4)  # two stride-2 convolutions: 8x8 -> 4x4 -> 2x2, 28 -> 14 -> 7
            self.encoder = nn.Sequential(
                nn.Conv2d(c, ch[0], 3, 2, 1), nn.ReLU(), nn.Conv2d(ch[0], ch[1], 3, 2, 1), nn.ReLU(),
                nn.Flatten(), nn.Linear(ch[1] * h4 * w4, code_size))
            self.decoder = nn.Sequential(
                nn.Linear(code_size, ch[1] * h4 * w4), nn.ReLU(), nn.Unflatten(1, (ch[1], h4, w4)),
                nn.ConvTranspose2d(ch[1], ch[0], 4, 2, 1), nn.ReLU(),   # "deconvolution": upsample x2
                nn.ConvTranspose2d(ch[0], c, 4, 2, 1),
                nn.Upsample(size=(h, w)) if (h4 * 4, w4 * 4) != (h, w) else nn.Identity(), nn.Sigmoid())
        elif variant == "conv_pool":
            ch = (16, 32)
            self._sizes = [(h, w), (h // 2, w // 2)]        # the sizes before each pooling (unpooling restores them)
            h4, w4 = h // 4, w // 4
            self.encoder = nn.Sequential(
                nn.Conv2d(c, ch[0], 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, return_indices=True),
                nn.Conv2d(ch[0], ch[1], 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, return_indices=True),
                nn.Flatten(), nn.Linear(ch[1] * h4 * w4, code_size))
            self.decoder = nn.Sequential(
                nn.Linear(code_size, ch[1] * h4 * w4), nn.ReLU(), nn.Unflatten(1, (ch[1], h4, w4)),
                nn.MaxUnpool2d(2), nn.Conv2d(ch[1], ch[0], 3, 1, 1), nn.ReLU(),
                nn.MaxUnpool2d(2), nn.Conv2d(ch[0], c, 3, 1, 1), nn.Sigmoid())
        else:  # deep, sparse, denoising, redundant, contractive: D - h1 - h2 - K - h2 - h1 - D
            hidden = [int(n) for n in hidden]
            self.encoder = nn.Sequential(nn.Flatten(), *_mlp([d, *hidden, code_size]),
                                         *([nn.ReLU()] if variant == "sparse" else []))  # sparse: code >= 0
            if variant == "sparse":
                # Every code unit starts switched on (bias +1). With the usual bias 0 about half of the ReLU code
                # units start negative for every image and never recover ("dead"), so a fresh network would show
                # ~50% zeros with no penalty at all, and the penalty's own effect would be hidden behind them.
                with torch.no_grad():
                    self.encoder[-2].bias.fill_(1.0)
            if tied:
                self.decoder = TiedDecoder([m for m in self.encoder if isinstance(m, nn.Linear)], nn.Sigmoid())
            else:
                self.decoder = nn.Sequential(*_mlp([code_size, *hidden[::-1], d]), nn.Sigmoid())

    def encode_full(self, x: torch.Tensor) -> tuple[torch.Tensor, list | None]:
        """(code, switches): the max-pooling encoder also returns where each maximum was (else None)."""
        if self.variant != "conv_pool":
            return self.encoder(x), None
        switches, h = [], x
        for layer in self.encoder:
            h = layer(h)
            if isinstance(layer, nn.MaxPool2d):
                h, idx = h
                switches.append(idx)
        return h, switches

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_full(x)[0]

    def decode(self, z: torch.Tensor, switches: list | None = None) -> torch.Tensor:
        if self.variant != "conv_pool":
            return self.decoder(z).view(len(z), *self.image_shape)
        h, pending = z, list(switches) if switches is not None else None
        sizes = list(self._sizes)
        for layer in self.decoder:
            if isinstance(layer, nn.MaxUnpool2d):
                size = sizes.pop()
                idx = pending.pop() if pending is not None else _corner_switches(h, size)
                h = layer(h, idx, output_size=size)
            else:
                h = layer(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction g(f(x)); with max-pooling, unpooled through this image's own switches."""
        return self.decode(*self.encode_full(x))


def _corner_switches(h: torch.Tensor, size) -> torch.Tensor:
    """Unpooling indices with no encoder to ask: every value goes to the top-left pixel of its 2x2 window."""
    n, c, hh, ww = h.shape
    rows = torch.arange(hh, device=h.device).view(-1, 1) * 2
    cols = torch.arange(ww, device=h.device).view(1, -1) * 2
    flat = rows * size[1] + cols                                   # index into the (size) output plane
    return flat.expand(n, c, hh, ww).contiguous()


def build_model(variant: str = "deep", image_shape=(1, 8, 8), code_size: int = 8, hidden=(128, 64),
                tied: bool = False) -> Autoencoder:
    """The checkpoint builder: rebuilds a model from its config (bounds checked, so a bad file is a sentence)."""
    if variant not in VARIANTS:
        raise InputError(f"Unknown autoencoder variant {variant!r}: choose one of {', '.join(VARIANTS)}.")
    check_range("code size", code_size, 1, MAX_CODE)
    if any(not 1 <= int(n) <= MAX_HIDDEN for n in hidden):
        raise InputError(f"Hidden layer sizes must be between 1 and {MAX_HIDDEN}.")
    if tied and variant not in TIED_VARIANTS:
        raise InputError(f"Tied weights exist for the {' and '.join(TIED_VARIANTS)} autoencoders, not {variant!r}.")
    return Autoencoder(variant, image_shape, int(code_size), tuple(int(n) for n in hidden), bool(tied))


def weight_layers(model: Autoencoder) -> list[nn.Module]:
    """The layers with weight matrices, encoder first (a tied decoder adds none of its own)."""
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]


def first_layer(model: Autoencoder) -> nn.Module:
    """The encoder's first weight layer (the one that looks at the pixels)."""
    return next(m for m in model.encoder if isinstance(m, (nn.Linear, nn.Conv2d)))


def decoder_matrix(model: Autoencoder) -> torch.Tensor:
    """A linear autoencoder's decoder as a (D, K) matrix: x_hat = W z + b (the encoder's transpose when tied)."""
    if model.variant != "linear":
        raise InputError("Only the linear autoencoder's decoder is a single matrix.")
    return (model.encoder[1].weight.t() if model.tied else model.decoder[0].weight).detach().cpu()
