"""Every real file in ../shared/data/ais (and GFW's JSON lines) ingests, with pinned counts.

How the expected numbers were established: the message totals match the sample descriptions in
shared/data/README.md (e.g. 26,077 messages in the DMA sample, 979 in the AISdb .nm4, 171 in the gpsd log), and
the split was checked by hand with an independent plain pyais pass over the same files (pyais.stream.IterMessages +
decode, counting message types, MMSIs outside 100000000–999999999 — 1..999999999 for base stations — and lat/lon
91/181). E.g. DMA sample: pyais finds 20,044 type 1 + 4,151 type 3 + 493 type 18 = 24,688 position reports, 30 of
them with an invalid MMSI → 24,658 accepted; 69 type 5 + 61 type 24 = 130 static; 1,234 type 4; 25 type 21.
AISLib stream: pyais finds 399 messages of types we do not store (6,7,8,9,15,16,17,20,23), 23 invalid MMSIs and
15 positions not available. The CSV/JSON counts were checked with polars on the raw rows (Message_ID values,
MMSI lengths, LAT/LON). SOG 102.3 positions are kept (flagged), not rejected.
"""

from __future__ import annotations

import pytest

from shadowfleet.ingest import ingest
from shadowfleet.store import Store
from tests.conftest import shared_file

CASES = {
    "ais/dma_aisabnormal_ais-sample_20131112.txt.gz": (
        "nmea", {"positions": 24658, "static": 130, "base_stations": 1234, "aids": 25}, {"invalid_mmsi": 30}),
    "ais/dma_aisabnormal_538004030_drift_20140928.ais": (
        "nmea", {"positions": 5029, "static": 223, "base_stations": 0, "aids": 0}, {}),
    "ais/dma_aislib_stream_example_20100611.txt": (
        "nmea", {"positions": 2958, "static": 497, "base_stations": 125, "aids": 34},
        {"invalid_mmsi": 23, "position_not_available": 15, "unsupported_type": 399}),
    "ais/aisdb_test_data_20211101.nm4": (
        "nmea", {"positions": 910, "static": 44, "base_stations": 5, "aids": 11},
        {"invalid_mmsi": 7, "position_not_available": 2, "unsupported_type": 4}),
    "ais/gpsd_ais-nmea.log": (
        "nmea", {"positions": 141, "static": 20, "base_stations": 0, "aids": 0},
        {"missing_timestamp": 1, "position_not_available": 3, "unsupported_type": 6}),
    "ais/pyais_nmea_data_sample.txt": (
        "nmea", {"positions": 758, "static": 2, "base_stations": 6, "aids": 0},
        {"empty_payload": 100, "orphan_fragment": 20, "position_not_available": 4, "unsupported_type": 8}),
    "ais/aisdb_test_data_20210701.csv": (
        "csv:aisdb", {"positions": 2334, "static": 90, "base_stations": 19, "aids": 12},
        {"invalid_mmsi": 45, "position_not_available": 9, "unsupported_type": 30}),
    "ais/aisdb_test_data_noaa_20230101.csv": (
        "csv:noaa", {"positions": 998, "static": 998, "base_stations": 0, "aids": 0}, {"invalid_mmsi": 4}),
    "gfw_segmenter/gfw_gpsdio-segment_regr_477293900.json": (
        "jsonl", {"positions": 2759, "static": 3, "base_stations": 0, "aids": 0}, {}),
}


@pytest.mark.parametrize("rel", sorted(CASES))
def test_real_file_ingests_with_pinned_counts(rel, tmp_path):
    path = shared_file(rel)
    fmt, accepted, rejected = CASES[rel]
    time_from = "2019-12-01T00:00:00Z" if "pyais" in rel else None  # the only file with no time at all
    rep = ingest(path, tmp_path / "store", time_from=time_from).files[0]
    assert rep.format == fmt
    assert rep.accepted == accepted
    assert rep.rejected == rejected
    st = Store(tmp_path / "store")
    assert st.scan("rejects").collect().height == sum(rejected.values())
    raw_rows = st.scan("positions").collect()
    # n_receivers of the stored rows adds up to every accepted position report: nothing lost in the merge
    assert raw_rows["n_receivers"].sum() == accepted["positions"]
    assert raw_rows["source"].unique().to_list() == [path.name]


def test_drift_sample_merges_the_same_report_heard_by_several_receivers(tmp_path):
    path = shared_file("ais/dma_aisabnormal_538004030_drift_20140928.ais")
    ingest(path, tmp_path)
    pos = Store(tmp_path).read("positions")
    # one tanker (FRIO) heard by several DMA base stations: far fewer rows than reports, none lost
    assert pos["mmsi"].unique().to_list() == [538004030]
    assert pos.height < 1000 and pos["n_receivers"].sum() == 5029
    assert pos["n_receivers"].max() > 1
    static = Store(tmp_path).read("static")
    assert set(static["name"].drop_nulls()) == {"FRIO"} and set(static["imo"].drop_nulls()) == {9596985}
    assert static["draught"].drop_nulls().unique().to_list() == [pytest.approx(9.4)]


def test_dma_sample_times_come_from_pghp_lines(tmp_path):
    path = shared_file("ais/dma_aisabnormal_ais-sample_20131112.txt.gz")
    ingest(path, tmp_path)
    pos = Store(tmp_path).read("positions", dedupe=False)
    assert str(pos["ts"].min()) .startswith("2013-11-12 12:00:00")
    assert pos["ts"].max() < pos["ts"].min().replace(minute=6)
    assert set(pos["receiver"].unique()) <= {"AISD", "IALA", None}
