"""Track preparation and segmentation.

``prepare`` sorts and de-duplicates positions. ``segment_track`` splits ONE MMSI's time-sorted positions into
tracks by implied speed, in the spirit of GFW's gpsdio-segment: several segments stay open at once; each new
position joins the open segment it can be reached from (implied speed ≤ max, with slack) whose dead-reckoned
prediction it fits best, else it opens a new segment; segments close after the max gap; segments that stay tiny
are noise. Two ships sharing an MMSI, or spoofed positions, so end up in different segments.

The kernel takes and returns one partition (an MMSI's rows) as a polars DataFrame, so a distributed engine can
run it per group unchanged. Column prep is vectorised; the assignment itself is sequential by nature and runs as
a tight loop over plain floats and the few open segments.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from shadowfleet.errors import ShadowfleetError
from shadowfleet.places.geo import EARTH_RADIUS_KM, KM_PER_NM
from shadowfleet.tracks.config import TracksConfig

NM_PER_RAD = EARTH_RADIUS_KM / KM_PER_NM  # Earth radius in nautical miles (IUGG mean radius)
REQUIRED = ("mmsi", "ts", "lat", "lon")
MAX_SOG_KN = 102.2  # ITU-R M.1371: the largest speed over ground a position report can carry


def _check_columns(df: pl.DataFrame, what: str) -> None:
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ShadowfleetError(f"{what}: positions lack column(s) {', '.join(missing)}")
    if not isinstance(df.schema["ts"], pl.Datetime):
        raise ShadowfleetError(f"{what}: column 'ts' must be a datetime, got {df.schema['ts']}")


def _valid_position() -> pl.Expr:
    return (
        pl.col("lat").is_not_null()
        & pl.col("lon").is_not_null()
        & pl.col("lat").is_finite()
        & pl.col("lon").is_finite()
        & (pl.col("lat").abs() <= 90)
        & (pl.col("lon").abs() <= 180)
    )


def prepare(positions: pl.DataFrame, counts: dict[str, int] | None = None) -> pl.DataFrame:
    """Positions sorted by (mmsi, ts), without rows lacking an MMSI/time/valid position and without exact
    repeats (same mmsi, ts, lat, lon: one report heard twice). When ``counts`` is given, it receives how many
    rows were dropped for each reason (nothing disappears uncounted)."""
    _check_columns(positions, "prepare")
    n0 = positions.height
    keyed = positions.filter(pl.col("mmsi").is_not_null() & pl.col("ts").is_not_null())
    n1 = keyed.height
    valid = keyed.filter(_valid_position())
    n2 = valid.height
    out = valid.sort(["mmsi", "ts"], maintain_order=True).unique(
        subset=["mmsi", "ts", "lat", "lon"], keep="first", maintain_order=True
    )
    if counts is not None:
        counts["missing_mmsi_or_time"] = counts.get("missing_mmsi_or_time", 0) + (n0 - n1)
        counts["invalid_position"] = counts.get("invalid_position", 0) + (n1 - n2)
        counts["duplicate"] = counts.get("duplicate", 0) + (n2 - out.height)
    return out


def _assign(
    t: list[float], la: list[float], lo: list[float], coslat: list[float], vx: list[float], vy: list[float],
    heard_only: list[bool], cfg: TracksConfig,
) -> np.ndarray:
    """Segment number (0, 1, …) of every point; -1 for invalid points and ``heard_only`` points, which never
    join or open a segment but keep the segment they fit open (the ship was heard). Pure-Python loop."""
    n = len(t)
    seg = np.full(n, -1, dtype=np.int64)
    heard: dict[int, float] = {}  # open segment → latest time it was heard (its points or heard-only reports)
    vmax, tslack, pslack, gap_s = cfg.max_speed_kn, cfg.time_slack_h, cfg.position_slack_nm, cfg.max_gap_h * 3600
    agree, agree_h = cfg.agree_share, cfg.agree_max_h
    lookback = max(1, int(cfg.lookback))
    open_last: dict[int, list[int]] = {}  # open segment → its latest point indices (newest last)
    n_seg = 0
    sin, asin, sqrt, hypot, radians = math.sin, math.asin, math.sqrt, math.hypot, math.radians
    for i in range(n):
        ti = t[i]
        if ti != ti:  # NaN marks an invalid position: it stays out of every segment
            continue
        lai, loi = la[i], lo[i]
        best, best_cost = -1, math.inf
        for s in list(open_last):
            recent = open_last[s]
            if ti - heard[s] > gap_s:
                del open_last[s], heard[s]  # closed: not heard from within the max gap
                continue
            for j in recent:
                dt_h = (ti - t[j]) / 3600.0
                # haversine distance in nm between j and i
                dlat = radians(lai - la[j])
                dlon = radians(loi - lo[j])
                h = sin(dlat / 2) ** 2 + coslat[i] * coslat[j] * sin(dlon / 2) ** 2
                d_nm = 2 * NM_PER_RAD * asin(sqrt(min(h, 1.0)))
                far = d_nm > vmax * (dt_h + tslack) + pslack
                if far and (dt_h > agree_h or (vx[j] == 0.0 and vy[j] == 0.0)):
                    continue
                # fit: distance from where j's reported speed and course would have taken it (flat-earth is fine
                # at reachable distances), per hour of elapsed time
                dx = ((loi - lo[j] + 180.0) % 360.0 - 180.0) * 60.0 * coslat[j] - vx[j] * dt_h
                dy = (lai - la[j]) * 60.0 - vy[j] * dt_h
                miss = hypot(dx, dy)
                if far and miss > pslack + agree * d_nm:
                    continue  # faster than a ship, and not what its own reported motion predicts
                cost = miss / (dt_h + tslack)
                if cost < best_cost:
                    best, best_cost = s, cost
        if heard_only[i]:
            if best >= 0:
                heard[best] = ti
            continue
        if best < 0:
            best = n_seg
            n_seg += 1
            if len(open_last) >= cfg.max_open_segments:
                # close the segment heard from least recently
                stale = min(open_last, key=heard.__getitem__)
                del open_last[stale], heard[stale]
            open_last[best] = [i]
        else:
            recent = open_last[best]
            recent.append(i)
            if len(recent) > lookback:
                del recent[0]
        heard[best] = ti
        seg[i] = best
    return seg


def segment_track(track: pl.DataFrame | pa.Table, config: TracksConfig = TracksConfig()) -> pl.DataFrame | pa.Table:
    """Split ONE MMSI's positions into tracks. Returns the same rows (sorted by ts, stably) plus ``segment``:
    "<mmsi>-<n>" numbered from 1 in order of each segment's first point, null for noise (points in segments of
    fewer than ``min_points`` positions, rows without a valid position, and type-27 long-range reports unless
    ``config.long_range_in_segments``). An Arrow table in gives an Arrow table out (for other engines)."""
    if isinstance(track, pa.Table):
        return _segment_polars(pl.from_arrow(track), config).to_arrow()
    return _segment_polars(track, config)


def _segment_polars(track: pl.DataFrame, config: TracksConfig) -> pl.DataFrame:
    _check_columns(track, "segment_track")
    if track.height == 0:
        return track.with_columns(pl.lit(None, dtype=pl.Utf8).alias("segment"))
    mmsis = track["mmsi"].unique()
    if mmsis.len() != 1 or mmsis.null_count():
        raise ShadowfleetError(f"segment_track: expects one MMSI per call, got {mmsis.len()} values")
    mmsi = mmsis[0]
    if not track["ts"].is_sorted():
        track = track.sort("ts", maintain_order=True)
    ok = track.select(_valid_position() & pl.col("ts").is_not_null()).to_series().to_numpy()
    if not config.long_range_in_segments and "msg_type" in track.columns:
        heard_only = (track["msg_type"].fill_null(0) == 27).to_numpy()
    else:
        heard_only = np.zeros(track.height, dtype=bool)
    t = track["ts"].dt.epoch("us").to_numpy().astype(np.float64) / 1e6
    t = np.where(ok, t, np.nan)
    la = np.where(ok, track["lat"].cast(pl.Float64).fill_null(0.0).to_numpy(), 0.0)
    lo = np.where(ok, track["lon"].cast(pl.Float64).fill_null(0.0).to_numpy(), 0.0)
    # velocity in nm/h east and north from SOG/COG; unknown or beyond AIS's 102.2 kn → 0 (the fit then uses the last
    # position)
    if "sog" in track.columns and "cog" in track.columns:
        sog = track["sog"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        cog = np.radians(track["cog"].cast(pl.Float64).fill_null(np.nan).to_numpy())
        good = np.isfinite(sog) & np.isfinite(cog) & (sog >= 0) & (sog <= MAX_SOG_KN)
        vx = np.where(good, sog * np.sin(cog), 0.0)
        vy = np.where(good, sog * np.cos(cog), 0.0)
    else:
        vx = vy = np.zeros(track.height)
    coslat = np.cos(np.radians(la))
    seg = _assign(
        t.tolist(), la.tolist(), lo.tolist(), coslat.tolist(), vx.tolist(), vy.tolist(), heard_only.tolist(), config
    )
    # tiny segments are noise; the rest are numbered by first appearance
    valid = seg >= 0
    sizes = np.bincount(seg[valid], minlength=int(seg.max()) + 1 if valid.any() else 0)
    keep = sizes >= config.min_points
    number = np.cumsum(keep)  # segment k → its 1-based number among kept segments (segments are born in order)
    labels = np.full(track.height, None, dtype=object)
    if valid.any():
        kept_pt = valid.copy()
        kept_pt[valid] = keep[seg[valid]]
        labels[kept_pt] = [f"{mmsi}-{k}" for k in number[seg[kept_pt]]]
    return track.with_columns(pl.Series("segment", labels.tolist(), dtype=pl.Utf8))


def segment_all(positions: pl.DataFrame, config: TracksConfig = TracksConfig()) -> pl.DataFrame:
    """``segment_track`` on every MMSI; all rows come back sorted by (mmsi, ts) with their ``segment``."""
    _check_columns(positions, "segment_all")
    if positions.height == 0:
        return positions.with_columns(pl.lit(None, dtype=pl.Utf8).alias("segment"))
    df = positions.filter(pl.col("mmsi").is_not_null())
    dropped = positions.height - df.height
    if dropped:
        raise ShadowfleetError(f"segment_all: {dropped} row(s) without an MMSI; run prepare() first")
    df = df.sort(["mmsi", "ts"], maintain_order=True)
    parts = df.partition_by("mmsi", maintain_order=True)
    return pl.concat([segment_track(p, config) for p in parts], how="vertical")


def pair_agreement(a: Any, b: Any) -> float:
    """Rand index of two groupings of the same items: the share of item pairs both put together or both apart.
    Nulls are singletons (noise). Computed from contingency counts, not by visiting pairs."""
    df = pl.DataFrame({"a": pl.Series(a, dtype=pl.Utf8), "b": pl.Series(b, dtype=pl.Utf8)}).with_row_index("i")
    n = df.height
    if n < 2:
        return 1.0
    # each null becomes its own group
    df = df.with_columns(
        pl.col("a").fill_null(pl.lit("\x00") + pl.col("i").cast(pl.Utf8)),
        pl.col("b").fill_null(pl.lit("\x00") + pl.col("i").cast(pl.Utf8)),
    )

    def pairs(counts: pl.Series) -> float:
        c = counts.cast(pl.Float64).to_numpy()
        return float((c * (c - 1) / 2).sum())

    both = pairs(df.group_by(["a", "b"]).len()["len"])
    in_a = pairs(df.group_by("a").len()["len"])
    in_b = pairs(df.group_by("b").len()["len"])
    total = n * (n - 1) / 2
    return (total - in_a - in_b + 2 * both) / total
