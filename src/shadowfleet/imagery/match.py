"""Detections tied to AIS: for each scene, every track's position at the acquisition time (interpolated between
its reports before and after, dead-reckoned from the one report there is otherwise; a ship stopped at the same
spot before and after, or reported moored / at anchor, stays put), moved by the radar's azimuth shift for its
speed, gated by distance (200 m + 0.5 km per minute to the nearest report: Kroodsma et al. 2022 / Paolo et al.
2024, Global Fishing Watch) and by length where both are known, then assigned one-to-one (Hungarian, per
connected group of detections and tracks).

Out of it: the `matches` table (one row per detection: matched; dark; ambiguous, when a track could be there but
cannot be told from another; or part of a hull another row holds), `dark_detection` events (a ship no AIS track
can explain) and `unconfirmed_position` events (an AIS position in a scene, well known and on water, of a ship
big enough to be seen, with no detection there).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

from shadowfleet.imagery.config import MatchConfig, load_config
from shadowfleet.places import as_places, bearing_deg, destination_point, haversine_km
from shadowfleet.places.coast import is_land
from shadowfleet.store import mark_first_copies
from shadowfleet.store.schema import MATCHES

IMAGERY_EVENT_TYPES = ("dark_detection", "unconfirmed_position")
PART = "part of the hull in "  # matches.reason of a detection that is a piece of another row's hull
KNOT_MPS = 1852.0 / 3600.0

EXPECTED = {"scene_id": pl.Utf8, "mmsi": pl.Int64, "lat": pl.Float64, "lon": pl.Float64, "minutes": pl.Float64,
            "sog": pl.Float64, "cog": pl.Float64, "gate_m": pl.Float64, "reach_m": pl.Float64, "stays": pl.Boolean}
MOORED_STATUS = (1, 5)  # ITU-R M.1371 navigational status: 1 at anchor, 5 moored


def expected_positions(pos: pl.DataFrame, scenes: pl.DataFrame, cfg: MatchConfig | None = None) -> pl.DataFrame:
    """Per scene and MMSI heard around its acquisition: where the ship should be (lat, lon), minutes to its nearest
    report, its speed and course there, its gate (gate_m), how far it could have gone (reach_m: GFW's growth also
    for a ship heard moored on one side only, which is taken to have stayed) and whether it is taken to have
    stayed put (``stays``).

    ``pos``: mmsi, ts, lat, lon, sog, cog (and nav_status if known); ``scenes``: scene_id, acquired."""
    cfg = cfg or MatchConfig()
    w_s = max(cfg.window_h, cfg.moored_window_h) * 3600.0
    if pos.height == 0 or scenes.height == 0:
        return pl.DataFrame(schema=EXPECTED)
    if "nav_status" not in pos.columns:
        pos = pos.with_columns(pl.lit(None, pl.Int8).alias("nav_status"))
    p = pos.select("mmsi", (pl.col("ts").dt.epoch("us") / 1e6).alias("s"), "lat", "lon",
                   pl.col("sog").cast(pl.Float64), pl.col("cog").cast(pl.Float64),
                   pl.col("nav_status").cast(pl.Int64)).sort("mmsi", "s")  # as the store gives them: quick
    sc = scenes.select("scene_id", (pl.col("acquired").dt.epoch("us") / 1e6).alias("t")).sort("t")
    t_sc = sc["t"].to_numpy()
    # which scenes each track can be placed in: each run of its reports (split where it fell silent for longer
    # than two reaches) against the scenes within reach of it -- runs are few, and no scene is counted twice
    mm_p, s_p = p["mmsi"].to_numpy(), p["s"].to_numpy()
    first = np.flatnonzero(np.r_[True, (mm_p[1:] != mm_p[:-1]) | (np.diff(s_p) > 2 * w_s)])
    last = np.r_[first[1:] - 1, s_p.size - 1]
    lo = np.searchsorted(t_sc, s_p[first] - w_s, "left")
    n = np.searchsorted(t_sc, s_p[last] + w_s, "right") - lo
    k = np.repeat(lo, n) + np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    pairs = pl.DataFrame({"mmsi": np.repeat(mm_p[first], n), "k": k})
    pairs = pairs.join(sc.with_row_index("k").with_columns(pl.col("k").cast(pl.Int64)), on="k").drop("k")
    pairs = pairs.sort("mmsi", "t")
    if pairs.height == 0:
        return pl.DataFrame(schema=EXPECTED)
    cols = ["s", "lat", "lon", "sog", "cog", "nav_status"]
    j = pairs
    for side, strategy in (("b", "backward"), ("a", "forward")):
        right = p.select("mmsi", *[pl.col(c).alias(f"{c}_{side}") for c in cols])
        j = j.join_asof(right, left_on="t", right_on=f"s_{side}", by="mmsi", strategy=strategy, tolerance=w_s,
                      check_sortedness=False)  # both sorted by time within each MMSI above
    g = lambda c: j[c].cast(pl.Float64).fill_null(np.nan).to_numpy()  # noqa: E731
    t = g("t")
    db, da = t - g("s_b"), g("s_a") - t
    sog_b, sog_a = g("sog_b"), g("sog_a")
    nav_b, nav_a = g("nav_status_b"), g("nav_status_a")
    moored_b = np.isin(nav_b, MOORED_STATUS) & ~(sog_b > cfg.stopped_kn)
    moored_a = np.isin(nav_a, MOORED_STATUS) & ~(sog_a > cfg.stopped_kn)
    win = cfg.window_h * 3600.0
    ok_b = (db <= win) | (moored_b & (db <= cfg.moored_window_h * 3600.0))
    ok_a = (da <= win) | (moored_a & (da <= cfg.moored_window_h * 3600.0))
    keep = ok_b | ok_a
    j, t, db, da, ok_b, ok_a = j.filter(pl.Series(keep)), t[keep], db[keep], da[keep], ok_b[keep], ok_a[keep]
    moored_b, moored_a = moored_b[keep], moored_a[keep]
    lat_b, lon_b, lat_a, lon_a = g("lat_b"), g("lon_b"), g("lat_a"), g("lon_a")
    sog_b, sog_a = np.nan_to_num(g("sog_b")), np.nan_to_num(g("sog_a"))
    cog_b, cog_a = np.nan_to_num(g("cog_b")), np.nan_to_num(g("cog_a"))
    apart_m = haversine_km(lat_b, lon_b, lat_a, lon_a) * 1000.0
    jump = ok_b & ok_a & (apart_m > cfg.max_speed_kn * KNOT_MPS * np.maximum(db + da, 1.0))
    ok_b, ok_a = ok_b & ~(jump & (db > da)), ok_a & ~(jump & (da >= db))
    both = ok_b & ok_a
    apart_m = np.where(both, apart_m, np.inf)
    stopped = (sog_b <= cfg.stopped_kn) | moored_b
    stopped_after = (sog_a <= cfg.stopped_kn) | moored_a
    # stopped at the same spot before and after: it did not move in between
    still = both & stopped & stopped_after & (apart_m <= cfg.base_m)
    use_b = ok_b & (~ok_a | (db <= da))
    # one side only, reported moored or at anchor: taken to be still there
    stays = still | (~both & np.where(use_b, moored_b, moored_a))
    dt_s = np.where(use_b, db, -da)  # seconds from the report used to the image (negative: report after)
    sog = np.where(use_b, sog_b, sog_a)
    cog = np.where(use_b, cog_b, cog_a)
    lat_n, lon_n = np.where(use_b, lat_b, lat_a), np.where(use_b, lon_b, lon_a)
    run_km = np.where(stays, 0.0, sog * KNOT_MPS * np.abs(dt_s) / 1000.0)
    lat_r, lon_r = destination_point(lat_n, lon_n, np.where(dt_s >= 0, cog, (cog + 180) % 360), run_km)
    span = np.where(both, db + da, 1.0)
    f = np.where(both & (span > 0), db / np.where(span > 0, span, 1.0), 0.0)
    lat = np.where(both, lat_b + f * (lat_a - lat_b), lat_r)
    lon = np.where(both, lon_b + f * (lon_a - lon_b), lon_r)
    minutes = np.fmin(np.where(ok_b, db, np.inf), np.where(ok_a, da, np.inf)) / 60.0
    # the velocity for the radar shift: a report within minutes of the image tells it (a ship just got under
    # way moves at its reported speed, not at the mean over a long stretch); else the travel between the two
    stretch = both & (minutes > cfg.speed_gate_max_min)
    cog = np.where(stretch & ~still, bearing_deg(lat_b, lon_b, lat_a, lon_a), cog)
    sog = np.where(still, 0.0, np.where(stretch, apart_m / np.maximum(span, 1.0) / KNOT_MPS, sog))
    near_sog = np.where(use_b, sog_b, sog_a)
    per_min = np.minimum(cfg.m_per_minute,
                         np.maximum(near_sog, cfg.min_speed_kn) * KNOT_MPS * 60 * cfg.speed_margin)
    per_min = np.where(minutes <= cfg.speed_gate_max_min, per_min, cfg.m_per_minute)
    gfw = cfg.base_m + per_min * minutes
    gate = np.where(stays, cfg.base_m, gfw)
    # a ship stopped at one spot before and after could not have been elsewhere; one heard moored on one side
    # only could have got under way since
    reach = np.where(~still & (minutes <= cfg.window_h * 60.0), np.maximum(gfw, gate), gate)
    return pl.DataFrame({"scene_id": j["scene_id"], "mmsi": j["mmsi"], "lat": lat, "lon": lon, "minutes": minutes,
                         "sog": sog, "cog": cog, "gate_m": gate, "reach_m": reach, "stays": stays}, schema=EXPECTED)


def _axis_gap(a: float, b: float) -> float:
    """Angle between two undirected axes (0-90 degrees)."""
    d = abs(a - b) % 180.0
    return min(d, 180.0 - d)


def _aligned(lat, lon, hd, i: int, k: int, cfg: MatchConfig, own_axis: bool = True) -> bool:
    """Detection i lies along detection k's long axis (and, with ``own_axis``, i's own axis agrees)."""
    if not np.isfinite(hd[k]) or (own_axis and not (np.isfinite(hd[i])
                                                    and _axis_gap(hd[i], hd[k]) <= cfg.split_axis_deg)):
        return False
    b = float(bearing_deg(lat[k], lon[k], lat[i], lon[i]))
    return _axis_gap(b, hd[k]) <= cfg.split_axis_deg


def _split_pieces(det: pl.DataFrame, pixel_m: float, cfg: MatchConfig) -> dict[int, int]:
    """Pieces of one hull: {piece index: index of the longest piece of its hull}, for detections along one axis
    whose ends lie within ``split_gap_px`` pixels."""
    n = det.height
    if n < 2:
        return {}
    lat, lon = det["lat"].to_numpy(), det["lon"].to_numpy()
    ln = det["length_m"].fill_null(0.0).to_numpy()
    hd = det["heading_deg"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * 1000.0
    gap = d - (ln[:, None] + ln[None, :]) / 2.0
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for i, k in zip(*np.nonzero(np.triu(gap <= cfg.split_gap_px * pixel_m, 1))):
        if _aligned(lat, lon, hd, int(i), int(k), cfg):
            ri, rk = root(int(i)), root(int(k))
            if ri != rk:
                big, small = (ri, rk) if ln[ri] >= ln[rk] else (rk, ri)
                parent[small] = big
    return {i: root(i) for i in range(n) if root(i) != i}


def _merged(det: pl.DataFrame, pieces: dict[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lat, lon, length of each detection with its hull's pieces merged into the longest one (the centre of the
    whole extent, its length end to end)."""
    lat, lon = det["lat"].to_numpy().copy(), det["lon"].to_numpy().copy()
    ln = det["length_m"].cast(pl.Float64).fill_null(np.nan).to_numpy().copy()
    for r in set(pieces.values()):
        idx = [r] + [i for i, q in pieces.items() if q == r]
        la, lo, le = lat[idx], lon[idx], np.nan_to_num(ln[idx])
        d = haversine_km(la[:, None], lo[:, None], la[None, :], lo[None, :]) * 1000.0 + (le[:, None] + le[None, :]) / 2
        a, b = np.unravel_index(int(np.argmax(d)), d.shape)
        lat[r], lon[r], ln[r] = (la[a] + la[b]) / 2, (lo[a] + lo[b]) / 2, max(float(d[a, b]), float(le.max()))
    return lat, lon, ln


def _assign(cost: np.ndarray, allowed: np.ndarray) -> dict[int, int]:
    """One-to-one assignment of least total cost among allowed pairs, solved per connected group of detections
    and tracks (a scene's groups are small even when it holds thousands of tracks)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nd, ne = allowed.shape
    r, c = np.nonzero(allowed)
    if r.size == 0:
        return {}
    graph = coo_matrix((np.ones(r.size), (r, c + nd)), shape=(nd + ne, nd + ne))
    _, label = connected_components(graph, directed=False)
    pairs: dict[int, int] = {}
    for lab in np.unique(label[r]):
        di = np.flatnonzero(label[:nd] == lab)
        ej = np.flatnonzero(label[nd:] == lab)
        sub = np.where(allowed[np.ix_(di, ej)], cost[np.ix_(di, ej)], 1e9)
        a, b = linear_sum_assignment(sub)
        for x, y in zip(a, b):
            if sub[x, y] < 1e9:
                pairs[int(di[x])] = int(ej[y])
    return pairs


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
    gate = e["gate_m"].to_numpy() + cfg.shift_tolerance * np.abs(shift)
    reach = e["reach_m"].to_numpy() + cfg.shift_tolerance * np.abs(shift)
    mm = e["mmsi"].to_numpy()
    ais_len = np.array([lengths.get(int(m), np.nan) for m in mm]) if e.height else np.zeros(0)
    nd, ne = det.height, e.height
    pixel_m = float(scene.get("pixel_m") or 10.0)
    pieces = _split_pieces(det, pixel_m, cfg)
    dlat, dlon, dl = _merged(det, pieces)
    whole = np.array([i not in pieces for i in range(nd)], bool)
    d = (haversine_km(dlat[:, None], dlon[:, None], elat[None, :], elon[None, :]) * 1000.0) if nd and ne \
        else np.zeros((nd, ne))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = dl[:, None] / ais_len[None, :] if nd and ne else np.zeros((nd, ne))
    point_like = (dl < cfg.length_min_px * pixel_m)[:, None]
    length_ok = ~np.isfinite(ratio) | ((ratio <= cfg.length_ratio_max) & ((ratio >= cfg.length_ratio_min) | point_like))
    allowed = (d <= gate[None, :]) & length_ok & whole[:, None]
    could = (d <= reach[None, :]) & length_ok & whole[:, None]
    pairs = _assign(d, allowed)  # the nearest pairing overall, among pairs inside their gates
    taken = set(pairs.values())
    ambiguous: dict[int, str] = {}
    for i, j in list(pairs.items()):
        # another track, free, as close within the antenna's offset: which of the two it is cannot be told
        tied = [k for k in np.flatnonzero(allowed[i]) if k != j and k not in taken and d[i, k] - d[i, j] < cfg.tie_m]
        if tied:
            ambiguous[i] = ("ambiguous: tracks " + ", ".join(str(int(mm[k])) for k in [j, *tied])
                            + f" lie within {cfg.tie_m:g} m of each other's distance")
            del pairs[i]
    # a piece along a matched ship's axis, the two together no longer than its AIS length (give or take a pixel
    # at each end): part of that hull (the piece's own axis is not asked: a few pixels have none to speak of)
    hull_of: dict[int, int] = {}
    hd = det["heading_deg"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    olat, olon = det["lat"].to_numpy(), det["lon"].to_numpy()
    olen = np.nan_to_num(det["length_m"].cast(pl.Float64).fill_null(np.nan).to_numpy())
    for i in range(nd):
        if i in pairs or i in ambiguous or not whole[i]:
            continue
        for k, j in pairs.items():
            extent = haversine_km(olat[i], olon[i], olat[k], olon[k]) * 1000.0 + (olen[i] + olen[k]) / 2
            if np.isfinite(ais_len[j]) and extent <= ais_len[j] + 2 * pixel_m and \
                    _aligned(olat, olon, hd, i, k, cfg, own_axis=False):
                hull_of[i] = k
                break
    taken_by = {j: i for i, j in pairs.items()}
    tied_tracks = {int(mm[k]) for i in ambiguous for k in np.flatnonzero(allowed[i])}
    for i in range(nd):
        if i in pairs or i in ambiguous or i in hull_of or not whole[i]:
            continue
        for k in np.flatnonzero(allowed[i]):
            # a track assigned elsewhere but as close to this one: one of the two is dark, which is unknown
            if k in taken_by and d[i, k] - d[taken_by[k], k] < cfg.tie_m:
                ambiguous[i] = (f"ambiguous: track {int(mm[k])} is as close to detection "
                                f"{det['detection_id'][taken_by[k]]}")
                break
        else:
            free = [k for k in np.flatnonzero(could[i]) if k not in taken and bool(e["stays"][int(k)])]
            if free:
                k = free[0]
                ambiguous[i] = (f"ambiguous: track {int(mm[k])}, taken to be moored {d[i, k]:.0f} m away, "
                                f"was last heard {minutes[k]:.0f} min from the image and could have moved here")
    hull_of.update(pieces)
    ids = det["detection_id"].to_list()
    rows, dark = [], []
    for i in range(nd):
        drow = det.row(i, named=True)
        base = {"detection_id": drow["detection_id"], "scene_id": drow["scene_id"], "acquired": drow["acquired"]}
        if i in pairs:
            j = pairs[i]
            rows.append(base | {"mmsi": int(mm[j]), "distance_m": round(float(d[i, j]), 1),
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
        if i in hull_of:
            reason = PART + ids[hull_of[i]]
        elif i in ambiguous:
            reason = ambiguous[i]
        else:
            reason = "no AIS track within the gate" if not near or near[0]["refused"] == "beyond the gate" else (
                "the nearest tracks were refused: " + near[0]["refused"])
        rows.append(base | {"mmsi": None, "distance_m": near[0]["distance_m"] if near else None,
                            "minutes_to_report": near[0]["minutes_to_report"] if near else None,
                            "gate_m": near[0]["gate_m"] if near else None, "score": None, "reason": reason})
        if i not in hull_of and i not in ambiguous:
            merged = drow | {"lat": float(dlat[i]), "lon": float(dlon[i]),
                             "length_m": None if not np.isfinite(dl[i]) else round(float(dl[i]), 1)}
            dark.append({"detection": merged, "nearest": near, "reason": reason,
                         "pieces": [ids[p] for p, r in pieces.items() if r == i]})
    unconfirmed = []
    if ne and scene.get("status") == "ok":
        edge_ok = shapely.contains_xy(fp.buffer(-cfg.edge_margin_m / 111_195.0), elon, elat)
        water = ~is_land(elat, elon)
        for j in range(ne):
            if j in taken or int(mm[j]) in tied_tracks or minutes[j] > cfg.unconfirmed_max_minutes \
                    or not edge_ok[j] or not water[j]:
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
            kind = places.row(dr["place"])["kind"]
        details = {"detection_id": dr["detection_id"], "scene_id": dr["scene_id"], "sensor": dr["sensor"],
                   "length_m": dr["length_m"], "place_kind": kind or "open sea", "score": dr["score"],
                   "distance_to_shore_km": dr["distance_to_shore_km"], "nearest_tracks": x["nearest"],
                   "reason": x["reason"], "pieces": x["pieces"]}
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
    ``config``: a MatchConfig, an ImageryConfig, a TOML path (its [imagery.match] section) or None (defaults);
    ``places``: a loaded gazetteer (load_places) or None (the built-in one)."""
    from shadowfleet.errors import ShadowfleetError
    from shadowfleet.imagery.main import read_detections, read_scenes
    from shadowfleet.store.schema import EVENTS

    cfg = config if isinstance(config, MatchConfig) else load_config(config).match
    gaz = as_places(places)
    scenes = read_scenes(store)
    if scenes.height == 0:
        raise ShadowfleetError(f"no scenes in {store.root}: run `shadowfleet imagery detect` first")
    det = read_detections(store)
    reach_h = max(cfg.window_h, cfg.moored_window_h)
    t0 = scenes["acquired"].min() - dt.timedelta(hours=reach_h)
    t1 = scenes["acquired"].max() + dt.timedelta(hours=reach_h)
    cols = ["mmsi", "ts", "lat", "lon", "sog", "cog", "nav_status"]
    # only the columns used, and of each transmission heard by several receivers its first copy (the store's rule)
    pos = mark_first_copies(store.scan("positions", t0, t1).select(*cols, "dup_key")).filter(
        pl.col("first_copy") & pl.col("lat").is_not_null()).select(cols).collect()
    lengths: dict[int, float] = {}
    if store.files("static"):
        st = store.read("static", columns=["mmsi", "length"]).filter(pl.col("length") > 0).group_by("mmsi").agg(
            pl.col("length").median())
        lengths = dict(zip(st["mmsi"].to_list(), st["length"].cast(pl.Float64).to_list()))
    expected = expected_positions(pos, scenes, cfg).partition_by("scene_id", as_dict=True)
    dets = det.partition_by("scene_id", as_dict=True)
    none_exp, none_det = pl.DataFrame(schema=EXPECTED), det.clear()
    all_rows, events = [], []
    for sc in scenes.iter_rows(named=True):
        d = dets.get((sc["scene_id"],), none_det)
        rows, dark, unconf = match_scene(sc, d, expected.get((sc["scene_id"],), none_exp), lengths, cfg)
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
