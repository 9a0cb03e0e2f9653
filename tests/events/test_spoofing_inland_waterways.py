"""A track deep inland is spoofing unless it follows a waterway ships sail: real river and canal courses at river
speeds stay silent (the Rhine, the Yangtze, the Kiel Canal), tracks across the Gobi, Siberia and Korea's
mountains are flagged."""

import dataclasses
import datetime as dt
import json
import math

import pytest

from helpers import track
from shadowfleet.events.config import SpoofingConfig
from shadowfleet.events.transforms.spoofing import find_spoofing

# waypoints on the river or canal (lat, lon), read off public maps (OpenStreetMap)
RHINE = [(50.940, 6.965), (51.03, 6.96), (51.10, 6.88), (51.227, 6.770), (51.30, 6.73), (51.40, 6.72),
         (51.455, 6.728)]  # Cologne to Duisburg-Ruhrort, ~70 km
YANGTZE = [(30.549, 114.287), (30.62, 114.37), (30.66, 114.45), (30.69, 114.55)]  # through Wuhan
KIEL = [(54.36, 9.95), (54.30, 9.67)]  # Kiel Canal by Rendsburg
GOBI = [(43.0, 104.5), (43.0, 105.5)]
SIBERIA = [(62.0, 99.5), (62.0, 100.5)]
KOREA = [(38.2, 127.6), (38.7, 127.9)]  # Taebaek mountains, Gangwon


def along(mmsi, waypoints, kn, every_min=2.0):
    """Reports every few minutes at a steady speed along the waypoints."""
    pts, t = [], 0.0
    for (a0, o0), (a1, o1) in zip(waypoints, waypoints[1:]):
        km = 111.195 * math.hypot(a1 - a0, (o1 - o0) * math.cos(math.radians(a0)))
        n = max(int(km / (kn * 1.852) * 60 / every_min), 1)
        pts += [(t + i * every_min, a0 + (a1 - a0) * i / n, o0 + (o1 - o0) * i / n, kn) for i in range(n)]
        t += n * every_min
    pts.append((t, *waypoints[-1], kn))
    return track(mmsi, pts).drop("segment", strict=False)


def inland(ev):
    return [d for d in (json.loads(x) for x in ev["details"]) if d.get("inland")]


@pytest.mark.parametrize("name, way, kn", [("rhine", RHINE, 8.0), ("yangtze", YANGTZE, 9.0), ("kiel", KIEL, 7.0)])
def test_a_real_river_or_canal_course_at_river_speed_is_not_spoofing(name, way, kn):
    tr = along(273000400, way, kn)
    assert inland(find_spoofing(tr)) == []
    if name != "kiel":  # the Kiel Canal is near the sea; the rivers are the waterways' work
        blind = dataclasses.replace(SpoofingConfig(), waterway_km=0.0)
        assert len(inland(find_spoofing(tr, blind))) == 1


@pytest.mark.parametrize("way", [GOBI, SIBERIA, KOREA], ids=["gobi", "siberia", "korea"])
def test_a_track_across_desert_taiga_or_mountains_is_spoofing(way):
    ev = find_spoofing(along(273000401, way, 10.0))
    [d] = inland(ev)
    assert d["kind"] == "on_land" and ev["end"][0] - ev["start"][0] >= dt.timedelta(hours=1)
