"""'Does the model copy?' beside a generative model's samples (issue 21, item 6): each sample over its nearest
training image, the two distance histograms and a sentence computed from them (dlplay/copies.py)."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from .. import copies
from .widgets import image_grid


def copy_check(samples: torch.Tensor, data, *, key: str, what: str = "samples") -> copies.CopyReport:
    """Samples (n, C, H, W) from a model trained on `data`; shows the check and returns the numbers."""
    with st.spinner("Finding each sample's nearest training image ..."):
        rep = copies.copy_report(samples, data.x_train, data.x_test)
    st.markdown(f"**Does the model copy its training images?** {rep.sentence(f'{len(rep.sample_d)} {what}')}")
    n = min(16, len(samples))
    image_grid(copies.pairs(samples, rep, data.x_train, n), key=f"{key}:pairs", ncols=n,
               caption=f"Top row: the first {n} of the {what}. Under each: its nearest image in the training set "
                       f"({len(data.x_train):,} images). Their RMS pixel differences, left to right (0 = the same "
                       f"picture): {', '.join(f'{d:.2f}' for d in rep.sample_d[:n])}. A held-out test image is "
                       f"typically {float(np.median(rep.test_d)):.2f} from its nearest training image.",
               download_name=f"{key.replace(':', '_')}_nearest.png")
    st.plotly_chart(copies.histogram(rep), key=f"{key}:hist", config={"displayModeBar": False})
    st.caption("The yardstick is the held-out test images: real images the model never saw, so certainly not "
               "copies. Samples much nearer the training set than they are would be copies. Pixel distance "
               "favours blurry averages, which sit near many training images at once, so *as near as a test "
               "image* is not *as good as a test image*.")
    return rep
