"""Every autoencoder of the lectures, in plain PyTorch: linear (= PCA), deep, sparse, denoising, redundant,
overcomplete, contractive and convolutional, with options for tied weights, an L1 penalty on the weights and a
perceptual loss; plus what people do with the codes (PCA comparison, morphing, similar-image search).

An autoencoder is an encoder f and a decoder g trained so that the reconstruction g(f(x)) is close to x:

    L(x) = 1/D ||x - g(f(x))||^2                       (mean squared error over the D pixels)

and the code z = f(x) is narrower than x (a bottleneck), or else restrained some other way (training.py lists the
variants' losses). A linear autoencoder trained with this loss spans the same subspace as PCA's top K components
(Baldi & Hornik 1989); a deep one reconstructs better than PCA at the same code size (Hinton & Salakhutdinov 2006,
there with a 784-1000-500-250-30 encoder; here scaled down to the image size).

    from dlplay import autoencoders as ae
    task = ae.make_task(ae.AutoencoderConfig(variant="deep", code_size=8), seed=0)
    Trainer(task).run(steps=2000)
    task.model.encode(x)   # (N, 1, 8, 8) -> (N, 8);  task.model.decode(z) -> (N, 1, 8, 8)

The package: models.py (the networks), training.py (losses, config, task), measures.py (numbers and code uses),
figures.py (plotly).
"""

from __future__ import annotations

import sys

from .. import checkpoints, topics
from ..topics import Shipped
from .figures import CODE_MAP_TSNE_POINTS, code_histogram, code_map, factor_plot, knockout_figure, weight_histogram
from .measures import (QUERY_KINDS, PCABaseline, decode, decode_code_only, distort, encode, evaluate, factor_recovery, first_filters,
                       identity_error, interpolate, jacobian_norm, knn_accuracy, knockout_curve, knockout_mse, mse,
                       nearest, noisy_test, parameter_count, psnr, reconstruct, recognition_rate, search,
                       search_agreement, search_table, showcase, sparsity_report, subspace_angle, train_codes,
                       weight_zero_fraction)
from .measures import NEAREST_CHUNK_FLOATS, code_sparsity, per_model, weights_digest
from .models import (MAX_CODE, MAX_HIDDEN, TIED_VARIANTS, VARIANTS, Autoencoder, Variant, build_model,
                     decoder_matrix, first_layer, weight_layers)
from .training import (LOSSES, NOISE_KINDS, AutoencoderConfig, AutoencoderTask, corrupt, drop_code, jacobian_sq,
                       loss_terms, make_task, perceptual_features, soft_threshold_)

TITLE = "Autoencoders: linear = PCA, deep, sparse, denoising, redundant, contractive, convolutional"
BUILDER = "dlplay.autoencoders:build_model"

C = AutoencoderConfig
# The checkpoints the page opens on. Step budgets, not seconds: the same files on any machine. A variant's first
# entry is the one its page view shows; the twins after it are the comparisons that isolate one change.
SHIPPED: dict[str, Shipped] = {s.name: s for s in [
    Shipped("autoencoder_digits", "digits", C(variant="deep", code_size=8), 4000),
    Shipped("autoencoder_rotations", "rotations", C(dataset="rotations", variant="deep", code_size=1), 3000),
    Shipped("autoencoder_linear_digits", "digits", C(variant="linear", code_size=8), 3000),
    Shipped("autoencoder_sparse_digits", "digits", C(variant="sparse", code_size=16), 4000),
    Shipped("autoencoder_denoising_digits", "digits", C(variant="denoising", code_size=8), 4000),
    Shipped("autoencoder_redundant_digits", "digits", C(variant="redundant", code_size=16), 4000),
    Shipped("autoencoder_overcomplete_digits", "digits", C(variant="overcomplete", code_size=128), 3000),
    Shipped("autoencoder_contractive_digits", "digits", C(variant="contractive", code_size=8), 1500),
    Shipped("autoencoder_conv_digits", "digits", C(variant="conv", code_size=8), 3000),
    Shipped("autoencoder_conv_pool_digits", "digits", C(variant="conv_pool", code_size=8), 3000),
    # twins: the same network and budget with one thing changed
    Shipped("autoencoder_sparse0_digits", "digits", C(variant="sparse", code_size=16, weight=0.0), 4000),
    Shipped("autoencoder_deep16_digits", "digits", C(variant="deep", code_size=16), 4000),
    Shipped("autoencoder_z2_digits", "digits", C(variant="deep", code_size=2), 4000),
]}
TWINS = {"sparse": "autoencoder_sparse0_digits", "redundant": "autoencoder_deep16_digits"}


def shipped_name(dataset: str, variant: str, code_size: int | None = None) -> str | None:
    """The shipped checkpoint a page shows for this dataset and variant (one with this code size if shipped, else
    the variant's first entry), or None."""
    names = [n for n, sh in SHIPPED.items() if sh.dataset == dataset and sh.config.variant == variant]
    exact = [n for n in names if SHIPPED[n].config.code_size == code_size]
    return (exact or names or [None])[0]


def load(source) -> tuple[Autoencoder, dict, dict]:
    """(model, builder config, extra) from a checkpoint file, bytes or path."""
    return checkpoints.load(source, expect_builder=BUILDER)


def settings(extra: dict) -> AutoencoderConfig:
    """The run settings stored in a checkpoint's extra (resolved: every default filled in)."""
    cfg = dict(extra.get("config") or {})
    if "hidden" in cfg:
        cfg["hidden"] = tuple(cfg["hidden"])
    if not cfg:   # files from before the topic contract kept dataset, weight and noise at the top level
        cfg = {k: extra[k] for k in ("dataset", "weight", "noise") if k in extra}
    fields = AutoencoderConfig.__dataclass_fields__
    return AutoencoderConfig(**{k: v for k, v in cfg.items() if k in fields}).resolved()


def pretrain(out_dir=None, names=None) -> dict:
    """Re-create the shipped autoencoders (each its step budget, seed 0, on the CPU)."""
    return topics.pretrain_shipped(sys.modules[__name__], out_dir, names)


# -- command line ------------------------------------------------------------------------------------------------
def cli_args(command, parser) -> None:
    topics.add_config_args(parser, AutoencoderConfig)
    topics.add_budget_args(parser)
    helps = {"code_size": "code length K (default: the variant's)", "lr": "Adam's step (default: the variant's)",
             "batch_size": "minibatch size (default: the variant's)",
             "weight": "the variant's knob: L1 on the code (sparse), noise level (denoising), code dropout "
                       "(redundant), contraction weight (contractive); default: the variant's",
             "weight_l1": "L1 on the first layer's weights, applied by soft thresholding (default 0: off)",
             "tied": "decoder = encoder transposed (linear, deep); `--tied` alone means true"}
    for action in parser._actions:
        if action.dest in helps:
            action.help = helps[action.dest]
        if action.dest == "tied":        # `--tied` alone means true (also accepts --tied false)
            action.nargs, action.const = "?", True
    parser.set_defaults(**{f: None for f in ("code_size", "weight", "lr", "batch_size")})


def cli_run(command, args) -> dict:
    from ..data import load as load_data

    task, out = topics.cli_train(sys.modules[__name__], args)
    cfg, data = task.config, task.data
    out.update({k: v for k, v in cfg.as_dict().items() if k != "hidden"})   # the resolved settings
    pca = PCABaseline(data, cfg.code_size)
    out["pca_test_mse"] = pca.test_mse(data.x_test)
    out["mse_vs_pca"] = out["test_mse"] / max(out["pca_test_mse"], 1e-12)
    out["parameters"] = parameter_count(task.model)
    if cfg.variant == "linear":
        out["subspace_angle_deg"] = subspace_angle(task.model, pca)
    if data.factors_test:
        out.update({f"code_{f}_r2": v for f, v in factor_recovery(task.model, load_data(cfg.dataset)).items()})
    return out


__all__ = [n for n in dir() if not n.startswith("_") and n not in ("annotations", "sys", "C")]
