"""Detections out of the store as JSON lines, CSV or GeoJSON (times ISO 8601 UTC ending in Z)."""

from __future__ import annotations

import json
from typing import IO

import polars as pl

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# OWASP "CSV Injection": a text cell starting with one of these may run as a formula in a spreadsheet
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(det: pl.DataFrame) -> pl.DataFrame:
    return det.with_columns(pl.col("acquired").dt.convert_time_zone("UTC").dt.strftime(TIME_FORMAT))


def to_jsonl(det: pl.DataFrame, out: IO[str]) -> int:
    for row in _plain(det).iter_rows(named=True):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return det.height


def to_csv(det: pl.DataFrame, out: IO[str]) -> int:
    p = _plain(det)
    text = [c for c, t in p.schema.items() if t == pl.Utf8]
    p = p.with_columns([_guard(c) for c in text])
    out.write(p.write_csv())
    return det.height


def _guard(col: str) -> pl.Expr:
    starts = pl.lit(False)
    for s in _FORMULA_START:
        starts = starts | pl.col(col).str.starts_with(s).fill_null(False)
    return pl.when(starts).then(pl.lit("'") + pl.col(col)).otherwise(pl.col(col)).alias(col)


def to_geojson(det: pl.DataFrame, out: IO[str]) -> int:
    feats = []
    for row in _plain(det).iter_rows(named=True):
        lat, lon = row.pop("lat"), row.pop("lon")
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": row})
    json.dump({"type": "FeatureCollection", "features": feats}, out, ensure_ascii=False)
    out.write("\n")
    return det.height


WRITERS = {"jsonl": to_jsonl, "csv": to_csv, "geojson": to_geojson}
