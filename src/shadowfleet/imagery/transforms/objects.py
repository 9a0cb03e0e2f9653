"""Bright pixels into objects: merged when closer than a hull's speckle gaps, measured by their second moments."""

from __future__ import annotations

import numpy as np


def disk(radius_px: int) -> np.ndarray:
    r = max(0, int(radius_px))
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return (x * x + y * y) <= r * r


def objects(rr: np.ndarray, cc: np.ndarray, sig: np.ndarray, merge_px: int) -> dict[str, np.ndarray]:
    """One row per object of the bright pixels (rr, cc) with contrast ``sig`` (pixels within ``merge_px`` of
    each other joined):
    row, col (centroid, pixel units), n (pixels), length_px, width_px (from the covariance: a uniform bar of n
    pixels has variance (n^2 - 1) / 12), axis_deg (long axis, clockwise from image 'up', 0-180), peak (max sigma)."""
    if rr.size == 0:
        return {k: np.zeros(0) for k in ("row", "col", "n", "length_px", "width_px", "axis_deg", "peak")}
    # join bright pixels closer than merge_px: neighbour pairs among the (few) bright pixels, then connected
    # components of that graph -- no whole-window morphology
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    pairs = cKDTree(np.column_stack([rr, cc])).query_pairs(max(1.5, merge_px + 0.5), output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(rr.size, rr.size))
    count, comp = connected_components(graph, directed=False)
    ids = comp + 1
    n = np.bincount(ids, minlength=count + 1).astype(np.float64)
    keep = n > 0
    keep[0] = False
    sr = np.bincount(ids, rr, count + 1)
    sc = np.bincount(ids, cc, count + 1)
    nz = np.where(n > 0, n, 1.0)
    mr, mc = sr / nz, sc / nz
    dr, dc = rr - mr[ids], cc - mc[ids]
    vrr = np.bincount(ids, dr * dr, count + 1) / nz
    vcc = np.bincount(ids, dc * dc, count + 1) / nz
    vrc = np.bincount(ids, dr * dc, count + 1) / nz
    tr = vrr + vcc
    det = np.sqrt(np.maximum((vrr - vcc) ** 2 / 4 + vrc * vrc, 0.0))
    l1, l2 = tr / 2 + det, np.maximum(tr / 2 - det, 0.0)
    # eigenvector of the larger eigenvalue, as an angle clockwise from "up" (row decreasing)
    theta = 0.5 * np.arctan2(2 * vrc, vrr - vcc)  # angle of the major axis from the +row axis
    axis = (np.degrees(np.pi - theta)) % 180.0
    peak = np.zeros(count + 1)
    np.maximum.at(peak, ids, np.nan_to_num(sig, nan=0.0))
    sel = np.flatnonzero(keep)
    return {
        "row": mr[sel], "col": mc[sel], "n": n[sel],
        "length_px": np.sqrt(12 * l1[sel] + 1), "width_px": np.sqrt(12 * l2[sel] + 1),
        "axis_deg": axis[sel], "peak": peak[sel],
    }
