"""Sentinel-1 GRD (IW/EW): a SAFE folder or its zip. Geolocation from the annotation's geolocation grid, time
from the annotation header, radar geometry (slant range, platform speed, heading) for azimuth displacement."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import numpy as np

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.readers import parse_utc, read_xml, strip_ns, time_from_name
from shadowfleet.imagery.scene import Band, GridGeo, Scene

SPEED_OF_LIGHT = 299_792_458.0  # m/s
_POL = re.compile(r"-(vv|vh|hh|hv)-", re.IGNORECASE)


def open_safe(folder: Path, time: dt.datetime | None) -> Scene:
    measurements = sorted((folder / "measurement").glob("*.tif*")) if (folder / "measurement").is_dir() else []
    annotations = sorted((folder / "annotation").glob("*.xml")) if (folder / "annotation").is_dir() else []
    ann = {}
    for a in annotations:
        if a.stat().st_size > 64 * 1024 * 1024:
            raise ShadowfleetError(f"{a}: too large for an annotation file")
        ann[a.name] = a.read_bytes()
    meas = {m.name: str(m) for m in measurements}
    return _build(folder, folder.name, meas, ann, time)


def open_zip(path: Path, names: list[str], time: dt.datetime | None) -> Scene:
    ann = {}
    meas = {}
    with zipfile.ZipFile(path) as z:
        for n in names:
            parts = n.split("/")
            if len(parts) >= 2 and parts[-2] == "annotation" and n.endswith(".xml"):
                info = z.getinfo(n)
                if info.file_size > 64 * 1024 * 1024:
                    raise ShadowfleetError(f"{n}: too large for an annotation file")
                ann[parts[-1]] = z.read(n)
            elif len(parts) >= 2 and parts[-2] == "measurement" and re.search(r"\.tiff?$", n, re.I):
                meas[parts[-1]] = f"/vsizip/{path.resolve()}/{n}"
    stem = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
    return _build(path, stem, meas, ann, time)


def _pol(name: str) -> str | None:
    m = _POL.search(name)
    return m.group(1).upper() if m else None


def _build(source: Path, product: str, meas: dict[str, str], ann: dict[str, bytes], time) -> Scene:
    bands = {}
    for name, where in meas.items():
        pol = _pol(name)
        if pol:
            bands[pol] = Band(where)
    if not bands:
        raise ShadowfleetError("no measurement GeoTIFF (measurement/*-vv-*.tiff or -vh-) in the product")
    pol0 = "VH" if "VH" in bands else sorted(bands)[0]
    xml = next((data for n, data in sorted(ann.items()) if _pol(n) == pol0), None)
    if xml is None:
        xml = next((data for n, data in sorted(ann.items()) if _pol(n) in bands), None)
    if xml is None:
        raise ShadowfleetError("no annotation XML for its measurement files (annotation/*.xml)")
    root = read_xml(xml, "annotation")
    strip_ns(root)
    grid = root.findall(".//geolocationGrid/geolocationGridPointList/geolocationGridPoint")
    if len(grid) < 3:
        raise ShadowfleetError("annotation has no geolocation grid: cannot geolocate the scene")
    g = np.array([[float(pt.findtext(k)) for k in ("line", "pixel", "latitude", "longitude", "slantRangeTime")]
                  for pt in grid])
    ok = np.isfinite(g).all(axis=1) & (np.abs(g[:, 2]) <= 90) & (np.abs(g[:, 3]) <= 180)
    if ok.sum() < 3:
        raise ShadowfleetError("annotation geolocation grid has fewer than 3 valid points")
    g = g[ok]
    geo = GridGeo(g[:, 0], g[:, 1], g[:, 2], g[:, 3])

    import rasterio

    with rasterio.open(bands[pol0].path) as src:
        width, height = src.width, src.height
    acquired = (parse_utc(root.findtext(".//adsHeader/startTime")) or time_from_name(product) or time)
    if acquired is None:
        raise ShadowfleetError("no acquisition time in the annotation or the name; give --time")
    stop = parse_utc(root.findtext(".//adsHeader/stopTime"))
    if stop is not None and stop > acquired:
        acquired = acquired + (stop - acquired) / 2  # the scene's middle line
    spacing = [float(root.findtext(f".//imageInformation/{k}") or "nan") for k in ("rangePixelSpacing",
                                                                                    "azimuthPixelSpacing")]
    pixel_m = float(np.nanmean(spacing)) if np.isfinite(spacing).any() else 10.0
    rov = None
    vel = root.findall(".//orbitList/orbit/velocity")
    if vel:
        v = np.array([[float(e.findtext(k)) for k in ("x", "y", "z")] for e in vel])
        speed = float(np.median(np.linalg.norm(v, axis=1)))
        slant_m = float(np.median(g[:, 4])) * SPEED_OF_LIGHT / 2  # slantRangeTime is two-way
        if speed > 0 and slant_m > 0:
            rov = slant_m / speed
    heading = root.findtext(".//productInformation/platformHeading")
    return Scene(
        scene_id=product.removesuffix(".SAFE"), sensor="sar", source=str(source), acquired=acquired,
        width=width, height=height, bands=bands, geo=geo, pixel_m=pixel_m, scale="amplitude",
        range_over_velocity_s=rov, track_bearing_deg=(float(heading) % 360.0) if heading else None,
        notes={"polarisations": sorted(bands)},
    )
