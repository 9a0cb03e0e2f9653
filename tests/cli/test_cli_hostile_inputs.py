"""Hostile inputs a user can cause end in one "error:" line on stderr and exit 1, never a traceback.

Run in-process through the CLI's entry point (tests/clirunner.py) over one tiny simulated store built once per
module.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from clirunner import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def sim_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    r = run_cli("simulate", "--out", root / "sim", "--days", "1", "--vessels", "5", "-q")
    assert r.returncode == 0, r.stderr
    r = run_cli("ingest", "--store", root / "store", root / "sim" / "ais.nmea", "-q")
    assert r.returncode == 0, r.stderr
    r = run_cli("detect", "--store", root / "store", "--places", root / "sim" / "places.geojson", "-q")
    assert r.returncode == 0, r.stderr
    r = run_cli("cases", "--store", root / "store", "--out", root / "cases.jsonl", "-q")
    assert r.returncode == 0, r.stderr
    return root / "store"


def _damaged_copy(store: Path, dest: Path, table: str) -> Path:
    shutil.copytree(store, dest)
    part = sorted((dest / table).rglob("*.parquet"))[0]
    part.write_bytes(b"not parquet at all, garbage written over a part file" * 10)
    return part


@pytest.mark.parametrize("command", [["stats"], ["vessels"], ["detect"]])
def test_damaged_positions_part_file_is_named(sim_store, tmp_path, command):
    part = _damaged_copy(sim_store, tmp_path / "store", "positions")
    err = assert_one_line_error(run_cli(*command, "--store", tmp_path / "store"), "damaged store file")
    assert part.name in err


def test_damaged_events_part_file_is_named(sim_store, tmp_path):
    _damaged_copy(sim_store, tmp_path / "store", "events")
    assert_one_line_error(run_cli("events", "--store", tmp_path / "store"), "damaged store file", "events")


@pytest.mark.parametrize(
    ("section", "command"),
    [
        ("[ingest]\nbatch_lines = 'many'\n", "ingest"),
        ("[tracks]\nmax_speed_kn = [1]\n", "detect"),
        ("[cases]\nsupplier_countries = 'RU'\n", "cases"),
    ],
)
def test_config_value_of_wrong_type(sim_store, tmp_path, section, command):
    cfg = tmp_path / "c.toml"
    cfg.write_text(section)
    store = tmp_path / "store"
    shutil.copytree(sim_store, store)
    extra = [sim_store.parent / "sim" / "ais.nmea"] if command == "ingest" else []
    key = section.split("\n")[1].split(" =")[0]
    assert_one_line_error(run_cli(command, "--store", store, "--config", cfg, *extra), key, "must be")


def test_simulate_out_is_an_existing_file(tmp_path):
    f = tmp_path / "ais.txt"
    f.write_text("")
    assert_one_line_error(run_cli("simulate", "--out", f, "--days", "0.05", "--vessels", "0"), str(f))


def test_demo_out_is_an_existing_file(tmp_path):
    f = tmp_path / "demo.txt"
    f.write_text("")
    assert_one_line_error(run_cli("demo", "--out", f, "--days", "0.05", "--vessels", "0"), str(f))


def test_simulate_start_in_year_one(tmp_path):
    assert_one_line_error(run_cli("simulate", "--out", tmp_path / "s", "--start", "0001-01-01", "--days", "0.05"),
                          "--start", "year")


def test_simulate_error_is_the_only_stderr_line(tmp_path):
    # the progress display must not leave a blank line before the error when stderr is not a terminal
    assert_one_line_error(run_cli("simulate", "--out", tmp_path / "s", "--days", "-3"), "--days")


def test_csv_without_header_is_an_error_not_an_empty_ingest(tmp_path):
    f = tmp_path / "noheader.csv"
    f.write_text("123456789,2024-03-01T00:00:00Z,40,130,3\n")
    assert_one_line_error(run_cli("ingest", "--store", tmp_path / "store", f), "columns not recognised")


def test_csv_rows_of_wrong_types_are_counted_rejections(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("mmsi,ts,lat,lon,sog\nabc,notatime,xx,yy,zz\n123456789,2024-03-01T00:00:00Z,95,200,-3\n"
                 "273000001,2024-03-01T01:00:00Z,43.1,131.9,0.2\n")
    store = tmp_path / "store"
    r = run_cli("ingest", "--store", store, f, "-q")
    assert r.returncode == 0, r.stderr
    stats = json.loads(run_cli("stats", "--store", store, "-f", "json").stdout)
    (log,) = stats["ingest_log"]
    # every data row is either stored or rejected with a reason: none vanishes
    assert (log["accepted"], log["rejected"]) == (1, 2)
    reasons = {r["reason"]: r["rows"] for r in stats["rejects_by_reason"]}
    assert reasons == {"missing_timestamp": 1, "position_out_of_range": 1}


@pytest.mark.parametrize("command", [["stats"], ["lists", "show"]])
def test_overwritten_catalog_is_named(sim_store, tmp_path, command):
    store = tmp_path / "store"
    shutil.copytree(sim_store, store)
    for f in store.glob("catalog.sqlite*"):
        f.unlink()
    (store / "catalog.sqlite").write_bytes(b"garbage, not a database" * 100)
    assert_one_line_error(run_cli(*command, "--store", store), "catalog.sqlite", "damaged or was overwritten")


def test_demo_bad_days_is_the_only_stderr_line(tmp_path):
    # the demo's narration starts only once the simulator accepted its arguments
    assert_one_line_error(run_cli("demo", "--out", tmp_path / "d", "--days", "-1"), "--days")


def test_vessel_table_negative_dwt_is_set_aside_and_counted(sim_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(sim_store, store)
    table = tmp_path / "vessels.csv"
    table.write_text("imo,mmsi,dwt\n9000000,273000001,-5\n,,3000\n")
    r = run_cli("cases", "--store", store, "--vessels", table)
    assert r.returncode == 0, r.stderr
    # '-5' was read as 5 t before: a negative deadweight is no deadweight
    assert "0 rows used" in r.stdout + r.stderr
    assert "1 dwt missing or not a positive number" in r.stdout + r.stderr


def _tagged(tag: str, sentence: str) -> str:
    checksum = 0
    for ch in tag:
        checksum ^= ord(ch)
    return f"\\{tag}*{checksum:02X}\\{sentence}"


def test_nmea_tag_time_beyond_any_calendar_is_a_counted_rejection(tmp_path):
    sentence = "!AIVDM,1,1,,B,16TeF4EP00aGvvNHHOv1ViD>1fF?,0*7F"
    f = tmp_path / "ais.nmea"
    f.write_text(_tagged("s:RX,c:1709251268", sentence) + "\n" + _tagged("s:RX,c:99999999999999999999", sentence) + "\n")
    store = tmp_path / "store"
    r = run_cli("ingest", "--store", store, f, "-q")
    assert r.returncode == 0, r.stderr
    (log,) = json.loads(run_cli("stats", "--store", store, "-f", "json").stdout)["ingest_log"]
    assert (log["accepted"], log["rejected"]) == (1, 1)


def test_reported_deliveries_with_impossible_month_or_barrels(sim_store, tmp_path):
    for row, needle in (("RU,2024-13,100,x", "2024-13"), ("RU,2024-03,lots,x", "lots"), ("RU,2024-03,-100,x", "-100")):
        f = tmp_path / "reported.csv"
        f.write_text(f"supplier,period,barrels,source\n{row}\n")
        assert_one_line_error(run_cli("cap", "--store", sim_store, "--year", "2024", "--reported", f), needle)


def test_csv_epoch_times_beyond_any_calendar_are_counted_rejections(tmp_path):
    f = tmp_path / "times.csv"
    f.write_text("mmsi,ts,lat,lon\n273000001,1e30,43,131\n273000001,-1e30,43,131\n273000001,inf,43,131\n"
                 "273000001,1709251268,43,131\n")
    store = tmp_path / "store"
    r = run_cli("ingest", "--store", store, f, "-q")
    assert r.returncode == 0, r.stderr
    stats = json.loads(run_cli("stats", "--store", store, "-f", "json").stdout)
    assert {r["reason"]: r["rows"] for r in stats["rejects_by_reason"]} == {"absurd_timestamp": 3}
    assert stats["ingest_log"][0]["accepted"] == 1


def test_part_file_of_another_table_is_named(sim_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(sim_store, store)
    part = sorted((store / "positions").rglob("*.parquet"))[0]
    shutil.copyfile(sorted((store / "events").glob("*.parquet"))[0], part)  # a valid Parquet file, of the wrong table
    assert_one_line_error(run_cli("stats", "--store", store), part.name, "does not hold table positions")


def test_evaluate_names_a_damaged_cases_file(sim_store, tmp_path):
    _damaged_copy(sim_store, tmp_path / "store", "cases")
    truth = sim_store.parent / "sim" / "truth.json"
    assert_one_line_error(run_cli("evaluate", "--store", tmp_path / "store", "--truth", truth), "damaged store file", "cases")
