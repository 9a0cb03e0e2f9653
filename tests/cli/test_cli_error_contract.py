"""Errors a user can cause print one line starting "error:" on stderr, exit 1, and never a traceback.

Run in-process through the CLI's entry point (tests/clirunner.py), as a user would meet them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
from registry_store import TANKER, build_store  # noqa: E402

from clirunner import assert_one_line_error, run_cli as run  # noqa: E402


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "store"
    build_store(root)
    return root


def _commands() -> list[list[str]]:
    """Every leaf command registered in the CLI, as argv prefixes (e.g. ["lists", "load"])."""
    import shadowfleet.cli as cli

    cli._register()
    found = [[c.name or c.callback.__name__] for c in cli.app.registered_commands]
    for g in cli.app.registered_groups:
        found += [[g.name, c.name or c.callback.__name__] for c in g.typer_instance.registered_commands]
    return found


def test_missing_store_directory(tmp_path):
    assert_one_line_error(run("vessels", "--store", str(tmp_path / "nope")), "store not found")


def test_store_path_that_is_a_file_or_not_a_store(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert_one_line_error(run("stats", "--store", str(f)), "not a directory")
    assert_one_line_error(run("stats", "--store", str(tmp_path)), "not a shadowfleet store")


def test_unknown_format(store_dir):
    assert_one_line_error(run("track", str(TANKER), "--store", str(store_dir), "--format", "shp"), "shp")
    assert_one_line_error(run("vessels", "--store", str(store_dir), "--format", "xlsx"), "xlsx")
    assert_one_line_error(run("stats", "--store", str(store_dir), "--format", "csv"), "csv")


@pytest.mark.parametrize("argv", [["vessels", "--bogus"], ["frobnicate"], ["track", "--store"], ["vessel", "--store", "x"]])
def test_bad_option_unknown_command_or_missing_value(argv):
    assert_one_line_error(run(*argv))


@pytest.mark.parametrize("mmsi", ["12x", "1234567890", "0", "445 000 001"])
def test_bad_mmsi(store_dir, mmsi):
    assert_one_line_error(run("vessel", mmsi, "--store", str(store_dir)), "mmsi")
    assert_one_line_error(run("track", mmsi, "--store", str(store_dir)), "mmsi")


def test_negative_mmsi_reads_as_an_option_and_still_fails_cleanly(store_dir):
    assert_one_line_error(run("vessel", "-445000001", "--store", str(store_dir)), "no such option")


def test_mmsi_absent_from_store(store_dir):
    assert_one_line_error(run("vessel", "445999999", "--store", str(store_dir)), "445999999", "no reports")


def test_bad_times_and_flag(store_dir):
    s = str(store_dir)
    assert_one_line_error(run("track", str(TANKER), "--store", s, "--start", "yesterday"), "--start")
    assert_one_line_error(run("track", str(TANKER), "--store", s, "--start", "2024-03-08", "--end", "2024-03-07"),
                          "before")
    assert_one_line_error(run("vessels", "--store", s, "--flag", "Korea"), "--flag")


def test_output_file_in_missing_directory(store_dir, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "track.csv"
    assert_one_line_error(run("track", str(TANKER), "--store", str(store_dir), "--out", str(target)), "--out")
    assert not target.exists()


def test_no_arguments_prints_help_without_an_empty_error_line():
    for argv in ([], ["lists"]):
        r = run(*argv)
        assert r.returncode == 0 and r.stderr == "" and "Usage" in r.stdout, (argv, r.stderr)


def test_ingest_unknown_format(tmp_path, shared_data):
    if ["ingest"] not in _commands():
        pytest.skip("ingest not registered yet")
    f = shared_data / "ais/gpsd_ais-nmea.log"
    assert_one_line_error(run("ingest", str(f), "--store", str(tmp_path / "s"), "--format", "kml"), "kml")


@pytest.mark.parametrize(
    "argv",
    [
        ["ingest", "{missing}", "--store", "{store}"],
        ["lists", "load", "{missing}", "--store", "{store}"],
        ["evaluate", "--truth", "{missing}", "--store", "{store}"],
    ],
)
def test_missing_input_file_in_other_stages_commands(argv, tmp_path, store_dir):
    # the one-line contract holds for the whole CLI; these commands belong to other stages
    if argv[:2] not in _commands() and argv[:1] not in _commands():
        pytest.skip(f"command {argv[0]} not registered yet")
    missing = str(tmp_path / "no_such_input.file")
    args = [a.format(missing=missing, store=store_dir) for a in argv]
    err = assert_one_line_error(run(*args))
    assert "no_such_input.file" in err or "not found" in err.lower() or "no such" in err.lower()


def test_every_command_has_help_and_rejects_unknown_options():
    commands = _commands()
    assert ["vessels"] in commands and ["track"] in commands
    for argv in [[*c, "--help"] for c in commands] + [[*c, "--definitely-not-an-option"] for c in commands]:
        r = run(*argv)
        assert "Traceback" not in r.err + r.out, argv
        if argv[-1] == "--help":
            assert r.code == 0 and "--help" in r.out, argv
        else:
            r.error_line
