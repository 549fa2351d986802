"""A lecture deck (issue 26): bookmarks, each a named page state (a page of the app, its shared settings as the
query of its link, a title), saved as a small JSON file the lecturer downloads and loads again, stepped through like
slides. Checked at the boundary like any upload: a file that is not a deck is a sentence, never a traceback."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from .errors import InputError

MAX_BYTES = 256 * 1024       # a deck of a few hundred bookmarks is a few tens of kB
MAX_BOOKMARKS = 200
MAX_TITLE = 120
MAX_SETTINGS = 64
VERSION = 1


@dataclass(frozen=True)
class Bookmark:
    title: str
    page: str                                   # the page's URL path (catalogue Demo.url_path)
    query: dict[str, str] = field(default_factory=dict)


def to_json(bookmarks: list[Bookmark]) -> str:
    return json.dumps({"dlplay_deck": VERSION, "bookmarks": [asdict(b) for b in bookmarks]}, indent=1)


def parse(raw: bytes | str, pages: set[str]) -> list[Bookmark]:
    """The bookmarks of a deck file; InputError naming the problem (size, JSON, shape, unknown pages)."""
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > MAX_BYTES:
        raise InputError(f"This deck file is {len(raw) / 1024:.0f} kB; a deck is at most {MAX_BYTES // 1024} kB "
                         "(a few hundred bookmarks).")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"This file is not a deck: it is not valid JSON ({e.__class__.__name__} near character "
                         f"{getattr(e, 'pos', getattr(e, 'start', 0))}).") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("bookmarks"), list):
        raise InputError("This file is not a dlplay deck: it needs a list under \"bookmarks\" (download a deck "
                         "from the sidebar to see the format).")
    items = doc["bookmarks"]
    if len(items) > MAX_BOOKMARKS:
        raise InputError(f"This deck has {len(items)} bookmarks; at most {MAX_BOOKMARKS} are allowed.")
    out, unknown = [], []
    for i, b in enumerate(items, 1):
        if not isinstance(b, dict) or not isinstance(b.get("page"), str) or not isinstance(b.get("title", ""), str):
            raise InputError(f"Bookmark {i} of this deck is not a title, a page and its settings.")
        q = b.get("query") or {}
        if not isinstance(q, dict) or len(q) > MAX_SETTINGS or not all(
                isinstance(k, str) and isinstance(v, (str, int, float, bool)) for k, v in q.items()):
            raise InputError(f"Bookmark {i} ({b.get('title', '')[:40]!r}) has settings that are not name = value "
                             f"pairs (at most {MAX_SETTINGS}).")
        if b["page"] not in pages:
            unknown.append(b["page"])
            continue
        out.append(Bookmark(b.get("title", "")[:MAX_TITLE].strip() or b["page"], b["page"],
                            {k[:60]: str(v)[:300] for k, v in q.items()}))
    if unknown:
        raise InputError("This deck names pages this app does not have: " + ", ".join(sorted(set(unknown))[:5])
                         + ". Nothing was loaded; your current deck is kept.")
    return out
