"""Reading what users upload, from memory only (no user input ever becomes a server path).

Anything that cannot be used raises InputError with a sentence a student understands. Images that can be
used after a standard conversion (transparency, CMYK, 16-bit, animation) are converted, and the conversion is
reported in `notes` so the page can say what happened instead of silently changing the picture.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import InputError

MAX_PIXELS = 25_000_000        # more than this is refused before decoding (decompression bombs)
MAX_UPLOAD_BYTES = 20 * 2**20  # matches server.maxUploadSize in .streamlit/config.toml


def _check_size(data: bytes, what: str, max_bytes: int) -> None:
    if not data:
        raise InputError(f"The {what} is empty (0 bytes).")
    if len(data) > max_bytes:
        raise InputError(f"The {what} is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")


def read_image(data: bytes, *, max_pixels: int = MAX_PIXELS, min_side: int = 1,
               notes: list[str] | None = None, max_bytes: int = MAX_UPLOAD_BYTES) -> Image.Image:
    """Decode uploaded bytes to an 8-bit RGB PIL image, or raise InputError saying why not."""
    notes = [] if notes is None else notes
    _check_size(data, "image file", max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise InputError(f"The image claims {w:,} x {h:,} pixels ({w * h / 1e6:.0f} megapixels); "
                                 f"the limit is {max_pixels / 1e6:.0f} megapixels. Please resize it first.")
            if getattr(img, "n_frames", 1) > 1:
                notes.append(f"The image is animated ({img.n_frames} frames); only the first frame is used.")
                img.seek(0)
            img.load()
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError("This file is not an image we can read: please upload a JPEG, PNG, WebP, GIF or BMP.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"The image is too large to decode safely (over {max_pixels / 1e6:.0f} megapixels).") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"The image file is damaged or truncated and cannot be decoded ({e}).") from None
    if min(img.size) < min_side:
        raise InputError(f"The image is {img.size[0]} x {img.size[1]} pixels; it must be at least {min_side} pixels "
                         "on each side.")
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        img = _to_8_bits(img, notes)
    if img.mode == "CMYK":
        notes.append("The image is in CMYK (print) colours; it was converted to RGB.")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        if rgba.getextrema()[3][0] < 255:
            notes.append("The image has transparent parts; they were placed on a white background.")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("RGB")


def _to_8_bits(img: Image.Image, notes: list[str]) -> Image.Image:
    """A 16-bit, 32-bit integer or float grey image as 8 bits, scaled by the range its pixels actually use.

    A 16-bit PNG often holds fewer bits (a 12-bit camera or scanner writes 0..4095): dividing by 65,535 would
    leave it nearly black. Values already within 0..255 (or a float image within 0..1) keep their grey levels;
    anything else is stretched linearly from its darkest to its brightest pixel, and the note says so."""
    arr = np.asarray(img, np.float64)
    finite = arr[np.isfinite(arr)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    arr = np.nan_to_num(arr, nan=lo, posinf=hi, neginf=lo)
    if img.mode == "F" and lo >= 0 and hi <= 1:
        out, how = arr * 255, "its values 0..1 were mapped to grey levels 0..255"
    elif lo >= 0 and hi <= 255:
        out, how = arr, "its values already fit 0..255 and were kept"
    elif hi > lo:
        out = (arr - lo) / (hi - lo) * 255
        how = f"its pixels run from {lo:g} to {hi:g}, and that range was stretched to 0..255"
    else:
        out, how = np.full_like(arr, 128.0), f"every pixel is {lo:g}, shown as mid-grey"
    notes.append(f"The image has more than 8 bits per pixel; {how}.")
    return Image.fromarray(np.rint(out).clip(0, 255).astype(np.uint8))


def read_text(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES, what: str = "text file") -> str:
    """Decode an uploaded text file as UTF-8 (a BOM is allowed), or raise InputError saying why not."""
    _check_size(data, what, max_bytes)
    if b"\x00" in data[:8192]:
        raise InputError(f"The {what} looks binary (it contains zero bytes), not plain text; please upload a .txt file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"The {what} is not UTF-8 text (undecodable byte at position {e.start}); "
                         "save it as UTF-8 and upload again.") from None
    if not text.strip():
        raise InputError(f"The {what} contains only whitespace.")
    return text
