"""The class board: every student's finished run on one screen (issue 28).

A lecturer creates a board and gets two secrets: a short *class code* to give out (anyone with it can submit to
that board, and only to it) and a *lecturer key*, shown once, needed to view, hide, remove and export. A student's
training panel submits the run's page, config, seed, final metrics, downsampled curves and one small picture;
nothing else about the student is stored (an optional nickname at most).

Storage is any SQLAlchemy database: SQLite in the data folder by default (`$DLPLAY_DATA/board.sqlite3`, the folder
dlplay.data uses; nothing to install), or `DLPLAY_BOARD_URL` (e.g. postgresql+psycopg://... for several app
replicas sharing one board). The schema is created, and migrated from older versions, when a store opens.

    store = board.get_store()
    made = store.create_board("Lecture 7: GANs")         # made.code for the room, made.key for the lecturer (once)
    store.submit(made.code, page="gan", kind=..., config={...}, seed=3, metrics={"modes_covered": 7}, ...)
    view = store.open(made.code, made.key)                # BoardView: submissions(), hide(), remove(), csv()

Every failure a user can cause is an InputError with a sentence; nothing a user types becomes a file name.
Durability: one transaction per submission (SQLite in WAL mode), so a server killed mid-submission loses at most
the submission in flight (tests/test_board.py kills one).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import math
import os
import re
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import (Boolean, Column, Float, ForeignKey, Integer, LargeBinary, MetaData, String, Table, Text,
                        UniqueConstraint, create_engine, delete, event, func, insert, inspect, select, text, update)
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from .errors import InputError


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
_SCRYPT = dict(n=2**14, r=8, p=1, dklen=32)   # hashlib.scrypt: about 16 MB and a few tens of ms per check

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


def _hash_key(key: str, salt: bytes) -> bytes:
    return hashlib.scrypt(key.encode(), salt=salt, **_SCRYPT)


def default_url() -> str:
    """$DLPLAY_BOARD_URL, else SQLite in dlplay's data folder ($DLPLAY_DATA, default ~/.cache/dlplay, as in
    dlplay.data.data_dir)."""
    url = os.environ.get("DLPLAY_BOARD_URL", "").strip()
    if url:
        return url
    folder = Path(os.environ.get("DLPLAY_DATA") or Path.home() / ".cache" / "dlplay").expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'board.sqlite3'}"


# -- the store ----------------------------------------------------------------------------------------------
class BoardStore:
    """All boards in one database. Thread-safe (one engine, a connection per operation); several processes (app
    replicas) may share one database."""

    def __init__(self, url: str | None = None, limits: Limits | None = None):
        self.url = url or default_url()
        self.limits = limits or Limits()
        self.sqlite = self.url.startswith("sqlite")
        if self.sqlite:
            self.engine = create_engine(self.url, connect_args={"timeout": 30, "check_same_thread": False},
                                        pool_size=8, max_overflow=32, pool_timeout=60)
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            # no pre-ping (a round trip per checkout): a dropped connection fails one transaction, which submit()
            # retries on a fresh one; connections older than 30 minutes are replaced
            self.engine = create_engine(self.url, pool_size=8, max_overflow=32, pool_timeout=60, pool_recycle=1800)
        try:
            self._migrate()
            self.purge_expired()
        except SQLAlchemyError as e:
            raise InputError(f"The class board's database cannot be opened ({type(e).__name__}); check "
                             "DLPLAY_BOARD_URL.") from e

    # -- schema ---------------------------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self._write() as c:
            if c.dialect.name == "postgresql":   # two replicas starting at once: one creates, the other waits
                c.execute(text("SELECT pg_advisory_xact_lock(2828028)"))
            had = set(inspect(c).get_table_names())
            if "board_submissions" in had and "board_schema" not in had:
                version = 1                              # the first schema had no version table
            elif "board_schema" in had:
                version = c.execute(select(func.max(schema_t.c.version))).scalar() or 1
            else:
                version = SCHEMA_VERSION
            if version > SCHEMA_VERSION:
                raise InputError(f"The class board's database was written by a newer dlplay (schema {version}); "
                                 "update dlplay or point DLPLAY_BOARD_URL elsewhere.")
            meta.create_all(c)
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for stmt in MIGRATIONS.get(v, []):
                    c.execute(text(stmt))
            c.execute(delete(schema_t))
            c.execute(insert(schema_t).values(version=SCHEMA_VERSION))

    def _write(self):
        """A write transaction (on SQLite BEGIN IMMEDIATE: writers queue on the lock instead of failing)."""
        return _WriteTx(self.engine)

    def _read(self):
        return _ReadTx(self.engine)

    def schema_version(self) -> int:
        with self._read() as c:
            return int(c.execute(select(func.max(schema_t.c.version))).scalar())

    # -- boards ----------------------------------------------------------------------------------------------
    def create_board(self, title: str = "", days: int | None = None) -> NewBoard:
        title = " ".join(str(title or "").split())[:80]
        if title and not _TITLE_RE.fullmatch(title):
            raise InputError("A board title may use letters, digits, spaces and . , : ' - ( ) only.")
        days = self.limits.days if days is None else int(days)
        if not 1 <= days <= self.limits.days:
            raise InputError(f"A board can live between 1 and {self.limits.days} days.")
        self.purge_expired()
        key = secrets.token_urlsafe(12)       # 96 random bits; shown once
        salt = secrets.token_bytes(16)
        digest = _hash_key(key, salt)
        now = time.time()
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            try:
                with self._write() as c:
                    live = c.execute(select(func.count()).select_from(boards_t)
                                     .where(boards_t.c.expires > now)).scalar()
                    if live >= self.limits.boards:
                        raise InputError(f"This server already holds {live} class boards, its limit; try again "
                                         "when some have expired.")
                    c.execute(insert(boards_t).values(code=code, title=title, key_salt=salt, key_hash=digest,
                                                      created=now, expires=now + days * 86400, n_submissions=0))
                return NewBoard(code, key, title, now + days * 86400)
            except IntegrityError:
                continue    # the code was taken: draw another
        raise InputError("Could not find a free class code; try again.")

    def purge_expired(self, now: float | None = None) -> int:
        """Delete boards past their expiry and everything submitted to them; returns how many boards went."""
        now = time.time() if now is None else now
        with self._write() as c:
            ids = [r[0] for r in c.execute(select(boards_t.c.id).where(boards_t.c.expires <= now))]
            if ids:
                c.execute(delete(subs_t).where(subs_t.c.board_id.in_(ids)))
                c.execute(delete(boards_t).where(boards_t.c.id.in_(ids)))
            c.execute(delete(failures_t).where(failures_t.c.last < now - 86400))
        return len(ids)

    def _board(self, c, code: str):
        return c.execute(select(boards_t.c.id, boards_t.c.title, boards_t.c.expires, boards_t.c.key_salt,
                                boards_t.c.key_hash).where(boards_t.c.code == code)).first()

    # -- back-off on wrong secrets ---------------------------------------------------------------------------
    def _wait_left(self, scope: str, free: int, c=None) -> float:
        if c is None:
            with self._read() as c:
                return self._wait_left(scope, free, c)
        row = c.execute(select(failures_t.c.count, failures_t.c.last).where(failures_t.c.scope == scope)).first()
        if row is None or row.count < free:
            return 0.0
        delay = min(2.0 ** (row.count - free), BACKOFF_MAX_SECONDS)
        return max(0.0, row.last + delay - time.time())

    def _failed(self, scope: str) -> None:
        now = time.time()
        with self._write() as c:
            n = c.execute(update(failures_t).where(failures_t.c.scope == scope)
                          .values(count=failures_t.c.count + 1, last=now)).rowcount
            if not n:
                try:
                    with c.begin_nested():
                        c.execute(insert(failures_t).values(scope=scope, count=1, last=now))
                except IntegrityError:   # another replica inserted it first
                    c.execute(update(failures_t).where(failures_t.c.scope == scope)
                              .values(count=failures_t.c.count + 1, last=now))

    def _succeeded(self, scope: str) -> None:
        with self._write() as c:
            c.execute(delete(failures_t).where(failures_t.c.scope == scope))

    def _check_wait(self, scope: str, free: int, what: str, c=None) -> None:
        left = self._wait_left(scope, free, c)
        if left > 0:
            raise InputError(f"Too many wrong {what} from here: wait {math.ceil(left)} s and try again.")

    # -- submitting ------------------------------------------------------------------------------------------
    def submit(self, code: str, *, page: str, kind: str = "", config: dict | None = None, seed: int = 0,
               metrics: dict | None = None, curves: dict | None = None, picture_png: bytes | None = None,
               nickname: str | None = None, token: str | None = None, client: str = "") -> int:
        """Store one run on the board with this class code; returns its id. The same token twice (a double click,
        a resend after a timeout) stores it once and returns the first id."""
        L = self.limits
        client = str(client)[:100]
        code = normalise_code(code)
        if not isinstance(page, str) or len(page) > 60 or not _PAGE_RE.fullmatch(page):
            raise InputError("The submission does not say which page it comes from.")
        if not isinstance(kind, str) or len(kind) > 120 or (kind and not _PAGE_RE.fullmatch(kind)):
            raise InputError("The submission's kind of run is not a usable name.")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
            raise InputError(f"The seed must be a whole number from 0 to {2**31 - 1}.")
        nick = clean_nickname(nickname, L)
        cfg = json.dumps(clean_config(config, L))
        mets = json.dumps(clean_metrics(metrics, L))
        curv = json.dumps(clean_curves(curves, L))
        token = token or secrets.token_hex(16)
        if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
            raise InputError("The submission's token is not valid; submit again from the page.")
        pic = clean_picture(picture_png, L)          # outside the transaction: the write lock stays short
        row = dict(token=token, created=time.time(), page=page, kind=kind, nickname=nick, seed=seed, config=cfg,
                   metrics=mets, curves=curv, picture=pic, hidden=False)
        for attempt in range(5):
            try:
                with self._write() as c:
                    self._check_wait(f"code|{client}", CODE_BACKOFF_FREE, "class codes", c)
                    b = c.execute(select(boards_t.c.id, boards_t.c.expires).where(boards_t.c.code == code)).first()
                    if b is None:
                        break
                    if b.expires <= time.time():
                        raise InputError(f"Board {code} has expired; ask your lecturer for a new class code.")
                    old = c.execute(select(subs_t.c.id).where(subs_t.c.board_id == b.id,
                                                              subs_t.c.token == token)).scalar()
                    if old is not None:
                        return int(old)
                    took = c.execute(update(boards_t).where(boards_t.c.id == b.id,
                                                            boards_t.c.n_submissions < L.submissions)
                                     .values(n_submissions=boards_t.c.n_submissions + 1)).rowcount
                    if not took:
                        raise InputError(f"Board {code} is full ({L.submissions} submissions); ask your lecturer.")
                    return int(c.execute(insert(subs_t).values(board_id=b.id, **row)).inserted_primary_key[0])
            except IntegrityError:       # the same token from two replicas at once: the other one stored it
                continue
            except OperationalError:     # a lock or a dropped connection: the transaction rolled back; try again
                if attempt == 4:
                    raise InputError("The class board is busy; submit again in a moment.") from None
                time.sleep(0.05 * (attempt + 1))
        else:
            raise InputError("The class board is busy; submit again in a moment.")
        self._failed(f"code|{client}")
        raise InputError(f"There is no board with class code {code}; check the code on the lecturer's screen.")

    # -- the lecturer's side -----------------------------------------------------------------------------------
    def open(self, code: str, key: str, client: str = "", network: str = "") -> "BoardView":
        """The lecturer's view of one board, after checking its key. Wrong keys are slowed down: after
        KEY_BACKOFF_FREE of them from one client (a browser session), or KEY_BACKOFF_NETWORK_FREE from one network
        address, each further try there waits twice as long as the last (at most BACKOFF_MAX_SECONDS)."""
        code = normalise_code(code)
        scopes = [(f"key|{code}|{str(client)[:100]}", KEY_BACKOFF_FREE)]
        if network:
            scopes.append((f"keynet|{code}|{str(network)[:100]}", KEY_BACKOFF_NETWORK_FREE))
        for scope, free in scopes:
            self._check_wait(scope, free, "lecturer keys")
        if not isinstance(key, str) or not key.strip():
            raise InputError("Enter the lecturer key shown when the board was created.")
        with self._read() as c:
            b = self._board(c, code)
        ok = b is not None and hmac.compare_digest(_hash_key(key.strip()[:200], b.key_salt), b.key_hash)
        if b is None:
            _hash_key(key, b"x" * 16)     # the same work as a real check: no timing hint that the code exists
        if not ok:
            for scope, _ in scopes:
                self._failed(scope)
            raise InputError("That class code and lecturer key do not match a board.")
        if b.expires <= time.time():
            raise InputError(f"Board {code} has expired.")
        for scope, _ in scopes:
            self._succeeded(scope)
        return BoardView(self, b.id, code, b.title, b.expires)


class BoardView:
    """One board, opened with its lecturer key (held in the lecturer's session; never built from user input)."""

    def __init__(self, store: BoardStore, board_id: int, code: str, title: str, expires: float):
        self.store, self.board_id, self.code, self.title, self.expires = store, board_id, code, title, expires

    def _alive(self, c) -> None:
        b = c.execute(select(boards_t.c.expires).where(boards_t.c.id == self.board_id)).first()
        if b is None or b.expires <= time.time():
            raise InputError(f"Board {self.code} has expired.")

    def submissions(self, include_hidden: bool = True, since_id: int = 0) -> list[Submission]:
        cols = [subs_t.c[n] for n in ("id", "created", "page", "kind", "nickname", "seed", "config", "metrics",
                                      "curves", "hidden")]
        with self.store._read() as c:
            self._alive(c)
            q = select(*cols, (subs_t.c.picture.is_not(None)).label("has_picture")).where(
                subs_t.c.board_id == self.board_id, subs_t.c.id > since_id).order_by(subs_t.c.id)
            if not include_hidden:
                q = q.where(subs_t.c.hidden.is_(False))
            rows = c.execute(q).all()
        return [Submission(r.id, r.created, r.page, r.kind, r.nickname, r.seed, json.loads(r.config),
                           json.loads(r.metrics), json.loads(r.curves), bool(r.hidden), bool(r.has_picture))
                for r in rows]

    def count(self) -> int:
        with self.store._read() as c:
            return int(c.execute(select(func.count()).select_from(subs_t)
                                 .where(subs_t.c.board_id == self.board_id)).scalar())

    def pictures(self, ids: Iterable[int]) -> dict[int, bytes]:
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        with self.store._read() as c:
            rows = c.execute(select(subs_t.c.id, subs_t.c.picture).where(
                subs_t.c.board_id == self.board_id, subs_t.c.id.in_(ids), subs_t.c.picture.is_not(None))).all()
        return {r.id: bytes(r.picture) for r in rows}

    def hide(self, sub_id: int, hidden: bool = True) -> None:
        with self.store._write() as c:
            self._alive(c)
            n = c.execute(update(subs_t).where(subs_t.c.board_id == self.board_id, subs_t.c.id == int(sub_id))
                          .values(hidden=bool(hidden))).rowcount
        if not n:
            raise InputError(f"Submission #{sub_id} is not on this board.")

    def remove(self, sub_id: int) -> None:
        with self.store._write() as c:
            self._alive(c)
            n = c.execute(delete(subs_t).where(subs_t.c.board_id == self.board_id,
                                               subs_t.c.id == int(sub_id))).rowcount
            if not n:
                raise InputError(f"Submission #{sub_id} is not on this board.")
            # the count of submissions taken stays: the limit counts what was sent, so removing makes no room

    def csv(self, include_hidden: bool = False) -> bytes:
        return board_csv(self.submissions(include_hidden=include_hidden))


# -- SQLite plumbing: WAL, and BEGIN IMMEDIATE for writes (SQLAlchemy's documented pysqlite recipe) -----------
def _sqlite_connect(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None          # we emit BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")     # readers never block the writer; a crash keeps every commit
    cur.execute("PRAGMA synchronous=NORMAL")   # in WAL: durable against a killed process (not a power cut)
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("board_write") else "BEGIN")


class _WriteTx:
    def __init__(self, engine):
        self.engine = engine

    def __enter__(self):
        self.conn = self.engine.connect().execution_options(board_write=True)
        self.tx = self.conn.begin()
        return self.conn

    def __exit__(self, et, ev, tb):
        try:
            if et is None:
                self.tx.commit()
            else:
                self.tx.rollback()
        finally:
            self.conn.close()
        return False


class _ReadTx(_WriteTx):
    def __enter__(self):
        self.conn = self.engine.connect()
        self.tx = self.conn.begin()
        return self.conn


_STORES: dict[str, BoardStore] = {}
_STORES_LOCK = threading.Lock()


def get_store(url: str | None = None) -> BoardStore:
    """The process's store for this URL (default: default_url()), opened (and migrated) once."""
    url = url or default_url()
    with _STORES_LOCK:
        if url not in _STORES:
            _STORES[url] = BoardStore(url)
        return _STORES[url]


# -- what the board shows -------------------------------------------------------------------------------------
def knobs(subs: Sequence[Submission]) -> list[str]:
    """Config settings that differ between submissions (what a plot can group by), plus page and seed."""
    keys: dict[str, set] = {}
    for s in subs:
        for k, v in s.config.items():
            keys.setdefault(k, set()).add(json.dumps(v))
    varying = [k for k, vals in keys.items() if len(vals) > 1]
    return ["page", "seed"] + sorted(varying) + sorted(k for k in keys if k not in varying)


def metric_names(subs: Sequence[Submission]) -> list[str]:
    seen: dict[str, None] = {}
    for s in subs:
        for k in s.metrics:
            seen.setdefault(k)
    return list(seen)


def knob_value(s: Submission, knob: str) -> str:
    if knob == "page":
        return s.page
    if knob == "seed":
        return str(s.seed)
    v = s.config.get(knob)
    return "(not set)" if v is None else str(v)


def label(s: Submission) -> str:
    return f"#{s.id} {s.nickname or 'anonymous'}"


def _order(groups) -> list[str]:
    """Group names in numeric order when they are all numbers ('2' before '10'), else alphabetical."""
    try:
        return sorted(groups, key=float)
    except ValueError:
        return sorted(groups)


def strip_figure(subs: Sequence[Submission], metric: str, knob: str, kind: str = "strip"):
    """A strip plot (one dot per submission) or a histogram of one metric, grouped by a config knob."""
    import plotly.graph_objects as go

    groups: dict[str, list[Submission]] = {}
    for s in subs:
        if metric in s.metrics:
            groups.setdefault(knob_value(s, knob), []).append(s)
    fig = go.Figure()
    for i, (g, members) in enumerate((g, groups[g]) for g in _order(groups)):
        vals = [s.metrics[metric] for s in members]
        if kind == "histogram":
            fig.add_trace(go.Histogram(x=vals, name=f"{knob} = {g}", opacity=0.75))
        else:
            jitter = [((s.id * 2654435761) % 1000) / 1000 * 0.5 - 0.25 for s in members]   # fixed per submission
            fig.add_trace(go.Scatter(x=vals, y=[i + j for j in jitter], mode="markers", name=f"{knob} = {g}",
                                     marker=dict(size=11, opacity=0.8), customdata=[s.id for s in members],
                                     text=[label(s) for s in members],
                                     hovertemplate="%{text}<br>" + metric + " = %{x:.4g}<extra></extra>"))
    n = sum(len(m) for m in groups.values())
    if kind == "histogram":
        fig.update_layout(barmode="overlay", xaxis_title=metric, yaxis_title="submissions")
    else:
        names = _order(groups)
        fig.update_layout(xaxis_title=metric, yaxis=dict(tickvals=list(range(len(names))), ticktext=names,
                                                         title=knob))
    fig.update_layout(title=f"{metric} across {n} submissions, by {knob}", height=380,
                      margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h"))
    return fig


def strip_png(subs: Sequence[Submission], metric: str, knob: str, kind: str = "strip") -> bytes:
    """The same plot as strip_figure, as a PNG drawn with matplotlib (plotly's PNG export needs Chrome)."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    groups: dict[str, list[float]] = {}
    ids: dict[str, list[int]] = {}
    for s in subs:
        if metric in s.metrics:
            groups.setdefault(knob_value(s, knob), []).append(s.metrics[metric])
            ids.setdefault(knob_value(s, knob), []).append(s.id)
    fig = Figure(figsize=(8, 4), dpi=120)
    ax = fig.add_subplot()
    names = _order(groups)
    for i, g in enumerate(names):
        if kind == "histogram":
            ax.hist(groups[g], alpha=0.6, label=f"{knob} = {g}")
        else:
            jit = [((j * 2654435761) % 1000) / 1000 * 0.5 - 0.25 for j in ids[g]]
            ax.scatter(groups[g], [i + j for j in jit], s=40, alpha=0.8, label=f"{knob} = {g}")
    if kind == "histogram":
        ax.set_ylabel("submissions")
    else:
        ax.set_yticks(range(len(names)), names)
        ax.set_ylabel(knob)
    ax.set_xlabel(metric)
    ax.set_title(f"{metric} across {sum(map(len, groups.values()))} submissions, by {knob}")
    if names:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def board_csv(subs: Sequence[Submission]) -> bytes:
    """One row per submission: id, time, nickname, page, kind, seed, hidden, every setting, every metric. Text
    cells are neutralised against spreadsheet formulas (dlplay.embed.figures._cell, the other exports' rule)."""
    import csv
    from datetime import datetime, timezone

    from .embed.figures import _cell

    cfg_keys = sorted({k for s in subs for k in s.config})
    met_keys = metric_names(subs)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["id", "submitted_utc", "nickname", "page", "kind", "seed", "hidden"]
               + [f"config.{k}" for k in cfg_keys] + [f"metric.{k}" for k in met_keys])
    for s in subs:
        w.writerow([s.id, datetime.fromtimestamp(s.created, timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
                    _cell(s.nickname), _cell(s.page), _cell(s.kind), s.seed, int(s.hidden)]
                   + [_cell(json.dumps(s.config[k]) if isinstance(s.config.get(k), list) else s.config.get(k, ""))
                      for k in cfg_keys]
                   + [f"{s.metrics[k]:.6g}" if k in s.metrics else "" for k in met_keys])
    return out.getvalue().encode()


# -- configuration -> command line --------------------------------------------------------------------------
# Config classes whose module serves several `train` commands (the others are found by their module).
_COMMAND_OF_CONFIG = {"GAN2DConfig": "train gan2d", "ImageGANConfig": "train gan", "CharConfig": "train charlm",
                      "CopyConfig": "train copy-task", "ReverseConfig": "train reverse",
                      "PixelConfig": "train pixelcnn", "RBMConfig": "train rbm",
                      "StackConfig": "train pretrain-stack"}


# Config fields whose command-line option has another name (`train gan2d --k` sets GAN2DConfig.k_d).
_OPTION_OF_FIELD = {"GAN2DConfig": {"k_d": "k", "m_g": "m"}}


def cli_command(kind: str) -> str | None:
    """The `python -m dlplay` command that trains this kind of run ("dlplay.vae.VAEConfig" -> "train vae")."""
    from .cli import COMMANDS

    cls = kind.rsplit(".", 1)[-1]
    if cls in _COMMAND_OF_CONFIG:
        return _COMMAND_OF_CONFIG[cls]
    best = None
    for cmd, (module, _) in COMMANDS.items():
        if cmd.startswith("train ") and (kind == module or kind.startswith(module + ".")):
            if best is None or len(module) > len(COMMANDS[best][0]):
                best = cmd
    return best


def command_line(s: Submission) -> tuple[str | None, list[str]]:
    """(a `python -m dlplay train ...` line that retrains this submission, settings it cannot carry). The options
    come from the command's own parser, so only real options appear; None when no command trains this kind."""
    import argparse
    import shlex

    from .cli import build_parser

    cmd = cli_command(s.kind)
    if cmd is None:
        return None, list(s.config)
    argv = cmd.split()
    parser = build_parser(argv)
    sub = parser
    for word in argv:      # walk down to the command's own subparser
        act = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction))
        sub = act.choices[word]
    options = {a.dest: a for a in sub._actions if a.option_strings}
    parts, left = ["python", "-m", "dlplay", *argv, "--seed", str(s.seed)], []
    steps = s.metrics.get("steps")
    alias = _OPTION_OF_FIELD.get(s.kind.rsplit(".", 1)[-1], {})
    for k, v in s.config.items():
        a = options.get(alias.get(k, k))
        if a is None or isinstance(v, list):
            left.append(k)
            continue
        flag = a.option_strings[-1]
        if isinstance(a, argparse._StoreTrueAction):
            if v:
                parts.append(flag)
        elif v is not None and v != a.default:
            parts += [flag, str(v).lower() if isinstance(v, bool) else str(v)]
    if steps and "steps" in options:
        parts += ["--steps", str(int(steps))]
    return " ".join(shlex.quote(p) for p in parts), left


# -- the example board the page opens on -------------------------------------------------------------------------
EXAMPLE_FILE = "board_example.json"
EXAMPLE_PRESETS = ("healthy training", "mode collapse", "WGAN-GP fixes it")
EXAMPLE_SEEDS = (0, 1, 2, 3)
EXAMPLE_STEPS = 1000


def pretrain(out_dir=None) -> dict:
    """Re-create the example board (`python -m dlplay pretrain board`): the 2-D GAN Lab's three ring-of-8 presets
    on four seeds each, EXAMPLE_STEPS iterations, what a room of twelve would submit. Real runs, on the CPU."""
    import base64

    from PIL import Image

    from . import checkpoints
    from .gan import viz as ganviz
    from .gan.gan2d import make_task, preset
    from .train import Trainer

    out_dir = Path(out_dir or checkpoints.SHIPPED_DIR)
    runs = []
    for name in EXAMPLE_PRESETS:
        cfg = preset(name)
        for seed in EXAMPLE_SEEDS:
            task = make_task(cfg, seed, device="cpu")
            tr = Trainer(task, record_every=10).run(steps=EXAMPLE_STEPS)
            d = task.distances()
            hist = [h for h in tr.history if "d_loss" in h]
            xs, ys = downsample([h["step"] for h in hist], [h["d_loss"] for h in hist], 50)
            pic = ganviz.playground_frame(task.view(), task.bounds, cfg.loss, ("real", "generated"), size=160)
            buf = io.BytesIO()
            Image.open(io.BytesIO(pic)).convert("RGB").save(buf, format="PNG", optimize=True)
            runs.append({"preset": name, "seed": seed, "config": {k: v for k, v in cfg.as_dict().items()
                                                                  if not isinstance(v, bytes)},
                         "metrics": {k: round(float(v), 4) for k, v in {**d, "steps": tr.steps}.items()},
                         "curves": {"d_loss": {"x": xs, "y": [round(y, 4) for y in ys]}},
                         "picture": base64.b64encode(buf.getvalue()).decode()})
    (out_dir / EXAMPLE_FILE).write_text(json.dumps({"steps": EXAMPLE_STEPS, "runs": runs}))
    return {p: [r["metrics"]["modes_covered"] for r in runs if r["preset"] == p] for p in EXAMPLE_PRESETS}


def example_submissions() -> list[tuple[Submission, bytes]]:
    """The shipped example board as submissions (with their pictures), for the page to open on."""
    import base64

    from . import checkpoints

    raw = json.loads((checkpoints.SHIPPED_DIR / EXAMPLE_FILE).read_text())
    out = []
    for i, r in enumerate(raw["runs"], 1):
        s = Submission(i, 0.0, "gan", "dlplay.gan.gan2d.GAN2DConfig", f"example {i}", r["seed"],
                       {"preset": r["preset"], **r["config"]}, r["metrics"], r["curves"], False, True)
        out.append((s, base64.b64decode(r["picture"])))
    return out
