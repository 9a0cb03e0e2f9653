"""AIS gaps: consecutive reports of one track more than 6 h apart, with what it takes to argue they were deliberate.

Details per gap: distance and implied speed between the two ends; whether other vessels were heard near each end
during the silence (reception coverage estimated from the data itself: if others were received there, the
silence is the vessel's own); the nearest places at each end; and the places of interest a ship could have
reached and left within the gap (great-circle x detour factor at a plausible top speed: searoute per gap is
too slow for millions of gaps, so the detour factor stands in for the sea route).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from shadowfleet.events.config import INTEREST_KINDS, GapConfig
from shadowfleet.places import Places
from shadowfleet.events.transforms.common import (
    KM_PER_NM,
    US_PER_H,
    empty_events,
    ensure_sorted,
    haversine_km,
    hours,
    to_events,
)


def reception_cells(positions: pl.DataFrame, cell_deg: float) -> pl.DataFrame:
    """The (cell row, cell column, UTC hour) bins in which any report was received: a coverage map from the data."""
    return (
        positions.select(
            (pl.col("lat") / cell_deg).floor().cast(pl.Int32).alias("r"),
            (pl.col("lon") / cell_deg).floor().cast(pl.Int32).alias("c"),
            (pl.col("ts").dt.epoch("us") // US_PER_H).alias("hour"),
        )
        .drop_nulls()
        .unique()
    )


def _heard_during(ends: pl.DataFrame, coverage: pl.DataFrame, cell_deg: float) -> pl.Series:
    """Per end point (gap, lat, lon, h0, h1): were others received in its cell or the 8 around it in (h0, h1)?"""
    probe = ends.select(
        "gap", "h0", "h1",
        ((pl.col("lat") / cell_deg).floor().cast(pl.Int32) + pl.lit([-1, 0, 1])).alias("r"),
        (pl.col("lon") / cell_deg).floor().cast(pl.Int32).alias("c0"),
    ).explode("r").with_columns((pl.col("c0") + pl.lit([-1, 0, 1])).alias("c")).explode("c")
    hit = (
        probe.join(coverage, on=["r", "c"])
        .filter((pl.col("hour") > pl.col("h0")) & (pl.col("hour") < pl.col("h1")))
        .select("gap")
        .unique()
    )
    return ends["gap"].is_in(hit["gap"].implode())


def find_gaps(
    track: pl.DataFrame,
    cfg: GapConfig = GapConfig(),
    places: Places | None = None,
    coverage: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """AIS-gap events of a sorted, de-noised track (one vessel or several); ``coverage`` from reception_cells."""
    if track.height == 0:
        return empty_events()
    t = ensure_sorted(track)
    g = (
        t.with_columns(
            pl.col("ts").shift(1).over("mmsi").alias("start"),
            pl.col("lat").shift(1).over("mmsi").alias("lat0"),
            pl.col("lon").shift(1).over("mmsi").alias("lon0"),
        )
        .filter((pl.col("ts") - pl.col("start")) > dt.timedelta(hours=cfg.min_gap_h))
        .select(
            "mmsi", "start", pl.col("ts").alias("end"), "lat0", "lon0", pl.col("lat").alias("lat1"),
            pl.col("lon").alias("lon1"),
        )
        .with_row_index("gap")
        .with_columns(
            haversine_km(pl.col("lat0"), pl.col("lon0"), pl.col("lat1"), pl.col("lon1")).alias("distance_km"),
            hours(pl.col("end") - pl.col("start")).alias("duration_h"),
        )
        .with_columns(
            (pl.col("distance_km") / KM_PER_NM / pl.col("duration_h")).alias("implied_speed_kn"),
        )
    )
    if g.height == 0:
        return empty_events()
    g = g.with_columns(_coverage(g, coverage, cfg))
    g = g.with_columns(_nearest(g, places, cfg)).with_columns(_reachable(g, places, cfg))
    g = g.with_columns(
        pl.col("lat0").alias("lat"),
        pl.col("lon0").alias("lon"),
        pl.col("distance_km").round(3),
        pl.col("implied_speed_kn").round(3),
        pl.col("duration_h").round(3),
        pl.struct(pl.col("lat1").alias("lat"), pl.col("lon1").alias("lon")).alias("end_position"),
    )
    return to_events(
        g,
        "ais_gap",
        [
            "duration_h", "distance_km", "implied_speed_kn", "end_position", "coverage_start", "coverage_end",
            "in_coverage", "nearest_place_start", "nearest_km_start", "nearest_place_end", "nearest_km_end",
            "reachable_places",
        ],
    )


def _coverage(g: pl.DataFrame, coverage: pl.DataFrame | None, cfg: GapConfig) -> list[pl.Series]:
    if coverage is None:
        nulls = pl.Series([None] * g.height, dtype=pl.Boolean)
        return [nulls.alias("coverage_start"), nulls.alias("coverage_end"), nulls.alias("in_coverage")]
    h = g.select(
        "gap",
        (pl.col("start").dt.epoch("us") // US_PER_H).alias("h0"),
        (pl.col("end").dt.epoch("us") // US_PER_H).alias("h1"),
        "lat0", "lon0", "lat1", "lon1",
    )
    a = _heard_during(h.rename({"lat0": "lat", "lon0": "lon"}), coverage, cfg.coverage_cell_deg)
    b = _heard_during(h.rename({"lat1": "lat", "lon1": "lon"}), coverage, cfg.coverage_cell_deg)
    return [a.alias("coverage_start"), b.alias("coverage_end"), (a & b).alias("in_coverage")]


def _nearest(g: pl.DataFrame, places: Places | None, cfg: GapConfig) -> list[pl.Series]:
    out = []
    for end, la, lo in (("start", "lat0", "lon0"), ("end", "lat1", "lon1")):
        ids = np.full(g.height, None, dtype=object)
        km = np.full(g.height, np.nan)
        if places is not None and len(places):
            pi, gi, d = places.pairs_within_km(g[la].to_numpy(), g[lo].to_numpy(), cfg.nearest_max_km, INTEREST_KINDS)
            if pi.size:
                order = np.lexsort((places.area[gi], d, pi))  # nearest, then smallest (berth before port)
                pi, gi, d = pi[order], gi[order], d[order]
                first = np.ones(pi.size, dtype=bool)
                first[1:] = pi[1:] != pi[:-1]
                ids[pi[first]] = places.id_array[gi[first]]
                km[pi[first]] = np.round(d[first], 3)
        out.append(pl.Series(f"nearest_place_{end}", ids.tolist(), dtype=pl.Utf8))
        out.append(pl.Series(f"nearest_km_{end}", km, dtype=pl.Float64).fill_nan(None))
    return out


def _reachable(g: pl.DataFrame, places: Places | None, cfg: GapConfig) -> pl.Series:
    """Places of interest whose detour start -> place -> end fits in the gap at max_speed_kn."""
    if places is None or len(places) == 0:
        return pl.Series("reachable_places", [[] for _ in range(g.height)], dtype=pl.List(pl.Utf8))
    mask = np.isin(places.kinds, list(INTEREST_KINDS))
    pl_df = pl.DataFrame(
        {"pid": places.id_array[mask].astype(str), "plat": places.centroid_lat[mask], "plon": places.centroid_lon[mask]}
    )
    pairs = (
        g.select("gap", "lat0", "lon0", "lat1", "lon1", "duration_h")
        .join(pl_df, how="cross")
        .with_columns(
            (
                haversine_km(pl.col("lat0"), pl.col("lon0"), pl.col("plat"), pl.col("plon"))
                + haversine_km(pl.col("plat"), pl.col("plon"), pl.col("lat1"), pl.col("lon1"))
            ).alias("via_km")
        )
        .filter(pl.col("via_km") * cfg.detour_factor <= cfg.max_speed_kn * KM_PER_NM * pl.col("duration_h"))
        .sort(["gap", "via_km"])
        .group_by("gap", maintain_order=True)
        .agg(pl.col("pid").alias("reachable_places"))
    )
    return (
        g.select("gap")
        .join(pairs, on="gap", how="left", maintain_order="left")["reachable_places"]
        .fill_null(pl.lit([], dtype=pl.List(pl.Utf8)))
    )
