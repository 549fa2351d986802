"""Datasets by name, procedural sets with known factors, 2-D toy distributions, and reading user uploads.

    from dlplay import data
    ds = data.load("digits")          # ImageData: x_train (N,1,8,8) in [0,1], y_train, x_test, y_test, ...
    pts = data.toy2d("ring8", 2000)   # (2000, 2) float32
"""

from .images import DATASETS, ImageData, data_dir, dataset_names, download, load
from .toy import TOY2D, toy2d, toy2d_modes
from .uploads import read_image, read_text

__all__ = [
    "DATASETS", "ImageData", "data_dir", "dataset_names", "download", "load",
    "TOY2D", "toy2d", "toy2d_modes", "read_image", "read_text",
]


# -- one copy of a dataset per device per process -------------------------------------------------------------------
import threading as _threading
import weakref as _weakref

import torch as _torch

_ON_DEVICE: dict = {}
_ON_DEVICE_LOCK = _threading.Lock()


def on_device(t: "_torch.Tensor", device) -> "_torch.Tensor":
    """`t` on `device`, copied there once per process and shared by every task that asks (read-only: tasks index
    it, never write to it). A lecture hall of VAE tasks on MNIST then holds one copy of the images on the GPU, not
    one per task. On the CPU: `t` itself (as `t.to('cpu')` would be)."""
    device = _torch.device(device)
    if device.type == "cpu":
        return t
    key = (id(t), str(device))
    with _ON_DEVICE_LOCK:
        hit = _ON_DEVICE.get(key)
        if hit is not None and hit[0]() is t:
            return hit[1]
        copy = t.to(device)
        _ON_DEVICE[key] = (_weakref.ref(t, lambda _r, k=key: _ON_DEVICE.pop(k, None)), copy)
        return copy
