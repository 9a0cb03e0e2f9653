"""Pinned behaviours of `evaluate`: constructed truth and a real store on disk holding the detections."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from shadowfleet.places import places_from_geojson
from shadowfleet.errors import ShadowfleetError
from shadowfleet.evaluate import EvalConfig, evaluate
from shadowfleet.store import Store, empty

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 3, 7, 6, 0, tzinfo=UTC)
TANKER, PARTNER, OTHER = 445111000, 273222000, 445333000


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def truth_event(id, type, mmsi, start_h, end_h, place=None, other=None, visible=True, inferred=False, **kw):
    return {
        "id": id, "type": type, "mmsi": mmsi, "start": _iso(_h(start_h)), "end": _iso(_h(end_h)),
        "lat": 42.73, "lon": 133.07, "place": place, "other_mmsi": other,
        "inferred": inferred, "visible": visible, "details": {}, "cargo": kw.get("cargo"),
    }


def make_truth(events, vessels=None, voyages=None, totals=None):
    return {
        "scenario": "test", "seed": 0, "start": _iso(T0), "end": _iso(_h(24 * 30)), "params": {},
        "vessels": vessels or [{"mmsi": m, "identities": []} for m in (TANKER, PARTNER, OTHER)],
        "events": events, "voyages": voyages or [], "totals": totals or {},
    }


def stored_event(type, mmsi, start_h, end_h, place=None, other=None, inferred=False):
    start = _h(start_h)
    eid = f"{type}-{mmsi}-{int(start.timestamp())}" + (f"-{other}" if other else "")
    return {
        "event_id": eid, "type": type, "mmsi": mmsi, "start": start, "end": _h(end_h), "lat": 42.73, "lon": 133.07,
        "place": place, "other_mmsi": other, "inferred": inferred, "details": "{}",
    }


def make_store(tmp_path, events, cases=None) -> Store:
    store = Store(tmp_path / "store")
    store.replace("events", pl.DataFrame(events, schema_overrides={"other_mmsi": pl.Int64}) if events else empty("events"))
    if cases is not None:
        store.replace("cases", pl.DataFrame(cases))
    return store


def test_exact_match_is_one_true_positive(tmp_path):
    truth = make_truth([truth_event("t1", "port_call", TANKER, 0, 30, place="RUVYP-OIL")])
    store = make_store(tmp_path, [stored_event("port_call", TANKER, 0, 30, place="RUVYP-OIL")])
    s = evaluate(truth, store).types["port_call"]
    assert (s.tp, s.fp, s.fn) == (1, 0, 0)
    assert s.precision == s.recall == s.f1 == 1.0
    assert s.place_exact == 1 and s.median_start_error_s == 0.0


def test_start_within_30_min_matches_an_instant_event_and_31_min_does_not(tmp_path):
    # draught changes have no duration: only the start tolerance (max(30 min, 25 % of 0)) can match them
    truth = make_truth([truth_event("t1", "draught_change", TANKER, 10, 10), truth_event("t2", "draught_change", OTHER, 10, 10)])
    store = make_store(tmp_path, [
        stored_event("draught_change", TANKER, 10.5, 10.5),  # exactly 30 min late: inside
        stored_event("draught_change", OTHER, 10 + 31 / 60, 10 + 31 / 60),  # 31 min late: outside
    ])
    s = evaluate(truth, store).types["draught_change"]
    assert (s.tp, s.fp, s.fn) == (1, 1, 1)
    assert s.missed[0]["id"] == "t2"


def test_long_event_tolerates_a_quarter_of_its_duration(tmp_path):
    # a 40 h true gap; a detection starting 9 h late and not overlapping would be wrong, but here it overlaps;
    # a detection 9 h early that ends before the truth starts still lies within 25 % x 40 h = 10 h
    truth = make_truth([truth_event("t1", "ais_gap", TANKER, 20, 60)])
    store = make_store(tmp_path, [stored_event("ais_gap", TANKER, 11, 19)])
    assert evaluate(truth, store).types["ais_gap"].tp == 1
    store = make_store(tmp_path, [stored_event("ais_gap", TANKER, 9, 19)])  # 11 h early: outside
    assert evaluate(truth, store).types["ais_gap"].tp == 0


def test_port_call_at_the_port_matches_a_true_call_at_its_berth_but_not_at_a_neighbour(tmp_path):
    truth = make_truth([
        truth_event("t1", "port_call", TANKER, 0, 30, place="RUVYP-OIL"),
        truth_event("t2", "port_call", OTHER, 0, 30, place="RUVYP-OIL"),
    ])
    store = make_store(tmp_path, [
        stored_event("port_call", TANKER, 0, 30, place="RUVYP"),  # port level: nested, matches
        stored_event("port_call", OTHER, 0, 30, place="RUNJK"),  # Nakhodka: another port
    ])
    s = evaluate(truth, store).types["port_call"]
    assert (s.tp, s.fp, s.fn) == (1, 1, 1)
    assert s.place_exact == 0  # matched through nesting, not the exact berth


def test_nesting_comes_from_the_places_polygons_when_given(tmp_path):
    def square(id, kind, x0, y0, d):
        ring = [[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]
        return {"type": "Feature", "properties": {"id": id, "name": id, "kind": kind, "country": "RU"},
                "geometry": {"type": "Polygon", "coordinates": [ring]}}

    places = places_from_geojson({"type": "FeatureCollection", "features": [
        square("PORTA", "port", 133.0, 42.7, 0.1), square("QUAY7", "berth", 133.02, 42.72, 0.01),
        square("ANCH", "anchorage", 133.015, 42.715, 0.03), square("EEZ", "eez", 130, 40, 5),
    ]})
    truth = make_truth([truth_event(f"t{m}", "port_call", m, 0, 30, place="QUAY7") for m in (TANKER, OTHER, PARTNER)])
    store = make_store(tmp_path, [
        stored_event("port_call", TANKER, 0, 30, place="PORTA"),
        stored_event("port_call", OTHER, 0, 30, place="EEZ"),  # an EEZ is not a port-call place: no nesting
        stored_event("port_call", PARTNER, 0, 30, place="ANCH"),  # the berth lies in the anchorage polygon: still another stop
    ])
    s = evaluate(truth, store, places=places).types["port_call"]
    assert (s.tp, s.fp) == (1, 2)


def test_encounter_matches_whichever_vessel_the_detector_put_first(tmp_path):
    truth = make_truth([truth_event("t1", "encounter", TANKER, 5, 9, other=PARTNER)])
    store = make_store(tmp_path, [stored_event("encounter", PARTNER, 5, 9, other=TANKER)])
    s = evaluate(truth, store).types["encounter"]
    assert (s.tp, s.fp, s.fn) == (1, 0, 0)


def test_encounter_written_once_per_vessel_counts_once(tmp_path):
    truth = make_truth([truth_event("t1", "encounter", TANKER, 5, 9, other=PARTNER)])
    store = make_store(tmp_path, [
        stored_event("encounter", TANKER, 5, 9, other=PARTNER),
        stored_event("encounter", PARTNER, 5, 9, other=TANKER),
    ])
    r = evaluate(truth, store)
    assert (r.types["encounter"].tp, r.types["encounter"].fp, r.types["encounter"].detected) == (1, 0, 1)
    assert any("counted once" in n for n in r.notes)


def test_encounter_with_a_different_partner_is_not_a_match(tmp_path):
    truth = make_truth([truth_event("t1", "encounter", TANKER, 5, 9, other=PARTNER)])
    store = make_store(tmp_path, [stored_event("encounter", TANKER, 5, 9, other=OTHER)])
    s = evaluate(truth, store).types["encounter"]
    assert (s.tp, s.fp, s.fn) == (0, 1, 1)


def test_invisible_truth_is_left_out_of_recall_and_matching_it_is_not_a_false_positive(tmp_path):
    truth = make_truth([
        truth_event("seen", "port_call", TANKER, 0, 30, place="RUVYP-OIL"),
        truth_event("dark1", "port_call", OTHER, 0, 30, place="KPCHO", visible=False),
        truth_event("dark2", "port_call", PARTNER, 0, 30, place="KPCHO", visible=False),
    ])
    store = make_store(tmp_path, [
        stored_event("port_call", TANKER, 0, 30, place="RUVYP-OIL"),
        stored_event("port_call", OTHER, 1, 29, place="KPCHO"),  # found although truth says AIS could not see it
    ])
    s = evaluate(truth, store).types["port_call"]
    assert (s.truth, s.visible, s.invisible) == (3, 1, 2)
    assert (s.tp, s.fp, s.fn, s.matched_invisible) == (1, 0, 0, 1)
    assert s.recall == 1.0 and s.precision == 1.0


def test_two_detections_of_one_true_event_are_one_tp_and_one_fp(tmp_path):
    truth = make_truth([truth_event("t1", "loitering", TANKER, 0, 10)])
    store = make_store(tmp_path, [
        stored_event("loitering", TANKER, 0, 10),
        stored_event("loitering", TANKER, 4, 10),  # overlaps too, but the truth event is taken
    ])
    s = evaluate(truth, store).types["loitering"]
    assert (s.tp, s.fp, s.fn) == (1, 1, 0)
    assert s.matches[0]["event_id"].endswith(str(int(_h(0).timestamp())))  # the better overlap wins
    assert s.precision == 0.5 and s.recall == 1.0 and s.f1 == pytest.approx(2 / 3)


def test_a_detection_never_matches_another_vessel_or_type(tmp_path):
    truth = make_truth([truth_event("t1", "ais_gap", TANKER, 0, 10)])
    store = make_store(tmp_path, [stored_event("ais_gap", OTHER, 0, 10), stored_event("loitering", TANKER, 0, 10)])
    r = evaluate(truth, store)
    assert (r.types["ais_gap"].tp, r.types["ais_gap"].fp, r.types["ais_gap"].fn) == (0, 1, 1)
    assert r.types["loitering"].fp == 1 and r.types["loitering"].precision == 0.0 and r.types["loitering"].recall is None
    assert (r.overall.tp, r.overall.fp, r.overall.fn) == (0, 2, 1)


def test_an_mmsi_the_truth_lists_as_the_same_vessel_matches(tmp_path):
    vessels = [{"mmsi": TANKER, "identities": [{"mmsi": 667000123, "name": "FAKE FLAG"}]}, {"mmsi": OTHER, "identities": []}]
    truth = make_truth([truth_event("t1", "port_call", TANKER, 0, 30, place="KPCHO")], vessels=vessels)
    store = make_store(tmp_path, [stored_event("port_call", 667000123, 0, 30, place="KPCHO")])
    assert evaluate(truth, store).types["port_call"].tp == 1
    off = EvalConfig(match_vessel_identities=False)
    assert evaluate(truth, store, config=off).types["port_call"].tp == 0


def test_inferred_dark_port_calls_are_reported_apart(tmp_path):
    truth = make_truth([
        truth_event("dark", "port_call", TANKER, 0, 30, place="RUVYP-OIL", inferred=True),
        truth_event("dark2", "port_call", OTHER, 0, 30, place="RUVYP-OIL", inferred=True),
    ])
    store = make_store(tmp_path, [stored_event("port_call", TANKER, 0, 30, place="RUVYP-OIL", inferred=True)])
    s = evaluate(truth, store).types["port_call"]
    assert (s.inferred_visible, s.inferred_tp) == (2, 1)


def test_report_is_json_serialisable_with_iso_times(tmp_path):
    truth = make_truth([truth_event("t1", "ais_gap", TANKER, 0, 10)])
    store = make_store(tmp_path, [])
    d = evaluate(truth, store).to_dict()
    text = json.dumps(d)
    assert d["types"]["ais_gap"]["missed"][0]["start"] == "2024-03-07T06:00:00Z"
    assert d["types"]["ais_gap"]["recall"] == 0.0 and d["types"]["ais_gap"]["precision"] is None
    assert "NaN" not in text


def test_truth_path_and_bad_truth_are_clear_errors(tmp_path):
    store = make_store(tmp_path, [])
    with pytest.raises(ShadowfleetError, match="truth file not found"):
        evaluate(tmp_path / "nope.json", store)
    bad = tmp_path / "truth.json"
    bad.write_text("{not json")
    with pytest.raises(ShadowfleetError, match="not valid JSON"):
        evaluate(bad, store)
    bad.write_text(json.dumps(make_truth([{"id": "x", "type": "ais_gap", "mmsi": TANKER, "start": "yesterday"}])))
    with pytest.raises(ShadowfleetError, match="not an ISO 8601 time"):
        evaluate(bad, store)
    with pytest.raises(ShadowfleetError, match="store not found"):
        evaluate(make_truth([]), tmp_path / "no-store")


# ---- cases: barrels against the truth's voyages -------------------------------------------------------------


def _voyage_truth():
    events = [
        truth_event("L1", "port_call", TANKER, 0, 30, place="RUVYP-OIL", inferred=True),
        truth_event("D1", "port_call", TANKER, 60, 80, place="KPCHO"),
        truth_event("L2", "port_call", OTHER, 0, 30, place="RUVYP-OIL"),
        truth_event("D2", "port_call", OTHER, 60, 80, place="KPCHO"),
    ]
    voyages = [
        {"id": "V1", "mmsi": TANKER, "load_event": "L1", "discharge_event": "D1", "load_place": "RUVYP-OIL",
         "discharge_place": "KPCHO", "discharge_kind": "port_call", "tonnes": 4000, "product": "diesel", "barrels": 30000, "month": "2024-03"},
        {"id": "V2", "mmsi": OTHER, "load_event": "L2", "discharge_event": "D2", "load_place": "RUVYP-OIL",
         "discharge_place": "KPCHO", "discharge_kind": "port_call", "tonnes": 2000, "product": "diesel", "barrels": 15000, "month": "2024-03"},
    ]
    return make_truth(events, voyages=voyages, totals={"barrels_delivered_by_month": {"2024-03": 45000}})


def _case(case_id, mmsi, load_h, dis_h, low, central, high, dis_place="KPCHO", country="KP"):
    return {
        "destination_country": country,
        "case_id": case_id, "mmsi": mmsi, "load_place": "RUVYP", "load_start": _h(load_h), "load_end": _h(load_h + 30),
        "load_inferred": True, "discharge_kind": "port_call", "discharge_place": dis_place,
        "discharge_start": _h(dis_h), "discharge_end": _h(dis_h + 20),
        "barrels_low": float(low), "barrels_central": float(central), "barrels_high": float(high),
    }


def test_barrels_error_per_voyage_and_per_month(tmp_path):
    cases = [
        _case("C1", TANKER, 0, 60, 20000, 27000, 33000),  # -3,000 bbl = -10 %, truth inside [low, high]
        _case("C2", OTHER, 1, 61, 16000, 18000, 20000),  # +3,000 bbl = +20 %, truth below low
        _case("C3", PARTNER, 0, 60, 5000, 6000, 7000),  # no such voyage: a false case
    ]
    store = make_store(tmp_path, [], cases=cases)
    c = evaluate(_voyage_truth(), store).cases
    assert (c.tp, c.fp, c.fn) == (2, 1, 0)
    by = {v["voyage_id"]: v for v in c.per_voyage}
    assert by["V1"]["case_id"] == "C1" and by["V1"]["error_bbl"] == -3000 and by["V1"]["error_pct"] == pytest.approx(-10)
    assert by["V1"]["in_range"] is True and by["V2"]["in_range"] is False
    assert by["V2"]["error_pct"] == pytest.approx(20)
    assert c.median_abs_pct_error == pytest.approx(15) and c.coverage == 0.5
    (month,) = c.per_month
    # the ledger counts every case, false ones included: 27,000 + 18,000 + 6,000 = 51,000 vs 45,000
    assert month["month"] == "2024-03" and month["est_central"] == 51000 and month["barrels_true"] == 45000
    assert month["error_pct"] == pytest.approx(100 * 6000 / 45000)
    assert month["est_low"] == 41000 and month["est_high"] == 60000 and month["in_range"] is True


def test_case_discharging_at_the_wrong_port_does_not_match_its_voyage(tmp_path):
    store = make_store(tmp_path, [], cases=[_case("C1", TANKER, 0, 60, 1, 2, 3, dis_place="KPNAM")])
    c = evaluate(_voyage_truth(), store).cases
    assert (c.tp, c.fp, c.fn) == (0, 1, 2)


def test_no_cases_table_means_no_barrels_score_and_a_note(tmp_path):
    r = evaluate(_voyage_truth(), make_store(tmp_path, []))
    assert r.cases is None and any("no cases table" in n for n in r.notes)


def test_stored_rows_without_type_or_vessel_are_counted_not_scored(tmp_path):
    truth = make_truth([truth_event("t1", "ais_gap", TANKER, 0, 10)])
    row = stored_event("ais_gap", TANKER, 0, 10)
    broken = dict(row, event_id="x", type=None)
    r = evaluate(truth, make_store(tmp_path, [row, broken]))
    assert r.types["ais_gap"].tp == 1 and r.overall.fp == 0
    assert any("1 stored event row(s) without type" in n for n in r.notes)


def test_sweep_table_sums_counts_over_runs_before_taking_ratios(tmp_path):
    from shadowfleet.evaluate.sweep import table

    runs = []
    for n_true, n_found in ((1, 1), (3, 0)):  # recall 100 % then 0 %: pooled 1 of 4, not the mean of 100 and 0
        events = [truth_event(f"t{i}", "ais_gap", TANKER, 20 * i, 20 * i + 10) for i in range(n_true)]
        stored = [stored_event("ais_gap", TANKER, 20 * i, 20 * i + 10) for i in range(n_found)]
        runs.append(evaluate(make_truth(events), make_store(tmp_path / str(n_true), stored)).to_dict())
    row = next(line for line in table(runs).splitlines() if line.startswith("| ais_gap"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:7] == ["4", "0", "1", "0", "3", "100.0"] and cells[7] == "25.0" and cells[8] == "40.0"
    assert cells[9] == "0–100"


def test_misses_and_false_detections_say_why(tmp_path):
    truth = make_truth([
        truth_event("berth", "port_call", TANKER, 0, 30, place="RUVYP-OIL"),
        truth_event("late", "port_call", OTHER, 0, 10, place="KPCHO"),
        truth_event("none", "port_call", PARTNER, 100, 110, place="KPCHO"),
        truth_event("gap", "ais_gap", PARTNER, 0, 10),
    ])
    store = make_store(tmp_path, [
        stored_event("port_call", TANKER, 0, 30, place="RUNJK"),  # right time, wrong port
        stored_event("port_call", OTHER, 14, 20, place="KPCHO"),  # 14 h late, no overlap: beyond 30 min / 25 %
        stored_event("loitering", PARTNER, 1, 9),  # the true event there is an AIS gap
        stored_event("ais_gap", OTHER, 300, 310),  # nothing true near
    ])
    r = evaluate(truth, store)
    pc = r.types["port_call"]
    why = {m["id"]: m["reason"] for m in pc.missed}
    assert why == {"berth": "detected at another place", "late": "detected, but timed more than the tolerance off",
                   "none": "not detected"}
    assert pc.false_reasons == {"true event at another place": 1, "true event more than the tolerance off": 1}
    assert r.types["ais_gap"].missed[0]["reason"] == "detected as another type"
    assert r.types["loitering"].false_reasons == {"another type is true there": 1}
    assert r.types["ais_gap"].false_reasons == {"no true event of this vessel then": 1}


def test_a_split_detection_is_reported_as_a_second_piece(tmp_path):
    truth = make_truth([truth_event("t1", "loitering", TANKER, 0, 10)])
    store = make_store(tmp_path, [stored_event("loitering", TANKER, 0, 6), stored_event("loitering", TANKER, 6.5, 10)])
    s = evaluate(truth, store).types["loitering"]
    assert s.false_reasons == {"second detection of a found event (split or duplicate)": 1}


def test_cases_bound_elsewhere_are_not_false_and_stay_out_of_the_ledger(tmp_path):
    cases = [
        _case("C1", TANKER, 0, 60, 20000, 27000, 33000),
        _case("JP", PARTNER, 0, 60, 5000, 6000, 7000, dis_place="JPKIJ", country="JP"),  # legitimate trade
        _case("KP", PARTNER, 100, 160, 1000, 2000, 3000, dis_place="KPNAM"),  # a DPRK delivery that never happened
    ]
    c = evaluate(_voyage_truth(), make_store(tmp_path, [], cases=cases)).cases
    assert (c.cases, c.claims, c.tp, c.fp, c.unlisted, c.fn) == (3, 2, 1, 1, 1, 1)
    assert c.false[0]["case_id"] == "KP"
    (month,) = c.per_month
    assert month["est_central"] == 27000 + 2000 and month["cases"] == 2


def test_a_voyage_loaded_before_the_run_matches_on_its_discharge(tmp_path):
    truth = _voyage_truth()
    truth["voyages"][0]["load_event"] = None
    store = make_store(tmp_path, [], cases=[_case("C1", TANKER, -200, 60, 1, 2, 3)])  # load long before: unknown to truth
    c = evaluate(truth, store).cases
    assert c.tp == 1 and c.per_voyage[0]["case_id"] == "C1"


def test_a_discharge_seen_only_after_ais_returns_is_still_the_same_trip(tmp_path):
    # true discharge 60-80 h; the case sees the ship at Chongjin from 83 h (AIS back on): same trip
    late = _case("C1", TANKER, 0, 83, 1, 2, 3)
    c = evaluate(_voyage_truth(), make_store(tmp_path / "a", [], cases=[late])).cases
    assert c.tp == 1
    # a discharge two days after the true one ended is another trip
    other_trip = _case("C1", TANKER, 0, 130, 1, 2, 3)
    c = evaluate(_voyage_truth(), make_store(tmp_path / "b", [], cases=[other_trip])).cases
    assert (c.tp, c.fp) == (0, 1)


def test_an_instant_inside_the_detected_interval_matches_however_far_the_start(tmp_path):
    # a name change at 10:50; the detector brackets it between the last old and first new type-5 report
    truth = make_truth([truth_event("t1", "identity_change", TANKER, 10 + 50 / 60, 10 + 50 / 60)])
    bracket = make_store(tmp_path / "in", [stored_event("identity_change", TANKER, 10, 11)])
    assert evaluate(truth, bracket).types["identity_change"].tp == 1  # starts 50 min before, but contains it
    before = make_store(tmp_path / "out", [stored_event("identity_change", TANKER, 9, 10)])
    assert evaluate(truth, before).types["identity_change"].tp == 0  # ended 50 min before the change
    # two brackets: the one starting closer to the change is the match, the other a second detection
    two = make_store(tmp_path / "two", [stored_event("identity_change", TANKER, 10, 11), stored_event("identity_change", TANKER, 10.75, 12)])
    s = evaluate(truth, two).types["identity_change"]
    assert (s.tp, s.fp) == (1, 1) and s.matches[0]["event_id"].endswith(str(int(_h(10.75).timestamp())))


def test_two_true_calls_merged_into_one_detection_give_one_miss_marked_merged(tmp_path):
    # a dark call at the oil berth, then a stay at the port: the detector reports one port-level call over both
    truth = make_truth([
        truth_event("berth", "port_call", TANKER, 0, 40, place="KPCHO-OIL", inferred=True),
        truth_event("port", "port_call", TANKER, 42, 180, place="KPCHO"),
    ])
    store = make_store(tmp_path, [stored_event("port_call", TANKER, 0, 180, place="KPCHO")])
    s = evaluate(truth, store).types["port_call"]
    assert (s.tp, s.fp, s.fn) == (1, 0, 1) and s.matches[0]["id"] == "port"  # the larger overlap wins
    assert s.missed[0]["id"] == "berth" and s.missed_reasons == {"its detection matched another true event (merged)": 1}
    assert (s.inferred_visible, s.inferred_tp) == (1, 0)


def test_spoofing_is_scored_per_planted_vessel(tmp_path):
    # TANKER planted twice and accused twice by two rules (one vessel found); PARTNER planted but AIS never heard
    # it (not in recall); OTHER accused without any true spoofing (a false accusation)
    truth = make_truth([
        truth_event("s1", "spoofing", TANKER, 10, 16), truth_event("s2", "spoofing", TANKER, 100, 104),
        truth_event("s3", "spoofing", PARTNER, 10, 12, visible=False),
    ])
    store = make_store(tmp_path, [stored_event("spoofing", TANKER, 11, 13), stored_event("spoofing", TANKER, 14, 15),
                                  stored_event("spoofing", OTHER, 50, 51)])
    v = evaluate(truth, store).spoofing_vessels
    assert (v.planted, v.visible, v.accused, v.tp, v.fp, v.fn) == (2, 1, 2, 1, 1, 0)
    assert v.recall == 1.0 and v.precision == 0.5 and v.false == [OTHER]
