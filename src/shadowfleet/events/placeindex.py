"""Vectorised place look-ups the detectors need: smallest enclosing place, places within a distance.

Built from GeoJSON features (the gazetteer contract in docs/CONTRACTS.md: properties id, name, kind). Distances
are computed on a local equirectangular projection per place (lon scaled by cos of the place's latitude), which
is within a fraction of a percent of the geodesic distance at the few-km scales used here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import shapely
from shapely.geometry import shape

from shadowfleet.errors import ShadowfleetError
from shadowfleet.events.config import NEST_MIN_AREA_SHARE

KM_PER_DEG = 111.32  # km per degree of latitude (mean), WGS84


class PlaceIndex:
    def __init__(self, features: Iterable[dict[str, Any]]):
        ids, names, kinds, geoms = [], [], [], []
        for i, feat in enumerate(features):
            props = feat.get("properties") or {}
            pid = props.get("id")
            if pid is None or feat.get("geometry") is None:
                raise ShadowfleetError(f"place feature {i} has no id or no geometry")
            try:
                g = shape(feat["geometry"])
            except Exception as exc:  # shapely raises several types for malformed geometry
                raise ShadowfleetError(f"place {pid}: invalid geometry ({exc})") from None
            if g.geom_type not in ("Polygon", "MultiPolygon"):
                continue  # the contract has polygons only; points/lines cannot contain a stop
            ids.append(str(pid))
            names.append(props.get("name"))
            kinds.append(props.get("kind"))
            geoms.append(g)
        self.ids = np.array(ids, dtype=object)
        self.names = np.array(names, dtype=object)
        self.kinds = np.array(kinds, dtype=object)
        self.geoms = np.array(geoms, dtype=object)
        n = len(ids)
        if n:
            cent = shapely.centroid(self.geoms)
            self.lon_c = shapely.get_x(cent)
            self.lat_c = shapely.get_y(cent)
            self._scale = np.cos(np.radians(self.lat_c))
            self._scaled = np.array(
                [shapely.transform(g, lambda xy, s=s: xy * np.array([s, 1.0])) for g, s in zip(geoms, self._scale)],
                dtype=object,
            )
            self.area_km2 = shapely.area(self._scaled) * KM_PER_DEG**2
            self._tree = shapely.STRtree(self.geoms)
        else:
            self.lon_c = self.lat_c = self._scale = self.area_km2 = np.zeros(0)
            self._scaled = np.array([], dtype=object)
            self._tree = None

    def nested_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(inner, outer) index pairs where place ``inner`` lies (>= NEST_MIN_AREA_SHARE of its area) inside
        ``outer``, incl. i==i."""
        n = len(self.ids)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        a, b = self._tree.query(self.geoms, predicate="intersects")
        inter = shapely.area(shapely.intersection(self.geoms[a], self.geoms[b]))
        own = shapely.area(self.geoms[a])
        keep = (a == b) | ((own > 0) & (inter >= NEST_MIN_AREA_SHARE * own))
        return a[keep], b[keep]

    def __len__(self) -> int:
        return len(self.ids)

    # ---- construction --------------------------------------------------------------------------------------
    @classmethod
    def from_geojson(cls, path: str | Path) -> "PlaceIndex":
        """A places file read and validated by the places stage (one GeoJSON reader, one set of messages)."""
        from shadowfleet.places import load_places

        return cls(load_places(path).to_geojson()["features"])

    @classmethod
    def of(cls, places: Any) -> "PlaceIndex":
        """Accept a PlaceIndex, a GeoJSON path, a FeatureCollection dict, a places-stage Places, or None (built-in)."""
        from shadowfleet.places import Places, load_places

        if isinstance(places, PlaceIndex):
            return places
        if isinstance(places, (str, Path)):
            return cls.from_geojson(places)
        if isinstance(places, dict) and "features" in places:
            return cls(places["features"])
        if places is None:
            places = load_places()
        if isinstance(places, Places):
            return cls(places.to_geojson()["features"])
        raise ShadowfleetError(f"cannot read places from {type(places).__name__}")

    # ---- look-ups ------------------------------------------------------------------------------------------
    def _kind_mask(self, kinds: Iterable[str] | None) -> np.ndarray:
        if kinds is None:
            return np.ones(len(self.ids), dtype=bool)
        return np.isin(self.kinds.astype(str), list(kinds))

    def containing(self, lat, lon, kinds: Iterable[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """All (point index, place index) pairs with the point inside (or on the edge of) a place of ``kinds``."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        if self._tree is None or lat.shape[0] == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        ok = np.isfinite(lat) & np.isfinite(lon)
        pts = shapely.points(np.where(ok, lon, 0.0), np.where(ok, lat, 0.0))
        pi, gi = self._tree.query(pts, predicate="intersects")
        keep = self._kind_mask(kinds)[gi] & ok[pi]
        return pi[keep], gi[keep]

    def smallest_of(self, n: int, pi: np.ndarray, gi: np.ndarray) -> np.ndarray:
        """From (point, place) pairs, per point the smallest place index, -1 for points without a pair."""
        out = np.full(n, -1, dtype=np.int64)
        if pi.size == 0:
            return out
        order = np.lexsort((self.area_km2[gi], pi))
        pi, gi = pi[order], gi[order]
        first = np.ones(pi.size, dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        out[pi[first]] = gi[first]
        return out

    def smallest_containing(self, lat, lon, kinds: Iterable[str] | None = None) -> np.ndarray:
        """Per point, the index of the smallest place (by area) of the given kinds containing it, or -1."""
        lat = np.asarray(lat, dtype=float)
        out = np.full(lat.shape[0], -1, dtype=np.int64)
        pi, gi = self.containing(lat, lon, kinds)
        if pi.size == 0:
            return out
        order = np.lexsort((self.area_km2[gi], pi))  # by point, then area ascending
        pi, gi = pi[order], gi[order]
        first = np.ones(pi.size, dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        out[pi[first]] = gi[first]
        return out

    def within_km(self, lat, lon, km: float, kinds: Iterable[str] | None = None):
        """All (point index, place index, distance km) with the point inside or within ``km`` of the place."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        if self._tree is None or lat.shape[0] == 0:
            return empty
        ok = np.isfinite(lat) & np.isfinite(lon)
        pts = shapely.points(np.where(ok, lon, 0.0), np.where(ok, lat, 0.0))
        # degrees of longitude per km grow with latitude: a generous search radius, then the exact filter
        cosmin = max(math.cos(math.radians(min(float(np.nanmax(np.abs(np.where(ok, lat, 0)))) + 1, 89.0))), 0.01)
        pi, gi = self._tree.query(pts, predicate="dwithin", distance=km / KM_PER_DEG / cosmin)
        keep = self._kind_mask(kinds)[gi] & ok[pi]
        pi, gi = pi[keep], gi[keep]
        if pi.size == 0:
            return empty
        d = self.distance_km(lat[pi], lon[pi], gi)
        keep = d <= km
        return pi[keep], gi[keep], d[keep]

    def distance_km(self, lat, lon, place_idx) -> np.ndarray:
        """Distance from each point to the polygon of the matching place (0 inside)."""
        place_idx = np.asarray(place_idx, dtype=np.int64)
        s = self._scale[place_idx]
        pts = shapely.points(np.asarray(lon, dtype=float) * s, np.asarray(lat, dtype=float))
        return shapely.distance(pts, self._scaled[place_idx]) * KM_PER_DEG
