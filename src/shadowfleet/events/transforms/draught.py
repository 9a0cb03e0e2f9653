"""Draught changes: consecutive type-5 draughts of one vessel differing by >= 0.5 m (loading or discharge)."""

from __future__ import annotations

import polars as pl

from shadowfleet.events.config import DraughtConfig
from shadowfleet.events.transforms.common import empty_events, to_events
from shadowfleet.events.transforms.positions import position_at


def find_draught_changes(
    static: pl.DataFrame, positions: pl.DataFrame | None = None, cfg: DraughtConfig = DraughtConfig()
) -> pl.DataFrame:
    """start = the last report of the old draught, end = the first of the new one. Reports without a draught
    (0 = not available, stored as null) are skipped, so "unknown" in between is not a change."""
    if static.height == 0 or "draught" not in static.columns:
        return empty_events()
    s = (
        static.filter((pl.col("msg_type") == 5) & pl.col("draught").is_not_null() & (pl.col("draught") > 0))
        .sort(["mmsi", "ts"])
        .select("mmsi", "ts", pl.col("draught").cast(pl.Float64))
        .with_columns(
            pl.col("ts").shift(1).over("mmsi").alias("start"),
            pl.col("draught").shift(1).over("mmsi").alias("draught_before"),
        )
        # 1e-6: draughts come in 0.1 m steps stored as float32, so 0.5 m may read 0.4999999
        .filter((pl.col("draught") - pl.col("draught_before")).abs() >= cfg.min_change_m - 1e-6)
        .with_columns(
            pl.col("ts").alias("end"),
            pl.col("draught").round(2).alias("draught_after"),
            pl.col("draught_before").round(2),
            (pl.col("draught") - pl.col("draught_before")).round(2).alias("change_m"),
        )
    )
    if s.height == 0:
        return empty_events()
    s = position_at(s, positions, "end")
    return to_events(s, "draught_change", ["draught_before", "draught_after", "change_m"])
