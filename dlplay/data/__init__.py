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
