"""The gazetteer: named polygons (ports, berths, anchorages, terminals, STS areas, EEZs) and vectorised lookups.

Input is a GeoJSON FeatureCollection of Polygon/MultiPolygon features (docs/CONTRACTS.md). Geometries are kept in
lon/lat degrees; point-in-polygon runs through one shapely STRtree; distances are in km on the sphere.
Polygons crossing the antimeridian are not supported (none in the built-in area).
"""

from __future__ import annotations

import json
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import polars as pl
import shapely
from shapely.geometry import mapping, shape

from shadowfleet.errors import ShadowfleetError
from shadowfleet.places.geo import EARTH_RADIUS_KM, haversine_km

KINDS = ("port", "berth", "anchorage", "terminal", "sts_area", "eez", "zone")
# where a ship can make a port call (DESIGN.md port_call definition)
PORT_KINDS = ("port", "berth", "anchorage", "terminal")
BUILTIN = "gazetteer.geojson"

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_KM_PER_DEG_LAT = math.pi * EARTH_RADIUS_KM / 180.0

TABLE_SCHEMA = {
    "id": pl.Utf8,
    "name": pl.Utf8,
    "kind": pl.Utf8,
    "country": pl.Utf8,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "area_km2": pl.Float64,
    "derived_from": pl.Utf8,
    "uncertainty_m": pl.Float64,
}


def area_km2(geom) -> float:
    """Area of a lon/lat polygon in km², on a local equirectangular projection around its centroid (fine at
    port scale; ~1% off for an EEZ spanning several degrees of latitude)."""
    c = geom.centroid
    k = math.cos(math.radians(c.y))
    local = shapely.transform(geom, lambda xy: np.column_stack([xy[:, 0] * k, xy[:, 1]]))
    return float(local.area) * _KM_PER_DEG_LAT**2


def _bad(i: int, fid: Any, problem: str) -> ShadowfleetError:
    label = f" (id {fid!r})" if fid is not None else ""
    return ShadowfleetError(f"places: feature {i}{label}: {problem}")


def _parse_features(doc: Any, origin: str) -> tuple[list[dict[str, Any]], list[Any]]:
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ShadowfleetError(f"places: {origin} is not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise ShadowfleetError(f"places: {origin} has no features")
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    seen: set[str] = set()
    for i, feat in enumerate(features):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            raise _bad(i, None, "not a GeoJSON Feature")
        props = feat.get("properties")
        if not isinstance(props, dict):
            raise _bad(i, None, "has no properties")
        fid = props.get("id")
        if not isinstance(fid, str) or not fid.strip():
            raise _bad(i, fid, "property 'id' must be a non-empty string")
        if fid in seen:
            raise _bad(i, fid, "duplicate id")
        seen.add(fid)
        name = props.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _bad(i, fid, "property 'name' must be a non-empty string")
        kind = props.get("kind")
        if kind not in KINDS:
            raise _bad(i, fid, f"property 'kind' is {kind!r}, expected one of {', '.join(KINDS)}")
        country = props.get("country")
        if not isinstance(country, str) or not _COUNTRY.match(country):
            raise _bad(i, fid, f"property 'country' is {country!r}, expected an ISO 3166 alpha-2 code like 'KP'")
        unc = props.get("uncertainty_m")
        if unc is not None and (isinstance(unc, bool) or not isinstance(unc, (int, float)) or not unc >= 0):
            raise _bad(i, fid, f"property 'uncertainty_m' is {unc!r}, expected a number ≥ 0 or null")
        derived = props.get("derived_from")
        if derived is not None and not isinstance(derived, str):
            raise _bad(i, fid, "property 'derived_from' must be text or null")
        g = feat.get("geometry")
        if not isinstance(g, dict) or g.get("type") not in ("Polygon", "MultiPolygon"):
            gtype = g.get("type") if isinstance(g, dict) else None
            raise _bad(i, fid, f"geometry must be a Polygon or MultiPolygon, got {gtype!r}")
        try:
            geom = shape(g)
        except Exception as exc:  # shapely raises several types on malformed coordinates
            raise _bad(i, fid, f"malformed coordinates: {exc}") from None
        if geom.is_empty:
            raise _bad(i, fid, "empty geometry")
        xmin, ymin, xmax, ymax = geom.bounds
        if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90) or not all(
            map(math.isfinite, geom.bounds)
        ):
            raise _bad(i, fid, "coordinates outside lon -180..180 / lat -90..90 (GeoJSON order is lon, lat)")
        if not geom.is_valid:
            raise _bad(i, fid, f"invalid polygon: {shapely.is_valid_reason(geom)}")
        rep = geom.representative_point()
        rows.append(
            {
                "id": fid,
                "name": name,
                "kind": kind,
                "country": country,
                "lat": rep.y,
                "lon": rep.x,
                "area_km2": area_km2(geom),
                "derived_from": derived,
                "uncertainty_m": float(unc) if unc is not None else None,
            }
        )
        geoms.append(geom)
    return rows, geoms


class Places:
    """A set of named polygons with vectorised lookups. Build with :func:`load_places`."""

    def __init__(self, table: pl.DataFrame, geometries: Iterable[Any]):
        self.table: pl.DataFrame = table
        self.geometries = np.asarray(list(geometries), dtype=object)
        self._index = {pid: i for i, pid in enumerate(table["id"].to_list())}
        self._kind = table["kind"].to_numpy().astype(str)
        self._area = table["area_km2"].to_numpy()
        self._ids = np.asarray(table["id"].to_list(), dtype=object)
        shapely.prepare(self.geometries)  # speeds up repeated point-in-polygon tests
        self._trees: dict[tuple[str, ...] | None, tuple[Any, np.ndarray]] = {}

    # --- basics -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.table.height

    def __contains__(self, place_id: object) -> bool:
        return place_id in self._index

    @property
    def ids(self) -> list[str]:
        return self.table["id"].to_list()

    def geometry(self, place_id: str):
        """The shapely geometry (lon/lat) of one place."""
        return self.geometries[self._position(place_id)]

    def _position(self, place_id: str) -> int:
        try:
            return self._index[place_id]
        except KeyError:
            raise ShadowfleetError(f"places: unknown place id {place_id!r}") from None

    def _tree_for(self, kinds: Iterable[str] | None) -> tuple[Any, np.ndarray]:
        """An STRtree over the places of ``kinds`` and their positions in the table (cached per kinds): a query
        for ports never tests points against a 3,000-vertex EEZ."""
        if kinds is not None:
            kinds = (kinds,) if isinstance(kinds, str) else tuple(sorted(set(kinds)))
            unknown = sorted(set(kinds) - set(KINDS))
            if unknown:
                raise ShadowfleetError(f"places: unknown kind(s) {', '.join(unknown)}; expected {', '.join(KINDS)}")
        if kinds not in self._trees:
            pos = np.arange(len(self)) if kinds is None else np.flatnonzero(np.isin(self._kind, kinds))
            self._trees[kinds] = (shapely.STRtree(self.geometries[pos]), pos)
        return self._trees[kinds]

    @staticmethod
    def _points(lat, lon) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        la = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lo = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        if la.shape != lo.shape:
            raise ShadowfleetError(f"places: lat and lon differ in shape ({la.shape} vs {lo.shape})")
        ok = np.isfinite(la) & np.isfinite(lo)
        return la, lo, ok, shapely.points(np.where(ok, lo, 0.0), np.where(ok, la, 0.0))

    # --- lookups ------------------------------------------------------------------------------------------
    def locate(self, lat, lon, kinds: Iterable[str] | None = PORT_KINDS) -> np.ndarray:
        """Id of the smallest place of ``kinds`` containing each point (boundary included), else None.

        The smallest enclosing place wins, so a point on a berth inside a port gets the berth. NaN → None."""
        la, lo, ok, pts = self._points(lat, lon)
        out = np.full(la.shape, None, dtype=object)
        tree, pos = self._tree_for(kinds)
        pi, gi = tree.query(pts, predicate="intersects")
        keep = ok[pi]
        pi, gi = pi[keep], pos[gi[keep]]
        if pi.size:
            # per point, the candidate of least area: sort by (point, area) and take each point's first row
            order = np.lexsort((self._area[gi], pi))
            pi, gi = pi[order], gi[order]
            first = np.r_[True, pi[1:] != pi[:-1]]
            out[pi[first]] = self._ids[gi[first]]
        return out

    def within_km(self, lat, lon, km: float, kinds: Iterable[str] | None = PORT_KINDS):
        """Nearest place of ``kinds`` within ``km`` of each point: (ids object array, distance_km float array).

        Distance is 0 inside a place (then the smallest enclosing place wins); None / NaN when nothing is that
        close. The nearest point of each polygon is found in lon/lat space and measured on the sphere, exact
        inside a polygon and within a few % at port scale."""
        if not (isinstance(km, (int, float)) and km >= 0):
            raise ShadowfleetError(f"places: distance must be a number ≥ 0 km, got {km!r}")
        la, lo, ok, pts = self._points(lat, lon)
        ids = np.full(la.shape, None, dtype=object)
        dist = np.full(la.shape, np.nan)
        # search window in degrees: widest at the point's latitude (longitude degrees shrink with cos(lat))
        coslat = np.maximum(np.cos(np.radians(np.clip(np.abs(la), 0, 89.0))), 0.01)
        window = np.where(ok, km / _KM_PER_DEG_LAT / coslat * 1.01 + 1e-9, 0.0)
        tree, pos = self._tree_for(kinds)
        pi, gi = tree.query(pts, predicate="dwithin", distance=window)
        keep = ok[pi]
        pi, gi = pi[keep], pos[gi[keep]]
        if not pi.size:
            return ids, dist
        d = self._pair_distance_km(pts[pi], gi, la[pi], lo[pi])
        close = d <= km
        pi, gi, d = pi[close], gi[close], d[close]
        if pi.size:
            order = np.lexsort((self._area[gi], d, pi))
            pi, gi, d = pi[order], gi[order], d[order]
            first = np.r_[True, pi[1:] != pi[:-1]]
            ids[pi[first]] = self._ids[gi[first]]
            dist[pi[first]] = d[first]
        return ids, dist

    def _pair_distance_km(self, pts: np.ndarray, gi: np.ndarray, la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        geoms = self.geometries[gi]
        inside = shapely.intersects(pts, geoms)
        d = np.zeros(gi.shape)
        if (~inside).any():
            lines = shapely.shortest_line(pts[~inside], geoms[~inside])
            end = shapely.get_point(lines, 1)
            d[~inside] = haversine_km(la[~inside], lo[~inside], shapely.get_y(end), shapely.get_x(end))
        return d

    def distance_km(self, lat, lon, place_id: str) -> np.ndarray:
        """Distance in km from each point to the place (0 inside it; NaN for NaN positions)."""
        i = self._position(place_id)
        la, lo, ok, pts = self._points(lat, lon)
        out = np.full(la.shape, np.nan)
        if ok.any():
            out[ok] = self._pair_distance_km(pts[ok], np.full(int(ok.sum()), i), la[ok], lo[ok])
        return out

    # --- export -------------------------------------------------------------------------------------------
    def subset(self, ids: Iterable[str]) -> "Places":
        """A Places holding only ``ids`` (in the given order); an unknown id is an error."""
        ids = list(ids)
        pos = [self._position(pid) for pid in ids]
        if not pos:
            raise ShadowfleetError("places: subset of no places")
        return Places(self.table[pos], self.geometries[pos])

    def to_geojson(self, path: str | Path | None = None) -> dict[str, Any]:
        """The places as a GeoJSON FeatureCollection dict (written to ``path`` too when given)."""
        feats = []
        for row, geom in zip(self.table.iter_rows(named=True), self.geometries):
            props = {k: row[k] for k in ("id", "name", "kind", "country", "derived_from", "uncertainty_m")}
            feats.append({"type": "Feature", "properties": props, "geometry": mapping(geom)})
        doc = {"type": "FeatureCollection", "features": feats}
        if path is not None:
            Path(path).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        return doc

    def __repr__(self) -> str:
        return f"Places({len(self)} places: {', '.join(self.ids[:6])}{'…' if len(self) > 6 else ''})"


def places_from_geojson(doc: Any, origin: str = "GeoJSON") -> Places:
    """A validated :class:`Places` from a parsed GeoJSON FeatureCollection."""
    rows, geoms = _parse_features(doc, origin)
    return Places(pl.DataFrame(rows, schema=TABLE_SCHEMA), geoms)


def load_places(path: str | Path | None = None) -> Places:
    """Load a gazetteer: the built-in one (Russian Far East, DPRK, Yellow Sea) when ``path`` is None, else the
    user's GeoJSON (which replaces it). Each bad feature raises a ShadowfleetError naming its index."""
    if path is None:
        text = resources.files("shadowfleet.places").joinpath("data", BUILTIN).read_text(encoding="utf-8")
        origin = "built-in gazetteer"
    else:
        p = Path(path)
        if not p.is_file():
            raise ShadowfleetError(f"places file not found: {p}")
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ShadowfleetError(f"places: cannot read {p}: {exc}") from None
        origin = str(p)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ShadowfleetError(f"places: {origin} is not valid JSON: {exc}") from None
    return places_from_geojson(doc, origin)
