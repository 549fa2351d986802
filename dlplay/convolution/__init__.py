"""Convolutional networks, layer by layer: shapes, strides, padding, pooling, and what each layer sees.

A network is written as a short stack of layers, the way the lecture draws it:

    "conv(12,3,1,1) relu pool(2) fc(10)"      # conv(depth, kernel, stride, padding, dilation), pool(kernel, stride)

`layer_table(stack, (3, 32, 32))` returns, for every layer, its output shape [C, H, W] with the formula filled
in, its parameter count and its receptive field on the input; a stack whose output size is not a whole number,
or shrinks to nothing, is refused with an InputError naming the layer and the numbers. The arithmetic is the
lecture's (CS231n's "Convolutional Neural Networks" notes):

    output side  W_out = (W - F_eff + 2P) / S + 1,    F_eff = D (F - 1) + 1   (dilation D spreads the kernel)
    parameters   C_out (C_in F^2 + 1)                (one bias per filter)
    receptive field  r_l = r_{l-1} + (F_eff - 1) j_{l-1},  j_l = j_{l-1} S   (j: the input pixels between two
                                                                              neighbouring outputs)

`make_task(CNNConfig(stack=...), seed)` trains the stack as a digit classifier (cross-entropy) through the shared
engine. The module also has the other lessons of the page: one filter stepping across a small input
(`conv_walk`), max-pooling with its switches and the two unpoolings, transposed convolution as a convolution over
a zero-stuffed input (`transposed_as_conv`), and what the layers of the offline ImageNet network respond to
(`backbone_maps`, `top_patches`, and `make_visualise_task` for gradient ascent on one channel).

The package: stack.py (parsing a stack, its limits, the shape / parameter / receptive-field arithmetic), network.py
(the stack as a network, the digit-classifier task, feature maps and filters), steps.py (convolution, pooling and
unpooling, transposed convolution step by step), figures.py (plotly), backbone.py (what the ImageNet network's
layers see); here the shipped model, load, pretrain and the CLI.
"""

from __future__ import annotations

from .. import topics
from ..topics import Shipped
from .backbone import (DEEP, LITE0_CHANNELS, MIDDLE, PATCH, PATCH_IMAGE, PATCH_STRIDE, SHALLOW, VisConfig, VisTask,
                       backbone_input, backbone_maps, lite0_layers, lite0_receptive_fields, make_visualise_task,
                       patch_bank, patch_scores, patch_scores_ready, top_patches)
from .figures import grids_figure, receptive_field_figure, walk_figure
from .network import (CNNConfig, CNNTask, Dense, accuracy, build_model, classifier_stack, feature_maps, first_filters,
                      make_task, map_tiles, picture_input, random_model)
from .stack import (DEFAULT_STACK, KIND_HELP, MAX_DEPTH, MAX_DILATION, MAX_KERNEL, MAX_LAYERS, MAX_MULTIPLY_ADDS,
                    MAX_PADDING, MAX_PARAMS, MAX_SIDE, MAX_STRIDE, MAX_UNITS, PRESETS, TRAIN_STACK, Layer, LayerInfo,
                    layer_table, parse_input, parse_stack, shapes_json, stack_text)
from .steps import KERNELS, ConvWalk, Pooling, Transposed, conv_walk, pool_unpool, transposed_as_conv, zero_stuff

TITLE = "Convolutional layers: shapes, strides, padding, pooling and what each layer sees"
BUILDER = "dlplay.convolution:build_model"
SHIPPED = {"cnn_digits": Shipped("cnn_digits", "digits", CNNConfig(), 1500)}


def pretrain(out_dir=None) -> dict:
    import sys
    return topics.pretrain_shipped(sys.modules[__name__], out_dir)


def load(source):
    """(model, config, extra) of a checkpoint written by this module."""
    from .. import checkpoints
    return checkpoints.load(source, expect_builder=BUILDER)


def load_shipped(name: str = "cnn_digits"):
    from .. import checkpoints
    return load(checkpoints.shipped(name))


# ------------------------------------------------------------------------------------------------------------------
# Command line: `cnn shapes "..." --input 32x32x3` and `train cnn`
# ------------------------------------------------------------------------------------------------------------------

def cli_args(command, parser) -> None:
    if command == "cnn":
        parser.add_argument("action", choices=["shapes"], help="shapes: each layer's output shape, parameters and "
                                                               "receptive field")
        parser.add_argument("stack", help='the layers, e.g. "conv(12,3,1,1) relu pool(2) fc(10)"')
        parser.add_argument("--input", default="32x32x3", help="input height x width x channels (default 32x32x3)")
    else:
        topics.add_config_args(parser, CNNConfig)
        topics.add_budget_args(parser, seconds=20.0)


def cli_run(command, args) -> dict:
    if command == "cnn":
        out = shapes_json(args.stack, parse_input(args.input))
        if not args.json:   # a readable table instead of nested JSON
            rows = layer_table(args.stack, parse_input(args.input))
            lines = [f"  {r.index:>2}  {r.layer:<18} {r.shape[1]:>4} x {r.shape[2]:<4} x {r.shape[0]:<6} "
                     f"params {r.params:>10,}  RF {r.rf:>4}  {r.formula}" for r in rows]
            return {"network": "\n" + "\n".join(lines), "params": out["params"], "output": out["output"]}
        return out
    import sys
    task, summary = topics.cli_train(sys.modules[__name__], args)
    return summary
