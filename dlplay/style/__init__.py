"""Neural style transfer (Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks",
CVPR 2016) and the perceptual-distance lesson, on a frozen ImageNet CNN from dlplay.backbones.

The idea in three equations (F^l: the feature maps of layer l, flattened to C_l x M_l, M_l = H_l * W_l):

    content:  L_content = mean_ij (F^l_ij(x) - F^l_ij(c))^2                      (Gatys eq. 1)
    style:    G^l = F^l F^l^T / (C_l M_l)       (Gram matrix: which features fire together, eq. 3)
              L_style = sum_l w_l mean_ij (G^l_ij(x) - G^l_ij(s))^2              (eqs. 4-5)
    total:    L = alpha L_content + beta L_style + gamma TV(x)                    (eq. 7, plus a smoothness term)

and the picture x itself is what is optimised (the network's weights never change). It starts from the content
picture recoloured to the style picture's colour mean and covariance (Gatys et al. 2017), so Adam's 150 steps go
to the texture. The style-loss drop is measured from the content picture's own style loss; on all 30 ordered pairs
of six offline photos at 256 px and 150 steps it is 10.8x to 40.6x (median 19.7x; 4.8x minimum before the
colour-matched start), checked by the slow-marked test in tests/test_style.py and by bench/bench_style.py.

    cfg = StyleConfig(content="cat", style="brush strokes")      # or content_upload=<the file's bytes>
    task = make_task(cfg, seed=0)                                # the topic contract (dlplay/topics.py)
    Trainer(task).run(steps=150)
    task.result()                       # (3, H, W) tensor in [0, 1]

The package:
    pictures.py    the size limits, the built-in example pictures, reading an upload (cached per file), prepare
    losses.py      the Gram matrix (eq. 3), content loss (eq. 1), style loss (eqs. 4-5), TV, the colour-matched start
    task.py        StyleConfig, make_task, StyleTransferTask (eq. 7 plus TV), run_style_transfer
    layers.py      looking inside: a layer's Gram matrix and feature maps, the shallow/deep layer comparison
    perceptual.py  the perceptual-distance lesson: pixel MSE versus deep-feature distances on shifted pictures
    __init__.py    (here) the topic's title, nothing shipped, and the command line
"""

from __future__ import annotations

from .. import backbones
from ..device import get_device
from ..errors import InputError
from ..topics import Shipped
from .layers import LayerResult, gram_figure, gram_view, layer_comparison
from .losses import content_loss, gram_matrix, match_colours, style_loss, tv_loss
from .perceptual import feature_distance, perceptual_table, shift_ratios, shift_survey, shift_verdict
# _DECODED (the upload cache: one object, so style._DECODED.decodes counts what pictures.py decodes) and the two
# example look-ups are private but read from outside (tests, the CLI below)
from .pictures import (_DECODED, DEFAULT_CONTENT, DEFAULT_STYLE, EXAMPLES, KEEP_SIDE, MAX_ASPECT, MAX_MEGAPIXELS,
                       MAX_SIZE_CPU, MAX_SIZE_GPU, MIN_SIDE, MIN_SIZE, _example, _full_name, example, max_size,
                       prepare, read_picture, to_pil, to_png, to_tensor)
from .task import INITS, MAX_STEPS, OPTIMIZERS, StyleConfig, StyleTransferTask, make_task, run_style_transfer

__all__ = ["DEFAULT_CONTENT", "DEFAULT_STYLE", "EXAMPLES", "INITS", "KEEP_SIDE", "LayerResult", "MAX_ASPECT",
           "MAX_MEGAPIXELS", "MAX_SIZE_CPU", "MAX_SIZE_GPU", "MAX_STEPS", "MIN_SIDE", "MIN_SIZE", "OPTIMIZERS",
           "SHIPPED", "StyleConfig", "StyleTransferTask", "TITLE", "cli_args", "cli_run", "content_loss", "example",
           "feature_distance", "gram_figure", "gram_matrix", "gram_view", "layer_comparison", "make_task",
           "match_colours", "max_size", "perceptual_table", "prepare", "read_picture", "run_style_transfer",
           "shift_ratios", "shift_survey", "shift_verdict", "style_loss", "to_pil", "to_png", "to_tensor", "tv_loss"]

TITLE = "Style transfer"
SHIPPED: dict[str, Shipped] = {}     # nothing to ship: the network is ImageNet's, the picture is optimised live

# ------------------------------------------------------------------------------------------------------------------
# Command line: python -m dlplay style --content a.jpg --style b.jpg ...
# ------------------------------------------------------------------------------------------------------------------

def _picture(arg: str, what: str):
    """A CLI picture: a built-in example's name, or a file path read like an upload."""
    from pathlib import Path

    if arg in EXAMPLES or any(k.split(" (")[0] == arg for k in EXAMPLES):
        return example(arg)
    p = Path(arg)
    if not p.is_file():
        raise InputError(f"The {what} {arg!r} is neither a file nor a built-in example "
                         f"({', '.join(k.split(' (')[0] for k in EXAMPLES)}).")
    return read_picture(p.read_bytes())[0]


def cli_args(command: str, parser) -> None:
    parser.add_argument("--content", default="cat", help="content picture: a file or a built-in name (default: cat)")
    parser.add_argument("--style", default="brush strokes", help="style picture: a file or a built-in name")
    parser.add_argument("--size", type=int, default=256, help="longer side of the result in pixels (64-512 on CPU)")
    parser.add_argument("--steps", type=int, default=150, help=f"optimisation steps (1-{MAX_STEPS})")
    parser.add_argument("--backbone", default="efficientnet-lite0", choices=backbones.BACKBONES)
    parser.add_argument("--optimizer", default="adam", choices=OPTIMIZERS)
    parser.add_argument("--lr", type=float, default=StyleConfig.lr, help="Adam's step size on the pixels")
    parser.add_argument("--content-weight", type=float, default=1.0)
    parser.add_argument("--style-weight", type=float, default=10.0)
    parser.add_argument("--tv-weight", type=float, default=2.0)
    parser.add_argument("--init", default=StyleConfig.init, choices=INITS,
                        help="start from the content picture in the style's colours (default), as it is, or noise")
    parser.add_argument("--schedule-steps", type=int, default=0,
                        help="> 0: Adam's step size falls along a cosine over this many steps")


def cli_run(command: str, args) -> dict:
    device = get_device(args.device)
    notes: list[str] = []
    content, style = _picture(args.content, "content picture"), _picture(args.style, "style picture")
    cfg = StyleConfig(size=args.size, backbone=args.backbone, optimizer=args.optimizer, lr=args.lr,
                      content_weight=args.content_weight, style_weight=args.style_weight, tv_weight=args.tv_weight,
                      init=args.init, schedule_steps=args.schedule_steps)
    out = run_style_transfer(content, style, cfg, steps=args.steps, seed=args.seed, device=device, notes=notes)
    task = out.pop("task")
    out.pop("trainer")
    if args.out:
        from pathlib import Path
        Path(args.out).write_bytes(to_png(task.result()))
        out["out"] = str(args.out)
    return out