"""Detections out of the store as JSON lines, CSV or GeoJSON, through the project's one output module (UTC text
times, the CSV formula guard)."""

from __future__ import annotations

import json

import polars as pl

from shadowfleet.output import csv_text, json_records, jsonl_text


def to_geojson(det: pl.DataFrame) -> str:
    """Points at lat/lon (a row without a position, e.g. a scene that saw nothing, has a null geometry)."""
    feats = []
    for row in json_records(det):
        lat, lon = row.pop("lat"), row.pop("lon")
        point = None if lat is None or lon is None else {"type": "Point", "coordinates": [lon, lat]}
        feats.append({"type": "Feature", "geometry": point, "properties": row})
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False) + "\n"


WRITERS = {"jsonl": jsonl_text, "csv": csv_text, "geojson": to_geojson}
