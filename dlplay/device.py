"""Which device to compute on, and one place to seed every random generator. (Thread counts: dlplay/runner.py.)"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from .errors import InputError

DEVICES = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def get_device(name: str | None = None) -> torch.device:
    """The device to compute on: `name`, else $DLPLAY_DEVICE, else CUDA, then Apple MPS, then CPU."""
    name = (name or os.environ.get("DLPLAY_DEVICE") or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if name not in DEVICES:
        raise InputError(f"Unknown device {name!r}: choose one of auto, {', '.join(DEVICES)} (set by --device or DLPLAY_DEVICE).")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("Device 'cuda' was asked for, but PyTorch sees no CUDA GPU on this machine; use 'cpu' or 'auto'.")
    if name == "mps" and not _mps_available():
        raise InputError("Device 'mps' was asked for, but Apple's Metal backend is not available here; use 'cpu' or 'auto'.")
    return torch.device(name)


def describe_device(device: torch.device | None = None) -> str:
    """A short human description: 'CPU (2 threads)', 'CUDA GPU: NVIDIA H100', 'Apple MPS'."""
    device = device or get_device()
    if device.type == "cuda":
        return f"CUDA GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS (Metal GPU)"
    return f"CPU ({torch.get_num_threads()} threads)"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices) so a demo repeats exactly; returns a CPU generator seeded the same."""
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
