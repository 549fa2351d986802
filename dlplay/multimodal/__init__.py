"""Images and words in one space: an image encoder and a text encoder trained with a contrastive loss so that a
picture and a phrase that describes it land on nearby unit vectors; retrieval both ways, cross-modal arithmetic,
tagging, and a tiny captioner that decodes the image's vector into words.

The package:
    phrases.py   the words of each dataset: vocabulary, each image's factors, canonical and sampled phrases
    model.py     the image and text encoders, the GRU captioner, and CLIP's symmetric InfoNCE with soft targets
    training.py  MMConfig, MultimodalTask (contrastive + caption loss), make_task
    space.py     encoding, retrieval both ways, query arithmetic, captions, and their held-out scores
    figures.py   both modalities in one 2-D map, similarity bars
    __init__.py  (here) the shipped models, checkpoints and the CLI
"""

from __future__ import annotations

from .. import checkpoints
from ..topics import Shipped
from .figures import similarity_bars, space_figure, space_points
from .model import MAX_PHRASE_WORDS, MultiModal, build_model, clip_loss, token_ids
from .phrases import (BOS, DIGIT_TEMPLATES, DIGIT_WORDS, DIRECTIONS, EOS, FILLERS, SHAPE_WORDS, SIZE_SPLIT, SIZES,
                      canonical_phrases, factors_of, phrase_for, sample_phrase, shape_factors, tokenize, vocabulary)
from .space import (arithmetic_scores, caption, caption_accuracy, encode_images, encode_texts, evaluate,
                    image_to_texts, nearest_images, query_vector, retrieval_scores, text_to_images)
from .training import MMConfig, MultimodalTask, make_task

__all__ = ["BOS", "BUILDER", "DIGIT_TEMPLATES", "DIGIT_WORDS", "DIRECTIONS", "EOS", "FILLERS", "MAX_PHRASE_WORDS",
           "SHAPE_WORDS", "SHIPPED", "SIZE_SPLIT", "SIZES", "TITLE", "arithmetic_scores", "build_model",
           "canonical_phrases", "caption", "caption_accuracy", "cli_args", "cli_run", "clip_loss", "encode_images",
           "encode_texts", "evaluate", "factors_of", "image_to_texts", "load", "make_task", "MMConfig", "MultiModal",
           "MultimodalTask", "nearest_images", "phrase_for", "pretrain", "query_vector", "retrieval_scores",
           "sample_phrase", "shape_factors", "shipped_for", "similarity_bars", "space_figure", "space_points",
           "text_to_images", "token_ids", "tokenize", "vocabulary"]

TITLE = "Images and words in one space"
BUILDER = "dlplay.multimodal:build_model"



# -- shipped models, pretrain, CLI ------------------------------------------------------------------------------
SHIPPED: dict[str, Shipped] = {
    "multimodal_digits": Shipped("multimodal_digits", "digits", MMConfig(), 600),
    "multimodal_shapes": Shipped("multimodal_shapes", "shapes", MMConfig(dataset="shapes"), 1000),
}


def shipped_for(dataset: str) -> str:
    return next(name for name, sh in SHIPPED.items() if sh.dataset == dataset)


def load(source) -> tuple[MultiModal, dict, dict]:
    return checkpoints.load(source, expect_builder=BUILDER)


def pretrain(out_dir=None) -> dict:
    """Train each shipped model for its step budget on the CPU; weights stored in half precision (the files stay
    small; loading copies them back into float32)."""
    import copy
    from pathlib import Path

    from ..train import Trainer

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    results = {}
    for name, sh in SHIPPED.items():
        task = make_task(sh.config, sh.seed, device="cpu")
        Trainer(task, record_every=100).run(steps=sh.steps)
        ev = task.evaluate()
        ev.update(arithmetic_scores(task.model, task.data))
        checkpoints.save(out_dir / f"{name}.pt", copy.deepcopy(task.model).half(), task.model_config, BUILDER,
                         {"config": sh.config.as_dict(), "steps": sh.steps, **ev})
        results[name] = {k: round(float(v), 4) for k, v in ev.items()}
    return results


def cli_args(command, parser) -> None:
    from ..topics import add_budget_args, add_config_args

    add_config_args(parser, MMConfig)
    add_budget_args(parser, seconds=10.0)
    parser.add_argument("--query", action="append", default=[],
                        help="after training, a phrase to retrieve test images for (repeatable)")


def cli_run(command, args) -> dict:
    import sys

    from ..topics import cli_train

    task, summary = cli_train(sys.modules[__name__], args, record_every=50)
    summary.update(arithmetic_scores(task.model, task.data))
    zi = encode_images(task.model, task.data.x_test)
    for q in args.query:
        idx, sims = text_to_images(task.model, task.data.x_test, q, 5, zi)
        f = factors_of(task.data, "test")
        summary[f"query {q!r}"] = ", ".join(f"#{i} ({phrase_for(task.data.name, f[i])}, {s:.2f})"
                                            for i, s in zip(idx, sims))
    return summary
