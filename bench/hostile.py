"""Generated hostile files, and every upload path of the backend they are fed through.

    python bench/hostile.py [--out folder]   # writes the files and prints tried / handled per upload path

Rule: fed to ANY upload path, a file gives either an InputError with a message, or a normal result (a CSV is
fine text, for instance); never another exception. Fed to the path it was made to attack (`targets`), it must
be refused with InputError, or, for images that have a standard conversion (CMYK, 16-bit, transparency,
animation), accepted with a note that says what was converted.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass
class Hostile:
    name: str
    data: bytes
    targets: tuple[str, ...]   # upload paths it must be refused by (or converted with a note)
    why: str


def _png_header_only(w: int, h: int) -> bytes:
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def _img(mode: str, fmt: str, size=(64, 48), **kw) -> bytes:
    from PIL import Image

    if mode == "I;16":
        im = Image.fromarray((np.linspace(0, 65535, size[0] * size[1]).reshape(size[1], size[0])).astype(np.uint16))
    else:
        im = Image.new(mode, size, {"CMYK": (0, 120, 200, 10), "RGBA": (200, 30, 30, 90)}.get(mode, 128))
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


class _Evil:
    """Unpickling this would run a shell command. weights_only loading must refuse it."""

    def __reduce__(self):
        import os
        return (os.system, ("echo this-should-never-run > /tmp/dlplay-pwned",))


def hostile_files() -> list[Hostile]:
    from PIL import Image

    good_png = _img("RGB", "PNG")
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    rows = "\n".join(f"{i},{i % 7}" for i in range(60_000))
    npy_obj = io.BytesIO()
    np.save(npy_obj, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    npy_3d = io.BytesIO()
    np.save(npy_3d, np.zeros((4, 3, 2)))
    import torch
    not_ours = io.BytesIO()
    torch.save({"weight": torch.zeros(3)}, not_ours)
    image, text, table, ckpt, points = "image", "text", "table", "checkpoint", "points"
    return [
        Hostile("zero-bytes.png", b"", (image, text, table, ckpt, points), "empty file"),
        Hostile("truncated.png", good_png[: len(good_png) // 2], (image,), "cut in half"),
        Hostile("truncated.jpg", _img("RGB", "JPEG", (256, 256))[:300], (image,), "cut after the header"),
        Hostile("bomb-50000x50000.png", _png_header_only(50_000, 50_000), (image,), "decompression bomb header"),
        Hostile("text-named.jpg", b"I am not a picture, just text with a .jpg name\n", (image, ckpt), "wrong type"),
        Hostile("cmyk.jpg", _img("CMYK", "JPEG"), (image,), "print colours"),
        Hostile("gray16.png", _img("I;16", "PNG"), (image,), "16 bits per pixel"),
        Hostile("alpha.png", _img("RGBA", "PNG"), (image,), "transparency"),
        Hostile("animated.gif", gif.getvalue(), (image,), "three frames"),
        Hostile("huge-rows.csv", rows.encode(), (table, points), "60,000 rows (limit 50,000)"),
        Hostile("nan-inf-strings.csv", b"x,y,z\n1,2,3\nnan,inf,-inf\n4,five,6\n", (table, points), "NaN, inf, text"),
        Hostile("ragged.csv", b"1,2,3\n4,5\n6,7,8,9\n", (table, points), "rows of different lengths"),
        Hostile("latin1.txt", "Caf\xe9 na\xefve r\xe9sum\xe9 \xfcber".encode("latin-1"), (text,), "not UTF-8"),
        Hostile("binary.txt", bytes(range(256)) * 4, (text, table, points), "binary bytes"),
        Hostile("whitespace.txt", b" \n\t \n", (text, table, points), "nothing but whitespace"),
        Hostile("too-big.txt", b"word " * (21 * 2**20 // 5), (text, table, points), "21 MB (limit 20 MB)"),
        Hostile("object.npy", npy_obj.getvalue(), (table,), "pickled objects inside .npy"),
        Hostile("3d.npy", npy_3d.getvalue(), (table,), "a 3-D array, not a table"),
        Hostile("pickle-checkpoint.pt", pickle.dumps(_Evil()), (ckpt,), "a pickle that runs a command"),
        Hostile("not-dlplay.pt", not_ours.getvalue(), (ckpt,), "a torch file without dlplay's header"),
    ]


def upload_paths() -> dict[str, Callable[[bytes, str], object]]:
    """Every way user bytes enter the backend, by kind. Topic readers are added when their module exists."""
    from dlplay import checkpoints, data

    def image(b, name):
        notes: list[str] = []
        img = data.read_image(b, notes=notes)
        return img, notes

    paths: dict[str, Callable] = {
        "image": image,
        "text": lambda b, name: data.read_text(b),
        "checkpoint": lambda b, name: checkpoints.load(b, expect_builder="dlplay.autoencoders:build_model"),
    }
    # Topic upload readers, where their module exists.
    try:   # the Embedding Explorer: an uploaded CSV / TSV / .npy table
        from dlplay import embed

        paths["table"] = lambda b, name: embed.read_table(b, name)
    except ImportError:
        pass
    try:   # the GAN Lab: points the user uploads as x,y CSV
        from dlplay.gan import parse_points_csv

        paths["points"] = lambda b, name: parse_points_csv(b)
    except ImportError:
        pass
    try:   # the Words page: a text corpus, a word2vec vector file, a labelled CSV for the classifier
        from dlplay import words

        paths["corpus"] = lambda b, name: words.corpus_from_text(data.read_text(b))
        paths["vectors"] = lambda b, name: words.read_word2vec_text(b)
        paths["labelled csv"] = lambda b, name: words.read_labelled_csv(b)
    except ImportError:
        pass
    return paths


def run_all() -> dict:
    """Feed every hostile file through every upload path. Returns counts and the problems found."""
    from dlplay.errors import InputError

    paths = upload_paths()
    tried = handled = 0
    problems, per_path = [], {k: [0, 0] for k in paths}
    for h in hostile_files():
        for kind, fn in paths.items():
            tried += 1
            per_path[kind][0] += 1
            try:
                out = fn(h.data, h.name)
            except InputError as e:
                ok = len(str(e)) > 15
                why = "" if ok else f"message too short: {e!r}"
            except Exception as e:  # noqa: BLE001 - anything else is exactly the bug this suite looks for
                ok, why = False, f"{type(e).__name__}: {e}"
            else:
                notes = out[1] if kind == "image" else []
                ok = kind not in h.targets or bool(notes)
                why = "" if ok else "accepted without complaint"
            handled += ok
            per_path[kind][1] += ok
            if not ok:
                problems.append(f"{h.name} -> {kind}: {why}")
    assert not Path("/tmp/dlplay-pwned").exists(), "the malicious pickle ran!"
    return {"files": len(hostile_files()), "paths": list(paths), "tried": tried, "handled": handled,
            "per_path": {k: {"tried": v[0], "handled": v[1]} for k, v in per_path.items()}, "problems": problems}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=None, help="also write the files into this folder")
    a = ap.parse_args()
    if a.out:
        Path(a.out).mkdir(parents=True, exist_ok=True)
        for h in hostile_files():
            (Path(a.out) / h.name).write_bytes(h.data)
    print(json.dumps(run_all(), indent=1))
