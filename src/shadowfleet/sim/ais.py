"""What each transponder sends: the reporting schedule by navigational status (ITU-R M.1371), transponder off
periods, spoofed positions, identity changes and broadcast draught; all columnar per vessel."""

from __future__ import annotations

import numpy as np

from shadowfleet.sim import falsetrack
from shadowfleet.sim.config import SimConfig
from shadowfleet.sim.motion import in_intervals, sample
from shadowfleet.sim.vessels import Vessel

_M_PER_DEG = 111_195.0


def _lookup(times: np.ndarray, changes: list[tuple], default):
    """Value in force at each time from a list of (from, value), sorted by from; ``default`` before the first."""
    if not changes:
        return np.full(len(times), None, dtype=object) if default is None else np.full(len(times), default)
    froms = np.array([c[0] for c in changes])
    vals = np.array([c[1] for c in changes], dtype=object)
    ix = np.searchsorted(froms, times, side="right") - 1
    out = np.where(ix >= 0, vals[np.clip(ix, 0, None)], default)
    return out


def _grid(t0: float, t1: float, step: float, rng: np.random.Generator) -> np.ndarray:
    phase = rng.uniform(0, step)
    n = int(max(0, np.floor((t1 - t0 - phase) / step)) + 1)
    return t0 + phase + step * np.arange(n)


def identity_columns(v: Vessel, t: np.ndarray) -> dict[str, np.ndarray]:
    froms = np.array([i["from_ts"] for i in v.identities])
    ix = np.clip(np.searchsorted(froms, t, side="right") - 1, 0, len(froms) - 1)
    cols = {}
    for key in ("mmsi", "imo", "name", "callsign", "ship_type"):
        vals = np.array([i[key] if i[key] is not None else 0 for i in v.identities], dtype=object)
        cols[key] = vals[ix]
    cols["identity"] = ix
    return cols


def positions(v: Vessel, vi: int, cfg: SimConfig, rng: np.random.Generator, t0: float, t1: float) -> dict:
    """Position reports one vessel transmits in [t0, t1): messages 1/3 (Class A) or 18 (Class B)."""
    track = v.track
    a, b = max(t0, track.t[0]), min(t1, track.t[-1])
    if b <= a:
        return {}
    if v.cls == "A":
        fast, slow = cfg.underway_interval_s, cfg.moored_interval_s
    else:
        fast, slow = cfg.class_b_underway_interval_s, cfg.class_b_slow_interval_s
    step = min(fast, slow)
    every = max(1, int(round(slow / step)))
    g = _grid(a, b, step, rng)
    k = np.arange(len(g))
    s = sample(track, v.stops, g, rng)
    moving = s.stop < 0
    keep = moving | (k % every == 0)
    # underway: the configured interval, never faster than ITU-R M.1371 Table 1 allows for the speed
    # (Class A: 10 s at 0-14 kn, 6 s at 14-23 kn, 2 s above; Class B "CS": 30 s)
    itu = np.where(s.sog > 23, 2.0, np.where(s.sog > 14, 6.0, 10.0)) if v.cls == "A" else np.full(len(g), 30.0)
    stride = np.maximum(1, np.round(np.maximum(fast, itu) / step)).astype(np.int64)
    keep &= ~moving | (k % stride == 0)
    # SOTDMA slot timing: transmissions land within a second or two of the nominal report time
    t = g + rng.uniform(-1.0, 1.0, len(g))
    keep &= ~in_intervals(t, v.off) & (t >= t0) & (t < t1)
    ix = np.nonzero(keep)[0]
    t = t[ix]
    lat, lon, sog, cog, hdg = s.lat[ix], s.lon[ix], s.sog[ix], s.cog[ix], s.heading[ix]
    sog = np.where(moving[ix], sog, np.minimum(sog, cfg.stop_drift_kn))
    true_lat, true_lon = lat.copy(), lon.copy()
    spoofed = np.zeros(len(ix), dtype=bool)
    for (sa, sb, fla, flo) in v.spoof:
        m = (t >= sa) & (t < sb)
        if m.any():
            spoofed |= m
            # the false position drifts a few tens of metres like a ship at anchor would
            lat[m] = fla + rng.normal(0, 20, m.sum()) / _M_PER_DEG
            lon[m] = flo + rng.normal(0, 20, m.sum()) / (_M_PER_DEG * np.cos(np.radians(fla)))
            sog[m] = np.abs(rng.normal(0.1, 0.05, m.sum()))
    status = s.status[ix].copy()
    status[spoofed] = 1  # the false position pretends to lie at anchor
    cog = cog.copy()
    for ft in v.false_tracks:
        m = (t >= ft["a"]) & (t < ft["b"])
        if m.any():
            spoofed |= m
            lat[m], lon[m], sog[m], cog[m] = falsetrack.positions(ft, t[m])
            status[m] = 0  # under way using engine, as the false track pretends
    n = len(ix)
    ident = identity_columns(v, t)
    if v.cls == "A":
        msgtype = np.where(rng.random(n) < cfg.msg3_share, 3, 1)
    else:
        msgtype = np.full(n, 18)
    has_rot = (v.mmsi % 10) < 6  # ours: ~60% of Class A ships feed a rate-of-turn sensor
    return {
        "vessel": np.full(n, vi), "t": t, "msgtype": msgtype, "mmsi": ident["mmsi"].astype(np.int64),
        "identity": ident["identity"], "status": status, "rot": np.full(n, 0 if has_rot else -128),
        "sog": sog, "lat": lat, "lon": lon, "cog": cog,
        "heading": np.where(v.cls == "B", 511, np.round(hdg).astype(np.int64) % 360),
        "second": np.floor(t).astype(np.int64) % 60, "accuracy": np.ones(n, np.int64),
        "radio": rng.integers(0, 1 << 19, n), "true_lat": true_lat, "true_lon": true_lon, "spoofed": spoofed,
    }


def statics(v: Vessel, vi: int, cfg: SimConfig, rng: np.random.Generator, t0: float, t1: float) -> dict:
    """Static and voyage reports: message 5 (Class A) or 24 A + B (Class B) every static interval."""
    track = v.track
    a, b = max(t0, track.t[0]), min(t1, track.t[-1])
    if b <= a:
        return {}
    step = cfg.static_interval_s if v.cls == "A" else cfg.class_b_static_interval_s
    t = _grid(a, b, step, rng)
    t = t[~in_intervals(t, v.off)]
    if v.cls == "B":
        t = np.concatenate([t, t + 1.0])  # part B follows part A within the same minute
        part = np.r_[np.zeros(len(t) // 2, np.int64), np.ones(len(t) // 2, np.int64)]
        order = np.argsort(t, kind="stable")
        t, part = t[order], part[order]
    else:
        part = np.full(len(t), -1)
    n = len(t)
    s = sample(track, v.stops, t)
    ident = identity_columns(v, t)
    draught = _lookup(t, v.draught, 0.0).astype(float)
    dest = _lookup(t, v.destination, "").astype(str)
    # ETA: the start of the next stop; month 0 / day 0 / hour 24 / minute 60 = not available
    starts = np.array([st.start for st in v.stops] or [np.inf])
    nxt = np.searchsorted(starts, t, side="right")
    eta = np.where(nxt < len(starts), starts[np.clip(nxt, 0, len(starts) - 1)], np.nan)
    eta_ok = np.isfinite(eta) & (dest != "")
    et = np.where(eta_ok, eta, 0).astype("int64").astype("datetime64[s]")
    mo = et.astype("datetime64[M]")
    dd = et.astype("datetime64[D]")
    sec = (et - dd).astype(np.int64)
    month = np.where(eta_ok, (mo - et.astype("datetime64[Y]")).astype(np.int64) + 1, 0)
    day = np.where(eta_ok, (dd - mo).astype(np.int64) + 1, 0)
    hour = np.where(eta_ok, sec // 3600, 24)
    minute = np.where(eta_ok, (sec % 3600) // 60, 60)
    bow = min(511, int(round(v.length * 0.55)))
    stern = min(511, int(round(v.length - bow)))
    half = min(63, int(round(v.beam / 2)))
    return {
        "vessel": np.full(n, vi), "t": t, "msgtype": np.where(part < 0, 5, 24), "part": part,
        "mmsi": ident["mmsi"].astype(np.int64), "identity": ident["identity"],
        "imo": ident["imo"].astype(np.int64), "name": ident["name"].astype(str),
        "callsign": ident["callsign"].astype(str), "ship_type": ident["ship_type"].astype(np.int64),
        "bow": np.full(n, bow), "stern": np.full(n, stern), "port": np.full(n, half),
        "starboard": np.full(n, half), "month": month, "day": day, "hour": hour, "minute": minute,
        "draught": np.round(draught, 1), "destination": dest, "true_lat": s.lat, "true_lon": s.lon,
    }
