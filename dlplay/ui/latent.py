"""Latent sliders, shared by the Autoencoder Lab and the VAE page: one slider per code dimension (for codes up
to 16 numbers; beyond that, sliders move along the top principal directions of the codes), the decoded image
redrawn as a slider moves. The slider state lives in the session, per `key`."""

from __future__ import annotations

from typing import Callable

import numpy as np
import streamlit as st

from .. import viz

MAX_SLIDERS = 16


def _basis(codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, components (k, d)) of the codes: the directions sliders move along when the code is long."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=k, random_state=0).fit(codes)
    return pca.mean_, pca.components_


def latent_sliders(key: str, decode: Callable[[np.ndarray], "np.ndarray"], codes: np.ndarray,
                   start: np.ndarray | None = None, *, prior_std: float | None = None, ncols: int = 4,
                   image_width: int = 220, title: str = "Decoded from the code") -> np.ndarray:
    """Draw sliders and the decoded image; returns the current code (d,).

    decode(z) takes codes shaped (n, d) and returns images (n, C, H, W) in [0, 1].
    codes: example codes (e.g. the test set's), used for slider ranges and, for long codes, the directions.
    start: the code the sliders start from (e.g. a chosen test image's code); changing it resets the sliders.
    prior_std: for a VAE, slider ranges of +-3 prior standard deviations instead of the codes' spread.
    """
    codes = np.asarray(codes, np.float64)
    d = codes.shape[1]
    start = codes.mean(0) if start is None else np.asarray(start, np.float64)
    long_code = d > MAX_SLIDERS
    if long_code:
        mean, comps = _basis(codes, min(8, d))
        coords_all = (codes - mean) @ comps.T
        coords0 = (start - mean) @ comps.T
        names = [f"direction {i + 1}" for i in range(len(comps))]
    else:
        coords_all, coords0, names = codes, start, [f"z{i + 1}" for i in range(d)]
    if prior_std is not None and not long_code:
        lo, hi = np.full(d, -3 * prior_std), np.full(d, 3 * prior_std)
    else:
        q1, q99 = np.percentile(coords_all, 1, 0), np.percentile(coords_all, 99, 0)
        span = np.maximum(q99 - q1, 1e-3)
        lo, hi = q1 - 0.25 * span, q99 + 0.25 * span
    lo, hi = np.minimum(lo, coords0), np.maximum(hi, coords0)

    sig = hash((tuple(np.round(coords0, 6)), codes.shape))
    if st.session_state.get(f"{key}:sig") != sig:  # a new start code: move every slider there
        st.session_state[f"{key}:sig"] = sig
        for i, v in enumerate(coords0):
            st.session_state[f"{key}:s{i}"] = float(v)

    left, right = st.columns([3, 2])
    with left:
        if long_code:
            st.caption(f"The code has {d} numbers: the sliders move along its {len(names)} main directions "
                       "(principal components of the test codes).")
        cols = st.columns(ncols)
        values = []
        for i, name in enumerate(names):
            with cols[i % ncols]:
                values.append(st.slider(name, float(lo[i]), float(hi[i]), key=f"{key}:s{i}",
                                        step=float((hi[i] - lo[i]) / 100)))
        if st.button("Back to the start code", key=f"{key}:reset"):
            st.session_state.pop(f"{key}:sig", None)
            st.rerun()
    values = np.asarray(values)
    z = mean + values @ comps if long_code else values
    img = decode(z[None].astype(np.float32))
    with right:
        st.image(viz.tile(img, 1, pad=0), caption=title, width=image_width)
    return z
