"""[imagery.match] in a TOML file changes how detections are tied to AIS; unknown keys and bad values are one
error line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery import load_config
from shadowfleet.imagery.match import match
from tests.imagery.test_match import LAT, LON, _at, _store

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "shadowfleet", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})


def _ship_300m_from_its_report(tmp_path):
    # a report at the acquisition time, the detection 300 m north: outside GFW's 200 m base gate
    lat, lon = _at(m_north=300)
    return _store(tmp_path, [(lat, lon, 120.0)], {273000001: [(0.0, LAT, LON, 0.0, 0.0)]}, {273000001: 120.0})


def test_a_wider_base_gate_from_toml_matches_a_detection_the_default_leaves_dark(tmp_path):
    st = _ship_300m_from_its_report(tmp_path)
    m, _ = match(st)
    assert m["mmsi"].to_list() == [None]
    cfg = tmp_path / "m.toml"
    cfg.write_text("[imagery.match]\nbase_m = 400\n")
    m, ev = match(st, config=cfg)
    assert m["mmsi"].to_list() == [273000001] and m["gate_m"][0] == 400.0
    assert "dark_detection" not in ev["type"].to_list()


def test_the_match_command_reads_imagery_match_from_its_config(tmp_path):
    _ship_300m_from_its_report(tmp_path)
    cfg = tmp_path / "m.toml"
    cfg.write_text("[imagery.match]\nbase_m = 400.0\n")
    r = _cli("imagery", "match", "--store", tmp_path / "st", "--config", cfg)
    assert r.returncode == 0, r.stderr
    assert "1 matched to AIS, 0 dark" in r.stdout + r.stderr


@pytest.mark.parametrize("body, says", [
    ("base_mm = 400", "base_mm"),
    ("base_m = 'wide'", "base_m must be a number"),
    ("m_per_minute = -1", "must not be negative"),
    ("length_ratio_min = 3.0", "length_ratio_min"),
    ("length_ratio_max = 0.5", "length_ratio_max"),
    ("expected_recall = 1.5", "expected_recall"),
])
def test_unknown_keys_and_bad_values_in_imagery_match_are_one_error_line(tmp_path, body, says):
    cfg = tmp_path / "m.toml"
    cfg.write_text(f"[imagery.match]\n{body}\n")
    with pytest.raises(ShadowfleetError, match=says):
        load_config(cfg)
    (tmp_path / "st").mkdir()
    r = _cli("imagery", "match", "--store", tmp_path / "st", "--config", cfg)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("error: ") and says in r.stderr
