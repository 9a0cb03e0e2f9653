"""Port calls on constructed tracks with known answers."""

import datetime as dt
import json

import polars as pl
import pytest

from helpers import ANCH, BERTH, FEATURES, SEA, T0, box, offset_km, places, sail, still, track
from shadowfleet.events.config import PortCallConfig
from shadowfleet.events.transforms.port_calls import find_port_calls
from shadowfleet.events.transforms.stops import find_stops

P = places()


def minutes(ts) -> float:
    return (ts - T0).total_seconds() / 60


def test_stop_at_berth_inside_port_gets_the_berth():
    ev = find_port_calls(track(1, sail(0, 120, SEA, BERTH) + still(130, 310, *BERTH) + sail(320, 440, BERTH, SEA)), P)
    assert ev.height == 1
    row = ev.row(0, named=True)
    assert row["place"] == "PORT-OIL" and row["inferred"] is False
    assert minutes(row["start"]) == 130 and minutes(row["end"]) == 310  # first and last stationary report


def test_stop_in_port_outside_berth_gets_the_port():
    spot = offset_km(BERTH, 2.0, -2.0)  # in the port polygon, 2-3 km from the berth
    ev = find_port_calls(track(1, still(0, 180, *spot)), P)
    assert ev["place"].to_list() == ["PORT"]


def test_exactly_one_hour_is_a_call_and_just_under_is_not():
    assert find_port_calls(track(1, still(0, 60, *ANCH)), P)["place"].to_list() == ["PORT-ANCH"]
    assert find_port_calls(track(1, still(0, 57, *ANCH)), P).height == 0


def test_stationary_at_sea_is_no_port_call():
    assert find_port_calls(track(1, still(0, 600, *SEA)), P).height == 0


def test_missing_sog_is_not_stationary():
    pts = [(t, la, lo, None) for t, la, lo, _ in still(0, 180, *BERTH)]
    assert find_port_calls(track(1, pts), P).height == 0


def test_dark_berth_visit_is_an_inferred_call_spanning_the_gap():
    # 20 min seen stationary, then transponder off 10 h at the berth, back on briefly before leaving: the short
    # seen runs are no port calls of their own and join the silence's inferred call
    pts = (sail(0, 120, SEA, BERTH) + still(130, 150, *BERTH, every=5) + still(750, 760, *BERTH, every=5)
           + sail(770, 900, BERTH, SEA))
    ev = find_port_calls(track(1, pts), P)
    assert ev.height == 1
    row = ev.row(0, named=True)
    assert row["place"] == "PORT-OIL" and row["inferred"] is True
    assert minutes(row["start"]) == 130 and minutes(row["end"]) == 760
    d = json.loads(row["details"])
    assert d["dark_h"] == 10.0 and d["part"] == "dark" and d["visit_parts"] == 1


def test_gap_ends_near_the_berth_but_outside_it_infer_a_call():
    a, b = offset_km(BERTH, 0, 3.0), offset_km(BERTH, 0.5, 3.5)  # moving, ~3 km from the berth, inside the port
    pts = sail(0, 60, SEA, a) + sail(540, 600, b, SEA)
    ev = find_port_calls(track(1, pts), P)
    assert ev.height == 1 and ev["inferred"].to_list() == [True]
    assert minutes(ev["start"][0]) == 60 and minutes(ev["end"][0]) == 540


def test_gap_with_an_end_far_from_the_place_infers_nothing():
    far = offset_km((42.70, 133.05), -12.0, 0)  # 12 km south of the port, 6 km beyond the anchorage
    pts = sail(0, 60, SEA, BERTH, sog=0.0) + sail(540, 600, far, SEA)
    assert find_port_calls(track(1, pts), P).filter(pl.col("inferred")).height == 0


def test_short_gap_is_not_an_inferred_call():
    pts = sail(0, 60, SEA, BERTH) + sail(150, 240, BERTH, SEA)  # 1.5 h < 2 h
    assert find_port_calls(track(1, pts), P).height == 0


def test_partly_dark_visit_is_a_seen_call_then_a_dark_call():
    # 3 h seen stationary at the berth, then 8 h dark there, then 30 min seen: the seen call, and the silence as
    # an inferred call that takes in the last 30 min (too short to be a call of its own)
    pts = still(0, 180, *BERTH) + still(660, 690, *BERTH)
    ev = find_port_calls(track(1, pts), P)
    assert ev["inferred"].to_list() == [False, True]
    assert [minutes(t) for t in ev["start"]] == [0, 180] and [minutes(t) for t in ev["end"]] == [180, 690]
    d = [json.loads(x) for x in ev["details"]]
    assert [x["part"] for x in d] == ["before", "dark"] and d[0]["visit_id"] == d[1]["visit_id"]


def test_stay_dark_stay_at_one_spot_is_three_events_linked_by_visit():
    # anchored 3 h, dark 5 h at the same spot, anchored 3 h again: seen call, inferred call, seen call
    pts = still(0, 180, *ANCH) + still(480, 660, *ANCH)
    ev = find_port_calls(track(1, pts), P)
    assert ev.select("place", "inferred").rows() == [("PORT-ANCH", False), ("PORT-ANCH", True), ("PORT-ANCH", False)]
    assert [minutes(t) for t in ev["start"]] == [0, 180, 480] and [minutes(t) for t in ev["end"]] == [180, 480, 660]
    d = [json.loads(x) for x in ev["details"]]
    assert [x["part"] for x in d] == ["before", "dark", "after"]
    assert len({x["visit_id"] for x in d}) == 1 and {x["visit_parts"] for x in d} == {3}
    assert d[1]["dark_h"] == 5.0 and d[1]["stationary_seen_h"] == 0.0
    assert d[0]["dark_h"] == 0.0 and d[0]["n_gaps"] == 0


def test_silence_under_two_hours_does_not_split_a_stay():
    # flicker guard: 1.5 h of silence at the anchor is ordinary report loss, one call
    pts = still(0, 180, *ANCH) + still(270, 450, *ANCH)
    ev = find_port_calls(track(1, pts), P)
    assert ev.height == 1 and ev["inferred"].to_list() == [False]
    assert json.loads(ev["details"][0])["part"] == "whole"


def test_silences_between_satellite_passes_are_one_dark_call():
    # a berth heard only on passes every 3 h, a few reports each: one inferred call, not one per pass
    pts = [p for k in range(6) for p in still(180 * k, 180 * k + 6, *BERTH)]
    ev = find_port_calls(track(1, pts), P)
    assert ev.height == 1 and ev["inferred"].to_list() == [True]
    assert minutes(ev["start"][0]) == 0 and minutes(ev["end"][0]) == 906
    assert json.loads(ev["details"][0])["n_gaps"] == 5


def test_two_silences_around_a_seen_call_give_five_linked_events():
    pts = still(0, 120, *BERTH) + still(360, 480, *BERTH) + still(720, 840, *BERTH)
    ev = find_port_calls(track(1, pts), P)
    d = [json.loads(x) for x in ev["details"]]
    assert [x["part"] for x in d] == ["before", "dark", "between", "dark", "after"]
    assert ev["inferred"].to_list() == [False, True, False, True, False]


def test_stops_at_two_places_are_two_calls():
    pts = still(0, 120, *ANCH) + sail(125, 200, ANCH, BERTH) + still(205, 400, *BERTH)
    ev = find_port_calls(track(1, pts), P)
    assert ev["place"].to_list() == ["PORT-ANCH", "PORT-OIL"]


def test_short_drift_above_threshold_does_not_split_a_call():
    pts = still(0, 90, *BERTH) + [(93, *BERTH, 0.9), (96, *BERTH, 1.0)] + still(99, 200, *BERTH)
    ev = find_port_calls(track(1, pts), P)
    assert ev.height == 1 and minutes(ev["end"][0]) == 198


def test_two_vessels_in_one_frame_keep_their_own_calls():
    both = pl.concat([track(1, still(0, 120, *BERTH)), track(2, still(30, 200, *ANCH))])
    ev = find_port_calls(both, P).sort("mmsi")
    assert ev.select("mmsi", "place").rows() == [(1, "PORT-OIL"), (2, "PORT-ANCH")]


def test_thresholds_come_from_config():
    tr = track(1, still(0, 100, *ANCH))
    assert find_port_calls(tr, P, PortCallConfig(min_duration_h=2.0)).height == 0


def test_find_stops_runs_and_gap_break():
    pts = still(0, 60, *SEA) + still(300, 400, *SEA)  # 4 h silence between two stationary runs
    stops = find_stops(track(1, pts), max_gap_h=2.0)
    assert stops["n"].to_list() == [21, 34]
    assert find_stops(track(1, pts), max_gap_h=None).height == 1


def test_gap_near_several_terminals_but_inside_none_goes_to_their_port():
    feats = FEATURES + [box("PORT-T1", "terminal", 42.752, 133.045, 42.754, 133.048),
                        box("PORT-T2", "terminal", 42.740, 133.045, 42.742, 133.048)]
    p = places(feats)
    a, b = offset_km(BERTH, -1.5, 1.5), offset_km(BERTH, 1.5, 1.5)  # inside the port, near all three small places
    ev = find_port_calls(track(1, sail(0, 60, SEA, a) + sail(600, 660, b, SEA)), p)
    assert ev["place"].to_list() == ["PORT"] and ev["inferred"].to_list() == [True]


def test_gap_with_both_ends_in_the_berth_goes_to_the_berth():
    pts = sail(0, 60, SEA, BERTH) + sail(600, 660, BERTH, SEA)
    assert find_port_calls(track(1, pts), P)["place"].to_list() == ["PORT-OIL"]


def test_stop_just_outside_a_patchy_anchorage_belongs_to_it():
    spot = offset_km((42.66, 133.05), 0.3, 0)  # 300 m north of the anchorage's edge, outside the port
    assert find_port_calls(track(1, still(0, 120, *spot)), P)["place"].to_list() == ["PORT-ANCH"]
    far = offset_km((42.66, 133.05), 2.0, 0)  # 2 km off: between anchorage and port, in neither
    assert find_port_calls(track(1, still(0, 120, *far)), P).height == 0


def test_ship_on_a_terminal_edge_does_not_flicker_between_terminal_and_port():
    # a terminal half outside its port (so not "nested"); the ship stops inside it, drifts to 50 m outside its
    # southern edge (inside the port), goes dark 5 h there and is seen stopped in the terminal again
    p = places(FEATURES + [box("PORT-T", "terminal", 42.795, 133.02, 42.805, 133.03)])
    inside, edge = (42.797, 133.025), offset_km((42.795, 133.025), -0.05, 0)
    pts = (still(0, 90, *inside, every=5) + [(95, *edge, 0.0), (400, *edge, 0.0)]
           + still(405, 500, *inside, every=5))
    ev = find_port_calls(track(1, pts), p)
    assert ev["place"].to_list() == ["PORT-T"] * 3 and ev["inferred"].to_list() == [False, True, False]
    assert minutes(ev["start"][0]) == 0 and minutes(ev["end"][2]) == 500


def test_shifting_to_another_spot_in_the_anchorage_is_a_new_call():
    a, b = ANCH, offset_km(ANCH, -2.0, 1.0)  # 2.2 km apart, both in the anchorage
    pts = still(0, 180, *a) + sail(185, 215, a, b, every=5, sog=4.0) + still(220, 400, *b)
    assert find_port_calls(track(1, pts), P)["place"].to_list() == ["PORT-ANCH", "PORT-ANCH"]
    near = offset_km(ANCH, 0.3, 0)  # re-anchoring 300 m away is the same call
    pts = still(0, 180, *a) + sail(185, 195, a, near, every=5, sog=1.0) + still(200, 400, *near)
    assert find_port_calls(track(1, pts), P).height == 1


def test_dark_call_at_the_berth_then_a_stay_elsewhere_in_the_port_is_two_calls():
    # seen stopped in the port 1.5 km north of the oil berth, dark 10 h, seen stopped 1.5 km south of it:
    # the ship moved while dark, and the one berth within 5 km of both ends is where it called (docs/reference.md:
    # smallest place wins); the following AIS-visible stay in the port must not swallow the berth-level call
    a, b = offset_km(BERTH, 1.5, 0), offset_km(BERTH, -1.5, 0)
    pts = sail(0, 60, SEA, a) + still(70, 250, *a) + still(850, 1030, *b) + sail(1040, 1100, b, SEA)
    ev = find_port_calls(track(1, pts), P)
    assert ev.select("place", "inferred").rows() == [("PORT", False), ("PORT-OIL", True), ("PORT", False)]
    dark = ev.row(1, named=True)
    assert minutes(dark["start"]) == 250 and minutes(dark["end"]) == 850


def test_ship_that_stayed_put_while_dark_keeps_its_own_place():
    # the same dark 10 h, but reappearing where it went dark: it stayed at its mooring, not at the berth
    a = offset_km(BERTH, 1.5, 0)
    ev = find_port_calls(track(1, still(70, 250, *a) + still(850, 1030, *offset_km(a, 0.1, 0))), P)
    assert ev.select("place", "inferred").rows() == [("PORT", False), ("PORT", True), ("PORT", False)]
    assert minutes(ev["start"][0]) == 70 and minutes(ev["end"][2]) == 1030


def test_dark_arrival_that_touches_a_stop_inside_the_port_still_nests():
    # flicker guard kept: a gap whose ends lie 0.3 km apart just outside the berth, touching a stop in it,
    # is at the berth (the ship did not move meaningfully between the parts); the silence is its own event
    edge = offset_km((42.749, 133.0475), 0.15, 0)  # 150 m north of the berth's edge, in the port
    pts = [(0, *edge, 0.0), (300, *offset_km(edge, 0.3, 0), 0.0)] + still(303, 450, *BERTH)
    ev = find_port_calls(track(1, pts), P)
    assert ev.select("place", "inferred").rows() == [("PORT-OIL", True), ("PORT-OIL", False)]
    assert minutes(ev["start"][0]) == 0 and minutes(ev["end"][1]) == 450


def test_short_dark_shift_within_the_port_is_not_pinpointed_at_the_berth():
    # moved 3 km while silent for 3 h (< GFW's 4 h in-port gap): a shift between moorings, not a berth call
    a, b = offset_km(BERTH, 1.5, 0), offset_km(BERTH, -1.5, 0)
    ev = find_port_calls(track(1, still(70, 250, *a) + still(430, 610, *b)), P)
    assert "PORT-OIL" not in ev["place"].to_list()
    ev = find_port_calls(track(1, still(70, 250, *a) + still(430, 610, *b)), P, PortCallConfig(pinpoint_min_gap_h=2.0))
    assert "PORT-OIL" in ev["place"].to_list()


def test_dark_arrival_from_sea_belongs_to_the_mooring_it_is_first_seen_at():
    # under way towards the port when it went dark, first heard 6 h later stopped at a mooring 1.5 km from the
    # berth and staying there: it came in and moored; the berth merely within 5 km is not pinpointed
    a, b = offset_km(BERTH, 4.0, 2.0), offset_km(BERTH, -1.5, 0)
    ev = find_port_calls(track(1, sail(0, 60, SEA, a) + still(420, 600, *b)), P)
    assert ev.select("place", "inferred").rows() == [("PORT", True), ("PORT", False)]
    assert minutes(ev["start"][0]) == 60 and minutes(ev["end"][0]) == 420 and minutes(ev["end"][1]) == 600


def _chongjin_dark(hours_dark: float, cfg: PortCallConfig = PortCallConfig()):
    from shadowfleet.places import load_places

    gaz = load_places()
    k = list(gaz.id_array).index("KPCHO-OIL")
    berth = (gaz.centroid_lat[k], gaz.centroid_lon[k])
    back = 120 + hours_dark * 60
    ev = find_port_calls(track(1, still(0, 120, *berth) + still(back, back + 120, *berth)), gaz, cfg)
    dark = ev.filter(pl.col("inferred"))
    assert dark.height == 1
    return {r["place"]: r for r in json.loads(dark["details"][0])["reachable"]}


@pytest.mark.slow
def test_dark_30_h_at_chongjin_could_have_reached_vostochny_by_sea():
    from shadowfleet.events.transforms.gaps import sea_km
    from shadowfleet.places import geo, load_places

    reach = _chongjin_dark(30)
    vyp = reach["RUVYP-OIL"]
    gaz = load_places()
    a, b = (list(gaz.id_array).index(p) for p in ("KPCHO-OIL", "RUVYP-OIL"))
    gc = float(geo.haversine_km(gaz.centroid_lat[a], gaz.centroid_lon[a], gaz.centroid_lat[b], gaz.centroid_lon[b]))
    assert gc - 0.1 <= vyp["sea_km"] < 1.3 * gc  # open sea between them: close to the great circle
    leg_h = vyp["sea_km"] / (15 * 1.852)
    assert abs(vyp["possible_h"] - (30 - 2 * leg_h)) < 0.01
    t0 = T0 + dt.timedelta(minutes=120)
    for key, want in (("earliest_arrival", t0 + dt.timedelta(hours=leg_h)),
                      ("latest_departure", t0 + dt.timedelta(hours=30 - leg_h))):
        got = dt.datetime.strptime(vyp[key], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        assert abs((got - want).total_seconds()) < 30
    # too short a silence, or too slow a ship, and Vostochny is out of reach
    assert "RUVYP-OIL" not in _chongjin_dark(20)
    assert "RUVYP-OIL" not in _chongjin_dark(30, PortCallConfig(reach_speed_kn=10.0))
    # round the Korean peninsula, the sea route to Nampo is far longer than any detour factor allows
    n = list(gaz.id_array).index("KPNAM-OIL")
    args = (gaz.centroid_lat[a], gaz.centroid_lon[a], gaz.centroid_lat[n], gaz.centroid_lon[n])
    assert sea_km(*map(float, args), 5.0, 1.3) > 2.5 * float(geo.haversine_km(*args))
