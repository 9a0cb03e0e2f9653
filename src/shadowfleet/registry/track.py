"""One vessel's track: its de-duplicated positions in time order, with the segment id once `detect` has run,
and the exports an analyst loads elsewhere (CSV, JSON lines, GeoJSON for QGIS, KML for Google Earth)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl

from shadowfleet.output import csv_text, jsonl_text, kml_document, kml_line, kml_placemark, kml_point, utc_expr
from shadowfleet.store import Store

TRACK_COLUMNS = (
    "mmsi", "ts", "lat", "lon", "sog", "cog", "heading", "nav_status", "msg_type", "ais_class", "source",
    "receiver", "n_receivers", "segment",
)


def track(store: Store, mmsi: int, start: dt.datetime | None = None, end: dt.datetime | None = None) -> pl.DataFrame:
    """Positions of ``mmsi`` between ``start`` and ``end`` (inclusive, UTC), copies from several receivers merged.

    ``segment`` comes from the store table `segments` (written by detect) joined on (mmsi, ts); it is null when
    detect has not run or discarded the position as noise.
    """
    pos = store.read("positions", start=start, end=end, mmsi=mmsi)
    seg = _segments(store, mmsi)
    if seg is None:
        pos = pos.with_columns(pl.lit(None, dtype=pl.Utf8).alias("segment"))
    else:
        pos = pos.join(seg, on=["mmsi", "ts"], how="left")
    return pos.select(TRACK_COLUMNS).sort("ts")


def _segments(store: Store, mmsi: int) -> pl.DataFrame | None:
    if not store.files("segments"):
        return None
    seg = store.scan("segments").select("mmsi", "ts", "segment").filter(pl.col("mmsi") == mmsi).collect()
    # segment ids are text in the contract's spirit (GFW style "<mmsi>-<start>"); cast so every detector's
    # choice (int or str) exports the same way
    return seg.unique(["mmsi", "ts"], keep="first").with_columns(
        pl.col("ts").cast(pl.Datetime("us", "UTC")), pl.col("segment").cast(pl.Utf8)
    )


def _iso_ts(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(utc_expr("ts", df.schema["ts"], micro=True))


def to_csv(df: pl.DataFrame) -> str:
    return csv_text(df, micro=True)


def to_jsonl(df: pl.DataFrame) -> str:
    return jsonl_text(df, micro=True)


def to_kml(df: pl.DataFrame) -> str:
    """KML 2.2 for Google Earth: a time-stamped Point per position (speed, course, receiver as data) and a
    LineString per segment, so the time slider replays the voyage."""
    rows = _iso_ts(df)
    mmsi = str(rows["mmsi"][0]) if rows.height else ""
    fixed = rows.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    data_cols = [c for c in rows.columns if c not in ("mmsi", "ts", "lat", "lon")]
    points = (
        kml_placemark(r["ts"], kml_point(r["lon"], r["lat"]), begin=r["ts"], data={c: r[c] for c in data_cols})
        for r in fixed.iter_rows(named=True)
    )
    lines = fixed.group_by("segment", maintain_order=True).agg(
        pl.col("lon"), pl.col("lat"), pl.col("ts").first().alias("start"), pl.col("ts").last().alias("end")
    )
    segments = (
        kml_placemark(f"MMSI {mmsi} segment {seg}" if seg is not None else f"MMSI {mmsi}", kml_line(lon, lat),
                      begin=start, end=end, data={"n_positions": len(lon)})
        for seg, lon, lat, start, end in lines.iter_rows() if len(lon) >= 2
    )
    return "".join(kml_document(f"MMSI {mmsi} track", [("track", segments), ("positions", points)]))


def to_geojson(df: pl.DataFrame) -> dict[str, Any]:
    """A FeatureCollection: one Point per position with every column as properties (QGIS can filter and style
    by time, speed or segment), then one LineString per segment (or one for the whole track before detect)."""
    rows = _iso_ts(df)
    props = [c for c in rows.columns if c not in ("lat", "lon")]
    prop_rows = json.loads(rows.select(props).write_json()) if rows.height else []
    lons, lats = rows["lon"].to_list(), rows["lat"].to_list()
    features: list[dict[str, Any]] = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": p}
        for lon, lat, p in zip(lons, lats, prop_rows)
        if lon is not None and lat is not None
    ]
    if rows.height:
        mmsi = int(rows["mmsi"][0])
        lines = (
            rows.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
            .group_by("segment", maintain_order=True)
            .agg(pl.col("lon"), pl.col("lat"), pl.col("ts").first().alias("start"), pl.col("ts").last().alias("end"))
        )
        for seg, lon, lat, start, end in lines.iter_rows():
            if len(lon) < 2:
                continue
            features.append({
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [list(p) for p in zip(lon, lat)]},
                "properties": {"mmsi": mmsi, "segment": seg, "start": start, "end": end, "n_positions": len(lon),
                               "kind": "track"},
            })
    return {"type": "FeatureCollection", "features": features}
