"""Tasking: TLE element sets read (and garbled ones refused), SGP4 passes checked against skyfield, the Sun's
elevation against a JPL ephemeris, and the ranked open questions of a small scenario (a dark call at a supplier
berth becomes the top question; a scene covering it marks it answered; a Sentinel-2 pass in daylight covers it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.config import load_config
from shadowfleet.imagery.orbits import (ecef_positions, find_passes, geodetic, ground_km, parse_tle, read_tle,
                                        sun_elevation_deg, surface_ecef)
from shadowfleet.imagery.plan import plan, plan_csv, plan_geojson
from shadowfleet.places import load_places
from shadowfleet.store import Store
from shadowfleet.store.schema import CASES, DETECTIONS, EVENTS, SCENES, SCREENING

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc

# Public element sets (CelesTrak / Space-Track) of the Sentinels, with their epochs:
# SENTINEL-1A epoch 2020-07-19 19:22:51 UTC (20201.80753859), SENTINEL-2A epoch 2024-12-02 03:28:11 UTC
# (24337.14457616), SENTINEL-2B epoch 2017-11-28 09:50:38 UTC (17332.41017229).
S1A = ("SENTINEL-1A",
       "1 39634U 14016A   20201.80753859 -.00000116  00000-0 -14878-4 0  9999",
       "2 39634  98.1829 208.3314 0001272  85.7508 274.3829 14.59196703335281")
S2A = ("SENTINEL-2A",
       "1 40697U 15028A   24337.14457616  .00000519  00000-0  21480-3 0  9998",
       "2 40697  98.5704  48.9920 0001011  93.0957 267.0342 14.30811188493363")
S2B = ("SENTINEL-2B",
       "1 42063U 17013A   17332.41017229  .00000031  00000-0  28432-4 0  9996",
       "2 42063  98.5661  44.9680 0001235  82.8511 277.2813 14.30817061 38090")
SWATH = {"SENTINEL-1A": 250.0, "SENTINEL-2A": 290.0, "SENTINEL-2B": 290.0}
BERTH = load_places().row("RUVYP-OIL")


def tle_text(*sats, names=True):
    return "".join((f"{n}\n" if names else "") + f"{a}\n{b}\n" for n, a, b in sats)


def _dt64(t):
    return np.datetime64(t.astimezone(UTC).replace(tzinfo=None), "us")


def _py(t64):
    return [x.astype("datetime64[us]").astype(dt.datetime).replace(tzinfo=UTC) for x in t64]


def _checksummed(line):
    total = sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68])
    return line[:68] + str(total % 10)


# ---- element sets ----------------------------------------------------------------------------------------------

def test_three_line_and_two_line_element_sets_are_read_with_names_and_epochs():
    r = parse_tle(tle_text(S1A, S2A) + tle_text(S2B, names=False))
    assert r.rejected == []
    assert [s.name for s in r.satellites] == ["SENTINEL-1A", "SENTINEL-2A", "NORAD 42063"]
    assert [s.satnum for s in r.satellites] == [39634, 40697, 42063]
    assert abs(r.satellites[1].epoch - dt.datetime(2024, 12, 2, 3, 28, 11, 380204, tzinfo=UTC)).total_seconds() < 1e-3
    # CelesTrak's 3LE form: the name line starts with "0 "
    assert parse_tle("0 SENTINEL-1A\n" + "\n".join(S1A[1:])).satellites[0].name == "SENTINEL-1A"


def test_garbled_element_sets_are_counted_rejections_and_the_good_ones_still_count():
    bad_sum = S2A[1][:-1] + str((int(S2A[1][-1]) + 1) % 10)
    other = _checksummed(S2B[2].replace("42063", "42064", 1))
    text = "\n".join([
        *S1A,
        "SENTINEL-2A", bad_sum, S2A[2],  # checksum
        "SENTINEL-2B", S2B[1], other,  # catalogue numbers differ
        "SHORT", S2A[1][:60], S2A[2],  # truncated line 1
        S2B[2],  # a line 2 alone
        "\x1b[31mRED", S1A[1], S1A[2],  # a name with a terminal escape
        "LONELY NAME",
    ])
    r = parse_tle(text)
    assert [s.name for s in r.satellites] == ["SENTINEL-1A", "NORAD 39634"]
    reasons = " | ".join(r.rejected)
    for part in ("checksum", "catalogue numbers", "69", "line 2 without a line 1", "printable", "LONELY NAME"):
        assert part in reasons, reasons
    assert all(x.startswith("line ") for x in r.rejected)


def test_a_tle_file_without_any_valid_set_is_one_error(tmp_path):
    p = tmp_path / "bad.tle"
    p.write_text("hello\nworld\n1 2 3\n")
    with pytest.raises(ShadowfleetError, match=r"no valid TLE element set \(\d+ rejected"):
        read_tle(p)
    p.write_bytes(b"\x00\x01\x02" * 50)
    with pytest.raises(ShadowfleetError, match="binary"):
        read_tle(p)
    with pytest.raises(ShadowfleetError, match="not found"):
        read_tle(tmp_path / "missing.tle")
    p.write_text(tle_text(S2A) + "x\n" * 10_002)  # stray lines: each would keep a reason
    with pytest.raises(ShadowfleetError, match="more than 10,000 records rejected, not a TLE file"):
        read_tle(p)


# ---- propagation against skyfield ------------------------------------------------------------------------------

def test_sub_satellite_points_agree_with_skyfield_within_a_km():
    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    for name, l1, l2 in (S1A, S2A, S2B):
        sat = parse_tle(tle_text((name, l1, l2))).satellites[0]
        t = _dt64(sat.epoch) + np.arange(0, 2 * 86400, 450).astype("timedelta64[s]")
        la, lo, h = geodetic(ecef_positions([sat], t)[0])
        sp = wgs84.subpoint_of(EarthSatellite(l1, l2, name, ts).at(ts.from_datetimes(_py(t))))
        assert ground_km(la, lo, sp.latitude.degrees, sp.longitude.degrees).max() < 1.0, name
        assert 690 < h.mean() < 810  # Sentinel-1 ~700 km, Sentinel-2 ~786 km


def _skyfield_passes(l1, l2, lat, lon, t0, days, half_swath):
    """Independent pass times: skyfield sub-points every 20 s, local minima of the distance within half a swath,
    refined on a 1 s and then a 0.05 s grid."""
    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    es = EarthSatellite(l1, l2, "s", ts)
    day0 = t0.astype("datetime64[D]")
    y, m, d0 = (int(x) for x in str(day0).split("-"))
    base = (t0 - day0) / np.timedelta64(1, "s")

    def dist(sec):  # seconds after t0
        sp = wgs84.subpoint_of(es.at(ts.utc(y, m, d0, 0, 0, base + sec)))
        return ground_km(sp.latitude.degrees, sp.longitude.degrees, lat, lon)

    sec = np.arange(0, days * 86400, 20.0)
    d = dist(sec)
    out = []
    near = (d[1:-1] <= d[:-2]) & (d[1:-1] < d[2:]) & (d[1:-1] < half_swath + 150)  # 20 s = 140 km of track
    for i in np.flatnonzero(near) + 1:
        s1 = sec[i] + np.arange(-22, 23.0)
        s1 = s1[int(dist(s1).argmin())] + np.arange(-1, 1.001, 0.05)
        d2 = dist(s1)
        if d2.min() <= half_swath:
            best = t0 + np.timedelta64(int(round(s1[int(d2.argmin())] * 1e6)), "us")
            out.append((_py(np.array([best]))[0], float(d2.min())))
    return out


@pytest.mark.slow
def test_pass_times_over_the_oil_berth_agree_with_skyfield_within_seconds():
    from shadowfleet.imagery.config import SatelliteRule

    lat, lon = BERTH["lat"], BERTH["lon"]
    for name, l1, l2 in (S1A, S2A, S2B):
        sat = parse_tle(tle_text((name, l1, l2))).satellites[0]
        t0 = _dt64(sat.epoch)
        rule = SatelliteRule(f"{name}*", SWATH[name], name.startswith("SENTINEL-2"))
        mine = find_passes([sat], [rule], np.array([lat]), np.array([lon]), np.array([0.0]), np.array([t0]),
                           np.array([t0 + np.timedelta64(9, "D")]))
        theirs = _skyfield_passes(l1, l2, lat, lon, t0, 9, SWATH[name] / 2)
        assert len(mine) == len(theirs) >= 2, (name, mine, theirs)
        for p, (t, d) in zip(mine, theirs):
            assert abs((p["time"] - t).total_seconds()) <= 2.0, (name, p, t)
            assert abs(p["ground_km"] - d) <= 1.0
            assert 0 <= p["off_nadir_deg"] < 25


def test_sentinel_1_sees_only_to_the_right_of_its_track_from_its_near_edge_out():
    from skyfield.api import EarthSatellite, load, wgs84

    rule = dict(load_config().plan.satellites)["sentinel-1"]
    assert rule.look == "right"
    lat, lon = BERTH["lat"], BERTH["lon"]
    sat = parse_tle(tle_text(S1A)).satellites[0]
    t0 = _dt64(sat.epoch)
    window = (np.array([t0]), np.array([t0 + np.timedelta64(12, "D")]))
    side = find_passes([sat], [rule], np.array([lat]), np.array([lon]), np.array([0.0]), *window)
    centred = find_passes([sat], [dataclasses.replace(rule, look="nadir")], np.array([lat]), np.array([lon]),
                          np.array([0.0]), *window)
    assert len(side) >= 2 and {p["direction"] for p in side} == {"ascending", "descending"}
    ts = load.timescale(builtin=True)
    es = EarthSatellite(S1A[1], S1A[2], S1A[0], ts)
    for p in side:
        sp = wgs84.subpoint_of(es.at(ts.from_datetime(p["time"])))
        # flying north (ascending) the right is east; flying south it is west
        east = lon > sp.longitude.degrees
        assert east == (p["direction"] == "ascending") and p["side"] == "right"
        d = float(ground_km(sp.latitude.degrees, sp.longitude.degrees, lat, lon))
        assert 340 <= d <= 600 and abs(d - p["ground_km"]) < 1  # IW: ~29-46 degrees incidence, 250 km
        assert 25 < p["off_nadir_deg"] < 42
    # the pass straight overhead 2 h after the epoch images the berth only for a sensor centred under its track
    overhead = [p for p in centred if p["ground_km"] < 50]
    assert overhead and not any(abs((p["time"] - overhead[0]["time"]).total_seconds()) < 600 for p in side)


def test_side_and_ground_range_agree_with_a_real_sentinel_1_product():
    """The real S1B IW GRD annotation: Earth-fixed orbit state vectors and a geolocation grid of image points
    with their incidence angles. Each point, seen at zero Doppler from the satellite at its azimuth time, lies
    right of the track at the ground range ground_range_km gives for its incidence."""
    import xml.etree.ElementTree as ET

    from shadowfleet.imagery.orbits import ground_range_km
    from tests.shared_data import shared_file

    safe = shared_file("imagery/sentinel1/S1B_IW_GRDH_1SDV_20210401T052623_20210401T052648_026269_032297_ECC8.SAFE")
    root = ET.parse(next((safe / "annotation").glob("*-vv-*.xml"))).getroot()
    orbit = root.findall(".//orbitList/orbit")
    ot = np.array([np.datetime64(o.findtext("time"), "us") for o in orbit])
    pos = np.array([[float(o.findtext(f"position/{c}")) for c in "xyz"] for o in orbit]) / 1000
    vel = np.array([[float(o.findtext(f"velocity/{c}")) for c in "xyz"] for o in orbit]) / 1000
    pts = root.findall(".//geolocationGrid/geolocationGridPointList/geolocationGridPoint")
    at = np.array([np.datetime64(g.findtext("azimuthTime"), "us") for g in pts])
    lat, lon, inc = (np.array([float(g.findtext(k)) for g in pts]) for k in ("latitude", "longitude", "incidenceAngle"))
    sec = (at - ot[0]) / np.timedelta64(1, "s")
    osec = (ot - ot[0]) / np.timedelta64(1, "s")
    sat = np.stack([np.interp(sec, osec, pos[:, c]) for c in range(3)], -1)
    v = np.stack([np.interp(sec, osec, vel[:, c]) for c in range(3)], -1)
    sla, slo, h = geodetic(sat)
    target = surface_ecef(lat, lon)
    assert (np.sum(np.cross(v, sat) * (target - sat), axis=-1) > 0).all()  # every point right of the track
    d = ground_km(sla, slo, lat, lon)
    assert 250 < d.min() and d.max() < 650
    # measured 3.0 km at most (a sphere for the ellipsoid, the Alps' height in the grid)
    assert np.abs(d - ground_range_km(inc, h)).max() < 5.0


def test_sun_elevation_agrees_with_a_jpl_ephemeris():
    from skyfield.api import load, load_file, wgs84

    bsp = Path(__import__("skyfield").__file__).parent / "tests" / "data" / "de430-2015-03-02.bsp"
    if not bsp.is_file():
        pytest.skip("skyfield's bundled DE430 excerpt is absent")
    eph = load_file(str(bsp))
    ts = load.timescale(builtin=True)
    t = np.datetime64("2015-02-27T00:00") + np.arange(0, 5 * 86400, 1200).astype("timedelta64[s]")
    for lat, lon in ((BERTH["lat"], BERTH["lon"]), (-33.9, 18.4), (64.1, -21.9)):
        obs = eph["earth"] + wgs84.latlon(lat, lon)
        ref = obs.at(ts.from_datetimes(_py(t))).observe(eph["sun"]).apparent().altaz()[0].degrees
        assert np.abs(sun_elevation_deg(t, lat, lon) - ref).max() < 0.05


# ---- the tasking scenario ----------------------------------------------------------------------------------------

LISTED, OTHER, FAR = 445111222, 445333444, 273555666
CALL_START = dt.datetime(2024, 12, 5, 12, 0, tzinfo=UTC)
CALL_END = dt.datetime(2024, 12, 7, 6, 0, tzinfo=UTC)


def _event(eid, typ, mmsi, start, end, lat, lon, place=None, inferred=False, details=None, other=None):
    return {"event_id": eid, "type": typ, "mmsi": mmsi, "start": start, "end": end, "lat": lat, "lon": lon,
            "place": place, "other_mmsi": other, "inferred": inferred, "details": json.dumps(details or {})}


def _box(lat, lon, km):
    d = km / 2 / 111.195
    e = d / np.cos(np.radians(lat))
    return json.dumps({"type": "Polygon", "coordinates": [[[lon - e, lat - d], [lon + e, lat - d], [lon + e, lat + d],
                                                           [lon - e, lat + d], [lon - e, lat - d]]]})


@pytest.fixture()
def scenario(tmp_path):
    """A listed tanker dark at the Vostochny oil berth for 42 h (an inferred call, cited by a 20,000 bbl case); a
    listed tanker loitering in the Sok Island STS area; the same listed tanker dark 24 h off the DPRK coast; an
    unlisted ship dark 14 h far from any terminal (no question); and an unlisted ship dark 13 h at the berth."""
    st = Store(tmp_path / "st")
    sok = load_places().row("SOKDO-STS")
    d = dt.timedelta
    st.replace("events", pl.DataFrame([
        _event(f"port_call-{LISTED}-1", "port_call", LISTED, CALL_START, CALL_END, BERTH["lat"], BERTH["lon"],
               place="RUVYP-OIL", inferred=True, details={"dark_h": 42.0}),
        _event(f"ais_gap-{LISTED}-1", "ais_gap", LISTED, CALL_START, CALL_END, BERTH["lat"], BERTH["lon"],
               details={"duration_h": 42.0, "end_position": {"lat": BERTH["lat"], "lon": BERTH["lon"]}}),
        _event(f"loitering-{OTHER}-1", "loitering", OTHER, CALL_START + d(hours=30), CALL_START + d(hours=40),
               sok["lat"], sok["lon"], details={"duration_h": 10.0, "sts_area": "SOKDO-STS"}),
        _event(f"ais_gap-{OTHER}-2", "ais_gap", OTHER, CALL_START - d(hours=30), CALL_START - d(hours=6), 39.5, 127.8,
               details={"duration_h": 24.0, "end_position": {"lat": 39.6, "lon": 127.9}}),
        _event(f"ais_gap-{FAR}-1", "ais_gap", FAR, CALL_START, CALL_START + d(hours=14), 30.0, 140.0,
               details={"duration_h": 14.0, "end_position": {"lat": 30.1, "lon": 140.1}}),
        _event(f"ais_gap-{FAR + 1}-1", "ais_gap", FAR + 1, CALL_START, CALL_START + d(hours=13), BERTH["lat"],
               BERTH["lon"] + 0.01, details={"duration_h": 13.0, "end_position": {"lat": 42.70, "lon": 133.0}}),
    ], schema=EVENTS))
    st.replace("screening", pl.DataFrame([
        {k: None for k in SCREENING} | {"mmsi": m, "list_id": "un", "list_name": "UN 1718", "score": 100.0}
        for m in (LISTED, OTHER)], schema=SCREENING))
    st.replace("cases", pl.DataFrame([{k: None for k in CASES} | {
        "case_id": "case-1", "mmsi": LISTED, "barrels_central": 20_000.0,
        "evidence": json.dumps([f"port_call-{LISTED}-1"])}], schema=CASES))
    st.append("static", pl.DataFrame([{"mmsi": LISTED, "ts": CALL_START, "msg_type": 5, "name": "=CHON MA SAN",
                                       "dup_key": 1}]))
    return st


def _scene(st, t, lat, lon, km=20.0, status="ok"):
    st.replace("scenes", pl.DataFrame([{k: None for k in SCENES} | {
        "scene_id": "s1", "sensor": "sar", "acquired": t, "footprint": _box(lat, lon, km), "status": status}],
        schema=SCENES))


PERIOD = (dt.datetime(2024, 12, 1, tzinfo=UTC), dt.datetime(2024, 12, 10, tzinfo=UTC))


def test_a_dark_call_at_a_supplier_berth_is_the_top_question(scenario):
    q = plan(scenario, *PERIOD).questions
    kinds = q["kind"].to_list()
    assert kinds[0] == "dark_port_call"
    top = q.row(0, named=True)
    assert top["place"] == "RUVYP-OIL" and top["listed"] and top["barrels"] == 20_000 and top["cases"] == "case-1"
    assert top["start"] == CALL_START and top["end"] == CALL_END and not top["answered"]
    assert top["radius_km"] < 1.0  # the berth polygon
    assert set(kinds) == {"dark_port_call", "sts", "listed_dark", "gap_at_terminal"}
    # the gap the dark call was inferred from is not asked twice; the far unlisted gap is no question
    assert q.filter(pl.col("mmsi") == LISTED).height == 1 and q.filter(pl.col("mmsi") == FAR).height == 0
    gap = q.filter(pl.col("kind") == "gap_at_terminal").row(0, named=True)
    # every oil terminal in reach, nearest first (not the coal terminal beside the berth): one image of both
    assert gap["mmsi"] == FAR + 1 and gap["place"] == "RUVYP-OIL, KOZMINO"
    assert "load at RUVYP-OIL or KOZMINO during its 13 h AIS gap" in gap["question"]
    dark = q.filter(pl.col("kind") == "listed_dark").row(0, named=True)
    assert dark["radius_km"] == pytest.approx(12 * 1.852 * 24 / 2, rel=1e-3)  # reach of 24 h at 12 kn, out and back
    assert q["rank"].to_list() == list(range(1, q.height + 1)) and q["priority"].is_sorted(descending=True)


def test_a_stored_scene_covering_the_berth_in_the_window_answers_it(scenario):
    _scene(scenario, CALL_START + dt.timedelta(hours=20), BERTH["lat"], BERTH["lon"])
    q = plan(scenario, *PERIOD).questions
    call = q.filter(pl.col("kind") == "dark_port_call").row(0, named=True)
    assert call["answered"] and call["answered_by"] == "s1" and call["rank"] == q.height  # open questions first
    # what the scene saw there: one ship, which `imagery match` finds no AIS for
    from shadowfleet.imagery.match import match

    scenario.replace("detections", pl.DataFrame([{k: None for k in DETECTIONS} | {
        "detection_id": "s1-0", "scene_id": "s1", "sensor": "sar", "acquired": CALL_START + dt.timedelta(hours=20),
        "lat": BERTH["lat"], "lon": BERTH["lon"], "length_m": 150.0, "score": 30.0, "fixed": False}],
        schema=DETECTIONS))
    match(scenario)
    call = plan(scenario, *PERIOD).questions.filter(pl.col("kind") == "dark_port_call").row(0, named=True)
    assert call["seen"] == "s1: 1 ship, 1 not broadcasting"
    # the same scene outside the window, or not covering the berth, or cloudy, answers nothing
    for t, lat, status in ((CALL_END + dt.timedelta(hours=1), BERTH["lat"], "ok"),
                           (CALL_START + dt.timedelta(hours=20), BERTH["lat"] + 0.5, "ok"),
                           (CALL_START + dt.timedelta(hours=20), BERTH["lat"], "cloudy")):
        _scene(scenario, t, lat, BERTH["lon"], status=status)
        assert not plan(scenario, *PERIOD).questions.filter(pl.col("kind") == "dark_port_call")["answered"][0]


def test_passes_mark_the_questions_they_cover_with_daylight_for_optical(scenario, tmp_path):
    tle = tmp_path / "s2a.tle"
    tle.write_text(tle_text(S2A))
    p = plan(scenario, *PERIOD, tle=tle)
    call = p.questions.filter(pl.col("kind") == "dark_port_call").row(0, named=True)
    passes = p.passes.filter(pl.col("question_id") == call["question_id"])
    # 2024-12-06 02:05:37 UTC, descending, 81 km from the berth: ~11:00 local time, Sun up
    assert call["passes"] == 1 and call["next_satellite"] == "SENTINEL-2A"
    assert abs((call["next_pass"] - dt.datetime(2024, 12, 6, 2, 5, 37, tzinfo=UTC)).total_seconds()) < 5
    assert 75 < call["next_ground_km"] < 86 and passes["daylight"].all() and passes["optical"].all()
    # a narrower swath (TOML) leaves the berth outside it
    cfg = tmp_path / "plan.toml"
    cfg.write_text("[imagery.plan.satellites.sentinel-2]\nswath_km = 100\n")
    narrow = plan(scenario, *PERIOD, tle=tle, config=cfg).questions.filter(pl.col("kind") == "dark_port_call")
    assert narrow["passes"][0] == 0 and narrow["next_pass"][0] is None
    # an optical pass at night is listed but not usable: the window 2024-12-10 13:04 UTC (23:04 local)
    from shadowfleet.imagery.config import SatelliteRule

    night = find_passes(parse_tle(tle_text(S2A)).satellites, [SatelliteRule("S*", 290.0, True)],
                        np.array([BERTH["lat"]]), np.array([BERTH["lon"]]), np.array([0.5]),
                        np.array([np.datetime64("2024-12-10T00:00", "us")]),
                        np.array([np.datetime64("2024-12-11T00:00", "us")]))
    assert len(night) == 1 and night[0]["direction"] == "ascending" and night[0]["sun_elevation_deg"] < -30
    assert not night[0]["daylight"] and not night[0]["usable"]
    radar = find_passes(parse_tle(tle_text(S2A)).satellites, [SatelliteRule("S*", 290.0, False)],
                        np.array([BERTH["lat"]]), np.array([BERTH["lon"]]), np.array([0.5]),
                        np.array([np.datetime64("2024-12-10T00:00", "us")]),
                        np.array([np.datetime64("2024-12-11T00:00", "us")]))
    assert radar[0]["usable"]  # radar needs no Sun


def test_plan_config_errors_are_one_line(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[imagery.plan.satellites.iceye]\npattern = 'ICEYE*'\n")
    with pytest.raises(ShadowfleetError, match=r"\[imagery.plan.satellites.iceye\] needs a pattern and a swath_km"):
        load_config(cfg)
    cfg.write_text("[imagery.plan.satellites.iceye]\npattern = 'ICEYE*'\nswath_km = 30\noptical = false\n")
    assert dict(load_config(cfg).plan.satellites)["iceye"].swath_km == 30.0
    cfg.write_text("[imagery.plan.satellites.sentinel-1]\nlook = 'up'\n")
    with pytest.raises(ShadowfleetError, match="look must be nadir, right or left"):
        load_config(cfg)
    cfg.write_text("[imagery.plan]\nsatellites = [1, 2]\n")
    with pytest.raises(ShadowfleetError, match="satellites must be tables"):
        load_config(cfg)
    cfg.write_text("[imagery.plan]\nrefine_step_s = 1e-9\n")  # would ask for 60 billion refined samples
    with pytest.raises(ShadowfleetError, match=r"refine_step_s in \[step_s / 120, step_s\]"):
        load_config(cfg)
    cfg.write_text("[imagery.plan]\nreach_speed_kn = 'fast'\n")
    with pytest.raises(ShadowfleetError, match="reach_speed_kn"):
        load_config(cfg)


def run(*args):
    return subprocess.run([sys.executable, "-m", "shadowfleet", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})


def test_plan_command_formats_and_bad_tle(scenario, tmp_path):
    tle = tmp_path / "s.tle"
    tle.write_text(tle_text(S2A) + "SENTINEL-1A\n" + S1A[1][:-1] + "0\n" + S1A[2] + "\nNOAA 20\n" + "\n".join(S2B[1:]))
    args = ("imagery", "plan", "--store", scenario.root, "--from", "2024-12-01", "--to", "2024-12-10", "--tle", tle)
    r = run(*args)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("4 question(s), 0 answered") and "SENTINEL-2A" in lines[0]
    assert lines[1].startswith("1. Was =CHON MA SAN") and "RUVYP-OIL" in lines[1] and "next pass 2024-12-06T02:05Z" in lines[1]
    assert "1 TLE record(s) rejected" in r.stderr and "no swath known for 1 satellite" in r.stderr
    csv = run(*args, "--format", "csv").stdout
    assert "'=CHON MA SAN" in csv and "Z SENTINEL-2A " in csv  # pass_list: UTC time, satellite, ground km
    doc = json.loads(run(*args, "--format", "geojson").stdout)
    assert doc["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert doc["features"][0]["properties"]["pass_list"][0]["satellite"] == "SENTINEL-2A"
    bad = tmp_path / "bad.tle"
    bad.write_text("not a tle\n")
    r = run(*args[:-1], bad)
    assert r.returncode == 1 and r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1
    r = run("imagery", "plan", "--store", scenario.root, "--from", "2024-12-10", "--to", "2024-12-01")
    assert r.returncode == 1 and "must be after" in r.stderr and "Traceback" not in r.stderr
    r = run("imagery", "plan", "--store", scenario.root, "--from", "0001-01-01", "--to", "0001-02-01")
    assert r.returncode == 1 and "between the years" in r.stderr and "Traceback" not in r.stderr


def test_too_many_satellites_for_the_period_is_one_error(scenario, tmp_path):
    tle = tmp_path / "many.tle"
    tle.write_text(tle_text(*[(f"SENTINEL-2X{i}", S2A[1], S2A[2]) for i in range(40)]))
    with pytest.raises(ShadowfleetError, match="track samples"):
        plan(scenario, dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 12, 31, tzinfo=UTC), tle=tle)


def test_a_listed_ship_dark_across_the_antimeridian_is_centred_on_the_short_way_round(tmp_path):
    st = Store(tmp_path / "st")
    t = dt.datetime(2024, 12, 5, tzinfo=UTC)
    st.replace("events", pl.DataFrame([_event(f"ais_gap-{LISTED}-9", "ais_gap", LISTED, t, t + dt.timedelta(hours=20),
                                              52.0, 179.9, details={"end_position": {"lat": 52.0, "lon": -179.9}})],
                                      schema=EVENTS))
    st.replace("screening", pl.DataFrame([{k: None for k in SCREENING} | {"mmsi": LISTED, "list_id": "un"}],
                                         schema=SCREENING))
    q = plan(st, *PERIOD).questions.row(0, named=True)
    assert q["kind"] == "listed_dark" and abs(abs(q["lon"]) - 180) < 0.01


def test_a_spliced_false_track_near_the_terminal_is_asked_like_a_gap(tmp_path):
    """A listed tanker broadcasts a false track for 40 h: where it really was is unknown from the spoofing
    event's unobserved_from to unobserved_to, and its last true report before lies 10 km off the oil berth."""
    from shadowfleet.store.schema import SEGMENTS

    st = Store(tmp_path / "st")
    t0, t1 = CALL_START, CALL_START + dt.timedelta(hours=40)
    near = (BERTH["lat"] - 0.09, BERTH["lon"])  # 10 km south of the berth
    st.replace("events", pl.DataFrame([_event(
        f"spoofing-{LISTED}-1", "spoofing", LISTED, t0, t1, 41.0, 131.0,
        details={"kind": "spliced_track", "unobserved_from": t0.isoformat().replace("+00:00", "Z"),
                 "unobserved_to": t1.isoformat().replace("+00:00", "Z"), "false_segment": f"{LISTED}-2"})],
        schema=EVENTS))
    st.replace("segments", pl.DataFrame([
        {"mmsi": LISTED, "ts": t0 - dt.timedelta(minutes=5), "lat": near[0], "lon": near[1], "segment": f"{LISTED}-1"},
        {"mmsi": LISTED, "ts": t0 + dt.timedelta(hours=1), "lat": 41.0, "lon": 131.0, "segment": f"{LISTED}-2"},
        {"mmsi": LISTED, "ts": t1 + dt.timedelta(minutes=5), "lat": near[0], "lon": near[1] + 0.01,
         "segment": f"{LISTED}-2"}], schema=SEGMENTS))
    q = plan(st, *PERIOD).questions.row(0, named=True)
    assert q["kind"] == "gap_at_terminal" and set(q["place"].split(", ")) == {"RUVYP-OIL", "KOZMINO"}
    assert q["start"] == t0 and q["end"] == t1 and "40 h spoofed track" in q["question"]
