"""Routes follow the sea: lane edges and every true track point stay off land (global-land-mask), except at the
quay edge inside port places."""

from __future__ import annotations

import numpy as np

from shadowfleet.places import PORT_KINDS, load_places, on_land
from shadowfleet.sim import SimConfig
from shadowfleet.sim.lanes import EDGES, NODES
from shadowfleet.sim.motion import sample
from shadowfleet.sim.routes import Geo, Itinerary
from shadowfleet.sim.scenarios import SCENARIOS
from shadowfleet.sim.scenarios.common import Context
from shadowfleet.sim.vessels import IdentityFactory


def test_every_sea_lane_edge_is_on_water():
    for a, b in EDGES:
        (la1, lo1), (la2, lo2) = NODES[a], NODES[b]
        km = 111.2 * np.hypot(la2 - la1, (lo2 - lo1) * np.cos(np.radians(la1)))
        f = np.linspace(0, 1, int(km / 0.05) + 2)  # every 50 m
        land = on_land(la1 + (la2 - la1) * f, lo1 + (lo2 - lo1) * f)
        assert not land.any(), f"lane {a}-{b} crosses land"


def _near_water(la, lo, km=1.0):
    d = km / 111.195
    offs = [(d, 0), (-d, 0), (0, d / np.cos(np.radians(la))), (0, -d / np.cos(np.radians(la)))]
    return np.any([~on_land(la + dy, lo + dx) for dy, dx in offs], axis=0)


def _fleet(name: str, seed: int, n: int, days: float):
    sc = SCENARIOS[name]
    gaz = load_places()
    cfg = SimConfig()
    rng = np.random.default_rng([seed, 0])
    t0 = 1709251200.0
    ctx = Context(gaz, Geo(gaz, cfg, seed), cfg, rng, t0, t0 + days * 86400, IdentityFactory(rng))
    sc.build(ctx, n)
    return gaz, ctx


def test_no_true_track_point_on_land_outside_port_edges():
    for name, seed in (("vostochny-2024-03", 3), ("baseline", 4), ("nampo-sts", 5)):
        gaz, ctx = _fleet(name, seed, 40, 10)
        for v in ctx.vessels:
            t = np.arange(v.track.t[0], v.track.t[-1], 60.0)
            s = sample(v.track, v.stops, t)
            land = on_land(s.lat, s.lon)
            if not land.any():
                continue
            la, lo = s.lat[land], s.lon[land]
            in_port = gaz.locate(la, lo, kinds=PORT_KINDS) != None  # noqa: E711
            assert in_port.all(), (name, v.name, list(zip(la[~in_port][:3], lo[~in_port][:3])))
            assert _near_water(la, lo).all(), (name, v.name)


def test_speeds_and_the_vostochny_chongjin_run_are_physical():
    gaz, ctx = _fleet("vostochny-2024-03", 5, 0, 31)
    for v in ctx.vessels:
        moving = v.track.seg_stop < 0
        assert (v.track.seg_speed[moving] <= 20).all() and (v.track.seg_speed[moving] >= 2.5).all()
    # a laden leg Vostochny -> Chongjin at 9-11 kn takes 15-19 h (docs/reference.md: ~160 nm)
    tanker = next(v for v in ctx.vessels if v.role == "dprk_tanker" and any(s.purpose == "load" for s in v.stops))
    load = next(s for s in tanker.stops if s.purpose == "load")
    nxt = tanker.stops[tanker.stops.index(load) + 1]
    if gaz.locate([nxt.lat], [nxt.lon])[0] in ("KPCHO-OIL", "KPCHO"):
        assert 14 * 3600 < nxt.start - load.end < 20 * 3600


def test_itinerary_stop_positions_stay_inside_their_place():
    gaz = load_places()
    geo = Geo(gaz, SimConfig(), 0)
    rng = np.random.default_rng(0)
    for pid in ("RUVYP-OIL", "KPCHO-OIL", "RUNJK-ANCH", "KPNAM-OIL", "SOKDO-STS", "CNDLC"):
        pts = geo.pool(pid)
        assert len(pts) >= 1
        kinds = None if pid == "SOKDO-STS" else PORT_KINDS
        assert (gaz.locate(pts[:, 0], pts[:, 1], kinds=kinds) == pid).all()
    it = Itinerary(0, geo, SimConfig(), rng, 0.0, *geo.point("RUVYP-OIL", rng), place="RUVYP-OIL")
    it.sail("KPCHO-OIL", geo.point("KPCHO-OIL", rng), 10.0)
    assert 150 / 10 * 3600 < it.now < 200 / 9 * 3600
