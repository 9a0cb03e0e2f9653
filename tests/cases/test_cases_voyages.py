"""Chaining events into voyages: load at a supplier oil berth → transit → discharge, with tonnes and confidence."""

import json

import polars as pl
import pytest

from casekit import PLACES, event, gazetteer, static
from shadowfleet.cases import build_cases, voyages
from shadowfleet.errors import ShadowfleetError

KP1, KP2, RU1 = 445100001, 445100002, 273100001


def _cases(st, **kw):
    return build_cases(st, places=PLACES, **kw)


def test_dark_load_at_vostochny_then_chongjin_port_call_is_one_case(make_store):
    st = make_store(
        [
            event("ais_gap", KP1, 0, 30),
            event("port_call", KP1, 0, 30, place="RUVYP-OIL", inferred=True),
            event("port_call", KP1, 60, 90, place="KPCHO"),
        ],
        [static(KP1, "YU SON", 8691702, 100, 15, None)],
    )
    c = _cases(st)
    assert c.height == 1
    r = c.row(0, named=True)
    assert (r["load_place"], r["load_inferred"], r["discharge_kind"], r["discharge_place"]) == ("RUVYP-OIL", True, "port_call", "KPCHO")
    assert (r["flag"], r["imo"], r["name"], r["destination_country"]) == ("KP", 8691702, "YU SON", "KP")
    assert r["tonnes_method"] == "capacity" and r["product"] == "refined_assumed_diesel"
    assert r["tonnes_central"] == pytest.approx(r["dwt_central"] * 0.85)
    assert r["barrels_central"] == pytest.approx(r["tonnes_central"] * 7.45)
    assert r["barrels_low"] < r["barrels_central"] < r["barrels_high"]
    ev = json.loads(r["evidence"])
    assert ev[0].startswith("port_call-445100001") and any(e.startswith("ais_gap") for e in ev)
    assert 0 < r["confidence"] <= 1
    assert any("inferred" in s for s in json.loads(r["reasons"]))
    # stored for evaluate and report
    assert st.read("cases").height == 1


def test_draught_rise_after_load_gives_tonnes_from_tpc(make_store):
    st = make_store(
        [
            event("port_call", KP1, 0, 20, place="RUVYP-OIL"),
            event("draught_change", KP1, 26, 26, **{"from": 3.5, "to": 6.0}),
            event("port_call", KP1, 50, 70, place="KPCHO"),
        ],
        [static(KP1, "A", None, 100, 15, 6.0)],
    )
    r = _cases(st).row(0, named=True)
    tpc = 95 * 15 * 0.86 * 1.025 / 100
    assert r["tonnes_method"] == "draught_rise" and r["draught_change_m"] == pytest.approx(2.5)
    assert r["tonnes_central"] == pytest.approx(250 * tpc)
    assert r["tonnes_low"] == pytest.approx(240 * 95 * 15 * 0.82 * 1.025 / 100)
    assert r["tonnes_high"] == pytest.approx(260 * 95 * 15 * 0.90 * 1.025 / 100)
    assert "draught_change-445100001" in r["evidence"]


def test_sts_with_dprk_vessel_and_draught_drop_at_sea_are_discharges(make_store):
    st = make_store(
        [
            # a Russian tanker loads and meets a DPRK tanker at sea (only one encounter row stored)
            event("port_call", RU1, 0, 20, place="RUVYP-OIL"),
            event("encounter", KP2, 40, 45, other=RU1),
            # a DPRK tanker loads then drops draught at sea
            event("port_call", KP1, 0, 20, place="RUVYP-OIL"),
            event("draught_change", KP1, 70, 70, delta_m=-2.0),
        ],
    )
    c = _cases(st).sort("mmsi")
    assert c["discharge_kind"].to_list() == ["sts", "draught_drop"]  # RU1 < KP1
    sts = c.filter(pl.col("mmsi") == RU1).row(0, named=True)
    assert sts["discharge_other_mmsi"] == KP2 and sts["destination_country"] == "KP"
    # a Russian-flagged ship: unknown product, fleet prior (no dimensions at all)
    assert sts["product"] == "unknown" and sts["tonnes_method"] == "fleet_prior"
    drop = c.filter(pl.col("mmsi") == KP1).row(0, named=True)
    assert drop["discharge_place"] is None and drop["tonnes_method"] == "fleet_prior"


def test_encounter_with_unlisted_foreign_vessel_is_not_a_discharge_but_listed_is(make_store):
    evs = [event("port_call", RU1, 0, 20, place="RUVYP-OIL"), event("encounter", RU1, 40, 45, other=636000001)]
    assert _cases(make_store(evs)).height == 0


def test_listed_partner_makes_an_sts_discharge_and_hits_are_reported(make_store, tmp_path):
    from shadowfleet.store import Store

    evs = [event("port_call", RU1, 0, 20, place="RUVYP-OIL"), event("encounter", RU1, 40, 45, other=636000001)]
    screening = {"mmsi": [636000001, RU1], "list_id": ["ofac", "ofac"], "entry_id": ["1", "2"],
                 "entry_name": ['NEW "KONAN"', "PATRIOT"], "match_on": ["imo", "name"], "score": [100.0, 70.0],
                 "laundering_suspected": [False, False]}
    c = _cases(make_store(evs, screening=screening))
    assert c.height == 1 and c["discharge_kind"][0] == "sts"
    # the vessel's own weak name match (score 70) is not a list hit
    assert json.loads(c["list_hits"][0]) == []


def test_discharge_after_the_next_load_or_too_late_is_not_chained(make_store):
    st = make_store(
        [
            event("port_call", KP1, 0, 20, place="RUVYP-OIL"),
            event("port_call", KP1, 100, 120, place="RUVYP-OIL"),
            event("port_call", KP1, 150, 160, place="KPCHO"),
            event("port_call", KP2, 0, 20, place="RUVYP-OIL"),
            event("port_call", KP2, 20 + 24 * 21, 20 + 24 * 22, place="KPCHO"),
        ],
    )
    v = voyages(st, places=PLACES).sort(["mmsi", "load_start"])
    assert v["discharge_kind"].to_list() == [None, "port_call", None]
    c = _cases(st)
    assert c.height == 1 and c["load_start"][0].hour == 4  # the second load (T0 + 100 h)


def test_seen_and_inferred_calls_over_one_stay_merge_into_one_load(make_store):
    st = make_store(
        [
            event("port_call", KP1, 0, 5, place="RUVYP-OIL"),
            event("port_call", KP1, 8, 30, place="RUVYP-OIL", inferred=True),
            event("port_call", KP1, 60, 70, place="KPRJN"),
        ],
    )
    c = _cases(st)
    assert c.height == 1 and not c["load_inferred"][0]
    assert (c["load_end"][0] - c["load_start"][0]).total_seconds() == 30 * 3600
    assert json.loads(c["evidence"][0])[:2] == ["port_call-445100001-1709769600", "port_call-445100001-1709798400"]


def test_dry_cargo_terminals_and_destination_berths_are_not_loads(make_store):
    places = gazetteer(("RUVYP-COAL", "Vostochny coal terminal", "terminal", "RU", 42.745, 133.07))
    st = make_store([event("port_call", KP1, 0, 20, place="RUVYP-COAL"), event("port_call", KP1, 40, 50, place="KPCHO")])
    assert build_cases(st, places=places).height == 0


def test_confidence_ranks_seen_port_call_with_draught_above_inferred_draught_drop(make_store):
    st = make_store(
        [
            event("port_call", KP1, 0, 20, place="RUVYP-OIL"),
            event("draught_change", KP1, 22, 22, delta_m=2.0),
            event("port_call", KP1, 50, 60, place="KPCHO"),
            event("port_call", KP2, 0, 20, place="RUVYP-OIL", inferred=True),
            event("draught_change", KP2, 50, 50, delta_m=-2.0),
        ],
    )
    c = _cases(st)
    hi = c.filter(pl.col("mmsi") == KP1)["confidence"][0]
    lo = c.filter(pl.col("mmsi") == KP2)["confidence"][0]
    assert hi == pytest.approx(0.25 + 0.30 + 0.15 + 0.15) and lo == pytest.approx(0.15 + 0.15 + 0.15)


def test_foreign_draught_drop_counts_only_in_dprk_waters(make_store):
    """A Russian tanker's draught drop is a delivery only inside/near DPRK waters (built-in gazetteer: its EEZ)."""
    far = event("draught_change", RU1, 70, 70, delta_m=-2.0)
    far.update(lat=35.0, lon=140.0)  # off Japan
    st = make_store([event("port_call", RU1, 0, 20, place="RUVYP-OIL"), far])
    assert build_cases(st).height == 0
    near = event("draught_change", RU1, 70, 70, delta_m=-2.0)
    near.update(lat=40.5, lon=130.8)  # inside the DPRK east-coast EEZ
    st = make_store([event("port_call", RU1, 0, 20, place="RUVYP-OIL"), near])
    c = build_cases(st)
    assert c.height == 1 and c["discharge_kind"][0] == "draught_drop" and c["destination_country"][0] == "KP"


def test_dark_call_at_a_port_holding_an_oil_berth_is_a_load_for_tankers_only(make_store):
    """The transponder goes off before the berth: the inferred call lands on the port polygon (RUVYP)."""
    tanker, bulker = 445100001, 445100002
    st = make_store(
        [
            event("port_call", tanker, 0, 20, place="RUVYP", inferred=True),
            event("port_call", tanker, 40, 60, place="KPCHO"),
            event("port_call", bulker, 0, 20, place="RUVYP", inferred=True),
            event("port_call", bulker, 40, 60, place="KPCHO"),
            event("port_call", 445100003, 0, 20, place="RUVYP"),  # seen at the port, not at the berth: not a load
            event("port_call", 445100003, 40, 60, place="KPCHO"),
        ],
        [dict(static(tanker, "T"), ship_type=80), dict(static(bulker, "B"), ship_type=70)],
    )
    c = build_cases(st)
    assert c["mmsi"].to_list() == [tanker]
    assert c["load_place"][0] == "RUVYP" and c["load_port_level"][0]
    assert any("not resolvable" in r for r in json.loads(c["reasons"][0]))


def test_store_without_events_is_a_user_error(tmp_path):
    from shadowfleet.store import Store

    with pytest.raises(ShadowfleetError, match="detect"):
        build_cases(Store(tmp_path / "empty"))


def test_builtin_gazetteer_place_ids_are_understood(make_store):
    st = make_store([event("port_call", KP1, 0, 20, place="RUVYP-OIL"), event("port_call", KP1, 40, 50, place="KPCHO-OIL")])
    c = build_cases(st)  # built-in gazetteer
    assert c.height == 1 and c["destination_country"][0] == "KP"


def test_load_hidden_in_a_long_gap_with_a_draught_rise_and_a_reachable_terminal(make_store):
    """AIS off for 80 h near Vostochny, back on laden: a load at an unknown terminal among those reachable."""
    gap = event("ais_gap", KP1, 10, 90, reachable_places=["KOZMINO", "RUVYP-OIL", "RUNJK"], duration_h=80.0)
    short = event("ais_gap", KP2, 10, 18, reachable_places=["RUVYP-OIL"], duration_h=8.0)  # < 12 h: not enough
    st = make_store(
        [
            gap, event("draught_change", KP1, 9, 91, **{"draught_before": 3.6, "draught_after": 5.7, "change_m": 2.1}),
            event("port_call", KP1, 100, 120, place="KPCHO"),
            short, event("draught_change", KP2, 9, 19, change_m=2.0), event("port_call", KP2, 30, 40, place="KPCHO"),
        ],
        [static(KP1, "SAM MA 2", 8106496, 68, 10, 5.7)],
    )
    c = build_cases(st, places=PLACES)
    assert c["mmsi"].to_list() == [KP1]
    r = c.row(0, named=True)
    assert r["load_place"] is None and r["load_inferred"] and r["load_country"] == "RU"
    assert r["tonnes_method"] == "draught_rise" and r["product"] == "refined_assumed_diesel"
    assert "RUVYP-OIL" in r["reasons"] and "RUNJK" not in r["reasons"]  # only load terminals are named


def test_switch_off_near_the_terminal_or_loitering_offshore_is_a_hidden_load(make_store):
    """Without any draught: a 45 h gap that starts and ends ~37 km off the Vostochny oil berth, or 5 days of
    'loitering' broadcast 40 km off it, followed by a DPRK port call (built-in gazetteer)."""
    gap = event("ais_gap", KP1, 0, 45, reachable_places=["KOZMINO", "RUVYP-OIL"],
                end_position={"lat": 42.531, "lon": 132.703})
    gap.update(lat=42.5306, lon=132.719)
    far_gap = event("ais_gap", KP2, 0, 45, reachable_places=["RUVYP-OIL"], end_position={"lat": 41.9, "lon": 130.5})
    far_gap.update(lat=41.9, lon=130.5)  # ~230 km away, off the DPRK coast: not near a terminal
    loiter = event("loitering", 445100003, 0, 120)
    loiter.update(lat=42.368, lon=132.943)
    st = make_store([
        gap, event("port_call", KP1, 60, 80, place="KPCHO"),
        far_gap, event("port_call", KP2, 60, 80, place="KPCHO"),
        loiter, event("port_call", 445100003, 140, 160, place="KPCHO"),
    ])
    c = build_cases(st).sort("mmsi")
    assert c["mmsi"].to_list() == [KP1, 445100003]
    assert c["load_place"].null_count() == 2 and c["tonnes_method"].to_list() == ["fleet_prior", "fleet_prior"]
    assert "RUVYP-OIL" in c["load_reachable"][0] and "RUVYP-OIL" in c["load_reachable"][1]
    assert c["confidence"][0] == pytest.approx(0.10 + 0.30 + 0.15)


def test_discharge_reached_with_ais_off_starts_when_the_transponder_went_off(make_store):
    st = make_store([
        event("port_call", KP1, 0, 20, place="RUVYP-OIL"),
        event("ais_gap", KP1, 30, 78, reachable_places=["KPCHO", "KPRJN"]),  # ends 2 h before the port call
        event("port_call", KP1, 80, 100, place="KPCHO"),
        event("port_call", KP2, 0, 20, place="RUVYP-OIL"),
        event("ais_gap", KP2, 30, 60, reachable_places=["KPCHO"]),  # ends 20 h before: not the arrival
        event("port_call", KP2, 80, 100, place="KPCHO"),
    ])
    c = build_cases(st, places=PLACES).sort("mmsi")
    t0 = c["load_start"][0]
    assert [(d - t0).total_seconds() / 3600 for d in c["discharge_start"]] == [30.0, 80.0]
    assert any("arrived dark" in r for r in json.loads(c["reasons"][0]))
