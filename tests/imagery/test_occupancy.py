"""Berth occupancy: per scene covering a place, the ships detected there, tied to AIS (or not), listed or not;
an empty berth is a row too; an unknown place id is one error line naming near ids."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.match import match
from shadowfleet.imagery.occupancy import occupancy, summary_lines
from shadowfleet.places import load_places
from shadowfleet.store import Store
from shadowfleet.store.schema import DETECTIONS, SCENES, SCREENING

ROOT = Path(__file__).resolve().parents[2]
T1 = dt.datetime(2024, 3, 8, 8, 40, tzinfo=dt.timezone.utc)
T2 = dt.datetime(2024, 3, 14, 8, 40, tzinfo=dt.timezone.utc)
T3 = dt.datetime(2024, 3, 20, 8, 40, tzinfo=dt.timezone.utc)
BERTH = load_places().row("RUVYP-OIL")
LISTED, OTHER = 445111222, 273000111


def _box(lat, lon, km):
    d = km / 2 / 111.195
    e = d / np.cos(np.radians(lat))
    ring = [[lon - e, lat - d], [lon + e, lat - d], [lon + e, lat + d], [lon - e, lat + d], [lon - e, lat - d]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _scene(sid, t, lat, lon, status="ok"):
    return {k: None for k in SCENES} | {"scene_id": sid, "sensor": "sar", "acquired": t, "footprint": _box(lat, lon, 20),
                                        "pixel_m": 10.0, "width": 2000, "height": 2000, "status": status}


def _det(sid, t, i, lat, lon, length):
    return {k: None for k in DETECTIONS} | {"detection_id": f"{sid}-{i}", "scene_id": sid, "sensor": "sar",
                                            "acquired": t, "lat": lat, "lon": lon, "length_m": length,
                                            "score": 40.0, "fixed": False, "distance_to_shore_km": 0.3,
                                            "place": "RUVYP-OIL"}


@pytest.fixture()
def store(tmp_path):
    """Three scenes: on 8 March four ships at the oil berth (one of them broadcasting as a listed tanker) and
    one outside it; on 14 March the berth empty; on 20 March a scene 60 km away that does not cover it."""
    st = Store(tmp_path / "st")
    la, lo = BERTH["lat"], BERTH["lon"]
    st.replace("scenes", pl.DataFrame([_scene("s1", T1, la, lo), _scene("s2", T2, la, lo),
                                       _scene("s3", T3, la + 0.6, lo)], schema=SCENES))
    inside = [(la + dy, lo + dx) for dy, dx in ((0.0, 0.0), (0.0012, -0.002), (-0.0012, 0.002), (0.0015, 0.002))]
    dets = [_det("s1", T1, i, a, b, n) for i, ((a, b), n) in enumerate(zip(inside, (180.0, 120.0, 110.0, 95.0)))]
    dets.append(_det("s1", T1, 9, la - 0.03, lo, 150.0))  # 3 km south: not at the berth
    st.replace("detections", pl.DataFrame(dets, schema=DETECTIONS))
    st.append("positions", pl.DataFrame([
        {"mmsi": LISTED, "ts": T1 + dt.timedelta(minutes=m), "lat": inside[0][0], "lon": inside[0][1], "sog": 0.0,
         "cog": 0.0, "msg_type": 1, "ais_class": "A", "dup_key": k} for k, m in enumerate((-4, 3))]))
    st.append("static", pl.DataFrame([{"mmsi": LISTED, "ts": T1, "msg_type": 5, "name": "=RYE SONG GANG 1",
                                       "length": 176.0, "dup_key": 99}]))
    st.replace("screening", pl.DataFrame([
        {k: None for k in SCREENING} | {"mmsi": LISTED, "list_id": "un-1718", "list_name": "UN 1718 vessels",
                                        "score": 100.0},
        {k: None for k in SCREENING} | {"mmsi": OTHER, "list_id": None, "risk": 10.0}], schema=SCREENING))
    match(st)
    return st


def test_four_tankers_at_the_berth_one_broadcasting_and_an_empty_berth_later(store):
    occ = occupancy(store, "RUVYP-OIL")
    assert occ["scene_id"].unique(maintain_order=True).to_list() == ["s1", "s2"]  # s3 does not cover the berth
    s1 = occ.filter(pl.col("scene_id") == "s1")
    assert s1.height == 4 and set(s1["ships"]) == {4} and set(s1["dark"]) == {3}
    assert s1["length_m"].to_list() == [180.0, 120.0, 110.0, 95.0]  # longest first
    on = s1.filter(pl.col("broadcasting"))
    assert on["mmsi"].to_list() == [LISTED] and on["listed"].to_list() == [True]
    assert on["lists"].to_list() == ["UN 1718 vessels"] and on["ais_length_m"].to_list() == [176.0]
    assert s1.filter(~pl.col("broadcasting"))["mmsi"].null_count() == 3
    s2 = occ.filter(pl.col("scene_id") == "s2")
    assert s2.height == 1 and s2["ships"][0] == 0 and s2["detection_id"][0] is None and s2["coverage"][0] == 1.0
    lines = summary_lines(occ)
    assert lines[0].endswith("4 ships at RUVYP-OIL, 3 not broadcasting, 1 listed") and "no ship" in lines[1]


def test_the_time_window_keeps_only_scenes_acquired_inside_it(store):
    occ = occupancy(store, "RUVYP-OIL", start=T2, end=T3)
    assert occ["scene_id"].unique().to_list() == ["s2"]
    assert occupancy(store, "RUVYP-OIL", start=T3).height == 0


def test_a_port_holds_the_ships_at_its_berths(store):
    occ = occupancy(store, "RUVYP").filter(pl.col("scene_id") == "s1")
    assert occ["ships"][0] == 5 and set(occ["detected_place"].drop_nulls()) == {"RUVYP-OIL"}


def test_an_unknown_place_id_names_the_near_ones(store):
    with pytest.raises(ShadowfleetError, match=r"unknown place id 'RUVYP-OI'; near ids: RUVYP-OIL"):
        occupancy(store, "RUVYP-OI")


def run(*args):
    return subprocess.run([sys.executable, "-m", "shadowfleet", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})


def test_occupancy_command_formats_and_error_line(store):
    r = run("imagery", "occupancy", "--place", "RUVYP-OIL", "--store", store.root)
    assert r.returncode == 0, r.stderr
    assert "4 ships at RUVYP-OIL, 3 not broadcasting" in r.stdout and "RYE SONG GANG 1" in r.stdout
    r = run("imagery", "occupancy", "--place", "RUVYP-OIL", "--store", store.root, "--format", "csv")
    assert r.returncode == 0 and "'=RYE SONG GANG 1" in r.stdout  # the formula guard
    r = run("imagery", "occupancy", "--place", "RUVYP-OIL", "--store", store.root, "--format", "geojson")
    doc = json.loads(r.stdout)
    geoms = [f["geometry"] for f in doc["features"]]
    assert len(geoms) == 5 and geoms[-1] is None and geoms[0]["type"] == "Point"
    rows = [json.loads(x) for x in run("imagery", "occupancy", "--place", "RUVYP-OIL", "--store", store.root,
                                       "--format", "jsonl", "--to", "2024-03-10").stdout.splitlines()]
    assert len(rows) == 4 and rows[0]["acquired"] == "2024-03-08T08:40:00Z"
    r = run("imagery", "occupancy", "--place", "NOWHERE-1", "--store", store.root)
    assert r.returncode != 0 and r.stderr.startswith("error: unknown place id") and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
