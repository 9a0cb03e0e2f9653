"""Stops: runs of stationary reports in one vessel's time-sorted track (vectorised run-length encoding)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from shadowfleet.events.transforms.common import changed, ensure_sorted, hours, with_run_id

STOP_SCHEMA = {
    "mmsi": pl.Int64, "start": pl.Datetime("us", "UTC"), "end": pl.Datetime("us", "UTC"), "lat": pl.Float64,
    "lon": pl.Float64, "n": pl.UInt32, "duration_h": pl.Float64,
}


def find_stops(
    track: pl.DataFrame,
    max_sog_kn: float = 0.5,
    min_duration_h: float = 1.0,
    max_gap_h: float | None = 2.0,
    by: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Runs of reports with SOG <= ``max_sog_kn`` lasting >= ``min_duration_h`` (first to last stationary report).

    A report without SOG is not stationary (unknown speed never extends a stop). A silence longer than
    ``max_gap_h`` ends a run, so a stop never silently spans a transponder-off period; ``by`` columns (e.g. a
    place id) also end a run where they change. Works on one vessel or many (runs never cross MMSIs).
    """
    if track.height == 0:
        extra = {c: track.schema[c] for c in by if c in track.columns}
        return pl.DataFrame(schema={**STOP_SCHEMA, **extra})
    t = ensure_sorted(track).with_columns((pl.col("sog") <= max_sog_kn).fill_null(False).alias("_stat"))
    brk = changed("_stat")
    if "segment" in t.columns:
        brk = brk | changed("segment")
    for c in by:
        brk = brk | changed(c)
    if max_gap_h is not None:
        brk = brk | (pl.col("ts").diff() > dt.timedelta(hours=max_gap_h))
    t = with_run_id(t, brk)
    stops = (
        t.filter(pl.col("_stat"))
        .group_by("run", maintain_order=True)
        .agg(
            pl.col("mmsi").first(),
            pl.col("ts").first().alias("start"),
            pl.col("ts").last().alias("end"),
            pl.col("lat").mean(),
            pl.col("lon").mean(),
            pl.len().alias("n"),
            *[pl.col(c).first() for c in by],
        )
        .with_columns(hours(pl.col("end") - pl.col("start")).alias("duration_h"))
        .filter(pl.col("duration_h") >= min_duration_h)
        .drop("run")
    )
    return stops.select(list(STOP_SCHEMA) + list(by))
