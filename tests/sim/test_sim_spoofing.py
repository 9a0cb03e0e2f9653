"""The spoofing scenario: planted false tracks of every class with truth, and the honest traps (a fast ferry, a
satellite feed stamped 40 min late), measured end to end through ingest, detect and evaluate."""

from __future__ import annotations

import json
import re
from collections import defaultdict

import pytest

from shadowfleet.sim import simulate
from shadowfleet.sim.scenarios.spoofing import KINDS, SITUATIONS


@pytest.fixture(scope="module")
def spoof_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("spoofing")
    simulate("spoofing", out, seed=3, days=4, vessels=24)
    return out, json.loads((out / "truth.json").read_text())


@pytest.mark.slow
def test_every_planted_class_has_a_true_spoofing_event_and_the_traps_are_named(spoof_run):
    out, truth = spoof_run
    planted = truth["params"]["planted_spoofing"]
    assert {p["kind"] for p in planted} == set(KINDS) | set(SITUATIONS)
    events = [e for e in truth["events"] if e["type"] == "spoofing"]
    assert sorted((e["mmsi"], e["details"]["kind"]) for e in events) == sorted((p["mmsi"], p["kind"]) for p in planted)
    assert truth["params"]["late_feed"] == {"receiver": "SAT-3", "minutes": 40.0}
    assert truth["params"]["fast_ferry_mmsi"] not in {p["mmsi"] for p in planted}


@pytest.mark.slow
def test_the_late_satellite_stamps_the_same_transmissions_40_minutes_after_the_others(spoof_run):
    out, _ = spoof_run
    heard = defaultdict(dict)  # payload -> receiver -> stamp
    pat = re.compile(r"^\\s:([^,]+),c:(\d+)\*..\\!AIVDM,1,1,,[AB],([^,]+),")
    with open(out / "ais.nmea") as fh:
        for line in fh:
            m = pat.match(line)
            if m:
                heard[m.group(3)][m.group(1)] = int(m.group(2))
    lags = [r["SAT-3"] - min(v for k, v in r.items() if k != "SAT-3") for r in heard.values()
            if "SAT-3" in r and len(r) > 1]
    near = sorted(x for x in lags if abs(x) < 7200)  # one payload can recur hours later (a ship lying still)
    assert len(near) > 20 and abs(near[len(near) // 2] - 2400) <= 30
    assert sum(abs(x - 2400) <= 60 for x in near) >= 0.8 * len(near)


@pytest.mark.slow
def test_end_to_end_every_visible_planted_vessel_is_found_and_no_honest_ship_is_accused(spoof_run, tmp_path):
    from shadowfleet.evaluate import evaluate
    from shadowfleet.events import detect
    from shadowfleet.ingest import ingest
    from shadowfleet.store import Store

    out, truth = spoof_run
    st = Store(tmp_path / "st")
    ingest(out / "ais.nmea", st)
    late: list = []
    detect(st, delays=late)
    assert late[0]["receiver"].to_list() == ["SAT-3"] and abs(late[0]["delay_s"][0] - 2400) < 120
    v = evaluate(out / "truth.json", st).spoofing_vessels
    assert v.fp == 0 and truth["params"]["fast_ferry_mmsi"] not in v.false
    assert v.visible >= 6 and v.recall >= 0.8
    ev = st.read("events")
    planted = {p["kind"]: p["mmsi"] for p in truth["params"]["planted_spoofing"]}
    # the transfer behind a false track: one encounter (a row per ship) and the false stretch flagged
    sts = planted["spliced_sts"]
    enc = ev.filter((ev["type"] == "encounter") & (ev["mmsi"] == sts))
    true_enc = [e for e in truth["events"] if e["type"] == "encounter" and e["mmsi"] == sts]
    assert enc.height == 1 == len(true_enc)
    assert ev.filter((ev["type"] == "spoofing") & (ev["mmsi"] == sts)).height >= 1
    # one MMSI, two ships: reported once with both tracks, every port call of both ships kept
    shared = planted["shared_mmsi"]
    [d] = [json.loads(x) for x in ev.filter((ev["type"] == "spoofing") & (ev["mmsi"] == shared))["details"]]
    assert d["kind"] == "two_places" and len(d["tracks"]) == 2
    calls = ev.filter((ev["type"] == "port_call") & (ev["mmsi"] == shared))
    true_calls = [e for e in truth["events"] if e["type"] == "port_call" and e["mmsi"] == shared and e["visible"]]
    assert calls.height == len(true_calls) and set(calls["place"]) == {e["place"] for e in true_calls}
    # the tanker shifting quays with its transponder off is no spoofer
    assert ev.filter((ev["type"] == "spoofing") & (ev["mmsi"] == truth["params"]["dark_shuttle_mmsi"])).height == 0
