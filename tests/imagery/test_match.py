"""Matching detections with AIS on hand-worked cases: the gate, the radar shift, lengths, two ships close
together, ties, a ship with AIS off beside one with AIS on, ships moored across a silence, hulls split in two,
and AIS positions nothing confirms."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from shadowfleet.imagery.match import match
from shadowfleet.places import destination_point
from shadowfleet.store import Store
from shadowfleet.store.schema import DETECTIONS, SCENES

T = dt.datetime(2024, 3, 7, 8, 40, tzinfo=dt.timezone.utc)
LAT, LON = 41.0, 134.5  # open sea, far from land


def _footprint(km=20.0):
    d = km / 2 / 111.195
    e = d / np.cos(np.radians(LAT))
    ring = [[LON - e, LAT - d], [LON + e, LAT - d], [LON + e, LAT + d], [LON - e, LAT + d], [LON - e, LAT - d]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _store(tmp_path, detections, tracks, lengths, sensor="sar", rov=None, track_bearing=None):
    st = Store(tmp_path / "st")
    sc = {k: None for k in SCENES} | {"scene_id": "s1", "sensor": sensor, "acquired": T, "footprint": _footprint(),
                                      "pixel_m": 10.0, "width": 2000, "height": 2000, "status": "ok",
                                      "range_over_velocity_s": rov, "track_bearing_deg": track_bearing}
    st.replace("scenes", pl.DataFrame([sc], schema=SCENES))
    rows = []
    for i, (lat, lon, length, *heading) in enumerate(detections):
        rows.append({k: None for k in DETECTIONS} | {"detection_id": f"s1-{i}", "scene_id": "s1", "sensor": sensor,
                    "acquired": T, "lat": lat, "lon": lon, "length_m": length, "score": 50.0, "fixed": False,
                    "distance_to_shore_km": 50.0, "heading_deg": heading[0] if heading else None})
    st.replace("detections", pl.DataFrame(rows, schema=DETECTIONS))
    pos = []
    k = 0
    for mmsi, reports in tracks.items():
        for minutes, lat, lon, sog, cog, *nav in reports:
            k += 1
            pos.append({"mmsi": mmsi, "ts": T + dt.timedelta(minutes=minutes), "lat": lat, "lon": lon, "sog": sog,
                        "cog": cog, "nav_status": nav[0] if nav else 0, "msg_type": 1, "ais_class": "A",
                        "dup_key": k})
    if pos:
        st.append("positions", pl.DataFrame(pos))
    st.append("static", pl.DataFrame([{"mmsi": m, "ts": T, "msg_type": 5, "length": float(v), "dup_key": 10_000 + i}
                                      for i, (m, v) in enumerate(lengths.items())]))
    return st


def _at(m_north=0.0, m_east=0.0):
    lat, lon = destination_point(LAT, LON, 0.0, m_north / 1000)
    lat, lon = destination_point(lat, lon, 90.0, m_east / 1000)
    return float(lat), float(lon)


def _by_det(matches):
    return {r["detection_id"]: r for r in matches.iter_rows(named=True)}


def test_gate_is_200_m_plus_half_a_km_per_minute_to_the_nearest_report(tmp_path):
    a = _at(0, 150)  # 150 m from track 1's report at the image time
    b = _at(3000, 250)  # 250 m from track 2's report at the image time: outside 200 m
    c = _at(-3000, 1000)  # track 3 reported 2 min before at 20 kn heading east (dead-reckoned 1.23 km on): gate 1.2 km
    st = _store(tmp_path, [(*a, 100.0), (*b, 100.0), (*c, 100.0)],
                {1: [(0, *_at(0, 0), 0.0, 0.0)], 2: [(0, *_at(3000, 0), 0.0, 0.0)],
                 3: [(-2, *_at(-3000, 0), 20.0, 90.0)]}, {1: 100, 2: 100, 3: 100})
    m, ev = match(st)
    r = _by_det(m)
    assert r["s1-0"]["mmsi"] == 1 and r["s1-0"]["distance_m"] == pytest.approx(150, abs=2)
    assert r["s1-1"]["mmsi"] is None and r["s1-1"]["reason"] == "no AIS track within the gate"
    assert r["s1-2"]["mmsi"] == 3 and r["s1-2"]["gate_m"] == pytest.approx(1200, abs=1)
    dark = ev.filter(pl.col("type") == "dark_detection")
    assert dark["event_id"].to_list() == ["dark_detection-s1-1"]
    nearest = json.loads(dark["details"][0])["nearest_tracks"][0]
    assert nearest["mmsi"] == 2 and nearest["refused"] == "beyond the gate"


def test_a_ship_reported_stopped_has_a_narrow_gate(tmp_path):
    # reported stopped 5 min before the image: it moved at most 1 kn x 1.5 x 5 min = 231 m, not 2.5 km
    d = _at(0, 800)
    st = _store(tmp_path, [(*d, 100.0)], {1: [(-5, *_at(0, 0), 0.0, 0.0)]}, {1: 100})
    m, _ = match(st)
    assert m["mmsi"][0] is None and m["gate_m"][0] == pytest.approx(200 + 5 * 1852 / 60 * 1.5, abs=1)


def test_two_ships_close_together_are_assigned_one_to_one(tmp_path):
    # detections 100 m apart; each track's report lies 40 m from "its" detection and 60 m from the other
    d1, d2 = _at(0, 0), _at(0, 100)
    st = _store(tmp_path, [(*d1, 80.0), (*d2, 80.0)],
                {1: [(0, *_at(0, 40), 0.0, 0.0)], 2: [(0, *_at(0, 140), 0.0, 0.0)]}, {1: 80, 2: 80})
    r = _by_det(match(st)[0])
    assert (r["s1-0"]["mmsi"], r["s1-1"]["mmsi"]) == (1, 2)


def test_a_dark_ship_beside_one_broadcasting_is_a_dark_detection(tmp_path):
    on, dark = _at(0, 0), _at(0, 150)  # alongside: 150 m apart, only one broadcasts (at its true spot)
    st = _store(tmp_path, [(*on, 120.0), (*dark, 110.0)], {7: [(0, *on, 0.0, 0.0)]}, {7: 120})
    m, ev = match(st)
    r = _by_det(m)
    assert r["s1-0"]["mmsi"] == 7 and r["s1-1"]["mmsi"] is None
    d = ev.filter(pl.col("type") == "dark_detection")
    assert d.height == 1 and d["lat"][0] == pytest.approx(dark[0])
    assert json.loads(d["details"][0])["nearest_tracks"][0]["refused"] == "assigned to another detection"


def test_length_disagreement_refuses_a_match(tmp_path):
    p = _at(0, 0)
    st = _store(tmp_path, [(*p, 300.0)], {5: [(0, *p, 0.0, 0.0)]}, {5: 40})
    m, ev = match(st)
    assert m["mmsi"][0] is None
    assert json.loads(ev.filter(pl.col("type") == "dark_detection")["details"][0])["nearest_tracks"][0]["refused"] \
        == "length disagrees"


def test_radar_azimuth_shift_moves_the_expected_position(tmp_path):
    # track bearing north, radar looks east; a ship steaming east at 10 kn moves away from the radar at
    # 5.14 m/s and is imaged R/V * 5.14 = 566 m south of where it is (R/V = 110 s)
    truth = _at(0, 0)
    imaged = _at(-110 * 10 * 1852 / 3600, 0)
    reports = [(-0.25, *_at(0, -77.2), 10.0, 90.0), (0.25, *_at(0, 77.2), 10.0, 90.0)]  # gate 325 m
    st = _store(tmp_path, [(*imaged, 100.0)], {9: reports}, {9: 100}, rov=110.0, track_bearing=0.0)
    m, _ = match(st)
    assert m["mmsi"][0] == 9 and m["distance_m"][0] < 30
    st2 = _store(tmp_path / "no-shift", [(*imaged, 100.0)], {9: reports}, {9: 100}, rov=None, track_bearing=None)
    assert match(st2)[0]["mmsi"][0] is None  # without the geometry the ship is 566 m from its AIS


def test_an_ais_position_with_nothing_there_is_unconfirmed(tmp_path):
    st = _store(tmp_path, [(*_at(2000, 0), 90.0)],
                {3: [(0, *_at(0, 0), 0.0, 0.0)],  # 100 m tanker, reported at the image time: should be seen
                 4: [(0, *_at(-2000, 0), 0.0, 0.0)],  # 20 m boat: below what the detector reliably sees
                 6: [(-30, *_at(1000, 1000), 0.0, 0.0)]},  # last heard 30 min before: position not well known
                {3: 100, 4: 20, 6: 100})
    _, ev = match(st)
    u = ev.filter(pl.col("type") == "unconfirmed_position")
    assert u["mmsi"].to_list() == [3]
    assert json.loads(u["details"][0])["expected_recall"] == pytest.approx(0.9)


def test_imagery_events_survive_a_detect_rerun_and_are_listed(tmp_path):
    from shadowfleet.events import detect
    from shadowfleet.events.export import read_events

    st = _store(tmp_path, [(*_at(0, 0), 100.0)], {1: [(0, *_at(5000, 0), 0.0, 0.0)]}, {1: 100})
    match(st)
    detect(st)
    ev = read_events(st, types=["dark_detection"])
    assert ev.height == 1


MOORED, AT_ANCHOR = 5, 1  # ITU-R M.1371 navigational status


def test_a_ship_stopped_at_one_spot_before_and_after_a_silence_keeps_a_narrow_gate(tmp_path):
    # heard stopped at the same spot 50 min before and 50 min after: it is there, within 200 m, not within 25 km
    spot = _at(0, 0)
    st = _store(tmp_path, [(*_at(0, 150), 150.0), (*_at(0, 900), 140.0)],
                {1: [(-50, *spot, 0.0, 0.0), (50, *spot, 0.0, 0.0)]}, {1: 150})
    m, ev = match(st)
    r = _by_det(m)
    assert r["s1-0"]["mmsi"] == 1 and r["s1-0"]["gate_m"] == pytest.approx(200)
    assert r["s1-1"]["mmsi"] is None
    assert ev.filter(pl.col("type") == "dark_detection")["event_id"].to_list() == ["dark_detection-s1-1"]


def test_a_ship_moving_between_two_reports_is_placed_by_interpolation(tmp_path):
    # 40 min before 4 km west, 40 min after 4 km east: halfway, at the image time, it is at the centre
    st = _store(tmp_path, [(*_at(0, 100), 100.0)],
                {2: [(-40, *_at(0, -4000), 3.2, 90.0), (40, *_at(0, 4000), 3.2, 90.0)]}, {2: 100})
    m, _ = match(st)
    assert m["mmsi"][0] == 2 and m["distance_m"][0] == pytest.approx(100, abs=5)


def test_a_ship_reported_moored_hours_before_the_image_is_still_at_its_berth(tmp_path):
    # a satellite heard it moored 3 h before (beyond the 2 h window for a ship under way): still moored
    berth = _at(0, 0)
    st = _store(tmp_path, [(*_at(30, 0), 90.0)], {3: [(-180, *berth, 0.0, 0.0, MOORED)]}, {3: 90})
    m, ev = match(st)
    assert m["mmsi"][0] == 3 and m["gate_m"][0] == pytest.approx(200)
    assert ev.filter(pl.col("type") == "dark_detection").height == 0


def test_a_detection_a_moored_ship_could_have_reached_is_ambiguous_not_dark(tmp_path):
    # heard moored 30 min before; nothing at its berth, a ship 2 km off: it may have left and be this one
    st = _store(tmp_path, [(*_at(2000, 0), 100.0)], {4: [(-30, *_at(0, 0), 0.0, 0.0, MOORED)]}, {4: 100})
    m, ev = match(st)
    assert m["mmsi"][0] is None and m["reason"][0].startswith("ambiguous: track 4")
    assert ev.filter(pl.col("type") == "dark_detection").height == 0


def test_a_detection_two_tracks_explain_equally_well_is_a_tie_matched_to_neither(tmp_path):
    # two tankers report 20 m and 35 m from the one detection (alongside each other, seen as one hull)
    st = _store(tmp_path, [(*_at(0, 0), 180.0)],
                {5: [(0, *_at(0, 20), 0.0, 0.0)], 6: [(0, *_at(0, -35), 0.0, 0.0)]}, {5: 180, 6: 170})
    m, ev = match(st)
    assert m["mmsi"][0] is None and m["reason"][0].startswith("ambiguous: tracks 5, 6")
    assert ev.height == 0  # neither dark nor an unconfirmed position for either track


def test_a_hull_split_in_two_along_its_axis_is_one_dark_detection(tmp_path):
    # a 180 m hull heading east seen as two pieces of 80 m, their ends 20 m (2 pixels) apart
    st = _store(tmp_path, [(*_at(0, -50), 80.0, 90.0), (*_at(0, 50), 80.0, 90.0)], {}, {})
    m, ev = match(st)
    r = _by_det(m)
    assert r["s1-1"]["reason"] == "part of the hull in s1-0"
    dark = ev.filter(pl.col("type") == "dark_detection")
    assert dark.height == 1
    details = json.loads(dark["details"][0])
    assert details["length_m"] == pytest.approx(180, abs=2) and details["pieces"] == ["s1-1"]
    assert dark["lon"][0] == pytest.approx(LON, abs=1e-5)


def test_two_ships_moored_side_by_side_are_not_one_hull(tmp_path):
    # two 80 m hulls heading east, 60 m apart across their axis: two ships
    st = _store(tmp_path, [(*_at(0, 0), 80.0, 90.0), (*_at(60, 0), 80.0, 90.0)], {}, {})
    _, ev = match(st)
    assert ev.filter(pl.col("type") == "dark_detection").height == 2


def test_a_piece_beside_a_matched_ship_within_its_length_is_part_of_its_hull(tmp_path):
    # a 220 m tanker matched on its 120 m bright part; a 40 m piece 110 m further along its axis is the same hull
    st = _store(tmp_path, [(*_at(0, 0), 120.0, 90.0), (*_at(0, 110), 40.0, 90.0)],
                {7: [(0, *_at(0, 10), 0.0, 90.0)]}, {7: 220})
    m, ev = match(st)
    r = _by_det(m)
    assert r["s1-0"]["mmsi"] == 7 and r["s1-1"]["reason"] == "part of the hull in s1-0"
    assert ev.filter(pl.col("type") == "dark_detection").height == 0


def test_reports_before_and_after_too_far_apart_for_one_ship_are_not_interpolated(tmp_path):
    # 5 min before at the spot, 5 min after 150 km away (a spoofed report): the ship is at the spot, not halfway
    st = _store(tmp_path, [(*_at(0, 50), 100.0)],
                {8: [(-5, *_at(0, 0), 0.0, 0.0), (5, *_at(0, 150_000), 0.0, 0.0)]}, {8: 100})
    m, _ = match(st)
    assert m["mmsi"][0] == 8 and m["distance_m"][0] == pytest.approx(50, abs=3)


def test_a_ship_just_under_way_is_shifted_by_its_reported_speed_not_its_mean_since_it_was_moored(tmp_path):
    # moored 15 min before; 6 s after the image it reports 10 kn east 100 m on: the radar (track north, looking
    # east) images it 566 m south; the 15 min mean speed (0.2 kn) would put it 11 m south
    imaged = _at(-110 * 10 * 1852 / 3600, 100)
    reports = [(-15, *_at(0, 0), 0.0, 0.0, MOORED), (0.1, *_at(0, 100), 10.0, 90.0)]
    st = _store(tmp_path, [(*imaged, 100.0)], {9: reports}, {9: 100}, rov=110.0, track_bearing=0.0)
    m, _ = match(st)
    assert m["mmsi"][0] == 9 and m["distance_m"][0] < 40
