"""Detections tied to AIS: for each scene, every track's position at the acquisition time (interpolated between
the reports around it, dead-reckoned from the nearest one otherwise), moved by the radar's azimuth shift for its
speed, gated by distance (200 m + 0.5 km per minute to the nearest report: Kroodsma et al. 2022 / Paolo et al.
2024, Global Fishing Watch) and by length where both are known, then assigned one-to-one (Hungarian).

Out of it: the `matches` table (one row per detection), `dark_detection` events (a ship no AIS track explains)
and `unconfirmed_position` events (an AIS position in a scene, well known and on water, of a ship big enough to
be seen, with no detection there).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

from shadowfleet.imagery.config import MatchConfig, load_config
from shadowfleet.places import bearing_deg, destination_point, haversine_km
from shadowfleet.places.coast import is_land
from shadowfleet.store.schema import MATCHES

IMAGERY_EVENT_TYPES = ("dark_detection", "unconfirmed_position")
KNOT_MPS = 1852.0 / 3600.0

def _expected_positions(pos: pl.DataFrame, t: dt.datetime, cfg: MatchConfig) -> pl.DataFrame:
    """Per MMSI: lat, lon at ``t``, minutes to the nearest report, sog, cog."""
    t_s = t.timestamp()
    w = pos.filter((pl.col("ts") >= t - dt.timedelta(hours=cfg.window_h))
                   & (pl.col("ts") <= t + dt.timedelta(hours=cfg.window_h)))
    if w.height == 0:
        return pl.DataFrame(schema={"mmsi": pl.Int64, "lat": pl.Float64, "lon": pl.Float64, "minutes": pl.Float64,
                                    "sog": pl.Float64, "cog": pl.Float64})
    w = w.with_columns((pl.col("ts").dt.epoch("us") / 1e6).alias("s")).sort("mmsi", "s")
    cols = ["s", "lat", "lon", "sog", "cog"]
    b = w.filter(pl.col("s") <= t_s).group_by("mmsi").agg([pl.col(c).last().alias(f"{c}_b") for c in cols])
    a = w.filter(pl.col("s") > t_s).group_by("mmsi").agg([pl.col(c).first().alias(f"{c}_a") for c in cols])
    j = b.join(a, on="mmsi", how="full", coalesce=True)
    sb, sa = j["s_b"].to_numpy(), j["s_a"].to_numpy()
    sb = np.where(np.isnan(sb.astype(float)), np.nan, sb.astype(float))
    sa = np.where(np.isnan(sa.astype(float)), np.nan, sa.astype(float))
    db, da = t_s - sb, sa - t_s
    both = np.isfinite(db) & np.isfinite(da) & ((sa - sb) <= cfg.interp_max_gap_min * 60)
    use_b = np.where(np.isfinite(db), db, np.inf) <= np.where(np.isfinite(da), da, np.inf)
    g = lambda c: j[c].cast(pl.Float64).to_numpy()  # noqa: E731
    lat_n = np.where(use_b, g("lat_b"), g("lat_a"))
    lon_n = np.where(use_b, g("lon_b"), g("lon_a"))
    sog = np.nan_to_num(np.where(use_b, g("sog_b"), g("sog_a")), nan=0.0)
    cog = np.nan_to_num(np.where(use_b, g("cog_b"), g("cog_a")), nan=0.0)
    dt_s = np.where(use_b, db, -da)  # seconds from the nearest report to the image (negative: report after)
    lat_r, lon_r = destination_point(lat_n, lon_n, np.where(dt_s >= 0, cog, (cog + 180) % 360),
                                     sog * KNOT_MPS * np.abs(dt_s) / 1000.0)
    f = np.where(both, db / np.where(both, sa - sb, 1.0), 0.0)
    lat_i = g("lat_b") + f * (g("lat_a") - g("lat_b"))
    lon_i = g("lon_b") + f * (g("lon_a") - g("lon_b"))
    lat = np.where(both, lat_i, lat_r)
    lon = np.where(both, lon_i, lon_r)
    # the heading of travel over an interpolated stretch, for the radar shift
    cog_i = np.where(both, bearing_deg(g("lat_b"), g("lon_b"), g("lat_a"), g("lon_a")), cog)
    spd_i = np.where(both, haversine_km(g("lat_b"), g("lon_b"), g("lat_a"), g("lon_a")) * 1000
                     / np.maximum(sa - sb, 1.0) / KNOT_MPS, sog)
    minutes = np.fmin(np.where(np.isfinite(db), db, np.inf), np.where(np.isfinite(da), da, np.inf)) / 60.0
    return pl.DataFrame({"mmsi": j["mmsi"], "lat": lat, "lon": lon, "minutes": minutes,
                         "sog": np.where(both, spd_i, sog), "cog": np.where(both, cog_i, cog)})


def match_scene(scene: dict, det: pl.DataFrame, expected: pl.DataFrame, lengths: dict[int, float],
                cfg: MatchConfig) -> tuple[pl.DataFrame, list[dict], list[dict]]:
    """One scene: (matches rows, dark detections, unconfirmed positions) -- the last two as dicts."""
    import shapely

    fp = shapely.from_geojson(scene["footprint"])
    e = expected
    if e.height:
        inside = shapely.contains_xy(fp.buffer(0.02), e["lon"].to_numpy(), e["lat"].to_numpy())
        e = e.filter(pl.Series(inside))
    elat, elon = e["lat"].to_numpy(), e["lon"].to_numpy()
    sog, cog = e["sog"].to_numpy(), e["cog"].to_numpy()
    rov, track = scene.get("range_over_velocity_s"), scene.get("track_bearing_deg")
    shift = np.zeros(e.height)
    if scene["sensor"] == "sar" and rov and track is not None and e.height:
        v_r = sog * KNOT_MPS * np.cos(np.radians(cog - (track + 90.0)))  # + away from the right-looking radar
        shift = -rov * v_r
        elat, elon = destination_point(elat, elon, np.where(shift >= 0, track, (track + 180) % 360),
                                       np.abs(shift) / 1000.0)
    minutes = e["minutes"].to_numpy()
    per_min = np.minimum(cfg.m_per_minute, np.maximum(sog, cfg.min_speed_kn) * KNOT_MPS * 60 * cfg.speed_margin)
    per_min = np.where(minutes <= cfg.speed_gate_max_min, per_min, cfg.m_per_minute)
    gate = cfg.base_m + per_min * minutes + cfg.shift_tolerance * np.abs(shift)
    mm = e["mmsi"].to_numpy()
    ais_len = np.array([lengths.get(int(m), np.nan) for m in mm]) if e.height else np.zeros(0)
    dl = det["length_m"].to_numpy()
    nd, ne = det.height, e.height
    d = (haversine_km(det["lat"].to_numpy()[:, None], det["lon"].to_numpy()[:, None], elat[None, :], elon[None, :])
         * 1000.0) if nd and ne else np.zeros((nd, ne))
    ratio = dl[:, None] / ais_len[None, :] if nd and ne else np.zeros((nd, ne))
    length_ok = ~np.isfinite(ratio) | ((ratio <= cfg.length_ratio_max) & (ratio >= cfg.length_ratio_min))
    allowed = (d <= gate[None, :]) & length_ok
    cost = np.where(allowed, d, 1e9)  # the nearest pairing overall, among pairs inside their gates
    pairs = {}
    if nd and ne and allowed.any():
        r, c = linear_sum_assignment(cost)
        for a, b in zip(r, c):
            if allowed[a, b]:
                pairs[int(a)] = int(b)
    rows, dark = [], []
    for i in range(nd):
        drow = det.row(i, named=True)
        if i in pairs:
            j = pairs[i]
            rows.append({"detection_id": drow["detection_id"], "scene_id": drow["scene_id"],
                         "acquired": drow["acquired"], "mmsi": int(mm[j]), "distance_m": round(float(d[i, j]), 1),
                         "minutes_to_report": round(float(minutes[j]), 2), "gate_m": round(float(gate[j]), 1),
                         "score": round(1 - float(d[i, j] / gate[j]), 3), "reason": "matched"})
            continue
        near = []
        if ne:
            for j in np.argsort(d[i])[:3]:
                why = ("beyond the gate" if d[i, j] > gate[j] else "length disagrees" if not length_ok[i, j]
                       else "assigned to another detection")
                near.append({"mmsi": int(mm[j]), "distance_m": round(float(d[i, j]), 1),
                             "gate_m": round(float(gate[j]), 1), "minutes_to_report": round(float(minutes[j]), 1),
                             "ais_length_m": None if not np.isfinite(ais_len[j]) else float(ais_len[j]),
                             "refused": why})
        reason = "no AIS track within the gate" if not near or near[0]["refused"] == "beyond the gate" else (
            "the nearest tracks were refused: " + near[0]["refused"])
        rows.append({"detection_id": drow["detection_id"], "scene_id": drow["scene_id"], "acquired": drow["acquired"],
                     "mmsi": None, "distance_m": near[0]["distance_m"] if near else None,
                     "minutes_to_report": near[0]["minutes_to_report"] if near else None,
                     "gate_m": near[0]["gate_m"] if near else None, "score": None, "reason": reason})
        dark.append({"detection": drow, "nearest": near, "reason": reason})
    unconfirmed = []
    taken = set(pairs.values())
    if ne and scene.get("status") == "ok":
        edge_ok = shapely.contains_xy(fp.buffer(-cfg.edge_margin_m / 111_195.0), elon, elat)
        water = ~is_land(elat, elon)
        for j in range(ne):
            if j in taken or minutes[j] > cfg.unconfirmed_max_minutes or not edge_ok[j] or not water[j]:
                continue
            if not (np.isfinite(ais_len[j]) and ais_len[j] >= cfg.unconfirmed_min_length_m):
                continue
            nearest = float(d[:, j].min()) if nd else None
            unconfirmed.append({"mmsi": int(mm[j]), "lat": float(elat[j]), "lon": float(elon[j]),
                                "minutes": float(minutes[j]), "length": float(ais_len[j]), "nearest_m": nearest})
    return pl.DataFrame(rows, schema=MATCHES), dark, unconfirmed


def _events(scene: dict, dark: list[dict], unconfirmed: list[dict], places, cfg: MatchConfig) -> list[dict]:
    t = scene["acquired"]
    out = []
    for x in dark:
        dr = x["detection"]
        kind = None
        if dr["place"] and places is not None and dr["place"] in places:
            kind = places.table.filter(pl.col("id") == dr["place"])["kind"][0]
        details = {"detection_id": dr["detection_id"], "scene_id": dr["scene_id"], "sensor": dr["sensor"],
                   "length_m": dr["length_m"], "place_kind": kind or "open sea", "score": dr["score"],
                   "distance_to_shore_km": dr["distance_to_shore_km"], "nearest_tracks": x["nearest"],
                   "reason": x["reason"]}
        out.append({"event_id": f"dark_detection-{dr['detection_id']}", "type": "dark_detection", "mmsi": None,
                    "start": t, "end": t, "lat": dr["lat"], "lon": dr["lon"], "place": dr["place"],
                    "other_mmsi": None, "inferred": False, "details": json.dumps(details)})
    for u in unconfirmed:
        place = None
        if places is not None:
            from shadowfleet.imagery.main import DETECTION_PLACE_KINDS

            place = places.locate(u["lat"], u["lon"], kinds=DETECTION_PLACE_KINDS)[0]
        details = {"scene_id": scene["scene_id"], "sensor": scene["sensor"], "ais_length_m": u["length"],
                   "minutes_to_report": round(u["minutes"], 1),
                   "nearest_detection_m": None if u["nearest_m"] is None else round(u["nearest_m"], 1),
                   "expected_recall": cfg.expected_recall,
                   "reason": "AIS puts the ship in the scene, on water, but nothing was detected there"}
        out.append({"event_id": f"unconfirmed_position-{u['mmsi']}-{int(t.timestamp())}",
                    "type": "unconfirmed_position", "mmsi": u["mmsi"], "start": t, "end": t, "lat": u["lat"],
                    "lon": u["lon"], "place": place, "other_mmsi": None, "inferred": False,
                    "details": json.dumps(details)})
    return out


def match(store, config=None, places=None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Match every stored scene's detections with AIS; write `matches` and put the scenes' dark_detection and
    unconfirmed_position events into `events` (replacing earlier ones of those types). Returns (matches, events).
    ``config``: a MatchConfig, an ImageryConfig, a TOML path (its [imagery.match] section) or None (defaults)."""
    from shadowfleet.errors import ShadowfleetError
    from shadowfleet.imagery.main import read_detections, read_scenes
    from shadowfleet.places import load_places
    from shadowfleet.store.schema import EVENTS

    cfg = config if isinstance(config, MatchConfig) else load_config(config).match
    gaz = places if places is not None and not isinstance(places, (str,)) and hasattr(places, "locate") else load_places(places)
    scenes = read_scenes(store)
    if scenes.height == 0:
        raise ShadowfleetError(f"no scenes in {store.root}: run `shadowfleet imagery detect` first")
    det = read_detections(store)
    t0 = scenes["acquired"].min() - dt.timedelta(hours=cfg.window_h)
    t1 = scenes["acquired"].max() + dt.timedelta(hours=cfg.window_h)
    pos = store.read("positions", t0, t1, columns=None) if store.files("positions") else pl.DataFrame(
        schema={"mmsi": pl.Int64, "ts": pl.Datetime("us", "UTC"), "lat": pl.Float64, "lon": pl.Float64,
                "sog": pl.Float32, "cog": pl.Float32})
    pos = pos.select("mmsi", "ts", "lat", "lon", "sog", "cog").filter(pl.col("lat").is_not_null())
    lengths: dict[int, float] = {}
    if store.files("static"):
        st = store.read("static").filter(pl.col("length") > 0).group_by("mmsi").agg(pl.col("length").median())
        lengths = dict(zip(st["mmsi"].to_list(), st["length"].cast(pl.Float64).to_list()))
    all_rows, events = [], []
    for sc in scenes.iter_rows(named=True):
        d = det.filter(pl.col("scene_id") == sc["scene_id"])
        exp = _expected_positions(pos, sc["acquired"], cfg)
        rows, dark, unconf = match_scene(sc, d, exp, lengths, cfg)
        all_rows.append(rows)
        events += _events(sc, dark, unconf, gaz, cfg)
    matches = pl.concat(all_rows) if all_rows else pl.DataFrame(schema=MATCHES)
    ev = pl.DataFrame(events, schema=EVENTS) if events else pl.DataFrame(schema=EVENTS)
    old = store.read("events") if store.files("events") else pl.DataFrame(schema=EVENTS)
    old = old.filter(~pl.col("type").is_in(list(IMAGERY_EVENT_TYPES)))
    with store.transaction() as tx:  # matches and the events drawn from them committed together
        tx.replace("matches", matches)
        tx.replace("events", pl.concat([old.select(list(EVENTS)), ev.select(list(EVENTS))]).sort("start", "event_id"))
    return matches, ev
