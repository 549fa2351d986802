"""Built-in sources of vectors to embed: pixels, shipped autoencoder / VAE codes, CNN features, word vectors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

# ------------------------------------------------------------------------------------------------ sources

@dataclass
class Source:
    """Vectors to embed, with what the plot needs: labels for colour, hover text, images for image sources."""
    name: str
    x: np.ndarray                            # (n, d) float32
    labels: np.ndarray | None = None         # (n,) int (index into class_names) or str
    class_names: list[str] | None = None
    hover: list[str] | None = None           # (n,) text per row
    images: np.ndarray | None = None         # (n, C, H, W) in [0, 1]
    description: str = ""
    columns: dict[str, np.ndarray] = field(default_factory=dict)   # extra columns to colour by
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.x)

    def hover_text(self, i: int) -> str:
        if self.hover is not None:
            return str(self.hover[i])
        return f"row {i}" + (f", {self.label_text(i)}" if self.labels is not None else "")

    def label_text(self, i: int) -> str:
        if self.labels is None:
            return ""
        lab = self.labels[i]
        if self.class_names is not None and np.issubdtype(np.asarray(self.labels).dtype, np.integer):
            return self.class_names[int(lab)]
        return str(lab)

    def take(self, idx: np.ndarray) -> "Source":
        """The rows idx (a sample), every per-row field cut the same way."""
        idx = np.asarray(idx)
        return Source(self.name, self.x[idx], None if self.labels is None else np.asarray(self.labels)[idx],
                      self.class_names, None if self.hover is None else [self.hover[i] for i in idx],
                      None if self.images is None else self.images[idx], self.description,
                      {k: np.asarray(v)[idx] for k, v in self.columns.items()}, list(self.notes))


IMAGE_SETS = ("digits", "rotations", "shapes", "mnist", "fashion_mnist")
# The shipped models whose codes are embedded: the 8-number deep autoencoder and the 16-number VAE (more to project
# than the 2-D one, which needs no projection at all).
SHIPPED_CODES = {"ae": "autoencoder_digits", "vae": "vae_digits_z16"}
REPRESENTATIONS = {"pixels": "raw pixels", "ae": "codes of the shipped 8-number deep autoencoder",
                   "vae": "posterior means of the shipped 16-number VAE",
                   "cnn": "CNN features (EfficientNet-Lite0, ImageNet)"}


def source_names() -> list[str]:
    """Names `load_source` accepts: digits, digits-ae, digits-vae, digits-cnn, <set>, <set>-cnn, words."""
    out = []
    for ds in IMAGE_SETS:
        out.append(ds)
        if ds == "digits":
            out += ["digits-ae", "digits-vae"]
        out.append(f"{ds}-cnn")
    return out + ["words"]


def _images_of(dataset: str):
    """(images (n,C,H,W) float32 in [0,1], labels, class_names, description) of a dataset, in a fixed order.

    digits: all 1,797 images in scikit-learn's load_digits order (not dlplay's train/test split), so a row of
    the CLI's output is the same row of load_digits(). Generated sets: train then test. MNIST and
    Fashion-MNIST: the 10,000 test images."""
    if dataset == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x = (d.images / 16.0).astype(np.float32)[:, None]
        return x, d.target.astype(np.int64), [str(i) for i in range(10)], \
            "all 1,797 scikit-learn digits (8x8), in load_digits order"
    from .. import data

    ds = data.load(dataset)
    if dataset in ("mnist", "fashion_mnist"):
        return ds.x_test.numpy(), ds.y_test.numpy(), ds.class_names, f"the {len(ds.x_test):,} {dataset} test images"
    x = np.concatenate([ds.x_train.numpy(), ds.x_test.numpy()])
    y = np.concatenate([ds.y_train.numpy(), ds.y_test.numpy()])
    return x, y, ds.class_names, f"all {len(x):,} {dataset} images ({ds.image_shape[1]}x{ds.image_shape[2]})"


def encode_images(images: np.ndarray, representation: str) -> np.ndarray:
    """Vectors (n, d) for images (n, C, H, W): pixels, the shipped autoencoder's or VAE's code, or CNN features."""
    import torch

    if representation == "pixels":
        return images.reshape(len(images), -1).astype(np.float32)
    if representation in ("ae", "vae"):
        from .. import checkpoints

        builder = "dlplay.autoencoders:build_model" if representation == "ae" else "dlplay.vae:build_model"
        model = checkpoints.load(checkpoints.shipped(SHIPPED_CODES[representation]), expect_builder=builder)[0]
        with torch.no_grad():
            out = model.encode(torch.as_tensor(images))
            out = out[0] if isinstance(out, (tuple, list)) else out   # the VAE returns (mean, log-variance)
        return out.detach().cpu().numpy().reshape(len(images), -1).astype(np.float32)
    if representation == "cnn":
        from ..backbones import image_features
        return np.asarray(image_features(images), np.float32).reshape(len(images), -1)
    raise InputError(f"Unknown representation {representation!r}: choose one of {', '.join(REPRESENTATIONS)}.")


def missing_piece(name: str) -> str | None:
    """Why a built-in source cannot be loaded on this machine (a sentence), or None when it can; cheap."""
    from .. import checkpoints
    from ..data import dataset_names

    ds, _, rep = name.partition("-")
    if rep in SHIPPED_CODES and not (checkpoints.SHIPPED_DIR / f"{SHIPPED_CODES[rep]}.pt").exists():
        return f"these codes need the shipped checkpoint {SHIPPED_CODES[rep]} (python -m dlplay pretrain)"
    if ds in ("mnist", "fashion_mnist") and ds not in dataset_names(available_only=True):
        return f"{ds} is not downloaded (python -m dlplay download {ds})"
    return None


def load_source(name: str) -> Source:
    """A built-in source by name (see source_names())."""
    if name == "words":
        from ..words import shipped_vectors
        words, vectors = shipped_vectors()
        return Source("words", np.asarray(vectors, np.float32), hover=list(words),
                      description=f"{len(words):,} word vectors shipped with the Words page")
    ds, _, rep = name.partition("-")
    rep = rep or "pixels"
    if ds not in IMAGE_SETS or rep not in REPRESENTATIONS or (rep in ("ae", "vae") and ds != "digits"):
        raise InputError(f"Unknown source {name!r}: choose one of {', '.join(source_names())}, or give a "
                         ".csv / .tsv / .npy file.")
    images, labels, classes, blurb = _images_of(ds)
    x = encode_images(images, rep)
    hover = [f"#{i}: {classes[int(k)]}" for i, k in enumerate(labels)]
    return Source(name, x, labels, classes, hover, images, f"{REPRESENTATIONS[rep]} ({x.shape[1]} numbers) of {blurb}")


def three_blobs(n: int = 100, dim: int = 10, seed: int = 0) -> Source:
    """The 'how to read t-SNE' set: three Gaussian clusters in dim dimensions, one tight (std 1) and two wide
    (std 4), the wide ones 15 apart and the tight one 60 away. t-SNE draws them the same size, equally far apart."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((3, dim))
    centres[1, 0] = 15.0
    centres[2, 0] = 60.0
    stds = [4.0, 4.0, 1.0]
    x = np.concatenate([rng.normal(c, s, size=(n, dim)) for c, s in zip(centres, stds)]).astype(np.float32)
    labels = np.repeat(np.arange(3), n)
    names = ["A (wide, std 4)", "B (wide, std 4, 15 from A)", "C (tight, std 1, 60 from A)"]
    return Source("three blobs", x, labels, names, [f"{names[k]} #{i}" for i, k in enumerate(labels)],
                  description=f"three Gaussian clusters of {n} points in {dim}-D")
