"""How much of the original neighbourhoods a layout keeps."""

from __future__ import annotations


import numpy as np

from ..errors import InputError

QUALITY_K = 10                 # neighbours used by both quality numbers
QUALITY_MAX_POINTS = 3_000     # trustworthiness needs an n x n rank matrix: above this, a random sample


# ------------------------------------------------------------------------------------------------ quality

def quality(x: np.ndarray, y: np.ndarray, k: int = QUALITY_K, max_points: int = QUALITY_MAX_POINTS,
            seed: int = 0) -> dict:
    """How well a layout y keeps the neighbourhoods of x.

    trustworthiness (scikit-learn; Venna and Kaski 2001): 1 minus a penalty for points that are among a point's
    k nearest in the layout but not in the original space (1 = no intruders). It needs an n x n rank matrix, so
    above max_points it is computed on a seeded random sample of max_points points.
    knn_kept: the share of each point's k nearest original neighbours that are also among its k nearest in the
    layout, averaged over points (over a sample of max_points query points when n is larger; their neighbours
    are searched among all points, so the estimate is unbiased).
    """
    from sklearn.manifold import trustworthiness
    from sklearn.neighbors import NearestNeighbors

    x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
    n = len(x)
    k = int(min(k, (n - 1) // 2))
    if k < 1:
        raise InputError("Too few points to measure neighbourhoods.")
    rng = np.random.default_rng(seed)
    sample = np.arange(n) if n <= max_points else np.sort(rng.choice(n, max_points, replace=False))
    tw = float(trustworthiness(x[sample], y[sample], n_neighbors=k))
    nx = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x[sample], return_distance=False)
    ny = NearestNeighbors(n_neighbors=k + 1).fit(y).kneighbors(y[sample], return_distance=False)
    kept = np.mean([len((set(a) - {i}) & (set(b) - {i})) / k for i, a, b in zip(sample, nx, ny)])
    return {"trustworthiness": tw, "knn_kept": float(kept), "k": k, "n_used": int(len(sample)), "n": n}


def neighbours(x: np.ndarray, y: np.ndarray, i: int, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Indices of point i's k nearest neighbours in the original space x and in the layout y (i itself left out)."""
    from sklearn.neighbors import NearestNeighbors

    k = int(min(k, len(x) - 1))
    out = []
    for a in (x, y):
        idx = NearestNeighbors(n_neighbors=k + 1).fit(a).kneighbors(a[i:i + 1], return_distance=False)[0]
        out.append(np.array([j for j in idx if j != i][:k]))
    return out[0], out[1]
