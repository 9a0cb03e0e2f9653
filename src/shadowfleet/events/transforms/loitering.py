"""Loitering: a vessel slower than 2 kn for at least 4 h outside every port, berth, anchorage and terminal.

Reports without SOG take the implied speed from the previous report (so a silent-SOG transponder can still be
seen loitering, and never counts as slow by default)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from shadowfleet.events.config import PORT_KINDS, LoiteringConfig
from shadowfleet.places import Places
from shadowfleet.events.transforms.common import (
    KM_PER_NM,
    changed,
    empty_events,
    ensure_sorted,
    haversine_km,
    hours,
    to_events,
    with_run_id,
)


def speed_filled(t: pl.DataFrame) -> pl.Expr:
    """SOG, or where it is missing the implied speed from the previous report of the same vessel."""
    prev_lat, prev_lon = pl.col("lat").shift(1).over("mmsi"), pl.col("lon").shift(1).over("mmsi")
    dt_h = hours(pl.col("ts") - pl.col("ts").shift(1).over("mmsi"))
    implied = pl.when(dt_h > 0).then(haversine_km(prev_lat, prev_lon, pl.col("lat"), pl.col("lon")) / KM_PER_NM / dt_h)
    return pl.col("sog").cast(pl.Float64).fill_null(implied)


def find_loitering(
    track: pl.DataFrame, places: Places | None = None, cfg: LoiteringConfig = LoiteringConfig()
) -> pl.DataFrame:
    if track.height == 0:
        return empty_events()
    t = ensure_sorted(track)
    t = t.with_columns(speed_filled(t).alias("_sog")).with_columns((pl.col("_sog") < cfg.max_sog_kn).fill_null(False).alias("_slow"))
    in_port = np.zeros(t.height, dtype=bool)
    sts = np.full(t.height, None, dtype=object)
    slow = t["_slow"].to_numpy()
    if places is not None and len(places) and slow.any():
        la, lo = t["lat"].to_numpy()[slow], t["lon"].to_numpy()[slow]
        pi, gi = places.containing(la, lo, PORT_KINDS + ("sts_area",))  # one spatial query for both questions
        is_port = np.isin(places.kinds[gi], PORT_KINDS)
        in_slow = np.zeros(la.shape[0], dtype=bool)
        in_slow[pi[is_port]] = True
        in_port[slow] = in_slow
        idx = places.smallest_of(la.shape[0], pi[~is_port], gi[~is_port])
        sts_slow = np.full(idx.shape, None, dtype=object)
        sts_slow[idx >= 0] = places.id_array[idx[idx >= 0]]
        sts[slow] = sts_slow
    t = t.with_columns(
        (pl.col("_slow") & ~pl.Series(in_port)).alias("_loiter"), pl.Series("_sts", sts.tolist(), dtype=pl.Utf8)
    )
    # across a silence the implied speed says whether the ship stayed slow
    across = haversine_km(pl.col("lat").shift(1), pl.col("lon").shift(1), pl.col("lat"), pl.col("lon")) / KM_PER_NM / hours(
        pl.col("ts").diff()
    )
    silence = pl.col("ts").diff() > dt.timedelta(hours=cfg.silence_h)
    brk = (
        changed("_loiter")
        | (pl.col("ts").diff() > dt.timedelta(hours=cfg.max_gap_h))
        | (silence & (across >= cfg.max_sog_kn))
    )
    if "segment" in t.columns:
        brk = brk | changed("segment")
    runs = (
        with_run_id(t, brk)
        .filter(pl.col("_loiter"))
        .group_by("run", maintain_order=True)
        .agg(
            pl.col("mmsi").first(),
            pl.col("ts").first().alias("start"),
            pl.col("ts").last().alias("end"),
            pl.col("lat").mean(),
            pl.col("lon").mean(),
            pl.col("_sog").mean().round(3).alias("mean_sog_kn"),
            pl.len().alias("n_positions"),
            pl.col("_sts").drop_nulls().first().alias("sts_area"),
        )
        .with_columns(hours(pl.col("end") - pl.col("start")).alias("duration_h"))
        .filter(pl.col("duration_h") >= cfg.min_duration_h)
        .with_columns(pl.col("duration_h").round(3))
    )
    return to_events(runs, "loitering", ["duration_h", "mean_sog_kn", "n_positions", "sts_area"])
