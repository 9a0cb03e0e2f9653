"""Shared scenario machinery: the run context, and background traffic (cargo, container, bulk and tanker calls,
fishing fleets) on realistic port rotations."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shadowfleet.places import KM_PER_NM, Places, haversine_km, on_land
from shadowfleet.sim.config import SimConfig
from shadowfleet.sim.lanes import NODES
from shadowfleet.sim.routes import ANCHORED, FISHING, MOORED, UNDERWAY, Geo, Itinerary
from shadowfleet.sim.vessels import SHIP_TYPE_CODE, IdentityFactory, Vessel, dims_from_dwt

_M_PER_DEG = 111_195.0


@dataclass
class Context:
    places: Places
    geo: Geo
    cfg: SimConfig
    rng: np.random.Generator
    t0: float
    t1: float
    ids: IdentityFactory
    vessels: list[Vessel] = field(default_factory=list)
    voyages: list[dict] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    late_feeds: dict = field(default_factory=dict)  # receiver id -> seconds its stamps run late

    def add(self, v: Vessel) -> int:
        self.vessels.append(v)
        return len(self.vessels) - 1


def identity_record(v: Vessel, from_ts: float, to_ts: float | None = None, **changes) -> dict:
    rec = {"from_ts": from_ts, "to_ts": to_ts, "mmsi": v.mmsi, "name": v.name, "imo": v.imo,
           "callsign": v.callsign, "flag": v.flag, "ship_type": v.ship_type}
    rec.update(changes)
    return rec


def status_for(geo: Geo, pid: str) -> int:
    return ANCHORED if geo.kind(pid) in ("anchorage", "sts_area") else MOORED


def dest_text(geo: Geo, pid: str) -> str:
    name = geo.name(pid).upper()
    for sep in (" (", ",", " PORT", " OIL", " CRUDE"):
        name = name.split(sep)[0]
    return name[:20]


# Port rotations per ship type and sea (ours: from the ports' roles in public port descriptions: Vostochny coal and
# container terminals, Kozmino crude, Nakhodka and Vladivostok general ports, Busan and Niigata hubs, Rajin's
# Russian coal/container pier, the Bohai and Yellow Sea ports of China).
ROTATIONS = {
    "east": {
        "container": ["RUVVO", "RUVYP-CTN", "KRPUS", "JPKIJ", "RUNJK"],
        "bulk": ["RUVYP-COAL", "RUNJK", "RUVVO", "KRPUS", "JPKIJ", "RUZAR"],
        "tanker": ["KOZMINO", "RUNJK", "RUVVO", "KRPUS", "JPKIJ"],
        "cargo": ["RUNJK", "RUVVO", "KPRJN", "RUZAR", "KRPUS", "JPKIJ"],
        "fishing_home": ["RUZAR", "RUVVO", "RUZAR"],
        "fishing_grounds": ["PG_MID", "SOJ_NW", "SOJ_N", "PG_EAST", "SOJ_E"],
    },
    "west": {
        "container": ["CNDLC", "CNTSN", "CNYNT", "KRPUS"],
        "bulk": ["CNDLC", "CNTSN", "CNLKU", "CNYNT"],
        "tanker": ["CNDLC", "CNTSN", "CNLKU", "CNYNT"],
        "cargo": ["CNDLC", "CNTSN", "CNLKU", "CNYNT", "KRPUS"],
        "fishing_home": ["CNDLC", "CNYNT", "CNLKU"],
        "fishing_grounds": ["KB_MID", "YS_N", "YS_MID", "BOHAI_C", "KB_N"],
    },
}
ANCHORAGE_OF = {"RUVYP-COAL": "RUVYP-ANCH", "RUVYP-CTN": "RUVYP-ANCH", "KOZMINO": "RUVYP-ANCH",
                "RUNJK": "RUNJK-ANCH", "RUVVO": "RUVVO-ANCH", "RUZAR": "RUZAR-ANCH"}
# ours: share of each class in background traffic, dwt ranges, flags
MIX = [("bulk", 0.25), ("container", 0.15), ("tanker", 0.15), ("cargo", 0.17), ("fishing", 0.28)]
DWT = {"bulk": (20_000, 82_000), "container": (8_000, 40_000), "tanker": (3_000, 50_000), "cargo": (2_000, 12_000),
       "fishing": (100, 1_200)}
FLAGS = {"east": ["RU", "RU", "RU", "PA", "LR", "MH", "HK", "KR", "JP", "CN"],
         "west": ["CN", "CN", "CN", "PA", "LR", "MH", "HK", "KR", "SG"]}
FISH_FLAGS = {"east": ["RU"], "west": ["CN"]}


def speed_for(cfg: SimConfig, kind: str, rng) -> float:
    lo, hi = {"tanker": cfg.tanker_speed_kn, "bulk": cfg.bulk_speed_kn, "container": cfg.container_speed_kn,
              "cargo": cfg.bulk_speed_kn, "fishing": cfg.fishing_transit_kn}[kind]
    return float(rng.uniform(lo, hi))


def new_vessel(ctx: Context, kind: str, region: str, role: str = "background", flag: str | None = None,
               dwt: float | None = None) -> Vessel:
    rng = ctx.rng
    flag = flag or (FISH_FLAGS if kind == "fishing" else FLAGS)[region][int(rng.integers(
        len((FISH_FLAGS if kind == "fishing" else FLAGS)[region])))]
    if dwt is None and kind == "fishing" and rng.random() < 0.5:
        dwt = float(np.round(rng.uniform(40, 200), -1))  # ours: half the fishing fleet is small coastal craft
    dwt = dwt or float(np.round(rng.uniform(*DWT[kind]), -1))
    length, beam = dims_from_dwt(dwt, kind, rng)
    cls = "B" if kind == "fishing" and length < 45 else "A"  # ours: small fishing craft carry Class B
    v = Vessel(mmsi=ctx.ids.mmsi(flag), imo=None if cls == "B" else ctx.ids.imo(), name=ctx.ids.name(),
               callsign=ctx.ids.callsign(flag), flag=flag, type=kind, role=role, length=length, beam=beam,
               dwt=dwt, ship_type=SHIP_TYPE_CODE[kind], cls=cls, speed_kn=speed_for(ctx.cfg, kind, rng))
    v.ballast_draught = round(float(length / 22 * rng.uniform(0.8, 1.0)), 1)  # ours: rough draught-to-length
    v.identities = [identity_record(v, ctx.t0 - 86400 * 365)]
    return v


def background(ctx: Context, n: int, regions: list[str]) -> None:
    """n background vessels spread over the regions, each on a port rotation or fishing trips."""
    rng = ctx.rng
    kinds = [k for k, _ in MIX]
    probs = np.array([p for _, p in MIX])
    for i in range(n):
        region = regions[i % len(regions)]
        kind = kinds[int(rng.choice(len(kinds), p=probs / probs.sum()))]
        v = new_vessel(ctx, kind, region)
        vi = ctx.add(v)
        if kind == "fishing":
            _fishing(ctx, v, vi, region)
        else:
            _rotation(ctx, v, vi, ROTATIONS[region][kind])


def _rotation(ctx: Context, v: Vessel, vi: int, ports: list[str]) -> None:
    cfg, rng, geo = ctx.cfg, ctx.rng, ctx.geo
    first = float(rng.uniform(0.5, cfg.cargo_port_hours[1]))  # start part-way through a port stay
    here, k = _first_spot(ctx, list(ports) + [ANCHORAGE_OF[p] for p in ports if p in ANCHORAGE_OF], first)
    booking = geo.last_booking
    pts = geo.pool(here)
    it = Itinerary(vi, geo, cfg, rng, ctx.t0, float(pts[k][0]), float(pts[k][1]), place=here)
    it.booking = booking
    it.stop(first, status_for(geo, here), "call")
    dest = [(ctx.t0 - 86400, dest_text(geo, here))]
    while it.now < ctx.t1:
        nxt = [p for p in ports if p != here]
        # ours: calls spread in proportion to a place's berths (spots), so one-berth terminals are not swamped
        w = np.array([min(len(geo.pool(p)), 20) for p in nxt], dtype=float) ** 1.5
        order = rng.choice(len(nxt), size=len(nxt), replace=False, p=w / w.sum())
        speed = v.speed_kn * float(rng.uniform(0.93, 1.03))
        hours = float(rng.uniform(*cfg.cargo_port_hours))
        # ours: about a third of calls wait at the anchorage first (berth not ready, papers, pilots)
        pre = float(rng.uniform(*cfg.anchor_wait_hours)) if rng.random() < 0.35 else 0.0
        t_leave = it.now
        stop = None
        for j in order:
            cand = nxt[int(j)]
            stop = it.call(cand, hours, status_for(geo, cand), "call", speed, wait_at=ANCHORAGE_OF.get(cand),
                           pre_wait_h=pre, share=False)
            if stop is not None:
                here = cand
                break
        if stop is None:  # every port on the rotation full: stay another half day and try again
            it.stay_on(it.now + 12 * 3600, "wait")
            continue
        dest.append((t_leave, dest_text(geo, here)))
    v.track, v.stops = it.track(), it.stops
    v.destination = dest
    v.draught = [(ctx.t0 - 86400, v.ballast_draught)]
    # ours: laden ships broadcast a deeper draught after half of their calls (they alternate load / discharge)
    deep = round(min(v.ballast_draught * 1.6, 20.0), 1)
    for k, s in enumerate(s for s in it.stops[1:] if s.purpose == "call"):
        if s.end < ctx.t1:
            v.draught.append((s.end + 600, deep if k % 2 == 0 else v.ballast_draught))


def _first_spot(ctx: Context, places: list[str], hours: float) -> tuple[str, int]:
    """Where a ship lies when the run starts: a free spot in the first of ``places`` (in random order) that has
    one, else a shared spot in the first."""
    order = [places[int(i)] for i in ctx.rng.permutation(len(places))]
    for pid in order:
        k, _ = ctx.geo.book(pid, ctx.t0 - 86400, ctx.t0 + hours * 3600, max_delay_s=0, share=False)
        if k >= 0:
            return pid, k
    k, _ = ctx.geo.book(order[0], ctx.t0 - 86400, ctx.t0 + hours * 3600, max_delay_s=0)
    return order[0], k


def _sea_point(ctx: Context, node: str, radius_km: float, near: tuple[float, float] | None = None):
    """A random open-water point within radius_km of a lane node, reachable in a straight line from ``near``."""
    rng = ctx.rng
    la0, lo0 = NODES[node]
    for _ in range(30):
        r = radius_km * np.sqrt(rng.random())
        a = rng.uniform(0, 2 * np.pi)
        la = la0 + r * np.sin(a) / 111.195
        lo = lo0 + r * np.cos(a) / (111.195 * np.cos(np.radians(la0)))
        # open water: the point and the sea 2 km around it (a drifting ship swings about its position)
        d = 2.0 / 111.195
        ring_la = la + np.array([0, d, -d, 0, 0])
        ring_lo = lo + np.array([0, 0, 0, d, -d]) / np.cos(np.radians(la))
        if on_land(ring_la, ring_lo).any():
            continue
        if ctx.places.locate([la], [lo])[0] is not None:
            continue
        src = near or (la0, lo0)
        # reachable from where the ship is and back to the lane node it will leave by
        if ctx.geo.clean_leg([src[0], la0], [src[1], lo0], la, lo, allow_ports=False).all():
            return float(la), float(lo)
    return None


def _fishing(ctx: Context, v: Vessel, vi: int, region: str) -> None:
    """Trips from a home port to a fishing ground: trawling legs at 3-4 kn (status 7) by day, drifting at night,
    back home after a few days (ours: typical of coastal trawlers)."""
    cfg, rng, geo = ctx.cfg, ctx.rng, ctx.geo
    homes = ROTATIONS[region]["fishing_home"]
    grounds = ROTATIONS[region]["fishing_grounds"]
    home = homes[int(rng.integers(len(homes)))]
    first = float(rng.uniform(1, 30))
    home, k = _first_spot(ctx, [home] + [h for h in dict.fromkeys(homes) if h != home], first)
    pts = geo.pool(home)
    it = Itinerary(vi, geo, cfg, rng, ctx.t0, float(pts[k][0]), float(pts[k][1]), place=home)
    it.booking = geo.last_booking
    it.stop(first, MOORED, "home")
    while it.now < ctx.t1:
        ground = grounds[int(rng.integers(len(grounds)))]
        start = _sea_point(ctx, ground, 15.0)
        if start is None:
            it.stop(24, MOORED, "home")
            continue
        it.sail(None, start, v.speed_kn, node=ground)
        days = int(rng.integers(2, 6))
        for _ in range(days):
            for _leg in range(int(rng.integers(2, 5))):
                p = _sea_point(ctx, ground, 25.0, near=it.pos)
                if p is None:
                    break
                trawl = float(rng.uniform(*cfg.fishing_trawl_kn))
                it.polyline(np.array([it.pos, p]), trawl, status=FISHING, slow_ends=False)
            it.stop(float(rng.uniform(3.0, 9.0)), FISHING, "drift")
            if it.now > ctx.t1:
                break
        it.node = ground
        hrs = float(rng.uniform(12, 48))
        for h in [home] + [x for x in dict.fromkeys(homes) if x != home]:
            if it.call(h, hrs, MOORED, "home", v.speed_kn, share=False) is not None:
                home = h
                break
        else:  # all full: wait at the anchorage, then moor alongside another boat
            it.call(home, hrs, MOORED, "home", v.speed_kn, wait_at=ANCHORAGE_OF.get(home))
    v.track, v.stops = it.track(), it.stops
    v.destination = [(ctx.t0 - 86400, "")]
    v.draught = [(ctx.t0 - 86400, v.ballast_draught if v.cls == "A" else 0.0)]


def crossing_time(it: Itinerary, t_from: float, t_to: float, lat: float, lon: float, radius_km: float,
                  inbound: bool) -> float:
    """First (inbound) or last (outbound) time in [t_from, t_to] the vessel is within radius_km of a point."""
    tr = it.track()
    t = np.arange(t_from, t_to, 30.0)
    if len(t) == 0:
        return t_from
    la = np.interp(t, tr.t, tr.lat)
    lo = np.interp(t, tr.t, tr.lon)
    inside = haversine_km(la, lo, lat, lon) <= radius_km
    if not inside.any():
        return t_to if inbound else t_from
    ix = np.nonzero(inside)[0]
    return float(t[ix[0]] if inbound else t[ix[-1]])


NM = KM_PER_NM
__all__ = ["Context", "background", "new_vessel", "identity_record", "crossing_time", "status_for", "dest_text",
           "UNDERWAY", "ANCHORED", "MOORED", "FISHING", "NM"]
