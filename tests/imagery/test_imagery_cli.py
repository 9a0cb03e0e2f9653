"""`shadowfleet imagery detect|detections|evaluate` end to end on real tiles and on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.shared_data import shared_file

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run([sys.executable, "-m", "shadowfleet", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})


@pytest.mark.slow
def test_real_galveston_tiles_meet_the_precision_and_recall_targets(tmp_path):
    tiles = sorted(shared_file("imagery/sentinel2/houston_20190409").glob("*.tif"))
    labels = shared_file("imagery/sentinel2/houston_20190409_labels.csv")
    r = run("imagery", "detect", *tiles, "--store", tmp_path / "st", "-q")
    assert r.returncode == 0, r.stderr
    r = run("imagery", "evaluate", "--truth", labels, "--store", tmp_path / "st", "--format", "json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["overall"]["precision"] >= 0.85 and s["overall"]["recall"] >= 0.80
    # every miss and false detection comes with a reason
    assert all(m["reason"] for m in s["misses"]) and all(f["reason"] for f in s["false_detections"])
    assert len(s["misses"]) == s["overall"]["fn"] and len(s["false_detections"]) == s["overall"]["fp"]
    text = run("imagery", "evaluate", "--truth", labels, "--store", tmp_path / "st").stdout
    assert "close to shore" in text and "miss " in text and "open >=50m" in text


def test_a_bad_scene_is_one_error_line_and_the_others_go_through(tmp_path):
    good = shared_file("imagery/sentinel2/houston_20190409/T15RUN_20190409T164849_1005.tif")
    bad = tmp_path / "broken_20240101T000000.tif"
    bad.write_bytes(b"not a tiff at all")
    r = run("imagery", "detect", bad, good, tmp_path / "missing.tif", "--store", tmp_path / "st")
    assert r.returncode == 1
    errs = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errs) == 2 and "broken_" in errs[0] and "missing.tif" in errs[1]
    assert "1 scene(s)" in r.stderr
    assert "Traceback" not in r.stderr
    out = run("imagery", "detections", "--store", tmp_path / "st", "--format", "geojson")
    doc = json.loads(out.stdout)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) >= 5


def test_csv_export_defuses_formula_looking_scene_names(tmp_path):
    import shutil

    src = shared_file("imagery/sentinel2/houston_20190409/T15RUN_20190409T164849_1005.tif")
    evil = tmp_path / "=HYPERLINK(1)_20190409T164849.tif"
    shutil.copy(src, evil)
    assert run("imagery", "detect", evil, "--store", tmp_path / "st", "-q").returncode == 0
    out = run("imagery", "detections", "--store", tmp_path / "st", "--format", "csv").stdout.splitlines()
    assert len(out) > 1 and all(ln.split(",")[1].startswith("'=") for ln in out[1:])


def test_detections_before_any_detect_is_one_error_line(tmp_path):
    (tmp_path / "st").mkdir()
    r = run("imagery", "detections", "--store", tmp_path / "st")
    assert r.returncode == 1 and r.stderr.startswith("error: ") and len(r.stderr.splitlines()) == 1


def test_unknown_config_key_is_one_error_line(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[imagery.sar]\nk_sigmaa = 3\n")
    good = shared_file("imagery/sentinel2/houston_20190409/T15RUN_20190409T164849_1005.tif")
    r = run("imagery", "detect", good, "--store", tmp_path / "st", "--config", cfg)
    assert r.returncode == 1 and "k_sigmaa" in r.stderr and "Traceback" not in r.stderr
