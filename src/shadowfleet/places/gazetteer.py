"""The gazetteer: named polygons (ports, berths, anchorages, terminals, STS areas, EEZs) and vectorised lookups.

Input is a GeoJSON FeatureCollection of Polygon/MultiPolygon features (docs/CONTRACTS.md). Geometries are kept in
lon/lat degrees; point-in-polygon runs through one shapely STRtree; distances are in km on the sphere.
A polygon drawn across the antimeridian (a ring stepping from 179.9 to -179.9 degrees, as many tools write it) is
split there into the two halves RFC 7946 section 3.1.9 asks for, instead of being read as a band round the globe.
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
from shadowfleet.places.geo import KM_PER_DEG_LAT

KINDS = ("port", "berth", "anchorage", "terminal", "sts_area", "eez", "zone")
# where a ship can make a port call (the port_call definition); "port" first, the places a port holds after it
PORT_KINDS = ("port", "berth", "anchorage", "terminal")
# A place lies inside another when at least this share of its area does; ours: a berth drawn along a quay may poke
# a few metres past its port polygon, and 90 % still keeps two neighbouring ports from nesting.
NEST_MIN_AREA_SHARE: float = 0.9
BUILTIN = "gazetteer.geojson"

_COUNTRY = re.compile(r"^[A-Z]{2}$")

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
    return float(local.area) * KM_PER_DEG_LAT**2


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
        unwrapped = geom
        if _crosses_antimeridian(geom):
            unwrapped, geom = _split_at_antimeridian(geom)
        xmin, ymin, xmax, ymax = geom.bounds
        if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90) or not all(
            map(math.isfinite, geom.bounds)
        ):
            raise _bad(i, fid, "coordinates outside lon -180..180 / lat -90..90 (GeoJSON order is lon, lat)")
        if not geom.is_valid:
            raise _bad(i, fid, f"invalid polygon: {shapely.is_valid_reason(geom)}")
        rep = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area).representative_point()
        rows.append(
            {
                "id": fid,
                "name": name,
                "kind": kind,
                "country": country,
                "lat": rep.y,
                "lon": rep.x,
                "area_km2": area_km2(unwrapped),
                "derived_from": derived,
                "uncertainty_m": float(unc) if unc is not None else None,
            }
        )
        geoms.append(geom)
    return rows, geoms


def _crosses_antimeridian(geom) -> bool:
    """True when a ring steps more than 180 degrees of longitude between two vertices: the shorter way round is
    across the antimeridian (RFC 7946 3.1.9: such a polygon should have been cut there)."""
    for poly in getattr(geom, "geoms", [geom]):
        for ring in (poly.exterior, *poly.interiors):
            if np.any(np.abs(np.diff(np.asarray(ring.coords)[:, 0])) > 180.0):
                return True
    return False


def _split_at_antimeridian(geom):
    """(the polygon with western longitudes shifted by +360, so it is whole; its two halves in -180..180)."""
    whole = shapely.transform(geom, lambda xy: np.column_stack([np.where(xy[:, 0] < 0, xy[:, 0] + 360.0, xy[:, 0]),
                                                                 xy[:, 1]]))
    whole = shapely.make_valid(whole) if not whole.is_valid else whole
    east = shapely.intersection(whole, shapely.box(0.0, -90.0, 180.0, 90.0))
    west = shapely.transform(shapely.intersection(whole, shapely.box(180.0, -90.0, 360.0, 90.0)),
                             lambda xy: xy - np.array([360.0, 0.0]))
    parts = [p for half in (east, west) for p in getattr(half, "geoms", [half])
             if p.geom_type == "Polygon" and not p.is_empty]
    return whole, shapely.MultiPolygon(parts)


class Places:
    """A set of named polygons with vectorised lookups: the one answer to "where is this point", "which places
    lie in which" and "which port holds this berth". Build with :func:`load_places`.

    Lookups come in two forms: by id (``locate``, ``within_km``, ``distance_km``, ``parent_port``) for callers
    that think in place ids, and by position in the table (``containing``, ``smallest_containing``,
    ``pairs_within_km``, ``distance_to``) for vectorised callers that join many points against many places;
    ``id_array``, ``kinds``, ``names``, ``area`` and ``centroid_lat``/``centroid_lon`` are indexed by that
    position."""

    def __init__(self, table: pl.DataFrame, geometries: Iterable[Any]):
        self.table: pl.DataFrame = table
        self.geometries = np.asarray(list(geometries), dtype=object)
        self._index = {pid: i for i, pid in enumerate(table["id"].to_list())}
        self.id_array = np.asarray(table["id"].to_list(), dtype=object)
        self.kinds = table["kind"].to_numpy().astype(str)
        self.names = np.asarray(table["name"].to_list(), dtype=object)
        self.area = table["area_km2"].to_numpy()
        if len(self.geometries):
            cent = shapely.centroid(self.geometries)
            self.centroid_lat, self.centroid_lon = shapely.get_y(cent), shapely.get_x(cent)
        else:
            self.centroid_lat = self.centroid_lon = np.zeros(0)
        # distances run on a local equirectangular projection per place (longitude scaled by the cosine of its
        # centroid's latitude): within a fraction of a percent of the sphere at the few-km scales of port work
        self._scale = np.cos(np.radians(self.centroid_lat))
        self._scaled = np.array([shapely.transform(g, lambda xy, k=k: xy * np.array([k, 1.0]))
                                 for g, k in zip(self.geometries, self._scale)], dtype=object)
        shapely.prepare(self.geometries)  # speeds up repeated point-in-polygon tests
        self._trees: dict[tuple[str, ...] | None, tuple[Any, np.ndarray]] = {}
        self._nested: tuple[np.ndarray, np.ndarray] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # the search trees are caches, rebuilt on first use where the object lands (e.g. a Dask worker)
        return {**self.__dict__, "_trees": {}, "_nested": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        shapely.prepare(self.geometries)

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

    def row(self, place_id: str) -> dict[str, Any]:
        """The table row (id, name, kind, country, lat, lon, ...) of one place."""
        return self.table.row(self._position(place_id), named=True)

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
            pos = np.arange(len(self)) if kinds is None else np.flatnonzero(np.isin(self.kinds, kinds))
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

    # --- lookups by position ------------------------------------------------------------------------------
    def containing(self, lat, lon, kinds: Iterable[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """All (point index, place position) pairs with the point inside (or on the edge of) a place of
        ``kinds``; NaN points have none."""
        la, lo, ok, pts = self._points(lat, lon)
        if not len(self) or not la.size:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        tree, pos = self._tree_for(kinds)
        pi, gi = tree.query(pts, predicate="intersects")
        keep = ok[pi]
        return pi[keep], pos[gi[keep]]

    def smallest_of(self, n: int, pi: np.ndarray, gi: np.ndarray) -> np.ndarray:
        """From (point, place position) pairs, per point the position of the smallest place (-1 for none): the
        smallest enclosing place wins, so a point on a berth inside a port gets the berth."""
        out = np.full(n, -1, dtype=np.int64)
        if pi.size:
            order = np.lexsort((self.area[gi], pi))
            pi, gi = pi[order], gi[order]
            first = np.r_[True, pi[1:] != pi[:-1]]
            out[pi[first]] = gi[first]
        return out

    def smallest_containing(self, lat, lon, kinds: Iterable[str] | None = None) -> np.ndarray:
        """Per point, the position of the smallest place of ``kinds`` containing it, or -1."""
        pi, gi = self.containing(lat, lon, kinds)
        return self.smallest_of(np.atleast_1d(np.asarray(lat)).shape[0], pi, gi)

    def pairs_within_km(self, lat, lon, km: float, kinds: Iterable[str] | None = None):
        """All (point index, place position, distance km) with the point inside or within ``km`` of the place."""
        if not (isinstance(km, (int, float)) and not isinstance(km, bool) and km >= 0):
            raise ShadowfleetError(f"places: distance must be a number ≥ 0 km, got {km!r}")
        la, lo, ok, pts = self._points(lat, lon)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        if not len(self) or not ok.any():
            return empty
        # search window in degrees: widest at the point's latitude (longitude degrees shrink with cos(lat))
        coslat = np.maximum(np.cos(np.radians(np.clip(np.abs(la) + 1.0, 0, 89.0))), 0.01)
        window = np.where(ok, km / KM_PER_DEG_LAT / coslat * 1.01 + 1e-9, 0.0)
        tree, pos = self._tree_for(kinds)
        pi, gi = tree.query(pts, predicate="dwithin", distance=window)
        keep = ok[pi]
        pi, gi = pi[keep], pos[gi[keep]]
        if not pi.size:
            return empty
        d = self.distance_to(la[pi], lo[pi], gi)
        keep = d <= km
        return pi[keep], gi[keep], d[keep]

    def distance_to(self, lat, lon, place_pos) -> np.ndarray:
        """Distance in km from each point to the place at the matching position (0 inside; NaN for NaN)."""
        place_pos = np.asarray(place_pos, dtype=np.int64)
        s = self._scale[place_pos]
        pts = shapely.points(np.asarray(lon, dtype=float) * s, np.asarray(lat, dtype=float))
        return shapely.distance(pts, self._scaled[place_pos]) * KM_PER_DEG_LAT

    def nested_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(inner, outer) positions where at least NEST_MIN_AREA_SHARE of place ``inner``'s area lies inside
        ``outer`` (every place with itself included)."""
        if self._nested is None:
            if not len(self):
                self._nested = (np.zeros(0, np.int64), np.zeros(0, np.int64))
            else:
                a, b = shapely.STRtree(self.geometries).query(self.geometries, predicate="intersects")
                inter = shapely.area(shapely.intersection(self.geometries[a], self.geometries[b]))
                own = shapely.area(self.geometries[a])
                keep = (a == b) | ((own > 0) & (inter >= NEST_MIN_AREA_SHARE * own))
                self._nested = (a[keep], b[keep])
        return self._nested

    def port_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(place, port) positions: each berth, anchorage or terminal lying in a port polygon (by the nesting
        rule of :meth:`nested_pairs`). Only a port holds other places: a berth drawn inside an anchorage is
        still a stop of its own."""
        inner, outer = self.nested_pairs()
        keep = (inner != outer) & (self.kinds[outer] == "port") & np.isin(self.kinds[inner], PORT_KINDS[1:])
        return inner[keep], outer[keep]

    # --- lookups by id ------------------------------------------------------------------------------------
    def locate(self, lat, lon, kinds: Iterable[str] | None = PORT_KINDS) -> np.ndarray:
        """Id of the smallest place of ``kinds`` containing each point (boundary included), else None.

        The smallest enclosing place wins, so a point on a berth inside a port gets the berth. NaN → None."""
        idx = self.smallest_containing(lat, lon, kinds)
        out = np.full(idx.shape, None, dtype=object)
        out[idx >= 0] = self.id_array[idx[idx >= 0]]
        return out

    def within_km(self, lat, lon, km: float, kinds: Iterable[str] | None = PORT_KINDS):
        """Nearest place of ``kinds`` within ``km`` of each point: (ids object array, distance_km float array).

        Distance is 0 inside a place (then the smallest enclosing place wins); None / NaN when nothing is that
        close."""
        n = np.atleast_1d(np.asarray(lat)).shape[0]
        ids = np.full(n, None, dtype=object)
        dist = np.full(n, np.nan)
        pi, gi, d = self.pairs_within_km(lat, lon, km, kinds)
        if pi.size:
            order = np.lexsort((self.area[gi], d, pi))
            pi, gi, d = pi[order], gi[order], d[order]
            first = np.r_[True, pi[1:] != pi[:-1]]
            ids[pi[first]] = self.id_array[gi[first]]
            dist[pi[first]] = d[first]
        return ids, dist

    def distance_km(self, lat, lon, place_id: str) -> np.ndarray:
        """Distance in km from each point to the place (0 inside it; NaN for NaN positions)."""
        i = self._position(place_id)
        la, lo, ok, _ = self._points(lat, lon)
        out = np.full(la.shape, np.nan)
        if ok.any():
            out[ok] = self.distance_to(la[ok], lo[ok], np.full(int(ok.sum()), i))
        return out

    def parent_ports(self) -> dict[str, str]:
        """{berth/anchorage/terminal id: id of the port holding it} (see :meth:`port_pairs`)."""
        inner, outer = self.port_pairs()
        return {str(self.id_array[i]): str(self.id_array[o]) for i, o in zip(inner, outer)}

    def nesting(self) -> set[tuple[str, str]]:
        """(place id, port id) pairs: the places each port holds (see :meth:`port_pairs`)."""
        inner, outer = self.port_pairs()
        return {(str(self.id_array[i]), str(self.id_array[o])) for i, o in zip(inner, outer)}

    def country_near(self, lat, lon, km: float) -> np.ndarray:
        """Country of the nearest place (any kind, EEZ included) within ``km`` of each point, else None."""
        ids, _ = self.within_km(lat, lon, km, kinds=None)
        country = dict(zip(self.table["id"].to_list(), self.table["country"].to_list()))
        return np.array([None if i is None else country[i] for i in ids], dtype=object)

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
    except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: arrays nested too deep
        raise ShadowfleetError(f"places: {origin} is not valid JSON: {exc}") from None
    return places_from_geojson(doc, origin)


def as_places(places: Places | None) -> Places:
    """``places`` itself, or the built-in gazetteer for None. Library functions take a loaded :class:`Places`;
    a file path is resolved once, by the caller, with :func:`load_places`."""
    if places is None:
        return load_places()
    if not isinstance(places, Places):
        raise ShadowfleetError(f"places: expected a Places (load a GeoJSON file with load_places), "
                               f"got {type(places).__name__}")
    return places
