"""The class board's store (issue 28): submissions round-trip, every refusal is a sentence that stores nothing and
leaves other boards alone, keys are hashed and wrong ones slowed down, a killed submitter loses at most the
submission in flight, the schema migrates, and the same holds on PostgreSQL (two replicas sharing it)."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image

from dlplay import board
from dlplay.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


def png(w=40, h=30, colour="red", fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, format=fmt)
    return buf.getvalue()


def png_claiming(w: int, h: int) -> bytes:
    """A tiny PNG file whose header claims w x h pixels (a decompression bomb's shape, without the memory)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.fixture(autouse=True)
def cheap_key_hashing(monkeypatch):
    """scrypt at a test's cost (the real one takes ~0.1-0.3 s a check); what is checked does not change."""
    monkeypatch.setattr(board.storage, "_SCRYPT", dict(n=2**10, r=8, p=1, dklen=32))   # read there, by _hash_key


def payload(**over):
    kw = dict(page="vae", kind="dlplay.vae.VAEConfig", config={"dataset": "digits", "latent": 2, "beta": 1.0},
              seed=1, metrics={"test_elbo": -31.5, "steps": 300.0}, curves={"elbo": {"x": [1, 2, 3], "y": [-60, -40, -35]}},
              picture_png=png(), nickname="Ada")
    kw.update(over)
    return kw


# -- PostgreSQL: Debian's server started in a temp folder (skipped with a reason where it is not installed) -----------
def _pg_bin() -> Path | None:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


@pytest.fixture(scope="session")
def pg_server():
    """(host socket folder, port) of a throwaway PostgreSQL server, stopped at the end of the session."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -r requirements-board-pg.txt)")
    root = os.geteuid() == 0
    if root:
        try:
            import pwd
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
    base = Path(tempfile.mkdtemp(prefix="dlplay-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    as_user = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        for p in (base, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(as_user + [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                              "--no-sync"], check=True, capture_output=True)
    opts = f"-k {sock} -p {port} -c listen_addresses='' -c fsync=off -c max_connections=200"
    subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w",
                              "start"], check=True, capture_output=True, timeout=60)
    try:
        yield str(sock), port
    finally:
        subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A fresh database on the test server."""
    import psycopg

    sock, port = pg_server
    name = "board_" + uuid.uuid4().hex[:10]
    with psycopg.connect(host=sock, port=port, user="postgres", dbname="postgres", autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return f"postgresql+psycopg://postgres@/{name}?host={sock}&port={port}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'board.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(url):
    s = board.BoardStore(url, board.Limits(submissions=5, boards=50))
    yield s
    s.engine.dispose()


# -- the round trip ----------------------------------------------------------------------------------------------
def test_create_submit_open_round_trip(store):
    made = store.create_board("Lecture 7: GANs")
    assert len(made.code) == board.CODE_LENGTH and set(made.code) <= set(board.CODE_ALPHABET)
    big = png(1000, 800, "blue")
    sid = store.submit(f" {made.code.lower()[:3]}-{made.code[3:]} ", **payload(picture_png=big))  # as typed
    view = store.open(made.code, made.key)
    (s,) = view.submissions()
    assert s.id == sid and s.nickname == "Ada" and s.seed == 1 and s.metrics["test_elbo"] == -31.5
    assert s.config == {"dataset": "digits", "latent": 2, "beta": 1.0} and s.curves["elbo"]["y"][-1] == -35
    stored = Image.open(io.BytesIO(view.pictures([sid])[sid]))
    assert stored.format == "PNG" and max(stored.size) == 256 and len(view.pictures([sid])[sid]) < len(big)
    with store.engine.connect() as c:        # the key is kept only as a salted hash
        from sqlalchemy import select
        row = c.execute(select(board.boards_t)).first()
    assert made.key.encode() not in row.key_hash + row.key_salt and len(row.key_hash) == 32
    view.hide(sid)
    assert view.submissions(include_hidden=False) == [] and view.submissions()[0].hidden
    assert b"Ada" in view.csv(include_hidden=True) and b"Ada" not in view.csv()
    view.remove(sid)
    assert view.count() == 0


def test_sqlite_runs_in_wal_mode(tmp_path):
    s = board.BoardStore(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    s.create_board()
    assert sqlite3.connect(tmp_path / "b.sqlite3").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_database_lives_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DLPLAY_BOARD_URL", raising=False)
    monkeypatch.setenv("DLPLAY_DATA", str(tmp_path / "data"))
    assert board.default_url() == f"sqlite:///{tmp_path / 'data' / 'board.sqlite3'}"
    monkeypatch.setenv("DLPLAY_BOARD_URL", "sqlite:///elsewhere.db")
    assert board.default_url() == "sqlite:///elsewhere.db"


# -- refusals: a sentence each, nothing stored, no other board touched ------------------------------------------
BAD = {
    "no class code": ("", {}),
    "a code that is no board": ("ZZZZZZ", {}),
    "a code with a path in it": ("../../etc/passwd", {}),
    "markup in the nickname": (None, {"nickname": "<script>alert(1)</script>"}),
    "markdown link nickname": (None, {"nickname": "[click](http://x)"}),
    "a 10,000-character nickname": (None, {"nickname": "a" * 10_000}),
    "a metric given as text": (None, {"metrics": {"test_elbo": "-31.5"}}),
    "a metric that is NaN": (None, {"metrics": {"test_elbo": float("nan")}}),
    "a metric that is a list": (None, {"metrics": {"test_elbo": [1.0]}}),
    "a metric that is a bool": (None, {"metrics": {"test_elbo": True}}),
    "a metric named with markup": (None, {"metrics": {"<b>x</b>": 1.0}}),
    "too many metrics": (None, {"metrics": {f"m{i}": 1.0 for i in range(33)}}),
    "a curve of 201 points": (None, {"curves": {"elbo": {"x": list(range(201)), "y": [0.0] * 201}}}),
    "an oversized picture": (None, {"picture_png": b"\x89PNG\r\n\x1a\n" + b"\0" * 2_100_000}),
    "a JPEG": (None, {"picture_png": png(fmt="JPEG")}),
    "a broken PNG": (None, {"picture_png": png()[:60]}),
    "a PNG of 100 million pixels": (None, {"picture_png": png_claiming(20_000, 5_000)}),
    "a PNG of 1,000 million pixels": (None, {"picture_png": png_claiming(40_000, 25_000)}),
    "a seed that is not a whole number": (None, {"seed": 1.5}),
    "a setting that is an object": (None, {"config": {"x": object()}}),
    "a page with a path": (None, {"page": "../pages/x.py"}),
}


def test_refusals_are_sentences_store_nothing_and_spare_other_boards(store):
    a, b = store.create_board("A"), store.create_board("B")
    store.submit(b.code, **payload(nickname="Bob"))
    va, vb = store.open(a.code, a.key), store.open(b.code, b.key)
    for case, (code, over) in BAD.items():
        with pytest.raises(InputError) as e:
            store.submit(a.code if code is None else code, **payload(**over), client=case)
        msg = str(e.value)
        assert msg[0].isupper() and msg.rstrip().endswith((".", ")")) and len(msg) < 300, (case, msg)
        assert "Traceback" not in msg and "/etc" not in msg, (case, msg)
        assert va.count() == 0, case
        (kept,) = vb.submissions()
        assert kept.nickname == "Bob" and kept.metrics == payload()["metrics"], case


def test_reading_and_hiding_need_the_key(store):
    a, b = store.create_board("A"), store.create_board("B")
    sid_b = store.submit(b.code, **payload())
    for key in ("", "wrong key", b.key):        # no key, a wrong one, another board's
        with pytest.raises(InputError, match="do not match|Enter the lecturer key"):
            store.open(a.code, key, client=f"c-{key}")
    va = store.open(a.code, a.key)
    with pytest.raises(InputError, match="not on this board"):
        va.hide(sid_b)                          # a's key cannot touch b's submissions
    with pytest.raises(InputError, match="not on this board"):
        va.remove(sid_b)
    assert store.open(b.code, b.key).count() == 1 and not store.open(b.code, b.key).submissions()[0].hidden


def test_wrong_keys_are_slowed_down_per_board_and_client(store):
    made = store.create_board()
    for _ in range(board.KEY_BACKOFF_FREE):
        with pytest.raises(InputError, match="do not match"):
            store.open(made.code, "guess", client="attacker")
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"wait \d+ s"):
        store.open(made.code, made.key, client="attacker")   # even the right key waits: no guessing at speed
    assert time.perf_counter() - t0 < 0.5                    # refused at once, the key is not even checked
    assert store.open(made.code, made.key, client="lecturer").code == made.code   # others are not locked out
    from sqlalchemy import update
    with store.engine.begin() as c:                          # the wait has passed
        c.execute(update(board.failures_t).values(last=time.time() - 3600))
    store.open(made.code, made.key, client="attacker")       # and success clears the count
    with pytest.raises(InputError, match="do not match"):
        store.open(made.code, "guess", client="attacker")


def test_many_sessions_from_one_address_are_slowed_down_too(store):
    made = store.create_board()
    for i in range(board.KEY_BACKOFF_NETWORK_FREE):          # a new session for every guess
        with pytest.raises(InputError, match="do not match"):
            store.open(made.code, "guess", client=f"s{i}", network="10.0.0.7")
    with pytest.raises(InputError, match="wait"):
        store.open(made.code, made.key, client="fresh", network="10.0.0.7")
    assert store.open(made.code, made.key, client="lecturer", network="10.0.0.8").code == made.code


def test_guessing_class_codes_is_slowed_down(store):
    for _ in range(board.CODE_BACKOFF_FREE):
        with pytest.raises(InputError, match="no board"):
            store.submit("ZZZZZZ", **payload(), client="guesser")
    made = store.create_board()
    with pytest.raises(InputError, match="wait"):
        store.submit(made.code, **payload(), client="guesser")
    store.submit(made.code, **payload(), client="student")


def test_limits_duplicates_and_expiry(store):
    made = store.create_board()
    first = store.submit(made.code, **payload(), token="run-aaaaaaaa")
    assert store.submit(made.code, **payload(), token="run-aaaaaaaa") == first    # a double click: stored once
    for i in range(4):
        store.submit(made.code, **payload(seed=i))
    with pytest.raises(InputError, match="full"):
        store.submit(made.code, **payload())
    view = store.open(made.code, made.key)
    assert view.count() == 5
    other = store.create_board()
    from sqlalchemy import update
    with store.engine.begin() as c:
        c.execute(update(board.boards_t).where(board.boards_t.c.code == made.code).values(expires=time.time() - 1))
    with pytest.raises(InputError, match="expired"):
        store.submit(made.code, **payload(seed=9))
    with pytest.raises(InputError, match="expired"):
        view.submissions()
    assert store.purge_expired() == 1
    with pytest.raises(InputError, match="do not match"):
        store.open(made.code, made.key)
    store.submit(other.code, **payload())           # the other board lives on
    with pytest.raises(InputError, match="between 1 and"):
        store.create_board(days=10_000)


def test_downsample_keeps_ends_and_at_most_n_points():
    xs = list(range(3001))
    dx, dy = board.downsample(xs, [x * 2 for x in xs], 200)
    assert len(dx) == 200 and dx[0] == 0 and dx[-1] == 3000 and dy == [x * 2 for x in dx]
    assert board.downsample([1, 2], [3, 4]) == ([1.0, 2.0], [3.0, 4.0])
    assert board._order(["10", "2", "0.5"]) == ["0.5", "2", "10"] and board._order(["b", "a"]) == ["a", "b"]


def test_panel_payload_from_a_trainer_fits_the_limits():
    from dlplay.ui.board import config_dict, trainer_curves, trainer_metrics
    from dlplay.gan.gan2d import GAN2DConfig

    class T:
        steps, seconds = 5000, 12.5
        history = [{"step": i, "time": i, **{f"k{j}": float(i * j) for j in range(12)}, "bad": float("nan")}
                   for i in range(1, 5001)]
        latest = history[-1]
        last_eval = {"test_mse": 0.02, "judge: share": 0.9}
    m, c = trainer_metrics(T()), trainer_curves(T())
    assert m["test_mse"] == 0.02 and m["steps"] == 5000 and "bad" not in m and len(m) <= 32
    assert len(c) == 8 and all(len(v["x"]) <= 200 and v["x"][-1] == 5000 for v in c.values())
    cfg = config_dict(GAN2DConfig(points=b"\0" * 80))
    assert cfg["points"] == "<80 bytes>" and board.clean_config(cfg) == cfg
    assert board.clean_metrics(m) == m and board.clean_curves(c) == c


# -- showing and exporting ---------------------------------------------------------------------------------------
def _subs(store):
    made = store.create_board()
    for i, (loss, modes) in enumerate([("minimax", 3), ("minimax", 5), ("wgan-gp", 8)]):
        store.submit(made.code, **payload(kind="dlplay.gan.gan2d.GAN2DConfig", page="gan", seed=i,
                                          config={"loss": loss, "k_d": 1, "note": "=HYPERLINK(\"x\")"},
                                          metrics={"modes_covered": modes}))
    return store.open(made.code, made.key).submissions()


def test_plot_groups_by_knob_and_exports(store):
    subs = _subs(store)
    assert board.knobs(subs)[:3] == ["page", "seed", "loss"]        # the setting that varies comes first
    fig = board.strip_figure(subs, "modes_covered", "loss")
    assert [t.name for t in fig.data] == ["loss = minimax", "loss = wgan-gp"]
    assert sorted(fig.data[0].x) == [3, 5] and list(fig.data[1].customdata) == [subs[2].id]
    pic = Image.open(io.BytesIO(board.strip_png(subs, "modes_covered", "loss")))
    assert pic.format == "PNG" and pic.size[0] > 400
    assert board.strip_figure(subs, "modes_covered", "loss", "histogram").data[0].type == "histogram"
    rows = board.board_csv(subs).decode().splitlines()
    assert rows[0].startswith("id,submitted_utc,nickname") and "metric.modes_covered" in rows[0]
    assert "'=HYPERLINK" in rows[1] and ",=HYPERLINK" not in rows[1]     # formulas neutralised


def test_command_line_retrains_the_submission():
    from dlplay.cli import build_parser

    s = board.Submission(1, 0, "ae", "dlplay.autoencoders.models.AutoencoderConfig", "", 3,
                         {"dataset": "digits", "variant": "sparse", "code_size": 16, "tied": True,
                          "hidden": [64, 32]}, {"steps": 400.0}, {}, False, False)
    line, left = board.command_line(s)
    assert line.startswith("python -m dlplay train autoencoder --seed 3") and "--code-size 16" in line
    assert "--steps 400" in line and left == ["hidden"]
    args = build_parser(line.split()[3:]).parse_args(line.split()[3:])   # a line the CLI accepts
    assert args.code_size == 16 and args.variant == "sparse" and args.seed == 3 and args.tied is True
    g = board.Submission(2, 0, "gan", "dlplay.gan.gan2d.GAN2DConfig", "", 0, {"loss": "wgan-gp", "k_d": 5,
                         "preset": "WGAN-GP fixes it"}, {}, {}, False, False)
    line, left = board.command_line(g)
    assert "train gan2d" in line and "--loss wgan-gp" in line and "--k 5" in line and not left
    assert "--preset 'WGAN-GP fixes it'" in line
    assert board.command_line(board.Submission(3, 0, "x", "mystery.Config", "", 0, {"a": 1}, {}, {}, False,
                                               False)) == (None, ["a"])


def test_example_board_ships_real_runs():
    ex = board.example_submissions()
    assert len(ex) == len(board.EXAMPLE_PRESETS) * len(board.EXAMPLE_SEEDS)
    subs = [s for s, _ in ex]
    assert all(Image.open(io.BytesIO(p)).format == "PNG" for _, p in ex)
    by = {}
    for s in subs:
        by.setdefault(s.config["preset"], []).append(s.metrics["modes_covered"])
    assert min(by["WGAN-GP fixes it"]) > max(by["mode collapse"])   # the lesson the example board shows


# -- schema migration ----------------------------------------------------------------------------------------------
def test_a_version_1_database_is_migrated_on_start(tmp_path):
    path = tmp_path / "old.sqlite3"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE board_boards (id INTEGER PRIMARY KEY, code VARCHAR(16) NOT NULL UNIQUE, title VARCHAR(80)
            NOT NULL, key_salt BLOB NOT NULL, key_hash BLOB NOT NULL, created FLOAT NOT NULL, expires FLOAT NOT NULL,
            n_submissions INTEGER NOT NULL);
        CREATE TABLE board_submissions (id INTEGER PRIMARY KEY, board_id INTEGER NOT NULL REFERENCES board_boards(id),
            token VARCHAR(64) NOT NULL, created FLOAT NOT NULL, page VARCHAR(60) NOT NULL, kind VARCHAR(120) NOT NULL,
            nickname VARCHAR(40) NOT NULL, seed INTEGER NOT NULL, config TEXT NOT NULL, metrics TEXT NOT NULL,
            curves TEXT NOT NULL, picture BLOB, CONSTRAINT uq_board_token UNIQUE (board_id, token));
        CREATE TABLE board_failures (scope VARCHAR(200) PRIMARY KEY, count INTEGER NOT NULL, last FLOAT NOT NULL);
    """)
    salt = b"s" * 16
    con.execute("INSERT INTO board_boards VALUES (1, 'ABCDEF', 'old', ?, ?, 0, ?, 1)",
                (salt, board._hash_key("k" * 16, salt), time.time() + 86400))
    con.execute("INSERT INTO board_submissions VALUES (1, 1, 'tok-old-1', 0, 'vae', '', 'Old', 0, '{}', "
                "'{\"x\": 1.0}', '{}', NULL)")
    con.commit()
    con.close()
    s = board.BoardStore(f"sqlite:///{path}")
    assert s.schema_version() == board.SCHEMA_VERSION == 2
    view = s.open("ABCDEF", "k" * 16)
    (old,) = view.submissions()
    assert old.nickname == "Old" and old.hidden is False
    view.hide(old.id)
    assert view.submissions()[0].hidden
    board.BoardStore(f"sqlite:///{path}")     # opening again changes nothing
    assert s.open("ABCDEF", "k" * 16).count() == 1


# -- a server killed mid-submission -------------------------------------------------------------------------------
KILL_SCRIPT = """
import io, sys
from PIL import Image
from dlplay.board import BoardStore
store = BoardStore(sys.argv[1])
buf = io.BytesIO(); Image.new("RGB", (300, 200), "green").save(buf, format="PNG"); pic = buf.getvalue()
i = 0
while True:
    sid = store.submit(sys.argv[2], page="vae", seed=i % 1000, metrics={"m": float(i)}, picture_png=pic,
                       curves={"c": {"x": list(range(200)), "y": [float(i)] * 200}}, token=f"kill-{i:06d}")
    print(f"kill-{i:06d}", sid, flush=True)
    i += 1
"""


@pytest.mark.parametrize("after", [5, 23])
def test_killing_the_server_mid_submission_loses_at_most_the_one_in_flight(url, after):
    s = board.BoardStore(url, board.Limits(submissions=10_000))
    made = s.create_board()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    p = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, url, made.code], stdout=subprocess.PIPE, env=env,
                         text=True)
    acked = []
    try:
        while len(acked) < after:
            line = p.stdout.readline()
            assert line, "the submitting process ended early"
            acked.append(line.split()[0])
    finally:
        p.send_signal(signal.SIGKILL)     # no cleanup, no rollback: as a crashed server
        p.wait(timeout=30)
    acked += [ln.split()[0] for ln in p.stdout.read().splitlines() if ln.strip()]
    view = s.open(made.code, made.key)
    subs = view.submissions()
    tokens = [f"kill-{int(x.metrics['m']):06d}" for x in subs]
    assert set(acked) <= set(tokens)                    # every acknowledged submission is there
    assert len(tokens) - len(acked) in (0, 1)           # at most the one in flight
    assert len(set(tokens)) == len(tokens)
    pics = view.pictures([x.id for x in subs])
    assert all(x.has_picture and len(x.curves["c"]["x"]) == 200 for x in subs)   # no half-written rows
    assert all(Image.open(io.BytesIO(pics[x.id])).size == (256, 171) for x in subs)
    from sqlalchemy import select
    with s.engine.connect() as c:                       # the board's counter agrees with its rows
        assert c.execute(select(board.boards_t.c.n_submissions)).scalar() == len(subs)
    if url.startswith("sqlite"):
        assert sqlite3.connect(url.split("///", 1)[1]).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    s.submit(made.code, **payload())                    # and the board takes new submissions
    s.engine.dispose()


# -- two replicas on one PostgreSQL --------------------------------------------------------------------------------
REPLICA_SCRIPT = """
import sys, threading
from dlplay.board import BoardStore
store = BoardStore(sys.argv[1])           # both replicas create / migrate the schema at the same moment
def go(i):
    store.submit(sys.argv[2], page="gan", seed=i, metrics={"m": float(i)}, nickname=f"r{sys.argv[3]} s{i}",
                 token=f"rep-{i:04d}")    # the same tokens in both replicas: each run must be stored once
ts = [threading.Thread(target=go, args=(i,)) for i in range(int(sys.argv[4]))]
[t.start() for t in ts]; [t.join() for t in ts]
print("done", flush=True)
"""


@pytest.mark.postgres
def test_two_replicas_share_one_postgres_board(pg_url):
    lecturer = board.BoardStore(pg_url)
    made = lecturer.create_board()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", REPLICA_SCRIPT, pg_url, made.code, str(r), "20"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in (1, 2)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    subs = lecturer.open(made.code, made.key).submissions()
    assert sorted(s.seed for s in subs) == list(range(20))   # 20 runs sent by both replicas: stored once each


# -- the load test --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_forty_sessions_in_ten_seconds_sqlite():
    from bench.bench_board import run

    r = run(n=40, window=10.0)
    print(json.dumps(r))          # the figures (-s shows them)
    assert r["stored"] == 40 and r["duplicates"] == 0 and not r["errors"], r
    assert r["double_clicks_returned_same_id"]
    assert r["visible_on_page_max_s"] < 5, r
    assert r["latency_p95_ms"] < 300, r


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("replicas", [1, 2])
def test_forty_sessions_in_ten_seconds_postgres(pg_url, replicas):
    from bench.bench_board import run

    r = run(pg_url, n=40, window=10.0, replicas=replicas)
    print(json.dumps(r))
    assert r["stored"] == 40 and r["duplicates"] == 0 and not r["errors"], r
    assert r["visible_on_page_max_s"] < 5, r
    assert r["latency_p95_ms"] < 300, r
