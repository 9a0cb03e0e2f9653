"""A known-structures layer: a GeoJSON FeatureCollection of fixed objects (platforms, buoys, jetty heads,
breakwater ends) whose bright returns are not ships. Points, lines or polygons; `properties.id`, `kind` and
`name` are kept when present. Every problem is one ShadowfleetError naming the file (and the feature)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.store.schema import STRUCTURES

# ours: a port's structures fit in kilobytes; a file far larger is not such a layer
MAX_STRUCTURES_BYTES = 64 * 1024 * 1024
GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")


def read_structures(path: str | Path) -> pl.DataFrame:
    """The layer as rows of the `structures` table (geometry kept as GeoJSON text)."""
    import shapely

    p = Path(path)
    if not p.is_file():
        raise ShadowfleetError(f"structures file not found: {p}")
    if p.stat().st_size > MAX_STRUCTURES_BYTES:
        raise ShadowfleetError(f"{p}: larger than {MAX_STRUCTURES_BYTES // 2**20} MB; not a structures layer")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: arrays nested too deep
        raise ShadowfleetError(f"{p}: not valid GeoJSON: {exc}") from None
    feats = doc.get("features") if isinstance(doc, dict) and doc.get("type") == "FeatureCollection" else None
    if not isinstance(feats, list):
        raise ShadowfleetError(f"{p}: not a GeoJSON FeatureCollection")
    rows = []
    for i, f in enumerate(feats):
        geom = f.get("geometry") if isinstance(f, dict) else None
        if not isinstance(geom, dict) or geom.get("type") not in GEOMETRY_TYPES:
            raise ShadowfleetError(f"{p}: feature {i}: geometry must be one of {', '.join(GEOMETRY_TYPES)}")
        try:
            g = shapely.from_geojson(json.dumps(geom))
        except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
            raise ShadowfleetError(f"{p}: feature {i}: bad geometry: {exc}") from None
        lo0, la0, lo1, la1 = g.bounds if not g.is_empty else (float("nan"),) * 4
        if g.is_empty or not (-180 <= lo0 <= lo1 <= 180 and -90 <= la0 <= la1 <= 90):
            raise ShadowfleetError(f"{p}: feature {i}: coordinates must be lon/lat degrees")
        props = f.get("properties") if isinstance(f.get("properties"), dict) else {}
        text = lambda k: None if props.get(k) is None else str(props[k])  # noqa: E731
        rows.append({"structure_id": text("id") or f"{p.stem}-{i + 1}", "kind": text("kind"), "name": text("name"),
                     "geometry": shapely.to_geojson(g), "source": str(p)})
    return pl.DataFrame(rows, schema=STRUCTURES)
