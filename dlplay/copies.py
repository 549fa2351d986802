"""Does a generative model copy its training set? (issue 21, item 6; the lecture's "samples imitate training images")

For every generated sample, its nearest training image and the distance to it. One distance alone says nothing:
a new, real digit is also some distance from its nearest training digit. So the same distance is measured for the
held-out test images, which the model never saw and which are certainly not copies, and the two distributions are
compared:

    d(x) = min_j ||x - x_j^train|| / sqrt(D)        (root-mean-square pixel difference, 0 = the same picture)

- samples much *closer* to the training set than test images are: the model reproduces training images;
- about as close: no sign of copying;
- *farther*: not copies, and also less like real images than new real images are.

The distance is in pixels, which favours blurry averages (a blurred digit is near many training digits at once),
so "as close as a test image" does not mean "as good as a test image": the judge's numbers on the page say that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch

from .errors import InputError

COPY_QUANTILE = 0.05    # a sample "as close as only the closest 5% of new images are" counts as close
COPYING = 0.5           # median distance below half the test images' median: the model reproduces its training set
FARTHER = 1.2           # above 1.2x: farther from the training set than new real images are
CHUNK = 8192            # training rows per distance block (bounds memory on a large training set)
WORK = 2e9              # multiply-adds one side of the check may cost (about 0.3 s on a laptop core)


def budget(train: torch.Tensor, most: int = 500, least: int = 50) -> int:
    """How many images (samples, and test images as the yardstick) to compare with the whole training set: all 500
    on the digits (1,437 x 64 pixels), 50 on MNIST (60,000 x 784), so a page stays quick on a large dataset."""
    per_image = len(train) * max(1, train[0].numel())
    return int(min(most, max(least, WORK // per_image)))


@torch.no_grad()
def nearest(queries: torch.Tensor, train: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(distance, index) of each query's nearest training image; distance as RMS pixel difference."""
    q = torch.as_tensor(queries, dtype=torch.float32).flatten(1).cpu()
    t = torch.as_tensor(train, dtype=torch.float32).flatten(1).cpu()
    if q.shape[1] != t.shape[1]:
        raise InputError(f"The samples have {q.shape[1]} pixels but the training images {t.shape[1]}: "
                         "they come from different datasets.")
    if not len(t):
        raise InputError("There are no training images to compare with.")
    best = torch.full((len(q),), float("inf"))
    idx = torch.zeros(len(q), dtype=torch.long)
    for s in range(0, len(t), CHUNK):
        d, i = torch.cdist(q, t[s:s + CHUNK]).min(1)
        better = d < best
        best[better], idx[better] = d[better], i[better] + s
    return (best / np.sqrt(q.shape[1])).numpy(), idx.numpy()


@dataclass(frozen=True)
class CopyReport:
    sample_d: np.ndarray    # each sample's distance to its nearest training image
    sample_idx: np.ndarray  # and that image's index in the training set
    test_d: np.ndarray      # the same for each held-out test image (the yardstick: new real images)

    @property
    def ratio(self) -> float:
        """Median sample distance / median test-image distance (1 = as close as new real images)."""
        return float(np.median(self.sample_d) / max(np.median(self.test_d), 1e-12))

    @property
    def close_share(self) -> float:
        """Share of samples nearer a training image than the closest 5% of test images are (5% for new images)."""
        return float(np.mean(self.sample_d < np.quantile(self.test_d, COPY_QUANTILE)))

    @property
    def verdict(self) -> str:
        if self.ratio < COPYING:
            return "copies"
        return "farther" if self.ratio > FARTHER else "no sign"

    def sentence(self, what: str = "the samples") -> str:
        head = (f"The median distance of {what} to their nearest training image is {self.ratio:.2f}x that of the "
                f"held-out test images; {self.close_share:.0%} of them are nearer than the closest "
                f"{COPY_QUANTILE:.0%} of test images are")
        return head + {
            "copies": ": the model reproduces its training images rather than making new ones.",
            "no sign": ": about as near as new real images, so no sign of copying.",
            "farther": ": farther from every training image than new real images are, so not copies (and also "
                       "less like real images than real ones)."}[self.verdict]


def copy_report(samples: torch.Tensor, train: torch.Tensor, test: torch.Tensor) -> CopyReport:
    """Nearest-training-image distances for generated samples and, as the yardstick, for held-out test images
    (at most `budget(train)` of each; the test images a fixed random subset when there are more)."""
    n = budget(train)
    d, i = nearest(samples[:n], train)
    pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:n] if len(test) > n else slice(None)
    td, _ = nearest(test[pick], train)
    return CopyReport(d, i, td)


def histogram(report: CopyReport, title: str = "Distance to the nearest training image") -> go.Figure:
    """The two distance distributions, overlaid, on the same bins."""
    hi = float(max(report.sample_d.max(), report.test_d.max()))
    bins = dict(start=0.0, end=hi * 1.02 + 1e-9, size=(hi * 1.02 + 1e-9) / 40)
    fig = go.Figure([
        go.Histogram(x=report.test_d, xbins=bins, histnorm="percent", name=f"held-out test images ({len(report.test_d)})",
                     marker_color="#2a9d8f", opacity=0.6),
        go.Histogram(x=report.sample_d, xbins=bins, histnorm="percent", name=f"generated samples ({len(report.sample_d)})",
                     marker_color="#7b2cbf", opacity=0.6)])
    fig.update_layout(barmode="overlay", title=title, height=320, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title="RMS pixel difference to the nearest training image (0 = an exact copy)",
                      yaxis_title="% of images", legend=dict(orientation="h", y=-0.35))
    return fig


def pairs(samples: torch.Tensor, report: CopyReport, train: torch.Tensor, n: int = 16) -> torch.Tensor:
    """2n images for a grid of n columns: the first n samples, then under each its nearest training image."""
    n = min(n, len(samples))
    near = torch.as_tensor(train)[torch.as_tensor(report.sample_idx[:n])]
    return torch.cat([torch.as_tensor(samples[:n]).cpu().reshape(near.shape), near])
