"""True trajectories sampled at arbitrary times, vectorised: position, SOG, COG, heading, navigational status."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shadowfleet.places import bearing_deg
from shadowfleet.sim.routes import Track

_M_PER_DEG = 111_195.0
_KN = 1852.0 / 3600.0  # m/s per knot


@dataclass
class Sample:
    lat: np.ndarray
    lon: np.ndarray
    sog: np.ndarray
    cog: np.ndarray
    heading: np.ndarray
    status: np.ndarray
    seg: np.ndarray  # segment index into the track
    stop: np.ndarray  # stop index or -1


def sample(track: Track, stops: list, times: np.ndarray, rng: np.random.Generator | None = None) -> Sample:
    """The true state at ``times`` (clipped to the track's span). Noise: GPS ~5 m, SOG 0.1 kn, COG 1 deg when
    ``rng`` is given (ours: typical GNSS and log noise in AIS)."""
    t = np.clip(np.asarray(times, dtype=float), track.t[0], track.t[-1])
    seg = np.clip(np.searchsorted(track.t, t, side="right") - 1, 0, len(track.t) - 2)
    lat = np.interp(t, track.t, track.lat)
    lon = np.interp(t, track.t, track.lon)
    status = track.seg_status[seg].astype(np.int64)
    speed = track.seg_speed[seg]
    stop = track.seg_stop[seg]
    cog = bearing_deg(track.lat[seg], track.lon[seg], track.lat[seg + 1], track.lon[seg + 1])
    sog = speed.copy()
    heading = cog.copy()
    moving = stop < 0
    if (~moving).any():
        # stationary: swing on the anchor chain / drift in a small circle (speed well under 0.5 kn)
        ix = stop[~moving]
        swing = np.array([s.swing_m for s in stops])[ix]
        phase = np.array([s.phase for s in stops])[ix]
        period = 6 * 3600.0  # ours: tidal swing period
        ang = phase + 2 * np.pi * t[~moving] / period
        dlat = swing * np.sin(ang) / _M_PER_DEG
        dlon = swing * np.cos(ang) / (_M_PER_DEG * np.cos(np.radians(lat[~moving])))
        lat[~moving] += dlat
        lon[~moving] += dlon
        sog[~moving] = 2 * np.pi * swing / period / _KN
        tang = (np.degrees(ang) + 360.0) % 360.0
        cog[~moving] = np.where(swing > 0, tang, phase * 57.29 % 360)
        heading[~moving] = np.where(swing > 0, (tang + 90) % 360, phase * 57.29 % 360)
    if rng is not None:
        n = len(t)
        lat = lat + rng.normal(0, 5.0, n) / _M_PER_DEG
        lon = lon + rng.normal(0, 5.0, n) / (_M_PER_DEG * np.cos(np.radians(lat)))
        sog = np.abs(sog + rng.normal(0, np.where(moving, 0.1, 0.02), n))
        cog = (cog + rng.normal(0, np.where(moving, 1.0, 5.0), n)) % 360
        heading = (heading + rng.normal(0, 2.0, n)) % 360
    return Sample(lat, lon, sog, cog, heading, status, seg, stop)


def in_intervals(t: np.ndarray, intervals: list[tuple]) -> np.ndarray:
    """Boolean mask: t inside any [a, b) of the (sorted or not) intervals; vectorised over t."""
    mask = np.zeros(len(t), dtype=bool)
    for iv in intervals:
        mask |= (t >= iv[0]) & (t < iv[1])
    return mask
