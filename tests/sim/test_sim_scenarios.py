"""nampo-sts carries STS transfers to DPRK tankers with identity laundering; baseline carries no violation."""

from __future__ import annotations

import json

import pytest

from shadowfleet.sim import simulate

pytestmark = pytest.mark.slow  # a whole simulated scenario end to end


@pytest.fixture(scope="module")
def nampo(tmp_path_factory):
    out = tmp_path_factory.mktemp("nampo")
    simulate("nampo-sts", out, seed=2, vessels=10)
    return json.loads((out / "truth.json").read_text())


def test_nampo_transfers_reach_dprk_tankers_at_the_sts_area(nampo):
    events = {e["id"]: e for e in nampo["events"]}
    vessels = {i["mmsi"]: v for v in nampo["vessels"] for i in v["identities"]}
    sts = [v for v in nampo["voyages"] if v["discharge_kind"] == "sts"]
    assert len(sts) >= 3
    for v in sts:
        enc = events[v["discharge_event"]]
        assert enc["type"] == "encounter" and enc["place"] == "SOKDO-STS"
        assert vessels[enc["other_mmsi"]]["flag"] == "KP"
        assert vessels[enc["mmsi"]]["flag"] != "KP"
        assert enc["cargo"]["action"] == "discharge" and enc["cargo"]["barrels"] == v["barrels"]
        load = events[v["load_event"]]
        assert load["place"].startswith("CN") and load["end"] < enc["start"]
        onward = next(o for o in nampo["voyages"] if o.get("onward_of") == v["id"])
        dis = events[onward["discharge_event"]]
        # after the transfer (a dark call there spans the whole silence, which may begin before the transfer)
        assert dis["place"] == "KPNAM-OIL" and dis["end"] > enc["end"]
    total = sum(v["barrels"] for v in sts if v["month"] == "2024-03")
    assert nampo["totals"]["barrels_delivered_by_month"]["2024-03"] == pytest.approx(total, abs=0.5)
    # DPRK discharges at Nampo: some in stays AIS saw in part (split by silences), some wholly dark
    dis = [events[o["discharge_event"]] for o in nampo["voyages"] if o.get("onward_of")]
    assert any(e["inferred"] and e["details"]["visit_parts"] == 1 for e in dis)
    assert any(e["details"]["visit_parts"] > 1 for e in dis)


def test_nampo_identity_laundering_flag_hopping_and_rename(nampo):
    changes = [e for e in nampo["events"] if e["type"] == "identity_change"]
    kinds = {tuple(sorted(e["details"]["changed"])) for e in changes}
    assert ("imo", "name") in kinds  # broadcasting another ship's name and IMO
    assert ("callsign", "flag", "mmsi") in kinds  # flag hopping with a new MMSI
    assert ("name",) in kinds
    laundered = next(e for e in changes if set(e["details"]["changed"]) == {"imo", "name"})
    donor_imo = laundered["details"]["to"]["imo"]
    owners = [v for v in nampo["vessels"] if v["imo"] == donor_imo]
    assert len(owners) == 1 and owners[0]["mmsi"] != laundered["mmsi"]  # the IMO belongs to another ship


def test_baseline_has_background_traffic_only(tmp_path):
    simulate("baseline", tmp_path, seed=1, days=4, vessels=30)
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert {v["role"] for v in truth["vessels"]} == {"background"}
    assert truth["voyages"] == [] and truth["totals"]["barrels_delivered_by_month"] == {}
    types = {e["type"] for e in truth["events"]}
    assert "port_call" in types and not types & {"spoofing", "identity_change"}
    assert all(e["cargo"] is None for e in truth["events"])
    lons = [e["lon"] for e in truth["events"] if e["type"] == "port_call"]
    assert min(lons) < 125 < max(lons)  # both seas
