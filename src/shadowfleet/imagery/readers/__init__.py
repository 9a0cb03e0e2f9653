"""Open a scene from what a user points at: a Sentinel-1 GRD SAFE folder or its zip, a Sentinel-2 L1C/L2A SAFE
folder or one of its band files, or any georeferenced GeoTIFF (radar, or RGB(A) true colour).

Every problem with one scene raises a ShadowfleetError naming it, so a batch goes on with the others.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.scene import Scene

# ours: metadata files larger than this are not Sentinel annotations (the real ones are ~2 MB)
MAX_XML_BYTES = 64 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
_TIME_IN_NAME = re.compile(r"(?<!\d)(\d{8})[Tt](\d{6})(?!\d)")


def time_from_name(name: str) -> dt.datetime | None:
    """The first YYYYMMDDTHHMMSS in a file name (Sentinel naming convention), as UTC."""
    m = _TIME_IN_NAME.search(name)
    if not m:
        return None
    try:
        return dt.datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def open_scene(path: str | Path, sensor: str = "auto", time: dt.datetime | None = None) -> Scene:
    """The scene at ``path``; ``time`` is used only when neither the metadata nor the file name has one."""
    from shadowfleet.imagery.readers import geotiff, sentinel1, sentinel2

    p = Path(path)
    if sensor not in ("auto", "sar", "optical"):
        raise ShadowfleetError(f"--sensor must be auto, sar or optical, not {sensor!r}")
    if not p.exists():
        raise ShadowfleetError(f"{p}: no such file or folder")
    name = p.name.upper()
    try:
        if p.is_dir():
            if (p / "manifest.safe").is_file() and name.startswith("S1"):
                return sentinel1.open_safe(p, time)
            if name.startswith("S2") or list(p.glob("MTD_MSIL*.xml")):
                return sentinel2.open_safe(p, time)
            if (p / "manifest.safe").is_file():
                return sentinel1.open_safe(p, time)
            raise ShadowfleetError(f"{p}: a folder that is neither a Sentinel-1 nor a Sentinel-2 SAFE product")
        if p.suffix.lower() == ".zip":
            if not zipfile.is_zipfile(p):
                raise ShadowfleetError(f"{p}: not a readable zip file")
            with zipfile.ZipFile(p) as z:
                names = z.namelist()
            if len(names) > MAX_ZIP_ENTRIES:
                raise ShadowfleetError(f"{p}: more than {MAX_ZIP_ENTRIES} files in the zip; not a Sentinel product")
            if any(n.endswith("manifest.safe") for n in names) and name.startswith("S1"):
                return sentinel1.open_zip(p, names, time)
            raise ShadowfleetError(f"{p}: a zip that holds no Sentinel-1 SAFE product")
        if sentinel2.is_band_file(p):
            return sentinel2.open_band_files(p, time)
        return geotiff.open_geotiff(p, sensor, time)
    except ShadowfleetError as exc:
        msg = str(exc)
        raise ShadowfleetError(msg if msg.startswith(str(p)) else f"{p}: {msg}") from None
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise ShadowfleetError(f"{p}: cannot read it as a scene ({type(exc).__name__}: {exc})") from None


def read_xml(data: bytes, what: str):
    """Parse metadata XML that came from outside: size bounded, no entity declarations (billion laughs)."""
    import xml.etree.ElementTree as ET

    if len(data) > MAX_XML_BYTES:
        raise ShadowfleetError(f"{what}: larger than {MAX_XML_BYTES // 2**20} MB")
    if b"<!ENTITY" in data[:65536]:
        raise ShadowfleetError(f"{what}: declares XML entities; refused")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ShadowfleetError(f"{what}: not valid XML ({exc})") from None


def strip_ns(root) -> None:
    """Drop XML namespaces in place so paths read like the product specification."""
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]


def parse_utc(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
