"""Encounters: two vessels within 0.5 km, both slower than 2 kn, for at least 2 h, on a common 10-min grid.

Scales without an O(n^2) step: (1) resample each track to the grid from consecutive report pairs
(linear interpolation of lat/lon/SOG, never across a silence longer than ``max_interp_gap_min`` unless the ship
was slow at both ends and found again within 0.5 km after less than ``still_max_gap_h``; only pairs
where one end is slow can give a slow grid point, so fast traffic is dropped before anything is exploded);
(2) key each slow grid point by (grid time, cell ~0.5 km), explode the probe side to its 9 neighbour cells and
equi-join; (3) exact haversine filter; (4) consecutive grid times per vessel pair become runs >= 2 h.
`encounter_pairs` is the bucket kernel (one time bin x cell bucket, or all of them) a distributed engine can
run per partition; `resample` is the per-track kernel.
Longitude cells do not wrap at the antimeridian (a pair straddling 180 degrees is missed).
"""

from __future__ import annotations


import numpy as np
import polars as pl

from shadowfleet.events.config import EncounterConfig
from shadowfleet.places import KM_PER_DEG_LAT as KM_PER_DEG, Places
from shadowfleet.events.transforms.common import (
    KM_PER_NM,
    empty_events,
    ensure_sorted,
    haversine_km,
    hours,
    to_events,
    with_run_id,
)

US_PER_MIN = 60_000_000
# ours: cells slightly larger than the distance so float rounding at a cell edge never hides a neighbour
CELL_MARGIN = 1.05


def resample(track: pl.DataFrame, cfg: EncounterConfig = EncounterConfig(), slow_only: bool = True) -> pl.DataFrame:
    """Positions of each track at the grid times (multiples of ``resample_min``), interpolated between the two
    reports around each grid time. Reports without SOG take the pair's implied speed. Returns
    (mmsi, t [epoch µs], lat, lon, sog); with ``slow_only`` only grid points slower than ``max_sog_kn``."""
    step = int(round(cfg.resample_min * US_PER_MIN))
    max_gap = int(round(cfg.max_interp_gap_min * US_PER_MIN))
    if track.height == 0:
        return pl.DataFrame(schema={"mmsi": pl.Int64, "t": pl.Int64, "lat": pl.Float64, "lon": pl.Float64,
                                    "sog": pl.Float64})
    t = ensure_sorted(track)
    key = ["mmsi", "segment"] if "segment" in t.columns else ["mmsi"]
    nxt = [pl.col(c).shift(-1).over(key) for c in ("ts", "lat", "lon", "sog")]
    p = t.select(
        "mmsi",
        pl.col("ts").dt.epoch("us").alias("t0"),
        nxt[0].dt.epoch("us").alias("t1"),
        pl.col("lat").alias("lat0"), nxt[1].alias("lat1"),
        pl.col("lon").alias("lon0"), nxt[2].alias("lon1"),
        pl.col("sog").cast(pl.Float64).alias("sog0"), nxt[3].cast(pl.Float64).alias("sog1"),
    )
    # the last report of a track, or the last before a long silence, pairs with itself (1 µs later), so it
    # still yields its own grid time when it falls on one; nothing is interpolated across the silence
    still_gap = int(round(cfg.still_max_gap_h * 3600 * 1e6))
    stayed = (
        (pl.col("t1") - pl.col("t0") <= still_gap)
        & (pl.max_horizontal(pl.col("sog0"), pl.col("sog1")) < cfg.max_sog_kn).fill_null(False)
        & (haversine_km(pl.col("lat0"), pl.col("lon0"), pl.col("lat1"), pl.col("lon1")) <= cfg.max_distance_km)
    )
    alone = pl.col("t1").is_null() | ((pl.col("t1") - pl.col("t0") > max_gap) & ~stayed)
    p = p.with_columns(
        pl.when(alone).then(pl.col("t0") + 1).otherwise(pl.col("t1")).alias("t1"),
        *[pl.when(alone).then(pl.col(f"{c}0")).otherwise(pl.col(f"{c}1")).alias(f"{c}1") for c in ("lat", "lon", "sog")],
    ).filter(pl.col("t1") > pl.col("t0"))
    implied = (
        haversine_km(pl.col("lat0"), pl.col("lon0"), pl.col("lat1"), pl.col("lon1"))
        / KM_PER_NM / ((pl.col("t1") - pl.col("t0")).cast(pl.Float64) / 3.6e9)
    )
    p = p.with_columns(
        pl.col("sog0").fill_null(implied), pl.col("sog1").fill_null(implied),
        # first grid time at or after t0
        ((pl.col("t0") + step - 1) // step * step).alias("g0"),
    ).filter(pl.col("g0") < pl.col("t1"))
    if slow_only:
        p = p.filter(pl.min_horizontal("sog0", "sog1") < cfg.max_sog_kn)
    g = p.with_columns(pl.int_ranges("g0", "t1", step).alias("t")).explode("t")
    f = (pl.col("t") - pl.col("t0")).cast(pl.Float64) / (pl.col("t1") - pl.col("t0")).cast(pl.Float64)
    g = g.select(
        "mmsi", "t",
        (pl.col("lat0") + f * (pl.col("lat1") - pl.col("lat0"))).alias("lat"),
        (pl.col("lon0") + f * (pl.col("lon1") - pl.col("lon0"))).alias("lon"),
        (pl.col("sog0") + f * (pl.col("sog1") - pl.col("sog0"))).alias("sog"),
    )
    if slow_only:
        g = g.filter(pl.col("sog") < cfg.max_sog_kn)
    # two segments of one MMSI could give the same grid time twice: keep one (the first) per vessel and time
    return g.unique(["mmsi", "t"], keep="first", maintain_order=True)


def _cells(lat: pl.Expr, lon: pl.Expr, row: pl.Expr, d: float) -> pl.Expr:
    """Column index of a point in a given cell row: longitude scaled by the cosine of that row's latitude."""
    row_lat = ((row.cast(pl.Float64) + 0.5) * d).clip(-89.9, 89.9)
    return (lon * row_lat.radians().cos() / d).floor().cast(pl.Int32)


def encounter_pairs(grid: pl.DataFrame, cfg: EncounterConfig = EncounterConfig()) -> pl.DataFrame:
    """Bucket kernel: vessel pairs (mmsi < other_mmsi) within ``max_distance_km`` at the same grid time.

    ``grid`` is (mmsi, t, lat, lon, sog) from `resample`. Rows: mmsi, other_mmsi, t, lat, lon (midpoint), km."""
    d = cfg.max_distance_km * CELL_MARGIN / KM_PER_DEG
    g = grid.with_columns((pl.col("lat") / d).floor().cast(pl.Int32).alias("r"))
    build = g.with_columns(_cells(pl.col("lat"), pl.col("lon"), pl.col("r"), d).alias("c"))
    probe = (
        g.with_columns((pl.col("r") + pl.lit([-1, 0, 1], dtype=pl.List(pl.Int32))).alias("rn"))
        .explode("rn")
        .with_columns(
            (_cells(pl.col("lat"), pl.col("lon"), pl.col("rn"), d) + pl.lit([-1, 0, 1], dtype=pl.List(pl.Int32)))
            .alias("cn")
        )
        .explode("cn")
        .select("mmsi", "t", "lat", "lon", pl.col("rn").alias("r"), pl.col("cn").alias("c"))
    )
    j = probe.join(build.select("mmsi", "t", "lat", "lon", "r", "c"), on=["t", "r", "c"], suffix="_b")
    j = j.filter(pl.col("mmsi") < pl.col("mmsi_b")).with_columns(
        haversine_km(pl.col("lat"), pl.col("lon"), pl.col("lat_b"), pl.col("lon_b")).alias("km")
    ).filter(pl.col("km") <= cfg.max_distance_km)
    return j.select(
        "mmsi", pl.col("mmsi_b").alias("other_mmsi"), "t",
        ((pl.col("lat") + pl.col("lat_b")) / 2).alias("lat"),
        ((pl.col("lon") + pl.col("lon_b")) / 2).alias("lon"),
        "km",
    ).unique(["mmsi", "other_mmsi", "t"])


def _join_short_breaks(pairs: pl.DataFrame, grid: pl.DataFrame, cfg: EncounterConfig) -> pl.DataFrame:
    """Join consecutive runs of one pair whose break lasts at most ``join_gap_min`` when both ships stayed slow
    through it (every grid step of the break is a slow grid point of each ship): two ships anchored about
    0.5 km apart swing across the limit, which must not cut one encounter into pieces."""
    step = int(round(cfg.resample_min * US_PER_MIN))
    max_break = int(round(cfg.join_gap_min * US_PER_MIN))
    if max_break < 2 * step or pairs.height == 0:
        return pairs
    # slow stretches of each ship on the grid (consecutive grid times); both run edges in one stretch = stayed slow
    slow = grid.select("mmsi", "t").sort(["mmsi", "t"])
    slow = with_run_id(slow, (pl.col("mmsi") != pl.col("mmsi").shift(1)) | (pl.col("t") - pl.col("t").shift(1) > step),
                       "stretch")
    edges = pairs.group_by("run", maintain_order=True).agg(
        pl.col("mmsi").first(), pl.col("other_mmsi").first(), pl.col("t").min().alias("t0"), pl.col("t").max().alias("t1")
    )
    for who, col in (("a", "mmsi"), ("b", "other_mmsi")):
        for edge in ("t0", "t1"):
            edges = edges.join(slow.rename({"mmsi": col, "t": edge, "stretch": f"{who}_{edge}"}), on=[col, edge],
                               how="left", maintain_order="left")
    same_pair = (pl.col("mmsi") == pl.col("mmsi").shift(1)) & (pl.col("other_mmsi") == pl.col("other_mmsi").shift(1))
    stayed = (pl.col("a_t0") == pl.col("a_t1").shift(1)) & (pl.col("b_t0") == pl.col("b_t1").shift(1))
    joined = same_pair & (pl.col("t0") - pl.col("t1").shift(1) <= max_break) & stayed
    edges = with_run_id(edges, ~joined.fill_null(False), "joined_run").select("run", "joined_run")
    return pairs.join(edges, on="run", how="left", maintain_order="left").drop("run").rename({"joined_run": "run"})


def find_encounters(
    positions: pl.DataFrame, cfg: EncounterConfig = EncounterConfig(), places: Places | None = None
) -> pl.DataFrame:
    """Encounter events over all vessels: one row per vessel of each pair (other_mmsi = the partner)."""
    grid = resample(positions, cfg)
    if grid.height == 0:
        return empty_events()
    return encounters_from_pairs(encounter_pairs(grid, cfg), grid, cfg, places)


def encounters_from_pairs(
    pairs: pl.DataFrame, grid: pl.DataFrame, cfg: EncounterConfig = EncounterConfig(), places: Places | None = None
) -> pl.DataFrame:
    """Encounter events from the close pairs of every bucket (`encounter_pairs`) and the slow grid they came from
    (`resample`, which says whether both ships stayed slow through a short break)."""
    if pairs.height == 0:
        return empty_events()
    step = int(round(cfg.resample_min * US_PER_MIN))
    pairs = pairs.sort(["mmsi", "other_mmsi", "t"])
    brk = (
        (pl.col("mmsi") != pl.col("mmsi").shift(1))
        | (pl.col("other_mmsi") != pl.col("other_mmsi").shift(1))
        | (pl.col("t") - pl.col("t").shift(1) > step)
    )
    pairs = _join_short_breaks(with_run_id(pairs, brk), grid, cfg)
    runs = (
        pairs.group_by("run", maintain_order=True)
        .agg(
            pl.col("mmsi").first(), pl.col("other_mmsi").first(),
            pl.col("t").min().alias("t_start"), pl.col("t").max().alias("t_end"),
            pl.col("lat").mean(), pl.col("lon").mean(),
            pl.col("km").median().alias("median_distance_km"), pl.col("km").max().alias("max_distance_km"),
            pl.len().alias("n_grid_points"),
        )
        .with_columns(
            pl.from_epoch("t_start", time_unit="us").dt.replace_time_zone("UTC").alias("start"),
            pl.from_epoch("t_end", time_unit="us").dt.replace_time_zone("UTC").alias("end"),
        )
        .filter(hours(pl.col("end") - pl.col("start")) >= cfg.min_duration_h)
    )
    if runs.height == 0:
        return empty_events()
    where = np.full(runs.height, None, dtype=object)
    kind = np.full(runs.height, None, dtype=object)
    if places is not None and len(places):
        idx = places.smallest_containing(runs["lat"].to_numpy(), runs["lon"].to_numpy(),
                                         ("port", "berth", "anchorage", "terminal", "sts_area"))
        hit = idx >= 0
        where[hit] = places.id_array[idx[hit]]
        kind[hit] = places.kinds[idx[hit]]
    runs = runs.with_columns(
        pl.Series("encounter_place", where.tolist(), dtype=pl.Utf8),
        pl.Series("place_kind", kind.tolist(), dtype=pl.Utf8),
        pl.col("median_distance_km").round(4), pl.col("max_distance_km").round(4),
        hours(pl.col("end") - pl.col("start")).round(3).alias("duration_h"),
        # share of the grid times of a (possibly joined) encounter at which the ships were within max_distance_km
        (pl.col("n_grid_points") / ((pl.col("t_end") - pl.col("t_start")) // step + 1)).round(3).alias("within_share"),
    )
    both = pl.concat([
        runs,
        runs.with_columns(pl.col("other_mmsi").alias("mmsi"), pl.col("mmsi").alias("other_mmsi")),
    ])
    ev = to_events(both.rename({"encounter_place": "place_of_encounter"}), "encounter",
                   ["place_of_encounter", "place_kind", "duration_h", "within_share", "median_distance_km",
                    "max_distance_km", "n_grid_points"])
    # details key "place" (the encounter contract: the place in details); the event's own place column stays null
    return ev.with_columns(pl.col("details").str.replace('"place_of_encounter":', '"place":', literal=True))
