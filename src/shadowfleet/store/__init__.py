"""The store: Parquet by UTC day plus an embedded DuckDB catalog (no server)."""

from shadowfleet.store.schema import TABLES, conform, empty
from shadowfleet.store.store import DEDUPE_WINDOW_S, Store, dedupe_reports, mark_first_copies

__all__ = ["Store", "TABLES", "conform", "empty", "dedupe_reports", "mark_first_copies", "DEDUPE_WINDOW_S"]
