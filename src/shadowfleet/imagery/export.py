"""Detections out of the store as JSON lines, CSV or GeoJSON, through the project's one output module (UTC text
times, the CSV formula guard)."""

from __future__ import annotations

import json

import polars as pl

from shadowfleet.output import csv_text, json_records, jsonl_text


def to_geojson(det: pl.DataFrame) -> str:
    feats = []
    for row in json_records(det):
        lat, lon = row.pop("lat"), row.pop("lon")
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": row})
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False) + "\n"


WRITERS = {"jsonl": jsonl_text, "csv": csv_text, "geojson": to_geojson}
