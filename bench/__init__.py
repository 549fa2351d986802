"""Shared helpers of the bench files: the device they measure on, and waiting for it before reading a clock."""

import os


def bench_device() -> str:
    """The device the bench rows train on: `bench/run.py --device cuda` (or $DLPLAY_BENCH_DEVICE); default cpu, so
    the README's rows stay comparable between machines."""
    return os.environ.get("DLPLAY_BENCH_DEVICE", "cpu")


def sync(device=None) -> None:
    """Wait for the GPU's queued work before reading a clock (kernels run asynchronously: without this a loop is
    timed as fast as the CPU can queue it)."""
    import torch

    dev = torch.device(device or bench_device())
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elif dev.type == "mps":
        torch.mps.synchronize()
