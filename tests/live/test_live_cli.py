"""`shadowfleet live` / `replay` mistakes a user can make: one `error:` line, exit 1, nothing started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def sf(*args: str) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != "SHADOWFLEET_WEBHOOK_SECRET"}
    e["PYTHONPATH"] = str(SRC)
    return subprocess.run([sys.executable, "-m", "shadowfleet", *args], capture_output=True, text=True, timeout=120,
                          env=e)


@pytest.mark.parametrize("args, message", [
    (["--source", "gopher://x:1"], "--source 'gopher://x:1': expected one of"),
    (["--source", "tcp://127.0.0.1:9", "--webhook", "http://127.0.0.1:9/"], "needs the signing secret"),
    (["--source", "tcp://127.0.0.1:9", "--rules", "missing.toml"], "rules file not found"),
    (["--source", "tcp://127.0.0.1:9", "--source", "tcp://127.0.0.1:9"], "the same --source is given twice"),
])
def test_live_refuses_bad_options_with_one_line(tmp_path, args, message):
    r = sf("live", "--store", str(tmp_path / "s"), *args)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and r.stderr.startswith("error: ")
    assert message in r.stderr


def test_a_bad_live_setting_is_one_line(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[live]\nwatchdog_s = 0\n")
    r = sf("live", "--store", str(tmp_path / "s"), "--source", "tcp://127.0.0.1:9", "--config", str(cfg))
    assert r.returncode == 1 and r.stderr.startswith("error: [live] watchdog_s must be > 0")


def test_replay_refuses_an_address_off_this_machine(tmp_path):
    f = tmp_path / "a.nmea"
    f.write_text("!AIVDM,1,1,,A,x,0*00\n")
    r = sf("replay", str(f), "--to", "tcp://10.0.0.1:5631")
    assert r.returncode == 1 and "this machine only" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = sf("replay", str(tmp_path / "missing.nmea"), "--to", "tcp://127.0.0.1:5631")
    assert r.returncode == 1 and "file not found" in r.stderr
