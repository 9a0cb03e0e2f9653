"""AIS gaps and their details."""

import json

import polars as pl

from helpers import ANCH, BERTH, SEA, T0, places, still, track
from shadowfleet.events.config import GapConfig
from shadowfleet.events.transforms.gaps import find_gaps, reception_cells

P = places()


def test_gap_across_midnight_over_six_hours_is_found():
    # 20:00 → 03:00 next day: 7 h
    pts = still(20 * 60 - 30, 20 * 60, *SEA, every=10) + still(27 * 60, 27 * 60 + 30, *SEA, every=10)
    ev = find_gaps(track(1, pts))
    assert ev.height == 1
    assert ev["start"][0].hour == 20 and ev["end"][0].day == T0.day + 1 and ev["end"][0].hour == 3
    assert json.loads(ev["details"][0])["duration_h"] == 7.0


def test_six_hours_exactly_is_not_a_gap():
    pts = still(0, 10, *SEA, every=10) + still(370, 380, *SEA, every=10)
    assert find_gaps(track(1, pts)).height == 0


def test_distance_and_implied_speed():
    a, b = (42.0, 132.0), (42.9, 132.0)  # 100.1 km north
    pts = [(0, *a, 10.0), (600, *b, 10.0)]
    d = json.loads(find_gaps(track(1, pts))["details"][0])
    assert abs(d["distance_km"] - 100.08) < 0.1
    assert abs(d["implied_speed_kn"] - 100.08 / 1.852 / 10) < 0.01


def test_coverage_is_true_only_when_others_were_heard_near_both_ends():
    out = (41.5, 131.5)  # ~170 km from the berth
    me = track(1, still(0, 30, *BERTH, every=10) + still(720, 750, *out, every=10))
    near_berth = track(2, still(0, 750, *ANCH, every=30))
    cov = reception_cells(pl.concat([me, near_berth]), GapConfig().coverage_cell_deg)
    d = json.loads(find_gaps(me, GapConfig(), P, cov)["details"][0])
    assert d["coverage_start"] is True
    assert d["coverage_end"] is False  # nobody heard out there during the silence
    assert d["in_coverage"] is False
    near_out = track(3, still(0, 750, out[0] + 0.1, out[1], every=30))
    cov = reception_cells(pl.concat([me, near_berth, near_out]), GapConfig().coverage_cell_deg)
    assert json.loads(find_gaps(me, GapConfig(), P, cov)["details"][0])["in_coverage"] is True


def test_nearest_and_reachable_places():
    pts = still(0, 30, *BERTH, every=10) + still(600, 630, *BERTH, every=10)  # 9.5 h dark at the berth
    d = json.loads(find_gaps(track(1, pts), GapConfig(), P)["details"][0])
    assert d["nearest_place_start"] == "PORT-OIL" and d["nearest_km_start"] == 0.0
    assert d["nearest_place_end"] == "PORT-OIL"
    assert {"PORT-OIL", "PORT", "PORT-ANCH"} <= set(d["reachable_places"])
    assert "STS" not in d["reachable_places"]  # ~250 km each way: not there and back in 9.5 h at 15 kn
    far = json.loads(find_gaps(track(1, still(0, 30, *BERTH, every=10) + still(2400, 2430, *BERTH, every=10)),
                                GapConfig(), P)["details"][0])
    assert "STS" in far["reachable_places"]  # 40 h is enough


def test_each_vessel_has_its_own_gaps():
    a = track(1, still(0, 10, *SEA, every=10) + still(600, 610, *SEA, every=10))
    b = track(2, still(300, 310, *SEA, every=10))  # heard in between, but it is another vessel
    ev = find_gaps(pl.concat([a, b]))
    assert ev["mmsi"].to_list() == [1]
