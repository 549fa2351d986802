"""The class board's data: what one board accepts (Limits), the secrets' shape, the tables and their migrations,
and the two records the store hands out (NewBoard, Submission)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from sqlalchemy import (Boolean, Column, Float, ForeignKey, Integer, LargeBinary, MetaData, String, Table, Text,
                        UniqueConstraint)


def _env_int(name: str, default: int) -> int:
    try:
        return int(float(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """What one board accepts. Environment variables raise them for a bigger class (read when a store opens)."""

    days: int = field(default_factory=lambda: max(1, _env_int("DLPLAY_BOARD_DAYS", 7)))   # a board lives this long
    submissions: int = field(default_factory=lambda: max(1, _env_int("DLPLAY_BOARD_MAX_SUBMISSIONS", 500)))
    boards: int = field(default_factory=lambda: max(1, _env_int("DLPLAY_BOARD_MAX_BOARDS", 200)))  # live at once
    picture_bytes: int = 2_000_000       # the PNG a panel sends (before it is shrunk and re-encoded)
    picture_pixels: int = 4_000_000      # width x height, checked before decoding (decompression bombs)
    picture_side: int = 256              # stored pictures fit in this square
    metrics: int = 32
    curves: int = 8
    curve_points: int = 200
    nickname_chars: int = 40
    config_chars: int = 8_000            # the config as JSON


SCHEMA_VERSION = 2
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I: read off a projector
CODE_LENGTH = 6
KEY_BACKOFF_FREE = 3        # wrong lecturer keys allowed before the back-off starts (per board and client)
KEY_BACKOFF_NETWORK_FREE = 20   # ... per board and network address (a room behind one NAT shares an address)
CODE_BACKOFF_FREE = 10      # wrong class codes allowed before the back-off starts (per client)
BACKOFF_MAX_SECONDS = 300.0


meta = MetaData()
boards_t = Table(
    "board_boards", meta,
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("title", String(80), nullable=False, default=""),
    Column("key_salt", LargeBinary(32), nullable=False),
    Column("key_hash", LargeBinary(64), nullable=False),
    Column("created", Float, nullable=False),
    Column("expires", Float, nullable=False, index=True),
    Column("n_submissions", Integer, nullable=False, default=0),
)
subs_t = Table(
    "board_submissions", meta,
    Column("id", Integer, primary_key=True),
    Column("board_id", Integer, ForeignKey("board_boards.id"), nullable=False, index=True),
    Column("token", String(64), nullable=False),
    Column("created", Float, nullable=False),
    Column("page", String(60), nullable=False),
    Column("kind", String(120), nullable=False, default=""),
    Column("nickname", String(40), nullable=False, default=""),
    Column("seed", Integer, nullable=False, default=0),
    Column("config", Text, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("curves", Text, nullable=False),
    Column("picture", LargeBinary, nullable=True),
    Column("hidden", Boolean, nullable=False, default=False),      # schema version 2
    UniqueConstraint("board_id", "token", name="uq_board_token"),  # a resent submission is stored once
)
failures_t = Table(
    "board_failures", meta,
    Column("scope", String(200), primary_key=True),   # "key|<board code>|<client>" or "code|<client>"
    Column("count", Integer, nullable=False),
    Column("last", Float, nullable=False),
)
schema_t = Table("board_schema", meta, Column("version", Integer, nullable=False))

# version -> statements bringing a database from version-1 to it (version 1: boards could not hide submissions).
MIGRATIONS: dict[int, list[str]] = {
    2: ["ALTER TABLE board_submissions ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE"],
}


@dataclass(frozen=True)
class NewBoard:
    code: str      # give this to the room
    key: str       # the lecturer's: shown once, stored only as a salted hash
    title: str
    expires: float


@dataclass(frozen=True)
class Submission:
    id: int
    created: float
    page: str
    kind: str
    nickname: str
    seed: int
    config: dict
    metrics: dict
    curves: dict
    hidden: bool
    has_picture: bool
