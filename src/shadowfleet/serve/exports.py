"""Lists and tracks as GeoJSON, and tracks as OGC Moving Features JSON (CSV comes from shadowfleet.output)."""

from __future__ import annotations

from typing import Any

import polars as pl

import numpy as np

from shadowfleet.output import utc_expr
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


def _piece_bounds(tr: pl.DataFrame) -> np.ndarray:
    """Row indices where pieces start (and the end): a new piece at a new segment or after a silence of GAP_H."""
    seg = tr["segment"].fill_null("").to_numpy()
    ts = tr["ts"].dt.epoch("us").to_numpy()
    brk = np.r_[True, (seg[1:] != seg[:-1]) | (np.diff(ts) > GAP_H * 3600e6)]
    return np.r_[np.flatnonzero(brk), tr.height]


def track_geojson(tr: pl.DataFrame, mmsi: int) -> dict[str, Any]:
    """A vessel's track: one LineString per piece (kind "track", with its segment), a dashed-to-be LineString
    (kind "gap") across each silence or change of segment, and the positions as one MultiPoint with their times."""
    feats: list[dict[str, Any]] = []
    if tr.height == 0:
        return {"type": "FeatureCollection", "features": feats}
    coords = np.column_stack([tr["lon"].to_numpy(), tr["lat"].to_numpy()]).tolist()
    times = tr.select(utc_expr("ts"))["ts"].to_list()
    segs = tr["segment"].to_list()
    bounds = _piece_bounds(tr)
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):  # one iteration per piece, not per position
        if i:
            gap_h = (tr["ts"][int(a)] - tr["ts"][int(a) - 1]).total_seconds() / 3600
            feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [coords[a - 1], coords[a]]},
                          "properties": {"mmsi": mmsi, "kind": "gap", "start": times[a - 1], "end": times[a],
                                         "hours": round(gap_h, 2)}})
        line = coords[a:b]
        feats.append({"type": "Feature",
                      "geometry": {"type": "LineString", "coordinates": line if len(line) > 1 else line * 2},
                      "properties": {"mmsi": mmsi, "kind": "track", "segment": segs[a], "start": times[a],
                                     "end": times[b - 1], "n_positions": int(b - a)}})
    feats.append({"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": coords},
                  "properties": {"mmsi": mmsi, "kind": "positions", "times": times, "sog": tr["sog"].to_list()}})
    return {"type": "FeatureCollection", "features": feats}


def track_mfjson(tr: pl.DataFrame, mmsi: int, name: str | None = None) -> dict[str, Any]:
    """OGC Moving Features Encoding Extension: JSON (OGC 19-045r3): one MovingFeature per piece of track, a
    MovingPoint with linear interpolation, speed over ground as a temporal property in knots."""
    feats = []
    if tr.height == 0:
        return {"type": "FeatureCollection", "features": feats}
    coords = np.column_stack([tr["lon"].to_numpy(), tr["lat"].to_numpy()]).tolist()
    times = tr.select(utc_expr("ts"))["ts"].to_list()
    sog, segs = tr["sog"].to_list(), tr["segment"].to_list()
    bounds = _piece_bounds(tr)
    for a, b in zip(bounds[:-1], bounds[1:]):
        feats.append({
            "type": "Feature",
            "temporalGeometry": {"type": "MovingPoint", "datetimes": times[a:b], "coordinates": coords[a:b],
                                 "interpolation": "Linear"},
            "temporalProperties": [{"datetimes": times[a:b],
                                    "sog": {"type": "Measure", "form": "[kn_i]", "values": sog[a:b],
                                            "interpolation": "Linear"}}],
            "properties": {"mmsi": mmsi, "name": name, "segment": segs[a]},
        })
    return {"type": "FeatureCollection", "features": feats}
