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

Where things are:
    schema.py    Limits, the code alphabet and back-off constants, the tables and MIGRATIONS, NewBoard, Submission
    validate.py  what a panel sends, checked without a database (codes, nicknames, metrics, curves, picture)
    storage.py   BoardStore (boards, submitting, hashed keys, back-off, migrations), BoardView, get_store
    show.py      the board's plots, its CSV and the command line that retrains a submission
    example.py   the example board the page opens on (`python -m dlplay pretrain board`)
"""

from .example import EXAMPLE_FILE, EXAMPLE_PRESETS, EXAMPLE_SEEDS, EXAMPLE_STEPS, example_submissions, pretrain
from .schema import (BACKOFF_MAX_SECONDS, CODE_ALPHABET, CODE_BACKOFF_FREE, CODE_LENGTH, KEY_BACKOFF_FREE,
                     KEY_BACKOFF_NETWORK_FREE, MIGRATIONS, SCHEMA_VERSION, Limits, NewBoard, Submission, boards_t,
                     failures_t, meta, schema_t, subs_t)
from .show import (_order, board_csv, cli_command, command_line, knob_value, knobs, label, metric_names, strip_figure,
                   strip_png)
from .storage import BoardStore, BoardView, _hash_key, default_url, get_store
from .validate import (clean_config, clean_curves, clean_metrics, clean_nickname, clean_picture, downsample,
                       normalise_code)

# _order and _hash_key are private but tests use them through dlplay.board
__all__ = ["BACKOFF_MAX_SECONDS", "CODE_ALPHABET", "CODE_BACKOFF_FREE", "CODE_LENGTH", "EXAMPLE_FILE",
           "EXAMPLE_PRESETS", "EXAMPLE_SEEDS", "EXAMPLE_STEPS", "KEY_BACKOFF_FREE", "KEY_BACKOFF_NETWORK_FREE",
           "MIGRATIONS", "SCHEMA_VERSION", "BoardStore", "BoardView", "Limits", "NewBoard", "Submission", "board_csv",
           "boards_t", "clean_config", "clean_curves", "clean_metrics", "clean_nickname", "clean_picture",
           "cli_command", "command_line", "default_url", "downsample", "example_submissions", "failures_t",
           "get_store", "knob_value", "knobs", "label", "meta", "metric_names", "normalise_code", "pretrain",
           "schema_t", "strip_figure", "strip_png", "subs_t"]
