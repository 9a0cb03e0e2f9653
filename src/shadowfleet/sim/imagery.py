"""Satellite acquisitions over the scenario's sites and the ships truly inside each footprint at that moment."""

from __future__ import annotations

import numpy as np

from shadowfleet.sim.config import SimConfig
from shadowfleet.sim.motion import in_intervals, sample
from shadowfleet.sim.truth import iso

# ours: local overpass times (UTC) over the Sea of Japan: Sentinel-1 ascending ~08:40 / descending ~20:50;
# Sentinel-2 ~02:10 (10:30 local solar time).
SAR_HOURS = (8.67, 20.83)
OPTICAL_HOUR = 2.17


def _footprint(lat: float, lon: float, km: float, angle_deg: float) -> list[list[float]]:
    """A square of side km around (lat, lon), rotated by the orbit's heading, as a closed GeoJSON ring."""
    h = km / 2
    corners = np.array([[-h, -h], [h, -h], [h, h], [-h, h], [-h, -h]])
    a = np.radians(angle_deg)
    rot = corners @ np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dlat = rot[:, 1] / 111.195
    dlon = rot[:, 0] / (111.195 * np.cos(np.radians(lat)))
    return [[round(float(lon + x), 5), round(float(lat + y), 5)] for x, y in zip(dlon, dlat)]


def acquisitions(sites: list[tuple[str, float, float]], vessels, cfg: SimConfig, rng: np.random.Generator,
                 t0: float, t1: float) -> list[dict]:
    from shapely.geometry import Point, Polygon

    out = []
    day0 = np.floor(t0 / 86400) * 86400
    for site, lat, lon in sites:
        plans = []
        k = rng.uniform(0, cfg.sar_revisit_days)
        t = day0 + np.floor(k) * 86400
        while t < t1:
            hour = SAR_HOURS[int(rng.integers(2))]
            plans.append(("SAR", t + hour * 3600, float(rng.uniform(-12, 12)), False))
            t += cfg.sar_revisit_days * 86400
        t = day0 + np.floor(rng.uniform(0, cfg.optical_revisit_days)) * 86400
        while t < t1:
            plans.append(("optical", t + OPTICAL_HOUR * 3600, float(rng.uniform(-12, 12)),
                          bool(rng.random() < cfg.optical_cloud_share)))
            t += cfg.optical_revisit_days * 86400
        for sensor, ta, ang, cloudy in sorted(plans, key=lambda p: p[1]):
            if not (t0 <= ta < t1):
                continue
            ring = _footprint(lat, lon, cfg.footprint_km, ang)
            poly = Polygon(ring)
            ships = []
            for v in vessels:
                tr = v.track
                if tr is None or ta < tr.t[0] or ta > tr.t[-1]:
                    continue
                s = sample(tr, v.stops, np.array([ta]))
                if not poly.contains(Point(s.lon[0], s.lat[0])):
                    continue
                ais_on = not bool(in_intervals(np.array([ta]), v.off)[0])
                spoofed = any(a <= ta < b for a, b, _, _ in v.spoof)
                ships.append({"mmsi": v.mmsi, "name": v.name, "lat": round(float(s.lat[0]), 5),
                              "lon": round(float(s.lon[0]), 5), "length": v.length, "beam": v.beam,
                              "heading": round(float(s.heading[0]), 1), "sog": round(float(s.sog[0]), 2),
                              "ais_on": ais_on, "ais_spoofed": spoofed, "role": v.role})
            out.append({"id": None, "sensor": sensor, "site": site, "time": iso(ta),
                        "footprint": {"type": "Polygon", "coordinates": [ring]},
                        "cloudy": cloudy if sensor == "optical" else False, "ships": ships})
    out.sort(key=lambda a: (a["time"], a["site"], a["sensor"]))
    for i, a in enumerate(out, 1):
        a["id"] = f"acq-{i:04d}"
    return out
