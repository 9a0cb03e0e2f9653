"""Builders for constructed tracks with known answers (real polars frames, real places)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

from shadowfleet.places import Places, places_from_geojson

T0 = dt.datetime(2024, 3, 7, 0, 0, tzinfo=dt.timezone.utc)
KM_LAT = 1 / 111.32  # degrees of latitude per km


def box(cid, kind, lat0, lon0, lat1, lon1, name=None):
    return {
        "type": "Feature",
        "properties": {"id": cid, "name": name or cid, "kind": kind, "country": "RU"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]],
        },
    }


# A port ~11 x 8 km with an oil berth (~0.4 km) inside it, an anchorage beside the port, an STS area at sea.
FEATURES = [
    box("PORT", "port", 42.70, 133.00, 42.80, 133.10),
    box("PORT-OIL", "berth", 42.745, 133.045, 42.749, 133.050),
    box("PORT-ANCH", "anchorage", 42.60, 133.00, 42.66, 133.10),
    box("STS", "sts_area", 41.00, 131.00, 41.20, 131.30),
    box("OTHER", "port", 41.70, 129.75, 41.80, 129.90),
]
BERTH = (42.747, 133.0475)
ANCH = (42.63, 133.05)
SEA = (42.2, 132.5)


def places(features=FEATURES) -> Places:
    return places_from_geojson({"type": "FeatureCollection", "features": features})


def track(mmsi: int, points: list[tuple[float, float, float, float]]) -> pl.DataFrame:
    """Rows from (minutes after T0, lat, lon, sog)."""
    m, la, lo, s = zip(*points) if points else ([], [], [], [])
    return pl.DataFrame(
        {
            "mmsi": [mmsi] * len(m),
            "ts": [T0 + dt.timedelta(minutes=x) for x in m],
            "lat": list(la),
            "lon": list(lo),
            "sog": list(s),
        },
        schema={"mmsi": pl.Int64, "ts": pl.Datetime("us", "UTC"), "lat": pl.Float64, "lon": pl.Float64,
                "sog": pl.Float32},
    ).with_columns(pl.lit(1, pl.Int64).alias("segment"))


def still(t0: float, t1: float, lat: float, lon: float, every: float = 3.0, sog: float = 0.1):
    """Stationary reports from minute t0 to t1 inclusive (ITU-R M.1371: every 3 min at anchor)."""
    return [(t, lat, lon, sog) for t in np.arange(t0, t1 + 1e-9, every)]


def sail(t0: float, t1: float, a, b, every: float = 10.0, sog: float = 10.0):
    """Straight line from a to b (lat, lon) between minutes t0 and t1."""
    ts = np.arange(t0, t1 + 1e-9, every)
    f = (ts - t0) / max(t1 - t0, 1e-9)
    return [(t, a[0] + (b[0] - a[0]) * x, a[1] + (b[1] - a[1]) * x, sog) for t, x in zip(ts, f)]


def offset_km(p, north_km: float, east_km: float):
    return (p[0] + north_km * KM_LAT, p[1] + east_km * KM_LAT / math.cos(math.radians(p[0])))
