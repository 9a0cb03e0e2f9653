"""Spoofing as investigators find it, among honest background traffic, with its truth.

Planted on background ships (two of each, at random times): a false stretch spliced into the track while the
real ship is silent (middle); one opening a received period after hours with the transponder off (first); circle
spoofing entered without a jump; a smooth track deep inland; a false position hundreds of km beyond the shore
receiver that hears the ship. Honest traps: a fast ferry at ~36 kn whose SOG/COG agree with its motion, and a
satellite feed whose stamps run ~40 min late (the same ship heard twice, 150-400 km apart at face value).
"""

from __future__ import annotations

import numpy as np

from shadowfleet.places import destination_point, haversine_km, on_land
from shadowfleet.sim.motion import sample
from shadowfleet.sim.reception import SATELLITES, SHORE_STATIONS
from shadowfleet.sim.scenarios.common import Context, _rotation, background, new_vessel

H = 3600.0
KINDS = ("spliced_middle", "spliced_first", "circle", "inland", "out_of_range")
# deep inland starts for tracks drawn across land, per region (ours: Primorye hills; Liaoning plain near Shenyang)
INLAND = {"east": (43.95, 132.55, 0.0, 9.0), "west": (41.9, 123.2, 9.0, 0.0)}  # lat, lon, north kn, east kn


def _at_sea(lat, lon) -> bool:
    return not bool(np.any(on_land(np.atleast_1d(lat), np.atleast_1d(lon))))


def _line_at_sea(lat, lon, north_kn, east_kn, hours) -> bool:
    f = np.linspace(0, 1, 13)
    km = np.hypot(north_kn, east_kn) * 1.852 * hours * f
    b = np.degrees(np.arctan2(east_kn, north_kn))
    la, lo = destination_point(np.full(13, lat), np.full(13, lon), np.full(13, b), km)
    return not bool(on_land(la, lo).any())


def _near_shore_station(lat, lon, km=60.0) -> bool:
    return any(haversine_km(lat, lon, s[1], s[2]) < km for s in SHORE_STATIONS)


def _plan(ctx: Context, v, kind: str, region: str) -> dict | None:
    rng = ctx.rng
    for _ in range(200):
        a = float(rng.uniform(ctx.t0 + 1.5 * 86400, ctx.t1 - 1.0 * 86400))
        s = sample(v.track, v.stops, np.array([a]))
        la, lo, under = float(s.lat[0]), float(s.lon[0]), bool(s.stop[0] < 0 and s.sog[0] > 3)
        if kind in ("spliced_middle", "spliced_first"):
            hours = 6.0 if kind == "spliced_middle" else 3.0
            bearing = float(rng.uniform(0, 360))
            flat, flon = destination_point(la, lo, bearing, float(rng.uniform(110, 160)))
            n, e = 8.0 * np.cos(np.radians(bearing + 90)), 8.0 * np.sin(np.radians(bearing + 90))
            if not _line_at_sea(float(flat), float(flon), n, e, hours):
                continue
            ft = {"a": a, "b": a + hours * H, "kind": "line", "lat": float(flat), "lon": float(flon),
                  "north_kn": float(n), "east_kn": float(e)}
            if kind == "spliced_first":
                v.off.append((a - 10 * H, a))
            return ft
        if kind == "circle":
            if not under:
                continue
            r = float(rng.uniform(1.5, 3.0))
            clat, clon = destination_point(la, lo, 270.0, r)  # the circle starts where the ship is: no jump in
            ring = destination_point(np.full(8, clat), np.full(8, clon), np.arange(0, 360, 45.0), np.full(8, r))
            if on_land(*ring).any():
                continue
            return {"a": a, "b": a + 6 * H, "kind": "circle", "lat": float(clat), "lon": float(clon),
                    "radius_km": r, "period_s": float(2 * np.pi * r / (10 * 1.852) * H)}  # ~10 kn round it
        if kind == "inland":
            ila, ilo, n, e = INLAND[region]
            return {"a": a, "b": a + 4 * H, "kind": "line", "lat": ila, "lon": ilo, "north_kn": n, "east_kn": e}
        if kind == "out_of_range":
            if not _near_shore_station(la, lo):
                continue
            bearing = float(rng.uniform(0, 360))
            flat, flon = destination_point(la, lo, bearing, float(rng.uniform(450, 650)))
            if not _line_at_sea(float(flat), float(flon), 0.0, 6.0, 3.0):
                continue
            return {"a": a, "b": a + 3 * H, "kind": "line", "lat": float(flat), "lon": float(flon),
                    "north_kn": 0.0, "east_kn": 6.0}
    return None


def build(ctx: Context, n: int) -> None:
    background(ctx, n, ["east", "west"])
    rng = ctx.rng
    ships = [i for i, v in enumerate(ctx.vessels) if v.type != "fishing" and v.cls == "A"]
    order = list(rng.permutation(ships))
    planted = []
    for kind in KINDS:
        for _ in range(2):
            while order:
                vi = int(order.pop())
                v = ctx.vessels[vi]
                region = "east" if v.flag in ("RU", "JP", "KR") or v.track.lon[0] > 127 else "west"
                ft = _plan(ctx, v, kind, region)
                if ft is not None:
                    ft["label"] = kind
                    v.false_tracks.append(ft)
                    v.role = "spoofer"
                    planted.append({"mmsi": v.mmsi, "kind": kind})
                    break
    # honest traps
    ferry = new_vessel(ctx, "cargo", "east", role="fast_ferry")
    ferry.speed_kn = 36.0  # high-speed craft (IMO HSC Code) on a Vladivostok-Nakhodka shuttle
    ferry.ship_type = 60  # ITU-R M.1371: passenger ship
    _rotation(ctx, ferry, ctx.add(ferry), ["RUVVO", "RUNJK"])
    late = SATELLITES[-1]
    ctx.late_feeds[late] = ctx.cfg.late_feed_min * 60.0
    ctx.params.update({"planted_spoofing": planted, "fast_ferry_mmsi": ferry.mmsi,
                       "late_feed": {"receiver": late, "minutes": ctx.cfg.late_feed_min}})
