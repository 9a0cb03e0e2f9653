"""`shadowfleet simulate` writes the four files and reports bad options on one line."""

from __future__ import annotations

from clirunner import run_cli




def test_simulate_writes_the_four_files(tmp_path):
    r = run_cli("simulate", "--scenario", "baseline", "--out", str(tmp_path), "--days", "1", "--vessels", "5",
             "--seed", "3")
    assert r.returncode == 0, r.stderr
    for f in ("ais.nmea", "places.geojson", "truth.json", "imagery.json"):
        assert (tmp_path / f).stat().st_size > 0
    assert "ais.nmea" in r.stdout


def test_unknown_scenario_and_bad_values_are_one_line_errors(tmp_path):
    for args in (["--scenario", "nope"], ["--days", "0"], ["--start", "yesterday"], ["--vessels", "-3"]):
        r = run_cli("simulate", "--out", str(tmp_path), "-q", *args)
        assert r.returncode == 1
        assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr


def test_config_overrides_are_applied_and_bad_ones_rejected(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[sim]\nunderway_interval_s = 120\ntanker_speed_kn = [8, 9]\n")
    r = run_cli("simulate", "--out", str(tmp_path / "o"), "--days", "1", "--vessels", "2", "-q", "--config", str(good))
    assert r.returncode == 0, r.stderr
    import json

    params = json.loads((tmp_path / "o" / "truth.json").read_text())["params"]
    assert params["underway_interval_s"] == 120 and params["tanker_speed_kn"] == [8, 9]
    for body in ("underway_interval_s = 'fast'", "load_factor = [0.9, 0.8]", "corrupt_share = 2",
                 "no_such_setting = 1", "moored_interval_s = 0"):
        bad = tmp_path / "bad.toml"
        bad.write_text(f"[sim]\n{body}\n")
        r = run_cli("simulate", "--out", str(tmp_path / "o"), "--days", "1", "-q", "--config", str(bad))
        assert r.returncode == 1 and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, (body, r.stderr)
