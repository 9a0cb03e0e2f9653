"""The embedded DuckDB catalog beside the Parquet files: what was ingested, and SQL views over every table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from shadowfleet.errors import ShadowfleetError

CATALOG_FILE = "catalog.duckdb"

_INIT = """
CREATE TABLE IF NOT EXISTS ingest_log (
    sha256 VARCHAR PRIMARY KEY,
    path VARCHAR,
    source VARCHAR,
    format VARCHAR,
    ingested_at TIMESTAMPTZ,
    accepted BIGINT,
    rejected BIGINT
);
CREATE TABLE IF NOT EXISTS lists (
    list_id VARCHAR PRIMARY KEY,
    kind VARCHAR,
    path VARCHAR,
    sha256 VARCHAR,
    version_date VARCHAR,
    loaded_at TIMESTAMPTZ,
    entries BIGINT
);
"""


def connect(root: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = root / CATALOG_FILE
    if read_only and not path.exists():
        con = duckdb.connect(":memory:")
    else:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            # overwritten or truncated file, or another process holding the lock: the user's to fix, one line
            why = (str(exc).strip().splitlines() or ["IO error"])[0]
            raise ShadowfleetError(f"store catalog {path} cannot be opened: {why}") from None
        if not read_only:
            con.execute(_INIT)
    return con


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
