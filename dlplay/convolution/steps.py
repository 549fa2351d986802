"""The operations written out step by step: one filter stepping across a small input (`conv_walk`), max-pooling
with its switches and the two unpoolings (`pool_unpool`), and transposed convolution as a convolution over a
zero-stuffed input (`transposed_as_conv`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ..errors import InputError


# ------------------------------------------------------------------------------------------------------------------
# One filter stepping across the input
# ------------------------------------------------------------------------------------------------------------------

KERNELS = {
    "vertical edges": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "horizontal edges": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "blur (box)": [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "diagonal": [[2, -1, -1], [-1, 2, -1], [-1, -1, 2]],
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}


@dataclass(frozen=True)
class ConvWalk:
    padded: np.ndarray         # the input after zero padding (H + 2P, W + 2P)
    kernel: np.ndarray         # (F, F)
    output: np.ndarray         # (H_out, W_out): y[i, j] = sum_{a,b} x_pad[iS + a, jS + b] k[a, b]
    stride: int
    padding: int
    note: str                  # '' or why the last rows/columns are never visited

    @property
    def positions(self) -> int:
        return self.output.size

    def position(self, t: int) -> tuple[int, int]:
        return divmod(int(t) % self.positions, self.output.shape[1])

    def window(self, t: int) -> np.ndarray:
        i, j = self.position(t)
        f, s = self.kernel.shape[0], self.stride
        return self.padded[i * s:i * s + f, j * s:j * s + f]

    def sum_text(self, t: int) -> str:
        """The multiply-and-add of output value t written out."""
        i, j = self.position(t)
        terms = [f"{a:g}·{b:g}" for a, b in zip(self.window(t).ravel(), self.kernel.ravel())]
        return f"y[{i},{j}] = " + " + ".join(terms) + f" = {self.output[i, j]:g}"


def conv_walk(x, kernel, stride: int = 1, padding: int = 0) -> ConvWalk:
    """Cross-correlation (what deep learning calls convolution) of a 2-D x with a 2-D kernel, every output kept."""
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    if x.ndim != 2 or k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise InputError("The step-by-step convolution needs a 2-D input and a square 2-D kernel.")
    if not (1 <= stride <= 4 and 0 <= padding <= 4):
        raise InputError(f"stride {stride} / padding {padding}: use a stride of 1 to 4 and a padding of 0 to 4.")
    f = k.shape[0]
    xp = np.pad(x, padding)
    if xp.shape[0] < f or xp.shape[1] < f:
        raise InputError(f"The {f}x{f} kernel does not fit into the {xp.shape[0]}x{xp.shape[1]} padded input.")
    ho, wo = (xp.shape[0] - f) // stride + 1, (xp.shape[1] - f) // stride + 1
    out = np.array([[(xp[i * stride:i * stride + f, j * stride:j * stride + f] * k).sum() for j in range(wo)]
                    for i in range(ho)])
    left = (xp.shape[1] - f) % stride
    note = ""
    if left:
        note = (f"(W - F + 2P)/S + 1 = ({x.shape[1]} - {f} + 2·{padding})/{stride} + 1 = "
                f"{(x.shape[1] - f + 2 * padding) / stride + 1:g} is not a whole number: the window never reaches "
                f"the last {left} column(s) and row(s); a layer in the builder refuses this, torch silently drops them.")
    return ConvWalk(xp, k, out, stride, padding, note)


# ------------------------------------------------------------------------------------------------------------------
# Pooling, unpooling, transposed convolution
# ------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pooling:
    pooled: torch.Tensor          # (H/k, W/k) max of each k x k block
    switches: torch.Tensor        # (H, W) 1 where a block's maximum was (the "switch" remembered for unpooling)
    unpooled_switches: torch.Tensor   # each max put back at its switch, zeros elsewhere
    unpooled_repeat: torch.Tensor     # each max copied into its whole block (nearest-neighbour upsampling)


def pool_unpool(x: torch.Tensor, k: int = 2) -> Pooling:
    """Max-pooling of a 2-D map with its switches, and the two ways back (Zeiler & Fergus 2011 / Noh et al. 2015)."""
    x = torch.as_tensor(x, dtype=torch.float32)
    h, w = x.shape[-2:]
    if not 2 <= k <= 4 or h % k or w % k:
        raise InputError(f"Pooling {h}x{w} by {k}: the pool size must be 2 to 4 and divide both sides.")
    x4 = x.reshape(1, 1, h, w)
    pooled, idx = F.max_pool2d(x4, k, k, return_indices=True)
    back = F.max_unpool2d(pooled, idx, k, k, output_size=(h, w))
    switches = torch.zeros(h * w)
    switches[idx.flatten()] = 1
    rep = pooled.repeat_interleave(k, 2).repeat_interleave(k, 3)
    return Pooling(pooled[0, 0], switches.view(h, w), back[0, 0], rep[0, 0])


def zero_stuff(x: torch.Tensor, stride: int) -> torch.Tensor:
    """Put stride - 1 zeros between neighbouring pixels of x (N, C, H, W): (N, C, (H-1)S+1, (W-1)S+1)."""
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, (h - 1) * stride + 1, (w - 1) * stride + 1)
    out[:, :, ::stride, ::stride] = x
    return out


@dataclass(frozen=True)
class Transposed:
    stuffed: torch.Tensor      # the zero-stuffed and padded input the plain convolution runs over
    direct: torch.Tensor       # F.conv_transpose2d(x, w, stride, padding)
    via_conv: torch.Tensor     # F.conv2d(stuffed, w flipped and transposed)
    max_diff: float


def transposed_as_conv(x: torch.Tensor, weight: torch.Tensor, stride: int = 2, padding: int = 0) -> Transposed:
    """A transposed convolution equals a plain convolution (stride 1) over the input with S - 1 zeros stuffed
    between pixels and F - 1 - P zeros around it, with the kernel flipped in both directions and its in/out
    channels swapped (Dumoulin & Visin 2016, "A guide to convolution arithmetic", relationship 14).
    x: (N, C_in, H, W); weight: (C_in, C_out, F, F) as conv_transpose2d takes it. Output side (W - 1)S - 2P + F.
    Both are computed in float64, so the printed difference is the two methods', not float32's rounding (about
    1e-5 for sums of a few dozen products of order 1)."""
    x, weight = x.double(), weight.double()
    f = weight.shape[-1]
    if padding > f - 1:
        raise InputError(f"padding {padding} is larger than kernel - 1 = {f - 1}: the transposed output would be cut "
                         "more than the kernel adds.")
    h, w = x.shape[-2:]
    if min(h, w) < 1 or (min(h, w) - 1) * stride - 2 * padding + f < 1:
        raise InputError(f"(W - 1)S - 2P + F = ({min(h, w)} - 1)·{stride} - 2·{padding} + {f} is below 1: the "
                         "padding cuts away the whole output. Use less padding or a larger input.")
    direct = F.conv_transpose2d(x, weight, stride=stride, padding=padding)
    q = f - 1 - padding
    stuffed = F.pad(zero_stuff(x, stride), (q, q, q, q))
    via = F.conv2d(stuffed, weight.flip(-1, -2).transpose(0, 1))
    return Transposed(stuffed, direct, via, float((direct - via).abs().max()))
