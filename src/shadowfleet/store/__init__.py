"""The store: Parquet by UTC day plus an embedded DuckDB catalog (no server)."""

from shadowfleet.store.schema import TABLES, conform, empty
from shadowfleet.store.store import DEDUPE_WINDOW_S, Store, dedupe_reports

__all__ = ["Store", "TABLES", "conform", "empty", "dedupe_reports", "DEDUPE_WINDOW_S"]
