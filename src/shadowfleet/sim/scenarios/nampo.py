"""nampo-sts: Yellow Sea / Korea Bay. Foreign-flagged tankers load refined products at Chinese terminals, go dark,
and transfer them ship-to-ship to DPRK tankers in the Sok Island STS area off Nampo; the DPRK tankers discharge at
the Nampo oil terminal, some with AIS on and some dark. Identity laundering: a tanker broadcasting another ship's
name and IMO, flag hopping with an MMSI change, a renamed ship.

Sources: docs/reference.md (STS area named by the 1718 Committee near Sok Island ~30 km SW of Nampo; flags used or
faked by DPRK-linked ships 667 Sierra Leone, 671 Togo, 514/515 Cambodia, 457 Mongolia, 520 Fiji; evasion tactics
from the US maritime advisory of May 2020 and the Panel of Experts; DPRK tanker sizes; tonnes-to-barrels)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from shadowfleet.sim.routes import ANCHORED, MOORED, Itinerary
from shadowfleet.sim.scenarios.common import Context, background, crossing_time, dest_text, identity_record, \
    new_vessel
from shadowfleet.sim.vessels import tpc_tonnes_per_cm

LOAD_PORTS = ("CNLKU", "CNYNT", "CNDLC", "CNTSN")
STS_AREA = "SOKDO-STS"
DISCHARGE = "KPNAM-OIL"
HARBOUR = "KPNAM"
FOREIGN_FLAGS = ("SL", "TG", "KH", "MN", "PA")
N_FOREIGN, N_DPRK = 4, 4


def build(ctx: Context, n_background: int) -> None:
    background(ctx, n_background, ["west"])
    sts_runs(ctx)


def _month(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m")


def sts_runs(ctx: Context) -> None:
    cfg, rng, geo = ctx.cfg, ctx.rng, ctx.geo
    foreign, dprk = [], []
    for k in range(N_FOREIGN):
        flag = FOREIGN_FLAGS[k % len(FOREIGN_FLAGS)]
        v = new_vessel(ctx, "tanker", "west", role="sts_supplier", flag=flag,
                       dwt=float(np.round(rng.uniform(3000, 8000), -1)))
        v.speed_kn = float(rng.uniform(*cfg.tanker_speed_kn))
        vi = ctx.add(v)
        port = LOAD_PORTS[k % len(LOAD_PORTS)]
        k_spot, _ = geo.book(port, ctx.t0 - 86400, ctx.t0 + 86400)
        pts = geo.pool(port)
        it = Itinerary(vi, geo, cfg, rng, ctx.t0, float(pts[k_spot][0]), float(pts[k_spot][1]), place=port)
        foreign.append({"vi": vi, "v": v, "it": it, "port": port, "first": True, "runs": []})
    for k in range(N_DPRK):
        v = new_vessel(ctx, "tanker", "west", role="dprk_tanker", flag="KP",
                       dwt=float(np.round(rng.uniform(cfg.nampo_dprk_dwt_min, cfg.dprk_dwt_max), -1)))
        v.imo = None  # ours: DPRK tankers broadcast IMO 0 here (docs/reference.md: identity evasion)
        v.identities = [identity_record(v, ctx.t0 - 86400 * 365)]
        v.speed_kn = float(rng.uniform(*cfg.tanker_speed_kn))
        vi = ctx.add(v)
        k_spot, _ = geo.book(HARBOUR, ctx.t0 - 86400, ctx.t0 + 86400 * 5)
        pts = geo.pool(HARBOUR)
        it = Itinerary(vi, geo, cfg, rng, ctx.t0, float(pts[k_spot][0]), float(pts[k_spot][1]), place=HARBOUR)
        dprk.append({"vi": vi, "v": v, "it": it, "runs": []})

    n_run = 0
    while True:
        f = min(foreign, key=lambda x: (x["it"].now, x["vi"]))
        if f["it"].now > ctx.t1 - 8 * 86400:  # ours: a run takes about a week from loading to discharge
            break
        d = min(dprk, key=lambda x: (x["it"].now, x["vi"]))
        n_run += 1
        if not _run(ctx, f, d, f"sts-{n_run:03d}"):
            break
    for x in foreign + dprk:
        x["it"].idle_until(ctx.t1 + 3600, MOORED, "home")
        x["v"].track, x["v"].stops = x["it"].track(), x["it"].stops
    _identity_tricks(ctx, foreign)
    for x in foreign + dprk:
        _broadcast(ctx, x)


def _run(ctx: Context, f: dict, d: dict, vid: str) -> bool:
    cfg, rng, geo = ctx.cfg, ctx.rng, ctx.geo
    fv, fit = f["v"], f["it"]
    dv, dit = d["v"], d["it"]
    lf = float(rng.uniform(*cfg.load_factor))
    tonnes = round(fv.dwt * lf, 1)
    product = "motor gasoline" if rng.random() < cfg.gasoline_share else "gas/diesel oil"
    bpt = cfg.bbl_per_tonne_gasoline if product == "motor gasoline" else cfg.bbl_per_tonne_gasoil
    barrels = round(tonnes * bpt, 1)
    # transfer what the DPRK tanker can take (ours: the supplier may keep the rest for a second buyer)
    tonnes_d = round(min(tonnes, dv.dwt * float(rng.uniform(*cfg.load_factor))), 1)
    barrels_d = round(tonnes_d * bpt, 1)
    load_cargo = {"action": "load", "tonnes": tonnes, "product": product, "barrels": barrels}
    load_h = float(rng.uniform(*cfg.load_hours))
    if f["first"]:
        s_load = fit.stop(load_h * float(rng.uniform(0.3, 1.0)), MOORED, "load", voyage=vid, cargo=load_cargo)
        f["first"] = False
    else:
        port = LOAD_PORTS[int(rng.integers(len(LOAD_PORTS)))]
        fit.stop(float(rng.uniform(48, 120)), MOORED, "call")  # ours: 2-5 days in port before the next cargo
        s_load = fit.call(port, load_h, MOORED, "load", fv.speed_kn, voyage=vid, cargo=load_cargo)
        f["port"] = port
    t_leave = fit.now
    k_spot, _ = geo.book(STS_AREA, fit.now, fit.now + 3 * 86400, max_delay_s=0)
    p = tuple(float(x) for x in geo.pool(STS_AREA)[k_spot])
    p2 = (p[0], p[1] + 45.0 / (111_195.0 * np.cos(np.radians(p[0]))))  # alongside
    fit.sail(STS_AREA, p, fv.speed_kn)
    f_arr = fit.now
    probe = Itinerary(d["vi"], geo, cfg, rng, dit.now, *dit.pos, place=dit.place, node=dit.node)
    probe.sail(STS_AREA, p2, dv.speed_kn)
    travel = probe.now - dit.now
    d_arr = max(probe.now, f_arr + float(rng.uniform(-2, 1)) * 3600)
    dit.idle_until(d_arr - travel, MOORED, "home")
    dit.sail(STS_AREA, p2, dv.speed_kn)
    d_arr = dit.now
    sts_h = float(rng.uniform(8, 16))
    t_end = max(f_arr, d_arr) + sts_h * 3600
    s_f = fit.stop((t_end - f_arr) / 3600 + float(rng.uniform(0.5, 1.5)), ANCHORED, "sts", voyage=vid,
                   cargo={"action": "discharge", "tonnes": tonnes_d, "product": product, "barrels": barrels_d})
    s_d = dit.stop((t_end - d_arr) / 3600, ANCHORED, "sts", voyage=vid + "-onward",
                   cargo={"action": "load", "tonnes": tonnes_d, "product": product, "barrels": barrels_d})
    dis_cargo = {"action": "discharge", "tonnes": tonnes_d, "product": product, "barrels": barrels_d}
    s_dis = dit.call(DISCHARGE, float(rng.uniform(*cfg.discharge_hours)), MOORED, "discharge",
                     dv.speed_kn, voyage=vid + "-onward", cargo=dis_cargo)
    dit.call(HARBOUR, 6.0, MOORED, "home", cfg.approach_speed_kn)
    back = LOAD_PORTS[int(rng.integers(len(LOAD_PORTS)))]
    fit.sail(back, geo.point(back, rng), fv.speed_kn)
    fit.place = back
    f["runs"].append({"id": vid, "load": s_load, "sts": s_f, "t_leave": t_leave, "p": p, "f_arr": f_arr,
                      "t_sts_end": s_f.end, "t_back": fit.now, "tonnes": tonnes, "tonnes_d": tonnes_d,
                      "dark": rng.random() < 0.75, "r_in": float(rng.uniform(40, 90)),
                      "r_out": float(rng.uniform(40, 90)), "dest": dest_text(geo, back)})
    d["runs"].append({"id": vid, "sts": s_d, "dis": s_dis, "dark_sts": rng.random() < 0.5,
                      "dark_dis": rng.random() < 0.5, "t_dep": d_arr - travel})
    if s_dis.end > ctx.t1 - 3600:
        # unfinished when the run ends: the ships still sail, but no voyage is claimed in the truth
        for s in (s_load, s_f, s_d, s_dis):
            s.cargo = None
        return True
    ctx.voyages.append({"id": vid, "mmsi": fv.mmsi, "_load": s_load, "_discharge": s_f,
                        "load_place": s_load.place, "discharge_place": STS_AREA, "discharge_kind": "sts",
                        "tonnes": tonnes_d, "product": product, "barrels": barrels_d, "month": _month(s_f.end),
                        "to_dprk": True, "receiver_mmsi": dv.mmsi})
    ctx.voyages.append({"id": vid + "-onward", "mmsi": dv.mmsi, "_load": s_d, "_discharge": s_dis,
                        "load_place": STS_AREA, "discharge_place": DISCHARGE, "discharge_kind": "port_call",
                        "tonnes": tonnes_d, "product": product, "barrels": barrels_d, "month": _month(s_dis.end),
                        "to_dprk": False, "onward_of": vid})
    return True


def _identity_tricks(ctx: Context, foreign: list[dict]) -> None:
    """Identity laundering (another ship's name and IMO), flag hopping with a new MMSI, a rename."""
    rng = ctx.rng
    # the identity taken is a real (simulated) ship's: a background tanker when there is one, else any ship
    # with an IMO number
    donors = [v for v in ctx.vessels if v.role == "background" and v.type == "tanker" and v.imo] or \
        [v for v in ctx.vessels if v.role == "background" and v.imo]
    if foreign and donors and foreign[0]["runs"]:
        f = foreign[0]
        donor = donors[int(rng.integers(len(donors)))]
        t = f["runs"][0]["t_leave"] + 1800
        f["v"].identities.append(identity_record(f["v"], t, name=donor.name, imo=donor.imo))
        f["v"].params["laundering"] = {"from": t, "donor_mmsi": donor.mmsi}
    if len(foreign) > 1 and len(foreign[1]["runs"]) > 1:
        f = foreign[1]
        t = f["runs"][1]["load"].start + 3600  # in port, between runs
        new_flag = "TG" if f["v"].flag != "TG" else "SL"
        f["v"].identities.append(identity_record(f["v"], t, mmsi=ctx.ids.mmsi(new_flag), flag=new_flag,
                                                 callsign=ctx.ids.callsign(new_flag)))
    if len(foreign) > 2 and len(foreign[2]["runs"]) > 1:
        f = foreign[2]
        t = f["runs"][1]["load"].start + 3600
        f["v"].identities.append(identity_record(f["v"], t, name=ctx.ids.name()))


def _broadcast(ctx: Context, x: dict) -> None:
    cfg = ctx.cfg
    v, it = x["v"], x["it"]
    base = ctx.t0 - 86400
    v.destination = [(base, "")]
    v.off = []
    if v.role == "sts_supplier":
        tpc = tpc_tonnes_per_cm(v.length, v.beam, cfg.waterplane_coeff, cfg.seawater_density)
        v.draught = [(base, v.ballast_draught)]
        stale = v.mmsi % 3 == 0  # ours: a third leave the draught stale
        for r in x["runs"]:
            if r["dark"]:
                a = crossing_time(it, r["t_leave"], r["f_arr"], *r["p"], r["r_in"], inbound=True)
                b = crossing_time(it, r["t_sts_end"], r["t_back"], *r["p"], r["r_out"], inbound=False)
                v.off.append((a, b))
            if not stale:
                laden = round(min(cfg.max_draught_m, v.ballast_draught + r["tonnes"] / tpc / 100), 1)
                part = round(min(cfg.max_draught_m,
                                 v.ballast_draught + (r["tonnes"] - r["tonnes_d"]) / tpc / 100), 1)
                v.draught += [(r["load"].end + 900, laden), (r["t_sts_end"] + 1800, part)]
            v.destination += [(r["t_leave"], "FOR ORDERS"), (r["t_sts_end"], r["dest"])]
    else:
        v.draught = [(base, 0.0)]  # docs/reference.md: DPRK tankers rarely broadcast draught
        for r in x["runs"]:
            if r["dark_sts"]:
                v.off.append((r["sts"].start - 3 * 3600, r["sts"].end + 3 * 3600))
            if r["dark_dis"]:
                v.off.append((r["dis"].start - 1800, r["dis"].end + 1800))
        v.off = _merge(sorted(v.off))
    v.off = _merge(sorted(v.off))


def _merge(iv: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in iv:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
