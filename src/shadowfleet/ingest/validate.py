"""Checks every format shares before rows reach the store (time, MMSI, position), and the merging of the copies of
one transmission heard by several receivers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from shadowfleet.ingest.config import LAT_NA, LON_NA, IngestConfig
from shadowfleet.store import DEDUPE_WINDOW_S

UTC_US = pl.Datetime("us", "UTC")

# every reason a line, sentence, message or row is rejected for (the store's rejects table)
REJECT_REASONS = (
    "bad_checksum",
    "malformed",
    "empty_payload",
    "truncated",
    "orphan_fragment",
    "unsupported_type",
    "invalid_mmsi",
    "position_not_available",
    "position_out_of_range",
    "missing_timestamp",
    "absurd_timestamp",
    "line_too_long",
    "sentence_too_long",
    "too_many_fragments",
    "message_too_long",
    "unclosed_tag_block",
)
FLAGS = ("sog_not_available",)


def validate(table: str, df: pl.DataFrame, cfg: IngestConfig, now: dt.datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    ts = pl.col("ts")
    # Base stations use the 00MIDxxxx form (ITU-R M.585), i.e. below 100000000 as a number.
    lo = 1 if table == "base_stations" else cfg.mmsi_min
    reason = pl.when(ts.is_null()).then(pl.lit("missing_timestamp")).when(
        (ts < cfg.earliest_time) | (ts > now + dt.timedelta(days=cfg.max_future_days))).then(pl.lit("absurd_timestamp")).when(
        pl.col("mmsi").is_null() | ~pl.col("mmsi").is_between(lo, cfg.mmsi_max)).then(pl.lit("invalid_mmsi"))
    if table != "static":
        lat, lon = pl.col("lat"), pl.col("lon")
        reason = reason.when(lat.is_null() | lon.is_null() | (lat == LAT_NA) | (lon == LON_NA)).then(
            pl.lit("position_not_available")).when((lat.abs() > 90) | (lon.abs() > 180)).then(
            pl.lit("position_out_of_range"))
    df = df.with_columns(reason.otherwise(None).alias("__reason"))
    bad = df.filter(pl.col("__reason").is_not_null()).select(
        "line", pl.col("ts").cast(UTC_US), "raw", pl.col("__reason").alias("reason"))
    good = df.filter(pl.col("__reason").is_null()).drop("__reason")
    return good, bad


def merge_receivers(df: pl.DataFrame) -> pl.DataFrame:
    """One row per transmission: copies with the same dup_key within DEDUPE_WINDOW_S of the previous copy are
    merged into the first, n_receivers summed — the rule of store.mark_first_copies, done with one sort and
    NumPy reductions because most rows of a batch are unique."""
    if df.height < 2:
        return df
    dup = df["dup_key"].is_duplicated().to_numpy()
    if not dup.any():
        return df
    if not dup.all():  # only rows whose content repeats can merge: sort just those
        return pl.concat([df.filter(pl.Series(~dup)), merge_receivers(df.filter(pl.Series(dup)))])
    df = df.sort(["dup_key", "ts"], nulls_last=True)
    key = df["dup_key"].to_numpy()
    ts = df["ts"].dt.epoch("us").to_numpy()
    ts_null = df["ts"].is_null().to_numpy()
    same = np.zeros(df.height, bool)
    same[1:] = (key[1:] == key[:-1]) & ~ts_null[1:] & ~ts_null[:-1] & (ts[1:] - ts[:-1] <= DEDUPE_WINDOW_S * 1_000_000)
    same &= df["dup_key"].is_not_null().to_numpy()
    if not same.any():
        return df
    starts = np.flatnonzero(~same)
    counts = np.add.reduceat(df["n_receivers"].fill_null(1).to_numpy().astype(np.int64), starts)
    return df[starts].with_columns(pl.Series("n_receivers", counts, dtype=pl.Int32))


def store_columns(df: pl.DataFrame, table: str) -> pl.DataFrame:
    from shadowfleet.store.schema import TABLES

    return df.select([c for c in TABLES[table] if c in df.columns])
