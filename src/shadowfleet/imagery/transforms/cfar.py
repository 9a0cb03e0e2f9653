"""Constant false alarm rate thresholds against a background ring, on blocks.

The pixel under test is compared with the mean and standard deviation of the pixels in a square ring around it
(GFW: 200-600 m; SNAP's two-parameter CFAR uses the same guard/background windows). Statistics are summed on
blocks of b x b pixels, so the ring is a ring of blocks: the work per pixel is a reshape-sum, and the box filters
run on a grid b^2 times smaller. A second pass leaves out the pixels the first pass found bright, so a ship does
not raise the threshold of its neighbours in a crowded anchorage.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _block_sums(x: np.ndarray, valid: np.ndarray, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h, w = x.shape
    xv = np.where(valid, x, np.float32(0.0))
    s1 = xv.reshape(h // b, b, w // b, b).sum(axis=(1, 3), dtype=np.float64)
    s2 = (xv * xv).reshape(h // b, b, w // b, b).sum(axis=(1, 3), dtype=np.float64)
    n = valid.reshape(h // b, b, w // b, b).sum(axis=(1, 3), dtype=np.float64)
    return s1, s2, n


def _ring(a: np.ndarray, inner: int, outer: int) -> np.ndarray:
    """Sum of ``a`` over a square ring of half-widths (inner, outer] blocks around each block."""
    so, si = 2 * outer + 1, 2 * inner + 1
    return (ndimage.uniform_filter(a, so, mode="constant") * so * so
            - ndimage.uniform_filter(a, si, mode="constant") * si * si)


def _threshold(s1, s2, n, inner, outer, k, floor_rel, floor_abs, min_count):
    r1, r2, rn = _ring(s1, inner, outer), _ring(s2, inner, outer), _ring(n, inner, outer)
    ok = rn >= min_count
    rn = np.where(ok, rn, 1.0)
    mean = r1 / rn
    std = np.sqrt(np.maximum(r2 / rn - mean * mean, 0.0))
    std = np.maximum(std, np.maximum(mean * floor_rel, floor_abs))
    thr = mean + k * std
    thr[~ok] = np.inf  # too little open water around to judge
    return thr.astype(np.float32), mean.astype(np.float32), std.astype(np.float32)


def ring_cfar(x: np.ndarray, valid: np.ndarray, pixel_m: float, inner_m: float, outer_m: float, k: float,
              block_m: float, floor_rel: float = 0.0, floor_abs: float = 0.0):
    """Bright pixels of ``x`` (NaN or ``valid`` False = not water / no data) and their contrast in standard
    deviations: (mask, sigma) where sigma is NaN off the mask.

    The ring's std is floored at max(mean * floor_rel, floor_abs) (speckle of the sensor, the least contrast that
    counts). The window is padded to whole blocks."""
    b = max(1, int(round(block_m / pixel_m)))
    inner = max(1, int(round(inner_m / (b * pixel_m))))
    outer = max(inner + 1, int(round(outer_m / (b * pixel_m))))
    h, w = x.shape
    H, W = -(-h // b) * b, -(-w // b) * b
    valid = valid & np.isfinite(x)
    if (H, W) != (h, w):
        x = np.pad(x, ((0, H - h), (0, W - w)), constant_values=np.nan)
        valid = np.pad(valid, ((0, H - h), (0, W - w)), constant_values=False)
    ring_px = ((2 * outer + 1) ** 2 - (2 * inner + 1) ** 2) * b * b
    min_count = 0.25 * ring_px  # ours: a ring under a quarter water (coast, scene edge) gives no verdict
    s1, s2, n = _block_sums(x, valid, b)
    thr, _, _ = _threshold(s1, s2, n, inner, outer, k, floor_rel, floor_abs, min_count)
    xb = x.reshape(H // b, b, W // b, b)
    bright = (xb > thr[:, None, :, None]).reshape(H, W) & valid
    if bright.any():
        keep = valid & ~bright
        s1, s2, n = _block_sums(x, keep, b)
        thr, mean, std = _threshold(s1, s2, n, inner, outer, k, floor_rel, floor_abs, min_count)
        bright = (xb > thr[:, None, :, None]).reshape(H, W) & valid
    else:
        mean = std = None
    sigma = np.full((H, W), np.nan, dtype=np.float32)
    if bright.any():
        rr, cc = np.nonzero(bright)
        m, s = mean[rr // b, cc // b], std[rr // b, cc // b]
        sigma[rr, cc] = (x[rr, cc] - m) / s
    return bright[:h, :w], sigma[:h, :w]
