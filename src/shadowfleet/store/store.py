"""A store is a directory: Parquet partitioned by UTC day, plus an embedded DuckDB catalog.

Layout::

    STORE/positions/day=2024-03-07/part-<batch>.parquet   (also static, base_stations, aids, rejects)
    STORE/events/part-0.parquet                            (derived tables, replaced whole)
    STORE/catalog.duckdb                                   (ingest log, list versions)

Anyone can open it with DuckDB, Polars or pandas. Every file is written under a temporary name and renamed into
place, so a killed writer never leaves a half-written partition visible. Batches are named by the caller
(ingest uses ``<file sha256>-<batch number>``), so writing a batch again replaces it: re-running an interrupted
ingest is idempotent.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path
from typing import Iterable

import duckdb
import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.store import catalog
from shadowfleet.store.schema import DAY_PARTITIONED, TABLES, conform, empty

# Reports with the same content received within this window are one transmission heard by several receivers.
# Below 60 s because a position report carries its UTC second, so a real repeat has an identical payload only
# a whole minute later (ITU-R M.1371-5, message 1 field "time stamp").
DEDUPE_WINDOW_S = 30

UNKNOWN_DAY = "unknown"


class Store:
    def __init__(self, root: str | Path, create: bool = True):
        self.root = Path(root)
        if not self.root.exists():
            if not create:
                raise ShadowfleetError(f"store not found: {self.root}")
            self.root.mkdir(parents=True)
        elif not self.root.is_dir():
            raise ShadowfleetError(f"store path is not a directory: {self.root}")
        elif not create and not (self.root / catalog.CATALOG_FILE).exists():
            raise ShadowfleetError(f"not a shadowfleet store (no {catalog.CATALOG_FILE}): {self.root}")
        if create:
            with catalog.connect(self.root):
                pass

    # ---- writing -------------------------------------------------------------------------------------------
    def append(self, table: str, df: pl.DataFrame, batch: str | None = None) -> int:
        """Add rows to a day-partitioned table as one batch; returns rows written."""
        if table not in DAY_PARTITIONED:
            raise ValueError(f"{table} is not an appendable table")
        if df.height == 0:
            return 0
        df = conform(df, table)
        batch = batch or uuid.uuid4().hex
        # a date per row is an integer cast; formatting it as text happens once per day, not per row
        df = df.with_columns(pl.col("ts").dt.date().alias("__day"))
        for (d,), part in df.group_by("__day"):
            name = d.isoformat() if d is not None else UNKNOWN_DAY
            _atomic_write(part.drop("__day"), self.root / table / f"day={name}" / f"part-{batch}.parquet")
        return df.height

    def replace(self, table: str, df: pl.DataFrame) -> None:
        """Replace a derived table whole (e.g. events after `detect`)."""
        if table in DAY_PARTITIONED:
            raise ValueError(f"{table} is appended by ingest, not replaced")
        df = conform(df, table)
        final = self.root / table
        tmp = self.root / f".tmp-{table}-{uuid.uuid4().hex}"
        tmp.mkdir()
        df.write_parquet(tmp / "part-0.parquet")
        old = None
        if final.exists():
            old = self.root / f".old-{table}-{uuid.uuid4().hex}"
            final.rename(old)
        tmp.rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    # ---- reading -------------------------------------------------------------------------------------------
    def files(self, table: str, start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[Path]:
        base = self.root / table
        if not base.is_dir():
            return []
        if table not in DAY_PARTITIONED:
            return sorted(base.glob("*.parquet"))
        lo = start.strftime("%Y-%m-%d") if start else None
        hi = end.strftime("%Y-%m-%d") if end else None
        out = []
        for d in sorted(base.glob("day=*")):
            day = d.name[4:]
            if day != UNKNOWN_DAY and ((lo and day < lo) or (hi and day > hi)):
                continue
            out.extend(sorted(d.glob("*.parquet")))
        return out

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

    def sql(self, query: str) -> pl.DataFrame:
        """Run SQL with every table available as a view of the same name (raw, not deduplicated)."""
        with self.connect(read_only=True) as con:
            return con.execute(query).pl()

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        con = catalog.connect(self.root, read_only=read_only)
        for table in TABLES:
            files = self.files(table)
            if files:
                listing = ", ".join(f"'{f.as_posix()}'" for f in files)
                con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM read_parquet([{listing}], union_by_name=true)")
        return con

    # ---- ingest bookkeeping --------------------------------------------------------------------------------
    def ingested(self, sha256: str) -> bool:
        with catalog.connect(self.root) as con:
            return con.execute("SELECT 1 FROM ingest_log WHERE sha256 = ?", [sha256]).fetchone() is not None

    def log_ingest(self, sha256: str, path: str, source: str, fmt: str, accepted: int, rejected: int) -> None:
        with catalog.connect(self.root) as con:
            con.execute(
                "INSERT OR REPLACE INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?)",
                [sha256, path, source, fmt, catalog.now(), accepted, rejected],
            )

    def ingest_log(self) -> pl.DataFrame:
        with catalog.connect(self.root) as con:
            return con.execute("SELECT * FROM ingest_log ORDER BY ingested_at").pl()


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
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    df.write_parquet(tmp)
    os.replace(tmp, target)
