"""Spoofing: signs that what an MMSI broadcasts cannot be a real ship's true position or identity.

Kinds (details.kind) below. An MMSI whose MID no state holds is not one: that is a claim about identity, not
position, and the registry shows it as the vessel's red flag (identity.mmsi_red_flag).
- impossible_jump: reports the segmenter discarded as noise that lie more than 50 kn (implied, over at least
  1 min) and more than 5 km from the vessel's own track on both sides; consecutive ones form one event.
- spliced_track: a stretch of track (a run of one segment) that the ship could only have reached or left faster
  than the spoofing speed (25 kn, GFW's segmenter) from the stretches around it, when it is the side that
  explains fewer reports; first, middle or last of the MMSI's received periods. Passages whose reported SOG and
  COG agree with the motion are never jumps (fast craft).
- two_places: one MMSI on the air from two tracks at once, far apart (two ships, one MMSI); reported once per MMSI
  with every track's span; not when one track retraces the other a constant time later (a late feed).
- on_land: reports on land entered or left by a jump, or a track deep inland for an hour or more.
- pattern: circles, replayed tracks and grid-snapped positions (transforms/patterns.py).
- out_of_range: positions a shore receiver cannot have heard there (transforms/reception.py).
"""

from __future__ import annotations


import numpy as np
import polars as pl

from shadowfleet.events.config import SpoofingConfig
from shadowfleet.places import KM_PER_DEG_LAT as KM_PER_DEG, Places
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
    positions: pl.DataFrame, cfg: SpoofingConfig = SpoofingConfig(), places: Places | None = None,
    receivers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``positions``: every report (noise included, segment null) of one vessel or many, with a segment column
    when a segmenter ran (jumps, spliced tracks and two places need it), and a receiver column for reception
    checks. ``receivers``: known receivers (receiver, lat, lon, range_km[, satellite]; `read_receivers`): listed
    shore stations are checked against their own range, listed satellites are exempt, the rest are learned."""
    from shadowfleet.events.transforms.patterns import find_patterns
    from shadowfleet.events.transforms.reception import out_of_range

    if positions.height == 0:
        return empty_events()
    p = ensure_sorted(positions)
    parts = [on_land(p, cfg, places), inland(p, cfg, places), out_of_range(p, cfg, receivers)]
    if "segment" in p.columns:
        parts += [impossible_jumps(p, cfg), spliced_tracks(p, cfg), two_places(p, cfg), find_patterns(p, cfg)]
    ev = pl.concat([x.select(["type", "mmsi", "start", "end", "lat", "lon", "place", "other_mmsi", "inferred",
                               "details"]) for x in parts])
    return _one_event_per_incident(ev, cfg)


# an incident seen by several rules is reported once, by the first of these that saw it
_PRECEDENCE = ("on_land", "pattern", "spliced_track", "out_of_range", "two_places", "impossible_jump")


def _one_event_per_incident(ev: pl.DataFrame, cfg: SpoofingConfig) -> pl.DataFrame:
    """Events of one MMSI that overlap are one incident, told by the rule first in _PRECEDENCE. A spliced stretch
    next to (within silence_h of) an incident another rule saw is that incident's other side: the jump into or
    out of a circle, a track on land or a position out of range."""
    if ev.height < 2:
        return ev
    rank = {k: i for i, k in enumerate(_PRECEDENCE)}
    ev = ev.with_row_index("_i").with_columns(
        pl.col("details").str.json_path_match("$.kind").replace_strict(rank, default=len(rank), return_dtype=pl.Int32)
        .alias("_rank"))
    near = pl.duration(seconds=int(cfg.silence_h * 3600))
    spliced = pl.col("_rank") == rank["spliced_track"]
    ev = ev.with_columns(pl.when(spliced).then(pl.col("start") - near).otherwise(pl.col("start")).alias("_a"),
                         pl.when(spliced).then(pl.col("end") + near).otherwise(pl.col("end")).alias("_b"))
    pairs = ev.join(ev.select("mmsi", pl.col("_i").alias("_j"), pl.col("start").alias("_s"), pl.col("end").alias("_e"),
                              pl.col("_rank").alias("_r")), on="mmsi")
    beaten = pairs.filter(
        (pl.col("_j") != pl.col("_i")) & (pl.col("_s") <= pl.col("_b")) & (pl.col("_a") <= pl.col("_e"))
        & ((pl.col("_r") < pl.col("_rank")) | ((pl.col("_r") == pl.col("_rank")) & (pl.col("_j") < pl.col("_i"))))
    )["_i"].unique()
    return ev.filter(~pl.col("_i").is_in(beaten.implode())).drop("_i", "_rank", "_a", "_b")


def _offset(lat: np.ndarray, lon: np.ndarray, north_km: float, east_km: float):
    return (lat + north_km / KM_PER_DEG,
            lon + east_km / (KM_PER_DEG * np.maximum(np.cos(np.radians(lat)), 0.01)))


def on_land(p: pl.DataFrame, cfg: SpoofingConfig, places: Places | None) -> pl.DataFrame:
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


def inland(p: pl.DataFrame, cfg: SpoofingConfig, places: Places | None) -> pl.DataFrame:
    """A smooth track deep inland: runs of reports on land whose every report has land inland_km away in all
    sixteen compass directions (and half as far), lies more than waterway_km from every inland waterway (rivers
    ships sail, canals, large lakes: places.waterways) and away from searoute's sea-lane network (which runs
    through the Suez and Panama canals and up the St Lawrence) by inland_km, lasting inland_min_h or more.
    Harbours, fjords and sea canals lie within a few km of water; a position that deep inland and off every
    waterway cannot be a ship."""
    from shadowfleet.places import on_land as land
    from shadowfleet.places.waterways import near_waterway

    lat, lon = p["lat"].to_numpy(), p["lon"].to_numpy()
    cand = np.flatnonzero(land(lat, lon))
    flag = np.zeros(p.height, dtype=bool)
    if cand.size:
        la, lo = lat[cand], lon[cand]
        deep = np.ones(cand.size, dtype=bool)
        for r in (cfg.inland_km, cfg.inland_km / 2):
            for a in np.radians(np.arange(0, 360, 22.5)):
                deep &= land(*_offset(la, lo, r * np.cos(a), r * np.sin(a)))
        if deep.any() and cfg.waterway_km > 0:
            # rivers and canals ships sail, and lakes on them (GSHHG / WDBII): the Rhine, the Yangtze, the Volga
            deep[np.flatnonzero(deep)[near_waterway(la[deep], lo[deep], cfg.waterway_km)]] = False
        if deep.any():
            # per 0.1-degree cell (~10 km), enough against inland_km, and few cells however many reports
            cells, back = np.unique(np.round(np.column_stack([la[deep], lo[deep]]), 1), axis=0, return_inverse=True)
            far = (_lane_distance_km(cells[:, 0], cells[:, 1]) > cfg.inland_km)[back.ravel()]
            deep[np.flatnonzero(deep)[~far]] = False
        if places is not None and len(places) and deep.any():
            deep &= places.smallest_containing(la, lo, ("port", "berth", "anchorage", "terminal")) < 0
        flag[cand[deep]] = True
    if not flag.any():
        return empty_events()
    t = with_run_id(p.with_columns(pl.Series("_deep", flag)), changed("_deep"))
    runs = (
        t.filter(pl.col("_deep")).group_by("run", maintain_order=True)
        .agg(pl.col("mmsi").first(), pl.col("ts").min().alias("start"), pl.col("ts").max().alias("end"),
             pl.col("lat").mean(), pl.col("lon").mean(), pl.len().alias("n_positions"))
        .filter(hours(pl.col("end") - pl.col("start")) >= cfg.inland_min_h)
        .with_columns(pl.lit("on_land").alias("kind"), pl.lit(True).alias("inland"),
                      pl.lit(f"a track more than {cfg.inland_km:g} km inland for "
                             f"{cfg.inland_min_h:g} h or more").alias("explanation"))
    )
    return to_events(runs, "spoofing", _DETAILS + ["inland"])


def _lane_distance_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest edge of searoute's marine network (flat-earth per point; exact
    enough at the tens of km this is compared with)."""
    a, b = _lane_edges()
    out = np.empty(len(lat))
    for i in range(len(lat)):  # only the few cells already found deep inland
        k = np.cos(np.radians(lat[i]))
        ax, ay = (a[:, 0] - lon[i]) * k * KM_PER_DEG, (a[:, 1] - lat[i]) * KM_PER_DEG
        dx, dy = (b[:, 0] - a[:, 0]) * k * KM_PER_DEG, (b[:, 1] - a[:, 1]) * KM_PER_DEG
        f = np.clip(-(ax * dx + ay * dy) / np.maximum(dx * dx + dy * dy, 1e-12), 0, 1)
        out[i] = np.hypot(ax + f * dx, ay + f * dy).min()
    return out


_EDGES: list = []


def _lane_edges() -> tuple[np.ndarray, np.ndarray]:
    if not _EDGES:
        import json
        from importlib import resources

        doc = json.loads(resources.files("searoute").joinpath("data", "marnet_searoute.geojson").read_text())
        a, b = [], []
        for f in doc["features"]:
            g = f["geometry"]
            for line in ([g["coordinates"]] if g["type"] == "LineString" else g["coordinates"]):
                xy = np.asarray(line, dtype=np.float64)
                a.append(xy[:-1])
                b.append(xy[1:])
        _EDGES.extend([np.concatenate(a), np.concatenate(b)])
    return _EDGES[0], _EDGES[1]


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
    return ((km > km_min) & (km / KM_PER_NM / _interval_h(t0, t1, cfg) > kn_max)).fill_null(False)


def _interval_h(t0: str, t1: str, cfg: SpoofingConfig) -> pl.Expr:
    return hours((pl.col(t1) - pl.col(t0)).abs()).clip(lower_bound=cfg.min_jump_interval_s / 3600.0)


def _bearing(la0: pl.Expr, lo0: pl.Expr, la1: pl.Expr, lo1: pl.Expr) -> pl.Expr:
    p0, p1, dl = la0.radians(), la1.radians(), (lo1 - lo0).radians()
    return pl.arctan2(dl.sin() * p1.cos(), p0.cos() * p1.sin() - p0.sin() * p1.cos() * dl.cos()).degrees() % 360


def _agrees(suffix0: str, suffix1: str, cfg: SpoofingConfig) -> pl.Expr:
    """The passage from report 0 to report 1 is what their own SOG and COG say the ship did: the implied speed
    within the faster SOG (x agree_factor + agree_kn), the bearing within agree_deg of either report's COG or
    between them (the ship may have turned between them); an unknown COG does not count against it."""
    la0, lo0, la1, lo1 = (pl.col(f"lat{suffix0}"), pl.col(f"lon{suffix0}"), pl.col(f"lat{suffix1}"),
                          pl.col(f"lon{suffix1}"))
    kn = haversine_km(la0, lo0, la1, lo1) / KM_PER_NM / _interval_h(f"ts{suffix0}", f"ts{suffix1}", cfg)
    sog = pl.max_horizontal(pl.col(f"sog{suffix0}"), pl.col(f"sog{suffix1}")).cast(pl.Float64)
    bearing = _bearing(la0, lo0, la1, lo1)

    def off(cog: str) -> pl.Expr:
        d = (bearing - pl.col(cog).cast(pl.Float64)).abs() % 360
        return pl.min_horizontal(d, 360 - d)

    # a ship turning from COG 0 to COG 1 sails a chord whose bearing lies between them (a fast ferry rounding a
    # headland between reports 5 min apart)
    c0, c1 = pl.col(f"cog{suffix0}").cast(pl.Float64), pl.col(f"cog{suffix1}").cast(pl.Float64)
    turn = (c1 - c0 + 540) % 360 - 180
    rel = (bearing - c0 + 540) % 360 - 180
    within_turn = (rel >= pl.min_horizontal(turn, 0.0) - cfg.agree_deg) & (rel <= pl.max_horizontal(turn, 0.0)
                                                                         + cfg.agree_deg)
    heading_ok = (pl.min_horizontal(off(f"cog{suffix0}"), off(f"cog{suffix1}")) <= cfg.agree_deg) | within_turn
    return ((kn <= sog * cfg.agree_factor + cfg.agree_kn) & heading_ok.fill_null(True)).fill_null(False)


def spliced_tracks(p: pl.DataFrame, cfg: SpoofingConfig) -> pl.DataFrame:
    """Stretches of track spliced into a ship's own: the kept reports of an MMSI are cut into runs of one segment
    (in time order) and at silences of silence_h; the passage between consecutive runs is a jump when faster than track_jump_kn over more than
    track_jump_km and not what the reported SOG/COG say. At each jump the run whose segment holds fewer reports
    is the false side; a run that is the false side of every jump it has is a spliced track: a middle one (left
    and rejoined the real track while the real ship was silent), or the first or last of a received period.
    MMSIs whose segments take turns shared_min_switches times or more are two transmitters at once (two_places)."""
    cols = ["mmsi", "ts", "lat", "lon", "segment"] + [c for c in ("sog", "cog") if c in p.columns]
    t = p.filter(pl.col("segment").is_not_null()).select(cols)
    if t.height == 0:
        return empty_events()
    for c in ("sog", "cog"):
        if c not in t.columns:
            t = t.with_columns(pl.lit(None, pl.Float32).alias(c))
    t = t.sort(["mmsi", "ts"]).with_columns(
        *[pl.col(c).shift(1).over("mmsi").alias(f"{c}_p") for c in ("ts", "lat", "lon", "sog", "cog")])
    t = t.with_columns(
        (_jump("ts_p", "lat_p", "lon_p", "ts", "lat", "lon", cfg, edge=True) & ~_agrees("_p", "", cfg)).alias("_cut"))
    # a silence opens a new received period: what was said before it does not vouch for what follows
    quiet = (pl.col("ts") - pl.col("ts_p")) >= pl.duration(seconds=int(cfg.silence_h * 3600))
    t = with_run_id(t, changed("segment") | pl.col("_cut") | quiet.fill_null(False))
    runs = (
        t.group_by("run", maintain_order=True)
        .agg(pl.col("mmsi").first(), pl.col("segment").first(), pl.len().alias("n_positions"),
             pl.col("ts").first().alias("start"), pl.col("ts").last().alias("end"),
             *[pl.col(c).first().alias(f"{c}_a") for c in ("ts", "lat", "lon", "sog", "cog")],
             *[pl.col(c).last().alias(f"{c}_b") for c in ("ts", "lat", "lon", "sog", "cog")],
             pl.col("lat").mean(), pl.col("lon").mean())
    )
    # two transmitters at once: segments that take turns again and again
    turns = runs.with_columns(pl.col("segment").shift(-1).over("mmsi").alias("_next")).filter(
        pl.col("_next").is_not_null() & (pl.col("_next") != pl.col("segment"))
    ).with_columns(pl.min_horizontal("segment", "_next").alias("_x"), pl.max_horizontal("segment", "_next").alias("_y"))
    shared = turns.group_by(["mmsi", "_x", "_y"]).len().filter(pl.col("len") >= cfg.shared_min_switches)["mmsi"].unique()
    runs = runs.filter(~pl.col("mmsi").is_in(shared.implode()))
    if runs.height == 0:
        return empty_events()
    nxt = {f"{c}_n": pl.col(f"{c}_a").shift(-1).over("mmsi") for c in ("ts", "lat", "lon", "sog", "cog")}
    runs = runs.with_columns(**nxt, _n_next=pl.col("n_positions").shift(-1).over("mmsi"),
                             _segment_next=pl.col("segment").shift(-1).over("mmsi"))
    km_out = haversine_km(pl.col("lat_b"), pl.col("lon_b"), pl.col("lat_n"), pl.col("lon_n"))
    kn_out = km_out / KM_PER_NM / _interval_h("ts_b", "ts_n", cfg)
    runs = runs.with_columns(
        (_jump("ts_b", "lat_b", "lon_b", "ts_n", "lat_n", "lon_n", cfg, edge=True) & ~_agrees("_b", "_n", cfg))
        .alias("_jump_out"),
        km_out.round(1).alias("jump_out_km"), kn_out.round(0).alias("speed_out_kn"),
    ).with_columns(pl.col("_jump_out").shift(1).over("mmsi").fill_null(False).alias("_jump_in"))
    # a middle stretch whose neighbours join up without a jump is the false one whatever the counts: taking it
    # out leaves a track one ship can sail
    prev_b = {f"{c}_pb": pl.col(f"{c}_b").shift(1).over("mmsi") for c in ("ts", "lat", "lon", "sog", "cog")}
    runs = runs.with_columns(**prev_b).with_columns(
        (pl.col("_jump_in") & pl.col("_jump_out")
         & ~(_jump("ts_pb", "lat_pb", "lon_pb", "ts_n", "lat_n", "lon_n", cfg, edge=True)
             & ~_agrees("_pb", "_n", cfg))).alias("_bridged"))
    # which side of each jump is false: the stretch that explains fewer reports (a stretch ends at a jump, a
    # change of segment or a silence), unless a bridged middle stretch settles it
    fewer = pl.col("n_positions") <= pl.col("_n_next")
    bridged_next = pl.col("_bridged").shift(-1).over("mmsi").fill_null(False)
    this_false = (pl.when(pl.col("_bridged") & ~bridged_next).then(True)
                  .when(bridged_next & ~pl.col("_bridged")).then(False).otherwise(fewer))
    runs = runs.with_columns(
        pl.when(pl.col("_jump_out")).then(this_false).otherwise(None).alias("_false_before"),
    ).with_columns(
        (~pl.col("_false_before")).shift(1).over("mmsi").alias("_false_after"),
        pl.col("jump_out_km").shift(1).over("mmsi").alias("jump_in_km"),
        pl.col("speed_out_kn").shift(1).over("mmsi").alias("speed_in_kn"),
        pl.col("segment").shift(1).over("mmsi").alias("_segment_prev"),
        pl.col("ts_b").shift(1).over("mmsi").alias("_prev_end"),
    )
    jout, jin = pl.col("_jump_out"), pl.col("_jump_in")
    # a first or last stretch rests on one jump: it must be beyond any ship (max_jump_kn over min_jump_km), where a
    # middle one has two jumps and the track around it to vouch for it
    def impossible(km: str, kn: str) -> pl.Expr:
        return ((pl.col(km) > cfg.min_jump_km) & (pl.col(kn) > cfg.max_jump_kn)).fill_null(False)

    one_sided = (jin & jout) | (jout & impossible("jump_out_km", "speed_out_kn")) | (
        jin & impossible("jump_in_km", "speed_in_kn"))
    false = ((jin | jout) & one_sided & (~jin | pl.col("_false_after").fill_null(False))
             & (~jout | pl.col("_false_before").fill_null(False))
             & (pl.col("n_positions") >= cfg.spliced_min_points)
             & (pl.col("end") - pl.col("start") >= pl.duration(seconds=int(cfg.spliced_min_minutes * 60))))
    out = runs.filter(false).with_columns(
        pl.when(jin & jout).then(pl.lit("middle")).when(jout).then(pl.lit("first")).otherwise(pl.lit("last"))
        .alias("position"),
        pl.coalesce(pl.when(jin).then(pl.col("_segment_prev")), pl.col("_segment_next")).alias("true_segment"),
        pl.col("segment").alias("false_segment"),
        # the real ship was not heard between its last report before the false stretch and its first after it
        pl.when(jin).then(pl.col("_prev_end")).otherwise(pl.col("start")).alias("unobserved_from"),
        pl.when(jout).then(pl.col("ts_n")).otherwise(pl.col("end")).alias("unobserved_to"),
        pl.lit("spliced_track").alias("kind"),
        pl.lit(f"a stretch of track the ship could only reach or leave faster than {cfg.track_jump_kn:g} kn, "
               "explaining fewer reports than the track around it").alias("explanation"),
    ).with_columns(pl.col("unobserved_from").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
                   pl.col("unobserved_to").dt.to_string("%Y-%m-%dT%H:%M:%SZ"))
    return to_events(out, "spoofing", _DETAILS + ["position", "false_segment", "true_segment", "jump_in_km",
                                                  "speed_in_kn", "jump_out_km", "speed_out_kn", "unobserved_from",
                                                  "unobserved_to"])


def two_places(p: pl.DataFrame, cfg: SpoofingConfig) -> pl.DataFrame:
    """One MMSI on the air from two long tracks at once, far apart: one event per MMSI over the overlap, listing
    every track's span. A track whose reports retrace another's a constant time later is a late feed, not a
    second ship (tracks.retraces)."""
    from shadowfleet.tracks import retraces

    kept = p.filter(pl.col("segment").is_not_null())
    seg = (
        kept.group_by(["mmsi", "segment"])
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
    late = []
    for r in pairs.select("mmsi", "segment", "segment_o", "n", "n_o").iter_rows(named=True):
        small, big = (r["segment"], r["segment_o"]) if r["n"] <= r["n_o"] else (r["segment_o"], r["segment"])
        late.append(retraces(kept.filter(pl.col("segment") == small), kept.filter(pl.col("segment") == big)))
    pairs = pairs.filter(~pl.Series(late, dtype=pl.Boolean))
    if pairs.height == 0:
        return empty_events()
    ships = pl.concat([
        pairs.select("mmsi", "segment", "first", "last", "n", "lat", "lon"),
        pairs.select("mmsi", *[pl.col(f"{c}_o").alias(c) for c in ("segment", "first", "last", "n", "lat", "lon")]),
    ]).unique(["mmsi", "segment"]).sort(["mmsi", "first"])
    spans = ships.group_by("mmsi", maintain_order=True).agg(
        pl.struct(pl.col("segment"), pl.col("first").dt.to_string("%Y-%m-%dT%H:%M:%SZ").alias("first"),
                  pl.col("last").dt.to_string("%Y-%m-%dT%H:%M:%SZ").alias("last"), pl.col("n").alias("n_positions"),
                  pl.col("lat").round(4), pl.col("lon").round(4)).alias("tracks"))
    out = (
        pairs.group_by("mmsi", maintain_order=True)
        .agg(pl.col("start").min(), pl.col("end").max(), pl.col("lat").first(), pl.col("lon").first(),
             pl.col("distance_km").max(), (pl.col("n") + pl.col("n_o")).max().alias("n_positions"))
        .join(spans, on="mmsi", how="left")
        .with_columns(pl.lit("two_places").alias("kind"),
                      pl.lit("one MMSI reported by two tracks at the same time far apart").alias("explanation"))
    )
    return to_events(out, "spoofing", _DETAILS + ["distance_km", "tracks"])
