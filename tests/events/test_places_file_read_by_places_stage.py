"""A places file given to detection or evaluation is read and validated by the places stage: one reader, one set
of one-line messages."""

from __future__ import annotations

import json

import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.evaluate.places import nesting_from_geojson
from shadowfleet.events.placeindex import PlaceIndex

from helpers import FEATURES, box


def _write(tmp_path, features):
    p = tmp_path / "places.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return p


def test_detection_and_evaluation_read_the_same_places_file(tmp_path):
    p = _write(tmp_path, FEATURES)
    idx = PlaceIndex.from_geojson(p)
    assert sorted(idx.ids) == sorted(f["properties"]["id"] for f in FEATURES)
    # the oil berth lies inside its port; the anchorage beside the port does not
    assert nesting_from_geojson(p) == {("PORT-OIL", "PORT")}


@pytest.mark.parametrize("reader", [PlaceIndex.from_geojson, nesting_from_geojson])
def test_a_feature_without_country_is_rejected_naming_it(tmp_path, reader):
    bad = box("QUAY", "berth", 42.7, 133.0, 42.71, 133.01)
    del bad["properties"]["country"]
    with pytest.raises(ShadowfleetError) as err:
        reader(_write(tmp_path, FEATURES + [bad]))
    msg = str(err.value)
    assert "feature 5" in msg and "'QUAY'" in msg and "country" in msg and "\n" not in msg


@pytest.mark.parametrize("reader", [PlaceIndex.from_geojson, nesting_from_geojson])
def test_a_file_that_is_not_json_is_one_line_error(tmp_path, reader):
    p = tmp_path / "places.geojson"
    p.write_text("not json {", encoding="utf-8")
    with pytest.raises(ShadowfleetError) as err:
        reader(p)
    assert "not valid JSON" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ShadowfleetError, match="places file not found"):
        reader(tmp_path / "missing.geojson")
