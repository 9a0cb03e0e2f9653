"""Build the fine land mask of the built-in theatre: src/shadowfleet/places/data/coast.npz.

Source: roaring-landmask (PyPI, MIT), which carries the GSHHG full-resolution shoreline (Wessel & Smith 1996)
refined with the OpenStreetMap coastline (© OpenStreetMap contributors, ODbL). Run once, offline, with that
package installed (`pip install -e '.[data]'`); the runtime never needs it.

For each cluster of built-in ports, berths, terminals, anchorages and STS areas, a box of +-BOX_KM around it is
sampled on a ~22 m grid (0.0002 deg of latitude); the land bits are packed and compressed (a coast box is a few
kB). Elsewhere shadowfleet falls back to global-land-mask (1 km).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

BOX_KM = 25.0  # covers a 30 km simulator footprint centred on a site, turned, with a CFAR ring of margin
STEP_LAT = 0.0002  # ~22 m
KINDS = ("port", "berth", "terminal", "anchorage", "sts_area")


def boxes() -> list[tuple[str, float, float, float, float]]:
    from shadowfleet.places import load_places
    from shadowfleet.sim.scenarios import SCENARIOS

    places = load_places()
    t = places.table.filter(places.table["kind"].is_in(KINDS))
    pts = [(r["id"], r["lat"], r["lon"]) for r in t.iter_rows(named=True)]
    pts += [(name, lat, lon) for s in SCENARIOS.values() for name, lat, lon in s.sites]
    # one box per cluster of points within a box's half-width of the cluster's first point
    out: list[tuple[str, float, float, float, float]] = []
    for pid, lat, lon in sorted(pts, key=lambda p: (p[1], p[2])):
        dlat = BOX_KM / 111.195
        dlon = BOX_KM / (111.195 * np.cos(np.radians(lat)))
        for i, (name, a0, a1, o0, o1) in enumerate(out):
            if a0 <= lat - dlat / 2 and lat + dlat / 2 <= a1 and o0 <= lon - dlon / 2 and lon + dlon / 2 <= o1:
                break
        else:
            out.append((pid, lat - dlat, lat + dlat, lon - dlon, lon + dlon))
    return out


def main() -> None:
    from roaring_landmask import RoaringLandmask

    mask = RoaringLandmask.new()
    arrays: dict[str, np.ndarray] = {}
    meta = []
    for i, (name, a0, a1, o0, o1) in enumerate(boxes()):
        step_lon = STEP_LAT / np.cos(np.radians((a0 + a1) / 2))
        lats = a1 - (np.arange(int(np.ceil((a1 - a0) / STEP_LAT))) + 0.5) * STEP_LAT  # north-up rows
        lons = o0 + (np.arange(int(np.ceil((o1 - o0) / step_lon))) + 0.5) * step_lon
        lo, la = np.meshgrid(lons, lats)
        land = np.asarray(mask.contains_many(lo.ravel(), la.ravel()), dtype=bool).reshape(la.shape)
        arrays[f"bits{i}"] = np.packbits(land, axis=1)
        meta.append((a1, o0, STEP_LAT, step_lon, land.shape[0], land.shape[1]))
        print(f"{name:14s} {land.shape} land {land.mean():.2f}")
    out = ROOT / "src/shadowfleet/places/data/coast.npz"
    np.savez_compressed(out, meta=np.array(meta, dtype=np.float64), **arrays)
    print(f"{out}: {out.stat().st_size / 1024:.0f} kB, {len(meta)} boxes")


if __name__ == "__main__":
    main()
