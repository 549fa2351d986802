"""What one page hands to another inside the same user session: vectors for the Embedding Explorer.

The Autoencoder Lab, the VAE page and the Words page call `publish_vectors(...)` after training; the Embedding
Explorer lists `published_vectors()` as sources. It lives in st.session_state, so it is never shared between
users.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st

_KEY = "dlplay:published_vectors"


@dataclass
class Vectors:
    name: str                       # shown in the source list, e.g. "Autoencoder Lab: your deep AE codes (digits)"
    vectors: np.ndarray             # (n, d) float
    labels: np.ndarray | None = None        # (n,) int or str, for colour
    hover: list[str] | None = None          # (n,) text per row (e.g. the word)
    images: np.ndarray | None = None        # (n, C, H, W) in [0,1] for image hovers and neighbour views
    class_names: list[str] | None = None
    description: str = ""
    extra: dict = field(default_factory=dict)


def publish_vectors(v: Vectors) -> None:
    st.session_state.setdefault(_KEY, {})[v.name] = v


def published_vectors() -> dict[str, Vectors]:
    return dict(st.session_state.get(_KEY, {}))
