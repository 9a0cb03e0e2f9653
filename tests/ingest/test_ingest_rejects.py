"""Every reject reason is counted and kept in the store's rejects table; valid messages around bad ones survive."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from ingestkit import corrupt_checksum, position, reseal, sentences, tagged

from shadowfleet.errors import ShadowfleetError
from shadowfleet.ingest import REJECT_REASONS, ingest
from shadowfleet.store import Store

T0 = 1709812800  # 2024-03-07 12:00:00 UTC


def _run(tmp_path, lines, **kw):
    path = tmp_path / "feed.nmea"
    path.write_text("\n".join(lines) + "\n")
    rep = ingest(path, tmp_path / "store", **kw).files[0]
    return rep, Store(tmp_path / "store")


def _good(i: int) -> str:
    return tagged(position(mmsi=273000000 + i, lat=42.7 + i / 1000), T0 + i, "rcvA")


def test_each_bad_sentence_is_rejected_by_reason_and_the_good_ones_kept(tmp_path):
    part1, part2 = sentences(type=5, mmsi=273111222, shipname="SUN", seq_id=4)
    truncated = position(mmsi=273000999).split(",")
    truncated[5] = truncated[5][:20]  # 120 bits < the 137 a position report needs
    unsupported = sentences(type=9, mmsi=273000998, lat=42.0, lon=133.0)[0]  # SAR aircraft: not stored
    bad = {
        "bad_checksum": tagged(corrupt_checksum(position(mmsi=273000990)), T0, "rcvA"),
        "malformed": tagged("!AIVDM,1,1,,A,13aDp<gP019Q", T0, "rcvA"),
        "empty_payload": tagged(reseal("!AIVDM,1,1,,B,,0*00"), T0, "rcvA"),
        "truncated": tagged(reseal(",".join(truncated)), T0, "rcvA"),
        "orphan_fragment": tagged(part2, T0, "rcvA"),
        "unsupported_type": tagged(unsupported, T0, "rcvA"),
        "invalid_mmsi": tagged(position(mmsi=12345), T0, "rcvA"),
        "position_not_available": tagged(position(mmsi=273000991, lat=91, lon=181), T0, "rcvA"),
        "position_out_of_range": tagged(position(mmsi=273000992, lat=95.0, lon=10.0), T0, "rcvA"),
        "absurd_timestamp": tagged(position(mmsi=273000993), 631152000, "rcvA"),  # 1990
    }
    future = tagged(position(mmsi=273000994), dt.datetime.now(dt.timezone.utc).timestamp() + 3 * 86400, "rcvA")
    lines = [position(mmsi=273000995)]  # before any time is known: missing_timestamp
    for i, ln in enumerate(bad.values()):
        lines += [_good(i), ln]
    lines += [future, _good(100), tagged(part1, T0 + 200, "rcvA")]  # part 1 whose part 2 never comes
    rep, st = _run(tmp_path, lines)
    expected = {k: 1 for k in bad}
    expected["absurd_timestamp"] = 2
    expected["orphan_fragment"] = 2
    expected["missing_timestamp"] = 1
    assert rep.rejected == expected
    assert set(expected) <= set(REJECT_REASONS)
    assert rep.accepted["positions"] == len(bad) + 1
    rejects = st.read("rejects")
    assert rejects.height == sum(expected.values())
    assert rejects.group_by("reason").len().sort("reason").rows() == sorted(expected.items())
    row = rejects.filter(pl.col("reason") == "invalid_mmsi").row(0, named=True)
    assert row["raw"] == bad["invalid_mmsi"] and row["line"] == lines.index(bad["invalid_mmsi"]) + 1
    assert row["file"].endswith("feed.nmea") and row["source"] == "feed.nmea"
    assert st.read("rejects").filter(pl.col("reason") == "missing_timestamp")["ts"].to_list() == [None]


def test_sog_not_available_keeps_the_position_with_null_speed_and_counts_it(tmp_path):
    lines = [tagged(position(mmsi=273000001, speed=102.3), T0, "r"), _good(2)]
    rep, st = _run(tmp_path, lines)
    assert rep.rejected == {}
    assert rep.flagged == {"sog_not_available": 1}
    pos = st.read("positions").sort("mmsi")
    assert pos["sog"].to_list()[0] is None and pos["lat"].to_list()[0] == pytest.approx(42.75)


def test_same_report_from_two_receivers_is_stored_once_with_receiver_count(tmp_path):
    s = position(mmsi=273000777)
    later = tagged(s, T0 + 120, "rcvA")  # same payload 2 minutes later: a new transmission
    lines = [tagged(s, T0, "rcvA"), tagged(s, T0 + 1, "rcvB"), later]
    rep, st = _run(tmp_path, lines)
    assert rep.accepted["positions"] == 3 and rep.stored["positions"] == 2
    raw = st.scan("positions").collect().sort("ts")
    assert raw["n_receivers"].to_list() == [2, 1]
    assert raw["receiver"].to_list() == ["rcvA", "rcvA"]


def test_copies_in_different_files_are_merged_when_read(tmp_path):
    s = position(mmsi=273000778)
    (tmp_path / "a.nmea").write_text(tagged(s, T0, "rcvA") + "\n")
    (tmp_path / "b.nmea").write_text(tagged(s, T0 + 2, "rcvB") + "\n")
    ingest([tmp_path / "a.nmea", tmp_path / "b.nmea"], tmp_path / "store")
    pos = Store(tmp_path / "store").read("positions")
    assert pos.height == 1 and pos["n_receivers"].to_list() == [2]


def test_garbage_lines_never_crash_the_run(tmp_path):
    junk = ["\x00\x01\x02", "!AIVDM", "!AIVDM,9,1,,A,abc,0*00", "\\c:abc*00\\", "!AIVDM,1,1,,A,ÿÿÿ,0*00",
            "\\s:x*ZZ\\!AIVDM,1,1,,A,13aDp,0*00", "!AIVDM,1,1,,A,13aDp<gP019Q<B0HMSD3Q2n1P000,7*20", ","]
    lines = [_good(1)] + junk + [_good(2)]
    rep, st = _run(tmp_path, lines)
    assert rep.accepted["positions"] == 2
    assert rep.n_rejected == len(junk)
    assert st.read("rejects").height == len(junk)


def test_thresholds_come_from_the_config_file(tmp_path):
    from shadowfleet.ingest.config import load

    toml = tmp_path / "sf.toml"
    toml.write_text("[ingest]\nearliest_time = 2024-03-08T00:00:00Z\n")
    cfg = load(toml)
    path = tmp_path / "feed.nmea"
    path.write_text(_good(1) + "\n")
    rep = ingest(path, tmp_path / "store", config=cfg).files[0]
    assert rep.rejected == {"absurd_timestamp": 1}  # 2024-03-07 is now "too early"
    toml.write_text("[ingest]\nmax_speed = 3\n")
    with pytest.raises(ShadowfleetError, match="max_speed"):
        load(toml)
