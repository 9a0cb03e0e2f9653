"""``tail:PATH`` reads every line of a growing file exactly once: across kill -9 at random points, log rotation
(also while live is down) and truncation in place."""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
from functools import reduce
from operator import xor
from pathlib import Path

import pytest

from shadowfleet.ingest import ingest
from shadowfleet.live import LiveConfig, run_live
from shadowfleet.live.spool import Spool
from shadowfleet.store import Store

SRC = Path(__file__).resolve().parents[2] / "src"
FAST = LiveConfig(batch_interval_s=0.2, watchdog_s=1.0, reconnect_initial_s=0.1, detect_interval_s=0.2)
SENTENCE = "!AIVDM,1,1,,B,177S`o1000aPbQtHN?>mNWL607PN,0*2F"


def _lines(n: int, t0: int = 1709251203) -> list[str]:
    """One ship's reports a minute apart, each with a tag block (receiver, time) and its checksum."""
    out = []
    for i in range(n):
        tag = f"s:RU-NAKHODKA,c:{t0 + 60 * i}"
        out.append(f"\\{tag}*{reduce(xor, tag.encode()):02X}\\{SENTENCE}\n")
    return out


@pytest.fixture(scope="module")
def feed(tmp_path_factory) -> list[str]:
    """The first 6,000 lines of a simulated day (tag-block times, multi-sentence type-5 messages among them)."""
    from shadowfleet.sim import simulate

    d = tmp_path_factory.mktemp("sim")
    simulate("vostochny-2024-03", out=d, seed=7, days=1)
    with open(d / "ais.nmea") as fh:
        return [next(fh) for _ in range(6000)]


def _follow(log: Path, st: Store, idle_s: float = 1.0):
    return run_live([f"tail:{log}"], st, alerts_out=io.StringIO(), config=FAST, until_idle_s=idle_s, max_seconds=60)


def _copies(st: Store) -> int:
    return int(st.read("positions", dedupe=False)["n_receivers"].sum())


def _same_as_file_ingest(st: Store, text: str, tmp_path: Path, note: str = "") -> None:
    f = tmp_path / "all.nmea"
    f.write_text(text)
    check = Store(tmp_path / "file-store")
    ingest(f, check, source="x")
    for table in ("positions", "static"):
        a = st.read(table).drop("receiver", "source", "batch", strict=False)
        b = check.read(table).drop("receiver", "source", "batch", strict=False)
        # a line stored twice would show as a copy more in n_receivers
        assert a.height and a.sort(a.columns).equals(b.sort(b.columns)), (
            f"{table} {note}: {a.height} rows, {a['n_receivers'].sum()} copies; file ingest {b.height}, "
            f"{b['n_receivers'].sum()}; only live {a.join(b, on=a.columns, how='anti').head(3).to_dicts()}; "
            f"only file {b.join(a, on=a.columns, how='anti').head(3).to_dicts()}")


def test_a_chunk_whose_mark_did_not_reach_the_disk_is_cut_and_read_again(tmp_path):
    sp = Spool(tmp_path, "tail:x", "nmea", marked=True)
    sp.append([b"a\n", b"b\n"], {"offset": 4})
    sp.close()
    seg = tmp_path / sp.dir.name / "00000001.spool"
    with open(seg, "ab") as fh:
        fh.write(b"c\nd\n")  # killed before the mark of this chunk was written
    again = Spool(tmp_path, "tail:x", "nmea", marked=True)
    assert again.mark == {"offset": 4}
    b = again.next_batch(100, final=True)
    assert b.lines == ["a", "b"]  # the mark itself is not a line of the feed
    again.commit(b)
    assert again.next_batch(100, final=True) is None


def test_a_file_rotated_while_followed_is_finished_and_the_new_one_read_from_its_start(tmp_path):
    log = tmp_path / "ais.log"
    lines = _lines(30)
    log.write_text("".join(lines[:10]))
    st = Store(tmp_path / "store")

    def writer():
        time.sleep(0.8)
        with open(log, "a") as old:
            os.rename(log, tmp_path / "ais.log.1")
            old.write("".join(lines[10:15]))  # the writer still holds the renamed file for a moment
            old.flush()
            log.write_text("".join(lines[15:25]))
        time.sleep(0.8)
        with open(log, "a") as fh:
            fh.write("".join(lines[25:]))

    threading.Thread(target=writer, daemon=True).start()
    rep = _follow(log, st, 2.5)
    assert rep.lines == 30 and _copies(st) == 30


def test_a_file_rotated_while_live_was_down_is_finished_first(tmp_path):
    log = tmp_path / "ais.log"
    lines = _lines(20)
    log.write_text("".join(lines[:5]))
    st = Store(tmp_path / "store")
    _follow(log, st)
    with open(log, "a") as fh:
        fh.write("".join(lines[5:8]))
    os.rename(log, tmp_path / "ais.log.1")
    log.write_text("".join(lines[8:]))
    rep = _follow(log, st)
    assert rep.lines == 15 and _copies(st) == 20


def test_a_file_truncated_in_place_is_read_again_from_its_start(tmp_path):
    log = tmp_path / "ais.log"
    lines = _lines(12)
    log.write_text("".join(lines[:8]))
    st = Store(tmp_path / "store")
    _follow(log, st)
    with open(log, "r+") as fh:  # copytruncate: the content moved elsewhere, the file emptied and written on
        fh.truncate(0)
    log.write_text("".join(lines[8:]))
    rep = _follow(log, st)
    assert rep.lines == 4 and _copies(st) == 12


@pytest.mark.slow
def test_kill_9_at_random_points_stores_every_line_of_the_file_exactly_once(feed, tmp_path):
    seed = int(os.environ.get("KILL_SEED", random.randrange(1 << 30)))
    rnd = random.Random(seed)
    log = tmp_path / "receiver.log"
    log.write_bytes(b"")
    text = "".join(feed)
    data = text.encode()
    # cut points anywhere, mid-line included: the reader must wait for a line's end
    cuts = sorted(rnd.sample(range(1, len(data)), 60)) + [len(data)]
    done = threading.Event()

    def writer():
        prev = 0
        with open(log, "ab", buffering=0) as fh:
            for c in cuts:
                fh.write(data[prev:c])
                prev = c
                time.sleep(rnd.uniform(0.05, 0.25))
        done.set()

    store = tmp_path / "store"
    cfg = tmp_path / "live.toml"
    cfg.write_text("[live]\nbatch_interval_s = 0.2\nbatch_max_lines = 700\ndetect_interval_s = 0.5\n")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    cmd = [sys.executable, "-m", "shadowfleet", "live", "--source", f"tail:{log}", "--store", str(store),
           "--config", str(cfg), "--alerts-out", str(tmp_path / "alerts.jsonl"), "--quiet"]
    threading.Thread(target=writer, daemon=True).start()
    for _ in range(3):
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rnd.uniform(2.5, 5.0))
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
    assert done.wait(60), f"seed {seed}"
    r = subprocess.run(cmd + ["--until-idle", "8"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    _same_as_file_ingest(Store(store), text, tmp_path, f"seed {seed}")


def test_a_mark_hashes_the_first_bytes_of_a_file_that_grew_while_it_was_read(tmp_path):
    """A young log (< 64 bytes) that grows between reads: the mark's hash covers the bytes a restart hashes, so
    the restart knows the file and resumes after the mark instead of reading it again from its start."""
    from shadowfleet.live.sources.tail import TailSource, _same_file

    log = tmp_path / "ais.log"
    log.write_text("short\n")
    src, marks, stop = TailSource(f"tail:{log}", str(log)), [], threading.Event()

    class Growing(io.FileIO):
        def read(self, n=-1):
            if not marks:  # more written just before the read
                with open(log, "a") as fh:
                    fh.write("".join(_lines(3)))
            return super().read(n)

    def sink(data, mark):
        marks.append(mark)
        stop.set()

    with Growing(log, "r") as fh:
        st = os.fstat(fh.fileno())
        src._follow(fh, st, 0, False, sink, stop)
    with open(log, "rb") as fh:
        assert marks[0]["offset"] > 64 and _same_file(fh, os.fstat(fh.fileno()), marks[0])
