"""`demo --out DIR` replaces only what a demo created there: a user's own store, simulation or report in DIR
stops it with one error line before anything is written."""

from __future__ import annotations

import pytest

from clirunner import run_cli


@pytest.mark.parametrize("name", ["store", "sim", "report.html"])
def test_demo_refuses_to_replace_what_it_did_not_create(tmp_path, name):
    mine = tmp_path / name
    if name.endswith(".html"):
        mine.write_text("my report")
    else:
        mine.mkdir()
        (mine / "notes.txt").write_text("my notes")
    err = run_cli("demo", "--out", tmp_path, "--days", "1", "--vessels", "5", cwd=tmp_path).error_line
    assert "not made by `shadowfleet demo`" in err and name in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written, nothing deleted
    assert (mine.read_text() if mine.is_file() else (mine / "notes.txt").read_text()).startswith("my")


def test_demo_out_dot_leaves_a_users_store_alone(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "positions.parquet").write_bytes(b"the user's data")
    err = run_cli("demo", "--out", ".", cwd=tmp_path).error_line
    assert "store" in err and (tmp_path / "store" / "positions.parquet").read_bytes() == b"the user's data"


@pytest.mark.slow
def test_demo_runs_again_over_its_own_output(tmp_path):
    for _ in range(2):
        r = run_cli("demo", "--out", tmp_path / "d", "--days", "2", "--vessels", "8", "-q")
        assert r.code == 0, r.err
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [".shadowfleet-demo", "report.html", "sim", "store"]
