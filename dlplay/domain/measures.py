"""Measuring a run: accuracy on both domains, the quiz (can a fresh discriminator still tell the domains apart?),
the verdict a page shows, the t-SNE map of the features with its figure and mixing number, the wrong guesses."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .datasets import Domains
from .network import DANN


COLLAPSE_SOURCE_ACC = 0.6   # below this source test accuracy the features no longer carry the digits
DISCRIMINATOR_WINS = 0.9    # at or above this held-out domain accuracy the domains are still apart
MIN_GAIN = 0.02             # a target accuracy less than 2 points above source only's is no gain


# -- measuring ---------------------------------------------------------------------------------------------------------
def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def features(model: DANN, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """h = G_f(x) on the CPU (the model is not moved)."""
    was = model.training
    model.eval()
    dev = _model_device(model)
    out = torch.cat([model.features(x[k:k + batch].to(dev)).cpu() for k in range(0, len(x), batch)])
    model.train(was)
    return out


@torch.no_grad()
def predict(model: DANN, x: torch.Tensor) -> torch.Tensor:
    """Predicted digit per image, on the CPU."""
    was = model.training
    model.eval()
    dev = _model_device(model)
    out = torch.cat([model(x[k:k + 512].to(dev)).argmax(1).cpu() for k in range(0, len(x), 512)])
    model.train(was)
    return out


def accuracy(model: DANN, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((predict(model, x) == y.cpu()).float().mean())


def domain_accuracy(model: DANN, data: Domains, seed: int = 0) -> float:
    """The quiz, measured: a fresh domain discriminator (an MLP with one hidden layer of 64, like G_d) learns to
    tell source from target features on the training images and is scored on the held-out test images.
    About 100%: the features differ by domain; about 50%: it cannot tell them apart."""
    import warnings

    from sklearn.decomposition import PCA
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n = min(len(data.xs_train), len(data.xt_train))
    tr = torch.cat([features(model, data.xs_train[:n]), features(model, data.xt_train[:n])]).numpy()
    te = torch.cat([features(model, data.xs_test), features(model, data.xt_test)]).numpy()
    y_tr = np.r_[np.zeros(n), np.ones(n)]
    y_te = np.r_[np.zeros(len(data.xs_test)), np.ones(len(data.xt_test))]
    # Standardise, keep the top 50 principal directions (whitened), then the MLP, fitted with L-BFGS: under a second.
    clf = make_pipeline(StandardScaler(), PCA(50, whiten=True, random_state=seed),
                        MLPClassifier((64,), solver="lbfgs", max_iter=200, alpha=1e-3, random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # ConvergenceWarning: 200 iterations is plenty for a yes/no question
        clf.fit(tr, y_tr)
    return float(clf.score(te, y_te))


@torch.no_grad()
def discriminator_accuracy(model: DANN, data: Domains) -> float:
    """The network's own domain discriminator G_d scored on the held-out test images of both domains (source-only:
    a discriminator trained on features it could not change, i.e. the quiz; adapted: the adversary it played)."""
    dev = _model_device(model)
    d_s = model.discriminator(features(model, data.xs_test).to(dev)).cpu()
    d_t = model.discriminator(features(model, data.xt_test).to(dev)).cpu()
    return float(0.5 * ((d_s < 0).float().mean() + (d_t > 0).float().mean()))


def evaluate(model: DANN, data: Domains, seed: int = 0) -> dict[str, float]:
    """Held-out numbers: accuracy on the source test digits, on the same digits in the target domain (labels only
    to score), the network's own domain discriminator on the test features, and a fresh discriminator's."""
    return {"source_accuracy": accuracy(model, data.xs_test, data.ys_test),
            "target_accuracy": accuracy(model, data.xt_test, data.yt_test),
            "domain_accuracy": discriminator_accuracy(model, data),
            "fresh_domain_accuracy": domain_accuracy(model, data, seed)}


def verdict(ev: dict[str, float], method: str, reference: dict[str, float] | None = None) -> tuple[str, str]:
    """('ok' | 'collapsed' | 'not adapted' | 'no gain', a sentence) for a finished run: never call a collapse, or
    a run whose target accuracy is not above source only's (`reference`, its metrics), a success."""
    s, t, d = ev["source_accuracy"], ev["target_accuracy"], ev["domain_accuracy"]   # d: its own discriminator
    if s < COLLAPSE_SOURCE_ACC:
        return "collapsed", (f"The features collapsed: source accuracy fell to {s:.0%} (target {t:.0%}). Hiding the "
                             "domain was weighted so heavily that the features stopped carrying the digits; "
                             "lower lambda.")
    if method != "source-only" and d >= DISCRIMINATOR_WINS:
        return "not adapted", (f"The discriminator still wins: it tells the domains apart {d:.0%} of the time, so "
                               "the features were not made domain-invariant (train longer or raise lambda).")
    if method != "source-only" and reference is not None and t < reference["target_accuracy"] + MIN_GAIN:
        so_s, so_t = reference["source_accuracy"], reference["target_accuracy"]
        cost = (f" Source accuracy fell too ({s:.0%} against {so_s:.0%}): fooling the discriminator cost the "
                "digits; lower lambda." if s < so_s - MIN_GAIN else " Train longer, or try another seed.")
        return "no gain", (f"No gain on the target: {t:.0%} against source only's {so_t:.0%} (its discriminator "
                           f"tells the domains apart {d:.0%} of the time).{cost}")
    return "ok", ""


def tsne_map(model: DANN, data: Domains, n: int = 250, seed: int = 0) -> dict[str, np.ndarray]:
    """t-SNE of the features of n source and n target test images: {'xy', 'domain' (0 source, 1 target), 'label'}."""
    from sklearn.manifold import TSNE

    k = min(n, len(data.xs_test))
    idx = np.random.default_rng(seed).permutation(len(data.xs_test))[:k]
    h = torch.cat([features(model, data.xs_test[idx]), features(model, data.xt_test[idx])]).numpy()
    xy = TSNE(2, perplexity=30, init="pca", random_state=seed).fit_transform(h)
    y = data.ys_test[idx].numpy()
    return {"xy": xy, "domain": np.r_[np.zeros(k, int), np.ones(k, int)], "label": np.r_[y, y]}


def tsne_figure(m: dict[str, np.ndarray], colour: str, target: str, title: str | None = None):
    """The t-SNE map coloured by domain or by digit (circles: source, crosses: target)."""
    import plotly.graph_objects as go

    from ..viz import PALETTE

    fig = go.Figure()
    groups = ([("source (clean)", m["domain"] == 0), (f"target ({target})", m["domain"] == 1)] if colour == "domain"
              else [(str(c), m["label"] == c) for c in range(10)])
    for i, (name, mask) in enumerate(groups):
        sym = np.where(m["domain"][mask] == 0, "circle", "x")
        fig.add_trace(go.Scatter(
            x=m["xy"][mask, 0], y=m["xy"][mask, 1], mode="markers", name=name,
            text=[f"digit {lab}, {'source' if dm == 0 else 'target'}" for lab, dm in
                  zip(m["label"][mask], m["domain"][mask])], hovertemplate="%{text}<extra></extra>",
            marker=dict(size=6, color=PALETTE[i % len(PALETTE)], symbol=sym, opacity=0.75)))
    fig.update_layout(title=title, height=420, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      legend=dict(itemsizing="constant"))
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    return fig


def mixing(m: dict[str, np.ndarray], k: int = 10) -> float:
    """Share of each point's k nearest map neighbours from the other domain, over 0.5 (1 = fully mixed, 0 = two
    islands): a number for what the t-SNE picture shows."""
    from sklearn.neighbors import NearestNeighbors

    nn_ = NearestNeighbors(n_neighbors=k + 1).fit(m["xy"])
    idx = nn_.kneighbors(m["xy"], return_distance=False)[:, 1:]
    other = (m["domain"][idx] != m["domain"][:, None]).mean()
    return float(min(1.0, other / 0.5))


def wrong_guesses(model: DANN, x: torch.Tensor, y: torch.Tensor, n: int = 24) -> tuple[torch.Tensor, list[str], int]:
    """The first n images with a caption 'guess (true)' each, a mark on the wrong ones, and the number wrong."""
    pred = predict(model, x[:n])
    titles = [f"{int(p)}" if p == t else f"{int(p)} ✗ ({int(t)})" for p, t in zip(pred, y[:n])]
    return x[:n], titles, int((pred != y[:n]).sum())
