"""AIS gaps: consecutive reports of one track more than 6 h apart, with what it takes to argue they were deliberate.

Details per gap: distance and implied speed between the two ends; whether other vessels were heard near each end
during the silence (reception coverage estimated from the data itself: if others were received there, the
silence is the vessel's own); the nearest places at each end; and the places of interest a ship could have
reached and left within the gap (great-circle x detour factor at a plausible top speed: searoute per gap is
too slow for millions of gaps, so the detour factor stands in for the sea route). Inferred port calls, far
fewer and each at a gazetteer place, use sea-route distances between places instead (`sea_km`, `reachable_from`).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.events.config import INTEREST_KINDS, GapConfig
from shadowfleet.places import Places
from shadowfleet.places import geo
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


@lru_cache(maxsize=65536)
def sea_km(lat1: float, lon1: float, lat2: float, lon2: float, coast_km: float, detour_factor: float) -> float:
    """Length in km of a sea passage between two points, cached per pair (call it per pair of places, not per
    gap). searoute's lanes are coarse (a Chongjin berth joins a lane node ~190 km offshore, so berth to port
    comes out at ~380 km): the lane, cut into pieces of at most 5 km, is pulled straight (from each point to the
    farthest later point the straight line reaches at sea by the land mask, ignoring land within ``coast_km``
    of either end, since the ~1 km mask puts harbours on land). Never shorter than the great circle, never
    longer than searoute's lane; great circle x ``detour_factor`` when searoute finds no path."""
    gc = float(geo.haversine_km(lat1, lon1, lat2, lon2))
    try:
        lane = np.asarray(geo.sea_route_coords(lon1, lat1, lon2, lat2))[:, ::-1]  # (lat, lon) rows
    except ShadowfleetError:
        return gc * detour_factor
    pts = _densify(lane, 5.0)
    total, i, last = 0.0, 0, len(pts) - 1
    while i < last:
        js = np.arange(i + 1, last + 1)
        seen = js[_at_sea(pts[i], pts[js], pts[0], pts[-1], coast_km)]
        j = int(seen.max()) if seen.size else i + 1  # the lane's own piece is at sea by construction
        total += float(geo.haversine_km(pts[i, 0], pts[i, 1], pts[j, 0], pts[j, 1]))
        i = j
    return max(total, gc)


def _densify(lane: np.ndarray, piece_km: float) -> np.ndarray:
    d = geo.haversine_km(lane[:-1, 0], lane[:-1, 1], lane[1:, 0], lane[1:, 1])
    n = np.maximum(np.ceil(d / piece_km).astype(int), 1)
    f = np.concatenate([np.arange(k) / k for k in n])
    a = np.repeat(lane[:-1], n, axis=0)
    b = np.repeat(lane[1:], n, axis=0)
    return np.vstack([a + (b - a) * f[:, None], lane[-1:]])


def _at_sea(a: np.ndarray, bs: np.ndarray, end0, end1, coast_km: float, step_km: float = 1.0) -> np.ndarray:
    """Per point b of ``bs``: does the straight line a-b (sampled every step_km) stay off the land mask away from
    the two ends of the passage? One land-mask lookup for all lines."""
    d = geo.haversine_km(a[0], a[1], bs[:, 0], bs[:, 1])
    n = (d / step_km).astype(int) + 2
    line = np.repeat(np.arange(len(bs)), n)
    f = np.concatenate([np.linspace(0.0, 1.0, k) for k in n])
    la = a[0] + (bs[line, 0] - a[0]) * f
    lo = a[1] + (bs[line, 1] - a[1]) * f
    far = (geo.haversine_km(la, lo, end0[0], end0[1]) > coast_km) & (geo.haversine_km(la, lo, end1[0], end1[1]) > coast_km)
    wet = np.ones(len(la), dtype=bool)
    wet[far] = ~geo.on_land(la[far], lo[far])
    return np.bincount(line, weights=~wet, minlength=len(bs)) == 0


REACH_SCHEMA = pl.List(pl.Struct({"place": pl.Utf8, "kind": pl.Utf8, "sea_km": pl.Float64,
                                  "earliest_arrival": pl.Utf8, "latest_departure": pl.Utf8, "possible_h": pl.Float64}))


def reachable_from(silences: pl.DataFrame, places: Places, speed_kn: float, min_stay_h: float,
                   kinds: tuple[str, ...], port_countries: tuple[str, ...], exclude_km: float, coast_km: float,
                   detour_factor: float, max_places: int) -> pl.Series:
    """Per silence (row: place_idx where the ship was before and after, start, end), the places of ``kinds`` or
    ports of ``port_countries`` it could have sailed to at ``speed_kn``, stayed at least ``min_stay_h`` and
    sailed back from within the silence: place, sea_km (one way), earliest_arrival, latest_departure (ISO UTC)
    and possible_h, the ``max_places`` nearest by sea first. Places within ``exclude_km`` of where it was are not
    a journey. The great circle (never longer than the sea route) rules out most pairs before any sea route is
    computed."""
    empty = pl.Series("reachable", [[] for _ in range(silences.height)], dtype=REACH_SCHEMA)
    if silences.height == 0 or len(places) == 0:
        return empty
    country = dict(zip(places.table["id"].to_list(), places.table["country"].to_list()))
    ids = places.id_array.astype(str)
    target = np.isin(places.kinds, list(kinds)) | (
        (places.kinds == "port") & np.isin(np.array([country.get(i) for i in ids], dtype=object), list(port_countries)))
    tgt = np.flatnonzero(target)
    if tgt.size == 0:
        return empty
    kmh = speed_kn * geo.KM_PER_NM
    pairs = (
        silences.select(pl.int_range(pl.len()).alias("_row"), "place_idx", "start", "end")
        .join(pl.DataFrame({"target": tgt.astype(np.int64)}), how="cross")
    )
    s_idx, t_idx = pairs["place_idx"].to_numpy(), pairs["target"].to_numpy()
    gc = geo.haversine_km(places.centroid_lat[s_idx], places.centroid_lon[s_idx],
                          places.centroid_lat[t_idx], places.centroid_lon[t_idx])
    silence_h = hours(pl.col("end") - pl.col("start"))
    # the nearest 2 x max_places by great circle are the candidates (a month-long silence reaches half the world)
    pairs = pairs.with_columns(pl.Series("_gc", gc)).filter(
        (pl.col("_gc") > exclude_km) & (2 * pl.col("_gc") / kmh + min_stay_h <= silence_h)
    ).sort(["_row", "_gc"]).filter(pl.int_range(pl.len()).over("_row") < 2 * max_places)
    if pairs.height == 0:
        return empty
    unique = pairs.select("place_idx", "target").unique()
    km = [sea_km(float(places.centroid_lat[a]), float(places.centroid_lon[a]), float(places.centroid_lat[b]),
                 float(places.centroid_lon[b]), coast_km, detour_factor)
          for a, b in unique.iter_rows()]  # one sea route per pair of places, cached across calls
    legs = pl.duration(microseconds=(pl.col("sea_km") / kmh * US_PER_H).cast(pl.Int64))
    reach = (
        pairs.join(unique.with_columns(pl.Series("sea_km", km, dtype=pl.Float64)), on=["place_idx", "target"])
        .with_columns((silence_h - 2 * pl.col("sea_km") / kmh).alias("possible_h"))
        .filter(pl.col("possible_h") >= min_stay_h)
        .sort(["_row", "sea_km"])
        .filter(pl.int_range(pl.len()).over("_row") < max_places)
    )
    t = reach["target"].to_numpy()
    iso = "%Y-%m-%dT%H:%M:%SZ"
    reach = reach.with_columns(
        pl.Series("place", ids[t], dtype=pl.Utf8),
        pl.Series("kind", places.kinds[t].astype(str), dtype=pl.Utf8),
        pl.col("sea_km").round(1),
        (pl.col("start") + legs).dt.strftime(iso).alias("earliest_arrival"),
        (pl.col("end") - legs).dt.strftime(iso).alias("latest_departure"),
        pl.col("possible_h").round(2),
    ).group_by("_row", maintain_order=True).agg(
        pl.struct("place", "kind", "sea_km", "earliest_arrival", "latest_departure", "possible_h").alias("reachable"))
    out = pl.DataFrame({"_row": np.arange(silences.height, dtype=np.int64)}).join(
        reach.with_columns(pl.col("_row").cast(pl.Int64)), on="_row", how="left", maintain_order="left")
    return out["reachable"].fill_null(pl.lit([], dtype=REACH_SCHEMA)).cast(REACH_SCHEMA).alias("reachable")
