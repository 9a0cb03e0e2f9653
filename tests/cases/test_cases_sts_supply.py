"""Supply by ship-to-ship transfer (nampo-sts): a foreign tanker loads at a supplier-country port with no oil berth
mapped, goes dark, hands the cargo to a DPRK tanker at an STS area, which takes it home. One delivery, one case."""

import json

import polars as pl

from casekit import PLACES, event, static
from shadowfleet.cases import build_cases, voyages
from shadowfleet.cases.config import DEFAULTS
from shadowfleet.cases.ledger import cap_ledger

SL1, SL2, KP1, KP2, RU1 = 667000001, 667000002, 445100001, 445100002, 273100001


def _cases(st, **kw):
    return build_cases(st, places=PLACES, **kw)


def _dark_supply(supplier=SL1, partner=KP1, wait=(30, 40)):
    """Call at Dalian, then AIS off for 20 h with the Sok Island area reachable, while ``partner`` loiters there."""
    return [
        event("port_call", supplier, 0, 20, place="CNDLC"),
        event("ais_gap", supplier, 25, 45, reachable_places=["SOKDO-STS", "KPNAM"]),
        event("loitering", partner, *wait, sts_area="SOKDO-STS"),
    ]


def test_port_call_in_supplier_country_then_dark_sts_with_dprk_tanker_is_one_case(make_store):
    c = _cases(make_store(_dark_supply()))
    assert c.height == 1
    r = c.row(0, named=True)
    assert r["mmsi"] == SL1 and r["load_place"] == "CNDLC" and r["load_country"] == "CN"
    assert r["load_supplier_port"] and r["discharge_sts_dark"]
    assert r["discharge_kind"] == "sts" and r["discharge_place"] == "SOKDO-STS"
    assert r["discharge_other_mmsi"] == KP1 and r["destination_country"] == "KP"
    assert r["discharge_start"] == event("ais_gap", SL1, 25, 45)["start"]
    # lower confidence than a seen load and a seen transfer, and both reasons stated
    assert r["confidence"] == DEFAULTS.w_load_supplier_port + DEFAULTS.w_discharge_sts_dark
    reasons = " | ".join(json.loads(r["reasons"]))
    assert "possible load: port call at CNDLC" in reasons and "dark ship-to-ship transfer" in reasons


def test_seen_sts_after_a_supplier_port_call_is_a_case_with_the_seen_transfer_weight(make_store):
    evs = [event("port_call", SL1, 0, 20, place="CNDLC"), event("encounter", SL1, 40, 46, place="SOKDO-STS", other=KP1)]
    r = _cases(make_store(evs)).row(0, named=True)
    assert r["load_supplier_port"] and not r["discharge_sts_dark"] and r["discharge_other_mmsi"] == KP1
    assert r["confidence"] == DEFAULTS.w_load_supplier_port + DEFAULTS.w_discharge_sts


def test_supplier_port_call_is_a_load_only_when_the_next_thing_is_the_sts(make_store):
    # a port call with nothing after it, and one followed by another call before the transfer
    alone = [event("port_call", SL2, 0, 20, place="CNDLC")]
    assert voyages(make_store(alone), places=PLACES).height == 0  # not even listed as a load
    evs = [event("port_call", SL1, -30, -10, place="CNDLC")] + _dark_supply()
    c = _cases(make_store(evs))
    assert c.height == 1 and c["load_end"][0] == event("port_call", SL1, 0, 20)["end"]


def test_no_dark_sts_without_a_dprk_partner_waiting_long_enough_or_the_area_reachable(make_store, tmp_path):
    short = _dark_supply(wait=(44, 45.5))  # 1 h overlap < 2 h
    assert _cases(make_store(short)).height == 0
    foreign = _dark_supply(partner=636000009)  # Liberian partner, not listed
    assert voyages(make_store(foreign), places=PLACES).height == 0
    far = _dark_supply()
    far[1] = event("ais_gap", SL1, 25, 45, reachable_places=["CNYNT"])
    assert voyages(make_store(far), places=PLACES).height == 0


def test_dprk_flagged_tanker_at_a_chinese_port_is_not_a_supplier_port_load(make_store):
    evs = [event("port_call", KP2, 0, 20, place="CNDLC"), event("encounter", KP2, 40, 46, place="SOKDO-STS", other=KP1)]
    assert voyages(make_store(evs), places=PLACES).height == 0


def test_sts_tonnes_are_the_suppliers_draught_drop_not_the_rise_at_the_load(make_store):
    # loaded 3.0 m deeper, handed over only what a 1.0 m drop shows
    evs = _dark_supply() + [
        event("draught_change", SL1, 21, 22, delta_m=3.0),
        event("draught_change", SL1, 24, 46, delta_m=-1.0),
    ]
    st = make_store(evs, statics=[static(SL1, "EASTERN WAVE", length=100.0, beam=16.0, draught=4.0)])
    r = _cases(st).row(0, named=True)
    assert r["tonnes_method"] == "draught_drop" and r["draught_change_m"] == 1.0
    tpc = 0.95 * 100.0 * 16.0 * DEFAULTS.waterplane_coeff_central * 1.025 / 100.0
    assert abs(r["tonnes_central"] - 100.0 * tpc) < 1.0


def test_without_draught_an_sts_cargo_is_capped_by_what_the_receiver_can_carry(make_store):
    st = make_store(_dark_supply(), statics=[
        static(SL1, "BIG SUPPLIER", length=120.0, beam=18.0, draught=7.0),
        static(KP1, "SMALL RECEIVER", length=60.0, beam=10.0, draught=4.0),
    ])
    v = voyages(st, places=PLACES)
    r = v.row(0, named=True)
    assert r["tonnes_method"] == "receiver_capacity"
    from shadowfleet.cases import vessel_particulars
    kp = vessel_particulars(st).filter(pl.col("mmsi") == KP1).row(0, named=True)
    assert abs(r["tonnes_central"] - kp["dwt_central"] * DEFAULTS.load_factor_central) < 1e-6
    assert r["tonnes_central"] < r["dwt_central"] * DEFAULTS.load_factor_central
    assert "receiving ship MMSI 445100001" in r["reasons"]


def test_the_dprk_tankers_onward_leg_is_not_counted_again(make_store):
    # supplier → STS (the delivery), then the DPRK tanker sails home and discharges at Nampo
    evs = _dark_supply() + [event("port_call", KP1, 50, 70, place="KPNAM")]
    st = make_store(evs)
    c = _cases(st)
    assert c["mmsi"].to_list() == [SL1]  # no case for KP1: an STS is not a load
    led = cap_ledger(st, 2024, cases=c)
    assert abs(led["est_central"].sum() - c["barrels_central"].sum()) < 1e-6 and led["cases"].sum() == 1


def test_an_oil_berth_load_keeps_its_sts_and_the_chinese_call_on_the_way_adds_no_second_case(make_store):
    evs = [
        event("port_call", RU1, -40, -20, place="RUVYP-OIL"),
        event("port_call", RU1, 0, 10, place="CNDLC"),
        event("encounter", RU1, 40, 46, place="SOKDO-STS", other=KP1),
    ]
    c = _cases(make_store(evs))
    assert c.height == 1
    r = c.row(0, named=True)
    assert r["load_place"] == "RUVYP-OIL" and not r["load_supplier_port"]
