"""Encounters on the common 10-min grid."""

import json

import polars as pl

from helpers import ANCH, SEA, T0, offset_km, places, sail, still, track
from shadowfleet.events.config import EncounterConfig
from shadowfleet.events.transforms.encounters import encounter_pairs, find_encounters, resample

P = places()
MEET = (41.1, 131.15)  # inside the STS area


def pair(a_pts, b_pts):
    return pl.concat([track(1, a_pts), track(2, b_pts)])


def test_side_by_side_for_hours_is_one_encounter_reported_for_each_vessel():
    b = offset_km(MEET, 0.2, 0.2)
    ev = find_encounters(pair(still(0, 300, *MEET), still(0, 300, *b)), places=P)
    assert ev.select("mmsi", "other_mmsi").rows() == [(1, 2), (2, 1)]
    row = ev.row(0, named=True)
    assert row["start"] == T0 and (row["end"] - row["start"]).total_seconds() == 300 * 60
    d = json.loads(row["details"])
    assert d["place"] == "STS" and abs(d["median_distance_km"] - 0.283) < 0.01
    assert row["place"] is None  # the place column is for port calls


def test_encounter_inside_an_anchorage_is_kept_with_the_place():
    b = offset_km(ANCH, -0.3, 0.1)
    ev = find_encounters(pair(still(0, 200, *ANCH), still(0, 200, *b)), places=P)
    assert ev.height == 2 and json.loads(ev["details"][0])["place"] == "PORT-ANCH"


def test_vessels_passing_at_speed_are_no_encounter():
    a = sail(0, 300, SEA, MEET, every=1, sog=9.0)
    b = sail(0, 300, offset_km(SEA, 0.1, 0), offset_km(MEET, 0.1, 0), every=1, sog=9.0)  # 100 m apart, moving
    assert find_encounters(pair(a, b)).height == 0


def test_too_far_apart_or_too_short_is_no_encounter():
    assert find_encounters(pair(still(0, 300, *MEET), still(0, 300, *offset_km(MEET, 0.6, 0)))).height == 0
    assert find_encounters(pair(still(0, 110, *MEET), still(0, 110, *offset_km(MEET, 0.1, 0)))).height == 0
    assert find_encounters(pair(still(0, 120, *MEET), still(0, 120, *offset_km(MEET, 0.1, 0)))).height == 2


def test_pairs_straddling_cell_edges_are_found():
    # points placed on either side of many row/column edges: the neighbour expansion must find every pair
    cfg = EncounterConfig()
    rows = []
    for i, (dn, de) in enumerate([(0.45, 0), (0, 0.45), (0.3, 0.3), (-0.3, 0.3), (0.01, -0.49)]):
        base = (41.0 + i * 0.0531, 131.0 + i * 0.0747)  # pairs ~7 km apart; offsets vary
        other = offset_km(base, dn, de)
        rows.append({"mmsi": 10 + 2 * i, "t": 0, "lat": base[0], "lon": base[1], "sog": 0.0})
        rows.append({"mmsi": 11 + 2 * i, "t": 0, "lat": other[0], "lon": other[1], "sog": 0.0})
    found = encounter_pairs(pl.DataFrame(rows), cfg)
    assert sorted(found.select("mmsi", "other_mmsi").rows()) == [(10 + 2 * i, 11 + 2 * i) for i in range(5)]


def grid_minutes(grid):
    return sorted((grid["t"] // 60_000_000 - int(T0.timestamp()) // 60).to_list())


def test_resampling_does_not_bridge_a_long_silence_of_a_moving_ship():
    # slow (1.5 kn) but 3 km further on after a 2 h silence: positions in between are not invented
    far = offset_km(MEET, 3.0, 0)
    pts = still(0, 60, *MEET, every=10, sog=1.5) + still(180, 240, *far, every=10, sog=1.5)
    assert grid_minutes(resample(track(1, pts))) == [0, 10, 20, 30, 40, 50, 60, 180, 190, 200, 210, 220, 230, 240]


def test_resampling_bridges_a_ship_that_stayed_put_but_not_beyond_a_day():
    pts = still(0, 60, *MEET, every=10) + still(180, 240, *MEET, every=10)  # 2 h silence, same spot
    assert grid_minutes(resample(track(1, pts))) == list(range(0, 241, 10))
    pts = still(0, 60, *MEET, every=10) + still(26 * 60, 26 * 60 + 60, *MEET, every=10)  # 25 h > 24 h
    assert len(grid_minutes(resample(track(1, pts)))) == 14


def test_silence_longer_than_a_day_splits_the_encounter():
    b = offset_km(MEET, 0.1, 0)
    a_pts = still(0, 150, *MEET, every=10) + still(1650, 1800, *MEET, every=10)
    b_pts = still(0, 1800, *b, every=10)
    ev = find_encounters(pair(a_pts, b_pts))
    assert ev.filter(pl.col("mmsi") == 1).height == 2


def test_interpolated_speed_decides_slowness():
    # b slows from 6 kn to 0: only grid points where the interpolated SOG is below 2 kn count
    a = still(0, 300, *MEET, every=10)
    b = [(t, *offset_km(MEET, 0.1, 0), max(0.0, 6.0 - t / 10.0)) for t in range(0, 301, 10)]
    ev = find_encounters(pair(a, b))
    assert ev.height == 2 and (ev["start"][0] - T0).total_seconds() / 60 == 50  # first grid time with SOG < 2


def swinging(a_spans, every=10, sog=0.2):
    """Ship b beside a (at MEET), at 0.45 km in the spans given as (minute from, to, km apart)."""
    pts = []
    for t0, t1, km in a_spans:
        pts += still(t0, t1, *offset_km(MEET, km, 0), every=every, sog=sog)
    return pts


def test_anchored_pair_swinging_across_the_limit_is_one_encounter():
    # 0.45 km apart, swinging out to 0.55 km for 40 min twice: one 9 h encounter, not three pieces
    b = swinging([(0, 180, 0.45), (190, 230, 0.55), (240, 360, 0.45), (370, 410, 0.55), (420, 540, 0.45)])
    ev = find_encounters(pair(still(0, 540, *MEET, every=10), b))
    assert ev.filter(pl.col("mmsi") == 1).height == 1
    row = ev.row(0, named=True)
    assert row["start"] == T0 and (row["end"] - row["start"]).total_seconds() == 540 * 60
    d = json.loads(row["details"])
    # 45 of the 55 grid times within 0.5 km, and the distances are those of the close times only
    assert d["n_grid_points"] == 45 and d["within_share"] == round(45 / 55, 3) and d["max_distance_km"] <= 0.5


def test_break_longer_than_the_join_gap_is_two_encounters():
    b = swinging([(0, 180, 0.45), (190, 280, 0.55), (290, 470, 0.45)])  # 100 min beyond 0.5 km
    ev = find_encounters(pair(still(0, 470, *MEET, every=10), b))
    assert ev.filter(pl.col("mmsi") == 1).height == 2
    # the join gap is a named threshold: 2 h bridges it
    ev = find_encounters(pair(still(0, 470, *MEET, every=10), b), EncounterConfig(join_gap_min=120))
    assert ev.filter(pl.col("mmsi") == 1).height == 1


def test_break_in_which_a_ship_got_under_way_is_not_joined():
    # b leaves at 5 kn for 40 min and comes back: the two meetings stay apart even though the break is short
    near, away = offset_km(MEET, 0.3, 0), offset_km(MEET, 1.5, 0)
    b = (still(0, 180, *near, every=10) + sail(190, 200, near, away, sog=5.0)
         + sail(210, 220, away, near, sog=5.0) + still(230, 410, *near, every=10))
    ev = find_encounters(pair(still(0, 410, *MEET, every=10), b))
    assert ev.filter(pl.col("mmsi") == 1).height == 2
    assert all(json.loads(d)["within_share"] == 1.0 for d in ev["details"])
