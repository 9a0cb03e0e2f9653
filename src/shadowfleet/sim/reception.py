"""Who hears each transmission: VHF shore stations at real coastal sites (range ~40 nm), periodic passes of
AIS satellites, per-receiver decoding losses, duplicates from overlapping receivers, receive-time jitter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shadowfleet.places import KM_PER_NM
from shadowfleet.sim.config import SimConfig

# Shore receivers: coastal towns and islands where national AIS networks have stations (ours: coordinates are the
# towns' own, from the NGA World Port Index where it lists them, else rounded from public maps). The DPRK shares
# no AIS with public networks, so there is none on its coast.
SHORE_STATIONS: list[tuple[str, float, float]] = [
    ("RU-VLADIVOSTOK", 43.10, 131.87), ("RU-NAKHODKA", 42.81, 132.89), ("RU-POSYET", 42.65, 130.80),
    ("RU-PREOBRAZHENIYE", 42.90, 133.90), ("RU-SLAVYANKA", 42.86, 131.38),
    ("KR-SOKCHO", 38.20, 128.60), ("KR-DONGHAE", 37.50, 129.12), ("KR-POHANG", 36.03, 129.38),
    ("KR-ULSAN", 35.50, 129.39), ("KR-BUSAN", 35.10, 129.04), ("KR-ULLEUNGDO", 37.48, 130.90),
    ("KR-BAENGNYEONG", 37.96, 124.66), ("KR-INCHEON", 37.45, 126.60), ("KR-MOKPO", 34.78, 126.38),
    ("JP-NIIGATA", 37.93, 139.05), ("JP-SADO", 38.08, 138.45), ("JP-SAKATA", 38.92, 139.83),
    ("JP-AKITA", 39.72, 140.08), ("JP-OKI", 36.20, 133.30), ("JP-TSUSHIMA", 34.40, 129.30),
    ("CN-DALIAN", 38.92, 121.65), ("CN-LUSHUN", 38.80, 121.25), ("CN-YANTAI", 37.55, 121.40),
    ("CN-WEIHAI", 37.50, 122.10), ("CN-LONGKOU", 37.65, 120.30), ("CN-TIANJIN", 38.98, 117.80),
    ("CN-YINGKOU", 40.28, 122.08), ("CN-DANDONG", 39.85, 124.15),
]
SATELLITES = ("SAT-1", "SAT-2", "SAT-3")


@dataclass
class Receivers:
    ids: list[str]
    lat: np.ndarray
    lon: np.ndarray
    n_shore: int


def receivers() -> Receivers:
    ids = [s[0] for s in SHORE_STATIONS] + list(SATELLITES)
    return Receivers(ids, np.array([s[1] for s in SHORE_STATIONS]), np.array([s[2] for s in SHORE_STATIONS]),
                     len(SHORE_STATIONS))


def receive(t: np.ndarray, lat: np.ndarray, lon: np.ndarray, cfg: SimConfig, rng: np.random.Generator,
            rx: Receivers, t_origin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Received copies of the transmissions at (t, lat, lon): (message index, receiver index, receive time in
    whole unix seconds). Vectorised in chunks of messages."""
    out_m, out_r, out_t = [], [], []
    rng_km = cfg.shore_range_nm * KM_PER_NM
    chunk = 200_000
    for c0 in range(0, len(t), chunk):
        sl = slice(c0, c0 + chunk)
        tt, la, lo = t[sl], lat[sl], lon[sl]
        # candidate (message, station) pairs from the 1-degree cells around each station, then the exact distance
        # (grid key with neighbour expansion, then an exact filter)
        mi_l, ri_l = [], []
        for si in range(rx.n_shore):
            near = (np.abs(np.floor(la) - np.floor(rx.lat[si])) <= 1) & (np.abs(np.floor(lo) - np.floor(rx.lon[si])) <= 2)
            ix = np.nonzero(near)[0]
            mi_l.append(ix)
            ri_l.append(np.full(len(ix), si))
        mi = np.concatenate(mi_l)
        ri = np.concatenate(ri_l)
        order = np.lexsort((ri, mi))  # message order, then station: independent of the loop above
        mi, ri = mi[order], ri[order]
        k = np.cos(np.radians(la[mi]))
        d = 111.195 * np.hypot(la[mi] - rx.lat[ri], (lo[mi] - rx.lon[ri]) * k)
        # decoding falls off over the outer 30% of the range (ours: weaker signal, more collisions)
        edge = np.clip((d / rng_km - 0.7) / 0.3, 0.0, 1.0)
        p = np.where(d <= rng_km, cfg.shore_decode_prob * (1 - 0.6 * edge), 0.0)
        hit = (p > 0) & (rng.random(len(p)) < p)
        mi, ri = mi[hit], ri[hit]
        out_m.append(mi + c0)
        out_r.append(ri)
        out_t.append(tt[mi] + rng.uniform(0, cfg.shore_jitter_s, len(mi)))
        # satellites: each has a usable pass every period, phase-shifted so passes spread over the orbit
        for k in range(len(SATELLITES)):
            off = t_origin + k * cfg.sat_pass_period_s / len(SATELLITES)
            in_pass = ((tt - off) % cfg.sat_pass_period_s) < cfg.sat_pass_duration_s
            got = in_pass & (rng.random(len(tt)) < cfg.sat_decode_prob)
            mi = np.nonzero(got)[0]
            out_m.append(mi + c0)
            out_r.append(np.full(len(mi), rx.n_shore + k))
            out_t.append(tt[mi] + rng.uniform(0, cfg.sat_jitter_s, len(mi)))
    m = np.concatenate(out_m) if out_m else np.zeros(0, np.int64)
    r = np.concatenate(out_r) if out_r else np.zeros(0, np.int64)
    ts = np.floor(np.concatenate(out_t)).astype(np.int64) if out_t else np.zeros(0, np.int64)
    return m.astype(np.int64), r.astype(np.int64), ts
