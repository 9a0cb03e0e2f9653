"""simulate (small) -> ingest -> detect: the Vostochny oil berth's port calls, dark ones included, are found."""

import datetime as dt
import json

import polars as pl
import pytest

from shadowfleet.places import load_places
from shadowfleet.events import detect
from shadowfleet.store import Store


def _iso(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


@pytest.mark.slow
def test_vostochny_berth_calls_including_inferred_ones_are_found(tmp_path):
    sim = pytest.importorskip("shadowfleet.sim")
    from shadowfleet.ingest import ingest

    out = tmp_path / "sim"
    sim.simulate("vostochny-2024-03", out, seed=5, days=12, vessels=10)  # seed 5: 3 visible berth calls, 2 dark
    st = Store(tmp_path / "store")
    ingest(out / "ais.nmea", st)
    ev = detect(st, places=load_places(out / "places.geojson"))
    truth = json.loads((out / "truth.json").read_text())
    berth = [e for e in truth["events"]
             if e["type"] == "port_call" and e["place"] == "RUVYP-OIL" and e["visible"]]
    assert any(e["inferred"] for e in berth), "scenario should have a dark berth visit AIS can infer"
    calls = ev.filter((pl.col("type") == "port_call") & pl.col("place").is_in(["RUVYP-OIL", "RUVYP"]))
    found = 0
    for e in berth:
        a, b = _iso(e["start"]), _iso(e["end"])
        hit = calls.filter((pl.col("mmsi") == e["mmsi"]) & (pl.col("start") <= b) & (pl.col("end") >= a))
        found += hit.height > 0
        if e["inferred"]:
            assert hit.height and hit["inferred"].any(), f"dark berth call of {e['mmsi']} at {e['start']} missed"
    assert found == len(berth)
