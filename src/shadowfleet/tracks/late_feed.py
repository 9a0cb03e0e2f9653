"""Receivers whose time stamps run late: a feed that stamps every report a constant time after it was sent.

A report is stamped when it is received (tag block c:, $PGHP); a feed that is relayed late (a satellite provider
delivering in batches, a receiver whose clock is behind) stamps the ship's position of 40 minutes ago with the
time of now. Compared with the other receivers' reports of the same ship, its reports retrace the ship's own
track with one constant delay, and the segmenter would see one MMSI in two places at once, 150-400 km apart for a
ship at 12 kn. No receiver can hear a report before it is sent, so of two feeds that disagree the earlier one is
right: a feed whose reports lie on the others' track of the same ship a consistent time *later* is late by that
time, and its stamps are moved back before segmentation.

``feed_delays`` measures it per receiver (tag block `s:` / DMA `si:`, else the source file); ``correct_late_feeds``
applies it. Both work on whole tables; the only loop is over MMSIs heard by more than one receiver.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from shadowfleet.places.geo import EARTH_RADIUS_KM
from shadowfleet.store import TABLES
from shadowfleet.tracks.config import TracksConfig

KM_PER_DEG = np.pi / 180 * EARTH_RADIUS_KM
DELAY_COLUMNS = TABLES["feed_delays"]


def feed_delays(positions: pl.DataFrame, cfg: TracksConfig = TracksConfig()) -> pl.DataFrame:
    """One row per late receiver: receiver, delay_s (median lateness against the other receivers' reports of the
    same ships), n_matched (reports compared), n_mmsi, consistent_share (share of them within the tolerance)."""
    return delays_from_lags(feed_lags(positions, cfg), cfg)


LAG_COLUMNS = {"receiver": pl.Utf8, "lag": pl.Float64, "mmsi": pl.Int64}


def feed_lags(positions: pl.DataFrame, cfg: TracksConfig = TracksConfig()) -> pl.DataFrame:
    """(receiver, lag, mmsi): how late each feed's reports lie on the other feeds' track of the same ship. Per
    ship, so it can run on any partition of ships; `delays_from_lags` then judges each receiver on all of them."""
    empty = pl.DataFrame(schema=LAG_COLUMNS)
    cols = [c for c in ("receiver", "source") if c in positions.columns]
    if not cols or positions.height == 0:
        return empty
    p = positions.with_columns(pl.coalesce([pl.col(c) for c in cols]).alias("_feed")).filter(
        pl.col("_feed").is_not_null()
    )
    if "sog" in p.columns:
        # only a moving ship's position says when it was there; an anchored ship is everywhere at once
        p = p.filter(pl.col("sog") >= cfg.late_min_sog_kn)
    multi = p.group_by("mmsi").agg(pl.col("_feed").n_unique().alias("k")).filter(pl.col("k") > 1)["mmsi"]
    if multi.len() == 0:
        return empty
    p = p.filter(pl.col("mmsi").is_in(multi.implode())).sort(["mmsi", "ts"])
    feeds, lags, ships = [], [], []
    for part in p.partition_by("mmsi", maintain_order=True):
        t = part["ts"].dt.epoch("us").to_numpy() / 1e6
        lat, lon = part["lat"].to_numpy(), part["lon"].to_numpy()
        xy = _local_xy(lat, lon, float(np.nanmean(lat)))
        feed = part["_feed"].to_numpy()
        for f in np.unique(feed):
            mine, other = feed == f, feed != f
            lag = _lags(t[mine], xy[mine], t[other], xy[other], cfg)
            if not len(lag):
                continue
            feeds.append(np.full(len(lag), f, dtype=object))
            lags.append(lag)
            ships.append(np.full(len(lag), part["mmsi"][0]))
    if not lags:
        return empty
    return pl.DataFrame({"receiver": np.concatenate(feeds).astype(str), "lag": np.concatenate(lags),
                         "mmsi": np.concatenate(ships)}).cast(LAG_COLUMNS)


def delays_from_lags(m: pl.DataFrame, cfg: TracksConfig = TracksConfig()) -> pl.DataFrame:
    """The late receivers among the lags of `feed_lags` (of one partition of ships, or all concatenated)."""
    if m.height == 0:
        return pl.DataFrame(schema=DELAY_COLUMNS)
    tol = cfg.late_tolerance_s
    stats = (
        m.group_by("receiver")
        .agg(pl.col("lag").median().alias("delay_s"), pl.len().cast(pl.Int64).alias("n_matched"),
             pl.col("mmsi").n_unique().cast(pl.Int64).alias("n_mmsi"), pl.col("lag"))
        .with_columns(
            # consistent: near the median lag and not also near no lag at all (reports heard at the same time
            # by two receivers are no evidence of lateness, however the median falls)
            (pl.col("lag").list.eval(((pl.element() - pl.element().median()).abs() <= tol) & (pl.element() > tol))
             .list.mean()).alias("consistent_share")
        )
        .filter(
            (pl.col("delay_s") >= cfg.late_min_delay_min * 60)
            & (pl.col("n_matched") >= cfg.late_min_matches)
            & (pl.col("consistent_share") >= cfg.late_min_consistent)
        )
        .select(list(DELAY_COLUMNS))
        .sort("receiver")
    )
    return stats.cast(DELAY_COLUMNS)


def _local_xy(lat: np.ndarray, lon: np.ndarray, lat0: float) -> np.ndarray:
    return np.column_stack([lon * KM_PER_DEG * np.cos(np.radians(lat0)), lat * KM_PER_DEG])


def _lags(t_a: np.ndarray, xy_a: np.ndarray, t_b: np.ndarray, xy_b: np.ndarray, cfg: TracksConfig) -> np.ndarray:
    """For (up to late_max_points evenly spaced) reports of A within late_match_km of a report of B: A's time
    minus the time of the nearest report of B."""
    from scipy.spatial import cKDTree

    if len(t_a) == 0 or len(t_b) == 0:
        return np.zeros(0)
    n = int(min(len(t_a), cfg.late_max_points))
    ix = np.linspace(0, len(t_a) - 1, n).astype(int)
    d, j = cKDTree(xy_b).query(xy_a[ix], k=1, distance_upper_bound=cfg.late_match_km)
    ok = np.isfinite(d)
    return t_a[ix][ok] - t_b[j[ok]]


def retraces(a: pl.DataFrame, b: pl.DataFrame, cfg: TracksConfig = TracksConfig()) -> bool:
    """Whether track A (rows with ts, lat, lon, optionally sog) retraces track B with one constant delay: most of
    A's moving reports lie on B's positions, a consistent time apart (a late-stamped feed of the same ship)."""
    def moving(df: pl.DataFrame) -> pl.DataFrame:
        return df.filter(pl.col("sog") >= cfg.late_min_sog_kn) if "sog" in df.columns else df

    a, b = moving(a), moving(b)
    if a.height < cfg.late_min_matches or b.height == 0:
        return False
    lat0 = float(b["lat"].mean())
    lag = _lags(a["ts"].dt.epoch("us").to_numpy() / 1e6, _local_xy(a["lat"].to_numpy(), a["lon"].to_numpy(), lat0),
                b["ts"].dt.epoch("us").to_numpy() / 1e6, _local_xy(b["lat"].to_numpy(), b["lon"].to_numpy(), lat0),
                cfg)
    n = int(min(a.height, cfg.late_max_points))
    if len(lag) < max(cfg.late_min_matches, cfg.late_min_consistent * n):
        return False
    return bool(np.mean(np.abs(lag - np.median(lag)) <= cfg.late_tolerance_s) >= cfg.late_min_consistent)


def correct_late_feeds(positions: pl.DataFrame, delays: pl.DataFrame) -> pl.DataFrame:
    """Positions with the stamps of late receivers moved back by their delay (re-sorted by mmsi, ts)."""
    if delays.height == 0 or positions.height == 0:
        return positions
    cols = [c for c in ("receiver", "source") if c in positions.columns]
    shift = positions.select(pl.coalesce([pl.col(c) for c in cols]).alias("receiver")).join(
        delays.select("receiver", "delay_s"), on="receiver", how="left", maintain_order="left"
    )["delay_s"].fill_null(0.0)
    us = (shift * 1e6).round().cast(pl.Int64)
    return positions.with_columns((pl.col("ts") - pl.duration(microseconds=us)).alias("ts")).sort(
        ["mmsi", "ts"], maintain_order=True
    )
