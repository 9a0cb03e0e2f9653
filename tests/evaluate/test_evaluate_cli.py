"""The `shadowfleet evaluate` command: table on stdout, JSON report on request, one-line errors."""

from __future__ import annotations

import json

from test_evaluate_scoring import TANKER, make_store, make_truth, stored_event, truth_event
from clirunner import run_cli




def test_evaluate_prints_a_table_and_writes_the_json_report(tmp_path):
    truth = tmp_path / "sim" / "truth.json"
    truth.parent.mkdir()
    truth.write_text(json.dumps(make_truth([truth_event("t1", "ais_gap", TANKER, 0, 10), truth_event("t2", "ais_gap", TANKER, 40, 50)])))
    make_store(tmp_path, [stored_event("ais_gap", TANKER, 0, 10)])
    report = tmp_path / "eval.json"
    r = run_cli("evaluate", "--truth", str(truth), "--store", str(tmp_path / "store"), "--out", str(report))
    assert r.returncode == 0, r.stderr
    assert "ais_gap" in r.stdout and "50.0" in r.stdout  # recall 1 of 2
    d = json.loads(report.read_text())
    assert d["types"]["ais_gap"]["tp"] == 1 and d["types"]["ais_gap"]["missed"][0]["id"] == "t2"
    q = run_cli("evaluate", "--truth", str(truth), "--store", str(tmp_path / "store"), "--quiet")
    assert q.returncode == 0 and q.stdout == ""


def test_evaluate_errors_are_one_line(tmp_path):
    make_store(tmp_path, [])
    r = run_cli("evaluate", "--truth", str(tmp_path / "missing.json"), "--store", str(tmp_path / "store"))
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0 and "truth file not found" in r.stderr
    cfg = tmp_path / "c.toml"
    cfg.write_text("[evaluate]\nno_such_tolerance = 3\n")
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(make_truth([])))
    r = run_cli("evaluate", "--truth", str(truth), "--store", str(tmp_path / "store"), "--config", str(cfg))
    assert r.returncode == 1 and "unknown setting(s) in [evaluate]: no_such_tolerance" in r.stderr
