"""Sentinel-2 L1C/L2A: a SAFE folder (granule band JP2s) or band files named like T15RUN_20190409T164849_B02.jp2
(the other 10 m bands B03, B04, B08 found beside it). Reflectance = (DN + RADIO_ADD_OFFSET) / 10000 (ESA)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.readers import parse_utc, read_xml, strip_ns, time_from_name
from shadowfleet.imagery.readers.geotiff import TAG_SCENE, TAG_TIME, georeference, pixel_size_m
from shadowfleet.imagery.scene import Band, Scene

TEN_M_BANDS = ("B02", "B03", "B04", "B08")  # ESA: blue, green, red, NIR at 10 m
_BAND = re.compile(r"_(B0[2348])(?:_10m)?\.(jp2|tiff?)$", re.IGNORECASE)


def is_band_file(p: Path) -> bool:
    return bool(_BAND.search(p.name))


def open_band_files(p: Path, time: dt.datetime | None) -> Scene:
    m = _BAND.search(p.name)
    assert m
    files = {}
    stem = p.name[: m.start(1)]
    for b in TEN_M_BANDS:
        for ext in (p.name[m.end(1):], ".jp2", ".tif", ".tiff", "_10m.jp2"):
            cand = p.with_name(stem + b + ext)
            if cand.is_file():
                files[b] = cand
                break
    return _build(p, p.name[: m.start()], files, None, time)


def open_safe(folder: Path, time: dt.datetime | None) -> Scene:
    files = {}
    for f in sorted(folder.glob("GRANULE/*/IMG_DATA/**/*.jp2")):
        m = _BAND.search(f.name)
        if m and m.group(1).upper() not in files:
            files[m.group(1).upper()] = f
    mtd = next(iter(sorted(folder.glob("MTD_MSIL*.xml"))), None)
    root = None
    if mtd is not None:
        root = read_xml(mtd.read_bytes(), mtd.name)
        strip_ns(root)
    return _build(folder, folder.name.removesuffix(".SAFE"), files, root, time)


def _build(source: Path, scene_id: str, files: dict, mtd, time) -> Scene:
    import rasterio

    need = ("B02", "B03", "B04")
    missing = [b for b in need if b not in files]
    if missing:
        raise ShadowfleetError(f"Sentinel-2 band file(s) {', '.join(missing)} not found beside it")
    with rasterio.open(files["B04"]) as src:
        geo = georeference(src)
        width, height = src.width, src.height
        tags = src.tags()
    acquired = parse_utc(tags.get(TAG_TIME))
    scene_id = tags.get(TAG_SCENE) or scene_id
    offset = 0.0
    if mtd is not None:
        acquired = acquired or parse_utc(mtd.findtext(".//PRODUCT_START_TIME"))
        # ESA, processing baseline 04.00 (2022): L1C DN carry RADIO_ADD_OFFSET, L2A DN BOA_ADD_OFFSET (-1000)
        off = mtd.find(".//RADIO_ADD_OFFSET")
        off = off if off is not None else mtd.find(".//BOA_ADD_OFFSET")
        if off is not None and off.text:
            try:
                offset = float(off.text)
            except ValueError:
                raise ShadowfleetError(f"reflectance offset {off.text[:20]!r} in the metadata is not a number") from None
    acquired = acquired or time_from_name(source.name) or time
    if acquired is None:
        raise ShadowfleetError("no acquisition time in the metadata or the name; give --time")
    names = {"B02": "B", "B03": "G", "B04": "R", "B08": "N"}
    bands = {names[b]: Band(str(f)) for b, f in files.items()}
    return Scene(scene_id, "optical", str(source), acquired, width, height, bands, geo,
                 pixel_size_m(geo, width, height), scale="dn16", reflectance_offset=offset, nodata=0)
