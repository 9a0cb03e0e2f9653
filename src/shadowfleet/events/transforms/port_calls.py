"""Port calls at ports, berths, anchorages and terminals, including dark ones inferred from AIS gaps.

A stay is built from parts in time order: stops (runs of stationary reports, located by their mean position in
the smallest enclosing place, so a berth beats its port) and inferred parts (an AIS gap >= 2 h whose two ends
lie inside or within 5 km of the same place: the one berth/terminal near both ends when the ship moved while
dark, else the smallest place containing both ends, else the nearest port, else the nearest place).
Consecutive parts at the same place separated by less than the in-port gap, or touching parts at a port and a
place inside it that the ship did not move between, are one stay at its smallest place. A silence splits the
stay into events: the run seen before it (a port call when seen stationary >= 1 h), the silence (an inferred
port call) and the run seen after, linked in their details by one ``visit_id``. A seen run shorter than 1 h is
no port call: it joins the neighbouring silence's inferred call.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from shadowfleet.events.config import PORT_KINDS, PortCallConfig
from shadowfleet.places import Places
from shadowfleet.events.transforms.common import (
    changed,
    empty_events,
    ensure_sorted,
    haversine_km,
    hours,
    to_events,
    with_run_id,
)
from shadowfleet.events.transforms.gaps import REACH_SCHEMA, reachable_from
from shadowfleet.events.transforms.stops import find_stops

_PART = {
    "mmsi": pl.Int64, "place_idx": pl.Int64, "start": pl.Datetime("us", "UTC"), "end": pl.Datetime("us", "UTC"),
    "lat": pl.Float64, "lon": pl.Float64, "seen_h": pl.Float64, "gap_h": pl.Float64, "n": pl.UInt32,
    "gap_km": pl.Float64,  # distance between a gap's two ends (0 for a stop): > same_spot_km = moved while dark
    "sog0": pl.Float64,  # SOG of the report before a gap (null for a stop)
}


def stop_parts(track: pl.DataFrame, places: Places, cfg: PortCallConfig) -> pl.DataFrame:
    """Stationary runs located by their mean position: per-report lookups flicker between overlapping polygons
    at their edges (GPS scatter of a ship at anchor), which would cut one stay into many."""
    stops = find_stops(track, cfg.max_sog_kn, min_duration_h=0.0, max_gap_h=cfg.inferred_min_gap_h)
    if stops.height == 0 or len(places) == 0:
        return pl.DataFrame(schema=_PART)
    la, lo = stops["lat"].to_numpy(), stops["lon"].to_numpy()
    idx = places.smallest_containing(la, lo, PORT_KINDS)
    out = np.flatnonzero(idx < 0)
    if out.size and cfg.stop_tolerance_km > 0:
        pi, gi, d = places.pairs_within_km(la[out], lo[out], cfg.stop_tolerance_km, PORT_KINDS)
        if pi.size:
            order = np.lexsort((places.area[gi], d, pi))  # nearest, then smallest
            pi, gi = pi[order], gi[order]
            first = np.r_[True, pi[1:] != pi[:-1]]
            idx[out[pi[first]]] = gi[first]
    return stops.with_columns(pl.Series("place_idx", idx)).filter(pl.col("place_idx") >= 0).select(
        "mmsi", "place_idx", "start", "end", "lat", "lon",
        pl.col("duration_h").alias("seen_h"), pl.lit(0.0).alias("gap_h"), "n", pl.lit(0.0).alias("gap_km"),
        pl.lit(None, pl.Float64).alias("sog0"),
    )


def gap_parts(track: pl.DataFrame, places: Places, cfg: PortCallConfig, candidates: list | None = None) -> pl.DataFrame:
    """AIS gaps >= inferred_min_gap_h with both ends inside/within inferred_max_km of one place.

    A ship that moved while dark (ends > same_spot_km apart, gap >= pinpoint_min_gap_h) went somewhere: when
    exactly one berth/terminal
    lies within inferred_max_km of both ends, that is the place (the port_call definition: the smallest place wins), so a
    tanker that leaves its mooring in Chongjin dark and reappears elsewhere in the port called at the oil berth,
    not at "the port". Otherwise (stayed put, or several quays in reach): the smallest place containing both
    ends, else the nearest port, else the nearest place."""
    g = (
        track.with_columns(
            pl.col("ts").shift(1).over("mmsi").alias("start"),
            pl.col("lat").shift(1).over("mmsi").alias("lat0"),
            pl.col("lon").shift(1).over("mmsi").alias("lon0"),
            pl.col("sog").shift(1).over("mmsi").cast(pl.Float64).alias("sog0"),
        )
        .filter((pl.col("ts") - pl.col("start")) >= dt.timedelta(hours=cfg.inferred_min_gap_h))
        .with_row_index("gap")
        .with_columns(haversine_km(pl.col("lat0"), pl.col("lon0"), pl.col("lat"), pl.col("lon")).alias("gap_km"))
    )
    if g.height == 0 or len(places) == 0:
        return pl.DataFrame(schema=_PART)
    a_pt, a_pl, a_km = places.pairs_within_km(g["lat0"].to_numpy(), g["lon0"].to_numpy(), cfg.inferred_max_km, PORT_KINDS)
    b_pt, b_pl, b_km = places.pairs_within_km(g["lat"].to_numpy(), g["lon"].to_numpy(), cfg.inferred_max_km, PORT_KINDS)
    both = pl.DataFrame({"gap": a_pt.astype(np.uint32), "place_idx": a_pl, "d0": a_km}).join(
        pl.DataFrame({"gap": b_pt.astype(np.uint32), "place_idx": b_pl, "d1": b_km}), on=["gap", "place_idx"]
    )
    if both.height == 0:
        return pl.DataFrame(schema=_PART)
    # Which place: (1) the smallest containing both ends; else (2) the nearest port holding the area (ends near
    # several berths/terminals but inside none cannot pinpoint one, and a port-level call is still right);
    # else (3) the nearest place (by the farther end), then the smallest.
    if candidates is not None:
        candidates.append(both.join(g.select("gap", "mmsi", "start", pl.col("ts").alias("end")), on="gap")
                          .select("mmsi", "start", "end", "place_idx", pl.max_horizontal("d0", "d1").alias("dmax")))
    pidx = both["place_idx"].to_numpy()
    # a ship that moved while dark went somewhere: to the one berth/terminal near both ends, if only one is
    quay = pl.Series(np.isin(places.kinds[pidx], ("berth", "terminal")))
    both = both.with_columns(quay.alias("quay")).join(
        g.select("gap", ((pl.col("gap_km") > cfg.same_spot_km)
                         & (pl.col("ts") - pl.col("start") >= dt.timedelta(hours=cfg.pinpoint_min_gap_h))).alias("moved")),
        on="gap"
    ).with_columns(
        (pl.col("moved") & pl.col("quay") & (pl.col("quay").sum().over("gap") == 1)).alias("pinpointed")
    ).with_columns(
        pl.Series("area", places.area[pidx]),
        pl.Series("is_port", places.kinds[pidx] == "port"),
        pl.max_horizontal("d0", "d1").alias("dmax"),
    ).with_columns(
        pl.when(pl.col("pinpointed")).then(-1)
        .when(pl.col("dmax") <= 0).then(0).when(pl.col("is_port")).then(1).otherwise(2).alias("rank")
    )
    # among places holding both ends (or, having moved, near both) the smallest wins; otherwise the nearest
    both = both.with_columns(pl.when(pl.col("rank") == 0).then(pl.col("area")).otherwise(pl.col("dmax")).alias("_k"))
    both = both.sort(["gap", "rank", "_k", "area"]).unique("gap", keep="first")
    return (
        g.join(both.select("gap", "place_idx"), on="gap")
        .select(
            "mmsi", "place_idx", "start", pl.col("ts").alias("end"),
            ((pl.col("lat0") + pl.col("lat")) / 2).alias("lat"),
            ((pl.col("lon0") + pl.col("lon")) / 2).alias("lon"),
            pl.lit(0.0).alias("seen_h"),
            hours(pl.col("ts") - pl.col("start")).alias("gap_h"),
            pl.lit(0, pl.UInt32).alias("n"),
            "gap_km", "sog0",
        )
    )


def _snap_to_adjacent_stop(gaps: pl.DataFrame, stops: pl.DataFrame, cand: pl.DataFrame,
                           cfg: PortCallConfig) -> pl.DataFrame:
    """A gap touching a stop takes the stop's place when both gap ends lie within edge_tolerance_km of it: a ship
    moored on a berth's edge reports from just outside it, and must not flicker between berth and port. A gap
    the ship moved across (ends > same_spot_km apart) keeps its own place: it went somewhere else while dark."""
    cand = cand.filter(pl.col("dmax") <= cfg.edge_tolerance_km).select("mmsi", "start", "end", "place_idx")
    cand = cand.join(gaps.filter(pl.col("gap_km") <= cfg.same_spot_km).select("mmsi", "start", "end").unique(),
                     on=["mmsi", "start", "end"])
    prev = stops.select("mmsi", pl.col("end").alias("start"), pl.col("place_idx").alias("_p"))
    nxt = stops.select("mmsi", pl.col("start").alias("end"), pl.col("place_idx").alias("_n"))
    g = gaps.join(prev, on=["mmsi", "start"], how="left").join(nxt, on=["mmsi", "end"], how="left")
    for side in ("_p", "_n"):
        ok = cand.rename({"place_idx": side}).with_columns(pl.lit(True).alias(f"{side}_ok"))
        g = g.join(ok, on=["mmsi", "start", "end", side], how="left")
    snapped = (
        pl.when(pl.col("_p_ok").fill_null(False)).then(pl.col("_p"))
        .when(pl.col("_n_ok").fill_null(False)).then(pl.col("_n"))
        .otherwise(pl.col("place_idx"))
    )
    return g.with_columns(snapped.alias("place_idx")).select(gaps.columns).unique(maintain_order=True)


def _arrival_at_stop(gaps: pl.DataFrame, stops: pl.DataFrame, cfg: PortCallConfig) -> pl.DataFrame:
    """A gap the ship entered under way and moved across, ending where it is then seen stopped, is its dark
    arrival there: it came in from sea to that spot, so the gap takes the stop's place (not a quay merely
    within 5 km of both ends). A ship that left a stop dark (stationary before the gap) keeps the quay."""
    nxt = stops.select("mmsi", pl.col("start").alias("end"), pl.col("place_idx").alias("_n")).unique(["mmsi", "end"])
    g = gaps.join(nxt, on=["mmsi", "end"], how="left", maintain_order="left")
    arrival = (pl.col("gap_km") > cfg.same_spot_km) & pl.col("_n").is_not_null() & (pl.col("sog0") > cfg.max_sog_kn)
    return g.with_columns(pl.when(arrival).then(pl.col("_n")).otherwise(pl.col("place_idx")).alias("place_idx")).select(gaps.columns)


def find_port_calls(track: pl.DataFrame, places: Places, cfg: PortCallConfig = PortCallConfig()) -> pl.DataFrame:
    """Port-call events of one vessel's (or several vessels') sorted, de-noised track."""
    if track.height == 0 or len(places) == 0:
        return empty_events()
    t = ensure_sorted(track)
    stops = stop_parts(t, places, cfg).cast(_PART)
    cand: list[pl.DataFrame] = []
    gaps = gap_parts(t, places, cfg, cand).cast(_PART)
    if gaps.height and stops.height and cand:
        gaps = _snap_to_adjacent_stop(gaps, stops, cand[0], cfg)
    if gaps.height and stops.height:
        gaps = _arrival_at_stop(gaps, stops, cfg)
    parts = pl.concat([stops, gaps])
    if parts.height == 0:
        return empty_events()
    # nesting that may join two parts: a berth/terminal/anchorage inside a *port* (an anchorage polygon made of
    # GFW cells can cover a berth, yet waiting at anchor and loading at the berth are two calls)
    inner, outer = places.port_pairs()
    nested = pl.DataFrame({"a": np.concatenate([inner, outer]), "b": np.concatenate([outer, inner])},
                          schema={"a": pl.Int64, "b": pl.Int64}).unique()
    parts = (
        parts.sort(["mmsi", "start", "end"])
        .with_columns(
            pl.col("place_idx").shift(1).alias("prev_place"),
            pl.col("end").cum_max().over("mmsi").shift(1).alias("prev_end"),
            haversine_km(pl.col("lat").shift(1), pl.col("lon").shift(1), pl.col("lat"), pl.col("lon")).alias("moved_km"),
            ((pl.col("n") > 0) & (pl.col("n").shift(1) > 0)).alias("both_stops"),
            (pl.max_horizontal(pl.col("gap_km"), pl.col("gap_km").shift(1)) > cfg.same_spot_km).alias("dark_move"),
        )
        .join(nested.with_columns(pl.lit(True).alias("nested")), left_on=["prev_place", "place_idx"],
              right_on=["a", "b"], how="left", maintain_order="left")
    )
    apart = pl.col("start") - pl.col("prev_end")
    same = pl.col("place_idx") == pl.col("prev_place")
    # same place: one stay across short breaks (GFW in-port gap); port and a place inside it: only when the
    # parts touch (a dark arrival ending where the stop begins; ours: within 1 min, so receive-time jitter of
    # seconds between the two parts' edge reports still touches), not when the ship was seen moving in between
    # two stops (not a stop and a gap) far apart at one place: the ship moved to another spot, a new call
    shifted = pl.col("both_stops") & (pl.col("moved_km") > cfg.same_spot_km)
    # a gap the ship moved across never nests: a dark call at the oil berth followed by a stay elsewhere in the
    # port is two calls at two places (the berth-level dark call must not be swallowed by the port-level one)
    joined = (same & (apart <= dt.timedelta(hours=cfg.merge_gap_h)) & ~shifted) | (
        pl.col("nested").fill_null(False) & (apart <= dt.timedelta(minutes=1)) & ~pl.col("dark_move").fill_null(False)
    )
    brk = changed("mmsi") | ~joined.fill_null(False)
    parts = with_run_id(parts, brk, "stay").with_columns(
        pl.Series("area", places.area[parts["place_idx"].to_numpy()]),
        (pl.col("gap_h") > 0).alias("dark"),
    )
    # the place rules are those of the whole stay: its smallest place (a dark arrival at the port's edge
    # touching a stop at the berth is at the berth, as is a ship flickering across a terminal's edge)
    parts = parts.with_columns(
        pl.col("place_idx").sort_by("area").first().over("stay").alias("place_idx"),
        pl.col("start").min().over("stay").alias("stay_start"),
    )
    parts = split_at_silences(parts, cfg.min_duration_h)
    visits = (
        parts.group_by("visit", maintain_order=True)
        .agg(
            pl.col("mmsi").first(),
            pl.col("stay").first(),
            pl.col("stay_start").first(),
            pl.col("place_idx").first(),
            pl.col("start").min(),
            pl.col("end").max(),
            # position: where the vessel was seen stopped, else the middle of the gap
            pl.when(pl.col("n") > 0).then(pl.col("lat")).mean().alias("lat_seen"),
            pl.when(pl.col("n") > 0).then(pl.col("lon")).mean().alias("lon_seen"),
            pl.col("lat").mean().alias("lat_any"),
            pl.col("lon").mean().alias("lon_any"),
            pl.col("seen_h").sum(),
            pl.col("gap_h").sum(),
            pl.col("n").sum().alias("n_positions"),
            pl.col("dark").sum().alias("n_gaps"),
            # the longest silence: the one window in which the ship could have gone somewhere unseen
            pl.col("start").sort_by("gap_h").last().alias("silence_start"),
            pl.col("end").sort_by("gap_h").last().alias("silence_end"),
        )
        .filter((pl.col("seen_h") >= cfg.min_duration_h) | (pl.col("n_gaps") > 0))
    )
    if visits.height == 0:
        return empty_events()
    pidx = visits["place_idx"].to_numpy()
    visits = visits.with_columns(
        pl.Series("place", places.id_array[pidx].astype(str)),
        pl.Series("place_kind", places.kinds[pidx]),
        pl.Series("place_name", [None if v is None else str(v) for v in places.names[pidx]], dtype=pl.Utf8),
        pl.coalesce("lat_seen", "lat_any").alias("lat"),
        pl.coalesce("lon_seen", "lon_any").alias("lon"),
        (pl.col("n_gaps") > 0).alias("inferred"),
        pl.col("seen_h").round(3).alias("stationary_seen_h"),
        pl.col("gap_h").round(3).alias("dark_h"),
    ).with_columns(_visit_links())
    dark = visits.filter(pl.col("inferred")).select(
        "visit", "place_idx", pl.col("silence_start").alias("start"), pl.col("silence_end").alias("end"))
    reach = reachable_from(dark, places, cfg.reach_speed_kn, cfg.min_duration_h, cfg.reach_kinds,
                           cfg.reach_port_countries, cfg.inferred_max_km, cfg.reach_coast_km, cfg.reach_detour_factor,
                           cfg.reach_max_places)
    visits = visits.join(dark.select("visit").with_columns(reach), on="visit", how="left", maintain_order="left")
    visits = visits.with_columns(pl.col("reachable").fill_null(pl.lit([], dtype=REACH_SCHEMA)))
    return to_events(
        visits, "port_call",
        ["place_kind", "place_name", "stationary_seen_h", "dark_h", "n_gaps", "n_positions", "visit_id", "part",
         "visit_parts", "reachable"],
    )


def split_at_silences(parts: pl.DataFrame, min_seen_h: float) -> pl.DataFrame:
    """Number the events within each stay (column ``visit``): a silence (a gap part) splits a stay, so the seen run
    before it, the silence and the seen run after are separate events. A seen run shorter than ``min_seen_h``
    next to a silence is not a port call on its own: it joins the silence's inferred call (the ship was at the
    place from its first stationary report), and silences separated only by such runs are one inferred call (a
    ship heard on satellite passes hours apart at a berth is one dark call, not one per pass).
    ``parts`` sorted by (mmsi, start) with columns stay, dark, seen_h."""
    block = with_run_id(parts, changed("stay") | changed("dark"), "_block")
    block = block.with_columns(
        (~pl.col("dark") & (pl.col("seen_h").sum().over("_block") >= min_seen_h)).alias("_long"))
    starts = changed("_block")
    # a new event at each new stay, and on either side of a seen run long enough to be a port call of its own
    brk = changed("stay") | (starts & (pl.col("_long") | pl.col("_long").shift(1)))
    return with_run_id(block, brk, "visit").drop("_block", "_long")


def _visit_links() -> list[pl.Expr]:
    """Details linking the parts of one stay: ``visit_id`` (place and start of the stay, shared by its parts),
    ``part`` (dark for an inferred call, else whole / before / between / after) and ``visit_parts`` (how many events the stay gave)."""
    n = pl.len().over("stay")
    k = pl.int_range(pl.len()).over("stay")
    part = (
        pl.when(pl.col("inferred")).then(pl.lit("dark"))
        .when(n == 1).then(pl.lit("whole"))
        .when(k == 0).then(pl.lit("before"))
        .when(k == n - 1).then(pl.lit("after"))
        .otherwise(pl.lit("between"))
    )
    return [
        pl.concat_str([pl.col("place"), pl.col("stay_start").dt.epoch("s").cast(pl.Utf8)], separator="-").alias("visit_id"),
        part.alias("part"),
        n.cast(pl.Int64).alias("visit_parts"),
    ]
