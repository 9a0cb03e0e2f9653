"""Where a vessel was at a given time: the nearest report in time (as-of join), for events from static data."""

from __future__ import annotations

import datetime as dt

import polars as pl

# ours: a position more than 6 h (an AIS gap) away from the event time says little about where it happened
MAX_POSITION_AGE = dt.timedelta(hours=6)


def position_at(events: pl.DataFrame, positions: pl.DataFrame | None, at: str) -> pl.DataFrame:
    """Add lat/lon: the vessel's report nearest in time to column ``at`` (null if none within 6 h)."""
    if positions is None or positions.height == 0:
        return events.with_columns(pl.lit(None, pl.Float64).alias("lat"), pl.lit(None, pl.Float64).alias("lon"))
    p = positions.select("mmsi", pl.col("ts").alias("_pts"), "lat", "lon").sort("_pts")
    e = events.drop([c for c in ("lat", "lon") if c in events.columns]).with_row_index("_row").sort(at)
    out = e.join_asof(p, left_on=at, right_on="_pts", by="mmsi", strategy="nearest", tolerance=MAX_POSITION_AGE,
                     check_sortedness=False)
    return out.sort("_row").drop("_row", "_pts")
