"""Any georeferenced GeoTIFF: a radar image (one band per polarisation, amplitude, linear or dB) or a true-colour
RGB(A) image. Georeferencing from the CRS and transform, else from the file's GCPs."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.readers import parse_utc, time_from_name
from shadowfleet.imagery.scene import AffineGeo, Band, GridGeo, Scene

# tags the simulator (and anyone) may write to describe a radar image
TAG_SENSOR = "SHADOWFLEET_SENSOR"
TAG_TIME = "SHADOWFLEET_ACQUIRED"
TAG_SCALE = "SHADOWFLEET_SCALE"
TAG_ROV = "SHADOWFLEET_RANGE_OVER_VELOCITY_S"
TAG_TRACK = "SHADOWFLEET_TRACK_BEARING_DEG"
TAG_SCENE = "SHADOWFLEET_SCENE_ID"
_POL = re.compile(r"(?:^|[-_.])(vv|vh|hh|hv)(?:[-_.]|$)", re.IGNORECASE)


def georeference(src):
    """AffineGeo from a real CRS + transform, else GridGeo from GCPs; a ShadowfleetError when neither."""
    identity = src.transform.is_identity or (src.transform.a == 1 and src.transform.e in (1, -1)
                                             and src.transform.c == 0 and src.transform.f == 0)
    if src.crs is not None and not identity:
        return AffineGeo(src.transform, src.crs)
    gcps, gcp_crs = src.gcps
    if gcps:
        rows = np.array([g.row for g in gcps])
        cols = np.array([g.col for g in gcps])
        xs = np.array([g.x for g in gcps])
        ys = np.array([g.y for g in gcps])
        if gcp_crs is not None and not gcp_crs.is_geographic:
            from pyproj import Transformer

            xs, ys = Transformer.from_crs(gcp_crs, "EPSG:4326", always_xy=True).transform(xs, ys)
        return GridGeo(rows, cols, ys, xs)
    raise ShadowfleetError("not georeferenced (no CRS and transform, no GCPs)")


def pixel_size_m(geo, width: int, height: int) -> float:
    r = np.array([height / 2, height / 2, height / 2 + 1])
    c = np.array([width / 2, width / 2 + 1, width / 2])
    lat, lon = geo.latlon(r, c)
    k = 111_195.0
    dx = np.hypot((lat[1] - lat[0]) * k, (lon[1] - lon[0]) * k * np.cos(np.radians(lat[0])))
    dy = np.hypot((lat[2] - lat[0]) * k, (lon[2] - lon[0]) * k * np.cos(np.radians(lat[0])))
    return float(np.sqrt(dx * dy))


def open_geotiff(p: Path, sensor: str, time: dt.datetime | None) -> Scene:
    import rasterio
    from rasterio.errors import RasterioIOError

    try:
        src = rasterio.open(p)
    except RasterioIOError as exc:
        raise ShadowfleetError(f"not a readable raster ({exc})") from None
    with src:
        if src.width == 0 or src.height == 0 or src.count == 0:
            raise ShadowfleetError("empty raster")
        tags = src.tags()
        geo = georeference(src)
        if sensor == "auto":
            sensor = tags.get(TAG_SENSOR) or ("optical" if src.count >= 3 and src.dtypes[0] == "uint8" else "sar")
        colour = [src.colorinterp[i].name for i in range(src.count)]
        dtype = src.dtypes[0]
        count, width, height, nodata = src.count, src.width, src.height, src.nodata
    acquired = parse_utc(tags.get(TAG_TIME)) or parse_utc(tags.get("TIFFTAG_DATETIME", "").replace(":", "-", 2)
                                                          .replace(" ", "T")) or time_from_name(p.name) or time
    if acquired is None:
        raise ShadowfleetError("no acquisition time in its tags or name; give --time")
    if sensor == "optical":
        if count < 3:
            raise ShadowfleetError(f"an optical GeoTIFF needs 3 bands (R, G, B), this one has {count}")
        names = ["R", "G", "B"] + (["A"] if count >= 4 and colour[3] == "alpha" else [])
        bands = {n: Band(str(p), i + 1) for i, n in enumerate(names)}
        scale = "dn8" if dtype == "uint8" else "dn16"
        return Scene(tags.get(TAG_SCENE) or p.stem, "optical", str(p), acquired, width, height, bands, geo,
                     pixel_size_m(geo, width, height), scale=scale, nodata=None)
    m = _POL.search(p.stem)
    names = [tags.get(f"POLARISATION_{i + 1}") for i in range(count)]
    if count == 1:
        names = [names[0] or (m.group(1).upper() if m else "VV")]
    else:
        names = [n or ("VV", "VH", "HH", "HV")[i % 4] for i, n in enumerate(names)]
    bands = {n: Band(str(p), i + 1) for i, n in enumerate(names)}
    scale = tags.get(TAG_SCALE) or ("amplitude" if dtype.startswith("uint") else "intensity")
    if scale == "intensity" and dtype.startswith("float"):
        scale = _linear_or_db(p)
    if scale not in ("amplitude", "intensity", "db"):
        raise ShadowfleetError(f"unknown radar scale {scale!r} (expected amplitude, intensity or db)")
    rov = tags.get(TAG_ROV)
    track = tags.get(TAG_TRACK)
    return Scene(tags.get(TAG_SCENE) or p.stem, "sar", str(p), acquired, width, height, bands, geo,
                 pixel_size_m(geo, width, height), scale=scale,
                 nodata=nodata if nodata is not None else (0.0 if scale != "db" else None),
                 range_over_velocity_s=float(rov) if rov else None,
                 track_bearing_deg=float(track) if track else None)


def _linear_or_db(p: Path) -> str:
    """dB images are mostly negative (sea backscatter is -30..-10 dB); linear ones never are."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(p) as src:
        w = Window(0, 0, min(src.width, 1024), min(src.height, 1024))
        a = src.read(1, window=w).astype(np.float64)
    a = a[np.isfinite(a) & (a != 0)]
    return "db" if a.size and np.median(a) < 0 else "intensity"
