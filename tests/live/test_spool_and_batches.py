"""The spool and micro-batches: lines on disk before decoding, batches stored exactly once across a crash."""

from __future__ import annotations

import polars as pl

from shadowfleet.ingest.lines import ingest_lines
from shadowfleet.live.sources.lines import LineSplitter, stamp_line
from shadowfleet.live.spool import Spool
from shadowfleet.store import Store

SINGLE = "\\s:RU-NAKHODKA,c:1709251203*13\\!AIVDM,1,1,,B,177S`o1000aPbQtHN?>mNWL607PN,0*2F"
FRAG1 = ("\\g:1-2-14956,s:RU-NAKHODKA,c:1709251211*5D\\!AIVDM,2,1,6,B,577WqMh2@nMmI8lwP00l59F098DE`D00000000167Hh884"
         "iEp:3PBj3i2hH0,0*63")
FRAG2 = "\\g:2-2-14956*62\\!AIVDM,2,2,6,B,PFH0CPj3lP@,2*49"


def _lines(*text: str) -> list[bytes]:
    return [t.encode() + b"\n" for t in text]


def test_a_pending_batch_comes_back_whole_after_a_crash_and_is_stored_once(tmp_path):
    store = Store(tmp_path / "store")
    sp = Spool(tmp_path / "spool", "tcp://127.0.0.1:1", "nmea")
    sp.append(_lines(*[SINGLE] * 5))
    b = sp.next_batch(100, final=True)
    sp.begin(b)
    ingest_lines(b.lines, store, f"live-{b.name}", "feed")
    # killed here: the batch is in the store but not committed; more lines arrive before the restart
    sp.append(_lines(SINGLE, SINGLE))
    again = Spool(tmp_path / "spool", "tcp://127.0.0.1:1", "nmea")
    b2 = again.next_batch(100, final=True)
    assert (b2.start, b2.end, b2.lines) == (b.start, b.end, b.lines)
    ingest_lines(b2.lines, store, f"live-{b2.name}", "feed")
    again.commit(b2)
    rest = again.next_batch(100, final=True)
    assert len(rest.lines) == 2
    assert store.read("positions", dedupe=False)["n_receivers"].sum() == 5  # five copies, counted once each
    assert again.next_batch(100, final=True) is not None  # not committed yet: still there
    again.commit(rest)
    assert again.next_batch(100, final=True) is None


def test_a_multi_sentence_message_is_never_cut_between_two_batches(tmp_path):
    sp = Spool(tmp_path, "tcp://127.0.0.1:2", "nmea")
    sp.append(_lines(SINGLE, FRAG1))
    b = sp.next_batch(100)
    assert b.lines == [SINGLE]  # the first fragment waits for its partner
    sp.commit(b)
    sp.append(_lines(FRAG2))
    b = sp.next_batch(100)
    assert b.lines == [FRAG1, FRAG2]
    store = Store(tmp_path / "store")
    rep = ingest_lines(b.lines, store, "x", "feed")
    assert rep.accepted["static"] == 1 and not rep.rejected


def test_lines_without_a_time_get_the_receive_time_and_timed_ones_are_kept():
    assert stamp_line(b"!AIVDM,1,1,,A,x,0*00", b"1700000000000") == b"1700000000000 !AIVDM,1,1,,A,x,0*00\n"
    assert stamp_line(SINGLE.encode(), b"1") == SINGLE.encode() + b"\n"
    assert stamp_line(FRAG2.encode(), b"17").startswith(b"17 \\g:2-2")
    assert stamp_line(b"2024-03-01T00:00:00Z !AIVDM", b"1") == b"2024-03-01T00:00:00Z !AIVDM\n"


def test_an_endless_line_is_dropped_and_counted_not_buffered():
    s = LineSplitter(max_line_bytes=100, stamp=False)
    out = []
    for _ in range(1000):
        out += s.feed(b"x" * 1000)  # a megabyte without a newline
    assert len(s.buf) <= 1000 and out == []
    out += s.feed(b"tail\n!AIVDM,ok\n")
    assert out == [b"!AIVDM,ok\n"] and s.oversize == 1


def test_store_equals_file_ingest_of_the_same_lines(tmp_path):
    lines = [SINGLE, "garbage", FRAG1, FRAG2] * 3
    live, files = Store(tmp_path / "a"), Store(tmp_path / "b")
    ingest_lines(lines[:4], live, "1", "feed")
    ingest_lines(lines[4:], live, "2", "feed")
    (tmp_path / "f.nmea").write_text("\n".join(lines) + "\n")
    from shadowfleet.ingest import ingest

    ingest(tmp_path / "f.nmea", files, source="feed")
    for t in ("positions", "static"):
        assert live.read(t).equals(files.read(t))
    assert live.read("rejects")["reason"].to_list() == files.read("rejects")["reason"].to_list()
    assert pl.Series(live.read("positions")["n_receivers"]).sum() == 3
