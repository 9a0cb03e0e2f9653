"""Matches scored against the simulator's truth (imagery.json): accepted matches correct, AIS-on ships matched to
their own MMSI, dark ships found as dark_detection and the share of dark_detection that are dark ships."""

from __future__ import annotations

import json

import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.evaluate import load_truth
from shadowfleet.imagery.match import match
from shadowfleet.imagery.match_score import load_imagery_truth, score_matches
from tests.imagery.test_match import _at, _store


def _truth(ships, seen_at=None):
    return {"scenario": "hand", "seed": 0, "acquisitions": [
        {"id": "s1", "sensor": "SAR", "ships": [{"mmsi": m, "lat": la, "lon": lo, "length": ln, "ais_on": on,
                                                 "ais_spoofed": False} for m, la, lo, ln, on in ships],
         "render": {"image_positions": seen_at or {}}}]}


def test_each_outcome_is_counted_against_the_truth(tmp_path):
    a, b, c, noise = _at(0, 0), _at(3000, 0), _at(-3000, 0), _at(0, 4000)
    st = _store(tmp_path, [(*a, 100.0), (*b, 120.0), (*c, 90.0), (*noise, 60.0)],
                {1: [(0, *a, 0.0, 0.0)],  # broadcasting where it is
                 3: [(0, *_at(-3000, 400), 0.0, 0.0)]},  # broadcasting 400 m off: not matched
                {1: 100, 3: 90})
    match(st)
    truth = _truth([(1, *a, 100.0, True), (2, *b, 120.0, False), (3, *c, 90.0, True)])
    sc = score_matches(st, truth).as_dict()
    assert sc["accepted_correct"] == [1, 1, 1.0]
    assert sc["ais_on_right_mmsi"] == [1, 2, 0.5]
    assert sc["dark_recall"] == [1, 1, 1.0]
    # three dark_detection events: the dark ship, ship 3 (AIS 400 m off) and a detection of nothing
    assert sc["dark_precision"] == [1, 3, pytest.approx(0.3333)]


def test_truth_is_where_the_renderer_put_a_moving_ship(tmp_path):
    imaged, true = _at(0, 0), _at(600, 0)  # a radar shifts a moving ship along its track
    st = _store(tmp_path, [(*imaged, 100.0)], {}, {})
    match(st)
    assert score_matches(st, _truth([(2, *true, 100.0, False)], {"2": list(imaged)})).dark_found == 1
    assert score_matches(st, _truth([(2, *true, 100.0, False)])).dark_found == 0


def test_a_file_that_is_not_an_imagery_document_is_one_error(tmp_path):
    p = tmp_path / "imagery.json"
    p.write_text(json.dumps({"acquisitions": [{"ships": [{"lat": 1}]}]}))
    with pytest.raises(ShadowfleetError, match="not a simulator imagery.json"):
        load_imagery_truth(p)
    with pytest.raises(ShadowfleetError, match="not found"):
        load_imagery_truth(tmp_path / "missing.json")
    p.write_text("[" * 100_000)  # nested past Python's recursion limit
    with pytest.raises(ShadowfleetError, match="not a simulator imagery.json"):
        load_imagery_truth(p)
    with pytest.raises(ShadowfleetError, match="not a simulator imagery.json"):
        load_truth(p)


def test_a_ship_matched_under_another_of_its_identities_is_right_and_one_never_heard_is_dark(tmp_path):
    a, b = _at(0, 0), _at(3000, 0)
    # ship 1 broadcasts as 9 (its identity after a change); ship 2 transmits but nothing was received
    st = _store(tmp_path, [(*a, 100.0), (*b, 120.0)], {9: [(0, *a, 0.0, 0.0)]}, {9: 100})
    match(st)
    truth = _truth([(1, *a, 100.0, True), (2, *b, 120.0, True)])
    vessels = [{"mmsi": 1, "identities": [{"mmsi": 1}, {"mmsi": 9}]}, {"mmsi": 2, "identities": []}]
    sc = score_matches(st, truth, vessels=vessels).as_dict()
    assert sc["accepted_correct"] == [1, 1, 1.0] and sc["ais_on_right_mmsi"] == [1, 1, 1.0]
    assert sc["dark_recall"] == [1, 1, 1.0] and sc["dark_precision"] == [1, 1, 1.0]
    assert score_matches(st, truth).as_dict()["accepted_correct"] == [0, 1, 0.0]  # without the identities
