"""Every autoencoder of the lectures, in plain PyTorch: linear (= PCA), deep, sparse, denoising, overcomplete,
contractive and convolutional; plus what people do with the codes (PCA comparison, morphing, similar-image search).

An autoencoder is an encoder f and a decoder g trained so that the reconstruction g(f(x)) is close to x:

    L(x) = 1/D ||x - g(f(x))||^2                       (mean squared error over the D pixels)

and the code z = f(x) is narrower than x (a bottleneck), or else restrained some other way:

    sparse        L + lambda * mean_j |z_j|                      (L1 on the code)
    denoising     1/D ||x - g(f(x~))||^2, x~ = x + sigma*eps    (or x~ = x * mask; Vincent et al. 2008)
    contractive   L + lambda * ||J_f(x)||_F^2,  J_f = dz/dx      (Rifai et al. 2011)

A linear autoencoder trained with this loss spans the same subspace as PCA's top K components (Baldi & Hornik
1989); a deep one reconstructs better than PCA at the same code size (Hinton & Salakhutdinov 2006, there with a
784-1000-500-250-30 encoder; here scaled down to the image size).

    from dlplay import autoencoders as ae, data
    task = ae.AutoencoderTask(data.load("digits"), variant="deep", code_size=8)
    Trainer(task).run(seconds=10)
    task.model.encode(x)   # (N, 1, 8, 8) -> (N, 8);  task.model.decode(z) -> (N, 1, 8, 8)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import checkpoints
from .data import ImageData
from .device import get_device, seed_everything
from .errors import InputError
from .limits import check_range
from .train import Batches, ModelTask, Trainer

BUILDER = "dlplay.autoencoders:build_model"
MAX_CODE = 1024          # longest code a user may ask for (the backend bound; the page slider mirrors it)
MAX_HIDDEN = 2048


@dataclass(frozen=True)
class Variant:
    title: str
    code_size: int               # default code size on digits (the overcomplete one: a multiple of the pixels)
    knob: str | None = None      # the variant's own knob: its name, default, range
    knob_default: float = 0.0
    knob_range: tuple[float, float] = (0.0, 1.0)
    blurb: str = ""


VARIANTS: dict[str, Variant] = {
    "deep": Variant("Deep", 8, blurb="Two hidden layers each side and a linear 8-number code: beats PCA at the same "
                                     "code size because the decoder can bend."),
    "linear": Variant("Linear (= PCA)", 8, blurb="One linear layer each side, no nonlinearity: it can only find a "
                                                  "linear subspace, and it finds PCA's."),
    "sparse": Variant("Sparse (L1 on the code)", 16, "L1 weight lambda", 0.003, (0.0, 0.1),
                      "Non-negative (ReLU) code with an L1 penalty: most code numbers are exactly zero for any one "
                      "image."),
    "denoising": Variant("Denoising", 8, "noise level", 0.3, (0.0, 0.9),
                         "Trained to rebuild the clean image from a corrupted one (Gaussian noise, or pixels "
                         "dropped to zero)."),
    "overcomplete": Variant("Overcomplete (no regularisation)", 128, blurb="A code longer than the image (here "
                            "twice the pixels) and nothing else: it can simply copy the input."),
    "contractive": Variant("Contractive", 8, "contraction weight lambda", 0.002, (0.0, 0.1),
                           "Penalises how much the code moves when the input moves a little (the Jacobian norm)."),
    "conv": Variant("Convolutional", 8, blurb="Convolutions and stride-2 downsampling in the encoder, transposed "
                                              "convolutions ('deconvolution') in the decoder."),
}
NOISE_KINDS = ("gaussian", "dropout")


# -- models ------------------------------------------------------------------------------------------------------
def _mlp(sizes: list[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return layers[:-1]  # no ReLU after the last layer


class Autoencoder(nn.Module):
    """encode: images (N, C, H, W) -> codes (N, K); decode: codes -> images; forward = decode(encode(x))."""

    def __init__(self, variant: str = "deep", image_shape=(1, 8, 8), code_size: int = 8, hidden=(128, 64)):
        super().__init__()
        self.variant, self.image_shape, self.code_size = variant, tuple(image_shape), int(code_size)
        c, h, w = self.image_shape
        d = c * h * w
        if variant == "linear":  # x_hat = W_d (W_e x + b_e) + b_d: the PCA setting
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(d, code_size))
            self.decoder = nn.Sequential(nn.Linear(code_size, d))
        elif variant == "overcomplete":  # one wide layer each side: code longer than the input
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(d, code_size), nn.ReLU())
            self.decoder = nn.Sequential(nn.Linear(code_size, d), nn.Sigmoid())
        elif variant == "conv":
            ch = (16, 32)
            h4, w4 = -(-h // 4), -(-w // 4)  # two stride-2 convolutions: 8x8 -> 4x4 -> 2x2, 28 -> 14 -> 7
            self.encoder = nn.Sequential(
                nn.Conv2d(c, ch[0], 3, 2, 1), nn.ReLU(), nn.Conv2d(ch[0], ch[1], 3, 2, 1), nn.ReLU(),
                nn.Flatten(), nn.Linear(ch[1] * h4 * w4, code_size))
            self.decoder = nn.Sequential(
                nn.Linear(code_size, ch[1] * h4 * w4), nn.ReLU(), nn.Unflatten(1, (ch[1], h4, w4)),
                nn.ConvTranspose2d(ch[1], ch[0], 4, 2, 1), nn.ReLU(),   # "deconvolution": upsample x2
                nn.ConvTranspose2d(ch[0], c, 4, 2, 1),
                nn.Upsample(size=(h, w)) if (h4 * 4, w4 * 4) != (h, w) else nn.Identity(), nn.Sigmoid())
        else:  # deep, sparse, denoising, contractive: D - h1 - h2 - K - h2 - h1 - D
            hidden = [int(n) for n in hidden]
            self.encoder = nn.Sequential(nn.Flatten(), *_mlp([d, *hidden, code_size]),
                                         *([nn.ReLU()] if variant == "sparse" else []))  # sparse: code >= 0
            self.decoder = nn.Sequential(*_mlp([code_size, *hidden[::-1], d]), nn.Sigmoid())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).view(len(z), *self.image_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def build_model(variant: str = "deep", image_shape=(1, 8, 8), code_size: int = 8, hidden=(128, 64)) -> Autoencoder:
    """The checkpoint builder: rebuilds a model from its config (bounds checked, so a bad file is a sentence)."""
    if variant not in VARIANTS:
        raise InputError(f"Unknown autoencoder variant {variant!r}: choose one of {', '.join(VARIANTS)}.")
    check_range("code size", code_size, 1, MAX_CODE)
    if any(not 1 <= int(n) <= MAX_HIDDEN for n in hidden):
        raise InputError(f"Hidden layer sizes must be between 1 and {MAX_HIDDEN}.")
    return Autoencoder(variant, image_shape, int(code_size), tuple(int(n) for n in hidden))


# -- losses ------------------------------------------------------------------------------------------------------
def corrupt(x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """The denoising autoencoder's input x~: Gaussian noise of std `level` (clipped to [0,1]), or each pixel
    dropped to 0 with probability `level` (masking noise)."""
    if kind not in NOISE_KINDS:
        raise InputError(f"Unknown noise {kind!r}: choose gaussian or dropout.")
    if kind == "gaussian":
        eps = torch.randn(x.shape, generator=generator).to(x.device)
        return (x + level * eps).clamp(0, 1)
    keep = (torch.rand(x.shape, generator=generator) >= level).to(x.device)
    return x * keep


def jacobian_sq(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    """||J_f(x)||_F^2 per image, J_f = dz/dx (K x D); differentiable, for the contractive penalty (Rifai 2011)."""
    from torch.func import jacrev, vmap

    jac = vmap(jacrev(lambda xi: model.encode(xi[None])[0]))(x)  # (N, K, C, H, W)
    return jac.pow(2).flatten(1).sum(1)


def loss_terms(model: Autoencoder, x: torch.Tensor, variant: str, weight: float = 0.0, noise: str = "gaussian",
               generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """The variant's training loss on a batch x: {'loss': total, 'mse': reconstruction part, 'penalty': rest}."""
    x_in = corrupt(x, noise, weight, generator) if variant == "denoising" else x
    z = model.encode(x_in)
    mse = F.mse_loss(model.decode(z), x)                      # 1/D ||x - g(f(x~))||^2, averaged over the batch
    if variant == "sparse":
        penalty = weight * z.abs().mean()                     # lambda * mean |z_j|
    elif variant == "contractive" and weight > 0:
        penalty = weight * jacobian_sq(model, x).mean()       # lambda * ||J_f(x)||_F^2
    else:
        return {"loss": mse, "mse": mse, "penalty": 0.0}      # no extra graph node when there is no penalty
    return {"loss": mse + penalty, "mse": mse, "penalty": penalty}


# -- training ----------------------------------------------------------------------------------------------------
def default_code_size(variant: str, data: ImageData) -> int:
    if variant == "overcomplete":
        return min(MAX_CODE, 2 * data.n_pixels)
    return VARIANTS[variant].code_size


class AutoencoderTask(ModelTask):
    """One variant on one dataset, trained with Adam on minibatches drawn from the task's own generator."""

    def __init__(self, data: ImageData, variant: str = "deep", code_size: int | None = None,
                 weight: float | None = None, noise: str = "gaussian", lr: float = 2e-3, batch_size: int = 64,
                 hidden=(128, 64), seed: int = 0, device=None):
        if variant not in VARIANTS:
            raise InputError(f"Unknown autoencoder variant {variant!r}: choose one of {', '.join(VARIANTS)}.")
        v = VARIANTS[variant]
        code_size = default_code_size(variant, data) if code_size is None else int(code_size)
        check_range("code size", code_size, 1, MAX_CODE)
        weight = v.knob_default if weight is None else float(weight)
        if v.knob:
            check_range(v.knob, weight, *v.knob_range)
        if noise not in NOISE_KINDS:
            raise InputError(f"Unknown noise {noise!r}: choose gaussian or dropout.")
        check_range("learning rate", lr, 1e-5, 0.1)
        check_range("batch size", batch_size, 1, 4096)
        self.data, self.variant, self.weight, self.noise = data, variant, weight, noise
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.config = {"variant": variant, "image_shape": list(data.image_shape), "code_size": code_size,
                       "hidden": [int(n) for n in hidden]}
        self.model = build_model(**self.config).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.x = data.x_train.to(self.device)
        self.x_test = data.x_test.to(self.device)
        self.batches = Batches(len(self.x), int(batch_size), self.generator)

    @property
    def extra(self) -> dict:
        """What a checkpoint stores beside the weights: the training settings the views need."""
        return {"dataset": self.data.name, "weight": self.weight, "noise": self.noise}

    def step(self):
        self.model.train()
        x = self.x[self.batches.next().to(self.device)]
        out = loss_terms(self.model, x, self.variant, self.weight, self.noise, self.generator)
        self.opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        self.opt.step()
        return out if self.variant in ("sparse", "contractive") else {"loss": out["loss"]}

    def evaluate(self):
        return evaluate(self.model, self.data, self.variant, self.weight, self.noise)


# -- measuring a model -------------------------------------------------------------------------------------------
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
def reconstruct(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    return decode(model, encode(model, x))


def mse(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean squared error per pixel."""
    return F.mse_loss(a.float().cpu(), b.float().cpu()).item()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB for images in [0, 1]: 10 log10(1 / MSE)."""
    return 10 * math.log10(1.0 / max(mse(a, b), 1e-12))


def code_sparsity(z: torch.Tensor, tol: float = 1e-2) -> float:
    """Fraction of code activations within tol of zero."""
    return (z.abs() < tol).float().mean().item()


def jacobian_norm(model: Autoencoder, x: torch.Tensor, n: int = 200) -> float:
    """Mean Frobenius norm ||dz/dx||_F over (up to n) images: how much the code moves per unit input change."""
    model.eval()
    with torch.no_grad():
        return jacobian_sq(model, x[:n].to(_dev(model))).sqrt().mean().item()


def noisy_test(data: ImageData, noise: str, level: float) -> torch.Tensor:
    """A fixed corrupted copy of the test images (seed 0), so PSNRs compare across models."""
    return corrupt(data.x_test, noise, level, torch.Generator().manual_seed(0))


def evaluate(model: Autoencoder, data: ImageData, variant: str, weight: float = 0.0,
             noise: str = "gaussian") -> dict[str, float]:
    """Held-out numbers: test MSE, code sparsity and, where they apply, PSNRs and the Jacobian norm."""
    z = encode(model, data.x_test)
    out = {"test_mse": mse(decode(model, z), data.x_test), "code_sparsity": code_sparsity(z)}
    if variant == "denoising":
        x_noisy = noisy_test(data, noise, weight)
        out["psnr_noisy"] = psnr(x_noisy, data.x_test)
        out["psnr_denoised"] = psnr(reconstruct(model, x_noisy), data.x_test)
    if variant in ("contractive", "deep"):
        out["jacobian_norm"] = jacobian_norm(model, data.x_test)
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

    w = model.decoder[0].weight.detach().cpu().numpy()          # (D, K): x_hat = W z + b
    return float(np.degrees(subspace_angles(w, pca.pca.components_.T).max()))


# -- using codes -------------------------------------------------------------------------------------------------
def interpolate(model: Autoencoder, a: torch.Tensor, b: torch.Tensor, steps: int = 8):
    """Morphing: decode (1-t) f(a) + t f(b) for t from 0 to 1, and the pixel cross-fade (1-t) a + t b."""
    check_range("steps", steps, 2, 32)
    t = torch.linspace(0, 1, steps).view(-1, 1)
    za, zb = encode(model, torch.stack([a, b]))
    path = decode(model, (1 - t) * za + t * zb)
    fade = (1 - t.view(-1, 1, 1, 1)) * a + t.view(-1, 1, 1, 1) * b
    return path, fade


def nearest(query: torch.Tensor, base: torch.Tensor, k: int, exclude_self: bool = False) -> torch.Tensor:
    """Indices (n_query, k) of the k nearest rows of base by Euclidean distance."""
    d = torch.cdist(query.flatten(1).float(), base.flatten(1).float())
    if exclude_self:
        d.fill_diagonal_(float("inf"))
    return d.topk(k, largest=False).indices


def search(model: Autoencoder, data: ImageData, query_index: int, k: int = 8) -> dict:
    """Similar-image search among the training images for one test image: by code distance and by pixel distance."""
    check_range("query", query_index, 0, len(data.x_test) - 1)
    check_range("k", k, 1, 64)
    q = data.x_test[query_index:query_index + 1]
    by_code = nearest(encode(model, q), train_codes(model, data), k)[0]
    by_pixel = nearest(q, data.x_train, k)[0]
    y = data.y_test[query_index]
    return {"code": by_code, "pixel": by_pixel,
            "code_same": int((data.y_train[by_code] == y).sum()), "pixel_same": int((data.y_train[by_pixel] == y).sum())}


def train_codes(model: Autoencoder, data: ImageData) -> torch.Tensor:
    return encode(model, data.x_train)


def search_agreement(model: Autoencoder, data: ImageData, k: int = 8) -> dict[str, float]:
    """Over every test query: the share of its k nearest training images (by code; by pixels) with its label."""
    y = data.y_test.view(-1, 1)
    code = nearest(encode(model, data.x_test), train_codes(model, data), k)
    pix = nearest(data.x_test, data.x_train, k)
    return {"code": (data.y_train[code] == y).float().mean().item(),
            "pixel": (data.y_train[pix] == y).float().mean().item()}


def identity_error(model: Autoencoder, data: ImageData, level: float = 0.1) -> float:
    """MSE between slightly noisy test images and their reconstructions. Small means the model copies whatever it
    is given, noise included (a near-identity map); a bottleneck model cannot, it maps inputs onto the images it
    learned and so removes part of the noise."""
    x_noisy = noisy_test(data, "gaussian", level)
    return mse(reconstruct(model, x_noisy), x_noisy)


def first_filters(model: Autoencoder) -> torch.Tensor:
    """The convolutional encoder's first-layer filters as images (out_channels, C, k, k), each scaled to [0, 1]."""
    w = model.encoder[0].weight.detach().cpu()
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


# -- figures (plotly) --------------------------------------------------------------------------------------------
def code_histogram(codes: dict[str, np.ndarray], tol: float = 1e-2):
    """Histogram of code activations for one or more models, with the near-zero share in the legend."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, z in codes.items():
        z = np.asarray(z).ravel()
        fig.add_trace(go.Histogram(x=z, name=f"{name}: {np.mean(np.abs(z) < tol):.0%} near zero",
                                   histnorm="probability", opacity=0.6, nbinsx=60))
    fig.update_layout(barmode="overlay", height=320, xaxis_title="code activation", yaxis_title="share",
                      margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.1))
    return fig


def factor_plot(code: np.ndarray, factor: np.ndarray, factor_name: str, labels=None):
    """A one-number code against a known factor (e.g. the angle): a clean curve means the code found the factor."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=factor, y=code, mode="markers", marker=dict(size=5, color=factor,
                               colorscale="Viridis", showscale=False), hovertemplate=f"{factor_name} %{{x:.1f}}"
                               "<br>code %{y:.3f}<extra></extra>"))
    fig.update_layout(height=420, xaxis_title=f"true {factor_name}", yaxis_title="code (z1)",
                      margin=dict(l=10, r=10, t=10, b=10))
    return fig


def code_map(codes: np.ndarray, method: str = "PCA") -> np.ndarray:
    """2-D coordinates of the codes: the code itself when it has 2 numbers, else PCA or t-SNE of the codes."""
    codes = np.asarray(codes, np.float64)
    if codes.shape[1] <= 2:
        return codes if codes.shape[1] == 2 else np.c_[codes, np.zeros(len(codes))]
    if method == "t-SNE":
        from sklearn.manifold import TSNE

        return TSNE(2, perplexity=min(30, len(codes) - 1), random_state=0, init="pca").fit_transform(codes)
    from sklearn.decomposition import PCA

    return PCA(2, random_state=0).fit_transform(codes)


# -- shipped checkpoints, CLI ------------------------------------------------------------------------------------
# name -> (dataset, variant, code size, step budget). Step budgets, not seconds: the same result on any machine.
SHIPPED = {
    "autoencoder_digits": ("digits", "deep", 8, 4000),
    "autoencoder_rotations": ("rotations", "deep", 1, 3000),
    "autoencoder_linear_digits": ("digits", "linear", 8, 12000),
    "autoencoder_sparse_digits": ("digits", "sparse", 16, 4000),
    "autoencoder_denoising_digits": ("digits", "denoising", 8, 4000),
    "autoencoder_overcomplete_digits": ("digits", "overcomplete", 128, 3000),
    "autoencoder_contractive_digits": ("digits", "contractive", 8, 1500),
    "autoencoder_conv_digits": ("digits", "conv", 8, 3000),
}


def shipped_name(dataset: str, variant: str) -> str | None:
    """The shipped checkpoint for this dataset and variant, if there is one."""
    for name, (ds, v, _, _) in SHIPPED.items():
        if ds == dataset and v == variant:
            return name
    return None


def load(source) -> tuple[Autoencoder, dict, dict]:
    return checkpoints.load(source, expect_builder=BUILDER)


def pretrain(out_dir=None, seed: int = 0, names=None) -> dict:
    """Re-create the shipped autoencoders (a fixed step budget each, on the CPU). Weights are stored in half
    precision to keep the files small; loading copies them back into the float32 model."""
    import copy

    from .data import load as load_data

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    results = {}
    for name, (ds, variant, k, steps) in SHIPPED.items():
        if names and name not in names:
            continue
        data = load_data(ds)
        task = AutoencoderTask(data, variant, k, seed=seed, device="cpu")
        Trainer(task, record_every=100).run(steps=steps)
        ev = task.evaluate()
        checkpoints.save(out_dir / f"{name}.pt", copy.deepcopy(task.model).half(), task.config, BUILDER,
                         {**task.extra, "steps": steps, **ev})
        results[name] = {k2: round(v, 4) for k2, v in ev.items()}
    return results


def cli_args(command, parser) -> None:
    parser.add_argument("--variant", default="deep", choices=list(VARIANTS))
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--code-size", type=int, default=None, help="code length K (default: the variant's)")
    parser.add_argument("--weight", type=float, default=None,
                        help="the variant's knob: L1 weight (sparse), noise level (denoising), contraction weight")
    parser.add_argument("--noise", default="gaussian", choices=NOISE_KINDS, help="denoising: the corruption")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=None, help="a step budget instead of (or as well as) seconds")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=64)


def cli_run(command, args) -> dict:
    from .data import load as load_data

    data = load_data(args.dataset)
    task = AutoencoderTask(data, args.variant, args.code_size, args.weight, args.noise, args.lr, args.batch_size,
                           seed=args.seed, device=args.device)
    tr = Trainer(task, record_every=50).run(steps=args.steps, seconds=None if args.steps else args.seconds)
    k = task.config["code_size"]
    pca = PCABaseline(data, k)
    out = {"variant": args.variant, "dataset": args.dataset, "code_size": k, "steps": tr.steps,
           "seconds": round(tr.seconds, 3), "steps_per_second": round(tr.steps / max(tr.seconds, 1e-9), 1),
           **tr.last_eval, "pca_test_mse": pca.test_mse(data.x_test)}
    out["mse_vs_pca"] = out["test_mse"] / max(out["pca_test_mse"], 1e-12)
    if args.variant == "linear":
        out["subspace_angle_deg"] = subspace_angle(task.model, pca)
    if data.factors_test:
        out.update({f"code_{f}_r2": v for f, v in factor_recovery(task.model, data).items()})
    if args.out:
        checkpoints.save(args.out, task.model, task.config, BUILDER, {**task.extra, **tr.last_eval})
    return out
