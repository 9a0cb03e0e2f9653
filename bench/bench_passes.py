"""Satellite pass prediction (`imagery plan --tle`): shadowfleet's `imagery.orbits.find_passes` (sgp4's
vectorised SatrecArray, Earth-fixed by GMST) vs the same search with skyfield (EarthSatellite + wgs84 sub-points,
its full IAU frame chain) as the propagator, on the same areas and windows in the same run. Both sample the
sub-satellite point every 30 s, take each local minimum of the distance to an area and refine it on a 1 s grid;
the passes they find are compared (count, time, distance).

Workload: the three public Sentinel element sets of tests/imagery/test_plan.py, 200 areas in the Sea of Japan /
Yellow Sea theatre (radius 0-5 km), each with a window of 1-5 days inside December 2024 (seed 20241201), nadir
swath rules (Sentinel-1 250 km, Sentinel-2 290 km) so the two searches ask the same geometric question. Two of
the element sets are years from their epoch here: a speed figure, not a forecast (both propagate with SGP4).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

TLE = """SENTINEL-1A
1 39634U 14016A   20201.80753859 -.00000116  00000-0 -14878-4 0  9999
2 39634  98.1829 208.3314 0001272  85.7508 274.3829 14.59196703335281
SENTINEL-2A
1 40697U 15028A   24337.14457616  .00000519  00000-0  21480-3 0  9998
2 40697  98.5704  48.9920 0001011  93.0957 267.0342 14.30811188493363
SENTINEL-2B
1 42063U 17013A   17332.41017229  .00000031  00000-0  28432-4 0  9996
2 42063  98.5661  44.9680 0001235  82.8511 277.2813 14.30817061 38090
"""
N_AREAS, STEP_S = 200, 30.0
MONTH = np.datetime64("2024-12-01T00:00", "us")


def workload(seed: int = 20241201):
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(33, 45, N_AREAS), rng.uniform(120, 140, N_AREAS)
    radius = rng.uniform(0, 5, N_AREAS)
    start = MONTH + (rng.uniform(0, 26, N_AREAS) * 86400e6).astype("timedelta64[us]")
    end = start + (rng.uniform(1, 5, N_AREAS) * 86400e6).astype("timedelta64[us]")
    return lat, lon, radius, start, end


def skyfield_passes(lines, rules, lat, lon, radius, start, end) -> list[dict]:
    """The same search as find_passes, with skyfield computing every sub-satellite point (vectorised: one call
    per satellite for the coarse grid, one for all candidates' fine grids)."""
    from skyfield.api import EarthSatellite, load, wgs84

    from shadowfleet.imagery.orbits import ground_km

    ts = load.timescale(builtin=True)
    t0, t1 = start.min() - np.timedelta64(30, "s"), end.max() + np.timedelta64(30, "s")
    sec = np.arange(0, (t1 - t0) / np.timedelta64(1, "s") + STEP_S, STEP_S)
    grid = t0 + (sec * 1e6).astype("timedelta64[us]")

    def at(es, secs):
        sp = wgs84.subpoint_of(es.at(ts.utc(2024, 12, 1, 0, 0, (t0 - MONTH) / np.timedelta64(1, "s") + secs)))
        return sp.latitude.degrees, sp.longitude.degrees

    out = []
    offs = np.arange(-STEP_S, STEP_S + 0.5, 1.0)
    for (name, l1, l2), rule in zip(lines, rules):
        es = EarthSatellite(l1, l2, name, ts)
        sla, slo = at(es, sec)
        areas, cands = [], []
        for k in range(lat.size):
            i0 = max(int(np.searchsorted(grid, start[k])) - 1, 1)
            i1 = min(int(np.searchsorted(grid, end[k])) + 1, grid.size - 1)
            d = ground_km(sla[i0 - 1:i1 + 1], slo[i0 - 1:i1 + 1], lat[k], lon[k])
            mid = d[1:-1]
            c = np.flatnonzero((mid <= d[:-2]) & (mid < d[2:]) & (mid - radius[k] <= rule.swath_km / 2 + 225))
            areas.append(np.full(c.size, k))
            cands.append(sec[i0 + c])
        a, c = np.concatenate(areas), np.concatenate(cands)
        if not a.size:
            continue
        fine = c[:, None] + offs[None, :]  # every candidate's 1 s grid in one skyfield call
        fl, fo = at(es, fine.ravel())
        df = ground_km(fl.reshape(fine.shape), fo.reshape(fine.shape), lat[a][:, None], lon[a][:, None])
        j = df.argmin(axis=1)
        best = fine[np.arange(a.size), j]
        dmin = df[np.arange(a.size), j]
        t = t0 + (best * 1e6).astype(np.int64).astype("timedelta64[us]")
        ok = (dmin - radius[a] <= rule.swath_km / 2) & (t >= start[a]) & (t < end[a])
        out += [{"area": int(k), "satellite": name, "time": tt, "ground_km": float(dd)}
                for k, tt, dd in zip(a[ok], t[ok], dmin[ok])]
    return out


def main() -> None:
    from machine import write_section

    from shadowfleet.imagery.config import SatelliteRule
    from shadowfleet.imagery.orbits import find_passes, parse_tle

    sats = parse_tle(TLE).satellites
    rules = [SatelliteRule("S*", 250.0, False), SatelliteRule("S*", 290.0, True), SatelliteRule("S*", 290.0, True)]
    lines = [(s.name, s.line1, s.line2) for s in sats]
    args = workload()
    with open("/proc/loadavg") as fh:
        load_before = fh.read().split()[:3]
    t = time.perf_counter()
    ours = find_passes(sats, rules, *args, step_s=STEP_S)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    peer = skyfield_passes(lines, rules, *args)
    t_peer = time.perf_counter() - t
    key = lambda p: (p["area"], p["satellite"])  # noqa: E731
    mine = sorted(ours, key=lambda p: (key(p), p["time"]))
    theirs = sorted(peer, key=lambda p: (key(p), p["time"]))
    paired = [(a, b) for a, b in zip(mine, theirs) if key(a) == key(b)]
    dt_s = [abs((np.datetime64(a["time"].replace(tzinfo=None), "us") - b["time"]) / np.timedelta64(1, "s"))
            for a, b in paired]
    dd = [abs(a["ground_km"] - b["ground_km"]) for a, b in paired]
    body = f"""### passes — `imagery.orbits.find_passes` vs the same search on skyfield

{__doc__.strip()}

| figure | value |
|---|---|
| areas x satellites | {N_AREAS} x {len(sats)} (windows 1-5 days, {sum(int((e - s) / np.timedelta64(1, 'h')) for s, e in zip(args[3], args[4])):,} area-hours) |
| shadowfleet find_passes | {t_ours:.2f} s |
| skyfield search | {t_peer:.2f} s |
| speed ratio | {t_peer / t_ours:.1f}x |
| passes found (shadowfleet / skyfield) | {len(ours)} / {len(peer)} |
| largest time difference of paired passes | {max(dt_s, default=float('nan')):.2f} s (skyfield refined on a 1 s grid) |
| largest ground distance difference | {max(dd, default=float('nan')):.2f} km |
| load average before the run | {' '.join(load_before)} (the machine is shared by ~8 sessions) |
"""
    print(body)
    write_section("imagery: satellite passes", body)


if __name__ == "__main__":
    main()
