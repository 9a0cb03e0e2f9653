"""The catalog beside the Parquet files: which part files make up each table, what was ingested, which list
versions are loaded. It is a SQLite database in WAL mode (Python's own sqlite3, no server): its transactions are
what make the store's commits atomic across tables, let any number of processes read while one commits, and
serialise committers for the milliseconds a commit takes.

A table's rows are exactly the part files the ``parts`` table lists; a file not listed there is invisible (a
write in progress, or one a killed process left, removed at the next open). Files a commit replaced move to
``trash`` and are deleted once no reader can still be using them (``TRASH_RETENTION_S``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import sys
from pathlib import Path
from typing import Callable, Iterator

from shadowfleet.errors import ShadowfleetError

CATALOG_FILE = "catalog.sqlite"
LEGACY_CATALOG_FILE = "catalog.duckdb"

# how long a committer waits quietly for another one before saying so, and how long at most
QUIET_WAIT_S = 2.0
MAX_WAIT_S = 600.0

_INIT = """
CREATE TABLE IF NOT EXISTS parts (
    path TEXT PRIMARY KEY,       -- relative to the store root, '/'-separated
    tbl TEXT NOT NULL,
    part_key TEXT,               -- the UTC day, or the key column's value, or null
    batch TEXT,                  -- appending a batch name again replaces that batch
    rows INTEGER NOT NULL,
    committed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS parts_by_table ON parts (tbl, part_key);
CREATE TABLE IF NOT EXISTS trash (path TEXT PRIMARY KEY, dropped_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS ingest_log (
    sha256 TEXT PRIMARY KEY,     -- of the file's content (decompressed)
    path TEXT,
    source TEXT,
    format TEXT,
    ingested_at TEXT,
    accepted INTEGER,
    rejected INTEGER
);
CREATE TABLE IF NOT EXISTS lists (
    list_id TEXT PRIMARY KEY,
    kind TEXT,
    path TEXT,
    sha256 TEXT,
    version_date TEXT,
    loaded_at TEXT,
    entries INTEGER
);
"""


def connect(root: Path, create: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit); errors name the real problem in one line."""
    path = root / CATALOG_FILE
    if not create and not path.is_file():
        raise ShadowfleetError(f"not a shadowfleet store (no {CATALOG_FILE}): {root}")
    try:
        con = sqlite3.connect(path, timeout=QUIET_WAIT_S, isolation_level=None, check_same_thread=False)
        if create:
            con.execute("PRAGMA journal_mode=WAL")  # readers never block the committer, nor it them
            with write_transaction(con, root):
                for stmt in _INIT.split(";"):
                    if stmt.strip():
                        con.execute(stmt)
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("SELECT count(*) FROM parts").fetchone()
    except sqlite3.DatabaseError as exc:
        raise catalog_error(root, exc) from None
    return con


def catalog_error(root: Path, exc: sqlite3.Error) -> ShadowfleetError:
    path = root / CATALOG_FILE
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "not a database" in msg or "malformed" in msg:
        why = "is damaged or was overwritten (not a SQLite database); restore it from a backup"
    elif "no such table" in msg:
        why = "is a SQLite database but not a shadowfleet catalog"
    elif "locked" in msg or "busy" in msg:
        why = f"stayed locked by another writer for {MAX_WAIT_S:.0f} s"
    elif "readonly" in msg or "unable to open" in msg:
        why = "cannot be written here (read-only file or folder?)"
    else:
        why = f"cannot be used ({msg})"
    return ShadowfleetError(f"store catalog {path} {why}")


def _say_waiting(root: Path) -> None:
    print(f"waiting: another process is committing to store {root}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def write_transaction(con: sqlite3.Connection, root: Path,
                      on_wait: Callable[[Path], None] | None = None) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT: one committer at a time. A committer kept waiting more than QUIET_WAIT_S says
    so in one line, then waits up to MAX_WAIT_S."""
    try:
        con.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise catalog_error(root, exc) from None
        (on_wait or _say_waiting)(root)
        con.execute(f"PRAGMA busy_timeout={int(MAX_WAIT_S * 1000)}")
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc2:
            raise catalog_error(root, exc2) from None
        finally:
            con.execute(f"PRAGMA busy_timeout={int(QUIET_WAIT_S * 1000)}")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    try:
        con.execute("COMMIT")
    except sqlite3.Error as exc:
        con.execute("ROLLBACK")
        raise catalog_error(root, exc) from None


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
