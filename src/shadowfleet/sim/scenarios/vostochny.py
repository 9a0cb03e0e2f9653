"""vostochny-2024-03: DPRK tankers shuttling refined petroleum from an oil berth in Vostochny Port to Chongjin
(mostly) and Rajin, transponders off near the berth, among Russian Far East background traffic.

Sources: docs/reference.md (vessels named in 2024 reporting, first DPRK tanker at Vostochny on 7 March 2024, > 165,000
bbl in March per the US NSC, Vostochny-Chongjin ~160 nm, tanker sizes, draught rarely broadcast)."""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np

from shadowfleet.errors import ShadowfleetError
from shadowfleet.sim.routes import ANCHORED, MOORED, Itinerary
from shadowfleet.sim.scenarios.common import NM, Context, background, crossing_time, dest_text, identity_record, \
    new_vessel
from shadowfleet.sim.vessels import Vessel, tpc_tonnes_per_cm

# docs/reference.md "Vessels named in reporting on the Russia->DPRK runs (2024)"; IMO where a source gives it (the
# rest are left unknown: they broadcast IMO 0). dwt: RYE SONG GANG 1 3,003 (Seatrade via docs/reference.md); SAM MA 2
# is 962 GT, ~1,500 dwt (ours: GT x ~1.5 for a small tanker); others drawn in the scenario range.
DPRK_TANKERS: list[tuple[str, int | None, float | None]] = [
    ("PAEK YANG SAN 1", None, None),
    ("YU SON", 8691702, None),
    ("RYE SONG GANG 1", 7389704, 3003.0),
    ("KUM JIN GANG 3", None, None),
    ("CHON MA SAN", 8660313, None),
    ("AN SAN 1", 7303803, None),
    ("SAM MA 2", 8106496, 1500.0),
]
REAL_IMOS = {imo for _, imo, _ in DPRK_TANKERS if imo}
LOAD_BERTH = "RUVYP-OIL"
LOAD_ANCHORAGE = "RUVYP-ANCH"
DISCHARGE_PORTS = (("KPCHO-OIL", 0.75), ("KPRJN", 0.25))  # 2024 reporting: mostly Chongjin, some Rajin
HARBOUR = {"KPCHO-OIL": "KPCHO", "KPRJN": "KPRJN"}  # where a tanker lies between runs
# ours: the first DPRK tanker reaches Vostochny on 7 March (docs/reference.md: PAEK YANG SAN 1, 7 Mar 2024)
FIRST_ARRIVAL_DAY = 7
PRODUCTS = {"gas/diesel oil": "bbl_per_tonne_gasoil", "motor gasoline": "bbl_per_tonne_gasoline"}


def _ts(y, m, d=1) -> float:
    return float(calendar.timegm(dt.datetime(y, m, d).timetuple()))


class _Snapshot:
    def __init__(self, it: Itinerary):
        self.n = len(it.t)
        self.ns = len(it.status)
        self.nstops = len(it.stops)
        self.place, self.node = it.place, it.node

    def restore(self, it: Itinerary) -> None:
        del it.t[self.n:], it.lat[self.n:], it.lon[self.n:]
        del it.status[self.ns:], it.speed[self.ns:], it.stop_ix[self.ns:]
        del it.stops[self.nstops:]
        it.place, it.node = self.place, self.node


def build(ctx: Context, n_background: int) -> None:
    background(ctx, n_background, ["east"])
    legit_sts(ctx)
    dprk_shuttle(ctx)


def legit_sts(ctx: Context) -> None:
    """A legitimate Russian ship-to-ship transfer at the Nakhodka anchorage (fuel oil into a bunker tanker)."""
    cfg, rng, geo = ctx.cfg, ctx.rng, ctx.geo
    if ctx.t1 - ctx.t0 < 3 * 86400:
        return
    mother = new_vessel(ctx, "tanker", "east", role="sts_partner", flag="RU", dwt=float(rng.integers(20, 45)) * 1000)
    daughter = new_vessel(ctx, "tanker", "east", role="sts_partner", flag="RU", dwt=float(rng.integers(3, 7)) * 1000)
    mi, di = ctx.add(mother), ctx.add(daughter)
    anch = "RUNJK-ANCH"
    p = geo.point(anch, rng)
    p2 = (p[0], p[1] + 45.0 / (111_195.0 * np.cos(np.radians(p[0]))))  # alongside, 45 m abeam
    t_meet = ctx.t0 + (ctx.t1 - ctx.t0) * float(rng.uniform(0.3, 0.6))
    sts_h = float(rng.uniform(12, 20))
    tonnes = float(np.round(daughter.dwt * rng.uniform(0.7, 0.9), -1))
    product = "residual fuel oil"
    bbl = round(tonnes * 6.62, 1)  # docs/reference.md: residual fuel oil 6.62 bbl/t (UNSD)

    it = Itinerary(mi, geo, cfg, rng, ctx.t0, *geo.point("KOZMINO", rng), place="KOZMINO")
    probe = Itinerary(mi, geo, cfg, rng, 0.0, *it.pos, place="KOZMINO")
    probe.sail(anch, p, mother.speed_kn)
    it.idle_until(t_meet - probe.now - 3 * 3600, MOORED, "call")
    it.sail(anch, p, mother.speed_kn)
    s_m = it.stop(sts_h + 6, ANCHORED, "sts", voyage="sts-legit-1",
                  cargo={"action": "discharge", "tonnes": tonnes, "product": product, "barrels": bbl})
    it.sail("KRPUS", geo.point("KRPUS", rng), mother.speed_kn)
    it.idle_until(ctx.t1 + 3600, MOORED, "call")
    mother.track, mother.stops = it.track(), it.stops
    mother.draught = [(ctx.t0 - 86400, mother.ballast_draught * 1.6), (s_m.end + 1800, mother.ballast_draught * 1.4)]
    mother.destination = [(ctx.t0 - 86400, "NAKHODKA"), (s_m.end, "BUSAN")]

    it = Itinerary(di, geo, cfg, rng, ctx.t0, *geo.point("RUVVO", rng), place="RUVVO")
    probe = Itinerary(di, geo, cfg, rng, 0.0, *it.pos, place="RUVVO")
    probe.sail(anch, p2, daughter.speed_kn)
    it.idle_until(t_meet - probe.now, MOORED, "call")
    it.sail(anch, p2, daughter.speed_kn)
    s_d = it.stop(sts_h, ANCHORED, "sts", voyage="sts-legit-1",
                  cargo={"action": "load", "tonnes": tonnes, "product": product, "barrels": bbl})
    it.sail("RUVVO", geo.point("RUVVO", rng), daughter.speed_kn)
    it.idle_until(ctx.t1 + 3600, MOORED, "call")
    daughter.track, daughter.stops = it.track(), it.stops
    daughter.draught = [(ctx.t0 - 86400, daughter.ballast_draught), (s_d.end + 1800, daughter.ballast_draught * 1.7)]
    daughter.destination = [(ctx.t0 - 86400, "NAKHODKA"), (s_d.end, "VLADIVOSTOK")]
    month = dt.datetime.fromtimestamp(s_m.start, dt.timezone.utc).strftime("%Y-%m")
    ctx.voyages.append({"id": "sts-legit-1", "mmsi": mother.mmsi, "_load": None, "_discharge": s_m,
                        "load_place": "KOZMINO", "discharge_place": anch, "discharge_kind": "sts",
                        "tonnes": tonnes, "product": product, "barrels": bbl, "month": month, "to_dprk": False,
                        "receiver_mmsi": daughter.mmsi})


def dprk_shuttle(ctx: Context) -> None:
    cfg, rng, geo = ctx.cfg, ctx.rng, ctx.geo
    ctx.ids.used_imo |= REAL_IMOS
    march0, march1 = _ts(2024, 3, 1), _ts(2024, 4, 1)
    # the published March figure applies when the run covers (nearly) all of March, e.g. 30 or 31 days
    covered = max(0.0, min(ctx.t1, march1) - max(ctx.t0, march0)) / (march1 - march0)
    enforce = covered >= 0.9
    tankers: list[tuple[int, Vessel, Itinerary]] = []
    for k, (name, imo, dwt) in enumerate(DPRK_TANKERS):
        dwt = dwt or float(np.round(rng.uniform(cfg.vostochny_dprk_dwt_min, cfg.dprk_dwt_max), -1))
        v = new_vessel(ctx, "tanker", "east", role="dprk_tanker", flag="KP", dwt=dwt)
        v.name, v.imo = name, imo
        v.speed_kn = float(rng.uniform(*cfg.tanker_speed_kn))
        v.ballast_draught = round(float(rng.uniform(*cfg.ballast_draught_m)), 1)
        v.identities = [identity_record(v, ctx.t0 - 86400 * 365)]
        vi = ctx.add(v)
        home = "KPCHO" if k % 4 != 3 else "KPRJN"
        spot, _ = geo.book(home, ctx.t0 - 86400, ctx.t0 + 10 * 86400)
        pts = geo.pool(home)
        it = Itinerary(vi, geo, cfg, rng, ctx.t0, float(pts[spot][0]), float(pts[spot][1]), place=home)
        u = rng.random()
        v.params = {"draught_mode": "never" if u < cfg.never_draught_share else
                    "stale" if u < cfg.never_draught_share + cfg.stale_draught_share else "updated"}
        tankers.append((vi, v, it))

    first = ctx.t0 + min((FIRST_ARRIVAL_DAY - 2) * 86400.0, 0.15 * (ctx.t1 - ctx.t0))
    ready = {vi: first + (0.0 if k == 0 else float(rng.uniform(0.3, 6.0)) * 86400) for k, (vi, _, _) in
             enumerate(tankers)}
    goal = float(rng.uniform(170_000, 195_000)) if enforce else np.inf  # capacity (bbl at 100% load) to plan
    plans: list[dict] = []
    capacity = 0.0
    active = {vi for vi, _, _ in tankers}
    by_vi = {vi: (v, it) for vi, v, it in tankers}
    n_voy = 0
    berth_free = -np.inf
    while active and capacity < goal:
        vi = min(active, key=lambda x: (ready[x], x))
        v, it = by_vi[vi]
        snap = _Snapshot(it)
        n_voy += 1
        plan = _voyage(ctx, v, vi, it, ready[vi], f"dprk-{n_voy:03d}", berth_free)
        end = plan["discharge"].end
        if end > ctx.t1 - 3600 or (enforce and not march0 <= plan["t_dis_end"] < march1):
            snap.restore(it)
            active.discard(vi)
            n_voy -= 1
            continue
        plans.append(plan)
        berth_free = max(berth_free, plan["t_leave"])  # one tanker at the oil berth at a time
        capacity += v.dwt * cfg.__getattribute__(PRODUCTS[plan["product"]])
        ready[vi] = it.now + float(rng.uniform(3, 9)) * 86400  # ours: 3-9 days in port before the next run
    if enforce and capacity < goal:
        raise ShadowfleetError("vostochny-2024-03: the tankers cannot make enough voyages in March")
    for vi, v, it in tankers:
        it.idle_until(ctx.t1 + 3600, MOORED, "home")
        v.track, v.stops = it.track(), it.stops
    _cargo(ctx, plans, enforce, march0, march1)
    for vi, v, it in tankers:
        _finish_tanker(ctx, v, [p for p in plans if p["vi"] == vi])
    ctx.params["march_target_enforced"] = enforce


def _voyage(ctx: Context, v: Vessel, vi: int, it: Itinerary, t_dep: float, vid: str,
            berth_free_at: float) -> dict:
    cfg, rng, geo = ctx.cfg, ctx.rng, ctx.geo
    home_status = MOORED
    it.idle_until(t_dep, home_status, "home")
    t_dep = it.now
    u = rng.random()
    dark = u < cfg.dark_at_berth_share
    near = dark and rng.random() < cfg.dark_near_share  # most switch off at the anchorage, inside inference range
    spoof = dark and not near and rng.random() < cfg.spoof_share  # some broadcast a false position instead
    waited = None
    berth = geo.point(LOAD_BERTH, rng)
    probe = Itinerary(vi, geo, cfg, rng, it.now, *it.pos, place=it.place, node=it.node)
    probe.sail(LOAD_BERTH, berth, v.speed_kn)
    busy_until = berth_free_at
    # ours: most visible or near-dark visits wait at the anchorage first; everyone waits while the berth is busy
    if ((not dark or near) and rng.random() < 0.6) or probe.now < busy_until + 1800:
        it.sail(LOAD_ANCHORAGE, geo.point(LOAD_ANCHORAGE, rng), v.speed_kn)
        wait_end = max(it.now + float(rng.uniform(*cfg.anchor_wait_hours)) * 3600,
                       busy_until + float(rng.uniform(0.5, 2.0)) * 3600 - 1800)
        waited = it.idle_until(wait_end, ANCHORED, "wait", voyage=vid)
    t_leg = it.now
    it.sail(LOAD_BERTH, berth, v.speed_kn if waited is None else cfg.approach_speed_kn)
    t_arr = it.now
    s_load = it.stop(float(rng.uniform(*cfg.load_hours)), MOORED, "load", voyage=vid)
    t_leave = it.now
    r = rng.random()
    dport = DISCHARGE_PORTS[0][0] if r < DISCHARGE_PORTS[0][1] else DISCHARGE_PORTS[1][0]
    speed = v.speed_kn * float(rng.uniform(0.95, 1.02))
    dis_h = float(rng.uniform(*cfg.discharge_hours))
    harbour = HARBOUR[dport]
    pts = geo.pool(dport)
    probe = Itinerary(vi, geo, cfg, rng, it.now, *it.pos, place=it.place, node=it.node)
    probe.sail(dport, tuple(pts[0]), speed)
    k, delay = geo.book(dport, probe.now, probe.now + dis_h * 3600, max_delay_s=4 * 86400.0)
    if delay > 0:  # berth busy: wait in the harbour
        it.call(harbour, delay / 3600.0, MOORED, "wait", speed, voyage=vid)
        speed = cfg.approach_speed_kn
    it.sail(dport, (float(pts[k][0]), float(pts[k][1])), speed)
    t_arr2 = it.now
    s_dis = it.stop(dis_h, MOORED, "discharge", voyage=vid)
    # then lie in the harbour until the next run
    it.call(harbour, 6.0, MOORED, "home", cfg.approach_speed_kn)

    off: list[tuple[float, float]] = []
    spoofs: list[tuple[float, float, float, float]] = []
    if dark:
        if near:
            r_in = float(rng.uniform(*cfg.dark_near_nm)) * NM
            a = waited.end if waited is not None else crossing_time(it, t_leg, t_arr, *berth, r_in, inbound=True)
            b = crossing_time(it, t_leave, t_arr2, *berth, float(rng.uniform(*cfg.dark_near_nm)) * NM,
                              inbound=False)
        else:
            a = crossing_time(it, t_dep, t_arr, *berth, float(rng.uniform(*cfg.dark_far_nm)) * NM, inbound=True)
            b = crossing_time(it, t_leave, t_arr2, *berth, float(rng.uniform(*cfg.dark_far_nm)) * NM,
                              inbound=False)
        if spoof:
            # a false position at sea 20-45 km off Nakhodka Bay, as if waiting at anchor outside the port
            ang = rng.uniform(180, 260)
            dist = rng.uniform(20, 45)
            fla = berth[0] + dist * np.cos(np.radians(ang)) / 111.195
            flo = berth[1] + dist * np.sin(np.radians(ang)) / (111.195 * np.cos(np.radians(berth[0])))
            spoofs.append((a, b, float(fla), float(flo)))
        else:
            off.append((a, b))
        transit_from = b
    else:
        transit_from = t_leave
    if rng.random() < cfg.dark_transit_share:  # 2024 reporting: AIS on for parts of the transit only
        span = t_arr2 - transit_from
        s0 = transit_from + span * float(rng.uniform(0.1, 0.4))
        off.append((s0, s0 + span * float(rng.uniform(0.2, 0.5))))
    if rng.random() < 0.5:  # ours: half the stays in DPRK ports are dark (no receivers there anyway)
        off.append((t_arr2 - 1800, s_dis.end))
    product = "motor gasoline" if rng.random() < cfg.gasoline_share else "gas/diesel oil"
    return {"vi": vi, "id": vid, "load": s_load, "discharge": s_dis, "dport": dport, "off": off, "spoof": spoofs,
            "t_dep": t_dep, "t_leave": t_leave, "t_dis_end": s_dis.end, "product": product, "dark": dark,
            "near": near, "lf_base": float(rng.uniform(0.86, 0.90)),
            "draught_set": t_leave + float(rng.uniform(0, 3600)),
            "draught_reset": s_dis.end + float(rng.uniform(0, 7200)),
            "dest_show": rng.random() < 0.5}


def _cargo(ctx: Context, plans: list[dict], enforce: bool, march0: float, march1: float) -> None:
    """Load factors: when the run covers March, scale them (within their range) so March deliveries hit a target
    drawn inside the published range; otherwise draw each within its range."""
    cfg, rng = ctx.cfg, ctx.rng
    lo, hi = cfg.load_factor
    dwt = np.array([ctx.vessels[p["vi"]].dwt for p in plans])
    bpt = np.array([getattr(cfg, PRODUCTS[p["product"]]) for p in plans])
    cap = dwt * bpt
    lf = np.array([p["lf_base"] for p in plans])
    if enforce and len(plans):
        in_march = np.array([march0 <= p["t_dis_end"] < march1 for p in plans])
        c = cap[in_march].sum()
        t_lo = max(cfg.march_barrels[0], lo * c) + 500
        t_hi = min(cfg.march_barrels[1], hi * c) - 500
        if t_lo > t_hi:
            raise ShadowfleetError("vostochny-2024-03: cannot meet the March barrel range with this fleet")
        target = float(rng.uniform(t_lo, t_hi))
        m = in_march
        for _ in range(50):
            lf[m] *= target / (lf[m] * cap[m]).sum()
            lf = np.clip(lf, lo, hi)
        total = float((lf[m] * cap[m]).sum())
        assert cfg.march_barrels[0] <= total <= cfg.march_barrels[1], total
        ctx.params["march_target_barrels"] = round(target, 1)
    for p, f in zip(plans, lf):
        v = ctx.vessels[p["vi"]]
        tonnes = round(float(v.dwt * f), 1)
        bpt_p = getattr(cfg, PRODUCTS[p["product"]])
        barrels = round(tonnes * bpt_p, 1)
        p["tonnes"], p["barrels"] = tonnes, barrels
        p["load"].cargo = {"action": "load", "tonnes": tonnes, "product": p["product"], "barrels": barrels}
        p["discharge"].cargo = {"action": "discharge", "tonnes": tonnes, "product": p["product"], "barrels": barrels}
        month = dt.datetime.fromtimestamp(p["t_dis_end"], dt.timezone.utc).strftime("%Y-%m")
        ctx.voyages.append({"id": p["id"], "mmsi": v.mmsi, "_load": p["load"], "_discharge": p["discharge"],
                            "load_place": LOAD_BERTH, "discharge_place": p["dport"], "discharge_kind": "port_call",
                            "tonnes": tonnes, "product": p["product"], "barrels": barrels, "month": month,
                            "to_dprk": True, "load_factor": round(float(f), 4), "ais_dark_at_berth": p["dark"]})


def _finish_tanker(ctx: Context, v: Vessel, plans: list[dict]) -> None:
    cfg = ctx.cfg
    v.off = sorted(iv for p in plans for iv in p["off"])
    v.spoof = sorted(iv for p in plans for iv in p["spoof"])
    mode = v.params["draught_mode"]
    base = ctx.t0 - 86400
    if mode == "never":
        v.draught = [(base, 0.0)]
    elif mode == "stale":
        v.draught = [(base, v.ballast_draught)]
    else:
        tpc = tpc_tonnes_per_cm(v.length, v.beam, cfg.waterplane_coeff, cfg.seawater_density)
        v.draught = [(base, v.ballast_draught)]
        for p in plans:
            laden = min(cfg.max_draught_m, v.ballast_draught + p["tonnes"] / tpc / 100.0)
            v.draught += [(p["draught_set"], round(laden, 1)), (p["draught_reset"], v.ballast_draught)]
    v.destination = [(base, "")]
    for p in plans:
        if p["dest_show"]:
            v.destination += [(p["t_dep"], "VOSTOCHNY"), (p["t_leave"], dest_text(ctx.geo, p["dport"])),
                              (p["t_dis_end"], "")]
