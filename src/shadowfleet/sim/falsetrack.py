"""False tracks a transponder broadcasts instead of the ship's true position: a straight line at a steady speed
(a spliced stretch, a track drawn across land, a position far beyond the hearing receiver) or a circle sailed at a
steady speed (circle spoofing as SkyTruth reported it). The reported SOG and COG follow the false motion, as a
spoofing device would make them."""

from __future__ import annotations

import numpy as np

from shadowfleet.places import KM_PER_NM

_KM_PER_DEG = 111.195


def positions(ft: dict, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, sog kn, cog deg) of false track ``ft`` at times ``t``."""
    h = (t - ft["a"]) / 3600.0
    lat0, lon0 = ft["lat"], ft["lon"]
    k = np.cos(np.radians(lat0))
    if ft["kind"] == "circle":
        r, w = ft["radius_km"], 2 * np.pi / ft["period_s"]
        ang = w * (t - ft["a"])
        lat = lat0 + r * np.sin(ang) / _KM_PER_DEG
        lon = lon0 + r * np.cos(ang) / (_KM_PER_DEG * k)
        sog = np.full(len(t), r * w * 3600 / KM_PER_NM)
        # velocity north r w cos(ang), east -r w sin(ang)
        cog = np.degrees(np.arctan2(-np.sin(ang), np.cos(ang))) % 360
        return lat, lon, sog, cog
    n, e = ft["north_kn"], ft["east_kn"]
    lat = lat0 + n * h * KM_PER_NM / _KM_PER_DEG
    lon = lon0 + e * h * KM_PER_NM / (_KM_PER_DEG * k)
    return lat, lon, np.full(len(t), float(np.hypot(n, e))), np.full(len(t), float(np.degrees(np.arctan2(e, n)) % 360))
