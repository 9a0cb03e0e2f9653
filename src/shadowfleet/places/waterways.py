"""Inland waterways: where a ship far from the sea may still be afloat.

data/waterways.npz holds the 0.01-degree cells crossed by the rivers ships sail and the canals (WDBII classes:
double-lined rivers, permanent and additional major rivers, major and minor canals) and by the shores of lakes
and reservoirs of >= 100 km², from GSHHG 2.3.7 (Wessel & Smith 1996, LGPL-3.0) at high resolution; built by
tools/build_waterways.py. The Rhine, the Yangtze, the Volga and the Don, the Kiel, Volga-Don and Main-Danube
canals are in it; small streams are not.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

from shadowfleet.places.geo import KM_PER_DEG_LAT


@lru_cache(maxsize=1)
def _cells() -> tuple[np.ndarray, float]:
    with resources.files("shadowfleet.places").joinpath("data", "waterways.npz").open("rb") as fh:
        doc = np.load(fh)
        return np.cumsum(doc["cell_step"].astype(np.int64)), float(doc["cell_deg"][0])


def near_waterway(lat, lon, km: float) -> np.ndarray:
    """True where a point lies within about ``km`` of an inland waterway (by 0.01-degree cells: up to one cell,
    ~1 km, more). NaN → False."""
    la, lo = np.broadcast_arrays(np.atleast_1d(np.asarray(lat, dtype=np.float64)),
                                 np.atleast_1d(np.asarray(lon, dtype=np.float64)))
    out = np.zeros(la.shape, dtype=bool)
    ok = np.isfinite(la) & np.isfinite(lo)
    if not ok.any():
        return out
    cells, deg = _cells()
    ncol, nrow = int(round(360 / deg)), int(round(180 / deg))
    a, o = la[ok], lo[ok]
    row = np.floor((a + 90) / deg).astype(np.int64)
    col = np.floor((o + 180) / deg).astype(np.int64)
    reach_r = int(np.ceil(km / (KM_PER_DEG_LAT * deg)))
    # columns narrow towards the poles: as many as span km at the point's latitude (capped near the poles)
    reach_c = np.ceil(km / (KM_PER_DEG_LAT * deg * np.maximum(np.cos(np.radians(np.abs(a) + deg)), 0.05)))
    reach_c = reach_c.astype(np.int64)
    hit = np.zeros(len(a), dtype=bool)
    for dr in range(-reach_r, reach_r + 1):
        r = row + dr
        inside = (r >= 0) & (r < nrow)
        for dc in range(-int(reach_c.max()), int(reach_c.max()) + 1):
            want = inside & (np.abs(dc) <= reach_c) & ~hit
            if not want.any():
                continue
            key = r[want] * ncol + (col[want] + dc) % ncol
            pos = np.minimum(np.searchsorted(cells, key), len(cells) - 1)
            hit[np.flatnonzero(want)[cells[pos] == key]] = True
    out[np.flatnonzero(ok)] = hit
    return out
