"""A vessel's track (window, receiver copies, segment ids from detect), its exports, and store statistics."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from registry_store import BAD_MID, RU_SHIP, TANKER, h, store  # noqa: F401  (store is a fixture)
from shadowfleet.registry import stats, to_csv, to_geojson, to_jsonl, track


def test_track_is_time_ordered_merged_and_windowed(store):
    t = track(store, TANKER)
    assert t.height == 6 and t["ts"].is_sorted()
    assert t["n_receivers"].to_list()[:3] == [2, 2, 1]
    assert t["segment"].null_count() == 6  # detect has not run
    w = track(store, TANKER, start=h(2), end=h(4))
    assert w["ts"].to_list() == [h(2), h(3), h(4)]
    assert track(store, 445999999).height == 0


def test_segment_ids_join_on_mmsi_and_time_once_detect_has_run(store):
    pos = track(store, TANKER)
    seg = pos.select("mmsi", "ts", "lat", "lon", "sog").with_columns(
        pl.Series("segment", ["445000001-a"] * 3 + [None] + ["445000001-b"] * 2)
    )
    # another vessel at the same times must not leak its segment into this track
    other = seg.with_columns(pl.lit(RU_SHIP, dtype=pl.Int64).alias("mmsi"), pl.lit("other").alias("segment"))
    store.replace("segments", pl.concat([seg, other]))
    t = track(store, TANKER)
    assert t["segment"].to_list() == ["445000001-a"] * 3 + [None] + ["445000001-b"] * 2


def test_exports_csv_jsonl_geojson(store):
    t = track(store, TANKER)
    csv = to_csv(t).splitlines()
    assert csv[0].startswith("mmsi,ts,lat,lon") and len(csv) == 7
    assert csv[1].split(",")[1] == "2024-03-07T06:00:00.000000Z"
    lines = [json.loads(x) for x in to_jsonl(t).splitlines()]
    assert len(lines) == 6 and lines[0]["ts"] == "2024-03-07T06:00:00.000000Z" and "segment" in lines[0]
    gj = to_geojson(t)
    points = [f for f in gj["features"] if f["geometry"]["type"] == "Point"]
    line = [f for f in gj["features"] if f["geometry"]["type"] == "LineString"]
    assert len(points) == 6 and len(line) == 1
    assert points[0]["geometry"]["coordinates"] == [133.07, 42.74]  # GeoJSON order: lon, lat
    assert points[0]["properties"]["mmsi"] == TANKER and "lat" not in points[0]["properties"]
    assert len(line[0]["geometry"]["coordinates"]) == 6
    assert to_geojson(track(store, 445999999)) == {"type": "FeatureCollection", "features": []}


def test_geojson_has_one_line_per_segment(store):
    pos = track(store, TANKER)
    store.replace("segments", pos.select("mmsi", "ts", "lat", "lon", "sog").with_columns(
        pl.Series("segment", ["a", "a", "a", "b", "b", "b"])))
    lines = [f for f in to_geojson(track(store, TANKER))["features"] if f["geometry"]["type"] == "LineString"]
    assert [(f["properties"]["segment"], f["properties"]["n_positions"]) for f in lines] == [("a", 3), ("b", 3)]


def test_stats_counts_by_day_type_source_category_and_reject_reason(store):
    s = stats(store)
    day = s["by_day"].filter(pl.col("day") == "2024-03-07").row(0, named=True)
    assert day["positions_rows"] == 14 and day["positions"] == 12 and day["vessels"] == 3
    assert day["static_rows"] == 6 and day["rejects"] == 2
    assert s["by_day"].filter(pl.col("day") == "unknown")["rejects"].to_list() == [1]
    by_type = dict(s["by_msg_type"].select("msg_type", "rows").iter_rows())
    assert by_type == {1: 14, 5: 5, 24: 4}
    assert dict(s["rejects_by_reason"].iter_rows()) == {"bad_checksum": 2, "no_time": 1}
    cats = dict(s["by_ship_category"].iter_rows())
    assert cats == {"tanker": 1, "pleasure": 1, "unknown": 2}  # RU_SHIP and BAD_MID never sent a type
    assert set(s["by_source"]["table"]) == {"positions", "static"}


def test_stats_of_an_empty_store(tmp_path):
    from shadowfleet.store import Store

    s = stats(Store(tmp_path / "empty"))
    assert all(df.height == 0 for df in s.values())
