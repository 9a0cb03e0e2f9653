"""Where imaging satellites will be: two-line element sets (TLE) read with the SGP4 propagator (Vallado et al.
2006, "Revisiting Spacetrack Report #3", AIAA 2006-6753, through the `sgp4` package's vectorised SatrecArray),
their sub-satellite points, the passes over areas of interest, and the Sun's elevation there (optical sensors
need daylight).

TLE format (CelesTrak, "NORAD Two-Line Element Set Format"): an optional name line (the 3-line form; CelesTrak's
3LE prefixes it with "0 "), then line 1 and line 2 of 69 characters each, each ending in a modulo-10 checksum
(digits count their value, a minus sign 1, everything else 0), both carrying the same catalogue number.

Earth-fixed positions: TEME rotated by the Greenwich mean sidereal time (IAU 1982, as Vallado's teme2ecef), UT1
taken as UTC and polar motion ignored (together under 0.5 km on the ground); geodetic latitude on WGS 84.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import re
from pathlib import Path

import numpy as np

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.config import SatelliteRule

WGS84_A_KM = 6378.137  # WGS 84 semi-major axis (NGA TR8350.2)
WGS84_F = 1 / 298.257223563  # WGS 84 flattening
_E2 = WGS84_F * (2 - WGS84_F)
MEAN_EARTH_KM = 6371.0088  # IUGG mean radius, for ground distances
MAX_TLE_BYTES = 20_000_000  # ours: CelesTrak's whole active catalogue is ~2 MB in 3-line form
MAX_SATELLITES = 20_000  # ours
MAX_REJECTED = 10_000  # ours: each rejection keeps a reason; a file of millions of stray lines is not a TLE file
REFINE_BATCH = 5_000  # ours: candidate passes refined at once (at most ~80 MB of samples at 241 per candidate)
_LINE_CHARS = 69
_PRINTABLE_NAME = re.compile(r"^[\x20-\x7e]{1,69}$")


@dataclasses.dataclass(frozen=True)
class Satellite:
    name: str
    satnum: int
    epoch: dt.datetime
    line1: str
    line2: str
    satrec: object = dataclasses.field(repr=False, compare=False)


@dataclasses.dataclass
class TleRead:
    satellites: list[Satellite]
    rejected: list[str]  # one reason per rejected record, naming its line


def _checksum_ok(line: str) -> bool:
    total = sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68])
    return line[68].isdigit() and total % 10 == int(line[68])


def _check_line(line: str, no: int, which: str) -> str | None:
    if len(line) != _LINE_CHARS:
        return f"line {no}: TLE {which} has {len(line)} characters, not 69"
    if not line.isascii() or not line.isprintable():
        return f"line {no}: TLE {which} holds characters a TLE cannot"
    if not _checksum_ok(line):
        return f"line {no}: TLE {which} checksum does not match"
    return None


def parse_tle(text: str, origin: str = "TLE") -> TleRead:
    """Element sets from TLE text (2-line or 3-line form, mixed is fine). A record that is not a valid element
    set is rejected with a reason and the others still count."""
    from sgp4.api import Satrec

    lines = [ln.rstrip() for ln in text.splitlines()]
    sats: list[Satellite] = []
    rejected: list[str] = []
    name: str | None = None
    name_no = 0
    i = 0

    def reject(reason: str) -> None:
        rejected.append(reason)
        if len(rejected) > MAX_REJECTED:
            raise ShadowfleetError(f"{origin}: more than {MAX_REJECTED:,} records rejected, not a TLE file "
                                   f"(first: {rejected[0]})")

    while i < len(lines):
        ln, no = lines[i], i + 1
        if not ln.strip():
            i += 1
            continue
        if ln.startswith("1 ") and len(ln) >= 2:
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if not nxt.startswith("2 "):
                reject(f"line {no}: TLE line 1 without a line 2 after it")
                name = None
                i += 1
                continue
            problem = _check_line(ln, no, "line 1") or _check_line(nxt, no + 1, "line 2")
            if problem is None and ln[2:7] != nxt[2:7]:
                problem = f"line {no}: catalogue numbers of lines 1 and 2 differ ({ln[2:7]!r}, {nxt[2:7]!r})"
            sat = None
            if problem is None:
                try:
                    rec = Satrec.twoline2rv(ln, nxt)
                except Exception as exc:  # sgp4 raises ValueError and others on garbled fields
                    problem = f"line {no}: TLE fields unreadable ({type(exc).__name__})"
                else:
                    if rec.error != 0 or not (0 < rec.no_kozai < 0.2):  # rad/min: 0.2 = a 31-minute orbit
                        problem = f"line {no}: elements SGP4 cannot propagate (error {rec.error})"
                    else:
                        sat = rec
            if problem is not None:
                reject(problem)
            else:
                satnum = int(sat.satnum)
                label = name if name is not None and name_no == no - 1 else f"NORAD {satnum}"
                epoch = (dt.datetime(2000, 1, 1, 12, tzinfo=dt.timezone.utc)
                         + dt.timedelta(days=float(sat.jdsatepoch + sat.jdsatepochF - 2451545.0)))
                sats.append(Satellite(label, satnum, epoch, ln, nxt, sat))
                if len(sats) > MAX_SATELLITES:
                    raise ShadowfleetError(f"{origin}: more than {MAX_SATELLITES:,} element sets")
            name = None
            i += 2
            continue
        if ln.startswith("2 "):
            reject(f"line {no}: TLE line 2 without a line 1 before it")
            name = None
            i += 1
            continue
        if name is not None:
            reject(f"line {name_no}: name {name!r} without element lines after it")
        cand = ln.strip()
        cand = cand[2:].strip() if cand.startswith("0 ") else cand
        if not _PRINTABLE_NAME.match(cand):
            reject(f"line {no}: neither a TLE line nor a printable satellite name")
            name = None
        else:
            name, name_no = cand, no
        i += 1
    if name is not None:
        reject(f"line {name_no}: name {name!r} without element lines after it")
    return TleRead(sats, rejected)


def read_tle(path: str | Path) -> TleRead:
    """Element sets from a TLE file; a missing, oversized or binary file, or one with no valid element set, is
    one ShadowfleetError."""
    p = Path(path)
    if not p.is_file():
        raise ShadowfleetError(f"TLE file not found: {p}")
    if p.stat().st_size > MAX_TLE_BYTES:
        raise ShadowfleetError(f"{p}: larger than {MAX_TLE_BYTES // 1_000_000} MB, not a TLE file")
    raw = p.read_bytes()
    if b"\x00" in raw:
        raise ShadowfleetError(f"{p}: binary data, not a TLE file")
    read = parse_tle(raw.decode("utf-8", errors="replace"), str(p))
    if not read.satellites:
        first = f": {read.rejected[0]}" if read.rejected else ""
        raise ShadowfleetError(f"{p}: no valid TLE element set ({len(read.rejected)} rejected{first})")
    return read


def rule_for(name: str, rules) -> SatelliteRule | None:
    """The first rule (of (key, rule) pairs) whose pattern matches the satellite's name (case-insensitive)."""
    for _, r in rules:
        if fnmatch.fnmatchcase(name.upper(), r.pattern.upper()):
            return r
    return None


# ---- time and frames -------------------------------------------------------------------------------------------

_J2000 = np.datetime64("2000-01-01T12:00:00", "us")


def julian(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whole-and-half day, fraction) Julian dates of UTC datetime64 times, split as sgp4 wants them."""
    days = (np.asarray(times, "datetime64[us]") - _J2000).astype(np.int64) / 86_400e6
    whole = np.floor(days) + 2451545.0
    return whole, days - np.floor(days)


def gmst_rad(jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal time, IAU 1982 (Vallado's gstime), UT1 = UTC."""
    t = ((jd - 2451545.0) + fr) / 36525.0
    sec = (-6.2e-6 * t**3 + 0.093104 * t**2 + (876600.0 * 3600 + 8640184.812866) * t + 67310.54841)
    return np.mod(np.radians(sec / 240.0), 2 * np.pi)


def ecef_positions(sats: list[Satellite], times: np.ndarray) -> np.ndarray:
    """Earth-fixed positions (km) of each satellite at each time: shape (n_sat, n_time, 3); NaN where SGP4
    fails (a decayed orbit)."""
    from sgp4.api import SatrecArray

    jd, fr = julian(times)
    err, r, _ = SatrecArray([s.satrec for s in sats]).sgp4(jd, fr)
    r = np.where((err != 0)[..., None], np.nan, r)
    g = gmst_rad(jd, fr)
    c, s = np.cos(g), np.sin(g)
    x = c * r[..., 0] + s * r[..., 1]
    y = -s * r[..., 0] + c * r[..., 1]
    return np.stack([x, y, r[..., 2]], axis=-1)


def geodetic(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS 84 geodetic latitude, longitude (degrees) and height (km) of Earth-fixed points (Bowring's method,
    two iterations: well under a metre at orbital heights)."""
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    p = np.hypot(x, y)
    lat = np.arctan2(z, p * (1 - _E2))
    for _ in range(3):
        n = WGS84_A_KM / np.sqrt(1 - _E2 * np.sin(lat) ** 2)
        h = p / np.cos(lat) - n
        lat = np.arctan2(z, p * (1 - _E2 * n / (n + h)))
    n = WGS84_A_KM / np.sqrt(1 - _E2 * np.sin(lat) ** 2)
    h = p / np.cos(lat) - n
    return np.degrees(lat), np.degrees(np.arctan2(y, x)), h


def surface_ecef(lat, lon) -> np.ndarray:
    """Earth-fixed position (km) of points on the WGS 84 ellipsoid."""
    la, lo = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    n = WGS84_A_KM / np.sqrt(1 - _E2 * np.sin(la) ** 2)
    return np.stack([n * np.cos(la) * np.cos(lo), n * np.cos(la) * np.sin(lo), n * (1 - _E2) * np.sin(la)], -1)


def ground_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance (km, mean Earth radius), broadcasting."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.asarray(lon2) - lon1) / 2) ** 2
    return 2 * MEAN_EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def sun_elevation_deg(times: np.ndarray, lat, lon) -> np.ndarray:
    """The Sun's elevation above the horizon (degrees, no refraction) at UTC times and places (broadcasting).

    Low-precision formulas of the Astronomical Almanac (section C; also the US Naval Observatory's "Approximate
    solar coordinates"): about 0.01 degree in 1950-2050, ample for "is it daylight"."""
    jd, fr = julian(times)
    n = (jd - 2451545.0) + fr
    g = np.radians(357.529 + 0.98560028 * n)
    q = 280.459 + 0.98564736 * n
    ecl = np.radians(q + 1.915 * np.sin(g) + 0.020 * np.sin(2 * g))
    eps = np.radians(23.439 - 0.00000036 * n)
    ra = np.arctan2(np.cos(eps) * np.sin(ecl), np.cos(ecl))
    dec = np.arcsin(np.sin(eps) * np.sin(ecl))
    gmst_deg = np.mod(280.46061837 + 360.98564736629 * n, 360.0)
    ha = np.radians(gmst_deg + np.asarray(lon, float)) - ra
    la = np.radians(np.asarray(lat, float))
    return np.degrees(np.arcsin(np.sin(la) * np.sin(dec) + np.cos(la) * np.cos(dec) * np.cos(ha)))


def off_nadir_deg(sat_xyz: np.ndarray, target_xyz: np.ndarray) -> np.ndarray:
    """Angle at the satellite between straight down (to the Earth's centre) and the line to the target."""
    to_t = target_xyz - sat_xyz
    down = -sat_xyz
    cos = np.sum(to_t * down, -1) / (np.linalg.norm(to_t, axis=-1) * np.linalg.norm(down, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def ground_range_km(incidence_deg, altitude_km) -> np.ndarray:
    """Distance on the ground from the sub-satellite point to where a beam meets the Earth at this incidence
    angle, on a sphere: off-nadir angle a from sin a = R / (R + h) sin i, Earth central angle i - a."""
    inc = np.radians(np.asarray(incidence_deg, float))
    off = np.arcsin(MEAN_EARTH_KM / (MEAN_EARTH_KM + np.asarray(altitude_km, float)) * np.sin(inc))
    return MEAN_EARTH_KM * (inc - off)


def swath_band_km(rule: SatelliteRule, altitude_km) -> tuple[np.ndarray, np.ndarray]:
    """(near, far) ground distance of the swath from the track: -w/2..w/2 under the track for a nadir-looking
    sensor; from the near edge's ground range out to it plus the swath width for a side-looking one."""
    if rule.look == "nadir":
        return np.full(np.shape(altitude_km), -rule.swath_km / 2), np.full(np.shape(altitude_km), rule.swath_km / 2)
    near = ground_range_km(rule.near_incidence_deg, altitude_km)
    return near, near + rule.swath_km


# ---- passes ----------------------------------------------------------------------------------------------------


def find_passes(sats: list[Satellite], rules: list[SatelliteRule], lat: np.ndarray, lon: np.ndarray,
                radius_km: np.ndarray, start: np.ndarray, end: np.ndarray, step_s: float = 30.0,
                refine_step_s: float = 1.0) -> list[dict]:
    """Passes of each satellite over each area (centre lat/lon, radius km) during its window [start, end)
    (datetime64[us] UTC): the times the sub-satellite point comes closest to the area, inside the window, where
    the area reaches into the swath: for a nadir-looking sensor the closest distance to the area is at most
    half the swath; for a side-looking one the area, on the side the sensor looks to, overlaps the band from
    the near edge's ground range to it plus the swath width.

    One dict per pass: area (index), satellite, satnum, time, ground_km (sub-satellite point to the area's
    centre), side (of the track the area lies on, facing the direction of flight), off_nadir_deg (to the
    centre), sun_elevation_deg (at the centre), optical, daylight, usable (radar, or optical with the Sun up),
    direction (ascending / descending)."""
    lat, lon, radius_km = (np.asarray(a, float) for a in (lat, lon, radius_km))
    start, end = np.asarray(start, "datetime64[us]"), np.asarray(end, "datetime64[us]")
    if not len(sats) or not lat.size:
        return []
    step = np.timedelta64(int(step_s * 1e6), "us")
    t0, t1 = start.min() - step, end.max() + step
    grid = t0 + step * np.arange(int((t1 - t0) / step) + 2)
    # sub-satellite points on the coarse grid, a day at a time to bound memory
    n_sat = len(sats)
    sub_lat = np.empty((n_sat, grid.size), np.float32)
    sub_lon = np.empty((n_sat, grid.size), np.float32)
    chunk = int(86_400 / step_s)
    alt = np.zeros(n_sat)
    for a in range(0, grid.size, chunk):
        la, lo, h = geodetic(ecef_positions(sats, grid[a:a + chunk]))
        sub_lat[:, a:a + chunk], sub_lon[:, a:a + chunk] = la, lo
        alt = np.fmax(alt, np.nanmax(h, axis=1))
    # how far from the track each sensor can see (at its highest: the widest reach), for the coarse filter
    reach = np.array([float(swath_band_km(r, a)[1]) for r, a in zip(rules, alt)])
    ground_speed = 7.5  # km/s: fastest low-orbit ground track; bounds how far a coarse sample can miss a minimum
    slack = ground_speed * step_s
    cand_sat, cand_area, cand_t = [], [], []
    for k in range(lat.size):  # per area: vectorised over satellites and time
        i0 = max(int(np.searchsorted(grid, start[k])) - 1, 1)
        i1 = min(int(np.searchsorted(grid, end[k])) + 1, grid.size - 1)
        if i1 - i0 < 1:
            continue
        d = ground_km(sub_lat[:, i0 - 1:i1 + 1], sub_lon[:, i0 - 1:i1 + 1], lat[k], lon[k])
        mid = d[:, 1:-1]
        is_min = (mid <= d[:, :-2]) & (mid < d[:, 2:]) & (mid - radius_km[k] <= (reach + slack)[:, None])
        s_idx, t_idx = np.nonzero(is_min)
        cand_sat.append(s_idx)
        cand_area.append(np.full(s_idx.size, k))
        cand_t.append(grid[i0 + t_idx])
    if not cand_sat:
        return []
    cs, ca, ct = np.concatenate(cand_sat), np.concatenate(cand_area), np.concatenate(cand_t)
    return _refine(sats, rules, cs, ca, ct, lat, lon, radius_km, start, end, step_s, refine_step_s)


def _refine(sats, rules, cs, ca, ct, lat, lon, radius_km, start, end, step_s, refine_step_s) -> list[dict]:
    """Each candidate minimum resampled every ``refine_step_s`` over +- one coarse step, then a parabola through
    the three samples around the finest minimum."""
    offs = np.arange(-step_s, step_s + refine_step_s / 2, refine_step_s)
    offs_us = (offs * 1e6).astype(np.int64).astype("timedelta64[us]")
    out: list[dict] = []
    # per satellite, REFINE_BATCH candidates at a time: each holds offs.size positions
    batches = ((si, sel) for si in np.unique(cs) for ix in [np.flatnonzero(cs == si)]
               for sel in np.array_split(ix, -(-ix.size // REFINE_BATCH)))
    for si, sel in batches:
        times = (ct[sel][:, None] + offs_us[None, :])
        xyz = ecef_positions([sats[si]], times.ravel())[0].reshape(times.shape + (3,))
        la, lo, _ = geodetic(xyz)
        d = ground_km(la, lo, lat[ca[sel]][:, None], lon[ca[sel]][:, None])
        j = np.clip(np.nanargmin(np.where(np.isfinite(d), d, np.inf), axis=1), 1, offs.size - 2)
        rows = np.arange(sel.size)
        y0, y1, y2 = d[rows, j - 1], d[rows, j], d[rows, j + 1]
        den = y0 - 2 * y1 + y2
        shift = np.where(den > 0, 0.5 * (y0 - y2) / np.where(den > 0, den, 1), 0.0)
        t_sec = offs[j] + np.clip(shift, -1, 1) * refine_step_s
        t_best = ct[sel] + (t_sec * 1e6).astype(np.int64).astype("timedelta64[us]")
        xyz_b = ecef_positions([sats[si]], t_best)[0]
        la_b, lo_b, _ = geodetic(xyz_b)
        area = ca[sel]
        g = ground_km(la_b, lo_b, lat[area], lon[area])
        rule = rules[si]
        # side of the track the area lies on: the sign of (velocity x up) . (target - satellite), Earth-fixed
        one = np.timedelta64(1, "s")
        vel = ecef_positions([sats[si]], t_best + one)[0] - ecef_positions([sats[si]], t_best - one)[0]
        target = surface_ecef(lat[area], lon[area])
        right = np.sum(np.cross(vel, xyz_b) * (target - xyz_b), axis=-1) > 0
        near, far = swath_band_km(rule, geodetic(xyz_b)[2])
        if rule.look == "nadir":
            covered = g - radius_km[area] <= far
        else:  # distance across the track, positive on the side the sensor looks to
            x = np.where(right == (rule.look == "right"), g, -g)
            covered = (x + radius_km[area] >= near) & (x - radius_km[area] <= far)
        ok = covered & (t_best >= start[area]) & (t_best < end[area]) & np.isfinite(g)
        if not ok.any():
            continue
        nadir = off_nadir_deg(xyz_b[ok], target[ok])
        sun = sun_elevation_deg(t_best[ok], lat[area[ok]], lon[area[ok]])
        la_next, _, _ = geodetic(ecef_positions([sats[si]], t_best[ok] + np.timedelta64(10, "s"))[0])
        for a, t, gk, rt, nd, se, up in zip(area[ok], t_best[ok], g[ok], right[ok], nadir, sun, la_next > la_b[ok]):
            daylight = bool(se > 0)
            out.append({"area": int(a), "satellite": sats[si].name, "satnum": sats[si].satnum,
                        "time": t.astype("datetime64[us]").astype(dt.datetime).replace(tzinfo=dt.timezone.utc),
                        "ground_km": round(float(gk), 1), "side": "right" if rt else "left",
                        "off_nadir_deg": round(float(nd), 1),
                        "sun_elevation_deg": round(float(se), 1), "optical": rule.optical, "daylight": daylight,
                        "usable": (not rule.optical) or daylight,
                        "direction": "ascending" if up else "descending"})
    # the same pass found from two neighbouring coarse minima: keep one
    uniq: list[dict] = []
    for p in sorted(out, key=lambda p: (p["area"], p["satnum"], p["satellite"], p["time"])):
        prev = uniq[-1] if uniq else None
        if (prev is None or (prev["area"], prev["satnum"], prev["satellite"]) != (p["area"], p["satnum"], p["satellite"])
                or (p["time"] - prev["time"]).total_seconds() > 300):
            uniq.append(p)
    return uniq
