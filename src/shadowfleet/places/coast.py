"""Land or water at ~22 m near the built-in theatre's ports, 1 km elsewhere.

global-land-mask's 1 km cells put whole berths and breakwaters on the wrong side of the shore, which matters for
ships photographed alongside a quay. data/coast.npz holds fine land masks (~22 m cells) of boxes of +-25 km
around every built-in port, berth, terminal, anchorage and STS area, sampled from the GSHHG full-resolution
shoreline refined with the OpenStreetMap coastline (as packaged by roaring-landmask; built by
tools/build_coastline.py). Points outside every box use global-land-mask.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

from shadowfleet.places.geo import on_land


@lru_cache(maxsize=1)
def _boxes() -> list[tuple[float, float, float, float, np.ndarray]]:
    with resources.files("shadowfleet.places").joinpath("data", "coast.npz").open("rb") as fh:
        doc = np.load(fh)
        out = []
        for i, (lat_top, lon_left, dlat, dlon, rows, cols) in enumerate(doc["meta"]):
            bits = np.unpackbits(doc[f"bits{i}"], axis=1, count=int(cols)).astype(bool)
            out.append((float(lat_top), float(lon_left), float(dlat), float(dlon), bits[: int(rows)]))
    return out


def fine_coverage(lat, lon) -> np.ndarray:
    """True where a point lies inside one of the fine boxes."""
    la, lo = np.broadcast_arrays(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
    out = np.zeros(la.shape, dtype=bool)
    for top, left, dlat, dlon, bits in _boxes():
        r = np.floor((top - la) / dlat)
        c = np.floor((lo - left) / dlon)
        out |= (r >= 0) & (r < bits.shape[0]) & (c >= 0) & (c < bits.shape[1])
    return out


def is_land(lat, lon) -> np.ndarray:
    """True on land: the fine coast mask where it covers the point, else global-land-mask. NaN → False."""
    la, lo = np.broadcast_arrays(np.atleast_1d(np.asarray(lat, dtype=np.float64)),
                                 np.atleast_1d(np.asarray(lon, dtype=np.float64)))
    out = np.zeros(la.shape, dtype=bool)
    done = ~(np.isfinite(la) & np.isfinite(lo))
    if la.size == 0 or done.all():
        return out
    la_lo, la_hi = np.nanmin(la), np.nanmax(la)
    lo_lo, lo_hi = np.nanmin(lo), np.nanmax(lo)
    for top, left, dlat, dlon, bits in _boxes():
        if la_lo > top or la_hi < top - dlat * bits.shape[0] or lo_hi < left or lo_lo > left + dlon * bits.shape[1]:
            continue  # the points lie wholly outside this box
        r = np.floor((top - la) / dlat)
        c = np.floor((lo - left) / dlon)
        inside = ~done & (r >= 0) & (r < bits.shape[0]) & (c >= 0) & (c < bits.shape[1])
        if inside.any():
            out[inside] = bits[r[inside].astype(np.intp), c[inside].astype(np.intp)]
            done |= inside
    if (~done).any():
        out[~done] = on_land(la[~done], lo[~done])
    return out
