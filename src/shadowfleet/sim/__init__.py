"""The scenario simulator: AIS as receivers deliver it (NMEA 0183 + NMEA 4.0 tag blocks), the places used, the
ground truth (vessels, identities, events, voyages, barrels) and satellite acquisitions. See docs/simulator.md.

    from shadowfleet.sim import simulate
    summary = simulate("vostochny-2024-03", out="sim-out", seed=0)
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import numpy as np

from shadowfleet import config as _config
from shadowfleet.definitions import EventsConfig, load_definitions
from shadowfleet.errors import ShadowfleetError
from shadowfleet.places import PORT_KINDS, load_places
from shadowfleet.sim import ais, imagery, reception, writer
from shadowfleet.sim.config import SimConfig
from shadowfleet.sim.routes import Geo
from shadowfleet.sim.scenarios import SCENARIOS, get
from shadowfleet.sim.scenarios.common import Context
from shadowfleet.sim.truth import Received, TruthBuilder, iso
from shadowfleet.sim.vessels import IdentityFactory

__all__ = ["simulate", "SimSummary", "SimConfig", "SCENARIOS", "load_config"]


@dataclass
class SimSummary:
    scenario: str
    seed: int
    start: str
    end: str
    vessels: int
    transmissions: int
    lines: int
    corrupt_lines: int
    events: dict[str, int]
    visible_events: dict[str, int]
    barrels_delivered_by_month: dict[str, float]
    acquisitions: int
    seconds: float
    paths: dict[str, str] = field(default_factory=dict)


def load_config(config: SimConfig | str | Path | dict | None) -> SimConfig:
    """SimConfig from None (defaults), a SimConfig, a dict of [sim] overrides, or a TOML file with a [sim]
    section."""
    if config is None:
        return SimConfig()
    if isinstance(config, SimConfig):
        return config
    cfg = _config.load_section(SimConfig(), "sim", {"sim": config} if isinstance(config, dict) else config)
    _validate(cfg)
    return cfg


def _validate(cfg: SimConfig) -> None:
    """Beyond the type and sign of every setting (checked by the config loader): ranges are [low, high] in order,
    shares and probabilities lie in [0, 1], intervals and periods are positive."""
    for f in fields(SimConfig):
        v = getattr(cfg, f.name)
        if isinstance(v, tuple):
            if not (len(v) == 2 and v[0] <= v[1]):
                raise ShadowfleetError(f"[sim] {f.name}: expected [low, high] with 0 <= low <= high, got {list(v)!r}")
            continue
        if ("share" in f.name or "prob" in f.name) and v > 1:
            raise ShadowfleetError(f"[sim] {f.name}: expected a share between 0 and 1, got {v!r}")
        if (f.name.endswith("_interval_s") or f.name.endswith("period_s") or f.name.endswith("_days")
                or f.name.endswith("step_s")) and v <= 0:
            raise ShadowfleetError(f"[sim] {f.name}: must be positive, got {v!r}")


def _parse_start(start: str | dt.date | dt.datetime | None, default: str) -> float:
    if start is None:
        start = default
    if isinstance(start, str):
        try:
            start = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            raise ShadowfleetError(f"--start: not an ISO 8601 date: {start!r}") from None
    if isinstance(start, dt.date) and not isinstance(start, dt.datetime):
        start = dt.datetime(start.year, start.month, start.day)
    if start.tzinfo is not None:
        start = start.astimezone(dt.timezone.utc).replace(tzinfo=None)
    # ours: NMEA tag blocks carry Unix seconds, and a run of up to 366 days must end in a representable year
    if not 1970 <= start.year <= 9998:
        raise ShadowfleetError(f"--start: year must be between 1970 and 9998, got {start.year}")
    return float(calendar.timegm(start.timetuple()))


def simulate(scenario: str = "vostochny-2024-03", out: str | Path = "sim-out", seed: int = 0,
             start: str | dt.date | None = None, days: float | None = None, vessels: int | None = None,
             config: SimConfig | str | Path | dict | None = None, places: str | Path | None = None,
             progress: Callable[[str], None] | None = None,
             definitions: EventsConfig | None = None, render_imagery: bool = False) -> SimSummary:
    """Run a scenario and write DIR/ais.nmea, DIR/places.geojson, DIR/truth.json, DIR/imagery.json (and, with
    ``render_imagery``, the scenes themselves in DIR/scenes: radar GeoTIFFs and optical band files).

    ``vessels`` is the number of background vessels; ``places`` an optional GeoJSON gazetteer replacing the
    built-in one; ``progress`` receives a short message at each stage. The true events follow ``definitions``
    (default: the [events.<event>] sections of a TOML ``config``, else the built-in ones), the same the detectors
    read, and truth.json records them."""
    t_start = time.perf_counter()
    say = progress or (lambda msg: None)
    sc = get(scenario)
    cfg = load_config(config)
    if definitions is None:
        definitions = load_definitions(config if isinstance(config, (str, Path)) else None)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ShadowfleetError(f"--seed must be a non-negative integer, got {seed!r}")
    days = sc.days if days is None else days
    if not (0 < float(days) <= 366):
        raise ShadowfleetError(f"--days must be in (0, 366], got {days}")
    n_bg = sc.vessels if vessels is None else vessels
    if not (0 <= int(n_bg) <= 5000):
        raise ShadowfleetError(f"--vessels must be between 0 and 5000, got {n_bg}")
    t0 = _parse_start(start, sc.start)
    t1 = t0 + float(days) * 86400.0
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    gaz = load_places(places)
    rng = np.random.default_rng([seed, 0])

    say("planning voyages")
    ctx = Context(gaz, Geo(gaz, cfg, seed), cfg, rng, t0, t1, IdentityFactory(rng))
    sc.build(ctx, int(n_bg))
    vs = ctx.vessels

    say("transmitting")
    pos_parts, st_parts = [], []
    for vi, v in enumerate(vs):
        vrng = np.random.default_rng([seed, 1, vi])
        p = ais.positions(v, vi, cfg, vrng, t0, t1)
        s = ais.statics(v, vi, cfg, vrng, t0, t1)
        if p:
            pos_parts.append(p)
        if s:
            st_parts.append(s)
    pos = {k: np.concatenate([p[k] for p in pos_parts]) for k in pos_parts[0]} if pos_parts else {}
    st = {k: np.concatenate([p[k] for p in st_parts]) for k in st_parts[0]} if st_parts else {}
    npos = len(pos.get("t", []))
    nst = len(st.get("t", []))

    say("receiving")
    rx = reception.receivers()
    t_all = np.concatenate([pos.get("t", np.zeros(0)), st.get("t", np.zeros(0))])
    la_all = np.concatenate([pos.get("true_lat", np.zeros(0)), st.get("true_lat", np.zeros(0))])
    lo_all = np.concatenate([pos.get("true_lon", np.zeros(0)), st.get("true_lon", np.zeros(0))])
    msg, rcv, rxt = reception.receive(t_all, la_all, lo_all, cfg, np.random.default_rng([seed, 2]), rx, t0)
    for rid, delay_s in ctx.late_feeds.items():  # receivers whose stamps run late (the transmissions do not)
        rxt = np.where(rcv == rx.ids.index(rid), rxt + int(round(delay_s)), rxt)

    say("writing ais.nmea")
    paths = {k: str(outdir / f) for k, f in (("ais", "ais.nmea"), ("places", "places.geojson"),
                                              ("truth", "truth.json"), ("imagery", "imagery.json"))}
    if len(msg):
        tmp = Path(paths["ais"] + ".tmp")
        counts = writer.write_nmea(tmp, pos, st, msg, rcv, rxt, rx.ids, cfg.corrupt_share,
                                   np.random.default_rng([seed, 3]))
        tmp.replace(paths["ais"])
    else:
        Path(paths["ais"]).write_text("")
        counts = {"lines": 0, "corrupt": 0, "bad_copy": np.zeros(0, bool)}

    say("computing the truth")
    # a transmission counts as received when at least one copy arrived undamaged
    received = _received(vs, pos, st, msg[~counts["bad_copy"]], npos, rxt[~counts["bad_copy"]])
    tb = TruthBuilder(vs, received, gaz, cfg, t0, t1, definitions)
    tb.stops()
    tb.encounters()
    tb.gaps()
    tb.draughts(_emitted_draughts(vs, st))
    tb.identities()
    tb.spoofing()
    tb.false_tracks()
    tb.shared_mmsis()
    events = tb.finish()
    truth = _truth_doc(sc.name, seed, t0, t1, cfg, ctx, tb, events, counts, npos, nst, len(msg))

    say("imagery")
    acq = imagery.acquisitions(list(sc.sites), vs, cfg, np.random.default_rng([seed, 4]), t0, t1)

    doc = {"scenario": sc.name, "seed": seed, "acquisitions": acq}
    if render_imagery:
        from shadowfleet.sim.render import render

        say("rendering scenes")
        render(doc, outdir / "scenes", int(seed), sites={n: (la, lo) for n, la, lo in sc.sites},
               pixel_m=cfg.imagery_pixel_m)
    _write_json(paths["truth"], truth)
    _write_json(paths["imagery"], doc)
    named = set(ctx.geo.used) | {e["place"] for e in events if e["place"]}
    _write_places(gaz, named, sc.bbox, paths["places"])

    ev_count: dict[str, int] = {}
    vis_count: dict[str, int] = {}
    for e in events:
        ev_count[e["type"]] = ev_count.get(e["type"], 0) + 1
        vis_count[e["type"]] = vis_count.get(e["type"], 0) + int(e["visible"])
    return SimSummary(sc.name, int(seed), iso(t0), iso(t1), len(vs), npos + nst, counts["lines"], counts["corrupt"],
                      ev_count, vis_count, truth["totals"]["barrels_delivered_by_month"], len(acq),
                      round(time.perf_counter() - t_start, 2), paths)


def _received(vs, pos, st, msg, npos, rxt=None) -> list[Received]:
    """Per vessel, the distinct transmissions that reached at least one receiver, in time order (with the time
    stamp of their first received copy, the time a detector sees)."""
    um, inv = np.unique(msg, return_inverse=True)
    first_rx = None
    if rxt is not None and len(um):
        first_rx = np.full(len(um), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first_rx, inv, rxt)
    pm = um[um < npos]
    sm = um[um >= npos] - npos
    out = []
    pv = pos["vessel"][pm] if len(pm) else np.zeros(0, np.int64)
    sv = st["vessel"][sm] if len(sm) else np.zeros(0, np.int64)
    po = np.argsort(pv, kind="stable")
    so = np.argsort(sv, kind="stable")
    pm, pv = pm[po], pv[po]
    sm, sv = sm[so], sv[so]
    pb = np.searchsorted(pv, np.arange(len(vs) + 1))
    sb = np.searchsorted(sv, np.arange(len(vs) + 1))
    for vi in range(len(vs)):
        p = pm[pb[vi]:pb[vi + 1]]
        s = sm[sb[vi]:sb[vi + 1]]
        p = p[np.argsort(pos["t"][p], kind="stable")] if len(p) else p
        s = s[np.argsort(st["t"][s], kind="stable")] if len(s) else s
        s5 = s[st["msgtype"][s] != 24] if len(s) else s  # draught and identity come from message 5
        g = (lambda d, k, ix, dt_: d[k][ix] if len(ix) else np.zeros(0, dt_))
        rx = None if first_rx is None else first_rx[np.searchsorted(um, p)].astype(float)
        out.append(Received(g(pos, "t", p, float), g(pos, "lat", p, float), g(pos, "lon", p, float),
                            g(pos, "mmsi", p, np.int64), g(pos, "spoofed", p, bool),
                            g(st, "t", s5, float), g(st, "draught", s5, float), g(st, "identity", s5, np.int64),
                            g(st, "mmsi", s5, np.int64), rx))
    return out


def _emitted_draughts(vs, st) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    if not st:
        return [(np.zeros(0), np.zeros(0)) for _ in vs]
    is5 = st["msgtype"] == 5
    vv = st["vessel"][is5]
    tt = st["t"][is5]
    dd = st["draught"][is5]
    order = np.lexsort((tt, vv))
    vv, tt, dd = vv[order], tt[order], dd[order]
    b = np.searchsorted(vv, np.arange(len(vs) + 1))
    for vi in range(len(vs)):
        out.append((tt[b[vi]:b[vi + 1]], dd[b[vi]:b[vi + 1]]))
    return out


def _identities_out(v) -> list[dict]:
    out = []
    for i, rec in enumerate(v.identities):
        to = v.identities[i + 1]["from_ts"] if i + 1 < len(v.identities) else None
        out.append({"from": iso(rec["from_ts"]), "to": iso(to) if to is not None else None, "mmsi": rec["mmsi"],
                    "name": rec["name"], "imo": rec["imo"], "callsign": rec["callsign"], "flag": rec["flag"]})
    return out


def _truth_doc(name, seed, t0, t1, cfg, ctx, tb, events, counts, npos, nst, ncopies) -> dict:
    vessels = [{"mmsi": v.mmsi, "imo": v.imo, "name": v.name, "callsign": v.callsign, "flag": v.flag,
                "ship_type": v.ship_type, "type": v.type, "role": v.role, "length": v.length, "beam": v.beam,
                "dwt": v.dwt, "ais_class": v.cls, "identities": _identities_out(v),
                **({"draught_mode": v.params["draught_mode"]} if "draught_mode" in v.params else {})}
               for v in ctx.vessels]
    voyages = []
    totals: dict[str, float] = {}
    for voy in ctx.voyages:
        le = tb.event_of(voy["_load"]) if voy.get("_load") is not None else None
        de = tb.event_of(voy["_discharge"]) if voy.get("_discharge") is not None else None
        rec = {k: v for k, v in voy.items() if not k.startswith("_")}
        rec["load_event"] = le["id"] if le else None
        rec["discharge_event"] = de["id"] if de else None
        voyages.append(rec)
        if voy.get("to_dprk"):
            totals[voy["month"]] = round(totals.get(voy["month"], 0.0) + voy["barrels"], 1)
    evs = [{k: v for k, v in e.items() if not k.startswith("_")} for e in events]
    return {
        "scenario": name, "seed": int(seed), "start": iso(t0), "end": iso(t1),
        "params": {**{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()}, **ctx.params},
        "definitions": asdict(tb.defs),
        "vessels": vessels, "events": evs, "voyages": voyages,
        "totals": {"barrels_delivered_by_month": dict(sorted(totals.items())),
                   "transmissions": int(npos + nst), "received_copies": int(ncopies),
                   "nmea_lines": int(counts["lines"]), "corrupt_lines": int(counts["corrupt"])},
    }


def _write_json(path: str, doc: Any) -> None:
    tmp = Path(path + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def _write_places(gaz, named: set[str], bbox, path: str) -> None:
    """The port, berth, anchorage, terminal and STS-area places inside the scenario's area, plus every place the
    vessels used or the truth names."""
    t = gaz.table
    lat0, lat1, lon0, lon1 = bbox
    keep = [pid for pid, k, la, lo in zip(t["id"], t["kind"], t["lat"], t["lon"])
            if (k in (*PORT_KINDS, "sts_area") and lat0 <= la <= lat1 and lon0 <= lo <= lon1) or pid in named]
    doc = gaz.subset(keep).to_geojson()
    _write_json(path, doc)
