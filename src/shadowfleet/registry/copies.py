"""Counting transmissions rather than receiver copies, without materialising the merged rows.

Same rule as store.dedupe_reports (same dup_key within DEDUPE_WINDOW_S is one transmission), but it only marks
the first copy of each transmission, which is all a count or a time span needs: one sort, no group-by over every
column (4 s -> under 1 s on 2M positions here).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from shadowfleet.store import DEDUPE_WINDOW_S


def mark_first_copies(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Adds Boolean `first_copy`; needs columns dup_key and ts."""
    window = dt.timedelta(seconds=DEDUPE_WINDOW_S)
    first = (
        (pl.col("dup_key") != pl.col("dup_key").shift(1))
        | pl.col("dup_key").is_null()
        | ((pl.col("ts") - pl.col("ts").shift(1)) > window)
        | pl.col("ts").is_null()
    ).fill_null(True)
    return lf.sort(["dup_key", "ts"], nulls_last=True).with_columns(first.alias("first_copy"))
