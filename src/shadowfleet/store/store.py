"""A store is a directory: Parquet part files (by UTC day for AIS) plus a SQLite catalog that says which files
make up each table.

Layout::

    STORE/positions/day=2024-03-07/part-<writer>-<n>.parquet   (every appended table by UTC day)
    STORE/events/part-<writer>-<n>.parquet                    (derived tables)
    STORE/catalog.sqlite                                      (parts, ingest log, list versions)

Guarantees (tests/store/test_store_guarantees.py kills and races real processes against them):

* A commit is atomic across tables: a ``transaction()`` (one ingested file: its positions, static, rejects and
  its ingest-log row; one ``lists load``: its entries and its catalog rows) becomes visible whole or not at all.
* Readers see whole versions: a table is the set of part files the catalog lists, read in one SQLite read;
  ``snapshot()`` pins every table at once. Files are never modified after they are listed; files a replace
  dropped are deleted only ``TRASH_RETENTION_S`` later.
* Writers never lose or double each other's rows: part files have names unique to their writer, and commits
  are serialised by the catalog; replacing by key (list versions) touches only those keys.
* A crash at any instant loses nothing committed and leaves nothing to clean by hand: files of a writer that
  died before committing are removed at the next open (a writer holds an flock while alive).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import sqlite3
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Callable, Iterable, Iterator

import duckdb
import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.store import catalog
from shadowfleet.store.schema import SPECS, TABLES, conform, empty, spec

# Reports with the same content received within this window are one transmission heard by several receivers.
# Below 60 s because a position report carries its UTC second, so a real repeat has an identical payload only
# a whole minute later (ITU-R M.1371-5, message 1 field "time stamp").
DEDUPE_WINDOW_S = 30

# ours: a file a replace dropped stays this long for readers that listed it before (a detect or report run)
TRASH_RETENTION_S = 3600.0

UNKNOWN_DAY = "unknown"
_WRITERS = ".writers"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


class AlreadyIngested(ShadowfleetError):
    """Another process committed the same file first; this one's rows were discarded."""


class Store:
    def __init__(self, root: str | Path, create: bool = True, on_wait: Callable[[Path], None] | None = None,
                 trash_retention_s: float = TRASH_RETENTION_S):
        self.root = Path(root)
        self.on_wait = on_wait
        self.trash_retention_s = trash_retention_s
        self._pinned: dict | None = None
        self._writer: _WriterLock | _Borrowed | None = None
        if not self.root.exists():
            if not create:
                raise ShadowfleetError(f"store not found: {self.root}")
            self.root.mkdir(parents=True)
        elif not self.root.is_dir():
            raise ShadowfleetError(f"store path is not a directory: {self.root}")
        if not (self.root / catalog.CATALOG_FILE).exists() and (self.root / catalog.LEGACY_CATALOG_FILE).exists():
            raise ShadowfleetError(
                f"store {self.root} was written by shadowfleet 0.1 ({catalog.LEGACY_CATALOG_FILE}); "
                "ingest its source files into a new store")
        # one connection per store object: closing the last connection to a WAL database checkpoints it, which
        # would cost milliseconds per commit
        self._con = catalog.connect(self.root, create=create)
        self._con_pid = os.getpid()
        self._con_lock = threading.RLock()
        self._recover()

    def __reduce__(self):
        # sent to another process (a Dask worker), a store writes under this one's writer id: what the worker
        # stages stays protected by this process's lock until this process commits it (or dies)
        return (_borrowing, (self.root, self.trash_retention_s, self._writer_id()))

    # ---- writing -------------------------------------------------------------------------------------------
    def transaction(self) -> "Transaction":
        """``with store.transaction() as tx: tx.append(...); tx.replace(...)``: everything commits at once."""
        return Transaction(self)

    def append(self, table: str, df: pl.DataFrame, batch: str | None = None) -> int:
        """Add rows to an append-only table as one commit; returns rows written. Appending a batch name again
        replaces that batch (a retried task cannot double its rows)."""
        with self.transaction() as tx:
            return tx.append(table, df, batch)

    def replace(self, table: str, df: pl.DataFrame, keys: Iterable[str] | None = None) -> None:
        """Replace a derived table whole (e.g. events after `detect`), or only the rows of ``keys`` of a table
        partitioned by a key column (list_entries by list_id)."""
        with self.transaction() as tx:
            tx.replace(table, df, keys)

    # ---- reading -------------------------------------------------------------------------------------------
    def snapshot(self) -> "Store":
        """A view of the store pinned at this instant: every table (and the ingest log and list catalog) read
        from one catalog version, whatever is committed meanwhile. Writes through it commit normally."""
        snap = object.__new__(Store)
        snap.__dict__.update(self.__dict__)
        snap._pinned = self._read_catalog()
        return snap

    def files(self, table: str, start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[Path]:
        parts = self._parts(table)
        for p, _ in parts:
            if not _inside(p):  # a catalog received from elsewhere is data like any other
                raise ShadowfleetError(f"store catalog of {self.root} names a file outside the store: {p!r}")
        if spec(table).partition == "day":
            lo = start.strftime("%Y-%m-%d") if start else None
            hi = end.strftime("%Y-%m-%d") if end else None
            parts = [(p, k) for p, k in parts if k == UNKNOWN_DAY or not ((lo and k < lo) or (hi and k > hi))]
        return [self.root / p for p, _ in sorted(parts)]

    def tables(self) -> list[str]:
        """Every registered table and every other table written to this store."""
        listed = {t for t in self._catalog_snapshot()["parts"]}
        return list(SPECS) + sorted(listed - set(SPECS))

    def scan(self, table: str, start=None, end=None) -> pl.LazyFrame:
        """A lazy frame over a table's files (raw: duplicates across batches not merged)."""
        files = self.files(table, start, end)
        if not files:
            return empty(table).lazy()
        _check_readable(files, table)
        lf = pl.scan_parquet([str(f) for f in files])
        if start is not None and "ts" in TABLES.get(table, {}):
            lf = lf.filter(pl.col("ts") >= _utc(start))
        if end is not None and "ts" in TABLES.get(table, {}):
            lf = lf.filter(pl.col("ts") <= _utc(end))
        return lf

    def read(
        self,
        table: str,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        mmsi: int | Iterable[int] | None = None,
        columns: list[str] | None = None,
        dedupe: bool = True,
    ) -> pl.DataFrame:
        """Rows of a table, optionally by time window and MMSI, with multi-receiver duplicates merged."""
        lf = self.scan(table, start, end)
        if mmsi is not None:
            ids = [mmsi] if isinstance(mmsi, int) else list(mmsi)
            lf = lf.filter(pl.col("mmsi").is_in(ids))
        df = lf.collect()
        if dedupe and "dup_key" in df.columns:
            df = dedupe_reports(df)
        if "ts" in df.columns and "mmsi" in df.columns:
            df = df.sort(["mmsi", "ts"])
        if columns:
            df = df.select(columns)
        return df

    def sql(self, query: str, params: list | None = None) -> pl.DataFrame:
        """Run SQL with every table (and ``ingest_log``, ``lists``) as a view of the same name (raw, not
        deduplicated), all from one snapshot."""
        with self.connect() as con:
            return con.execute(query, params).pl() if params is not None else con.execute(query).pl()

    def connect(self, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with every table as a view over its committed files (one snapshot).
        It holds no lock on the store: keep it open as long as you like."""
        snap = self if self._pinned is not None else self.snapshot()
        con = duckdb.connect(":memory:")
        for table in snap.tables():
            if not _NAME.fullmatch(table):
                continue
            files = [str(f) for f in snap.files(table)]
            if files:
                # the file list is passed as a value, never pasted into SQL text
                con.read_parquet(files, union_by_name=True).create_view(table)
            else:
                con.register(f"__empty_{table}", empty(table).to_arrow())
                con.table(f"__empty_{table}").create_view(table)
        for name in ("ingest_log", "lists"):
            con.register(f"__{name}", snap._pinned[name].to_arrow())
            con.table(f"__{name}").create_view(name)
        return con

    # ---- ingest bookkeeping --------------------------------------------------------------------------------
    def ingested(self, sha256: str) -> bool:
        if self._pinned is not None:
            return sha256 in set(self._pinned["ingest_log"]["sha256"].to_list())
        with self._catalog() as con:
            return con.execute("SELECT 1 FROM ingest_log WHERE sha256 = ?", [sha256]).fetchone() is not None

    def log_ingest(self, sha256: str, path: str, source: str, fmt: str, accepted: int, rejected: int) -> None:
        with self.transaction() as tx:
            tx.log_ingest(sha256, path, source, fmt, accepted, rejected)

    def ingest_log(self) -> pl.DataFrame:
        return self._catalog_snapshot()["ingest_log"]

    def lists(self) -> pl.DataFrame:
        """The catalog's list versions: list_id, kind, path, sha256, version_date, loaded_at, entries."""
        return self._catalog_snapshot()["lists"]

    # ---- internals -----------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _catalog(self) -> Iterator[sqlite3.Connection]:
        with self._con_lock:
            if self._con_pid != os.getpid():  # a forked child must not use its parent's connection
                self._con, self._con_pid = catalog.connect(self.root), os.getpid()
            yield self._con

    def _catalog_snapshot(self) -> dict:
        return self._pinned or self._read_catalog()

    def _parts(self, table: str) -> list[tuple[str, str | None]]:
        if self._pinned is not None:
            return self._pinned["parts"].get(table, [])
        with self._catalog() as con:
            try:
                return con.execute("SELECT path, part_key FROM parts WHERE tbl = ?", [table]).fetchall()
            except sqlite3.Error as exc:
                raise catalog.catalog_error(self.root, exc) from None

    def _read_catalog(self) -> dict:
        with self._catalog() as con:
            try:
                con.execute("BEGIN")  # one read transaction: parts and catalog rows of the same version
                parts: dict[str, list] = {}
                for tbl, path, key in con.execute("SELECT tbl, path, part_key FROM parts"):
                    parts.setdefault(tbl, []).append((path, key))
                log = _frame(con, "SELECT * FROM ingest_log ORDER BY ingested_at, sha256", _LOG_SCHEMA,
                             "ingested_at")
                lists = _frame(con, "SELECT * FROM lists ORDER BY list_id", _LISTS_SCHEMA, "loaded_at")
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise catalog.catalog_error(self.root, exc) from None
        return {"parts": parts, "ingest_log": log, "lists": lists}

    def _writer_id(self) -> str:
        if self._writer is None:
            self._writer = _WriterLock(self.root)
        return self._writer.wid

    def _staged(self, n: int) -> None:
        if isinstance(self._writer, _WriterLock):
            self._writer.staged[0] += n

    def _part_path(self, table: str, key: str | None) -> str:
        name = f"part-{self._writer_id()}-{uuid.uuid4().hex[:12]}.parquet"
        return f"{table}/day={key}/{name}" if spec(table).partition == "day" else f"{table}/{name}"

    def _recover(self) -> None:
        """Remove what dead writers left (uncommitted part files, temporary files) and trash past retention."""
        try:
            dead = _dead_writers(self.root)
            with self._catalog() as con:
                if dead:
                    listed = {p for (p,) in con.execute("SELECT path FROM parts")}
                    for wid, lock in dead:
                        for f in self.root.glob(f"*/**/*{wid}*"):
                            rel = f.relative_to(self.root).as_posix()
                            if f.is_file() and rel not in listed and (f.name.startswith((f"part-{wid}-", f".part-{wid}-"))):
                                f.unlink(missing_ok=True)
                        lock.release(unlink=True)
                self._collect_trash(con)
        except OSError:
            pass  # a store on read-only media: nothing to clean, and nothing can be written anyway

    def _collect_trash(self, con: sqlite3.Connection) -> None:
        cutoff = time.time() - self.trash_retention_s
        old = [p for (p,) in con.execute("SELECT path FROM trash WHERE dropped_at <= ?", [cutoff])]
        if not old:
            return
        for p in old:
            (self.root / p).unlink(missing_ok=True)
        with catalog.write_transaction(con, self.root, self.on_wait):
            con.executemany("DELETE FROM trash WHERE path = ?", [(p,) for p in old])


class Transaction:
    """Writes staged as part files invisible to readers, committed in one catalog transaction on exit (or
    removed if the block raises). Not shared between threads."""

    def __init__(self, store: Store):
        self.store = store
        self._added: list[tuple[str, str, str | None, str | None, int]] = []  # table, path, key, batch, rows
        self._drop: list[tuple[str, list | None]] = []  # (table, keys or None = all)
        self._batches: list[tuple[str, str]] = []
        self._statements: list[tuple[str, list]] = []
        self._ingest_sha: str | None = None

    def __enter__(self) -> "Transaction":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None:
            self.discard()
            return
        self.commit()

    # the same reading methods as the store, so a stage can be handed a transaction where it expects a store
    def ingested(self, sha256: str) -> bool:
        return self.store.ingested(sha256)

    @property
    def root(self) -> Path:
        return self.store.root

    def append(self, table: str, df: pl.DataFrame, batch: str | None = None) -> int:
        s = _checked(table)
        if s.write != "append":
            raise ValueError(f"{table} is replaced by the stage that derives it, not appended")
        if df.height == 0:
            return 0
        df = conform(df, table)
        if batch is not None:
            self._batches.append((table, batch))
        if s.partition == "day":
            # a date per row is an integer cast; formatting it as text happens once per day, not per row
            df = df.with_columns(pl.col("ts").dt.date().alias("__day"))
            for (d,), part in df.group_by("__day"):
                self._write(table, part.drop("__day"), d.isoformat() if d is not None else UNKNOWN_DAY, batch)
        else:
            self._write(table, df, None, batch)
        return df.height

    def replace(self, table: str, df: pl.DataFrame, keys: Iterable[str] | None = None) -> None:
        s = _checked(table)
        if s.write == "append":
            raise ValueError(f"{table} is appended, not replaced")
        df = conform(df, table)
        if s.partition is None:
            self._drop.append((table, None))
            self._write(table, df, None, None)  # always a file, so "derived but empty" differs from "never run"
            return
        col = df[s.partition].cast(pl.Utf8)
        present = set(col.drop_nulls().unique().to_list())
        if col.null_count() or (keys is not None and not present <= {str(k) for k in keys}):
            raise ValueError(f"{table}: rows whose {s.partition} is not among the keys replaced")
        # without keys the whole table is replaced, by the keys its new rows hold
        self._drop.append((table, None if keys is None else [str(k) for k in keys]))
        for k in sorted(present) if keys is None else [str(k) for k in keys]:
            self._write(table, df.filter(col == k), k, None)

    def absorb(self, other: "Transaction") -> None:
        """Take over what another transaction of this store staged (a Dask worker's part of a derived table), so
        that it commits with this one: one commit for the parts every worker wrote."""
        self._added += other._added
        self._drop += other._drop
        self._batches += other._batches
        self._statements += other._statements
        other._added, other._drop, other._batches, other._statements = [], [], [], []

    def log_ingest(self, sha256: str, path: str, source: str, fmt: str, accepted: int, rejected: int) -> None:
        self._ingest_sha = sha256
        self._statements.append(("INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 [sha256, path, source, fmt, catalog.now(), accepted, rejected]))

    def execute(self, statement: str, params: list) -> None:
        """A catalog statement committed with the rest (e.g. the `lists` row of a list version)."""
        self._statements.append((statement, params))

    def commit(self) -> None:
        st = self.store
        with st._catalog() as con:
            self._commit(st, con)

    def _commit(self, st: Store, con: sqlite3.Connection) -> None:
        try:
            with catalog.write_transaction(con, st.root, st.on_wait):
                if self._ingest_sha is not None and con.execute(
                        "SELECT 1 FROM ingest_log WHERE sha256 = ?", [self._ingest_sha]).fetchone():
                    raise AlreadyIngested(f"file {self._ingest_sha[:16]}… was committed by another process")
                dropped: list[str] = []
                for table, keys in self._drop:
                    if keys is None:
                        q, a = "SELECT path FROM parts WHERE tbl = ?", [table]
                    else:
                        q = f"SELECT path FROM parts WHERE tbl = ? AND part_key IN ({','.join('?' * len(keys))})"
                        a = [table, *keys]
                    dropped += [p for (p,) in con.execute(q, a)]
                for table, batch in self._batches:
                    dropped += [p for (p,) in con.execute(
                        "SELECT path FROM parts WHERE tbl = ? AND batch = ?", [table, batch])]
                now = time.time()
                con.executemany("DELETE FROM parts WHERE path = ?", [(p,) for p in dropped])
                con.executemany("INSERT OR REPLACE INTO trash VALUES (?, ?)", [(p, now) for p in dropped])
                stamp = catalog.now()
                con.executemany("INSERT INTO parts VALUES (?, ?, ?, ?, ?, ?)",
                                [(p, t, k, b, n, stamp) for t, p, k, b, n in self._added])
                for statement, params in self._statements:
                    con.execute(statement, params)
            st._staged(-len(self._added))
            self._added = []
            if dropped:
                st._collect_trash(con)
        except BaseException:
            self.discard()
            raise

    def _write(self, table: str, df: pl.DataFrame, key: str | None, batch: str | None) -> None:
        rel = self.store._part_path(table, key)
        self.store._staged(1)
        self._added.append((table, rel, key, batch, df.height))
        _atomic_write(df, self.store.root / rel)

    def discard(self) -> None:
        """Remove what was staged (nothing was visible)."""
        for _, rel, *_ in self._added:
            (self.store.root / rel).unlink(missing_ok=True)
        self.store._staged(-len(self._added))
        self._added = []


def _borrowing(root: Path, trash_retention_s: float, wid: str) -> Store:
    st = Store(root, create=False, trash_retention_s=trash_retention_s)
    st._writer = _Borrowed(wid)
    return st


class _Borrowed:
    """Another process's writer id, whose lock that process holds."""

    def __init__(self, wid: str):
        self.wid = wid


class _WriterLock:
    """An flock held while this writer lives: its part files not yet committed belong to a live process."""

    def __init__(self, root: Path):
        self.wid = uuid.uuid4().hex[:16]
        d = root / _WRITERS
        d.mkdir(exist_ok=True)
        self.path = d / f"{self.wid}.lock"
        while True:  # a cleaner may take and remove the new file before we lock it: then lock a new one
            self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                if os.stat(self.path).st_ino == os.fstat(self.fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(self.fd)
        self.staged = [0]  # part files written and not yet committed or removed
        # at exit with nothing staged the lock file goes too, so the next open has no dead writer to look for
        weakref.finalize(self, _release, self.path, self.fd, self.staged)

    @classmethod
    def try_dead(cls, path: Path) -> "_WriterLock | None":
        """The lock of a writer that is gone, now held by us; None while its writer lives."""
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        lock = object.__new__(cls)
        lock.wid, lock.path, lock.fd = path.stem, path, fd
        return lock

    def release(self, unlink: bool = False) -> None:
        if unlink:
            self.path.unlink(missing_ok=True)
        os.close(self.fd)


def _release(path: Path, fd: int, staged: list[int]) -> None:
    if staged[0] == 0:
        path.unlink(missing_ok=True)
    os.close(fd)


def _dead_writers(root: Path) -> list[tuple[str, _WriterLock]]:
    d = root / _WRITERS
    if not d.is_dir():
        return []
    out = []
    for p in d.glob("*.lock"):
        lock = _WriterLock.try_dead(p)
        if lock is not None:
            out.append((lock.wid, lock))
    return out


_LOG_SCHEMA = {"sha256": pl.Utf8, "path": pl.Utf8, "source": pl.Utf8, "format": pl.Utf8,
               "ingested_at": pl.Utf8, "accepted": pl.Int64, "rejected": pl.Int64}
_LISTS_SCHEMA = {"list_id": pl.Utf8, "kind": pl.Utf8, "path": pl.Utf8, "sha256": pl.Utf8,
                 "version_date": pl.Utf8, "loaded_at": pl.Utf8, "entries": pl.Int64}


def _frame(con: sqlite3.Connection, query: str, schema: dict, time_col: str) -> pl.DataFrame:
    rows = con.execute(query).fetchall()
    df = pl.DataFrame(rows, schema=schema, orient="row")
    return df.with_columns(pl.col(time_col).str.to_datetime(time_unit="us", time_zone="UTC"))


def _inside(rel: str) -> bool:
    return not rel.startswith(("/", "\\")) and ".." not in rel.replace("\\", "/").split("/")


def _checked(table: str):
    if not _NAME.fullmatch(table):
        raise ValueError(f"table names are lower-case letters, digits and _: {table!r}")
    return spec(table)


def mark_first_copies(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """Sort by (dup_key, ts) and add Boolean ``first_copy``: the rule that says which rows are one transmission.

    Copies share ``dup_key`` (the report's content) and arrive within DEDUPE_WINDOW_S of the previous copy. A count
    or time span needs only this mark (one sort, no group-by over every column); ``dedupe_reports`` merges on it.
    """
    window = dt.timedelta(seconds=DEDUPE_WINDOW_S)
    first = (
        (pl.col("dup_key") != pl.col("dup_key").shift(1))
        | pl.col("dup_key").is_null()
        | ((pl.col("ts") - pl.col("ts").shift(1)) > window)
        | pl.col("ts").is_null()
    ).fill_null(True)
    return frame.sort(["dup_key", "ts"], nulls_last=True).with_columns(first.alias("first_copy"))


def dedupe_reports(df: pl.DataFrame) -> pl.DataFrame:
    """Merge copies of one transmission heard by several receivers into one row (n_receivers summed)."""
    if df.height == 0:
        return df
    columns = df.columns
    df = mark_first_copies(df).with_columns(pl.col("first_copy").cum_sum().alias("__grp")).drop("first_copy")
    others = [c for c in columns if c != "n_receivers"]
    merged = df.group_by("__grp", maintain_order=True).agg(
        [pl.col(c).first() for c in others] + [pl.col("n_receivers").fill_null(1).sum().cast(pl.Int32)]
    )
    return merged.select(columns)


def _check_readable(files: list[Path], table: str) -> None:
    """A damaged part file (truncated, overwritten) or one of another table is named to the user instead of
    failing deep in a query.

    Reads only each file's footer, so the cost is one small read per file."""
    expected = set(TABLES.get(table, {}))
    for f in files:
        if not f.is_file():
            raise ShadowfleetError(f"store file {f} of table {table} is missing (deleted by hand, or a snapshot "
                                   f"older than {TRASH_RETENTION_S:.0f} s); re-open the store")
        try:
            columns = set(pl.read_parquet_schema(f))
        except (pl.exceptions.PolarsError, OSError) as exc:
            why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ShadowfleetError(
                f"damaged store file {f} ({why}); delete it and re-run the command that wrote it"
            ) from None
        # ours: more than half the columns missing is a foreign file, not a store written before a column was added
        if expected and len(expected - columns) * 2 > len(expected):
            raise ShadowfleetError(
                f"store file {f} does not hold table {table} (has {', '.join(sorted(columns)[:8])}); remove it"
            )


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _atomic_write(df: pl.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        df.write_parquet(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
