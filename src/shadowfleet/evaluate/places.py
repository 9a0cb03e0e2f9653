"""Which places nest inside which (a berth inside its port), for matching a port call at either level."""

from __future__ import annotations

from pathlib import Path

from shadowfleet.errors import ShadowfleetError
from shadowfleet.evaluate.config import PORT_PLACE_KINDS

# ours: a berth polygon drawn along a quay may poke a few metres past the port polygon; 90 % of its area inside
# is "inside" without letting two neighbouring ports nest.
INSIDE_AREA_FRACTION = 0.9


def nesting_from_geojson(places: str | Path | dict) -> set[tuple[str, str]]:
    """(inner id, port id) pairs: berths, anchorages and terminals lying inside a port polygon (docs/CONTRACTS.md)."""
    from shapely.geometry import shape

    if isinstance(places, dict):
        doc = places
    else:
        # a file goes through the places stage's reader: same validation and one-line messages as `detect`
        from shadowfleet.places import load_places

        doc = load_places(places).to_geojson()
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        raise ShadowfleetError("places: expected a GeoJSON FeatureCollection with 'features'")
    geoms, kinds = {}, {}
    for f in feats:
        props = (f or {}).get("properties") or {}
        if props.get("kind") not in PORT_PLACE_KINDS or props.get("id") is None:
            continue
        try:
            g = shape(f["geometry"])
        except Exception as exc:  # shapely raises several types for malformed geometry
            raise ShadowfleetError(f"places: feature {props.get('id')!r} has an invalid geometry ({exc})") from None
        if not g.is_valid:
            g = g.buffer(0)
        geoms[str(props["id"])] = g
        kinds[str(props["id"])] = props["kind"]
    pairs = set()
    # A gazetteer has tens of port-like places; all pairs is fine here (not a per-position path).
    items = list(geoms.items())
    for a, ga in items:
        if ga.area == 0:
            continue
        for b, gb in items:
            # only a port holds sub-places: an oil berth drawn inside an anchorage polygon is still another stop
            if kinds[b] == "port" and kinds[a] != "port" and ga.area < gb.area and ga.intersection(gb).area >= INSIDE_AREA_FRACTION * ga.area:
                pairs.add((a, b))
    return pairs


def nesting_from_ids(ids) -> set[tuple[str, str]]:
    """Fallback without polygons: the gazetteer's naming convention, "RUVYP-OIL" is inside "RUVYP"."""
    ids = {str(i) for i in ids if i is not None}
    pairs = set()
    for i in ids:
        parts = i.split("-")
        for k in range(1, len(parts)):
            outer = "-".join(parts[:k])
            if outer in ids:
                pairs.add((i, outer))
    return pairs
