"""A known-structures layer sets fixed objects aside in a single pass, where persistence cannot; it stays in the
store for later runs; a bad layer is one error line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery import detect, read_detections
from shadowfleet.imagery.readers.structures import read_structures
from shadowfleet.places import haversine_km
from shadowfleet.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _one_vostochny_pass(rendered):
    folder, doc = rendered
    acq = next(a for a in doc["acquisitions"] if a["sensor"] == "SAR" and a["site"] == "Vostochny")
    return folder / "scenes" / f"{acq['id']}.tif", acq, folder / "scenes" / "structures.geojson"


def test_the_simulator_writes_the_structures_its_radar_scenes_show(rendered):
    _, acq, layer = _one_vostochny_pass(rendered)
    doc = json.loads(layer.read_text())
    shown = acq["render"]["fixed_structures"]
    pts = [f["geometry"]["coordinates"] for f in doc["features"] if f["properties"]["id"].startswith("Vostochny-")]
    assert len(shown) >= 2 and sorted((la, lo) for la, lo in shown) == sorted((la, lo) for lo, la in pts)


def test_a_known_structure_is_set_aside_in_a_single_pass_and_stays_for_later_runs(rendered, tmp_path):
    scene, acq, layer = _one_vostochny_pass(rendered)
    st = Store(tmp_path / "st")
    detect([scene], st)
    plain = read_detections(st, include_fixed=True)
    assert plain["fixed"].sum() == 0  # one pass: persistence cannot tell a jetty head from a ship
    detect([scene], st, structures=layer)
    det = read_detections(st, include_fixed=True)
    fixed = det.filter(pl.col("fixed"))
    # every structure seen is set aside, and nothing else: each fixed detection lies on a structure
    for la, lo in acq["render"]["fixed_structures"]:
        d = haversine_km(la, lo, det["lat"].to_numpy(), det["lon"].to_numpy()) * 1000
        if d.min() < 50:
            assert det["fixed"][int(d.argmin())]
    assert fixed.height >= 2 and fixed["length_m"].max() < 40
    assert det.height == plain.height  # the same objects; only the flags differ
    # the layer is kept in the store: detecting again without it keeps the structures aside
    detect([scene], st)
    assert read_detections(st, include_fixed=True)["fixed"].sum() == fixed.height


def test_the_layer_can_come_from_the_toml_beside_it(rendered, tmp_path):
    scene, _, layer = _one_vostochny_pass(rendered)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "s.geojson").write_text(layer.read_text())
    (tmp_path / "cfg" / "c.toml").write_text('[imagery.structures]\nfile = "s.geojson"\nradius_m = 80\n')
    st = Store(tmp_path / "st")
    detect([scene], st, config=tmp_path / "cfg" / "c.toml")
    assert read_detections(st, include_fixed=True)["fixed"].sum() >= 2


@pytest.mark.parametrize("text, says", [
    ("not json", "not valid GeoJSON"),
    ("[" * 100_000, "not valid GeoJSON"),  # nested past Python's recursion limit
    ('{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
    ('{"type": "FeatureCollection", "features": [{"geometry": {"type": "Circle"}}]}', "feature 0: geometry"),
    ('{"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", "coordinates": [500, 42]}}]}',
     "lon/lat"),
])
def test_a_bad_structures_layer_is_one_error_line(tmp_path, text, says):
    bad = tmp_path / "bad.geojson"
    bad.write_text(text)
    with pytest.raises(ShadowfleetError, match=says):
        read_structures(bad)
    r = subprocess.run([sys.executable, "-m", "shadowfleet", "imagery", "detect", str(tmp_path / "none.tif"),
                        "--store", str(tmp_path / "st"), "--structures", str(bad)], capture_output=True, text=True,
                       cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: ") and len(r.stderr.splitlines()) == 1 and says in r.stderr


def test_lines_and_polygons_count_by_distance_to_their_edge(tmp_path):
    from shadowfleet.imagery.main import flag_known

    layer = tmp_path / "s.geojson"
    jetty = {"type": "LineString", "coordinates": [[133.0, 42.0], [133.01, 42.0]]}  # ~830 m east-west
    layer.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": jetty, "properties": {"id": "J1", "kind": "jetty"}}]}))
    rows = read_structures(layer)
    assert rows["structure_id"].to_list() == ["J1"] and rows["kind"].to_list() == ["jetty"]
    # 40 m north of the jetty's middle, 60 m north of it, and 40 m beyond its east end
    k = 1 / 111_195.0
    det = pl.DataFrame({"lat": [42.0 + 40 * k, 42.0 + 60 * k, 42.0], "lon": [133.005, 133.005, 133.01 + 40 * k / 0.7431],
                        "fixed": [False] * 3})
    assert flag_known(det, rows, 50.0)["fixed"].to_list() == [True, False, True]
