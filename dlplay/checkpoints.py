"""Save and load models safely: weights plus a JSON-able config, loaded with weights_only=True (never runs code).

A checkpoint names the function that rebuilds its model from the config, as "dlplay.<module>:<function>"; only
the builders in ALLOWED_BUILDERS are accepted (a new topic adds its own there), and `load` is told which one the
caller expects, so a file cannot make us call anything else in dlplay (a CLI entry point, say).
Small checkpoints the project trained itself ship in dlplay/assets/checkpoints (`python -m dlplay pretrain`
re-creates them).
"""

from __future__ import annotations

import importlib
import io
import json
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import nn

from .errors import InputError

SHIPPED_DIR = Path(__file__).parent / "assets" / "checkpoints"
MAX_CHECKPOINT_BYTES = 50 * 2**20
ALLOWED_BUILDERS = frozenset({
    "dlplay.classifier:build_model", "dlplay.autoencoders:build_model", "dlplay.vae:build_model",
    "dlplay.gan:build_gan2d", "dlplay.gan:build_dcgan", "dlplay.words:build_vectors",
    "dlplay.convolution:build_model", "dlplay.qlearning:build_model", "dlplay.multimodal:build_model",
    "dlplay.pretraining:build_model", "dlplay.documents:build_model", "dlplay.documents:build_encoder",
    "dlplay.documents.glove:build_model", "dlplay.documents.glove:build_vectors",
    "dlplay.sequences:build_model", "dlplay.domain:build_model",
})
FORMAT = "dlplay-checkpoint-1"


def save(target: str | Path | BinaryIO, model: nn.Module, config: dict[str, Any], builder: str,
         extra: dict[str, Any] | None = None) -> None:
    """Write model weights, its config and the name of its builder; `extra` holds small JSON-able results."""
    json.dumps(config)  # refuse configs that would not load back as plain data
    payload = {"format": FORMAT, "builder": builder, "config_json": json.dumps(config),
               "extra_json": json.dumps(extra or {}),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    if isinstance(target, (str, Path)):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, target)


def to_bytes(model: nn.Module, config: dict, builder: str, extra: dict | None = None) -> bytes:
    buf = io.BytesIO()
    save(buf, model, config, builder, extra)
    return buf.getvalue()


def read(source: str | Path | bytes | BinaryIO) -> dict[str, Any]:
    """Read a checkpoint's contents (builder, config, extra, state_dict) without building the model."""
    if isinstance(source, bytes):
        if len(source) > MAX_CHECKPOINT_BYTES:
            raise InputError(f"The checkpoint is {len(source) / 2**20:.0f} MB; the limit is "
                             f"{MAX_CHECKPOINT_BYTES / 2**20:.0f} MB.")
        source = io.BytesIO(source)
    try:
        raw = torch.load(source, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as e:
        raise InputError("This file is not a dlplay checkpoint (it could not be read as plain weights; "
                         f"{type(e).__name__}).") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise InputError("This file is not a dlplay checkpoint (it has no dlplay header).")
    try:
        return {"builder": str(raw["builder"]), "config": json.loads(raw["config_json"]),
                "extra": json.loads(raw.get("extra_json", "{}")), "state_dict": raw["state_dict"]}
    except (KeyError, TypeError, ValueError):
        raise InputError("This dlplay checkpoint is damaged (its config cannot be read).") from None


def _builder(name: str):
    mod, _, fn = name.partition(":")
    if name not in ALLOWED_BUILDERS or not fn.isidentifier():
        raise InputError(f"This checkpoint asks for builder {name!r}, which is not a dlplay model builder.")
    try:
        return getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError):
        raise InputError(f"This checkpoint needs {name!r}, which this version of dlplay does not have.") from None


def load(source: str | Path | bytes | BinaryIO, *, expect_builder: str | tuple[str, ...],
         device: torch.device | str = "cpu") -> tuple[nn.Module, dict[str, Any], dict[str, Any]]:
    """Rebuild the model from a checkpoint: returns (model in eval mode, config, extra). `expect_builder` names
    the builder (or builders) the caller can use; any other is refused with a sentence."""
    ck = read(source)
    expected = (expect_builder,) if isinstance(expect_builder, str) else tuple(expect_builder)
    if ck["builder"] not in expected:
        raise InputError(f"This checkpoint holds a {ck['builder'].split(':')[-1]} model, not the "
                         f"{expected[0].split(':')[-1]} this page expects.")
    try:
        model = _builder(ck["builder"])(**ck["config"])
        model.load_state_dict(ck["state_dict"])
    except InputError:
        raise
    except (TypeError, ValueError, RuntimeError, KeyError, AttributeError) as e:
        raise InputError(f"The checkpoint's config or weights do not fit the model ({str(e).splitlines()[0]}).") from None
    return model.to(device).eval(), ck["config"], ck["extra"]


def shipped(name: str) -> Path:
    """Path of a checkpoint shipped with dlplay, e.g. shipped('autoencoder_deep_digits')."""
    p = SHIPPED_DIR / f"{name}.pt"
    if not p.exists():
        raise InputError(f"The shipped checkpoint {name!r} is missing; re-create it with `python -m dlplay pretrain`.")
    return p


def shipped_names() -> list[str]:
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.pt"))
