"""Lists and tracks as files an analyst opens elsewhere: CSV (safe to open in a spreadsheet), GeoJSON, and
OGC Moving Features JSON for tracks."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from shadowfleet.serve.queries import GAP_H, ISO, _iso

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Google Sheets; prefixing a
# quote makes it text (OWASP "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_csv(df: pl.DataFrame) -> str:
    """CSV with times ISO 8601 UTC, nested values as JSON text, and no text cell a spreadsheet would evaluate."""
    df = _iso(df)
    exprs = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, (pl.List, pl.Struct, pl.Array)):
            df = df.with_columns(pl.Series(name, [json.dumps(v) if v is not None else None
                                                 for v in df[name].to_list()], dtype=pl.Utf8))
            dtype = pl.Utf8
        if dtype == pl.Utf8:
            starts = pl.col(name).str.slice(0, 1).is_in(list(_FORMULA_START)).fill_null(False)
            exprs.append(pl.when(starts).then("'" + pl.col(name)).otherwise(pl.col(name)).alias(name))
    return (df.with_columns(exprs) if exprs else df).write_csv()


def points_geojson(rows: list[dict[str, Any]], lat: str = "lat", lon: str = "lon") -> dict[str, Any]:
    """JSON-ready rows (events, cases) as a FeatureCollection of points (null geometry without a position)."""
    feats = []
    for r in rows:
        props = dict(r)
        y, x = props.pop(lat, None), props.pop(lon, None)
        geom = {"type": "Point", "coordinates": [x, y]} if x is not None and y is not None else None
        feats.append({"type": "Feature", "geometry": geom, "properties": props})
    return {"type": "FeatureCollection", "features": feats}


def _pieces(tr: pl.DataFrame) -> pl.DataFrame:
    """Consecutive positions grouped into pieces: a new piece starts at a new segment or after a silence of GAP_H."""
    brk = (
        (pl.col("segment").fill_null("") != pl.col("segment").fill_null("").shift(1))
        | ((pl.col("ts") - pl.col("ts").shift(1)).dt.total_seconds() > GAP_H * 3600)
    ).fill_null(True)
    return tr.with_columns(brk.cum_sum().alias("piece"))


def track_geojson(tr: pl.DataFrame, mmsi: int) -> dict[str, Any]:
    """A vessel's track: one LineString per piece (kind "track", with its segment), a dashed-to-be LineString
    (kind "gap") across each silence or change of segment, and the positions as one MultiPoint with their times."""
    feats: list[dict[str, Any]] = []
    if tr.height == 0:
        return {"type": "FeatureCollection", "features": feats}
    p = _pieces(tr)
    lines = p.group_by("piece", maintain_order=True).agg(
        "lon", "lat", pl.col("segment").first(), pl.col("ts").first().alias("start"),
        pl.col("ts").last().alias("end"))
    prev = None
    for _piece, lon, lat, seg, start, end in lines.iter_rows():
        if prev is not None:
            feats.append({"type": "Feature", "geometry": {"type": "LineString",
                                                          "coordinates": [prev[0], [lon[0], lat[0]]]},
                          "properties": {"mmsi": mmsi, "kind": "gap", "start": prev[1].strftime(ISO),
                                         "end": start.strftime(ISO),
                                         "hours": round((start - prev[1]).total_seconds() / 3600, 2)}})
        coords = [[x, y] for x, y in zip(lon, lat)]
        feats.append({"type": "Feature",
                      "geometry": {"type": "LineString", "coordinates": coords if len(coords) > 1 else coords * 2},
                      "properties": {"mmsi": mmsi, "kind": "track", "segment": seg, "start": start.strftime(ISO),
                                     "end": end.strftime(ISO), "n_positions": len(coords)}})
        prev = ([lon[-1], lat[-1]], end)
    feats.append({"type": "Feature",
                  "geometry": {"type": "MultiPoint", "coordinates": [[x, y] for x, y in zip(tr["lon"], tr["lat"])]},
                  "properties": {"mmsi": mmsi, "kind": "positions",
                                 "times": _iso(tr.select("ts"))["ts"].to_list(),
                                 "sog": tr["sog"].to_list()}})
    return {"type": "FeatureCollection", "features": feats}


def track_mfjson(tr: pl.DataFrame, mmsi: int, name: str | None = None) -> dict[str, Any]:
    """OGC Moving Features Encoding Extension: JSON (OGC 19-045r3): one MovingFeature per piece of track, a
    MovingPoint with linear interpolation, speed over ground as a temporal property in knots."""
    feats = []
    for _piece, part in _pieces(tr).group_by("piece", maintain_order=True):
        times = _iso(part.select("ts"))["ts"].to_list()
        feats.append({
            "type": "Feature",
            "temporalGeometry": {"type": "MovingPoint", "datetimes": times,
                                 "coordinates": [[x, y] for x, y in zip(part["lon"], part["lat"])],
                                 "interpolation": "Linear"},
            "temporalProperties": [{"datetimes": times,
                                    "sog": {"type": "Measure", "form": "[kn_i]", "values": part["sog"].to_list(),
                                            "interpolation": "Linear"}}],
            "properties": {"mmsi": mmsi, "name": name, "segment": part["segment"][0]},
        })
    return {"type": "FeatureCollection", "features": feats}
