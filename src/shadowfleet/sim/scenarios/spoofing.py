"""Spoofing as investigators find it, among honest background traffic, with its truth.

Planted on background ships (two of each, at random times): a false stretch spliced into the track while the
real ship is silent (middle); one opening a received period after hours with the transponder off (first); circle
spoofing entered without a jump; a smooth track deep inland; a false position hundreds of km beyond the shore
receiver that hears the ship. Once each: a ship-to-ship transfer at sea during which the supplier broadcasts a
false stretch ~130 km away (the transfer is still an encounter, the stretch spliced), and two real ships on one
MMSI at once, one in each sea (a cloned identity: both ships' port calls stand, the MMSI is reported once).
Honest traps: a fast ferry at ~36 kn whose SOG/COG agree with its motion, a satellite feed whose stamps run
~40 min late (the same ship heard twice, 150-400 km apart at face value), and a tanker shifting between two
quays of Nakhodka with its transponder off (no spoofing, both calls found).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from shadowfleet.places import destination_point, haversine_km, on_land
from shadowfleet.sim.motion import sample
from shadowfleet.sim.reception import SATELLITES, SHORE_STATIONS
from shadowfleet.sim.routes import ANCHORED, MOORED, Itinerary
from shadowfleet.sim.scenarios.common import (ANCHORAGE_OF, Context, _rotation, _sea_point, background,
                                              identity_record, new_vessel)

H = 3600.0
KINDS = ("spliced_middle", "spliced_first", "circle", "inland", "out_of_range")
SITUATIONS = ("spliced_sts", "shared_mmsi")  # planted once each
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
    for vi in (sts_behind_false_track(ctx), shared_mmsi(ctx, order)):
        if vi is not None:
            v = ctx.vessels[vi]
            planted.append({"mmsi": v.mmsi, "kind": v.params["planted"]})
    # honest traps
    shuttle = dark_quay_shift(ctx)
    ferry = new_vessel(ctx, "cargo", "east", role="fast_ferry")
    ferry.speed_kn = 36.0  # high-speed craft (IMO HSC Code) on a Vladivostok-Nakhodka shuttle
    ferry.ship_type = 60  # ITU-R M.1371: passenger ship
    _rotation(ctx, ferry, ctx.add(ferry), ["RUVVO", "RUNJK"])
    late = SATELLITES[-1]
    ctx.late_feeds[late] = ctx.cfg.late_feed_min * 60.0
    ctx.params.update({"planted_spoofing": planted, "fast_ferry_mmsi": ferry.mmsi, "dark_shuttle_mmsi": shuttle,
                       "late_feed": {"receiver": late, "minutes": ctx.cfg.late_feed_min}})


def sts_behind_false_track(ctx: Context) -> int | None:
    """A tanker tops up a smaller one alongside at sea in Peter the Great Gulf; for five hours of the transfer the
    supplier broadcasts a false stretch of track ~130 km away (Windward's "location manipulation" hiding an
    STS). Returns the supplier's vessel index."""
    cfg, rng, geo = ctx.cfg, ctx.rng, ctx.geo
    if ctx.t1 - ctx.t0 < 3 * 86400:
        return None
    p = _sea_point(ctx, "PG_MID", 15.0)
    if p is None:
        return None
    mother = new_vessel(ctx, "tanker", "east", role="spoofer", dwt=float(rng.integers(20, 45)) * 1000)
    daughter = new_vessel(ctx, "tanker", "east", role="sts_partner", dwt=float(rng.integers(3, 7)) * 1000)
    mi, di = ctx.add(mother), ctx.add(daughter)
    p2 = (p[0], p[1] + 45.0 / (111_195.0 * np.cos(np.radians(p[0]))))  # alongside, 45 m abeam
    t_meet = ctx.t0 + (ctx.t1 - ctx.t0) * float(rng.uniform(0.3, 0.5))
    sts_h = float(rng.uniform(14, 20))
    tonnes = float(np.round(daughter.dwt * rng.uniform(0.7, 0.9), -1))
    product = "gas oil"
    bbl = round(tonnes * 7.46, 1)  # docs/reference.md: gas/diesel oil 7.46 bbl/t (UNSD)
    vid = "sts-hidden-1"
    for vi, v, home, dest, hours, spot, cargo, away in (
            (mi, mother, "KOZMINO", "KRPUS", sts_h + 6, p, "discharge", 3 * 3600),
            (di, daughter, "RUVVO", "RUVVO", sts_h, p2, "load", 0.0)):
        it = Itinerary(vi, geo, cfg, rng, ctx.t0, *geo.point(home, rng), place=home)
        probe = Itinerary(vi, geo, cfg, rng, 0.0, *it.pos, place=home)
        probe.sail(None, spot, v.speed_kn, node="PG_MID")
        it.idle_until(t_meet - probe.now - away, MOORED, "call")
        it.sail(None, spot, v.speed_kn, node="PG_MID")
        stop = it.stop(hours, ANCHORED, "sts", voyage=vid,
                       cargo={"action": cargo, "tonnes": tonnes, "product": product, "barrels": bbl})
        it.sail(dest, geo.point(dest, rng), v.speed_kn)
        it.idle_until(ctx.t1 + 3600, MOORED, "call")
        v.track, v.stops = it.track(), it.stops
        deeper = cargo == "load"
        v.draught = [(ctx.t0 - 86400, v.ballast_draught * (1.0 if deeper else 1.6)),
                     (stop.end + 1800, v.ballast_draught * (1.7 if deeper else 1.4))]
        v.destination = [(ctx.t0 - 86400, "NAKHODKA"), (stop.end, dest_name(dest))]
        if cargo == "discharge":
            s_m = stop
    a = t_meet + 3 * 3600  # the receiver is alongside and the hoses are connected
    for _ in range(50):
        bearing = float(rng.uniform(0, 360))
        flat, flon = destination_point(p[0], p[1], bearing, float(rng.uniform(110, 160)))
        n, e = 8.0 * np.cos(np.radians(bearing + 90)), 8.0 * np.sin(np.radians(bearing + 90))
        if _line_at_sea(float(flat), float(flon), n, e, 5.0):
            mother.false_tracks.append({"a": a, "b": a + 5 * H, "kind": "line", "lat": float(flat),
                                        "lon": float(flon), "north_kn": float(n), "east_kn": float(e),
                                        "label": "spliced_sts"})
            break
    else:
        return None
    mother.params["planted"] = "spliced_sts"
    month = dt.datetime.fromtimestamp(s_m.start, dt.timezone.utc).strftime("%Y-%m")
    ctx.voyages.append({"id": vid, "mmsi": mother.mmsi, "_load": None, "_discharge": s_m, "load_place": "KOZMINO",
                        "discharge_place": None, "discharge_kind": "sts", "tonnes": tonnes, "product": product,
                        "barrels": bbl, "month": month, "to_dprk": False, "receiver_mmsi": daughter.mmsi})
    return mi


def dest_name(pid: str) -> str:
    return {"KRPUS": "BUSAN", "RUVVO": "VLADIVOSTOK"}.get(pid, pid)


def shared_mmsi(ctx: Context, order: list) -> int | None:
    """A ship in the Yellow Sea broadcasting the identity (MMSI, name, IMO, call sign) of a ship trading in the
    Sea of Japan at the same time: one MMSI, two ships ~1,000 km apart (a cloned identity, as the UN Panel of
    Experts reports of DPRK-linked tankers). The clone sends no draught. Returns the clone's vessel index."""
    east = [int(i) for i in order if ctx.vessels[int(i)].track.lon[0] > 127]
    west = [int(i) for i in order if ctx.vessels[int(i)].track.lon[0] <= 127]
    if not east or not west:
        return None
    orig, vi = ctx.vessels[east[0]], west[0]
    order.remove(east[0])
    order.remove(vi)
    clone = ctx.vessels[vi]
    same = {k: orig.identities[0][k] for k in ("mmsi", "name", "imo", "callsign", "flag", "ship_type")}
    clone.mmsi, clone.name, clone.imo, clone.callsign, clone.flag = (same["mmsi"], same["name"], same["imo"],
                                                                     same["callsign"], same["flag"])
    clone.ship_type = same["ship_type"]
    clone.identities = [identity_record(clone, ctx.t0 - 86400 * 365)]
    clone.draught = [(ctx.t0 - 86400, 0.0)]  # M.1371: 0 = not available
    clone.role = "clone"
    clone.params["planted"] = "shared_mmsi"
    clone.params["shares_mmsi_of"] = east[0]
    return vi


def dark_quay_shift(ctx: Context) -> int | None:
    """A tanker at Nakhodka shifts from one quay to another 1-4 km away with its transponder off (from 20 min
    before casting off to 20 min after making fast), then trades on: an honest trap for spoofing rules (a
    silent move is no jump) and a test of the two calls. Returns its MMSI."""
    cfg, rng, geo = ctx.cfg, ctx.rng, ctx.geo
    pid = "RUNJK"
    pts = geo.pool(pid)
    h1, h2 = float(rng.uniform(10, 20)), float(rng.uniform(10, 20))
    for _ in range(200):
        k1, k2 = (int(x) for x in rng.choice(len(pts), size=2, replace=False))
        if 1.0 <= float(haversine_km(pts[k1][0], pts[k1][1], pts[k2][0], pts[k2][1])) <= 4.0:
            break
    else:
        return None
    start = ctx.t0 + float(rng.uniform(0.5, 1.5)) * 86400
    v = new_vessel(ctx, "tanker", "east", role="dark_shuttle")
    vi = ctx.add(v)
    it = Itinerary(vi, geo, cfg, rng, start, float(pts[k1][0]), float(pts[k1][1]), place=pid)
    it.stop(h1, MOORED, "call")
    off = it.now - 1200
    it.polyline(np.array([it.pos, (float(pts[k2][0]), float(pts[k2][1]))]), 4.0, slow_ends=False)
    it.stop(h2, MOORED, "call")
    v.off.append((off, it.stops[-1].start + 1200))
    while it.now < ctx.t1:
        nxt = "KRPUS" if it.place != "KRPUS" else pid
        if it.call(nxt, float(rng.uniform(*cfg.cargo_port_hours)), MOORED, "call", v.speed_kn,
                   wait_at=ANCHORAGE_OF.get(nxt)) is None:
            break
    v.track, v.stops = it.track(), it.stops
    v.destination = [(ctx.t0 - 86400, "NAKHODKA")]
    v.draught = [(ctx.t0 - 86400, v.ballast_draught)]
    return v.mmsi
