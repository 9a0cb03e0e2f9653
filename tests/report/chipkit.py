"""A real scene file for the image-chip tests: a small radar GeoTIFF like the simulator renders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np


def radar_tiff(path: Path, lat: float, lon: float, acquired: dt.datetime, km: float = 8.0, pixel_m: float = 20.0) -> Path:
    """A bare radar GeoTIFF (uint16 amplitude, UTM 53N) with speckled sea and one bright 90 m hull at (lat, lon)."""
    import rasterio
    from pyproj import Transformer
    from rasterio.transform import from_origin

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32653", always_xy=True).transform(lon, lat)
    n = int(km * 1000 / pixel_m)
    rng = np.random.default_rng(1)
    img = (rng.gamma(4.4, 1 / 4.4, (n, n)) * 60).astype(np.uint16) + 1
    c = n // 2
    img[c - 1:c + 2, c - 2:c + 3] = 3000
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype="uint16", crs="EPSG:32653",
                       transform=from_origin(x - c * pixel_m - pixel_m / 2, y + c * pixel_m + pixel_m / 2, pixel_m, pixel_m)) as dst:
        dst.write(img, 1)
        dst.update_tags(SHADOWFLEET_ACQUIRED=acquired.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return path
