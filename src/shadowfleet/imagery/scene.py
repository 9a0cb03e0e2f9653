"""A satellite scene as the detectors see it: bands read by window, pixel → lat/lon, footprint, time, geometry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from shadowfleet.errors import ShadowfleetError

# ESA Sentinel-1 user guide: the radar looks to the right of the satellite's track
LOOK_SIDE_RIGHT = True


class AffineGeo:
    """Pixel centres → lat/lon through the file's affine transform and CRS."""

    def __init__(self, transform, crs):
        from pyproj import Transformer

        self.transform = transform
        self._to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def latlon(self, rows, cols) -> tuple[np.ndarray, np.ndarray]:
        r = np.asarray(rows, dtype=np.float64) + 0.5
        c = np.asarray(cols, dtype=np.float64) + 0.5
        t = self.transform
        x = t.a * c + t.b * r + t.c
        y = t.d * c + t.e * r + t.f
        lon, lat = self._to_wgs84.transform(x, y)
        return np.asarray(lat), np.asarray(lon)


class GridGeo:
    """Pixel → lat/lon interpolated in a grid of tie points (a Sentinel-1 annotation's geolocation grid or a
    file's GCPs): piecewise linear over their triangulation, nearest tie point outside it."""

    def __init__(self, lines, pixels, lats, lons):
        from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator

        pts = np.column_stack([np.asarray(lines, dtype=np.float64), np.asarray(pixels, dtype=np.float64)])
        vals = np.column_stack([np.asarray(lats, dtype=np.float64), np.asarray(lons, dtype=np.float64)])
        if len(pts) < 3:
            raise ShadowfleetError("fewer than 3 geolocation tie points")
        self._lin = LinearNDInterpolator(pts, vals)
        self._near = NearestNDInterpolator(pts, vals)

    def latlon(self, rows, cols) -> tuple[np.ndarray, np.ndarray]:
        r = np.asarray(rows, dtype=np.float64)
        c = np.asarray(cols, dtype=np.float64)
        shape = np.broadcast(r, c).shape
        q = np.column_stack([np.broadcast_to(r, shape).ravel(), np.broadcast_to(c, shape).ravel()])
        v = self._lin(q)
        bad = ~np.isfinite(v[:, 0])
        if bad.any():
            v[bad] = self._near(q[bad])
        return v[:, 0].reshape(shape), v[:, 1].reshape(shape)


@dataclass
class Band:
    path: str  # a path rasterio opens (/vsizip/... for a band inside a zip)
    index: int = 1  # 1-based band number in that file


@dataclass
class Scene:
    """One scene: ``bands`` maps a band name (VV, VH; B02, B03, B04, B08; R, G, B, A) to where it is read."""

    scene_id: str
    sensor: str  # "sar" or "optical"
    source: str  # the file or folder the user named
    acquired: dt.datetime
    width: int
    height: int
    bands: dict[str, Band]
    geo: AffineGeo | GridGeo
    pixel_m: float
    # how pixel values become linear backscatter (sar: intensity) or 0-1 reflectance (optical)
    scale: str = "amplitude"  # sar: amplitude (DN, squared), intensity (linear), db; optical: dn8 (0-255), dn16 (/10000)
    reflectance_offset: float = 0.0  # Sentinel-2 baseline >= 04.00: RADIO_ADD_OFFSET = -1000 DN (ESA)
    # radar geometry where known: range over platform speed (seconds) and the along-track bearing
    range_over_velocity_s: float | None = None
    track_bearing_deg: float | None = None
    nodata: float | None = 0.0
    notes: dict = field(default_factory=dict)

    def latlon(self, rows, cols) -> tuple[np.ndarray, np.ndarray]:
        return self.geo.latlon(rows, cols)

    def footprint(self):
        """The scene's outline (shapely Polygon, lon/lat) from its geolocated edges."""
        from shapely.geometry import Polygon

        n = 16
        h, w = self.height - 1, self.width - 1
        t = np.linspace(0, 1, n, endpoint=False)
        rows = np.concatenate([np.zeros(n), t * h, np.full(n, h), (1 - t) * h])
        cols = np.concatenate([t * w, np.full(n, w), (1 - t) * w, np.zeros(n)])
        lat, lon = self.latlon(rows, cols)
        return Polygon(np.column_stack([lon, lat]))

    def read(self, band: str, window) -> np.ndarray:
        """One band's pixels in ``window`` (rasterio Window) as float32, in the units ``scale`` names converted to
        linear intensity (sar) or 0-1 reflectance (optical); no-data pixels are NaN."""
        import rasterio

        b = self.bands[band]
        with rasterio.open(b.path) as src:
            raw = src.read(b.index, window=window)
        return to_physical(raw, self.sensor, self.scale, self.nodata, self.reflectance_offset)


def to_physical(raw: np.ndarray, sensor: str, scale: str, nodata, offset: float = 0.0) -> np.ndarray:
    if sensor == "sar" and scale == "amplitude" and raw.dtype.kind in "ui":
        x = np.square(raw, dtype=np.float32)  # one pass: intensity from amplitude DN
        if nodata is not None:
            x[raw == nodata] = np.nan
        return x
    x = raw.astype(np.float32, copy=True)
    bad = ~np.isfinite(x)
    if nodata is not None:
        bad |= raw == nodata
    if sensor == "sar":
        if scale == "amplitude":
            np.square(x, out=x)
        elif scale == "db":
            x = np.power(np.float32(10.0), x / np.float32(10.0), dtype=np.float32)
    else:
        if scale == "dn8":
            x /= np.float32(255.0)
        elif scale == "dn16":
            x = (x + np.float32(offset)) / np.float32(10000.0)
    x[bad] = np.nan
    return x


ProgressFn = Callable[[str], None]
