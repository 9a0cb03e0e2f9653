"""The `matches` table and the imagery events scored against the simulator's truth (imagery.json): which ship
each detection really is (xView3's rule: one-to-one within 200 m of where the renderer put it), then

- accepted matches correct: matched detections whose true ship carries that MMSI;
- AIS-on ships seen in an image matched to the right MMSI (ships broadcasting their own position, heard
  within the matcher's reach of the image, detected);
- dark ships (transponder off, broadcasting a false position, or not one report received within
  ``moored_window_h`` of the image: nothing could name them) of at least ``min_length_m`` found as
  `dark_detection`, and the share of such events that are dark ships;
- spoofed ships whose false AIS position lies in a usable scene reported as `unconfirmed_position`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.evaluate import truth_text
from shadowfleet.imagery.config import MatchConfig
from shadowfleet.imagery.match import PART
from shadowfleet.places import haversine_km

# xView3: a detection is a vessel when within 200 m of it
TRUTH_MATCH_M = 200.0


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


@dataclass
class MatchScore:
    scenes: int = 0
    accepted: int = 0
    accepted_correct: int = 0
    ais_on_seen: int = 0
    ais_on_right: int = 0
    dark_ships: int = 0  # dark ships >= min length in usable scenes
    dark_found: int = 0  # ... whose detection became a dark_detection
    dark_identified: int = 0  # ... matched to their own MMSI from reports around their AIS gap
    dark_undetected: int = 0  # ... that the detector missed (no detection within 200 m)
    dark_events: int = 0  # dark_detection events of objects >= min length
    dark_events_true: int = 0
    ambiguous: int = 0  # detections left unassigned with a track that could be there
    spoofed_in_scene: int = 0  # spoofed ships whose false position (as received) lies in a usable scene
    spoofed_unconfirmed: int = 0
    errors: list[dict] = field(default_factory=list)  # each wrong or missed outcome, with why

    def as_dict(self) -> dict:
        return {"scenes": self.scenes,
                "accepted_correct": [self.accepted_correct, self.accepted, _ratio(self.accepted_correct,
                                                                                   self.accepted)],
                "ais_on_right_mmsi": [self.ais_on_right, self.ais_on_seen, _ratio(self.ais_on_right,
                                                                                   self.ais_on_seen)],
                "dark_recall": [self.dark_found, self.dark_ships, _ratio(self.dark_found, self.dark_ships)],
                "dark_identified_by_own_ais": self.dark_identified,
                "dark_undetected": self.dark_undetected,
                "dark_precision": [self.dark_events_true, self.dark_events, _ratio(self.dark_events_true,
                                                                                    self.dark_events)],
                "ambiguous": self.ambiguous,
                "spoofed_unconfirmed": [self.spoofed_unconfirmed, self.spoofed_in_scene,
                                        _ratio(self.spoofed_unconfirmed, self.spoofed_in_scene)]}

    def add(self, other: MatchScore) -> MatchScore:
        for k, v in vars(other).items():
            setattr(self, k, getattr(self, k) + v)
        return self


def _truth_ships(doc: dict) -> pl.DataFrame:
    rows = []
    for a in doc["acquisitions"]:
        seen_at = (a.get("render") or {}).get("image_positions", {})
        for s in a.get("ships", []):
            lat, lon = seen_at.get(str(s["mmsi"]), (s["lat"], s["lon"]))
            rows.append({"scene_id": str(a["id"]), "mmsi": int(s["mmsi"]), "lat": float(lat), "lon": float(lon),
                         "length": float(s["length"]) if s.get("length") is not None else None,
                         "dark": (not s.get("ais_on", True)) or bool(s.get("ais_spoofed"))})
    return pl.DataFrame(rows, schema={"scene_id": pl.Utf8, "mmsi": pl.Int64, "lat": pl.Float64, "lon": pl.Float64,
                                      "length": pl.Float64, "dark": pl.Boolean})


def load_imagery_truth(path: str | Path) -> dict:
    p = Path(path)
    text = truth_text(p, "an imagery.json")
    try:
        doc = json.loads(text)
        _truth_ships(doc)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise ShadowfleetError(f"{p}: not a simulator imagery.json ({type(exc).__name__}: {exc})") from None
    return doc


def _pair(d: pl.DataFrame, t: pl.DataFrame, matched: list, alias: dict[int, set[int]]) -> dict[int, int]:
    """xView3's pairing of detections and true ships within 200 m (least total distance), where two true ships
    lie about as near a detection (alongside, one hull seen) the one it was matched to taken first."""
    from scipy.optimize import linear_sum_assignment

    if d.height == 0 or t.height == 0:
        return {}
    dist = haversine_km(d["lat"].to_numpy()[:, None], d["lon"].to_numpy()[:, None], t["lat"].to_numpy()[None, :],
                        t["lon"].to_numpy()[None, :]) * 1000.0
    tm = t["mmsi"].to_list()
    same = np.array([[m is not None and m in alias.get(x, {x}) for x in tm] for m in matched], bool)
    ok = dist <= TRUTH_MATCH_M
    cost = np.where(ok, dist - np.where(same, TRUTH_MATCH_M, 0.0), 1e9)
    r, c = linear_sum_assignment(cost)
    return {int(a): int(b) for a, b in zip(r, c) if ok[a, b]}


def _aliases(vessels: list[dict]) -> dict[int, set[int]]:
    """Each vessel's MMSI -> every MMSI it broadcast under (truth.json's identities: a ship that changed identity
    is still itself)."""
    out = {}
    for v in vessels:
        ids = {int(v["mmsi"])} | {int(i["mmsi"]) for i in v.get("identities", []) if i.get("mmsi") is not None}
        out[int(v["mmsi"])] = ids
    return out


def score_matches(store, truth: str | Path | dict, min_length_m: float = 50.0,
                  vessels: list[dict] | None = None) -> MatchScore:
    """Score the store's `matches`, `dark_detection` and `unconfirmed_position` against ``truth`` (an
    imagery.json path or document; an acquisition's `spoofed_positions`, as :func:`spoofed_acquisitions` writes,
    lists the false AIS positions inside it). ``vessels``: truth.json's vessels, so that a match to any MMSI a
    ship broadcast under counts as right."""
    from shadowfleet.imagery.main import read_detections, read_scenes

    doc = truth if isinstance(truth, dict) else load_imagery_truth(truth)
    ships = _truth_ships(doc)
    scenes = read_scenes(store).filter(pl.col("status") == "ok")
    det = read_detections(store)
    matches = store.read("matches") if store.files("matches") else pl.DataFrame(
        schema={"detection_id": pl.Utf8, "mmsi": pl.Int64, "reason": pl.Utf8})
    ev = store.read("events") if store.files("events") else pl.DataFrame(
        schema={"type": pl.Utf8, "mmsi": pl.Int64, "start": pl.Datetime("us", "UTC"), "details": pl.Utf8})
    dark_ids = {json.loads(d)["detection_id"] for d in ev.filter(pl.col("type") == "dark_detection")["details"]}
    unconf = ev.filter(pl.col("type") == "unconfirmed_position")
    unconf_keys = {(int(m), json.loads(x)["scene_id"]) for m, x in zip(unconf["mmsi"], unconf["details"])}
    claims = {str(a["id"]): a.get("spoofed_positions", []) for a in doc["acquisitions"]}
    m_of = dict(zip(matches["detection_id"].to_list(), matches["mmsi"].to_list()))
    reason_of = dict(zip(matches["detection_id"].to_list(), matches["reason"].to_list()))
    sc = MatchScore(scenes=scenes.height)
    reach = dt.timedelta(hours=max(MatchConfig().window_h, MatchConfig().moored_window_h))
    heard = store.read("positions", scenes["acquired"].min() - reach, scenes["acquired"].max() + reach,
                       columns=["mmsi", "ts"]) if store.files("positions") and scenes.height else pl.DataFrame(
        schema={"mmsi": pl.Int64, "ts": pl.Datetime("us", "UTC")})
    when = dict(zip(scenes["scene_id"].to_list(), scenes["acquired"].to_list()))
    alias = _aliases(vessels or [])
    for sid in scenes["scene_id"].to_list():
        near = set(heard.filter((pl.col("ts") - when[sid]).abs() <= reach)["mmsi"].unique().to_list())
        t = ships.filter(pl.col("scene_id") == sid)
        unheard = [not (alias.get(m, {m}) & near) for m in t["mmsi"].to_list()]
        t = t.with_columns((pl.col("dark") | pl.Series(unheard, dtype=pl.Boolean)).alias("dark"))
        d = det.filter(pl.col("scene_id") == sid)
        truth_of = _pair(d, t, [m_of.get(x) for x in d["detection_id"].to_list()], alias)
        ids, dlen = d["detection_id"].to_list(), d["length_m"].to_list()
        # a piece of a hull stands for the hull it belongs to
        index = {x: a for a, x in enumerate(ids)}
        hull = {a: index.get(str(reason_of.get(x) or "").removeprefix(PART), a) for a, x in enumerate(ids)}
        for a, b in list(truth_of.items()):
            truth_of.setdefault(hull[a], b)
        det_of = {b: hull[a] for a, b in truth_of.items()}
        tm, tl, tdark = t["mmsi"].to_list(), t["length"].to_list(), t["dark"].to_list()
        for a, did in enumerate(ids):
            got = m_of.get(did)
            true_mmsi = tm[truth_of[a]] if a in truth_of else None
            if got is not None:
                sc.accepted += 1
                if true_mmsi is not None and got in alias.get(true_mmsi, {true_mmsi}):
                    sc.accepted_correct += 1
                else:
                    sc.errors.append({"scene_id": sid, "detection_id": did, "kind": "wrong match", "mmsi": got,
                                      "true_mmsi": true_mmsi})
            elif (reason_of.get(did) or "").startswith("ambiguous"):
                sc.ambiguous += 1
            if did in dark_ids:
                length = tl[truth_of[a]] if a in truth_of else dlen[a]
                if length is not None and length >= min_length_m:
                    sc.dark_events += 1
                    if a in truth_of and tdark[truth_of[a]]:
                        sc.dark_events_true += 1
                    else:
                        sc.errors.append({"scene_id": sid, "detection_id": did, "kind": "false dark_detection",
                                          "true_mmsi": true_mmsi, "reason": reason_of.get(did)})
        for b in range(t.height):
            if tdark[b]:
                if tl[b] is None or tl[b] < min_length_m:
                    continue
                sc.dark_ships += 1
                if b not in det_of:
                    sc.dark_undetected += 1
                    sc.errors.append({"scene_id": sid, "true_mmsi": tm[b], "kind": "dark ship not detected"})
                elif ids[det_of[b]] in dark_ids:
                    sc.dark_found += 1
                elif m_of.get(ids[det_of[b]]) in alias.get(tm[b], {tm[b]}):
                    sc.dark_identified += 1
                else:
                    did = ids[det_of[b]]
                    sc.errors.append({"scene_id": sid, "detection_id": did, "true_mmsi": tm[b],
                                      "kind": "dark ship not a dark_detection", "mmsi": m_of.get(did),
                                      "reason": reason_of.get(did)})
            elif b in det_of:
                sc.ais_on_seen += 1
                did = ids[det_of[b]]
                if m_of.get(did) in alias.get(tm[b], {tm[b]}):
                    sc.ais_on_right += 1
                else:
                    sc.errors.append({"scene_id": sid, "detection_id": did, "true_mmsi": tm[b],
                                      "kind": "AIS-on ship not matched to it", "mmsi": m_of.get(did),
                                      "reason": reason_of.get(did)})
        for c in claims.get(sid, []):
            sc.spoofed_in_scene += 1
            if (int(c["mmsi"]), sid) in unconf_keys:
                sc.spoofed_unconfirmed += 1
            else:
                sc.errors.append({"scene_id": sid, "true_mmsi": c["mmsi"], "kind": "spoofed position not "
                                  "reported as unconfirmed_position", "spoofing": c.get("kind")})
    return sc


# the simulator's planted false tracks that lie at sea (a track drawn across land is not a radar question)
AT_SEA_SPOOFING = ("spliced_middle", "spliced_first", "out_of_range")
FALSE_TRACK_KM_PER_MIN = 0.37  # 12 kn: faster than the simulator's false tracks run (sim/scenarios/spoofing.py)


def _square(lat: float, lon: float, km: float) -> dict:
    d = km / 2 / 111.195
    e = d / np.cos(np.radians(lat))
    ring = [[lon - e, lat - d], [lon + e, lat - d], [lon + e, lat + d], [lon - e, lat + d], [lon - e, lat - d]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def spoofed_acquisitions(truth: dict, store, footprint_km: float = 8.0, after_min: float = 30.0,
                         max_gap_min: float = 20.0) -> list[dict]:
    """Radar acquisitions (imagery.json form, for ``sim.render.render``) that put spoofed positions in a scene,
    from a simulator truth.json's spoofing events at sea and the store's received AIS:

    - ``<event>-false``: centred, at least ``after_min`` into the false stretch, halfway between two received
      false reports at most ``max_gap_min`` apart, on where AIS says the ship is; nothing is there
      (`spoofed_positions` records the claim);
    - ``<event>-hull``: for a ship silent before its false stretch began (spliced_first), at its start,
      centred on the real hull, which is in the image with its AIS off."""
    out = []
    by_mmsi = {v["mmsi"]: v for v in truth.get("vessels", [])}
    for e in truth["events"]:
        kind = (e.get("details") or {}).get("kind")
        if e["type"] != "spoofing" or kind not in AT_SEA_SPOOFING or e["mmsi"] not in by_mmsi:
            continue
        a = dt.datetime.fromisoformat(e["start"].replace("Z", "+00:00"))
        b = dt.datetime.fromisoformat(e["end"].replace("Z", "+00:00"))
        p = store.read("positions", a, b, columns=["mmsi", "ts", "lat", "lon"]).filter(
            (pl.col("mmsi") == e["mmsi"]) & (pl.col("ts") >= a + dt.timedelta(minutes=after_min))
            & (pl.col("ts") < b)).sort("ts")
        ts = p["ts"].to_list()
        # a false report: where the false track can have got to since it began (the planted ones run at 6-8 kn;
        # real reports heard in between lie with the real ship, 110-650 km away)
        minutes = np.array([(x - a).total_seconds() / 60 for x in ts])
        off_km = haversine_km(p["lat"].to_numpy(), p["lon"].to_numpy(), e["lat"], e["lon"])
        false = off_km <= FALSE_TRACK_KM_PER_MIN * minutes + 5.0
        ok = [k for k in range(len(ts) - 1) if false[k] and false[k + 1]
              and (ts[k + 1] - ts[k]) <= dt.timedelta(minutes=max_gap_min)]
        v = by_mmsi[e["mmsi"]]
        if ok:
            k = ok[0]
            t = ts[k] + (ts[k + 1] - ts[k]) / 2
            lat, lon = (p["lat"][k] + p["lat"][k + 1]) / 2, (p["lon"][k] + p["lon"][k + 1]) / 2
            out.append({"id": f"{e['id']}-false", "sensor": "SAR", "site": None,
                        "time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "footprint": _square(lat, lon, footprint_km),
                        "cloudy": False, "ships": [],
                        "spoofed_positions": [{"mmsi": e["mmsi"], "lat": lat, "lon": lon, "kind": kind}]})
        if kind == "spliced_first":
            lat, lon = e["details"]["true_lat"], e["details"]["true_lon"]
            out.append({"id": f"{e['id']}-hull", "sensor": "SAR", "site": None,
                        "time": a.strftime("%Y-%m-%dT%H:%M:%SZ"), "footprint": _square(lat, lon, footprint_km),
                        "cloudy": False, "ships": [{"mmsi": e["mmsi"], "name": v.get("name"), "lat": lat,
                                                    "lon": lon, "length": v["length"], "beam": v.get("beam"),
                                                    "heading": 0.0, "sog": 0.0, "ais_on": False,
                                                    "ais_spoofed": True, "role": v.get("role")}]})
    return out
