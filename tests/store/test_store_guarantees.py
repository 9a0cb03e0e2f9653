"""What the store promises under concurrent use and crashes, tried with real processes: several writers at
once, readers during writes, and writers killed before each step of a commit."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import polars as pl
import pytest
from tests.ingest.ingestkit import position, tagged

from shadowfleet.errors import ShadowfleetError
from shadowfleet.ingest import ingest
from shadowfleet.store import Store
from tests.conftest import ROOT
from tests.store import crashkit

T0 = 1709812800
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
_SENTENCES = [position(mmsi=273000000 + i, lat=42.0 + i / 1000) for i in range(50)]


def _ais(path: Path, vessels: int, minutes: int, offset_s: int = 0) -> Path:
    """``vessels`` distinct reports a minute for ``minutes`` minutes: every line a report of its own."""
    lines = [tagged(_SENTENCES[v], T0 + offset_s + 60 * m) for m in range(minutes) for v in range(vessels)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _cli(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "shadowfleet", *map(str, args)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(procs: list[subprocess.Popen]) -> list[tuple[int, str]]:
    return [(p.wait(300), p.communicate()[1]) for p in procs]


def _consistent(root: Path) -> Store:
    """Open the store (which cleans what dead writers left) and check that nothing is left to clean by hand:
    every file on disk is committed or waiting in the trash, and every committed file is there."""
    st = Store(root)
    listed = {p for parts in st._read_catalog()["parts"].values() for p, _ in parts}
    with sqlite3.connect(root / "catalog.sqlite") as con:
        trash = {p for (p,) in con.execute("SELECT path FROM trash")}
    on_disk = {f.relative_to(root).as_posix() for f in root.rglob("*") if f.is_file()
               and not f.name.startswith("catalog.sqlite") and f.parent.name != ".writers"}
    assert on_disk - listed - trash == set(), "left behind"
    assert listed <= on_disk, "committed but missing"
    return st


# ---- several writers at once --------------------------------------------------------------------------------
def test_concurrent_ingests_store_every_file_exactly_once(tmp_path):
    a = _ais(tmp_path / "a.nmea", 50, 60)
    b = _ais(tmp_path / "b.nmea", 50, 60, offset_s=86400)
    a_gz = tmp_path / "a-again.nmea.gz"
    a_gz.write_bytes(gzip.compress(a.read_bytes()))
    store = tmp_path / "store"
    runs = _finish([_cli("ingest", f, "--store", store, "--quiet", "--batch-lines", "500") for f in (a, b, a_gz, b)])
    assert [code for code, _ in runs] == [0, 0, 0, 0], runs
    st = _consistent(store)
    assert st.ingest_log().height == 2
    assert st.read("positions", dedupe=False).height == 2 * 50 * 60  # nothing lost, nothing twice
    assert st.read("positions")["n_receivers"].max() == 1


def test_three_lists_loads_at_once_each_catalogued_with_its_entries(tmp_path):
    store = tmp_path / "store"
    Store(store)
    procs = []
    for i, n in enumerate((3, 5, 7)):
        f = tmp_path / f"list{i}.csv"
        f.write_text("".join(f'{100 * i + j},"SHIP {i}-{j}","vessel","DPRK",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
                             for j in range(n)))
        procs.append(_cli("lists", "load", f, "--store", store, "--kind", "ofac-sdn", "--date", "2024-01-01",
                          "--name", f"L{i}", "--quiet"))
    assert [code for code, _ in _finish(procs)] == [0, 0, 0]
    from shadowfleet.sanctions import list_entries, loaded_lists

    st = _consistent(store)
    lists = loaded_lists(st)
    assert sorted(lists["list_id"]) == ["L0@2024-01-01", "L1@2024-01-01", "L2@2024-01-01"]
    counts = dict(list_entries(st).group_by("list_id").len().iter_rows())
    assert counts == dict(zip(lists["list_id"], lists["entries"])) == {
        "L0@2024-01-01": 3, "L1@2024-01-01": 5, "L2@2024-01-01": 7}


# ---- readers during writes ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_readers_see_whole_versions_while_a_writer_replaces_and_an_ingest_commits(tmp_path):
    store = tmp_path / "store"
    Store(store).replace("events", crashkit.events_version(3))
    big = _ais(tmp_path / "big.nmea", 50, 400)
    writer = crashkit.start_flipping(store)
    ingesting = _cli("ingest", big, "--store", store, "--quiet", "--batch-lines", "2000")
    seen_events, seen_positions = set(), set()
    st = Store(store)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        seen_events.add(st.read("events").height)
        seen_events.add(st.sql("SELECT count(*) AS n FROM events")["n"][0])
        seen_positions.add(st.scan("positions").select(pl.len()).collect().item())
        if ingesting.poll() is not None and len(seen_events) >= 2:
            break
    writer.stop.set()
    writer.join(60)
    assert writer.exitcode == 0 and ingesting.wait() == 0, ingesting.stderr.read()
    assert seen_events <= {3, 5} and len(seen_events) == 2
    seen_positions.add(st.scan("positions").select(pl.len()).collect().item())
    assert seen_positions <= {0, 50 * 400} and 50 * 400 in seen_positions  # the file appears whole or not at all


def test_a_snapshot_does_not_move_while_others_commit(tmp_path):
    st = Store(tmp_path / "s")
    st.append("positions", pl.DataFrame({"mmsi": [1], "ts": [dt.datetime(2024, 3, 7, tzinfo=dt.timezone.utc)],
                                          "dup_key": [1]}))
    snap = st.snapshot()
    with st.transaction() as tx:
        tx.append("positions", pl.DataFrame({"mmsi": [2], "ts": [dt.datetime(2024, 3, 8, tzinfo=dt.timezone.utc)],
                                             "dup_key": [2]}))
        tx.append("static", pl.DataFrame({"mmsi": [2], "ts": [dt.datetime(2024, 3, 8, tzinfo=dt.timezone.utc)]}))
    assert snap.read("positions").height == 1 and snap.read("static").height == 0
    assert snap.sql("SELECT count(*) AS n FROM positions")["n"][0] == 1
    assert st.read("positions").height == 2 and st.read("static").height == 1


def test_an_open_notebook_connection_does_not_make_an_ingest_fail(tmp_path):
    store = tmp_path / "store"
    ingest(_ais(tmp_path / "a.nmea", 5, 5), store)
    notebook = Store(store).connect()  # a DuckDB connection left open
    reader = sqlite3.connect(store / "catalog.sqlite")  # and a read transaction on the catalog itself
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM parts").fetchone()
    code, err = _finish([_cli("ingest", _ais(tmp_path / "b.nmea", 5, 5, 86400), "--store", store, "--quiet")])[0]
    assert code == 0, err
    assert notebook.execute("SELECT count(*) FROM positions").fetchone()[0] == 25  # its own snapshot
    reader.rollback()
    assert Store(store).ingest_log().height == 2 and Store(store).read("positions").height == 50


def test_a_writer_kept_waiting_says_so_in_one_line_then_commits(tmp_path):
    store = tmp_path / "store"
    Store(store)
    holder = sqlite3.connect(store / "catalog.sqlite", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another committer, slow to finish
    proc = _cli("ingest", _ais(tmp_path / "a.nmea", 5, 5), "--store", store, "--quiet")
    safety = threading.Timer(120.0, lambda: holder.execute("COMMIT"))
    safety.start()
    first = proc.stderr.readline()  # the ingest is now waiting for the catalog
    safety.cancel()
    if holder.in_transaction:
        holder.execute("COMMIT")
    code, rest = _finish([proc])[0]
    assert code == 0, first + rest
    assert first.strip() == f"waiting: another process is committing to store {store}" and not rest.strip()
    assert Store(store).read("positions").height == 25


# ---- kills before every step --------------------------------------------------------------------------------
def _kill_at_every_step(tmp_path: Path, op: str, prepare, check, arg: str = "", sample: bool = False) -> int:
    """Kill ``op`` before each of its steps (``sample``: a dozen spread over its writing, and each of the last
    ten, which are its commit), checking what a reader then finds, and that running it again completes."""
    base = tmp_path / "base"
    prepare(base)
    probe = tmp_path / "probe"
    shutil.copytree(base, probe)
    n = crashkit.steps(op, probe, arg)
    check(_consistent(probe), done=True)
    points = range(1, n + 1)
    if sample:
        points = sorted(set(range(1, n + 1, max(1, n // 12))) | set(range(max(1, n - 9), n + 1)))
    for k in points:
        root = tmp_path / f"killed-{k}"
        shutil.copytree(base, root)
        assert crashkit.killed_at(op, root, k, arg) == -9, k
        check(_consistent(root), done=None)
        assert crashkit.steps(op, root, arg) > 0  # and the same operation run again completes
        check(_consistent(root), done=True)
        shutil.rmtree(root)
    return n


@pytest.mark.slow
def test_a_replace_killed_before_any_step_leaves_the_old_or_the_new_tables(tmp_path):
    def prepare(root):
        with Store(root).transaction() as tx:
            tx.replace("events", crashkit.events_version(3))
            tx.replace("segments", pl.DataFrame({"mmsi": [3] * 3}))

    def check(st, done):
        got = (st.read("events").height, st.read("segments").height)
        assert got == (5, 5) if done else got in {(3, 3), (5, 5)}, got

    assert _kill_at_every_step(tmp_path, "replace", prepare, check) >= 8


@pytest.mark.slow
def test_a_lists_load_killed_before_any_step_keeps_catalog_and_entries_in_agreement(tmp_path):
    from shadowfleet.sanctions import list_entries, save_list

    def prepare(root):
        save_list(Store(root), crashkit.list_version("A@2024-01-01", 3))

    def check(st, done):
        counts = dict(list_entries(st).group_by("list_id").len().iter_rows())
        cat = dict(st.lists().select("list_id", "entries").iter_rows())
        assert counts == cat
        assert cat == {"A@2024-01-01": 2, "B@2024-02-01": 4} if done else cat in (
            {"A@2024-01-01": 3}, {"A@2024-01-01": 2, "B@2024-02-01": 4})

    _kill_at_every_step(tmp_path, "lists", prepare, check)


@pytest.mark.slow
def test_an_ingest_killed_anywhere_is_all_or_nothing(tmp_path):
    f = _ais(tmp_path / "a.nmea", 20, 10)

    def check(st, done):
        rows, logged = st.read("positions", dedupe=False).height, st.ingest_log().height
        assert (rows, logged) == (200, 1) if done else (rows, logged) in {(0, 0), (200, 1)}

    _kill_at_every_step(tmp_path, "ingest", lambda root: Store(root), check, arg=str(f), sample=True)


# ---- identity of a file, paths and SQL -----------------------------------------------------------------------
@pytest.mark.parametrize("pack", ["gz", "bz2", "zip"])
def test_a_file_ingested_again_compressed_is_recognised(tmp_path, pack):
    plain = _ais(tmp_path / "feed.nmea", 10, 3)
    packed = tmp_path / f"feed.nmea.{pack}"
    if pack == "gz":
        packed.write_bytes(gzip.compress(plain.read_bytes()))
    elif pack == "bz2":
        packed.write_bytes(bz2.compress(plain.read_bytes()))
    else:
        with zipfile.ZipFile(packed, "w") as z:
            z.write(plain, "feed.nmea")
    store = tmp_path / "store"
    assert not ingest(plain, store).files[0].skipped_already_ingested
    again = ingest(packed, store).files[0]
    assert again.skipped_already_ingested
    st = Store(store)
    assert st.read("positions").height == 30 and st.read("positions")["n_receivers"].max() == 1


def test_a_store_path_with_a_quote_works_in_sql(tmp_path):
    store = tmp_path / "it's the store"
    ingest(_ais(tmp_path / "a.nmea", 5, 2), store)
    assert Store(store).sql("SELECT count(*) AS n FROM positions")["n"][0] == 10


def test_a_file_name_with_sql_in_a_received_catalog_is_never_run(tmp_path, monkeypatch):
    store = tmp_path / "store"
    ingest(_ais(tmp_path / "a.nmea", 5, 2), store)
    evil = "positions/x'], union_by_name=true); COPY (SELECT 1) TO 'pwned.csv'; --.parquet"
    with sqlite3.connect(store / "catalog.sqlite") as con:
        con.execute("INSERT INTO parts VALUES (?, 'positions', 'unknown', NULL, 1, '')", [evil])
    monkeypatch.chdir(tmp_path)
    with pytest.raises((ShadowfleetError, Exception)) as exc:
        Store(store).sql("SELECT count(*) FROM positions")
    assert "Traceback" not in str(exc.value)
    assert not (tmp_path / "pwned.csv").exists()


def test_a_catalog_naming_a_file_outside_the_store_is_refused(tmp_path):
    store = tmp_path / "store"
    Store(store)
    (tmp_path / "secret.parquet").write_bytes(b"x")
    with sqlite3.connect(store / "catalog.sqlite") as con:
        con.execute("INSERT INTO parts VALUES ('../secret.parquet', 'events', NULL, NULL, 1, '')")
    with pytest.raises(ShadowfleetError, match="outside the store"):
        Store(store).read("events")


def test_a_damaged_catalog_is_named_for_what_it_is(tmp_path):
    store = tmp_path / "store"
    Store(store)
    for f in store.glob("catalog.sqlite*"):
        f.unlink()
    (store / "catalog.sqlite").write_bytes(b"not a database at all " * 100)
    with pytest.raises(ShadowfleetError, match="damaged or was overwritten"):
        Store(store)


def test_old_files_a_replace_dropped_are_deleted_after_the_retention(tmp_path):
    st = Store(tmp_path / "s", trash_retention_s=0.0)
    st.replace("events", crashkit.events_version(3))
    first = st.files("events")
    st.replace("events", crashkit.events_version(5))
    assert not any(f.exists() for f in first) and st.read("events").height == 5
    kept = Store(tmp_path / "k")
    kept.replace("events", crashkit.events_version(3))
    first = kept.files("events")
    kept.replace("events", crashkit.events_version(5))
    assert all(f.exists() for f in first)  # a reader that listed them a moment ago can still read them
