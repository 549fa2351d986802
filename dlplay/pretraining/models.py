"""The networks: the deep classifier the stack initialises, the DBN's unrolled autoencoder, a comparison's several
networks in one module, and the checkpoint builder that rebuilds any of them (and the RBM)."""

from __future__ import annotations

import torch
from torch import nn

from ..errors import InputError
from .configs import ACTIVATIONS, MAX_LAYERS, MAX_WIDTH
from .rbm import RBM


# -- models --------------------------------------------------------------------------------------------------------
def _act(name: str) -> nn.Module:
    return nn.Sigmoid() if name == "sigmoid" else nn.ReLU()


class StackNet(nn.Module):
    """A plain deep classifier: D -> sizes[0] -> ... -> sizes[-1] (each Linear + activation) -> n_classes logits."""

    def __init__(self, n_in: int = 64, sizes=(128, 64, 32), activation: str = "sigmoid", n_classes: int = 10):
        super().__init__()
        dims = [n_in, *sizes]
        self.body = nn.Sequential(*[m for a, b in zip(dims[:-1], dims[1:]) for m in (nn.Linear(a, b), _act(activation))])
        self.head = nn.Linear(dims[-1], n_classes)

    @property
    def layers(self) -> list[nn.Linear]:
        return [m for m in self.body if isinstance(m, nn.Linear)]

    def forward(self, x):
        return self.head(self.body(x.flatten(1)))


class DeepAE(nn.Module):
    """An autoencoder D -> sizes -> code -> reversed sizes -> D with sigmoid units (the DBN's unrolled shape); the
    code layer is linear, as in Hinton & Salakhutdinov (2006)."""

    def __init__(self, n_in: int = 64, sizes=(128, 64, 16), image_shape=(1, 8, 8)):
        super().__init__()
        self.image_shape = tuple(image_shape)
        dims = [n_in, *sizes]
        self.enc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.dec = nn.ModuleList(nn.Linear(b, a) for a, b in reversed(list(zip(dims[:-1], dims[1:]))))

    def encode(self, x):
        h = x.flatten(1)
        for i, lin in enumerate(self.enc):
            h = lin(h) if i == len(self.enc) - 1 else torch.sigmoid(lin(h))
        return h

    def decode(self, z):
        h = z
        for lin in self.dec:
            h = torch.sigmoid(lin(h))
        return h.view(len(z), *self.image_shape)

    def forward(self, x):
        return self.decode(self.encode(x))


# -- what each comparison holds (the keys of its Compared module), and the names the figures give them --------
STACK_METHODS = ("pretrained", "random_init", "linear_probe")
STACK_NAMES = {"pretrained": "pre-trained, then fine-tuned", "random_init": "random initialisation",
               "linear_probe": "pre-trained features frozen (linear probe)"}
DBN_METHODS = ("dbn", "random_init")
DBN_NAMES = {"dbn": "RBM stack, unrolled and fine-tuned", "random_init": "same autoencoder, random initialisation"}
BACKBONE_METHODS = ("frozen", "fine_tuned")
BACKBONE_NAMES = {"frozen": "ImageNet features frozen (only a linear head learns)",
                  "fine_tuned": "top blocks fine-tuned with the head"}


class Compared(nn.ModuleDict):
    """Several networks of the same architecture compared in one run (what a checkpoint of a comparison holds)."""


def build_model(kind: str = "rbm", **kw) -> nn.Module:
    """The checkpoint builder: rebuilds any of this topic's models from its config (bounds checked)."""
    for name in ("n_visible", "n_hidden", "n_in"):
        if name in kw and not 1 <= int(kw[name]) <= 4096:
            raise InputError(f"{name} = {kw[name]} is out of range for a checkpoint of this page.")
    sizes = tuple(int(s) for s in kw.get("sizes", ()))
    if any(not 1 <= s <= MAX_WIDTH for s in sizes) or len(sizes) > MAX_LAYERS:
        raise InputError(f"The checkpoint's layer sizes {list(sizes)} are outside 1..{MAX_WIDTH} "
                         f"(at most {MAX_LAYERS} layers).")
    if kind == "rbm":
        return RBM(int(kw["n_visible"]), int(kw["n_hidden"]), tuple(kw.get("image_shape", (1, 8, 8))))
    if kind == "stack":
        if kw.get("activation", "sigmoid") not in ACTIVATIONS:
            raise InputError(f"Unknown activation {kw.get('activation')!r}: choose sigmoid or relu.")
        return Compared({m: StackNet(int(kw["n_in"]), sizes, kw.get("activation", "sigmoid"),
                                     int(kw.get("n_classes", 10))) for m in STACK_METHODS})
    if kind == "backbone_heads":
        return Compared({m: nn.Linear(1280, int(kw.get("n_classes", 10))) for m in BACKBONE_METHODS})
    if kind == "dbn":
        return Compared({m: DeepAE(int(kw["n_in"]), sizes, tuple(kw.get("image_shape", (1, 8, 8))))
                         for m in DBN_METHODS})
    raise InputError(f"Unknown model kind {kind!r} in this checkpoint: expected rbm, stack or dbn.")
