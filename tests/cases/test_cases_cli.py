"""`shadowfleet cases`, `cap`, `report` on a real store: outputs, options, one-line errors."""

import json

import polars as pl
import pytest

from casekit import event, static
from clirunner import run_cli

KP1 = 445100001


@pytest.fixture
def store_dir(make_store):
    st = make_store(
        [event("port_call", KP1, 0, 30, place="RUVYP-OIL", inferred=True), event("port_call", KP1, 60, 90, place="KPCHO")],
        [static(KP1, "YU SON", 8691702, 100, 15, None)],
    )
    return str(st.root)


def test_cases_prints_jsonl_and_csv_and_uses_the_vessel_table(store_dir, tmp_path):
    rc, out, err = run_cli(*["cases", "--store", store_dir, "--quiet"])
    assert rc == 0 and err == ""
    rows = [json.loads(x) for x in out.splitlines()]
    assert len(rows) == 1 and rows[0]["discharge_place"] == "KPCHO" and rows[0]["capacity_source"] == "ais_dimensions"
    # evidence and reasons are JSON values, times ISO 8601 UTC with Z, as in `events --format jsonl`
    assert isinstance(rows[0]["evidence"], list) and isinstance(rows[0]["reasons"], list)
    assert rows[0]["load_start"].endswith("Z") and "T" in rows[0]["load_start"]
    v = tmp_path / "vessels.csv"
    v.write_text("imo,dwt\n8691702,4000\n,12\n")
    rc, out, err = run_cli(*["cases", "--store", store_dir, "--format", "csv", "--vessels", str(v)])
    assert rc == 0
    df = pl.read_csv(out.encode())
    assert df["capacity_source"][0] == "user" and df["tonnes_central"][0] == pytest.approx(4000 * 0.85)
    assert "1 no imo or mmsi" in err


def test_cap_table_and_json(store_dir):
    run_cli(*["cases", "--store", store_dir, "-q"])
    rc, out, _ = run_cli(*["cap", "--store", store_dir, "--year", "2024", "--format", "json"])
    led = json.loads(out)
    assert rc == 0 and len(led) == 12 and led[2]["month"] == "2024-03" and led[2]["cases"] == 1
    assert led[0]["reported"] == 15279
    rc, out, _ = run_cli(*["cap", "--store", store_dir, "--year", "2024"])
    assert rc == 0 and "2024-03" in out and "cap crossed (central estimate): not crossed" in out


def test_report_command_writes_html(store_dir, tmp_path):
    run_cli(*["cases", "--store", store_dir, "-q"])
    out = tmp_path / "r.html"
    rc, _, err = run_cli(*["report", "--store", store_dir, "--out", str(out), "--period", "2024-03"])
    assert rc == 0 and out.read_text().startswith("<!DOCTYPE html>") and "report written" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["cases", "--store", "/nonexistent/store"], "store not found"),
        (["cases", "--store", "{store}", "--format", "xml"], "'xml' is not one of 'jsonl', 'csv'"),
        (["cases", "--store", "{store}", "--vessels", "/nonexistent.csv"], "vessel table not found"),
        (["cap", "--store", "{store}", "--year", "2024"], "no cases in the store"),
        (["cap", "--store", "{store}", "--year", "2024", "--format", "xml"], "'xml' is not one of 'table', 'json'"),
        (["report", "--store", "{store}", "--out", "{tmp}/r.html"], "no cases in the store"),
    ],
)
def test_user_errors_are_one_line(argv, message, store_dir, tmp_path):
    argv = [a.format(store=store_dir, tmp=tmp_path) for a in argv]
    rc, out, err = run_cli(*argv)
    assert rc == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err
