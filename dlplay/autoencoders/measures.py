"""Measuring a trained autoencoder, and what people do with its codes (PCA comparison, morphing, search).

Every function takes a model (on any device) and returns CPU tensors or floats; none moves or changes the model.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..data import ImageData
from ..errors import InputError
from ..limits import check_range
from .models import Autoencoder, decoder_matrix, first_layer, weight_layers
from .training import AutoencoderConfig, corrupt


def _dev(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def encode(model: Autoencoder, x: torch.Tensor, batch: int = 2048) -> torch.Tensor:
    """Codes of many images, on the CPU."""
    model.eval()
    return torch.cat([model.encode(x[i:i + batch].to(_dev(model))).cpu() for i in range(0, len(x), batch)])


@torch.no_grad()
def decode(model: Autoencoder, z) -> torch.Tensor:
    model.eval()
    z = torch.as_tensor(np.asarray(z, np.float32) if not isinstance(z, torch.Tensor) else z).float()
    return model.decode(z.to(_dev(model))).cpu().clamp(0, 1)


@torch.no_grad()
def reconstruct(model: Autoencoder, x: torch.Tensor, batch: int = 2048) -> torch.Tensor:
    """g(f(x)) for many images, on the CPU (a max-pooling model unpools through each image's own switches)."""
    model.eval()
    return torch.cat([model(x[i:i + batch].to(_dev(model))).cpu().clamp(0, 1) for i in range(0, len(x), batch)])


@torch.no_grad()
def decode_code_only(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    """Decode the images' codes alone: for a max-pooling model, without the encoder's switches."""
    return decode(model, encode(model, x))


def mse(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean squared error per pixel."""
    return F.mse_loss(a.float().cpu(), b.float().cpu()).item()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB for images in [0, 1]: 10 log10(1 / MSE)."""
    return 10 * math.log10(1.0 / max(mse(a, b), 1e-12))


# -- sparsity ------------------------------------------------------------------------------------------------------
def code_sparsity(z: torch.Tensor, tol: float = 1e-2) -> float:
    """Fraction of code activations within tol of zero."""
    return (z.abs() < tol).float().mean().item()


def sparsity_report(z: torch.Tensor) -> dict[str, float]:
    """How sparse a ReLU code is, in numbers that do not depend on the code's scale (an L1 penalty can also just
    shrink every number; exact zeros cannot be faked that way):
    zero_share: share of code numbers exactly 0 over the test images; active_per_image: mean count of non-zero
    numbers per image; dead_units: units that are 0 for every test image (a unit the model gave up on)."""
    z = torch.as_tensor(z).float()
    nz = z != 0
    return {"zero_share": 1.0 - nz.float().mean().item(), "active_per_image": nz.float().sum(1).mean().item(),
            "dead_units": float((~nz.any(0)).sum().item()), "mean_abs_code": z.abs().mean().item()}


def weight_zero_fraction(model: Autoencoder, first_only: bool = True) -> float:
    """Share of weights exactly 0 (first layer only, or every weight matrix)."""
    layers = [first_layer(model)] if first_only else weight_layers(model)
    w = torch.cat([m.weight.detach().flatten().cpu() for m in layers])
    return (w == 0).float().mean().item()


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def jacobian_norm(model: Autoencoder, x: torch.Tensor, n: int = 200) -> float:
    """Mean Frobenius norm ||dz/dx||_F over (up to n) images: how much the code moves per unit input change."""
    from .training import jacobian_sq

    model.eval()
    with torch.no_grad():
        return jacobian_sq(model, x[:n].to(_dev(model))).sqrt().mean().item()


def noisy_test(data: ImageData, noise: str, level: float) -> torch.Tensor:
    """A fixed corrupted copy of the test images (seed 0), so PSNRs compare across models."""
    return corrupt(data.x_test, noise, level, torch.Generator().manual_seed(0))


@torch.no_grad()
def knockout_mse(model: Autoencoder, data: ImageData, k: int, repeats: int = 10) -> float:
    """Test MSE when k code numbers (chosen at random per image; the same draws for every model) are set to 0."""
    K = model.code_size
    check_range("units knocked out", k, 0, K)
    z = encode(model, data.x_test)
    g = torch.Generator().manual_seed(0)
    errs = []
    for _ in range(repeats if 0 < k < K else 1):
        order = torch.rand(z.shape, generator=g).argsort(1)
        mask = torch.ones_like(z).scatter_(1, order[:, :k], 0.0)
        errs.append(mse(decode(model, z * mask), data.x_test))
    return float(np.mean(errs))


def knockout_curve(model: Autoencoder, data: ImageData, ks=None) -> dict[int, float]:
    """k -> test MSE with k code numbers knocked out (the redundant autoencoder's lesson)."""
    ks = range(0, model.code_size // 2 + 1) if ks is None else ks
    return {int(k): knockout_mse(model, data, int(k)) for k in ks}


def recognition_rate(model: Autoencoder, data: ImageData, judge=None) -> float:
    """Share of test reconstructions the digit classifier assigns to the right digit."""
    from .. import classifier

    judge = judge if judge is not None else classifier.load_judge()
    with torch.no_grad():
        pred = judge(reconstruct(model, data.x_test)).argmax(1)
    return (pred == data.y_test).float().mean().item()


def evaluate(model: Autoencoder, data: ImageData, config: AutoencoderConfig) -> dict[str, float]:
    """Held-out numbers: test MSE, code sparsity, weight zeros and, where they apply, PSNRs and the Jacobian norm."""
    z = encode(model, data.x_test)
    out = {"test_mse": mse(reconstruct(model, data.x_test), data.x_test), "code_sparsity": code_sparsity(z)}
    if config.variant == "conv_pool":
        out["test_mse_without_switches"] = mse(decode(model, z), data.x_test)
    if config.variant == "sparse":
        out.update(sparsity_report(z))
    if config.weight_l1 > 0:
        out["weight_zero_fraction"] = weight_zero_fraction(model)
    if config.variant == "denoising":
        x_noisy = noisy_test(data, config.noise, config.weight)
        out["psnr_noisy"] = psnr(x_noisy, data.x_test)
        out["psnr_denoised"] = psnr(reconstruct(model, x_noisy), data.x_test)
    if config.variant in ("contractive", "deep"):
        out["jacobian_norm"] = jacobian_norm(model, data.x_test)
    if config.variant == "redundant" or (config.variant == "deep" and model.code_size >= 4):
        out["mse_quarter_knocked_out"] = knockout_mse(model, data, model.code_size // 4)
    if config.loss == "perceptual":
        out["recognised"] = recognition_rate(model, data)
    return out


# -- PCA, the linear baseline ------------------------------------------------------------------------------------
class PCABaseline:
    """PCA with k components fitted on the training images (scikit-learn), as an 'autoencoder' with
    encode (project) and decode (back-project), so it can be compared view for view."""

    def __init__(self, data: ImageData, k: int):
        from sklearn.decomposition import PCA

        self.shape = data.image_shape
        flat = data.x_train.flatten(1).numpy()
        self.k = int(min(k, *flat.shape))
        self.pca = PCA(n_components=self.k, random_state=0).fit(flat)

    def encode(self, x: torch.Tensor) -> np.ndarray:
        return self.pca.transform(x.flatten(1).numpy())

    def decode(self, z: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(self.pca.inverse_transform(z), dtype=torch.float32).view(-1, *self.shape)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def test_mse(self, x: torch.Tensor) -> float:
        return mse(self.reconstruct(x), x)


def subspace_angle(model: Autoencoder, pca: PCABaseline) -> float:
    """Largest principal angle (degrees) between the linear decoder's column space and PCA's top-k subspace."""
    from scipy.linalg import subspace_angles

    return float(np.degrees(subspace_angles(decoder_matrix(model).numpy(), pca.pca.components_.T).max()))


def knn_accuracy(train_codes, y_train, test_codes, y_test, k: int = 5) -> float:
    """How well a code separates the classes: accuracy of a k-nearest-neighbour classifier fitted on the training
    codes, on the test codes (scikit-learn)."""
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(k).fit(np.asarray(train_codes), np.asarray(y_train))
    return float(clf.score(np.asarray(test_codes), np.asarray(y_test)))


# -- using codes -------------------------------------------------------------------------------------------------
def interpolate(model: Autoencoder, a: torch.Tensor, b: torch.Tensor, steps: int = 8):
    """Morphing: decode (1-t) f(a) + t f(b) for t from 0 to 1, and the pixel cross-fade (1-t) a + t b."""
    check_range("steps", steps, 2, 32)
    t = torch.linspace(0, 1, steps).view(-1, 1)
    za, zb = encode(model, torch.stack([a, b]))
    path = decode(model, (1 - t) * za + t * zb)
    fade = (1 - t.view(-1, 1, 1, 1)) * a + t.view(-1, 1, 1, 1) * b
    return path, fade


NEAREST_CHUNK_FLOATS = 8_000_000    # distances held at once by `nearest` (32 MB), whatever the two set sizes


def nearest(query: torch.Tensor, base: torch.Tensor, k: int, exclude_self: bool = False) -> torch.Tensor:
    """Indices (n_query, k) of the k nearest rows of base by Euclidean distance, computed a block of queries at a
    time so memory stays at NEAREST_CHUNK_FLOATS distances (10,000 x 60,000 at once was 2.4 GB)."""
    q, b = query.flatten(1).float(), base.flatten(1).float()
    rows = max(1, NEAREST_CHUNK_FLOATS // max(1, len(b)))
    out = []
    for s in range(0, len(q), rows):
        d = torch.cdist(q[s:s + rows], b)
        if exclude_self:
            i = torch.arange(s, min(s + rows, len(q)))
            d[i - s, i] = float("inf")
        out.append(d.topk(k, largest=False).indices)
    return torch.cat(out) if out else torch.empty(0, k, dtype=torch.long)


def weights_digest(model: nn.Module) -> str:
    """A digest of the model's weights: results computed from a model are reused while it has these weights."""
    import hashlib

    h = hashlib.sha1()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def per_model(store: dict, model: nn.Module, what: tuple, compute, keep: int = 16):
    """compute(), or its earlier result for this model's weights and `what` (the dataset, the method...). `store` is
    a dict the caller owns (the page's session state): per user, at most `keep` results, the oldest dropped."""
    key = (weights_digest(model), *what)
    if key not in store:
        while len(store) >= keep:
            store.pop(next(iter(store)))
        store[key] = compute()
    return store[key]


def train_codes(model: Autoencoder, data: ImageData) -> torch.Tensor:
    return encode(model, data.x_train)


QUERY_KINDS = {"clean": "the test image as it is", "noisy": "with Gaussian noise (std 0.3)",
               "shifted": "moved one pixel right", "masked": "its left half blanked"}


def distort(x: torch.Tensor, kind: str) -> torch.Tensor:
    """The query as a user might give it: clean, noisy (Gaussian, std 0.3, fixed seed), shifted one pixel right
    (zeros enter on the left), or with its left half blanked."""
    if kind == "clean":
        return x
    if kind == "noisy":
        return corrupt(x, "gaussian", 0.3, torch.Generator().manual_seed(1))
    if kind == "shifted":
        return F.pad(x, (1, 0, 0, 0))[..., :-1]
    if kind == "masked":
        out = x.clone()
        out[..., : x.shape[-1] // 2] = 0
        return out
    raise InputError(f"Unknown query kind {kind!r}: choose one of {', '.join(QUERY_KINDS)}.")


def search(model: Autoencoder, data: ImageData, query_index: int, k: int = 8, kind: str = "clean") -> dict:
    """Similar-image search among the training images for one (possibly distorted) test image: by code distance
    and by pixel distance."""
    check_range("query", query_index, 0, len(data.x_test) - 1)
    check_range("k", k, 1, 64)
    q = distort(data.x_test[query_index:query_index + 1], kind)
    by_code = nearest(encode(model, q), train_codes(model, data), k)[0]
    by_pixel = nearest(q, data.x_train, k)[0]
    y = data.y_test[query_index]
    return {"query": q[0], "code": by_code, "pixel": by_pixel,
            "code_same": int((data.y_train[by_code] == y).sum()), "pixel_same": int((data.y_train[by_pixel] == y).sum())}


def search_agreement(model: Autoencoder, data: ImageData, k: int = 8, kind: str = "clean",
                     pca: "PCABaseline | None" = None, max_queries: int = 2000) -> dict[str, float]:
    """Over the test queries (distorted as `kind` says; at most max_queries): the share of each query's k nearest
    training images that have its label, for four indexes:
    code: the model's K-number codes; pixel: all D pixels (D/K times the code's memory); pixel_k: only the K
    pixels that vary most over the training set (the code's memory, in pixels); pca_k: PCA with K components (the
    code's memory, linear). Also the bytes per image of the code and pixel indexes."""
    y = data.y_test[:max_queries].view(-1, 1)
    q = distort(data.x_test[:max_queries], kind)
    K = model.code_size
    pca = pca if pca is not None and pca.k == K else PCABaseline(data, K)
    top = data.x_train.flatten(1).var(0).argsort(descending=True)[:K]
    share = lambda idx: (data.y_train[idx] == y).float().mean().item()  # noqa: E731
    return {"code": share(nearest(encode(model, q), train_codes(model, data), k)),
            "pixel": share(nearest(q, data.x_train, k)),
            "pixel_k": share(nearest(q.flatten(1)[:, top], data.x_train.flatten(1)[:, top], k)),
            "pca_k": share(nearest(torch.as_tensor(pca.encode(q)), torch.as_tensor(pca.encode(data.x_train)), k)),
            "code_bytes": 4 * K, "pixel_bytes": 4 * data.n_pixels}


def search_table(model: Autoencoder, data: ImageData, k: int = 8, pca: "PCABaseline | None" = None
                 ) -> dict[str, dict[str, float]]:
    """search_agreement for every kind of query."""
    return {kind: search_agreement(model, data, k, kind, pca) for kind in QUERY_KINDS}


def identity_error(model: Autoencoder, data: ImageData, level: float = 0.1) -> float:
    """MSE between slightly noisy test images and their reconstructions. Small means the model copies whatever it
    is given, noise included (a near-identity map); a bottleneck model cannot, it maps inputs onto the images it
    learned and so removes part of the noise."""
    x_noisy = noisy_test(data, "gaussian", level)
    return mse(reconstruct(model, x_noisy), x_noisy)


def first_filters(model: Autoencoder) -> torch.Tensor:
    """The encoder's first-layer filters as images, each scaled to [0, 1]: a convolution's kernels
    (out_channels, C, k, k), or a dense layer's rows shown at the image's shape (units, C, H, W)."""
    layer = first_layer(model)
    w = layer.weight.detach().cpu()
    if w.dim() == 2:
        w = w.view(len(w), *model.image_shape)
    lo, hi = w.amin((1, 2, 3), True), w.amax((1, 2, 3), True)
    return (w - lo) / (hi - lo + 1e-8)


def showcase(data: ImageData, n: int = 16) -> torch.Tensor:
    """Indices of a fixed set of test images, cycling through the classes (so every label is on show)."""
    per_class = [torch.nonzero(data.y_test == c).flatten().tolist() for c in range(len(data.class_names))]
    out, i = [], 0
    while len(out) < min(n, len(data.x_test)):
        for idx in per_class:
            if i < len(idx) and len(out) < n:
                out.append(idx[i])
        i += 1
    return torch.tensor(out)


def factor_recovery(model: Autoencoder, data: ImageData) -> dict[str, float]:
    """For sets with known factors: how well each factor can be read back from the code, as the cross-validated
    R^2 of a 5-nearest-neighbour regression from test codes to the factor (1 = the code determines it exactly).

    A rank correlation would be the wrong measure: an arrow at -90 and at +90 degrees looks almost the same, so
    the images lie on a near-loop that a 1-number code has to cut somewhere; the code is then a shifted ramp."""
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsRegressor

    z = encode(model, data.x_test).numpy()
    return {name: float(cross_val_score(KNeighborsRegressor(5), z, f, cv=5, scoring="r2").mean())
            for name, f in data.factors_test.items()}
