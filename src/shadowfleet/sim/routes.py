"""Voyages as piecewise-linear true trajectories: stops at places (anchored, moored, drifting) joined by passages
along the sea lanes, with slow approach and departure legs. Builds the knots that sim.motion samples."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import shapely

from shadowfleet.errors import ShadowfleetError
from shadowfleet.places import KM_PER_NM, PORT_KINDS, Places, haversine_km, on_land
from shadowfleet.sim.config import SimConfig
from shadowfleet.sim.lanes import NODES, PLACE_INNER, approach_node, lane_path

_POOL_CACHE: dict[tuple, np.ndarray] = {}

# AIS navigational status (ITU-R M.1371 Table 45)
UNDERWAY, ANCHORED, MOORED, FISHING = 0, 1, 5, 7


@dataclass
class Stop:
    """A true stationary period of one vessel (SOG below the stop threshold throughout)."""

    vessel: int
    place: str | None
    start: float
    end: float
    lat: float
    lon: float
    status: int
    purpose: str  # call, wait, load, discharge, sts, drift, home
    other: int | None = None  # vessel index of an STS partner
    cargo: dict | None = None
    voyage: str | None = None
    swing_m: float = 0.0
    phase: float = 0.0


@dataclass
class Track:
    """Knots of a true trajectory: positions at times t; segment i runs from knot i to knot i+1."""

    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    seg_status: np.ndarray
    seg_speed: np.ndarray  # knots; 0 on stops
    seg_stop: np.ndarray  # index into the vessel's stops, -1 when moving


class Geo:
    """Places plus sea lanes: stop positions inside places and land-free passages between them."""

    def __init__(self, places: Places, cfg: SimConfig, seed: int):
        self.places = places
        self.cfg = cfg
        self.seed = seed
        self._pool: dict[str, np.ndarray] = {}
        self._next: dict[str, int] = {}
        self._start: dict[str, int] = {}
        self._occ: dict[str, list[_Stays]] = {}
        self.last_booking: tuple[str, int, int] | None = None
        self._kind = dict(zip(places.table["id"].to_list(), places.table["kind"].to_list()))
        self._name = dict(zip(places.table["id"].to_list(), places.table["name"].to_list()))
        self.used: set[str] = set()

    def kind(self, pid: str) -> str:
        return self._kind[pid]

    def name(self, pid: str) -> str:
        return self._name[pid]

    def entry(self, pid: str) -> list[tuple[float, float]]:
        """Waypoints from the lane network into a place: approach node then inner waypoints."""
        row = self.places.row(pid)
        node = approach_node(pid, row["lat"], row["lon"])
        return [NODES[node]] + list(PLACE_INNER.get(pid, [])), node

    def clean_leg(self, la1, lo1, la2, lo2, allow_ports: bool = True) -> np.ndarray:
        """For arrays of legs: True where the straight leg crosses no land outside port places."""
        la1, lo1, la2, lo2 = np.broadcast_arrays(*(np.atleast_1d(np.asarray(a, dtype=float))
                                                   for a in (la1, lo1, la2, lo2)))
        # samples every ~40 m along the longest leg: the land raster has single 1 km cells and thin spits
        longest = float(np.max(haversine_km(la1, lo1, la2, lo2))) if la1.size else 0.0
        f = np.linspace(0.0, 1.0, int(min(4000, max(50, longest / 0.04))))[:, None]
        la = la1[None, :] + (la2 - la1)[None, :] * f
        lo = lo1[None, :] + (lo2 - lo1)[None, :] * f
        land = on_land(la.ravel(), lo.ravel()).reshape(la.shape)
        if allow_ports and land.any():
            # the 1 km raster puts many quays on land: allow land only in the last km before a berth in a port
            near_end = haversine_km(la, lo, la2[None, :], lo2[None, :]) <= 1.0
            flat = land & near_end
            inport = np.zeros(land.shape, bool)
            inport[flat] = self.places.locate(la[flat], lo[flat], kinds=PORT_KINDS) != None  # noqa: E711
            land = land & ~inport
        return ~land.any(axis=0)

    def pool(self, pid: str) -> np.ndarray:
        """Up to 120 stop positions (lat, lon) inside the place, on water, whose smallest enclosing place is the
        place itself and reachable in a straight line from its last entry waypoint."""
        if pid in self._pool:
            return self._pool[pid]
        if pid not in self.places:
            raise ShadowfleetError(f"simulate: the scenario needs place {pid!r}, missing from the places file")
        g = self.places.geometry(pid)
        # berths do not move with the seed: the spots depend only on the place (and are cached per process)
        key = (pid, g.wkb, tuple(PLACE_INNER.get(pid, [])), self.entry(pid)[0][0])
        if key in _POOL_CACHE:
            self._pool[pid] = _POOL_CACHE[key]
            self._next[pid] = 0
            return self._pool[pid]
        rng = np.random.default_rng(zlib.crc32(pid.encode()))
        x0, y0, x1, y1 = g.bounds
        lo = rng.uniform(x0, x1, 20000)
        la = rng.uniform(y0, y1, 20000)
        ok = shapely.contains_xy(g, lo, la)
        la, lo = la[ok], lo[ok]
        water = ~on_land(la, lo)
        kinds = PORT_KINDS if self.kind(pid) in PORT_KINDS else (self.kind(pid),)
        own = self.places.locate(la, lo, kinds=kinds) == pid
        sel = water & own
        la, lo = la[sel][:1500], lo[sel][:1500]
        (ela, elo) = self.entry(pid)[0][-1]
        clean = self.clean_leg(ela, elo, la, lo)
        la, lo = la[clean], lo[clean]
        if len(la) == 0:
            raise ShadowfleetError(f"simulate: no reachable water inside place {pid!r}")
        # ours: berths and anchor spots at least 600 m apart, so ships that share a place at the same time are
        # not within the 0.5 km encounter distance of each other
        keep = [0]
        for i in range(1, len(la)):
            if len(keep) >= 120:
                break
            if np.all(haversine_km(la[i], lo[i], la[keep], lo[keep]) >= 0.6):
                keep.append(i)
        pts = np.column_stack([la[keep], lo[keep]])
        _POOL_CACHE[key] = pts
        self._pool[pid] = pts
        self._next[pid] = 0
        return pts

    def point(self, pid: str, rng: np.random.Generator) -> tuple[float, float]:
        """The next free spot of the place (round robin, starting at a random spot): consecutive visitors get
        different berths or anchor positions."""
        pts = self.pool(pid)
        self.used.add(pid)
        k = self._next[pid]
        self._next[pid] = k + 1
        if pid not in self._start:
            self._start[pid] = int(rng.integers(len(pts)))
        la, lo = pts[(self._start[pid] + k) % len(pts)]
        return float(la), float(lo)

    def book(self, pid: str, start: float, end: float, margin: float = 1800.0,
             max_delay_s: float = 6 * 3600.0, share: bool = True) -> tuple[int, float]:
        """A spot of the place free over [start, end] (plus a margin), or the one that frees first: (spot index,
        delay in s). The stay is registered so later visitors avoid it (ours: ships queue for berths). When the
        queue would be longer than ``max_delay_s``: share the least-used spot, or with ``share=False`` give up
        and return (-1, inf)."""
        pts = self.pool(pid)
        occ = self._occ.setdefault(pid, [_Stays() for _ in range(len(pts))])
        n = len(pts)
        base = self._next.get(pid, 0)
        self._next[pid] = base + 1
        best: tuple[int, float] | None = None
        for j in range(n):
            k = (base + j) % n
            d = occ[k].delay(start, end, margin)
            if best is None or d < best[1]:
                best = (k, d)
            if d == 0.0:
                break
        k, d = best
        # ours: at a one- or two-berth terminal ships queue (at anchor) up to a day and a half
        if d > (max_delay_s if n >= 10 or max_delay_s == 0 else max(max_delay_s, 36 * 3600.0)):
            if not share:
                return -1, float("inf")
            # a crowded port: share the least-used spot (ships moored closer than 0.5 km then make incidental
            # encounters, as in real ports)
            overlap = [occ[j].overlap(start, end) for j in range(n)]
            k, d = int(np.argmin(overlap)), 0.0
        self.last_booking = (pid, k, occ[k].add(start + d, end + d))
        self.used.add(pid)
        return k, d

    def extend(self, booking: tuple[str, int, int] | None, end: float) -> None:
        """Lengthen a registered stay (the ship stays on at its spot)."""
        if booking is None:
            return
        pid, k, i = booking
        self._occ[pid][k].extend(i, end)

    def passage(self, a: tuple[float, float], a_place: str | None, a_node: str | None,
                b: tuple[float, float], b_place: str | None, b_node: str | None) -> np.ndarray:
        """Polyline (lat, lon) from point a to point b along entry waypoints and sea lanes."""
        def leg(pt, place, node):
            if place is not None:
                wps, node = self.entry(place)
                return wps, node
            return [NODES[node]], node

        wa, na = leg(a, a_place, a_node)
        wb, nb = leg(b, b_place, b_node)
        lane = [NODES[n] for n in lane_path(na, nb)]
        pts = [a] + wa[::-1] + lane[1:-1] + wb + [b]
        if na == nb:
            pts = [a] + wa[::-1] + wb[1:] + [b]
        arr = np.asarray(pts, dtype=float)
        # drop repeated vertices
        keep = np.r_[True, np.any(np.abs(np.diff(arr, axis=0)) > 1e-9, axis=1)]
        return arr[keep]


class Itinerary:
    """Builds one vessel's knots and stops in time order."""

    def __init__(self, vessel: int, geo: Geo, cfg: SimConfig, rng: np.random.Generator, t0: float,
                 lat: float, lon: float, place: str | None = None, node: str | None = None):
        self.vessel, self.geo, self.cfg, self.rng = vessel, geo, cfg, rng
        self.t = [t0]
        self.lat = [lat]
        self.lon = [lon]
        self.status: list[int] = []
        self.speed: list[float] = []
        self.stop_ix: list[int] = []
        self.stops: list[Stop] = []
        self.place = place
        self.node = node
        self.booking: tuple[str, int, int] | None = None  # the spot the ship holds (Geo.book)

    @property
    def now(self) -> float:
        return self.t[-1]

    @property
    def pos(self) -> tuple[float, float]:
        return self.lat[-1], self.lon[-1]

    def stop(self, hours: float, status: int, purpose: str, **kw) -> Stop:
        start = self.now
        end = start + hours * 3600.0
        swing = {ANCHORED: 40.0, FISHING: 80.0}.get(status, 0.0)  # ours: swinging/drift circle radius, m
        s = Stop(self.vessel, self.place, start, end, self.lat[-1], self.lon[-1], status, purpose,
                 swing_m=swing, phase=float(self.rng.uniform(0, 2 * np.pi)), **kw)
        self.stops.append(s)
        self._knot(end, *self.pos, status, 0.0, len(self.stops) - 1)
        return s

    def _knot(self, t, la, lo, status, speed, stop_ix=-1):
        self.t.append(float(t))
        self.lat.append(float(la))
        self.lon.append(float(lo))
        self.status.append(int(status))
        self.speed.append(float(speed))
        self.stop_ix.append(int(stop_ix))

    def sail(self, place: str | None, point: tuple[float, float], speed_kn: float, node: str | None = None,
             status: int = UNDERWAY, slow_ends: bool = True) -> None:
        """Sail from the current position to ``point`` (in ``place``, or at lane ``node`` for open-sea points)."""
        poly = self.geo.passage(self.pos, self.place, self.node, point, place, node)
        self.polyline(poly, speed_kn, status, slow_ends)
        self.place, self.node = place, node

    def polyline(self, poly: np.ndarray, speed_kn: float, status: int = UNDERWAY, slow_ends: bool = True) -> None:
        if len(poly) < 2:
            return
        d = haversine_km(poly[:-1, 0], poly[:-1, 1], poly[1:, 0], poly[1:, 1]) / KM_PER_NM
        cum = np.r_[0.0, np.cumsum(d)]
        total = cum[-1]
        a = min(self.cfg.approach_nm, total / 3) if slow_ends else 0.0
        # insert vertices where the speed changes
        cuts = [x for x in (a, total - a) if 0 < x < total]
        if cuts:
            la = np.interp(cuts, cum, poly[:, 0])
            lo = np.interp(cuts, cum, poly[:, 1])
            cum2 = np.r_[cum, cuts]
            order = np.argsort(cum2, kind="stable")
            poly = np.vstack([poly, np.column_stack([la, lo])])[order]
            cum = cum2[order]
        mid = (cum[:-1] + cum[1:]) / 2
        v = np.where((mid < a) | (mid > total - a), min(self.cfg.approach_speed_kn, speed_kn), speed_kn)
        dt = np.diff(cum) / v * 3600.0
        t = self.now + np.cumsum(dt)
        for i in range(len(dt)):
            if dt[i] <= 0:
                continue
            self._knot(t[i], poly[i + 1, 0], poly[i + 1, 1], status, v[i])

    def call(self, place: str, hours: float, status: int, purpose: str, speed_kn: float,
             wait_at: str | None = None, pre_wait_h: float = 0.0, share: bool = True, **kw) -> Stop | None:
        """Sail to a free spot of ``place`` and stay ``hours``. If every spot is taken on arrival the ship waits:
        at the anchorage ``wait_at`` when given (up to two days; at least ``pre_wait_h``), else where it is (up
        to six hours). Past that it shares the least-used spot, or with ``share=False`` returns None and leaves
        the itinerary unchanged."""
        pts = self.geo.pool(place)
        probe = Itinerary(self.vessel, self.geo, self.cfg, self.rng, self.now, *self.pos, place=self.place,
                          node=self.node)
        probe.sail(place, tuple(pts[0]), speed_kn)
        extra = pre_wait_h * 3600.0 if wait_at else 0.0
        eta = probe.now + extra
        k, delay = self.geo.book(place, eta, eta + hours * 3600.0,
                                 max_delay_s=(48 if wait_at else 6) * 3600.0, share=share)
        if k < 0:
            return None
        booking = self.geo.last_booking
        wait = extra + delay
        if wait > 1800 and wait_at is not None:
            self.call(wait_at, wait / 3600.0, ANCHORED, "wait", speed_kn)
            speed_kn = self.cfg.approach_speed_kn + 2
        elif wait > 0 and self.status:
            self.geo.extend(self.booking, self.now + wait)
            self.idle_until(self.now + wait, self.status[-1], "wait")
        self.sail(place, (float(pts[k][0]), float(pts[k][1])), speed_kn)
        self.booking = booking
        return self.stop(hours, status, purpose, **kw)

    def stay_on(self, t_end: float, purpose: str = "wait") -> Stop | None:
        """Stay where the ship is until t_end (its spot stays taken)."""
        self.geo.extend(self.booking, t_end)
        return self.idle_until(t_end, self.status[-1] if self.status else MOORED, purpose)

    def idle_until(self, t_end: float, status: int, purpose: str, **kw) -> Stop | None:
        if t_end - self.now < 60:
            return None
        return self.stop((t_end - self.now) / 3600.0, status, purpose, **kw)

    def track(self) -> Track:
        return Track(np.asarray(self.t), np.asarray(self.lat), np.asarray(self.lon),
                     np.asarray(self.status, dtype=np.int8), np.asarray(self.speed),
                     np.asarray(self.stop_ix, dtype=np.int64))


class _Stays:
    """The stays registered at one spot, (start, end) in booking order, as arrays: a month of a few thousand
    ships books tens of thousands of stays, and every booking tests them all."""

    def __init__(self):
        self.n = 0
        self.a = np.empty(16)
        self.b = np.empty(16)

    def add(self, a: float, b: float) -> int:
        if self.n == self.a.size:
            self.a = np.concatenate([self.a, np.empty(self.n)])
            self.b = np.concatenate([self.b, np.empty(self.n)])
        self.a[self.n], self.b[self.n] = a, b
        self.n += 1
        return self.n - 1

    def extend(self, i: int, end: float) -> None:
        self.b[i] = max(float(self.b[i]), end)

    def delay(self, start: float, end: float, margin: float) -> float:
        """The least delay d >= 0 for which [start + d, end + d] (plus the margin) overlaps no stay. Any d short
        of the end of a stay it overlaps overlaps that stay too, so d jumps past the latest-ending stay it
        overlaps until it overlaps none."""
        a, b = self.a[:self.n], self.b[:self.n]
        d = 0.0
        while True:
            hit = (a < end + d + margin) & (b + margin > start + d)
            if not hit.any():
                return d
            d = float((b[hit] + margin).max()) - start

    def overlap(self, start: float, end: float) -> float:
        """Total time the stays overlap [start, end], summed in booking order."""
        if not self.n:
            return 0
        part = np.maximum(0.0, np.minimum(self.b[:self.n], end) - np.maximum(self.a[:self.n], start))
        return float(np.cumsum(part)[-1])
