"""The registry on real AIS ingested through `shadowfleet.ingest`, cross-checked against pyais decoding the same
files independently."""

from __future__ import annotations

import gzip
import json

import polars as pl
import pytest
from pyais import IterMessages

from clirunner import run_cli
from shadowfleet.identity import clean_text
from shadowfleet.registry import identity_history, stats, track, vessel_profile, vessels
from shadowfleet.store import Store

DRIFT = "ais/dma_aisabnormal_538004030_drift_20140928.ais"
SAMPLE = "ais/dma_aisabnormal_ais-sample_20131112.txt.gz"
FRIO = 538004030


@pytest.fixture(scope="module")
def real_store(shared_data, tmp_path_factory) -> Store:
    ingest = pytest.importorskip("shadowfleet.ingest").ingest
    root = tmp_path_factory.mktemp("real") / "store"
    ingest([shared_data / DRIFT, shared_data / SAMPLE], root)
    return Store(root, create=False)


def _pyais_type5(path) -> dict[int, set[tuple]]:
    """(name, imo, callsign) per MMSI from every type 5 in a DMA file, decoded by pyais alone."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", errors="replace") as f:
        lines = [ln.strip().encode() for ln in f if ln.startswith(("!AIVDM", "!BSVDM", "!ABVDM"))]
    out: dict[int, set[tuple]] = {}
    for m in IterMessages(lines):
        try:
            d = m.decode()
        except Exception:  # undecodable sentences are the ingest's rejects, not identities
            continue
        if d.msg_type == 5:
            out.setdefault(d.mmsi, set()).add((clean_text(d.shipname), d.imo or None, clean_text(d.callsign)))
    return out


def test_frio_profile_matches_the_published_particulars(real_store):
    p = vessel_profile(real_store, FRIO)
    assert p.flag == "MH" and p.mmsi_kind == "ship"
    assert p.identities.height == 1
    who = p.latest
    assert (who["name"], who["imo"], who["imo_valid"], who["callsign"]) == ("FRIO", 9596985, True, "V7UU3")
    assert who["ship_category"] == "tanker" and (who["length"], who["beam"]) == (274.0, 48.0)
    assert [round(d, 1) for d in p.draughts["draught"].to_list()] == [9.4]
    assert p.n_positions == real_store.read("positions", mmsi=FRIO).height
    assert p.last_seen - p.first_seen < __import__("datetime").timedelta(hours=3)  # a 2.5 h drift


def test_identities_agree_with_pyais_on_every_type5_vessel(real_store, shared_data):
    expected = _pyais_type5(shared_data / SAMPLE) | _pyais_type5(shared_data / DRIFT)
    hist = identity_history(real_store)
    got: dict[int, set[tuple]] = {}
    for r in hist.iter_rows(named=True):
        got.setdefault(r["mmsi"], set()).add((r["name"], r["imo"], r["callsign"]))
    assert len(expected) >= 60
    agree = sum(got.get(m) == ids for m, ids in expected.items())
    assert agree == len(expected), {m: (ids, got.get(m)) for m, ids in expected.items() if got.get(m) != ids}
    assert not hist["name"].drop_nulls().str.contains("@").any()


def test_vessel_list_is_consistent_with_the_store(real_store):
    v = vessels(real_store)
    assert v["mmsi"].is_unique().all()
    assert v["n_positions"].sum() == real_store.read("positions").height
    pos_mmsi = set(real_store.scan("positions").select("mmsi").collect()["mmsi"])
    static_mmsi = set(real_store.scan("static").select("mmsi").collect()["mmsi"])
    assert set(v["mmsi"]) == pos_mmsi | static_mmsi
    # Danish waters: Denmark is the most common flag
    assert v.filter(pl.col("flag").is_not_null())["flag"].value_counts(sort=True)["flag"][0] == "DK"
    assert vessels(real_store, name="frio")["mmsi"].to_list() == [FRIO]
    s = stats(real_store)
    assert s["by_day"]["positions"].sum() == real_store.read("positions").height
    assert set(s["ingest_log"]["path"].map_elements(lambda p: p.rsplit("/", 1)[-1], return_dtype=pl.Utf8)) == {
        DRIFT.split("/")[1], SAMPLE.split("/")[1]}


def test_track_cli_geojson_on_real_data(real_store, tmp_path):
    target = tmp_path / "frio.geojson"
    r = run_cli("track", FRIO, "--store", real_store.root, "--format", "geojson", "--out", target, "--quiet")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    gj = json.loads(target.read_text())
    points = [f for f in gj["features"] if f["geometry"]["type"] == "Point"]
    assert len(points) == track(real_store, FRIO).height
    lon, lat = points[0]["geometry"]["coordinates"]
    assert 11.0 < lon < 11.6 and 57.6 < lat < 58.0  # off Sweden


def test_class_b_halves_on_real_data_make_one_identity_each(real_store):
    b = real_store.read("static").filter(pl.col("msg_type") == 24)
    both = b.group_by("mmsi").agg(pl.col("part").n_unique().alias("parts")).filter(pl.col("parts") == 2)["mmsi"]
    hist = identity_history(real_store).filter(pl.col("mmsi").is_in(b["mmsi"].unique().implode()))
    assert hist.height == b["mmsi"].n_unique() >= 40  # five minutes of traffic: nobody renamed, one stay each
    merged = hist.filter(pl.col("mmsi").is_in(both.implode()))
    assert merged.height >= 1
    assert merged["name"].null_count() == 0 and merged["callsign"].null_count() == 0
