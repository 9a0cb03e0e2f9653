"""Incremental, idempotent and atomic ingest — including an ingest killed with SIGKILL half-way."""

from __future__ import annotations

import gzip
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from ingestkit import position, tagged

from shadowfleet.cli import main
from shadowfleet.ingest import ingest
from shadowfleet.store import Store
from tests.conftest import ROOT, shared_file

T0 = 1709812800


def _snapshot(store: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(store)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in store.rglob("*.parquet")}


def test_ingesting_the_same_file_twice_changes_nothing(tmp_path):
    path = shared_file("ais/dma_aislib_stream_example_20100611.txt")
    first = ingest(path, tmp_path / "store").files[0]
    before = _snapshot(tmp_path / "store")
    second = ingest(path, tmp_path / "store").files[0]
    assert not first.skipped_already_ingested and second.skipped_already_ingested
    assert second.n_accepted == 0 and second.sha256 == first.sha256
    assert _snapshot(tmp_path / "store") == before
    assert Store(tmp_path / "store").ingest_log().height == 1


def test_new_files_append_to_the_store(tmp_path):
    a, b = tmp_path / "a.nmea", tmp_path / "b.nmea"
    a.write_text(tagged(position(mmsi=273000001), T0) + "\n")
    b.write_text(tagged(position(mmsi=273000002), T0 + 86400) + "\n")
    ingest(a, tmp_path / "store")
    ingest(b, tmp_path / "store")
    st = Store(tmp_path / "store")
    assert st.read("positions")["mmsi"].to_list() == [273000001, 273000002]
    assert sorted(p.parent.name for p in st.files("positions")) == ["day=2024-03-07", "day=2024-03-08"]
    assert st.ingest_log()["accepted"].to_list() == [1, 1]


def _big_file(tmp_path: Path) -> Path:
    """The real DMA sample three times, each copy a day later (distinct reports, ~240k lines)."""
    with gzip.open(shared_file("ais/dma_aisabnormal_ais-sample_20131112.txt.gz"), "rt") as fh:
        text = fh.read()
    copies = [text] + [text.replace(",2013,11,12,", f",2013,11,{12 + k},") for k in (1, 2)]
    path = tmp_path / "big.nmea"
    path.write_text("".join(copies))
    return path


def _frame(st: Store, table: str) -> pl.DataFrame:
    df = st.read(table)
    return df.sort(df.columns)


def test_killed_ingest_leaves_no_partial_file_and_a_rerun_equals_a_clean_ingest(tmp_path):
    big = _big_file(tmp_path)
    store = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "shadowfleet", "ingest", str(big), "--store", str(store), "--quiet",
         "--batch-lines", "10000"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((store / "positions").glob("day=*/*.parquet"))) >= 3:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "ingest finished before it could be killed: " + proc.stderr.read().decode()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    assert list(store.rglob("*.parquet"))  # the killed run had written batches
    st = Store(store)  # opening removes what the dead writer left
    sha = hashlib.sha256(big.read_bytes()).hexdigest()
    assert not st.ingested(sha)  # logged only with the last batch
    assert st.read("positions").height == 0  # nothing of an uncommitted file is visible
    assert not [p for p in store.rglob("*") if p.is_file() and p.parent.name.startswith("day=")]

    # re-run with another batch size
    rep = ingest(big, store, batch_lines=50_000).files[0]
    clean = tmp_path / "clean"
    clean_rep = ingest(big, clean).files[0]
    assert rep.accepted == clean_rep.accepted and rep.rejected == clean_rep.rejected
    assert rep.accepted["positions"] == 3 * 24658
    for table in ("positions", "static", "base_stations", "aids"):
        assert _frame(Store(store), table).equals(_frame(Store(clean), table)), table
    assert Store(store).scan("rejects").collect().height == Store(clean).scan("rejects").collect().height
    assert Store(store).ingested(sha)


def test_cli_ingest_prints_a_summary_and_errors_in_one_line(tmp_path, capsys):
    path = tmp_path / "feed.nmea"
    path.write_text(tagged(position(), T0) + "\n" + "garbage\n")
    with pytest.raises(SystemExit) as exc:
        main(["ingest", str(path), "--store", str(tmp_path / "store")])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "feed.nmea" in out and "malformed 1" in out
    with pytest.raises(SystemExit) as exc:
        main(["ingest", str(path), "--store", str(tmp_path / "store"), "--format", "xml"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
    plain = tmp_path / "plain.nmea"
    plain.write_text(position() + "\n")
    with pytest.raises(SystemExit) as exc:
        main(["ingest", str(plain), "--store", str(tmp_path / "store"), "--quiet"])
    assert exc.value.code == 1 and "--time-from" in capsys.readouterr().err
