"""Lists and tracks as GeoJSON, and tracks as OGC Moving Features JSON (CSV comes from shadowfleet.output)."""

from __future__ import annotations

from typing import Any

import polars as pl

from shadowfleet.output import utc_text
from shadowfleet.serve.queries import GAP_H

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
                          "properties": {"mmsi": mmsi, "kind": "gap", "start": utc_text(prev[1]),
                                         "end": utc_text(start),
                                         "hours": round((start - prev[1]).total_seconds() / 3600, 2)}})
        coords = [[x, y] for x, y in zip(lon, lat)]
        feats.append({"type": "Feature",
                      "geometry": {"type": "LineString", "coordinates": coords if len(coords) > 1 else coords * 2},
                      "properties": {"mmsi": mmsi, "kind": "track", "segment": seg, "start": utc_text(start),
                                     "end": utc_text(end), "n_positions": len(coords)}})
        prev = ([lon[-1], lat[-1]], end)
    feats.append({"type": "Feature",
                  "geometry": {"type": "MultiPoint", "coordinates": [[x, y] for x, y in zip(tr["lon"], tr["lat"])]},
                  "properties": {"mmsi": mmsi, "kind": "positions",
                                 "times": [utc_text(t) for t in tr["ts"]],
                                 "sog": tr["sog"].to_list()}})
    return {"type": "FeatureCollection", "features": feats}


def track_mfjson(tr: pl.DataFrame, mmsi: int, name: str | None = None) -> dict[str, Any]:
    """OGC Moving Features Encoding Extension: JSON (OGC 19-045r3): one MovingFeature per piece of track, a
    MovingPoint with linear interpolation, speed over ground as a temporal property in knots."""
    feats = []
    for _piece, part in _pieces(tr).group_by("piece", maintain_order=True):
        times = [utc_text(t) for t in part["ts"]]
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
