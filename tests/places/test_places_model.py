"""One model of places answers "where is this", "which places lie in which" and "which port holds this berth"
for every stage; library functions take it loaded, never a path."""

from __future__ import annotations

import numpy as np
import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.places import as_places, load_places, places_from_geojson


def _feature(pid, kind, ring, country="RU"):
    return {"type": "Feature", "properties": {"id": pid, "name": pid, "kind": kind, "country": country},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _square(pid, kind, lon0, lat0, d):
    return _feature(pid, kind, [[lon0, lat0], [lon0 + d, lat0], [lon0 + d, lat0 + d], [lon0, lat0 + d], [lon0, lat0]])


def _places(*features):
    return places_from_geojson({"type": "FeatureCollection", "features": list(features)})


def test_a_berth_lies_in_its_port_but_not_in_an_anchorage_or_an_eez():
    p = _places(_square("PORTA", "port", 133.0, 42.7, 0.1), _square("QUAY7", "berth", 133.02, 42.72, 0.01),
                _square("ANCH", "anchorage", 133.015, 42.715, 0.03), _square("EEZ", "eez", 130, 40, 5),
                _square("PORTB", "port", 133.2, 42.7, 0.1))
    assert p.parent_ports() == {"QUAY7": "PORTA", "ANCH": "PORTA"}
    assert p.nesting() == {("QUAY7", "PORTA"), ("ANCH", "PORTA")}
    assert list(p.locate([42.725, 42.75, 42.75], [133.025, 133.05, 133.25])) == ["QUAY7", "PORTA", "PORTB"]


def test_the_built_in_gazetteer_holds_the_oil_berths_in_their_ports():
    parent = load_places().parent_ports()
    assert parent["RUVYP-OIL"] == "RUVYP" and parent["KPCHO-OIL"] == "KPCHO"


def test_library_functions_take_loaded_places_never_a_path(tmp_path):
    from shadowfleet.events import detect
    from shadowfleet.store import Store

    assert len(as_places(None)) == len(load_places())
    with pytest.raises(ShadowfleetError, match="expected a Places"):
        detect(Store(tmp_path / "s"), places=str(tmp_path / "places.geojson"))


def test_a_polygon_drawn_across_the_antimeridian_is_split_there_not_read_round_the_globe():
    # 179.9 E to 179.9 W, 20 km wide: written with the jump most tools produce
    ring = [[179.9, 51.0], [-179.9, 51.0], [-179.9, 51.1], [179.9, 51.1], [179.9, 51.0]]
    p = _places(_feature("DATELINE", "anchorage", ring), _square("FAR", "port", 10.0, 51.0, 0.1))
    assert list(p.locate([51.05, 51.05, 51.05, 51.05], [179.95, -179.95, 0.0, 10.05], kinds=None)) == [
        "DATELINE", "DATELINE", None, "FAR"]
    area = p.table.filter(p.table["id"] == "DATELINE")["area_km2"][0]
    assert 150 < area < 170  # 0.2 deg x cos(51) x 111 km by 0.1 deg x 111 km, not a 358-degree band
    assert -180 <= p.table["lon"][0] <= 180
    d = p.distance_km([51.05, 51.05], [179.95, 170.0], "DATELINE")
    assert d[0] == 0 and d[1] > 600
    ids, _ = p.within_km([51.05], [-179.95], 1.0, kinds=None)
    assert ids[0] == "DATELINE"


def test_point_lookups_by_position_and_by_id_agree():
    p = load_places()
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(41.5, 43.0, 500), rng.uniform(129.5, 133.5, 500)
    idx = p.smallest_containing(lat, lon, ("port", "berth", "anchorage", "terminal"))
    by_id = p.locate(lat, lon)
    assert [None if i < 0 else p.id_array[i] for i in idx] == list(by_id)
