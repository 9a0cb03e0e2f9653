"""What the query commands print or write, run in-process through the CLI's entry point (tests/clirunner.py)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry_store import CLASS_B, RU_SHIP, TANKER, build_store  # noqa: E402
from clirunner import run_cli as run  # noqa: E402


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cliq") / "store"
    build_store(root)
    return root


def test_vessels_csv_filtered_by_flag(store_dir):
    r = run("vessels", "--store", str(store_dir), "--flag", "RU", "--format", "csv", "--quiet")
    assert r.returncode == 0 and r.stderr == ""
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [int(x["mmsi"]) for x in rows] == [CLASS_B, RU_SHIP]
    assert rows[0]["name"] == "MORYAK" and rows[0]["flag"] == "RU"


def test_vessels_limit_keeps_the_busiest(store_dir):
    r = run("vessels", "--store", str(store_dir), "--limit", "2", "--format", "csv")
    assert [int(x["mmsi"]) for x in csv.DictReader(io.StringIO(r.stdout))] == [TANKER, RU_SHIP]  # 6 and 4 positions
    assert run("vessels", "--store", str(store_dir), "--limit", "-1").returncode == 1


def test_vessels_table_names_the_vessels(store_dir):
    r = run("vessels", "--store", str(store_dir), "--name", "son")
    assert r.returncode == 0
    assert str(TANKER) in r.stdout and "KUM UN SAN" in r.stdout and str(RU_SHIP) not in r.stdout


def test_vessel_profile_json_and_text(store_dir):
    r = run("vessel", str(TANKER), "--store", str(store_dir), "--format", "json")
    assert r.returncode == 0
    p = json.loads(r.stdout)
    assert p["flag"] == "KP" and [i["name"] for i in p["identities"]] == ["YU SON", "KUM UN SAN"]
    assert len(p["draughts"]) == 2
    t = run("vessel", f"{TANKER}", "--store", str(store_dir))
    assert "Democratic People's Republic of Korea" in t.stdout and "YU SON" in t.stdout and "+3.7" in t.stdout


def test_track_geojson_to_file_loads_as_feature_collection(store_dir, tmp_path):
    target = tmp_path / "track.geojson"
    r = run("track", str(TANKER), "--store", str(store_dir), "--format", "geojson", "--out", str(target))
    assert r.returncode == 0 and r.stdout == "" and "wrote 6 positions" in r.stderr
    gj = json.loads(target.read_text())
    kinds = [f["geometry"]["type"] for f in gj["features"]]
    assert kinds.count("Point") == 6 and kinds.count("LineString") == 1


def test_track_jsonl_window_by_date_and_segments(store_dir):
    from shadowfleet.registry import track
    from shadowfleet.store import Store

    st = Store(store_dir, create=False)
    pos = track(st, TANKER)
    st.replace("segments", pos.select("mmsi", "ts", "lat", "lon", "sog").with_columns(
        pl.Series("segment", ["s1"] * 6)))
    try:
        r = run("track", str(TANKER), "--store", str(store_dir), "--format", "jsonl", "--start", "2024-03-07T08:00Z",
                "--end", "2024-03-07")  # a bare --end date covers the whole day
        rows = [json.loads(x) for x in r.stdout.splitlines()]
        assert [x["ts"][11:16] for x in rows] == ["08:00", "09:00", "10:00", "11:00"]
        assert {x["segment"] for x in rows} == {"s1"}
    finally:
        import shutil

        shutil.rmtree(store_dir / "segments")


def test_stats_json(store_dir):
    r = run("stats", "--store", str(store_dir), "--format", "json")
    s = json.loads(r.stdout)
    assert {x["reason"]: x["rows"] for x in s["rejects_by_reason"]} == {"bad_checksum": 2, "no_time": 1}
    assert s["by_day"][0]["day"] == "2024-03-07" and s["by_day"][0]["positions"] == 12
    t = run("stats", "--store", str(store_dir))
    assert "bad_checksum" in t.stdout and "rejected input by reason" in t.stdout
