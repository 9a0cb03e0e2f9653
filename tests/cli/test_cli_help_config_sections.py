"""Every --config help names the TOML section it reads (square brackets are rich markup and vanish unescaped)."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "command, section",
    [("cases", "[cases]"), ("detect", "[events."), ("evaluate", "[evaluate]"), ("screen", "[sanctions.screening]"),
     ("simulate", "[sim]"), ("ingest", "[ingest]")],
)
def test_config_help_names_its_toml_section(command, section):
    r = subprocess.run([sys.executable, "-m", "shadowfleet", command, "--help"], capture_output=True, text=True,
                       env={"COLUMNS": "200", "PATH": ""}, timeout=120)
    assert r.returncode == 0
    assert section in r.stdout
