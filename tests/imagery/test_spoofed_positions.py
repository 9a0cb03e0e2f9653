"""Spoofed AIS positions inside a radar scene come out as unconfirmed_position, and the real hull of a ship that was
silent before its false track began, imaged at that moment, as a dark_detection: the simulator's spoofing
scenario, scenes rendered over the false positions and the real hulls (match_score.spoofed_acquisitions)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from shadowfleet.places import haversine_km, load_places


@pytest.mark.slow
def test_a_spoofed_position_in_a_scene_is_unconfirmed_and_the_silent_real_hull_is_dark(tmp_path):
    from shadowfleet.imagery import detect
    from shadowfleet.imagery.match import match
    from shadowfleet.imagery.match_score import score_matches, spoofed_acquisitions
    from shadowfleet.ingest import ingest
    from shadowfleet.sim import simulate
    from shadowfleet.sim.render import render
    from shadowfleet.store import Store

    sim = tmp_path / "sim"
    simulate("spoofing", sim, seed=5, days=6, vessels=60)
    st = Store(tmp_path / "store")
    ingest([sim / "ais.nmea"], st)
    doc = {"scenario": "spoofing", "seed": 5,
           "acquisitions": spoofed_acquisitions(json.loads((sim / "truth.json").read_text()), st, footprint_km=6.0)}
    false = [a for a in doc["acquisitions"] if a["id"].endswith("-false")]
    hulls = [a for a in doc["acquisitions"] if a["id"].endswith("-hull")]
    assert false and hulls
    render(doc, sim / "scenes", 5, pixel_m=20.0, sensors=("SAR",))
    detect([sim / "scenes" / a["render"]["file"] for a in doc["acquisitions"]], st, places=sim / "places.geojson")
    _, ev = match(st, places=load_places(sim / "places.geojson"))
    ev = ev.with_columns(pl.Series("scene_id", [json.loads(d)["scene_id"] for d in ev["details"]], dtype=pl.Utf8))
    for a in false:
        claim = a["spoofed_positions"][0]
        u = ev.filter((pl.col("type") == "unconfirmed_position") & (pl.col("scene_id") == a["id"])
                      & (pl.col("mmsi") == claim["mmsi"]))
        assert u.height == 1, a["id"]
        assert haversine_km(u["lat"][0], u["lon"][0], claim["lat"], claim["lon"]) < 1.0
    for a in hulls:
        ship = a["ships"][0]
        d = ev.filter((pl.col("type") == "dark_detection") & (pl.col("scene_id") == a["id"]))
        near = haversine_km(d["lat"].to_numpy(), d["lon"].to_numpy(), ship["lat"], ship["lon"]) * 1000
        assert (near < 200).sum() == 1, a["id"]
    sc = score_matches(st, doc)
    assert sc.spoofed_unconfirmed == sc.spoofed_in_scene == len(false)
