"""Every --config help names the TOML section it reads (square brackets are rich markup and vanish unescaped)."""

import pytest

from clirunner import run_cli


@pytest.mark.parametrize(
    "command, section",
    [("cases", "[cases]"), ("detect", "[events."), ("evaluate", "[evaluate]"), ("screen", "[sanctions.screening]"),
     ("simulate", "[sim]"), ("ingest", "[ingest]")],
)
def test_config_help_names_its_toml_section(command, section):
    r = run_cli(command, "--help", columns=200)
    assert r.returncode == 0
    assert section in r.stdout
