"""The store: Parquet part files (by UTC day for AIS) plus a SQLite catalog of what they hold (no server)."""

from shadowfleet.store.schema import SPECS, TABLES, UTC_TS, conform, empty, register, spec
from shadowfleet.store.store import (
    DEDUPE_WINDOW_S, AlreadyIngested, Store, Transaction, dedupe_reports, mark_first_copies,
)

__all__ = ["Store", "Transaction", "AlreadyIngested", "SPECS", "TABLES", "UTC_TS", "conform", "empty", "register",
           "spec", "dedupe_reports", "mark_first_copies", "DEDUPE_WINDOW_S"]
