"""The chain on a small rendered scenario: every dark ship the scenes show at a berth or terminal is corroborated
in its vessel's case (simulate -> ingest -> detect -> imagery detect -> match -> cases)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_every_dark_berth_visit_a_rendered_scene_covers_is_corroborated_in_its_case(rendered, tmp_path):
    from shadowfleet.cases import build_cases
    from shadowfleet.cases.config import DEFAULTS
    from shadowfleet.events import detect
    from shadowfleet.imagery import detect as detect_ships
    from shadowfleet.imagery.match import match
    from shadowfleet.ingest import ingest
    from shadowfleet.places import load_places
    from shadowfleet.store import Store

    out, doc = rendered
    places = load_places(out / "places.geojson")
    st = Store(tmp_path / "store")
    ingest([out / "ais.nmea"], st)
    detect(st, places=places)
    files = [out / "scenes" / a["render"]["file"] for a in doc["acquisitions"] if a.get("render")]
    detect_ships(files, st, places=out / "places.geojson")
    match(st, places=places)
    cases = build_cases(st, places=places)

    visits = [(s["mmsi"], a["id"]) for a in doc["acquisitions"] if a.get("render") for s in a["ships"]
              if not s["ais_on"] and places.locate(s["lat"], s["lon"], kinds=("berth", "terminal"))[0] is not None]
    assert visits, "the scenario must show a dark tanker at a berth"
    corroborated = {(r["mmsi"], x["scene_id"]) for r in cases.iter_rows(named=True)
                    for x in json.loads(r["imagery"]) if not x["matched"]}
    assert set(visits) <= corroborated
    # and only those: no other dark detection is taken for a case
    assert corroborated == set(visits)
    # the corroboration raised the confidence of those cases and says so
    plain = build_cases(st, places=places, write=False, cfg=DEFAULTS.__class__(
        w_imagery_dark_load=0.0, w_imagery_dark_discharge=0.0, w_imagery_dark_sts=0.0, w_imagery_matched=0.0))
    before = dict(zip(plain["case_id"], plain["confidence"]))
    for r in cases.filter(cases["mmsi"].is_in([m for m, _ in visits])).iter_rows(named=True):
        assert r["confidence"] > before[r["case_id"]]
        assert any(s.startswith("imagery corroborates") for s in json.loads(r["reasons"]))
