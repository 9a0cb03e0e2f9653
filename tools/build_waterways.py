"""Build the inland-waterway points: src/shadowfleet/places/data/waterways.npz.

Source: GSHHG 2.3.7 (Wessel & Smith 1996; LGPL-3.0), as Debian's gmt-gshhg-high package installs it
(/usr/share/gmt-gshhg): the WDBII rivers and canals of binned_river_h.nc and the lake shores of
binned_GSHHS_h.nc. Run once, offline (`apt-get install gmt-gshhg-high`, `pip install h5py`); the runtime needs
neither.

Kept: the river classes ships sail (WDBII levels, 0-based as in the file: 0 double-lined rivers, 1 permanent major
rivers, 2 additional major rivers, 8 major canals, 9 minor canals) and every lake and reservoir shore (GSHHS level
2), the reservoirs that navigable rivers run through (the Don at Kalach, the Volga's reservoirs). Lines are
densified to <= STEP_KM between points and kept as the 0.01-degree cells they cross (lakes of at least
MIN_LAKE_KM2): a point of a waterway lies in a stored cell.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SRC = Path("/usr/share/gmt-gshhg")
RIVER_LEVELS = (0, 1, 2, 8, 9)
LAKE_LEVEL = 2
STEP_KM = 0.5
CELL_DEG = 0.01
MIN_LAKE_KM2 = 100.0  # a ship on a smaller lake is within a few km of its shore or of the river through it


def _binned(path: Path, levels_of) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, segment, level) of every point of a GMT binned GSHHG file (2-degree bins, coordinates in
    1/65535 of the bin from its south-west corner; bins numbered row by row from the north pole)."""
    f = h5py.File(path, "r")
    bs = int(f["Bin_size_in_minutes"][0]) / 60.0
    nx = int(f["N_bins_in_360_longitude_range"][0])
    nseg = f["N_segments_in_a_bin"][:].astype(np.int64)
    first = f["Id_of_first_point_in_a_segment"][:].astype(np.int64)
    npts, level = levels_of(f)
    b = np.repeat(np.arange(len(nseg)), nseg)
    lat_sw, lon_sw = 90.0 - (b // nx + 1) * bs, (b % nx) * bs
    seg = np.repeat(np.arange(len(npts)), npts)
    idx = np.concatenate([np.arange(a, a + n) for a, n in zip(first, npts)])
    dx = f["Relative_longitude_from_SW_corner_of_bin"][:].view(np.uint16)[idx].astype(np.float64)
    dy = f["Relative_latitude_from_SW_corner_of_bin"][:].view(np.uint16)[idx].astype(np.float64)
    lat = lat_sw[seg] + dy * bs / 65535.0
    lon = lon_sw[seg] + dx * bs / 65535.0
    return lat, np.where(lon > 180, lon - 360, lon), seg, level[seg]


def _rivers(f):
    return f["N_points_for_a_segment"][:].astype(np.int64), f["Hierarchial_level_of_a_segment"][:].astype(np.int64)


def _shores(f):
    info = f["Embedded_npts_levels_exit_entry_for_a_segment"][:].astype(np.int64)
    area = f["The_km_squared_area_of_polygons"][:][f["Id_of_GSHHS_ID"][:]]
    level = np.where(area >= MIN_LAKE_KM2, (info >> 6) & 7, -1)
    return info >> 9, level  # GMT's packing: points, level, entry and exit sides


def _densified(lat, lon, seg) -> tuple[np.ndarray, np.ndarray]:
    same = seg[1:] == seg[:-1]
    a = np.flatnonzero(same)
    km = np.hypot(lat[a + 1] - lat[a], (lon[a + 1] - lon[a]) * np.cos(np.radians(lat[a]))) * 111.195
    k = np.maximum(np.ceil(km / STEP_KM).astype(np.int64), 1)
    i = np.repeat(a, k)
    f = (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)) / np.repeat(k, k)
    dlon = lon[i + 1] - lon[i]
    dlon = np.where(np.abs(dlon) > 180, dlon - 360 * np.sign(dlon), dlon)
    return np.r_[lat, lat[i] + f * (lat[i + 1] - lat[i])], np.r_[lon, lon[i] + f * dlon]


def main() -> None:
    la, lo, seg, lev = _binned(SRC / "binned_river_h.nc", _rivers)
    keep = np.isin(lev, RIVER_LEVELS)
    r_lat, r_lon = _densified(la[keep], lo[keep], seg[keep])
    la, lo, seg, lev = _binned(SRC / "binned_GSHHS_h.nc", _shores)
    keep = lev == LAKE_LEVEL
    l_lat, l_lon = _densified(la[keep], lo[keep], seg[keep])
    lat, lon = np.r_[r_lat, l_lat], np.r_[r_lon, l_lon]
    ncol = int(round(360 / CELL_DEG))
    row = np.floor((lat + 90) / CELL_DEG).astype(np.int64)
    col = np.floor((lon + 180) / CELL_DEG).astype(np.int64) % ncol
    cells = np.unique(row * ncol + col)
    out = ROOT / "src" / "shadowfleet" / "places" / "data" / "waterways.npz"
    # sorted cell numbers stored as their differences: small numbers along each waterway, which compress well
    np.savez_compressed(out, cell_step=np.diff(cells, prepend=0).astype(np.uint32),
                        cell_deg=np.array([CELL_DEG]))
    print(f"{len(cells)} waterway cells ({len(r_lat)} river, {len(l_lat)} lake-shore before thinning) -> {out} "
          f"({out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
