"""Spoofing: signs that what an MMSI broadcasts cannot be a real ship's true position or identity.

Kinds (details.kind) below. An MMSI whose MID no state holds is not one: that is a claim about identity, not
position, and the registry shows it as the vessel's red flag (identity.mmsi_red_flag).
- on_land: reports on land by the offline 1 km land mask, away from port places and with every point 1 km
  around also on land, that the vessel jumped onto or off at an impossible speed (canals and rivers are "land"
  to the mask, so being there alone proves nothing); consecutive ones form one event.
- impossible_jump: reports the segmenter discarded as noise (segment null) that lie more than 50 kn (implied,
  over at least 1 min) and more than 5 km from the vessel's own track on both sides; consecutive ones form one
  event.
- false_track: a stretch of track reached and left by jumps faster than 25 kn (GFW's segmenter limit) and
  longer than 2 km (a false position broadcast for a while, e.g. "at anchor" 30 km away while loading dark).
- two_places: one MMSI with two long segments overlapping in time, far apart (two ships, one MMSI).
"""

from __future__ import annotations


import numpy as np
import polars as pl

from shadowfleet.events.config import SpoofingConfig
from shadowfleet.events.placeindex import KM_PER_DEG, PlaceIndex
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

_DETAILS = ["kind", "n_positions", "explanation"]


def find_spoofing(
    positions: pl.DataFrame, cfg: SpoofingConfig = SpoofingConfig(), places: PlaceIndex | None = None
) -> pl.DataFrame:
    """``positions``: every report (noise included, segment null) of one vessel or many, with a segment column
    when a segmenter ran (jumps and two-places need it)."""
    if positions.height == 0:
        return empty_events()
    p = ensure_sorted(positions)
    parts = [on_land(p, cfg, places)]
    if "segment" in p.columns:
        parts += [impossible_jumps(p, cfg), false_tracks(p, cfg), two_places(p, cfg)]
    ev = pl.concat([x.select(["type", "mmsi", "start", "end", "lat", "lon", "place", "other_mmsi", "inferred",
                               "details"]) for x in parts])
    # a false track on land is already an on_land event: one incident, one event
    land = ev.filter(pl.col("details").str.contains('"kind":"on_land"', literal=True)).select(
        "mmsi", pl.col("start").alias("ls"), pl.col("end").alias("le"))
    if land.height:
        ft = ev.with_row_index("_i").filter(pl.col("details").str.contains('"kind":"false_track"', literal=True))
        dup = ft.join(land, on="mmsi").filter((pl.col("start") <= pl.col("le")) & (pl.col("ls") <= pl.col("end")))
        ev = ev.with_row_index("_i").filter(~pl.col("_i").is_in(dup["_i"].implode())).drop("_i")
    return ev


def _offset(lat: np.ndarray, lon: np.ndarray, north_km: float, east_km: float):
    return (lat + north_km / KM_PER_DEG,
            lon + east_km / (KM_PER_DEG * np.maximum(np.cos(np.radians(lat)), 0.01)))


def on_land(p: pl.DataFrame, cfg: SpoofingConfig, places: PlaceIndex | None) -> pl.DataFrame:
    """Runs of reports on land that the vessel jumped onto (or off) at an impossible speed.

    The 1 km land mask also calls canals, rivers, narrow fjords and many harbours land (on the real DMA sample:
    the Kiel Canal, the Limfjord, Copenhagen harbour), where ships sail normally; so a land run counts only
    when it is entered or left by a jump > max_jump_kn. A track that is on land from its first report to its
    last cannot be told from inland-waterway traffic and is not flagged. Runs made only of points the
    segmenter discarded are left to impossible_jump (one incident, one event)."""
    from shadowfleet.places import on_land as land

    lat, lon = p["lat"].to_numpy(), p["lon"].to_numpy()
    flag = land(lat, lon)
    cand = np.flatnonzero(flag)
    if cand.size:
        la, lo = lat[cand], lon[cand]
        inland = np.ones(cand.size, dtype=bool)
        m = cfg.coast_margin_km
        for dn, de in ((m, 0), (-m, 0), (0, m), (0, -m)):
            inland &= land(*_offset(la, lo, dn, de))
        if places is not None and len(places):
            # ports include quays the mask calls land; eez/zone areas cover land too and do not excuse it
            inland &= places.smallest_containing(la, lo, ("port", "berth", "anchorage", "terminal")) < 0
        flag[:] = False
        flag[cand[inland]] = True
    if not flag.any():
        return empty_events()
    t = p.with_columns(
        pl.Series("_land", flag),
        (pl.col("segment").is_not_null() if "segment" in p.columns else pl.lit(True)).alias("_kept"),
    )
    t = with_run_id(t, changed("_land"))
    ends = (
        t.group_by("run", maintain_order=True)
        .agg(
            pl.col("mmsi").first(), pl.col("_land").first(), pl.col("_kept").any(),
            pl.col("ts").first().alias("start"), pl.col("ts").last().alias("end"),
            pl.col("lat").first().alias("lat_first"), pl.col("lon").first().alias("lon_first"),
            pl.col("lat").last().alias("lat_last"), pl.col("lon").last().alias("lon_last"),
            pl.col("lat").mean(), pl.col("lon").mean(), pl.len().alias("n_positions"),
        )
        .with_columns(
            *[pl.col(c).shift(1).over("mmsi").alias(f"prev_{c}") for c in ("end", "lat_last", "lon_last")],
            *[pl.col(c).shift(-1).over("mmsi").alias(f"next_{c}") for c in ("start", "lat_first", "lon_first")],
        )
    )

    def jump(t0, la0, lo0, t1, la1, lo1) -> pl.Expr:
        return _jump(t0, la0, lo0, t1, la1, lo1, cfg, edge=True)

    runs = (
        ends.filter(pl.col("_land") & pl.col("_kept"))
        .with_columns(
            jump("prev_end", "prev_lat_last", "prev_lon_last", "start", "lat_first", "lon_first").alias("entered"),
            jump("end", "lat_last", "lon_last", "next_start", "next_lat_first", "next_lon_first").alias("left"),
        )
        .filter(pl.col("entered") | pl.col("left"))
        .with_columns(
            pl.lit("on_land").alias("kind"),
            pl.lit(f"positions on land (more than {cfg.coast_margin_km:g} km from the coast) reached or left at "
                   f"more than {cfg.track_jump_kn:g} kn").alias("explanation"),
        )
    )
    return to_events(runs, "spoofing", _DETAILS + ["entered", "left"])


def impossible_jumps(p: pl.DataFrame, cfg: SpoofingConfig) -> pl.DataFrame:
    good = pl.col("segment").is_not_null()
    t = p.select("mmsi", "ts", "lat", "lon", "segment").with_columns(
        *[pl.when(good).then(pl.col(c)).alias(f"_{c}") for c in ("ts", "lat", "lon")]
    ).with_columns(
        *[pl.col(f"_{c}").forward_fill().over("mmsi").alias(f"{c}_prev") for c in ("ts", "lat", "lon")],
        *[pl.col(f"_{c}").backward_fill().over("mmsi").alias(f"{c}_next") for c in ("ts", "lat", "lon")],
    )

    def fast(side: str) -> pl.Expr:
        return pl.when(pl.col(f"ts_{side}").is_null()).then(None).otherwise(
            _jump(f"ts_{side}", f"lat_{side}", f"lon_{side}", "ts", "lat", "lon", cfg)
        )

    t = t.with_columns(fast("prev").alias("_fp"), fast("next").alias("_fn")).with_columns(
        (
            pl.col("segment").is_null()
            & (pl.col("_fp").is_not_null() | pl.col("_fn").is_not_null())
            & pl.col("_fp").fill_null(True)
            & pl.col("_fn").fill_null(True)
        ).alias("_jump"),
        haversine_km(pl.col("lat"), pl.col("lon"), pl.col("lat_prev").fill_null(pl.col("lat_next")),
                     pl.col("lon_prev").fill_null(pl.col("lon_next"))).alias("_km"),
    )
    runs = (
        with_run_id(t, changed("_jump"))
        .filter(pl.col("_jump"))
        .group_by("run", maintain_order=True)
        .agg(pl.col("mmsi").first(), pl.col("ts").min().alias("start"), pl.col("ts").max().alias("end"),
             pl.col("lat").first(), pl.col("lon").first(), pl.len().alias("n_positions"),
             pl.col("_km").max().round(1).alias("jump_km"))
        .with_columns(pl.lit("impossible_jump").alias("kind"),
                      pl.lit(f"isolated positions off the track at more than {cfg.max_jump_kn:g} kn implied speed")
                      .alias("explanation"))
    )
    return to_events(runs, "spoofing", _DETAILS + ["jump_km"])


def _jump(t0: str, la0: str, lo0: str, t1: str, la1: str, lo1: str, cfg: SpoofingConfig,
          edge: bool = False) -> pl.Expr:
    """Consecutive reports further apart than min_jump_km at more than max_jump_kn (over >= 1 min); ``edge``:
    the looser track_jump_km / track_jump_kn used at the edges of a false stretch of track."""
    km_min, kn_max = (cfg.track_jump_km, cfg.track_jump_kn) if edge else (cfg.min_jump_km, cfg.max_jump_kn)
    km = haversine_km(pl.col(la0), pl.col(lo0), pl.col(la1), pl.col(lo1))
    h = hours((pl.col(t1) - pl.col(t0)).abs()).clip(lower_bound=cfg.min_jump_interval_s / 3600.0)
    return ((km > km_min) & (km / KM_PER_NM / h > kn_max)).fill_null(False)


def false_tracks(p: pl.DataFrame, cfg: SpoofingConfig) -> pl.DataFrame:
    """A stretch of track reached by an impossible jump and left by another: the MMSI broadcast a false position
    for a while (e.g. "waiting at anchor" 10-40 km away while loading dark). The track is cut at every jump
    (> track_jump_kn and > track_jump_km between consecutive kept reports) and at segment changes; a piece with a
    jump on both sides is the false one. MMSIs with segments overlapping in time (two ships on one MMSI, whose
    reports alternate) are left to two_places."""
    t = p.filter(pl.col("segment").is_not_null()).select("mmsi", "ts", "lat", "lon", "segment")
    if t.height == 0:
        return empty_events()
    spans = t.group_by(["mmsi", "segment"]).agg(pl.col("ts").min().alias("a"), pl.col("ts").max().alias("b"))
    shared = (
        spans.join(spans, on="mmsi", suffix="_o")
        .filter((pl.col("segment") != pl.col("segment_o")) & (pl.col("a") < pl.col("b_o")) & (pl.col("a_o") < pl.col("b")))
        .select("mmsi").unique()
    )
    t = t.join(shared, on="mmsi", how="anti").sort(["mmsi", "ts"])
    prev = {c: pl.col(c).shift(1).over("mmsi").alias(f"_p{c}") for c in ("ts", "lat", "lon")}
    t = t.with_columns(*prev.values()).with_columns(
        _jump("_pts", "_plat", "_plon", "ts", "lat", "lon", cfg, edge=True).alias("_jump_in")
    )
    runs = (
        with_run_id(t, changed("segment") | pl.col("_jump_in"))
        .group_by("run", maintain_order=True)
        .agg(
            pl.col("mmsi").first(),
            pl.col("ts").first().alias("start"), pl.col("ts").last().alias("end"),
            pl.col("_jump_in").first().alias("_in"),
            haversine_km(pl.col("_plat"), pl.col("_plon"), pl.col("lat"), pl.col("lon")).first().round(1)
            .alias("jump_km"),
            pl.col("lat").mean(), pl.col("lon").mean(), pl.len().alias("n_positions"),
        )
        .with_columns(pl.col("_in").shift(-1).over("mmsi").fill_null(False).alias("_out"))
        .filter(pl.col("_in") & pl.col("_out"))
        .with_columns(
            pl.lit("false_track").alias("kind"),
            pl.lit(f"a stretch of track reached and left by jumps faster than {cfg.track_jump_kn:g} kn").alias("explanation"),
        )
    )
    return to_events(runs, "spoofing", _DETAILS + ["jump_km"])


def two_places(p: pl.DataFrame, cfg: SpoofingConfig) -> pl.DataFrame:
    seg = (
        p.filter(pl.col("segment").is_not_null())
        .group_by(["mmsi", "segment"])
        .agg(pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"), pl.col("lat").median(),
             pl.col("lon").median(), pl.len().alias("n"))
        .filter(pl.col("n") >= cfg.two_places_min_points)
        .with_columns(pl.col("segment").cast(pl.Utf8))
    )
    pairs = seg.join(seg, on="mmsi", suffix="_o").filter(pl.col("segment") < pl.col("segment_o"))
    pairs = pairs.with_columns(
        pl.max_horizontal("first", "first_o").alias("start"), pl.min_horizontal("last", "last_o").alias("end"),
        haversine_km(pl.col("lat"), pl.col("lon"), pl.col("lat_o"), pl.col("lon_o")).round(1).alias("distance_km"),
    ).filter(
        (hours(pl.col("end") - pl.col("start")) >= cfg.two_places_min_overlap_h)
        & (pl.col("distance_km") > cfg.two_places_km)
    )
    if pairs.height == 0:
        return empty_events()
    pairs = pairs.with_columns(
        pl.lit("two_places").alias("kind"),
        pl.col("n").alias("n_positions"),
        pl.lit("one MMSI reported by two tracks at the same time far apart").alias("explanation"),
        pl.concat_list("segment", "segment_o").alias("segments"),
        pl.struct(pl.col("lat_o").alias("lat"), pl.col("lon_o").alias("lon")).alias("other_position"),
    )
    return to_events(pairs, "spoofing", _DETAILS + ["segments", "distance_km", "other_position"])
