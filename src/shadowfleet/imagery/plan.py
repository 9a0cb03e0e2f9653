"""Tasking: the open questions a satellite image would settle, ranked, and the passes that could take it.

Questions come from the store's events, screening and cases (docs/imagery.md "Tasking"):
- ``dark_port_call``: a port call inferred from an AIS gap (the ship went dark in port): was it at the berth?
- ``gap_at_terminal``: an AIS gap of at least min_gap_h starting or ending near a supplier's oil berth or
  terminal: did it load there?
- ``sts``: loitering in an STS area (the partner is not broadcasting), or an encounter there with an AIS gap on
  either side: which ships were alongside?
- ``listed_dark``: a listed vessel dark for at least min_gap_h: where did it go? The area is every point the ship
  could reach and come back from: the circle around the midpoint of its last and next reports with radius
  reach_speed_kn x duration / 2 (it holds the whole ellipse of reachable positions).

A question a stored usable scene already answers (acquired in the window, showing >= answered_min_share of the
area) is marked answered; given element sets, the satellite passes over each area in its window are listed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import polars as pl
import shapely

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.config import PlanConfig, load_config
from shadowfleet.places import KM_PER_NM, as_places, destination_point, haversine_km

UTC = pl.Datetime("us", "UTC")
QUESTION_COLUMNS = {
    "rank": pl.Int64, "question_id": pl.Utf8, "kind": pl.Utf8, "question": pl.Utf8, "mmsi": pl.Int64,
    "name": pl.Utf8, "listed": pl.Boolean, "lists": pl.Utf8, "barrels": pl.Float64, "cases": pl.Utf8,
    "event_id": pl.Utf8, "place": pl.Utf8, "lat": pl.Float64, "lon": pl.Float64, "radius_km": pl.Float64,
    "start": UTC, "end": UTC, "priority": pl.Float64, "answered": pl.Boolean, "answered_by": pl.Utf8,
    "seen": pl.Utf8,
    "passes": pl.Int64, "next_pass": UTC, "next_satellite": pl.Utf8, "next_ground_km": pl.Float64,
    "next_off_nadir_deg": pl.Float64,
}
PASS_COLUMNS = {
    "question_id": pl.Utf8, "satellite": pl.Utf8, "satnum": pl.Int64, "time": UTC, "ground_km": pl.Float64,
    "side": pl.Utf8, "off_nadir_deg": pl.Float64, "sun_elevation_deg": pl.Float64, "optical": pl.Boolean, "daylight": pl.Boolean,
    "usable": pl.Boolean, "direction": pl.Utf8,
}
MAX_TRACK_SAMPLES = 30_000_000  # ours: sub-satellite points held at once (~240 MB); 3 satellites x a year is 3 M


@dataclass
class Plan:
    questions: pl.DataFrame  # QUESTION_COLUMNS, best first
    passes: pl.DataFrame  # PASS_COLUMNS, one row per pass over a question's area in its window
    geometries: dict[str, object]  # question_id -> shapely area (place polygon or reach circle), lon/lat
    satellites: list[str]  # names of the element sets that had a swath rule
    skipped_satellites: list[str]  # element sets no [imagery.plan.satellites] rule matched
    stale_passes: int  # passes dropped for lying more than max_epoch_days from their element set's epoch
    tle_rejected: list[str]


def _details(df: pl.DataFrame) -> list[dict]:
    out = []
    for d in df["details"].to_list():
        try:
            v = json.loads(d) if d else {}
        except (TypeError, ValueError):
            v = {}
        out.append(v if isinstance(v, dict) else {})
    return out


def _circle(lat: float, lon: float, km: float, n: int = 64):
    la, lo = destination_point(np.full(n, lat), np.full(n, lon), np.linspace(0, 360, n, endpoint=False),
                               np.full(n, max(km, 0.05)))
    return shapely.Polygon(np.column_stack([lo, la]))


def _place_area(gaz, pid: str | list[str]) -> tuple[float, float, float, object]:
    """Centre (centroid), radius of the smallest circle around it holding the polygon, and the polygon (of one
    place, or the union of several)."""
    g = gaz.geometry(pid) if isinstance(pid, str) else shapely.union_all([gaz.geometry(i) for i in pid])
    c = g.centroid
    xy = shapely.get_coordinates(g)
    r = float(haversine_km(c.y, c.x, xy[:, 1], xy[:, 0]).max()) if len(xy) else 0.0
    return float(c.y), float(c.x), r, g


def _vessels(store, mmsis) -> tuple[dict[int, str], dict[int, str]]:
    """{mmsi: latest name}, {mmsi: lists it is on}, of the ships ``mmsis``."""
    from shadowfleet.imagery.occupancy import vessel_identities

    v = vessel_identities(store, mmsis)
    names = {m: n for m, n in zip(v["mmsi"].to_list(), v["name"].to_list()) if n}
    lists = {m: lst for m, lst, hit in zip(v["mmsi"].to_list(), v["lists"].to_list(), v["listed"].to_list()) if hit}
    return names, lists


def _case_stakes(store) -> dict[str, tuple[float, list[str]]]:
    """{event_id: (largest central barrels of the cases citing it, those case ids)}."""
    if not store.files("cases"):
        return {}
    c = store.read("cases", columns=["case_id", "barrels_central", "evidence"])
    out: dict[str, tuple[float, list[str]]] = {}
    for cid, bbl, ev in c.iter_rows():
        try:
            ids = json.loads(ev) if ev else []
        except ValueError:
            continue
        for e in ids if isinstance(ids, list) else []:
            best, cases = out.get(e, (0.0, []))
            out[e] = (max(best, float(bbl or 0.0)), cases + [cid])
    return out


def _questions(store, start: dt.datetime, end: dt.datetime, gaz, cfg: PlanConfig) -> tuple[list[dict], dict]:
    ev = store.read("events") if store.files("events") else None
    if ev is None or ev.height == 0:
        return [], {}
    pad = dt.timedelta(hours=cfg.dark_side_margin_h)
    ev = ev.filter((pl.col("start") < end + pad) & (pl.col("end") >= start - pad))
    names, lists = _vessels(store, ev["mmsi"].to_list() + ev["other_mmsi"].to_list())
    stakes = _case_stakes(store)
    qs: list[dict] = []
    geoms: dict[str, object] = {}
    taken: set[str] = set()

    def add(kind, row, text, lat, lon, radius, geom, place=None, other=None):
        qid = f"{kind}:{row['event_id']}"
        mmsis = [m for m in (row["mmsi"], other) if m is not None]
        hit = [lists[m] for m in mmsis if m in lists]
        bbl, cases = stakes.get(row["event_id"], (0.0, []))
        qs.append({"question_id": qid, "kind": kind, "question": text, "mmsi": row["mmsi"],
                   "name": names.get(row["mmsi"]), "listed": bool(hit), "lists": "; ".join(sorted(set(hit))) or None,
                   "barrels": round(bbl) if bbl else None, "cases": ", ".join(cases) or None,
                   "event_id": row["event_id"], "place": place, "lat": lat, "lon": lon,
                   "radius_km": round(radius, 2), "start": row["start"], "end": row["end"]})
        geoms[qid] = geom
        taken.add(row["event_id"])

    def who(m):
        n = names.get(m)
        return f"{n} ({m})" if n else f"MMSI {m}"

    # dark port calls
    calls = ev.filter((pl.col("type") == "port_call") & pl.col("inferred") & (pl.col("start") < end)
                      & (pl.col("end") >= start))
    dark_calls: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for row in calls.iter_rows(named=True):
        if row["place"] not in gaz:
            continue
        la, lo, r, g = _place_area(gaz, row["place"])
        add("dark_port_call", row, f"Was {who(row['mmsi'])} at {row['place']} while dark?", la, lo, r, g,
            place=row["place"])
        dark_calls.setdefault(row["mmsi"], []).append((row["start"], row["end"]))

    gaps = _dark_intervals(store, ev, start, end, cfg)
    # gaps at a supplier terminal: every such terminal near the gap's first or last position (a tanker going dark
    # at an anchorage may load at any oil berth in reach: the demo's go dark near Kozmino and load at Vostochny)
    tag = cfg.oil_tag.lower()
    oil = np.array([tag in f"{i} {n}".lower() for i, n in zip(gaz.id_array, gaz.names)], dtype=bool)
    terminal = oil & np.isin(gaz.kinds, list(cfg.terminal_kinds)) & np.isin(
        np.asarray(gaz.table["country"].to_list(), dtype=object), list(cfg.terminal_countries))
    t_ids = [str(i) for i in gaz.id_array[terminal]]
    sub = gaz.subset(t_ids) if t_ids else None
    in_call = [any(s <= row["end"] and row["start"] <= e for s, e in dark_calls.get(row["mmsi"], []))
               for row in gaps]  # the dark call made of that gap already asks
    for row, skip in zip(gaps, in_call):
        if skip:
            continue
        la1, lo1, la2, lo2 = row["lat"], row["lon"], row["lat2"], row["lon2"]
        if sub is not None and None not in (la1, lo1, la2, lo2):
            _, pos, dist = sub.pairs_within_km(np.array([la1, la2], float), np.array([lo1, lo2], float),
                                               cfg.near_terminal_km)
            if pos.size:
                order = np.argsort(dist, kind="stable")
                pids = list(dict.fromkeys(str(sub.id_array[i]) for i in pos[order]))  # nearest first
                la, lo, r, g = _place_area(gaz, pids)
                add("gap_at_terminal", row, f"Did {who(row['mmsi'])} load at {' or '.join(pids)} during its "
                    f"{(row['end'] - row['start']).total_seconds() / 3600:.0f} h {row['what']}?", la, lo, r, g,
                    place=", ".join(pids))

    # STS: loitering inside an STS area; an encounter in one with a gap on either side
    gap_spans: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for row in ev.filter(pl.col("type") == "ais_gap").iter_rows(named=True):
        gap_spans.setdefault(row["mmsi"], []).append((row["start"], row["end"]))

    def dark_near(m, s, e):
        return any(a <= e + pad and s - pad <= b for a, b in gap_spans.get(m, []))

    sts_ev = ev.filter(pl.col("type").is_in(["loitering", "encounter"]) & (pl.col("start") < end)
                       & (pl.col("end") >= start))
    for row, d in zip(sts_ev.iter_rows(named=True), _details(sts_ev)):
        area = d.get("sts_area") if row["type"] == "loitering" else (
            d.get("place") if d.get("place_kind") == "sts_area" else None)
        if not area or area not in gaz:
            continue
        if row["type"] == "encounter" and not (dark_near(row["mmsi"], row["start"], row["end"])
                                               or dark_near(row["other_mmsi"], row["start"], row["end"])):
            continue
        r = max(1.0, float(d.get("max_distance_km") or 0.0))
        text = (f"Which ship was alongside {who(row['mmsi'])} loitering in {area}?" if row["type"] == "loitering"
                else f"Did {who(row['mmsi'])} and {who(row['other_mmsi'])} transfer cargo in {area}?")
        add("sts", row, text, row["lat"], row["lon"], r, _circle(row["lat"], row["lon"], r), place=area,
            other=row["other_mmsi"])

    # listed vessels gone dark
    for row, skip in zip(gaps, in_call):
        if skip or row["event_id"] in taken or row["mmsi"] not in lists:
            continue
        la2, lo2 = row["lat2"], row["lon2"]
        if None in (row["lat"], row["lon"], la2, lo2):
            continue
        hours = (row["end"] - row["start"]).total_seconds() / 3600
        # the midpoint (the last and next reports are close compared with the reach); across the antimeridian
        # the shorter way round
        lo2 = lo2 + 360 if lo2 - row["lon"] < -180 else lo2 - 360 if lo2 - row["lon"] > 180 else lo2
        mid_la, mid_lo = (row["lat"] + la2) / 2, ((row["lon"] + lo2) / 2 + 180) % 360 - 180
        r = max(cfg.reach_speed_kn * KM_PER_NM * hours / 2, float(haversine_km(row["lat"], row["lon"], la2, lo2)) / 2)
        add("listed_dark", row, f"Where was listed {who(row['mmsi'])} during its {hours:.0f} h {row['what']}?",
            mid_la, mid_lo, r, _circle(mid_la, mid_lo, r))
    return qs, geoms


def _dark_intervals(store, ev: pl.DataFrame, start: dt.datetime, end: dt.datetime, cfg: PlanConfig) -> list[dict]:
    """Where a ship's true position is unknown for min_gap_h or more: AIS gaps, and spliced false tracks
    (spoofing of kind spliced_track: the true track stops at ``unobserved_from`` and resumes at
    ``unobserved_to`` while a false one is broadcast). Each with its last and next true positions."""
    out = []
    gaps = ev.filter((pl.col("type") == "ais_gap") & (pl.col("start") < end) & (pl.col("end") >= start)
                     & ((pl.col("end") - pl.col("start")).dt.total_seconds() >= cfg.min_gap_h * 3600))
    for row, d in zip(gaps.iter_rows(named=True), _details(gaps)):
        end_pos = d.get("end_position") if isinstance(d.get("end_position"), dict) else {}
        out.append({**row, "lat2": end_pos.get("lat", row["lat"]), "lon2": end_pos.get("lon", row["lon"]),
                    "what": "AIS gap"})
    spoof = ev.filter(pl.col("type") == "spoofing")
    for row, d in zip(spoof.iter_rows(named=True), _details(spoof)):
        try:
            t0 = dt.datetime.fromisoformat(str(d["unobserved_from"]).replace("Z", "+00:00"))
            t1 = dt.datetime.fromisoformat(str(d["unobserved_to"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            continue  # a spoofing kind that hides no stretch of the true track
        if not (t0 < end and t1 >= start and (t1 - t0).total_seconds() >= cfg.min_gap_h * 3600):
            continue
        seg = store.read("segments", t0 - dt.timedelta(hours=6), t1 + dt.timedelta(hours=6), mmsi=row["mmsi"],
                         columns=["mmsi", "ts", "lat", "lon", "segment"]) if store.files("segments") else None
        before = after = None
        if seg is not None and seg.height:
            # the false stretch is the unobserved interval itself (the segmenter may keep both in one segment)
            true = seg.filter(pl.col("segment").is_not_null()).sort("ts")
            b, a = true.filter(pl.col("ts") <= t0), true.filter(pl.col("ts") >= t1)
            before = b.row(b.height - 1, named=True) if b.height else None
            after = a.row(0, named=True) if a.height else None
        la1, lo1 = (before["lat"], before["lon"]) if before else (row["lat"], row["lon"])
        la2, lo2 = (after["lat"], after["lon"]) if after else (la1, lo1)
        out.append({**row, "start": t0, "end": t1, "lat": la1, "lon": lo1, "lat2": la2, "lon2": lo2,
                    "what": "spoofed track"})
    return out


def _answered(store, qs: list[dict], geoms: dict, cfg: PlanConfig) -> None:
    """Mark the questions a stored usable scene answers, and say what it saw in the area."""
    from shadowfleet.imagery.main import read_detections, read_scenes
    from shadowfleet.imagery.occupancy import footprint_shape

    for q in qs:
        q["answered"], q["answered_by"], q["seen"] = False, None, None
    scenes = read_scenes(store) if store.files("scenes") else None
    if scenes is None or scenes.height == 0 or not qs:
        return
    scenes = scenes.filter(pl.col("status") == "ok")
    foot = [footprint_shape(f) for f in scenes["footprint"].to_list()]
    acquired = scenes["acquired"].to_list()
    sids = scenes["scene_id"].to_list()
    det = read_detections(store) if store.files("detections") else None
    matched: dict[str, bool] = {}
    if det is not None and store.files("matches"):
        m = store.read("matches", columns=["detection_id", "mmsi"])
        matched = dict(zip(m["detection_id"].to_list(), m["mmsi"].is_not_null().to_list()))
    for q in qs:
        geom = geoms[q["question_id"]]
        by = [sid for sid, t, g in zip(sids, acquired, foot)
              if g is not None and q["start"] <= t <= q["end"]
              and shapely.area(shapely.intersection(g, geom)) >= cfg.answered_min_share * shapely.area(geom)]
        if not by:
            continue
        q["answered"], q["answered_by"] = True, ", ".join(by)
        if det is None:
            continue
        seen = []
        for sid in by:
            d = det.filter(pl.col("scene_id") == sid)
            inside = d.filter(pl.Series(shapely.contains_xy(geom, d["lon"].to_numpy(), d["lat"].to_numpy())))
            ids = inside["detection_id"].to_list()
            dark = sum(1 for i in ids if matched.get(i) is False)
            text = f"{sid}: {len(ids)} ship{'s' if len(ids) != 1 else ''}"
            seen.append(text + (f", {dark} not broadcasting" if dark else ""))
        q["seen"] = "; ".join(seen)


def _rank(qs: list[dict], cfg: PlanConfig) -> None:
    weight = {"dark_port_call": cfg.w_dark_port_call, "sts": cfg.w_sts, "gap_at_terminal": cfg.w_gap_at_terminal,
              "listed_dark": cfg.w_listed_dark}
    half = cfg.scene_km / 2
    for q in qs:
        stake = 1.0 + cfg.w_listed * q["listed"] + (q["barrels"] or 0.0) / cfg.barrels_unit
        imageable = min(1.0, (half / q["radius_km"]) ** 2) if q["radius_km"] > 0 else 1.0
        q["priority"] = round(weight[q["kind"]] * stake * imageable, 4)
    qs.sort(key=lambda q: (q["answered"], -q["priority"], q["start"], q["question_id"]))
    for i, q in enumerate(qs, 1):
        q["rank"] = i


def plan(store, start: dt.datetime, end: dt.datetime, tle=None, config=None, places=None) -> Plan:
    """The ranked open questions of [start, end) with, given element sets (a path or an orbits.TleRead), the
    passes of the satellites a rule of [imagery.plan.satellites] names over each question's area in its window."""
    from shadowfleet.imagery.orbits import TleRead, find_passes, read_tle, rule_for

    cfg = load_config(config).plan
    if end <= start:
        raise ShadowfleetError(f"--to ({end:%Y-%m-%d %H:%M}) must be after --from ({start:%Y-%m-%d %H:%M})")
    if (end - start).days > 366:
        raise ShadowfleetError("a plan covers at most 366 days: narrow --from/--to")
    if not (1900 < start.year and end.year < 2200):  # the windows are padded by hours: year 1 or 9999 overflows
        raise ShadowfleetError("--from and --to must lie between the years 1901 and 2199")
    gaz = as_places(places)
    tle_read = None if tle is None else (tle if isinstance(tle, TleRead) else read_tle(tle))
    qs, geoms = _questions(store, start, end, gaz, cfg)
    _answered(store, qs, geoms, cfg)
    _rank(qs, cfg)
    passes = pl.DataFrame(schema=PASS_COLUMNS)
    sat_names, skipped, stale = [], [], 0
    if tle_read is not None:
        sats, rules = [], []
        for s in tle_read.satellites:
            r = rule_for(s.name, cfg.satellites)
            (sats.append(s), rules.append(r)) if r is not None else skipped.append(s.name)
        sat_names = [s.name for s in sats]
        samples = len(sats) * (end - start).total_seconds() / cfg.step_s
        if samples > MAX_TRACK_SAMPLES:
            raise ShadowfleetError(f"{len(sats)} satellites over {(end - start).days} days is {samples:,.0f} track "
                                   f"samples, more than {MAX_TRACK_SAMPLES:,}: narrow --from/--to or the TLE file")
        if sats and qs:
            us = lambda t: np.datetime64(t.astimezone(dt.timezone.utc).replace(tzinfo=None), "us")  # noqa: E731
            found = find_passes(sats, rules, np.array([q["lat"] for q in qs]), np.array([q["lon"] for q in qs]),
                                np.array([q["radius_km"] for q in qs]),
                                np.array([us(max(q["start"], start)) for q in qs]),
                                np.array([us(min(q["end"], end)) for q in qs]), cfg.step_s, cfg.refine_step_s)
            epoch = {s.satnum: s.epoch for s in sats}
            fresh = [p for p in found
                     if abs((p["time"] - epoch[p["satnum"]]).total_seconds()) <= cfg.max_epoch_days * 86400]
            stale = len(found) - len(fresh)
            found = fresh
            if found:
                passes = pl.DataFrame([{"question_id": qs[p.pop("area")]["question_id"], **p} for p in found],
                                      schema=PASS_COLUMNS).sort("question_id", "time")
    usable = passes.filter(pl.col("usable")).group_by("question_id", maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("passes"), pl.col("time").first().alias("next_pass"),
        pl.col("satellite").first().alias("next_satellite"), pl.col("ground_km").first().alias("next_ground_km"),
        pl.col("off_nadir_deg").first().alias("next_off_nadir_deg"))
    q = pl.DataFrame(qs, schema={k: v for k, v in QUESTION_COLUMNS.items() if k not in (
        "passes", "next_pass", "next_satellite", "next_ground_km", "next_off_nadir_deg")}) if qs else None
    if q is None:
        questions = pl.DataFrame(schema=QUESTION_COLUMNS)
    else:
        questions = q.join(usable, on="question_id", how="left").with_columns(
            pl.when(pl.lit(tle_read is not None)).then(pl.col("passes").fill_null(0)).otherwise(None)
            .alias("passes")).select([pl.col(c).cast(t) for c, t in QUESTION_COLUMNS.items()]).sort("rank")
    return Plan(questions, passes, geoms, sat_names, skipped, stale,
                [] if tle_read is None else tle_read.rejected)


def plan_geojson(p: Plan) -> str:
    """The questions as a GeoJSON FeatureCollection: each area (place polygon or reach circle) with the
    question's columns and its passes as properties."""
    from shapely.geometry import mapping

    from shadowfleet.output import json_records

    by_q: dict[str, list[dict]] = {}
    for r in json_records(p.passes):
        by_q.setdefault(r.pop("question_id"), []).append(r)
    feats = []
    for r in json_records(p.questions):
        feats.append({"type": "Feature", "geometry": mapping(p.geometries[r["question_id"]]),
                      "properties": {**r, "pass_list": by_q.get(r["question_id"], [])}})
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False) + "\n"


def plan_csv(p: Plan) -> str:
    """One row per question; its usable passes as 'time satellite ground_km' joined with '|'."""
    from shadowfleet.output import csv_text, utc_expr

    lst = (p.passes.filter(pl.col("usable")).group_by("question_id", maintain_order=True)
           .agg(pl.format("{} {} {} km", utc_expr("time", UTC), "satellite", "ground_km").str.join("|")
                .alias("pass_list")))
    return csv_text(p.questions.join(lst, on="question_id", how="left"))


def summary_line(q: dict) -> str:
    """One line for a person: rank, question, window, stake, state."""
    from shadowfleet.output import utc_text

    stake = []
    if q["listed"]:
        stake.append("listed")
    if q["barrels"]:
        stake.append(f"{q['barrels']:,.0f} bbl")
    window = f"{(utc_text(q['start']) or '')[:16]}Z–{(utc_text(q['end']) or '')[:16]}Z"
    state = f"answered by {q['seen'] or q['answered_by']}" if q["answered"] else "open"
    if q["next_pass"] is not None:
        state += f"; next pass {(utc_text(q['next_pass']) or '')[:16]}Z {q['next_satellite']} ({q['next_ground_km']} km)"
    elif q["passes"] == 0:
        state += "; no usable pass in the window"
    where = f"{q['radius_km']:.0f} km around {q['lat']:.3f}, {q['lon']:.3f}" if q["kind"] in ("listed_dark",) \
        else (q["place"] or f"{q['lat']:.3f}, {q['lon']:.3f}")
    return (f"{q['rank']}. {q['question']} [{where}, {window}"
            f"{', ' + ', '.join(stake) if stake else ''}] priority {q['priority']:.2f}, {state}")
