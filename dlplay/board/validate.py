"""Validation of what a training panel sends, with no database: class codes, nicknames, metrics, curves,
settings and the picture (decoded and re-encoded with Pillow). Every refusal is an InputError with a sentence."""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
from typing import Any, Sequence

from ..errors import InputError
from .schema import CODE_ALPHABET, CODE_LENGTH, Limits


# -- validation (no database) ---------------------------------------------------------------------------------
_NICK_RE = re.compile(r"[^\W_]([^\W_]|[ .'\-])*")
_TITLE_RE = re.compile(r"[^\W_]([^\W_]|[ .,:'()\-])*")
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_ .:/()%\-]*")
_PAGE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/\-]*")
_TOKEN_RE = re.compile(r"[A-Za-z0-9_\-]{8,64}")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def normalise_code(code: Any) -> str:
    """A class code as typed ('  abc-234 ') -> 'ABC234'; anything that cannot be one is an InputError."""
    if not isinstance(code, str) or not code.strip():
        raise InputError("Enter the class code your lecturer gave out (six letters and digits).")
    c = re.sub(r"[\s\-]", "", code).upper()
    if len(c) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in c):
        raise InputError(f"That is not a class code: a class code is {CODE_LENGTH} letters and digits, "
                         "like K7QM2P.")
    return c


def clean_nickname(name: Any, limits: Limits = Limits()) -> str:
    """Letters, digits, spaces and . ' - only, at most limits.nickname_chars; markup is refused, not rewritten."""
    if name is None:
        return ""
    if not isinstance(name, str):
        raise InputError("The nickname must be text.")
    n = " ".join(unicodedata.normalize("NFKC", name).split())
    if len(n) > limits.nickname_chars:
        raise InputError(f"The nickname is {len(n):,} characters long; keep it to {limits.nickname_chars}.")
    if n and not _NICK_RE.fullmatch(n):
        raise InputError("A nickname may use letters, digits, spaces and . ' - only (no markup or symbols).")
    return n


def _finite(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise InputError(f"{what} must be a finite number, not {str(v)[:40]!r}.")
    return float(v)


def _name(k: Any, what: str) -> str:
    if not isinstance(k, str) or len(k) > 60 or not _NAME_RE.fullmatch(k):
        raise InputError(f"{what} {str(k)[:40]!r} is not a usable name (letters, digits and _ . : / ( ) % -, "
                         "at most 60).")
    return k


def clean_metrics(metrics: Any, limits: Limits = Limits()) -> dict[str, float]:
    if metrics is None:
        return {}
    if not isinstance(metrics, dict):
        raise InputError("The run's metrics must be a table of names and numbers.")
    if len(metrics) > limits.metrics:
        raise InputError(f"A submission carries at most {limits.metrics} metrics; this one has {len(metrics)}.")
    return {_name(k, "Metric"): _finite(v, f"Metric {k!r}") for k, v in metrics.items()}


def clean_curves(curves: Any, limits: Limits = Limits()) -> dict[str, dict[str, list[float]]]:
    """{name: {"x": [...], "y": [...]}} with at most limits.curves curves of limits.curve_points finite points."""
    if curves is None:
        return {}
    if not isinstance(curves, dict) or len(curves) > limits.curves:
        raise InputError(f"A submission carries at most {limits.curves} curves.")
    out = {}
    for k, c in curves.items():
        _name(k, "Curve")
        xs, ys = (c.get("x"), c.get("y")) if isinstance(c, dict) else (None, None)
        if not isinstance(xs, (list, tuple)) or not isinstance(ys, (list, tuple)) or len(xs) != len(ys):
            raise InputError(f"Curve {k!r} must be two lists of numbers of the same length.")
        if len(xs) > limits.curve_points:
            raise InputError(f"Curve {k!r} has {len(xs):,} points; downsample it to {limits.curve_points}.")
        out[k] = {"x": [_finite(v, f"A step of curve {k!r}") for v in xs],
                  "y": [_finite(v, f"A value of curve {k!r}") for v in ys]}
    return out


def _scalar(v: Any, k: str):
    if v is None or isinstance(v, (bool, int, str)):
        if isinstance(v, str) and len(v) > 200:
            raise InputError(f"Setting {k!r} is too long to store ({len(v):,} characters).")
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    raise InputError(f"Setting {k!r} is not a plain value ({type(v).__name__}).")


def clean_config(config: Any, limits: Limits = Limits()) -> dict:
    """Plain settings only: names to None / bool / number / short text, or short lists of those."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise InputError("The run's settings must be a table of names and values.")
    out = {}
    for k, v in config.items():
        _name(k, "Setting")
        if isinstance(v, (list, tuple)):
            if len(v) > 16:
                raise InputError(f"Setting {k!r} has too many values ({len(v)}).")
            out[k] = [_scalar(x, k) for x in v]
        else:
            out[k] = _scalar(v, k)
    if len(json.dumps(out)) > limits.config_chars:
        raise InputError(f"The run's settings are too large to store (over {limits.config_chars:,} characters).")
    return out


def clean_picture(png: Any, limits: Limits = Limits()) -> bytes | None:
    """A PNG, decoded with Pillow and re-encoded at most limits.picture_side pixels a side (so what is stored is
    small and is certainly a picture); anything else is an InputError."""
    if png is None:
        return None
    if not isinstance(png, (bytes, bytearray)):
        raise InputError("The run's picture must be PNG bytes.")
    if len(png) > limits.picture_bytes:
        raise InputError(f"The picture is {len(png) / 1e6:.1f} MB; the board takes at most "
                         f"{limits.picture_bytes / 1e6:.1f} MB.")
    if not bytes(png[:8]) == _PNG_SIGNATURE:
        raise InputError("The board takes PNG pictures only.")
    import warnings

    from PIL import Image

    too_many = InputError(f"The picture has too many pixels; the board takes at most "
                          f"{limits.picture_pixels / 1e6:.0f} million.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)   # refused below, by our own limit
            im = Image.open(io.BytesIO(bytes(png)), formats=["PNG"])
        with im:
            w, h = im.size
            if w * h > limits.picture_pixels:
                raise InputError(f"The picture is {w} x {h} pixels; the board takes at most "
                                 f"{limits.picture_pixels / 1e6:.0f} million.")
            im.load()
            rgba = im.convert("RGBA")
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise too_many from None
    except Exception:   # Pillow's errors for broken files are many (OSError, SyntaxError, ValueError, ...)
        raise InputError("The picture could not be read as a PNG.") from None
    img = Image.new("RGB", rgba.size, "white")
    img.paste(rgba, mask=rgba.getchannel("A"))
    side = limits.picture_side
    if max(img.size) > side:
        img.thumbnail((side, side), Image.Resampling.LANCZOS)
    elif max(img.size) < side // 2:     # a grid of 8x8 digits: whole pixels enlarged, crisp on the projector
        k = (side // 2 + max(img.size) - 1) // max(img.size)
        k = min(k, side // max(img.size))
        img = img.resize((img.width * k, img.height * k), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def downsample(xs: Sequence[float], ys: Sequence[float], n: int = 200) -> tuple[list[float], list[float]]:
    """At most n points of a curve, evenly spaced by index, keeping the first and the last."""
    m = len(xs)
    if m <= n:
        return [float(x) for x in xs], [float(y) for y in ys]
    idx = sorted({round(i * (m - 1) / (n - 1)) for i in range(n)})
    return [float(xs[i]) for i in idx], [float(ys[i]) for i in idx]
