"""Geography helpers: great-circle maths (NumPy, vectorised), the land test and sea routes, all offline.

Angles are degrees, distances kilometres unless the name says nautical miles (nm). Every function broadcasts
over NumPy arrays and also accepts scalars.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from shadowfleet.errors import ShadowfleetError

# IUGG mean Earth radius; the sphere is accurate to ~0.5% against the ellipsoid, enough for AIS work
EARTH_RADIUS_KM = 6371.0088
KM_PER_NM = 1.852  # international nautical mile, by definition
KM_PER_DEG_LAT = np.pi * EARTH_RADIUS_KM / 180.0  # one degree of latitude on that sphere


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points (arrays broadcast; NaN in → NaN out)."""
    p1, l1, p2, l2 = (np.radians(np.asarray(a, dtype=np.float64)) for a in (lat1, lon1, lat2, lon2))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    # clip guards arcsin against rounding just above 1 for antipodal points
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def bearing_deg(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Initial great-circle bearing from point 1 to point 2, degrees clockwise from true north in [0, 360)."""
    p1, l1, p2, l2 = (np.radians(np.asarray(a, dtype=np.float64)) for a in (lat1, lon1, lat2, lon2))
    y = np.sin(l2 - l1) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(l2 - l1)
    return np.degrees(np.arctan2(y, x)) % 360.0


def destination_point(lat, lon, bearing, distance_km) -> tuple[np.ndarray, np.ndarray]:
    """The point reached from (lat, lon) after ``distance_km`` along ``bearing`` (degrees); returns (lat, lon)."""
    p1 = np.radians(np.asarray(lat, dtype=np.float64))
    l1 = np.radians(np.asarray(lon, dtype=np.float64))
    b = np.radians(np.asarray(bearing, dtype=np.float64))
    d = np.asarray(distance_km, dtype=np.float64) / EARTH_RADIUS_KM
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    lon2 = (np.degrees(l2) + 180.0) % 360.0 - 180.0
    return np.degrees(p2), lon2


def on_land(lat, lon) -> np.ndarray:
    """True where a point is on land by global-land-mask (a ~1 km raster: quays, piers and narrow straits are
    below its resolution, so points within ~1 km of a coast can be either). NaN or out-of-range → False."""
    la = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lo = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    la, lo = np.broadcast_arrays(la, lo)
    ok = np.isfinite(la) & np.isfinite(lo) & (np.abs(la) <= 90) & (np.abs(lo) <= 180)
    out = np.zeros(la.shape, dtype=bool)
    if ok.any():
        # the mask's grid covers [-180, 180) and [-90, 90]; fold 180 onto -180
        lo_ok = np.where(lo[ok] >= 180.0, -180.0, lo[ok])
        bits, glat, glon = _land_bits()
        # global-land-mask's own cell lookup (globe.lat_to_index / lon_to_index)
        i = ((np.clip(la[ok], glat.min(), glat.max()) - glat[0]) / (glat[1] - glat[0])).astype(int)
        j = ((np.clip(lo_ok, glon.min(), glon.max()) - glon[0]) / (glon[1] - glon[0])).astype(int)
        ocean = (bits[i, j >> 3] >> (7 - (j & 7))) & 1
        out[ok] = ocean == 0
    return out if np.ndim(lat) or np.ndim(lon) else out[0]


@lru_cache(maxsize=1)
def _land_bits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """global-land-mask's ocean raster (21,600 x 43,200 booleans: 0.9 GB as the package loads it) read from its
    npz block by block and kept bit-packed (117 MB), with its latitude and longitude axes."""
    import importlib.util
    import zipfile
    from pathlib import Path

    from numpy.lib import format as npy

    # found, not imported: importing the package loads the whole unpacked mask
    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or not spec.submodule_search_locations:
        raise ShadowfleetError("the land test needs the package global-land-mask (pip install global-land-mask)")
    path = Path(list(spec.submodule_search_locations)[0]) / "globe_combined_mask_compressed.npz"
    with np.load(path) as z:
        glat, glon = z["lat"], z["lon"]
    with zipfile.ZipFile(path) as zf, zf.open("mask.npy") as fh:
        version = npy.read_magic(fh)
        shape, fortran, dtype = (npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0)(fh)
        if fortran or dtype != np.bool_ or len(shape) != 2:
            raise ShadowfleetError(f"global-land-mask: unexpected mask layout {shape} {dtype} in {path}")
        rows, cols = shape
        bits = np.empty((rows, (cols + 7) // 8), dtype=np.uint8)
        for r in range(0, rows, 512):
            n = min(512, rows - r)
            block = np.frombuffer(fh.read(n * cols), dtype=np.bool_).reshape(n, cols)
            bits[r : r + n] = np.packbits(block, axis=1)
    return bits, glat, glon


@lru_cache(maxsize=4096)
def _route(lon1: float, lat1: float, lon2: float, lat2: float) -> tuple[tuple[float, float], ...]:
    import searoute

    for lo, la in ((lon1, lat1), (lon2, lat2)):
        if not (np.isfinite(lo) and np.isfinite(la) and -180 <= lo <= 180 and -90 <= la <= 90):
            raise ShadowfleetError(f"sea route: invalid position lon={lo} lat={la}")
    try:
        feature = searoute.searoute([lon1, lat1], [lon2, lat2], units="naut", append_orig_dest=True)
    except Exception as exc:  # searoute raises bare exceptions when no path exists
        raise ShadowfleetError(f"sea route: no path from ({lat1}, {lon1}) to ({lat2}, {lon2}): {exc}") from None
    return tuple((float(x), float(y)) for x, y in feature["geometry"]["coordinates"])


def sea_route_coords(lon1: float, lat1: float, lon2: float, lat2: float) -> list[tuple[float, float]]:
    """A plausible sea lane from point 1 to point 2 as [(lon, lat), ...], starting and ending at the given points.

    searoute's marine network is coarse (nodes tens of km apart): the first and last legs join the points to the
    nearest network node in a straight line and may cut a headland; fine for distances and simulated voyages,
    not for navigation."""
    return list(_route(float(lon1), float(lat1), float(lon2), float(lat2)))


def sea_route_nm(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Length in nautical miles of :func:`sea_route_coords` (never shorter than the great circle)."""
    coords = np.asarray(_route(float(lon1), float(lat1), float(lon2), float(lat2)))
    legs = haversine_km(coords[:-1, 1], coords[:-1, 0], coords[1:, 1], coords[1:, 0])
    return float(legs.sum()) / KM_PER_NM
