"""Which device to compute on, and one place to seed every random generator. (Thread counts:
dlplay/runner/settings.py.)"""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

from .errors import InputError

DEVICES = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def get_device(name: str | torch.device | None = None) -> torch.device:
    """The device to compute on: `name` (a string or a torch.device), else $DLPLAY_DEVICE, else CUDA, then Apple
    MPS, then CPU. Choosing CUDA also turns on cuDNN's autotuner and TF32 (configure_cuda)."""
    if isinstance(name, torch.device):
        name = str(name)
    name = (name or os.environ.get("DLPLAY_DEVICE") or "auto").strip().lower()
    if name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InputError(f"Device {name!r} was asked for, but PyTorch sees no CUDA GPU on this machine; use 'cpu' "
                             "or 'auto'.")
        configure_cuda()
        return torch.device(name)
    if name == "auto":
        if torch.cuda.is_available():
            configure_cuda()
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if name not in DEVICES:
        raise InputError(f"Unknown device {name!r}: choose one of auto, {', '.join(DEVICES)} (set by --device or DLPLAY_DEVICE).")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("Device 'cuda' was asked for, but PyTorch sees no CUDA GPU on this machine; use 'cpu' or 'auto'.")
    if name == "mps" and not _mps_available():
        raise InputError("Device 'mps' was asked for, but Apple's Metal backend is not available here; use 'cpu' or 'auto'.")
    if name == "cuda":
        configure_cuda()
    return torch.device(name)


def configure_cuda() -> None:
    """cuDNN picks the fastest convolution algorithm for each input shape (the demos repeat one shape for
    thousands of steps), and float32 matrix products and convolutions may use TF32 tensor cores (about 10 bits of
    mantissa instead of 23: far below what these lessons can see, and several times faster on Ampere and later)."""
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True


def amp_enabled(device: torch.device) -> bool:
    """Opt-in mixed precision: $DLPLAY_AMP=1 (or bf16) runs the big convolutional models (style transfer, the image
    GANs) under bfloat16 autocast on CUDA. Off by default: the shipped numbers were measured in float32."""
    return (torch.device(device).type == "cuda"
            and os.environ.get("DLPLAY_AMP", "").strip().lower() in ("1", "true", "yes", "on", "bf16"))


def autocast(device: torch.device):
    """`with autocast(device):` bfloat16 autocast where amp_enabled(device), else nothing."""
    if amp_enabled(device):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def device_generator(device: torch.device, generator: torch.Generator, offset: int = 1) -> torch.Generator:
    """The generator to draw noise with on `device`: on the CPU the task's own `generator` (the same numbers as
    always); on a GPU a generator that lives there, seeded from `generator` (one CPU draw, when the task is built),
    so noise is made on the device and a step never copies it from the CPU. A task keeps it as
    `self.device_generator`; ModelTask saves its state with the rest, so stop/resume stays exact."""
    device = torch.device(device)
    if device.type == "cpu":
        return generator
    seed = int(torch.randint(0, 2**62, (1,), generator=generator)) + offset
    return torch.Generator(device=device).manual_seed(seed)


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


def _draw(fn, shape, generator, device, **kw) -> torch.Tensor:
    device = torch.device(device)
    if generator is None:
        return fn(shape, device=device, **kw)
    gdev = generator.device
    if gdev.type == device.type:
        return fn(shape, generator=generator, device=device, **kw)
    # a generator that lives elsewhere (a fixed CPU one for a repeatable view): draw there, copy once
    return fn(shape, generator=generator, device=gdev, **kw).to(device)


def randn(shape, generator: torch.Generator | None, device, **kw) -> torch.Tensor:
    """torch.randn on `device`, from `generator` (drawn where the generator lives, copied if that is elsewhere)."""
    return _draw(torch.randn, shape, generator, device, **kw)


def rand(shape, generator: torch.Generator | None, device, **kw) -> torch.Tensor:
    """torch.rand on `device`, from `generator` (as randn)."""
    return _draw(torch.rand, shape, generator, device, **kw)


def to_device(tensors, device) -> tuple[torch.Tensor, ...]:
    """CPU tensors a step built on the host (text, pairs) copied to `device` without making the CPU wait for the
    GPU: from page-locked memory, non-blocking (the GPU's queue orders the copy before the kernels that read it).
    On the CPU: the tensors as they are."""
    device = torch.device(device)
    if device.type == "cpu":
        return tuple(tensors)
    pin = device.type == "cuda"
    return tuple((t.pin_memory() if pin else t).to(device, non_blocking=True) for t in tensors)


def cpu_copy(model: torch.nn.Module) -> torch.nn.Module:
    """The model itself when it is on the CPU already, else a CPU copy: for views and saves of a trainer's model,
    which must never be moved in place (on a GPU the next step would find its weights gone from the device)."""
    p = next(iter(model.parameters()), None)
    if p is None or p.device.type == "cpu":
        return model
    import copy
    return copy.deepcopy(model).cpu()
