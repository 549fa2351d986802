"""Uploaded tables (CSV / TSV / .npy) read from bytes, with bounds; anything unusable is an InputError."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .sources import Source

MAX_ROWS = 50_000          # rows of an uploaded table
MAX_COLUMNS = 4_096        # numeric columns of an uploaded table
MIN_ROWS = 5
MAX_CELL_CHARS = 1_000     # longest text cell (a label, a word, a sentence) of an uploaded table
MAX_UPLOAD_BYTES = 20 * 2**20


# ------------------------------------------------------------------------------------------------ uploads

_MISSING = {"", "nan", "na", "n/a", "null", "none", "?"}
LABEL_NAMES = ("label", "labels", "class", "target", "category", "digit", "species", "word", "name")


def _num(s: str) -> float:
    """A cell as a float; missing tokens give NaN; anything else raises ValueError."""
    s = s.strip()
    if s.lower() in _MISSING:
        return math.nan
    return float(s)


def _is_number(s: str) -> bool:
    try:
        _num(s)
        return True
    except ValueError:
        return False


@dataclass
class Table:
    """An uploaded table: the numeric columns to embed, and an optional label column and text columns."""
    x: np.ndarray                      # (n, d) float32
    columns: list[str]                 # names of the numeric columns
    labels: np.ndarray | None = None   # (n,) str
    label_name: str | None = None
    text: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_source(self, name: str = "upload") -> Source:
        hover = None
        first_text = next(iter(self.text.values()), None)
        if first_text is not None or self.labels is not None:
            hover = [f"row {i + 1}: " + " | ".join(str(v) for v in (
                ([self.labels[i]] if self.labels is not None else []) +
                ([first_text[i]] if first_text is not None and first_text is not self.text.get(self.label_name) else [])))
                for i in range(len(self.x))]
        cols = {c: self.x[:, j] for j, c in enumerate(self.columns[:50])}
        cols.update({k: np.asarray(v) for k, v in self.text.items() if k != self.label_name})
        return Source(name, self.x, self.labels, None, hover, None,
                      f"uploaded table: {len(self.x):,} rows x {self.x.shape[1]} numeric columns"
                      + (f", labels from column {self.label_name!r}" if self.label_name else ""), cols, list(self.notes))


def read_table(data: bytes, name: str = "table.csv", *, drop_missing: bool = False, max_rows: int = MAX_ROWS,
               max_columns: int = MAX_COLUMNS, max_bytes: int = MAX_UPLOAD_BYTES) -> Table:
    """Read an uploaded CSV / TSV (optional header, optional label column) or .npy table from bytes.

    Refuses with InputError, naming the row and column: ragged rows, text in a numeric column, infinite values,
    too few or too many rows or columns, tables whose rows are all the same. Missing values (NaN, empty cells)
    are refused too unless drop_missing=True, which leaves those rows out and says how many in `notes`.
    """
    if not data:
        raise InputError("The table file is empty (0 bytes).")
    if len(data) > max_bytes:
        raise InputError(f"The table file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    if data[:6] == b"\x93NUMPY" or name.lower().endswith(".npy"):
        table = _read_npy(data)
    else:
        from ..data import read_text

        table = _read_delimited(read_text(data, max_bytes=max_bytes, what="table file"), name, max_rows)
    return _validate(table, drop_missing, max_rows, max_columns)


def _read_npy(data: bytes) -> Table:
    try:
        a = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e) or "object" in str(e).lower():
            raise InputError("This .npy file holds Python objects, not numbers; save a plain numeric array "
                             "(np.save with a float or int array).") from None
        raise InputError(f"This is not a readable .npy file ({e}).") from None
    except (OSError, EOFError) as e:
        raise InputError(f"This is not a readable .npy file; it may be truncated ({type(e).__name__}).") from None
    if not isinstance(a, np.ndarray):
        raise InputError("This .npy file does not hold one array (an .npz archive is not supported).")
    if a.dtype.names or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) or np.iscomplexobj(a):
        raise InputError(f"The .npy array has type {a.dtype}; it must hold real numbers (float or int).")
    if a.ndim != 2:
        raise InputError(f"The .npy array has shape {a.shape}; it must be a table shaped (rows, columns), "
                         "that is 2-D.")
    return Table(a.astype(np.float32), [f"c{j}" for j in range(a.shape[1])])


def _read_delimited(text: str, name: str, max_rows: int) -> Table:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if name.lower().endswith(".tsv") or "\t" in first:
        delim = "\t"
    elif ";" in first and "," not in first:
        delim = ";"
    else:
        delim = ","
    rows: list[list[str]] = []
    lines: list[int] = []
    csv.field_size_limit(MAX_CELL_CHARS)   # Python's default allows 131,072-character cells
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue  # blank line
            rows.append(row)
            lines.append(reader.line_num)
            if len(rows) > max_rows + 1:
                raise InputError(f"The table has more than {max_rows:,} rows; the limit is {max_rows:,}. "
                                 "Upload a sample of it.")
    except csv.Error as e:
        if "field larger than field limit" in str(e):
            raise InputError(f"Line {reader.line_num} has a cell longer than {MAX_CELL_CHARS:,} characters; labels "
                             "and text cells must be shorter.") from None
        raise InputError(f"The table could not be read as {'TSV' if delim == chr(9) else 'CSV'} near line "
                         f"{reader.line_num} ({e}).") from None
    if not rows:
        raise InputError("The table file has no rows.")
    width = len(rows[0])
    for r, ln in zip(rows, lines):
        if len(r) != width:
            raise InputError(f"Line {ln} has {len(r)} cells but the first line has {width}: every row must have "
                             "the same number of columns.")
    # A header: the first row has a non-number where the second row has a number, or is all text.
    first_nums = [_is_number(c) for c in rows[0]]
    header = False
    if len(rows) > 1:
        second_nums = [_is_number(c) for c in rows[1]]
        header = any(not a and b for a, b in zip(first_nums, second_nums)) or not any(first_nums)
    names = [c.strip() or f"column {j + 1}" for j, c in enumerate(rows[0])] if header else \
        [f"column {j + 1}" for j in range(width)]
    body, body_lines = (rows[1:], lines[1:]) if header else (rows, lines)
    if len(body) > max_rows:
        raise InputError(f"The table has {len(body):,} rows; the limit is {max_rows:,}. Upload a sample of it.")
    if not body:
        raise InputError("The table has a header but no data rows.")
    # Text columns: non-numbers in the first data row. The label column: a column named like a label, else the
    # first text column.
    text_cols = [j for j, c in enumerate(body[0]) if not _is_number(c)]
    named = [j for j, n in enumerate(names) if n.lower() in LABEL_NAMES]
    label_col = named[0] if named else (text_cols[0] if text_cols else None)
    skip = set(text_cols) | ({label_col} if label_col is not None else set())
    num_cols = [j for j in range(width) if j not in skip]
    if not num_cols:
        raise InputError("The table has no numeric columns to embed (every column holds text).")
    x = np.empty((len(body), len(num_cols)), np.float32)
    for i, row in enumerate(body):
        try:
            x[i] = [_num(row[j]) for j in num_cols]
        except ValueError:
            for j in num_cols:
                if not _is_number(row[j]):
                    raise InputError(f"Line {body_lines[i]}, column {names[j]!r}: {row[j].strip()[:30]!r} is not a "
                                     "number (only the label column may hold text).") from None
    # Text cells stay Python strings (object arrays): a fixed-width numpy string array costs rows x the longest
    # cell x 4 bytes, so one 20,000-character cell in 20,000 rows would ask for 1.6 GB.
    labels = np.array([row[label_col].strip() for row in body], dtype=object) if label_col is not None else None
    text = {names[j]: [row[j].strip() for row in body] for j in text_cols}
    t = Table(x, [names[j] for j in num_cols], labels, names[label_col] if label_col is not None else None, text)
    t.notes.append(f"Read {len(body):,} rows and {len(num_cols)} numeric columns"
                   + (" (first line: header)" if header else " (no header line)")
                   + (f"; labels from column {names[label_col]!r}" if label_col is not None else "") + ".")
    t._lines = body_lines  # type: ignore[attr-defined]  (file line numbers, for messages)
    return t


def _validate(t: Table, drop_missing: bool, max_rows: int, max_columns: int) -> Table:
    x = t.x
    lines = getattr(t, "_lines", None)
    where = (lambda i: f"line {lines[i]}") if lines else (lambda i: f"row {i}")
    if len(x) > max_rows:
        raise InputError(f"The table has {len(x):,} rows; the limit is {max_rows:,}. Upload a sample of it.")
    if x.shape[1] > max_columns:
        raise InputError(f"The table has {x.shape[1]:,} numeric columns; the limit is {max_columns:,}.")
    if x.shape[1] < 2:
        raise InputError(f"The table has only {x.shape[1]} numeric column; an embedding needs at least 2.")
    bad = np.isinf(x)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(f"{where(i).capitalize()}, column {t.columns[j]!r} is infinite ({x[i, j]}); replace it "
                         "with a finite number or remove the row.")
    missing = np.isnan(x).any(1)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        j = int(np.flatnonzero(np.isnan(x[i]))[0])
        if not drop_missing:
            raise InputError(f"{int(missing.sum()):,} rows have missing values (NaN or empty cells), the first at "
                             f"{where(i)}, column {t.columns[j]!r}. Choose 'drop rows with missing values' to "
                             "leave them out, or fill them in.")
        keep = ~missing
        t.x = x = x[keep]
        if t.labels is not None:
            t.labels = t.labels[keep]
        t.text = {k: [v for v, m in zip(vs, keep) if m] for k, vs in t.text.items()}
        t.notes.append(f"Dropped {int(missing.sum()):,} rows with missing values (the first at {where(i)}).")
    if len(x) < MIN_ROWS:
        raise InputError(f"The table has {len(x)} usable row{'s' if len(x) != 1 else ''}; an embedding needs at "
                         f"least {MIN_ROWS}.")
    distinct = len(np.unique(x, axis=0))
    if distinct < 3:
        raise InputError(f"The table's {len(x):,} rows are only {distinct} distinct point"
                         f"{'s' if distinct != 1 else ''} (duplicates); an embedding needs at least 3.")
    if distinct < len(x):
        t.notes.append(f"{len(x) - distinct:,} rows duplicate other rows; they will land on the same spot.")
    return t
