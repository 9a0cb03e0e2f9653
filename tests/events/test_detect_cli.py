"""detect over a real store on disk, and the `events` CLI contract."""

import csv
import datetime as dt
import io
import json
import re

import polars as pl
import pytest

from helpers import ANCH, BERTH, FEATURES, SEA, offset_km, sail, still, track
from clirunner import run_cli
from shadowfleet.places import load_places
from shadowfleet.events import detect
from shadowfleet.store import Store

KEYS = {"event_id", "type", "mmsi", "start", "end", "lat", "lon", "place", "other_mmsi", "inferred", "details"}
ZTIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture()
def store_dir(tmp_path):
    """A store with a dark berth visit (273000001), an STS pair off the berth (273000002/3) and type-5 reports."""
    dark = track(273000001, sail(0, 120, SEA, BERTH) + still(130, 150, *BERTH, every=5)
                 + still(750, 760, *BERTH, every=5) + sail(770, 900, BERTH, SEA))
    meet = (42.3, 132.6)
    a = track(273000002, still(0, 400, *meet))
    b = track(273000003, still(0, 400, *offset_km(meet, 0.2, 0)))
    anch = track(273000004, still(0, 900, *ANCH, every=20))  # keeps the berth area "in coverage"
    pos = pl.concat([dark, a, b, anch]).drop("segment").with_columns(
        pl.lit(1, pl.Int8).alias("msg_type"), pl.lit("A").alias("ais_class"), pl.lit(1, pl.Int32).alias("n_receivers"),
        pl.arange(0, pl.len()).cast(pl.UInt64).alias("dup_key"),
    )
    st = Store(tmp_path / "store")
    st.append("positions", pos, "test")
    t0 = pos["ts"].min()
    static = pl.DataFrame({
        "mmsi": [273000002, 273000002], "ts": [t0, t0 + dt.timedelta(hours=5)], "msg_type": [5, 5],
        "name": ["VITYAZ", "VITYAZ"], "imo": [8125703, 8125703], "draught": [5.0, 7.0],
    }).with_columns(pl.arange(0, 2).cast(pl.UInt64).alias("dup_key"))
    st.append("static", static, "test")
    places = tmp_path / "places.geojson"
    places.write_text(json.dumps({"type": "FeatureCollection", "features": FEATURES}))
    return tmp_path


def test_detect_writes_events_and_segments_and_rerun_replaces(store_dir):
    s = str(store_dir / "store")
    p = str(store_dir / "places.geojson")
    code, _, err = run_cli(*["detect", "--store", s, "--places", p])
    assert code == 0, err
    st = Store(s, create=False)
    first = st.read("events")
    types = set(first["type"])
    assert {"port_call", "ais_gap", "encounter", "loitering", "draught_change"} <= types
    pc = first.filter(pl.col("type") == "port_call")
    assert sorted(pc.select("mmsi", "place", "inferred").rows()) == [
        (273000001, "PORT-OIL", True), (273000004, "PORT-ANCH", False)]
    seg = st.read("segments")
    assert set(seg.columns) >= {"mmsi", "ts", "lat", "lon", "sog", "segment"} and seg["segment"].null_count() == 0
    assert first["event_id"].n_unique() == first.height
    code, _, _ = run_cli(*["detect", "--store", s, "--places", p])
    again = st.read("events")
    assert code == 0 and again.height == first.height  # replaced, not appended
    assert sorted(again["event_id"]) == sorted(first["event_id"])


def test_events_jsonl_contract(store_dir):
    s = str(store_dir / "store")
    run_cli(*["detect", "--store", s, "--places", str(store_dir / "places.geojson")])
    code, out, _ = run_cli(*["events", "--store", s, "--format", "jsonl"])
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows
    for r in rows:
        assert set(r) == KEYS
        assert r["type"] in ("port_call", "ais_gap", "encounter", "loitering", "draught_change", "identity_change",
                             "spoofing")
        assert isinstance(r["mmsi"], int)
        assert ZTIME.match(r["start"]) and ZTIME.match(r["end"])
        assert isinstance(r["lat"], float) and isinstance(r["lon"], float)
        assert isinstance(r["inferred"], bool) and isinstance(r["details"], dict)
        assert (r["place"] is not None) == (r["type"] == "port_call")
        assert isinstance(r["other_mmsi"], int) if r["type"] == "encounter" else r["other_mmsi"] is None
    enc = [r for r in rows if r["type"] == "encounter"]
    assert {(r["mmsi"], r["other_mmsi"]) for r in enc} == {(273000002, 273000003), (273000003, 273000002)}


def test_events_filters_and_formats(store_dir, tmp_path):
    s = str(store_dir / "store")
    run_cli(*["detect", "--store", s, "--places", str(store_dir / "places.geojson")])
    _, out, _ = run_cli(*["events", "--store", s, "--type", "port_call"])
    assert [json.loads(x)["type"] for x in out.splitlines()] == ["port_call", "port_call"]
    _, out, _ = run_cli(*["events", "--store", s, "--mmsi", "273000003"])
    assert {json.loads(x)["mmsi"] for x in out.splitlines()} == {273000003}
    _, out, _ = run_cli(*["events", "--store", s, "--place", "PORT-OIL"])
    assert [json.loads(x)["place"] for x in out.splitlines()] == ["PORT-OIL"]
    _, out, _ = run_cli(*["events", "--store", s, "--format", "csv"])
    table = list(csv.DictReader(io.StringIO(out)))
    assert table and ZTIME.match(table[0]["start"]) and json.loads(table[0]["details"]) is not None
    dest = tmp_path / "ev.geojson"
    code, _, _ = run_cli(*["events", "--store", s, "--format", "geojson", "--out", str(dest)])
    doc = json.loads(dest.read_text())
    assert code == 0 and doc["type"] == "FeatureCollection"
    assert doc["features"][0]["geometry"]["type"] == "Point"


def test_user_errors_are_one_line(store_dir):
    s = str(store_dir / "store")
    code, _, err = run_cli(*["events", "--store", s])
    assert code == 1 and "run `shadowfleet detect" in err and len(err.strip().splitlines()) == 1
    run_cli(*["detect", "--store", s, "--places", str(store_dir / "places.geojson")])
    for args, msg in [
        (["events", "--store", s, "--format", "xml"], "--format"),
        (["events", "--store", s, "--type", "party"], "unknown event type"),
    ]:
        code, _, err = run_cli(*args)
        assert code == 1 and msg in err and len(err.strip().splitlines()) == 1
    bad = store_dir / "bad.toml"
    bad.write_text("[events.port_call]\nmax_sog_kn = 'fast'\n")
    code, _, err = run_cli(*["detect", "--store", s, "--config", str(bad)])
    assert code == 1 and "max_sog_kn" in err
    bad.write_text("[events.port_call]\nmax_speed = 1\n")
    code, _, err = run_cli(*["detect", "--store", s, "--config", str(bad)])
    assert code == 1 and "unknown setting" in err


def test_config_file_changes_a_threshold(store_dir):
    s = str(store_dir / "store")
    cfg = store_dir / "cfg.toml"
    cfg.write_text("[events.loitering]\nmin_duration_h = 12\n")
    run_cli(*["detect", "--store", s, "--places", str(store_dir / "places.geojson"), "--config", str(cfg)])
    assert Store(s, create=False).read("events").filter(pl.col("type") == "loitering").height == 0


def test_python_api_time_window(store_dir):
    st = Store(store_dir / "store", create=False)
    ev = detect(st, places=load_places(store_dir / "places.geojson"), end=st.read("positions")["ts"].min())
    assert ev.filter(pl.col("type") == "port_call").height == 0


def test_real_dma_sample_runs_through_detect(tmp_path):
    """Real Danish AIS (26,077 messages, 1,508 MMSIs, 5 minutes): no error and no spoofing event; aids to
    navigation, SAR aircraft, handhelds and test numbers are counted as not vessels."""
    from shared_data import shared_file
    from shadowfleet.ingest import ingest

    st = Store(tmp_path / "dma")
    ingest(shared_file("ais/dma_aisabnormal_ais-sample_20131112.txt.gz"), st)
    counts: dict = {}
    ev = detect(st, counts=counts)
    assert counts["not_a_vessel"] > 0
    assert st.read("segments").height > 20_000
    assert ev["event_id"].n_unique() == ev.height
    spoof = [json.loads(d)["kind"] for d in ev.filter(pl.col("type") == "spoofing")["details"]]
    assert spoof == []


def test_positions_left_out_are_counted(store_dir):
    st = Store(store_dir / "store", create=False)
    bad = st.read("positions").head(3).with_columns(pl.lit(95.0).alias("lat"), pl.arange(10**6, 10**6 + 3)
                                                     .cast(pl.UInt64).alias("dup_key"))
    st.append("positions", bad, "bad")
    counts: dict = {}
    detect(st, places=load_places(store_dir / "places.geojson"), counts=counts)
    assert counts["invalid_position"] == 3
