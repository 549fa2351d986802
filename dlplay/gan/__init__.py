"""GAN Lab backend: the 2-D playground (gan2d), the image GANs (images), the losses, presets, the CLI and pretrain."""

from .gan2d import (BUILDER as BUILDER_2D, GAN2D, GAN2DConfig, GAN2DTask, PRESETS, build_gan2d, js_divergence, mmd,
                    mode_stats, normalise_points, parse_points_csv, preset)
from .losses import LOSSES, d_accuracy, d_loss, g_loss, gradient_penalty
