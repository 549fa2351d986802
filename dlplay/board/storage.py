"""The store: all boards in one SQLAlchemy database (SQLite in WAL mode, or PostgreSQL for several replicas).
Creating boards, submitting, the lecturer's key (salted scrypt hash) and the back-off on wrong secrets, the schema
migration when a store opens, and one store per URL per process (get_store)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Iterable

from sqlalchemy import create_engine, delete, event, func, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from ..errors import InputError
from .schema import (BACKOFF_MAX_SECONDS, CODE_ALPHABET, CODE_BACKOFF_FREE, CODE_LENGTH, KEY_BACKOFF_FREE,
                     KEY_BACKOFF_NETWORK_FREE, MIGRATIONS, SCHEMA_VERSION, Limits, NewBoard, Submission, boards_t,
                     failures_t, meta, schema_t, subs_t)
from .show import board_csv
from .validate import (_PAGE_RE, _TITLE_RE, _TOKEN_RE, clean_config, clean_curves, clean_metrics, clean_nickname,
                       clean_picture, normalise_code)


_SCRYPT = dict(n=2**14, r=8, p=1, dklen=32)   # hashlib.scrypt: about 16 MB and a few tens of ms per check


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
