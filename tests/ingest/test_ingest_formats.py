"""Each input layout: NMEA variants (tag-block groups, DMA $PGHP, receiver logs, time prefixes, no time), CSV
flavours (DMA fixture, generic with --columns), JSON lines, compressed files, and format detection."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import os
import zipfile

import pytest
from ingestkit import checksum, pghp, position, sentences, tagged

from shadowfleet.errors import ShadowfleetError
from shadowfleet.ingest import detect_format, ingest
from shadowfleet.store import Store
from tests.conftest import shared_file

T0 = 1709812800  # 2024-03-07 12:00:00 UTC
UTC = dt.timezone.utc


def _ingest_text(tmp_path, text, name="feed.nmea", **kw):
    path = tmp_path / name
    path.write_text(text)
    rep = ingest(path, tmp_path / "store", **kw).files[0]
    return rep, Store(tmp_path / "store")


def test_tag_block_groups_assemble_interleaved_multisentence_messages(tmp_path):
    a1, a2 = sentences(type=5, mmsi=273111001, shipname="ALPHA", seq_id=1)
    b1, b2 = sentences(type=5, mmsi=273111002, shipname="BRAVO", seq_id=1)  # same sequential id on purpose
    lines = [tagged(a1, T0, "r1", group="1-2-77"), tagged(b1, T0 + 1, "r1", group="1-2-78"),
             tagged(a2, None, None, group="2-2-77"), tagged(b2, None, None, group="2-2-78")]
    rep, st = _ingest_text(tmp_path, "\n".join(lines) + "\n")
    assert rep.rejected == {}
    static = st.read("static").sort("mmsi")
    assert static["name"].to_list() == ["ALPHA", "BRAVO"]
    assert static["ts"].to_list() == [dt.datetime(2024, 3, 7, 12, 0, 0, tzinfo=UTC),
                                      dt.datetime(2024, 3, 7, 12, 0, 1, tzinfo=UTC)]


def test_sequential_ids_join_fragments_across_batches(tmp_path):
    p1, p2 = sentences(type=5, mmsi=273111003, shipname="CHARLIE", seq_id=5)
    lines = [tagged(position(), T0), tagged(p1, T0 + 1), tagged(position(mmsi=273000002), T0 + 2), p2]
    rep, st = _ingest_text(tmp_path, "\n".join(lines) + "\n", batch_lines=2)
    assert rep.batches >= 2 and rep.rejected == {}
    assert st.read("static")["name"].to_list() == ["CHARLIE"]


def test_dma_pghp_lines_give_millisecond_times_and_si_tags_the_receiver(tmp_path):
    s = position(mmsi=273000010)
    lines = ["\\si:AISD*3F\\", pghp(2013, 11, 12, 12, 0, 5, 11), s,
             "\\si:IALA*25\\", pghp(2013, 11, 12, 12, 0, 9, 987), position(mmsi=273000011)]
    rep, st = _ingest_text(tmp_path, "\n".join(lines) + "\n")
    pos = st.read("positions").sort("mmsi")
    assert pos["ts"].to_list() == [dt.datetime(2013, 11, 12, 12, 0, 5, 11000, tzinfo=UTC),
                                   dt.datetime(2013, 11, 12, 12, 0, 9, 987000, tzinfo=UTC)]
    assert pos["receiver"].to_list() == ["AISD", "IALA"]


@pytest.mark.parametrize("prefix,expected", [
    ("2024-03-07T12:00:05Z ", dt.datetime(2024, 3, 7, 12, 0, 5, tzinfo=UTC)),
    ("2024-03-07 12:00:05.250,", dt.datetime(2024, 3, 7, 12, 0, 5, 250000, tzinfo=UTC)),
    ("2024-03-07T14:00:05+02:00\t", dt.datetime(2024, 3, 7, 12, 0, 5, tzinfo=UTC)),
    ("1709812805 ", dt.datetime(2024, 3, 7, 12, 0, 5, tzinfo=UTC)),
    ("1709812805250;", dt.datetime(2024, 3, 7, 12, 0, 5, 250000, tzinfo=UTC)),
])
def test_lines_prefixed_by_iso_or_unix_time(tmp_path, prefix, expected):
    rep, st = _ingest_text(tmp_path, prefix + position() + "\n")
    assert rep.rejected == {}
    assert st.read("positions")["ts"].to_list() == [expected]


def test_receiver_log_uses_the_gnss_fix_clock_and_skips_other_sentences(tmp_path):
    rmc = "GPRMC,213950.00,A,5250.53669,N,00542.34920,E,0.020,,070420,,,A"
    gsa = "GPGSA,A,3,11,32,14,28,22,03,10,08,17,,,,2.02,1.03,1.74"
    lines = ["# a receiver log", f"${gsa}*{checksum(gsa)}", f"${rmc}*{checksum(rmc)}", position(), ""]
    rep, st = _ingest_text(tmp_path, "\n".join(lines) + "\n")
    assert rep.skipped == {"comment": 1, "other_nmea": 2, "blank": 1}
    assert st.read("positions")["ts"].to_list() == [dt.datetime(2020, 4, 7, 21, 39, 50, tzinfo=UTC)]


def test_sentences_without_any_time_need_time_from(tmp_path):
    text = position() + "\n" + position(mmsi=273000003) + "\n"
    with pytest.raises(ShadowfleetError, match="--time-from"):
        _ingest_text(tmp_path, text)
    assert Store(tmp_path / "store").read("positions").height == 0  # nothing written before the error
    rep, st = _ingest_text(tmp_path, text, time_from="2024-03-07T12:00:00Z")
    assert st.read("positions")["ts"].unique().to_list() == [dt.datetime(2024, 3, 7, 12, tzinfo=UTC)]


def test_time_from_mtime_uses_the_file_modification_time(tmp_path):
    path = tmp_path / "plain.nmea"
    path.write_text(position() + "\n")
    os.utime(path, (T0 + 60, T0 + 60))
    ingest(path, tmp_path / "store", time_from="mtime")
    assert Store(tmp_path / "store").read("positions")["ts"].to_list() == [dt.datetime(2024, 3, 7, 12, 1, tzinfo=UTC)]


def test_compressed_files_are_read_transparently(tmp_path):
    def text(base):
        return "\n".join(tagged(position(mmsi=base + i), T0 + i) for i in range(5)) + "\n"

    (tmp_path / "a.nmea.gz").write_bytes(gzip.compress(text(273000100).encode()))
    (tmp_path / "b.nmea.bz2").write_bytes(bz2.compress(text(273000200).encode()))
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as z:
        z.writestr("day1.nmea", text(273000300))
        z.writestr("day2.nmea", text(273000400))
        z.writestr("copy.nmea", text(273000400))  # same content as day2: already ingested, skipped
    rep = ingest([tmp_path / "a.nmea.gz", tmp_path / "b.nmea.bz2", tmp_path / "c.zip"], tmp_path / "store")
    assert [f.accepted["positions"] for f in rep.files] == [5, 5, 5, 5, 0]
    assert [f.skipped_already_ingested for f in rep.files] == [False, False, False, False, True]
    assert rep.files[2].path.endswith("c.zip:day1.nmea")
    assert Store(tmp_path / "store").read("positions")["mmsi"].n_unique() == 20


DMA_HEADER = ("# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,Heading,IMO,"
              "Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing device,Draught,Destination,"
              "ETA,Data source type,A,B,C,D")


def test_dma_csv_gives_positions_and_one_static_row_per_change(tmp_path):
    rows = [
        "07/03/2024 12:00:00,Class A,273000200,42.75,133.08,Moored,0.0,0.1,90.0,91,Unknown,UBCD,SUN,Tanker,,15,100,GPS,5.6,CHONGJIN,07/03/2024 18:00:00,AIS,80,20,7,8",
        "07/03/2024 12:01:00,Class A,273000200,42.75,133.08,Moored,0.0,0.1,90.0,91,Unknown,UBCD,SUN,Tanker,,15,100,GPS,5.6,CHONGJIN,07/03/2024 18:00:00,AIS,80,20,7,8",
        "07/03/2024 12:02:00,Class A,273000200,42.75,133.08,Moored,0.0,102.3,90.0,91,Unknown,UBCD,SUN,Tanker,,15,100,GPS,9.1,CHONGJIN,07/03/2024 18:00:00,AIS,80,20,7,8",
        "07/03/2024 12:02:00,Base Station,2190047,55.0,12.0,Unknown value,,,,,,,,Undefined,,,,GPS,,,,AIS,,,,",
        "07/03/2024 12:03:00,Class B,12,42.0,133.0,Unknown value,,,,,,,,Undefined,,,,GPS,,,,AIS,,,,",
    ]
    rep, st = _ingest_text(tmp_path, DMA_HEADER + "\n" + "\n".join(rows) + "\n", name="aisdk.csv")
    assert rep.format == "csv:dma"
    assert rep.accepted == {"positions": 3, "static": 2, "base_stations": 1, "aids": 0}
    assert rep.rejected == {"invalid_mmsi": 1}
    assert rep.skipped == {"static_unchanged": 1} and rep.flagged == {"sog_not_available": 1}
    pos = st.read("positions")
    assert pos["nav_status"].to_list() == [5, 5, 5] and pos["sog"].null_count() == 1
    static = st.read("static")
    assert static["draught"].to_list() == [pytest.approx(5.6), pytest.approx(9.1)]  # a draught change is kept
    assert static["ship_type"].to_list() == [80, 80] and static["imo"].null_count() == 2


def test_generic_csv_with_a_column_mapping(tmp_path):
    text = "when,id,y,x,knots\n2024-03-07T12:00:00Z,273000300,42.75,133.08,3.5\n"
    rep, st = _ingest_text(tmp_path, text, name="mine.csv", columns="mmsi=id,ts=when,lat=y,lon=x,sog=knots")
    assert rep.accepted["positions"] == 1
    assert st.read("positions").select("mmsi", "sog").row(0) == (273000300, pytest.approx(3.5))


def test_generic_csv_without_recognisable_columns_is_a_clear_error(tmp_path):
    with pytest.raises(ShadowfleetError, match="--columns"):
        _ingest_text(tmp_path, "a,b,c\n1,2,3\n", name="odd.csv")
    with pytest.raises(ShadowfleetError, match="no such column"):
        _ingest_text(tmp_path, "a,b,c\n1,2,3\n", name="odd2.csv", columns="mmsi=zz,ts=a,lat=b,lon=c")


def test_gfw_json_lines_with_nan_and_a_broken_line(tmp_path):
    lines = [
        '{"ssvid": "273000400", "timestamp": "2024-03-07T12:00:00+00:00", "lat": 42.7, "lon": 133.0, "speed": 0.1, '
        '"course": 10.0, "heading": NaN, "type": "AIS.1", "shipname": null, "length": NaN}',
        '{"ssvid": "273000400", "timestamp": "2024-03-07T12:05:00+00:00", "type": "AIS.5", "shipname": "SUN", '
        '"callsign": "UBCD", "imo": 9596985, "destination": "NAMPO", "shiptype": 80, "length": 100.0, "width": 15.0}',
        '{"ssvid": "273000400", "timestamp": ',
        '{"ssvid": "273000401", "timestamp": "2024-03-07T12:00:00+00:00", "type": "AIS.8", "lat": 1, "lon": 1}',
    ]
    rep, st = _ingest_text(tmp_path, "\n".join(lines) + "\n", name="gfw.json")
    assert rep.format == "jsonl"
    assert rep.accepted == {"positions": 1, "static": 1, "base_stations": 0, "aids": 0}
    assert rep.rejected == {"malformed": 1, "unsupported_type": 1}
    static = st.read("static").row(0, named=True)
    assert (static["name"], static["imo"], static["ship_type"], static["length"]) == ("SUN", 9596985, 80, 100.0)


def test_format_detection_on_every_real_sample(shared_data):
    expected = {
        "ais/dma_aisabnormal_ais-sample_20131112.txt.gz": "nmea", "ais/aisdb_test_data_20211101.nm4": "nmea",
        "ais/gpsd_ais-nmea.log": "nmea", "ais/pyais_nmea_data_sample.txt": "nmea",
        "ais/aisdb_test_data_20210701.csv": "csv", "ais/aisdb_test_data_noaa_20230101.csv": "csv",
        "gfw_segmenter/gfw_gpsdio-segment_regr_412331088.json": "jsonl",
    }
    for rel, fmt in expected.items():
        path = shared_file(rel)
        op = gzip.open if rel.endswith(".gz") else open
        with op(path, "rt") as fh:
            head = [fh.readline() for _ in range(50)]
        assert detect_format(head) == fmt, rel
    assert detect_format([DMA_HEADER + "\n", "07/03/2024 12:00:00,Class A,1\n"]) == "csv"


def test_unknown_format_option_is_a_clear_error(tmp_path):
    with pytest.raises(ShadowfleetError, match="--format"):
        ingest(tmp_path, tmp_path / "store", fmt="xml")
    with pytest.raises(ShadowfleetError, match="file not found"):
        ingest(tmp_path / "missing.nmea", tmp_path / "store")


def test_unchanged_static_rows_are_not_repeated_across_batches(tmp_path):
    rows = [f"2024-03-07T12:0{i}:00Z,273000500,42.7,133.0,SUN,{d}" for i, d in enumerate([5.6, 5.6, 5.6, 9.1, 9.1])]
    text = "ts,mmsi,lat,lon,name,draught\n" + "\n".join(rows) + "\n"
    rep, st = _ingest_text(tmp_path, text, name="g.csv", batch_lines=2)
    assert rep.batches == 3 and rep.accepted["positions"] == 5
    assert st.read("static")["draught"].to_list() == [pytest.approx(5.6), pytest.approx(9.1)]
    assert rep.skipped == {"static_unchanged": 3}


def test_a_broken_csv_row_is_rejected_and_the_rest_kept(tmp_path):
    text = ("ts,mmsi,lat,lon\n2024-03-07T12:00:00Z,273000600,42.7,133.0\n"
            '2024-03-07T12:01:00Z,"273000601,42.7,133.0\n'  # unbalanced quote
            "2024-03-07T12:02:00Z,273000602,42.7,133.0\n")
    rep, st = _ingest_text(tmp_path, text, name="broken.csv")
    assert rep.accepted["positions"] + rep.n_rejected == 3
    assert rep.rejected.get("malformed", 0) >= 1
    assert 273000600 in st.read("positions")["mmsi"].to_list()


def test_a_fragment_left_open_too_long_is_orphaned_early(tmp_path):
    p1, p2 = sentences(type=5, mmsi=273111004, shipname="DELTA", seq_id=6)
    filler = [tagged(position(mmsi=273000700 + i), T0 + i) for i in range(30)]
    lines = [tagged(p1, T0)] + filler + [p2]
    path = tmp_path / "lossy.nmea"
    path.write_text("\n".join(lines) + "\n")
    from shadowfleet.ingest.config import DEFAULTS
    import dataclasses

    cfg = dataclasses.replace(DEFAULTS, max_fragment_gap_lines=10)
    rep = ingest(path, tmp_path / "store", batch_lines=5, config=cfg).files[0]
    assert rep.rejected == {"orphan_fragment": 2}  # part 1 evicted, then part 2 has nothing to continue
    assert rep.accepted["positions"] == 30
