"""Cases corroborated by satellite imagery, on hand-worked stores: a dark ship of the right length at the oil
berth while the tanker's AIS was off corroborates its load; the tanker's own matched detection confirms a call; a
dark ship alongside another in the STS area corroborates a dark transfer; lengths, times and places that do not
fit corroborate nothing; two dark tankers never share one hull; a detection the matcher left ambiguous counts at
half weight."""

import datetime as dt
import json

import polars as pl
import pytest

from casekit import PLACES, event, h, static
from shadowfleet.cases import build_cases, load_config
from shadowfleet.cases.config import DEFAULTS
from shadowfleet.places import destination_point
from shadowfleet.store.schema import DETECTIONS, MATCHES

KP1, KP2, SL1 = 445100001, 445100002, 667000001
BERTH = (42.74, 133.06)  # RUVYP-OIL in the test gazetteer
STS = (38.55, 125.20)  # SOKDO-STS


def _dark_load(mmsi=KP1, start=0, end=30, chongjin=(60, 90)):
    return [event("ais_gap", mmsi, start, end), event("port_call", mmsi, start, end, place="RUVYP", inferred=True),
            event("port_call", mmsi, *chongjin, place="KPCHO")]


def _with_imagery(st, detections, matched=None):
    """As `imagery detect` and `imagery match` leave a store: ``detections`` (id, hour, lat, lon, length m) placed
    in the test gazetteer; ``matched``: {id: mmsi}; the others are dark (a dark_detection event each)."""
    matched = matched or {}
    det, mat, evs = [], [], []
    for did, hour, lat, lon, length in detections:
        t, scene = h(hour), did.split("-")[0]
        place = PLACES.locate(lat, lon, kinds=("port", "berth", "terminal", "anchorage", "sts_area"))[0]
        det.append({k: None for k in DETECTIONS} | {"detection_id": did, "scene_id": scene, "sensor": "sar",
                   "acquired": t, "lat": lat, "lon": lon, "length_m": length, "place": place, "fixed": False})
        mat.append({k: None for k in MATCHES} | {"detection_id": did, "scene_id": scene, "acquired": t,
                   "mmsi": matched.get(did), "reason": "matched" if did in matched else "no AIS track within the gate"})
        if did not in matched:
            evs.append({"event_id": f"dark_detection-{did}", "type": "dark_detection", "mmsi": None, "start": t,
                        "end": t, "lat": lat, "lon": lon, "place": place, "other_mmsi": None, "inferred": False,
                        "details": json.dumps({"detection_id": did, "scene_id": scene, "sensor": "sar",
                                               "length_m": length})})
    st.replace("detections", pl.DataFrame(det, schema=DETECTIONS))
    st.replace("matches", pl.DataFrame(mat, schema=MATCHES))
    old = st.read("events")
    st.replace("events", pl.concat([old, pl.DataFrame(evs, schema=old.schema)]) if evs else old)
    return st


def _case(st, cfg=DEFAULTS):
    c = build_cases(st, places=PLACES, cfg=cfg)
    assert c.height == 1
    return c.row(0, named=True)


def _imagery(r):
    return json.loads(r["imagery"])


def test_dark_ship_of_the_tankers_length_at_the_oil_berth_during_its_gap_corroborates_the_load(make_store):
    st = make_store(_dark_load(), [static(KP1, "YU SON", None, 100, 15)])
    plain = _case(st)
    _with_imagery(st, [("s1-1", 12, *BERTH, 90.0)])
    r = _case(st)
    assert r["confidence"] == pytest.approx(min(1.0, plain["confidence"] + DEFAULTS.w_imagery_dark_load))
    [img] = _imagery(r)
    assert (img["role"], img["matched"], img["detection_id"], img["scene_id"], img["place"]) == (
        "load", False, "s1-1", "s1", "RUVYP-OIL")
    assert img["acquired"] == "2024-03-07 12:00" and img["length_m"] == 90.0 and img["ais_length_m"] == 100.0
    reason = next(s for s in json.loads(r["reasons"]) if s.startswith("imagery corroborates the dark load"))
    assert "scene s1 at 2024-03-07 12:00 UTC" in reason and "s1-1" in reason and "RUVYP-OIL" in reason
    assert "dark_detection-s1-1" in json.loads(r["evidence"])


@pytest.mark.parametrize("why, detection", [
    ("too long for the hull (1.6x)", ("s1-1", 12, *BERTH, 160.0)),
    ("taken before the AIS went off", ("s1-1", -5, *BERTH, 90.0)),
    ("at the anchorage, not at a berth", ("s1-1", 12, 42.70, 133.10, 90.0)),
])
def test_a_detection_that_does_not_fit_corroborates_nothing(make_store, why, detection):
    st = make_store(_dark_load(), [static(KP1, "YU SON", None, 100, 15)])
    plain = _case(st)
    r = _case(_with_imagery(st, [detection]))
    assert _imagery(r) == [], why
    assert r["confidence"] == plain["confidence"]


def test_the_tankers_own_matched_detection_at_the_berth_confirms_a_seen_call(make_store):
    evs = [event("port_call", KP1, 0, 30, place="RUVYP-OIL"), event("port_call", KP1, 60, 90, place="KPCHO")]
    st = make_store(evs, [static(KP1, "YU SON", None, 100, 15)])
    plain = _case(st)
    # another ship's matched detection at the same berth confirms nothing of this case
    r = _case(_with_imagery(st, [("s1-1", 10, *BERTH, 95.0), ("s1-2", 10, 42.741, 133.061, 95.0)],
                            matched={"s1-1": KP1, "s1-2": 273000001}))
    [img] = _imagery(r)
    assert img["matched"] and img["detection_id"] == "s1-1" and img["event_id"] is None
    assert r["confidence"] == pytest.approx(plain["confidence"] + DEFAULTS.w_imagery_matched)
    assert any(s.startswith("imagery confirms the call") for s in json.loads(r["reasons"]))


def test_two_dark_tankers_at_one_berth_each_get_the_detection_of_their_own_length(make_store):
    evs = _dark_load(KP1) + _dark_load(KP2, 2, 32, (70, 95))
    st = make_store(evs, [static(KP1, "SMALL", None, 60, 10), static(KP2, "LARGE", None, 120, 17)])
    lat2, lon2 = destination_point(BERTH[0], BERTH[1], 90.0, 0.15)
    _with_imagery(st, [("s1-1", 12, *BERTH, 118.0), ("s1-2", 12, float(lat2), float(lon2), 63.0)])
    c = build_cases(st, places=PLACES)
    got = {r["mmsi"]: [x["detection_id"] for x in _imagery(r)] for r in c.iter_rows(named=True)}
    assert got == {KP1: ["s1-2"], KP2: ["s1-1"]}


def test_a_detection_the_matcher_left_ambiguous_corroborates_at_half_weight_and_a_hull_piece_not_at_all(make_store):
    st = make_store(_dark_load(), [static(KP1, "YU SON", None, 100, 15)])
    plain = _case(st)
    _with_imagery(st, [("s1-1", 12, *BERTH, 90.0)], matched={"s1-1": None})
    st.replace("matches", st.read("matches").with_columns(
        pl.lit("ambiguous: track 273000001, taken to be moored 3440 m away, could have moved here").alias("reason")))
    r = _case(st)
    [img] = _imagery(r)
    assert img["ambiguous"] and not img["matched"] and img["event_id"] is None
    assert r["confidence"] == pytest.approx(plain["confidence"] + DEFAULTS.w_imagery_dark_load * 0.5)
    assert any("the matcher found it ambiguous" in s for s in json.loads(r["reasons"]))
    st.replace("matches", st.read("matches").with_columns(pl.lit("part of the hull in s1-0").alias("reason")))
    assert _imagery(_case(st)) == []


def test_a_ship_whose_silence_began_and_ended_on_one_spot_elsewhere_is_not_the_detection(make_store):
    st = make_store(_dark_load(KP1) + _dark_load(KP2, 2, 32, (70, 95)),
                    [static(KP1, "A", None, 70, 11), static(KP2, "B", None, 100, 15)])
    lat, lon = (float(x) for x in destination_point(BERTH[0], BERTH[1], 200.0, 3.0))
    # KP2's last report before its silence and first after are on one spot 3 km away; KP1 went quiet on its way in
    st.append("positions", pl.DataFrame({"mmsi": [KP2, KP2, KP1], "ts": [h(1.9), h(32.1), h(-0.1)],
                                         "lat": [lat, lat + 0.0002, 42.70], "lon": [lon, lon, 133.20],
                                         "dup_key": [1, 2, 3]}))
    _with_imagery(st, [("s1-1", 12, *BERTH, 98.0)])  # KP2's length fits better, but KP2 sat 3 km away unheard
    got = {r["mmsi"]: [x["detection_id"] for x in _imagery(r)] for r in build_cases(st, places=PLACES).iter_rows(named=True)}
    assert got == {KP1: ["s1-1"], KP2: []}


def test_dark_ship_alongside_another_in_the_sts_area_during_the_gap_corroborates_the_dark_transfer(make_store):
    evs = [event("port_call", SL1, 0, 20, place="CNDLC"),
           event("ais_gap", SL1, 25, 45, reachable_places=["SOKDO-STS", "KPNAM"]),
           event("loitering", KP1, 30, 40, sts_area="SOKDO-STS")]
    st = make_store(evs, [static(SL1, "SUPPLIER", None, 110, 16), static(KP1, "RECEIVER", None, 70, 11)])
    plain = _case(st)
    lat2, lon2 = destination_point(STS[0], STS[1], 45.0, 0.08)  # 80 m apart: alongside
    r = _case(_with_imagery(st, [("s2-1", 35, *STS, 105.0), ("s2-2", 35, float(lat2), float(lon2), 72.0)],
                            matched={"s2-2": KP1}))
    [img] = _imagery(r)
    assert (img["role"], img["detection_id"], img["place"]) == ("sts", "s2-1", "SOKDO-STS")
    assert img["distance_m"] == pytest.approx(80, abs=2) and f"MMSI {KP1}" in img["distance_to"]
    assert r["confidence"] == pytest.approx(plain["confidence"] + DEFAULTS.w_imagery_dark_sts)
    assert any(s.startswith("imagery corroborates the transfer") for s in json.loads(r["reasons"]))


def test_a_lone_dark_ship_in_the_sts_area_is_no_transfer(make_store):
    evs = [event("port_call", SL1, 0, 20, place="CNDLC"),
           event("ais_gap", SL1, 25, 45, reachable_places=["SOKDO-STS", "KPNAM"]),
           event("loitering", KP1, 30, 40, sts_area="SOKDO-STS")]
    st = make_store(evs, [static(SL1, "SUPPLIER", None, 110, 16)])
    lat2, lon2 = destination_point(STS[0], STS[1], 45.0, 3.0)  # 3 km away: not alongside
    r = _case(_with_imagery(st, [("s2-1", 35, *STS, 105.0), ("s2-2", 35, float(lat2), float(lon2), 72.0)]))
    assert _imagery(r) == []


def test_imagery_weights_and_length_bounds_come_from_the_toml(make_store, tmp_path):
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text("[cases]\nw_imagery_dark_load = 0.3\nimagery_length_ratio_max = 3.0\n")
    cfg = load_config(cfg_file)
    assert (cfg.w_imagery_dark_load, cfg.imagery_length_ratio_max) == (0.3, 3.0)
    st = make_store(_dark_load(), [static(KP1, "YU SON", None, 100, 15)])
    plain = _case(st, cfg)
    r = _case(_with_imagery(st, [("s1-1", 12, *BERTH, 250.0)]), cfg)
    assert len(_imagery(r)) == 1
    assert r["confidence"] == pytest.approx(min(1.0, plain["confidence"] + 0.3))


def test_a_store_without_imagery_gives_cases_with_an_empty_imagery_list(make_store):
    r = _case(make_store(_dark_load(), [static(KP1, "YU SON", None, 100, 15)]))
    assert r["imagery"] == "[]"
    assert dt.timedelta(0) < r["load_end"] - r["load_start"]
