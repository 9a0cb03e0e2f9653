"""Where a detector may look: open water, away from the shore by a buffer, outside clouds."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from shadowfleet.imagery.transforms.objects import disk
from shadowfleet.places.coast import is_land


def land_mask(latlon, r0: int, c0: int, h: int, w: int, pixel_m: float, block_px: int) -> np.ndarray:
    """Land (bool, h x w) of the window at (r0, c0): tested at block centres, and pixel by pixel in blocks
    where land and water meet. ``latlon(rows, cols)`` geolocates pixels of the scene."""
    b = max(1, block_px)
    nb_r, nb_c = -(-h // b), -(-w // b)
    br = np.minimum(r0 + np.arange(nb_r) * b + b // 2, r0 + h - 1)
    bc = np.minimum(c0 + np.arange(nb_c) * b + b // 2, c0 + w - 1)
    lat, lon = latlon(br[:, None], bc[None, :])
    lb = is_land(lat, lon).reshape(nb_r, nb_c)
    land = np.repeat(np.repeat(lb, b, axis=0), b, axis=1)[:h, :w]
    if b > 1 and lb.any() and not lb.all():
        coastal = ndimage.binary_dilation(lb, np.ones((3, 3), bool)) & ndimage.binary_dilation(~lb, np.ones((3, 3), bool))
        mask = np.repeat(np.repeat(coastal, b, axis=0), b, axis=1)[:h, :w]
        rr, cc = np.nonzero(mask)
        if rr.size:
            la, lo = latlon(r0 + rr, c0 + cc)
            land[rr, cc] = is_land(la, lo)
    return land


def buffered(land: np.ndarray, buffer_m: float, pixel_m: float) -> np.ndarray:
    """Land grown by ``buffer_m``."""
    if buffer_m <= 0 or not land.any():
        return land
    px = buffer_m / pixel_m
    # grow only the part of the window near land (most windows of a sea scene hold a little coast)
    r = int(np.ceil(px))
    rows, cols = np.flatnonzero(land.any(axis=1)), np.flatnonzero(land.any(axis=0))
    r0, r1 = max(0, rows[0] - r), min(land.shape[0], rows[-1] + r + 1)
    c0, c1 = max(0, cols[0] - r), min(land.shape[1], cols[-1] + r + 1)
    out = land.copy()
    part = land[r0:r1, c0:c1]
    if px < 8:
        out[r0:r1, c0:c1] = ndimage.binary_dilation(part, structure=disk(int(round(px))))
    else:
        out[r0:r1, c0:c1] = ndimage.distance_transform_edt(~part) <= px
    return out


def ndwi_water(green: np.ndarray, nir: np.ndarray, threshold: float, max_hole_px: int) -> np.ndarray:
    """Water by NDWI (McFeeters 1996: (green - NIR) / (green + NIR)), with enclosed non-water patches smaller
    than a ship (``max_hole_px``) counted as water so that hulls on it stay inside the mask."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ndwi = (green - nir) / (green + nir)
    water = ndwi > threshold
    holes, n = ndimage.label(~water)
    if n:
        size = np.bincount(holes.ravel(), minlength=n + 1)
        edge = np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))
        small = size <= max_hole_px
        small[0] = False
        small[edge] = False
        water |= small[holes]
    return water


def cloud_mask(r: np.ndarray, g: np.ndarray, b: np.ndarray, brightness: float, saturation: float,
               min_px: int, margin_px: int) -> np.ndarray:
    """Clouds and haze: bright, grey patches wider than a ship, grown by a margin."""
    y = (r + g + b) / 3
    mx = np.fmax(np.fmax(r, g), b)
    mn = np.fmin(np.fmin(r, g), b)
    with np.errstate(invalid="ignore", divide="ignore"):
        sat = np.where(mx > 0, (mx - mn) / mx, 0.0)
    grey = (y > brightness) & (sat < saturation)
    lab, n = ndimage.label(grey)
    if not n:
        return grey
    size = np.bincount(lab.ravel(), minlength=n + 1)
    big = size >= min_px
    big[0] = False
    cloud = big[lab]
    if margin_px > 0 and cloud.any():
        cloud = ndimage.binary_dilation(cloud, structure=disk(margin_px))
    return cloud
