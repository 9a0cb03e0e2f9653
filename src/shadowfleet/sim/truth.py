"""True events from the true trajectories, by the detector's definitions (`shadowfleet.definitions`), each marked with whether the
emitted and received AIS make it detectable (``visible``) and whether only inference can find it (``inferred``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from shadowfleet.definitions import EventsConfig
from shadowfleet.errors import ShadowfleetError
from shadowfleet.places import KM_PER_NM, PORT_KINDS, Places, haversine_km
from shadowfleet.sim.config import SimConfig
from shadowfleet.sim.motion import sample
from shadowfleet.sim.routes import Stop
from shadowfleet.sim.vessels import Vessel


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(round(t), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Received:
    """Received (deduplicated) transmissions of one vessel, in time order."""

    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    mmsi: np.ndarray
    spoofed: np.ndarray
    st_t: np.ndarray  # static reports
    st_draught: np.ndarray
    st_identity: np.ndarray
    st_mmsi: np.ndarray
    rx: np.ndarray | None = None  # receive time stamp of each position's first received copy (what a detector sees)


def _heard(rec: Received) -> np.ndarray:
    """Position times as a detector sees them: the receive time stamps when known (whole seconds, seconds after
    transmission), so a stay seen for exactly an hour is an hour on both sides of the comparison."""
    return rec.t if rec.rx is None else rec.rx


def _span_inside(rec: Received, a: float, b: float, genuine: bool = True) -> float:
    i0, i1 = np.searchsorted(rec.t, [a, b])
    t = rec.t[i0:i1]
    if genuine:
        t = t[~rec.spoofed[i0:i1]]
    return float(t[-1] - t[0]) if len(t) > 1 else 0.0


class TruthBuilder:
    def __init__(self, vessels: list[Vessel], received: list[Received], places: Places, cfg: SimConfig,
                 t0: float, t1: float, defs: EventsConfig = EventsConfig()):
        self.v, self.rec, self.places, self.cfg, self.t0, self.t1 = vessels, received, places, cfg, t0, t1
        self.defs = defs
        # the truth treats the stops as the only slow periods: every passage must be faster than the slow-speed
        # thresholds and every stop slower than the stop threshold (settings could break this)
        moving = [v.track.seg_speed[v.track.seg_stop < 0] for v in vessels if v.track is not None]
        slowest = min((float(m.min()) for m in moving if len(m)), default=np.inf)
        slow = max(defs.encounter.max_sog_kn, defs.loitering.max_sog_kn)
        if slowest < slow:
            raise ShadowfleetError(f"[sim] a passage at {slowest:.1f} kn is slower than the encounter/loitering "
                                   f"speed ({slow} kn): raise the speeds")
        if cfg.stop_drift_kn > defs.port_call.max_sog_kn:
            raise ShadowfleetError("[sim] stop_drift_kn must not exceed [events.port_call] max_sog_kn")
        self.events: list[dict] = []
        self.stop_event: dict[int, str] = {}  # id(stop) -> event id

    def _mmsi_at(self, vi: int, t: float) -> int:
        ids = self.v[vi].identities
        froms = [i["from_ts"] for i in ids]
        k = max(0, int(np.searchsorted(froms, t, side="right")) - 1)
        return int(ids[k]["mmsi"])

    def _add(self, typ, vi, start, end, lat, lon, place=None, other=None, inferred=False, visible=True,
             details=None, cargo=None, key=None) -> dict:
        ev = {"id": None, "type": typ, "mmsi": self._mmsi_at(vi, start), "start": iso(start), "end": iso(end),
              "lat": round(float(lat), 5), "lon": round(float(lon), 5), "place": place,
              "other_mmsi": other, "inferred": bool(inferred), "visible": bool(visible),
              "details": details or {}, "cargo": cargo, "_t": start, "_key": key}
        self.events.append(ev)
        return ev

    def merged_stops(self) -> list[Stop]:
        """Stops of one vessel that follow each other at the same position are one stationary period (e.g.
        discharge then waiting at the same berth): the detector sees one stay, so the truth has one."""
        if hasattr(self, "_merged"):
            return self._merged
        out: list[Stop] = []
        self._alias: dict[int, Stop] = {}
        aliased_by: dict[int, list[int]] = {}  # id of a stop -> the keys of _alias that point at it
        for v in self.v:
            prev = None
            for s in v.stops:
                if prev is not None and abs(s.start - prev.end) < 1 and s.lat == prev.lat and s.lon == prev.lon:
                    keep = prev if prev.cargo is not None or s.cargo is None else s
                    m = Stop(s.vessel, s.place, prev.start, s.end, s.lat, s.lon, keep.status, keep.purpose,
                             keep.other, keep.cargo, keep.voyage, keep.swing_m, keep.phase)
                    keys = aliased_by.pop(id(prev), [])
                    for k in keys:
                        self._alias[k] = m
                    self._alias[id(s)] = m
                    self._alias[id(prev)] = m
                    aliased_by[id(m)] = keys + [id(s), id(prev)]
                    out[-1] = m
                    prev = m
                    continue
                self._alias[id(s)] = s
                aliased_by[id(s)] = [id(s)]
                out.append(s)
                prev = s
        self._merged = out
        return out

    def event_of(self, stop: Stop) -> dict | None:
        return self.stop_event.get(id(self._alias.get(id(stop), stop)))

    # --- port calls and loitering ---------------------------------------------------------------------------
    def stops(self) -> None:
        defs = self.defs
        allstops = self.merged_stops()
        if not allstops:
            return
        la = np.array([s.lat for s in allstops])
        lo = np.array([s.lon for s in allstops])
        port = self.places.locate(la, lo, kinds=PORT_KINDS)
        calls = []
        for s, pid in zip(allstops, port):
            a, b = max(s.start, self.t0), min(s.end, self.t1)
            hours = (b - a) / 3600.0
            rec = self.rec[s.vessel]
            if pid is not None and hours >= defs.port_call.min_duration_h:
                calls.append((s, pid, a, b, self._silences_at(s.vessel, a, b, pid)))
            elif pid is None and hours >= defs.loitering.min_duration_h:
                visible = _span_inside(rec, a, b) >= defs.loitering.min_duration_h * 3600.0 - 1
                area = self.places.locate([s.lat], [s.lon], kinds=None)[0]
                ev = self._add("loitering", s.vessel, a, b, s.lat, s.lon, place=area, visible=visible,
                               details={"purpose": s.purpose, "hours": round(hours, 2)})
                self.stop_event.setdefault(id(s), ev)
        # one silence is one inferred call: the stay it covers whole (a dark call at the berth between two
        # seen stays at the anchorage), else the stay it overlaps most
        owner: dict[tuple[int, float], tuple[tuple[bool, float], int]] = {}
        for ci, (s, pid, a, b, sil) in enumerate(calls):
            for s0, s1 in sil:
                rank = (s0 <= a and s1 >= b, min(s1, b) - max(s0, a))
                key = (s.vessel, s0)
                if key not in owner or rank > owner[key][0]:
                    owner[key] = (rank, ci)
        for ci, (s, pid, a, b, sil) in enumerate(calls):
            mine = [owner[(s.vessel, s0)][1] == ci for s0, _ in sil]
            self._port_call_events(s, pid, a, b, sil, mine)

    def _silences_at(self, vi: int, a: float, b: float, pid: str) -> list[tuple[float, float]]:
        """docs/detection.md inferred port call: the received silences >= 2 h overlapping the stay [a, b] whose
        last position before and first after lie inside or within 5 km of the place."""
        rec = self.rec[vi]
        ok = ~rec.spoofed
        t, la, lo = _heard(rec)[ok], rec.lat[ok], rec.lon[ok]
        if len(t) < 2:
            return []
        k = np.nonzero((np.diff(t) >= self.defs.port_call.inferred_min_gap_h * 3600.0) & (t[1:] > a) & (t[:-1] < b))[0]
        if not len(k):
            return []
        d = self.places.distance_km(np.r_[la[k], la[k + 1]], np.r_[lo[k], lo[k + 1]], pid)
        near = self.defs.port_call.inferred_max_km
        keep = (d[:len(k)] <= near) & (d[len(k):] <= near)
        return [(float(t[i]), float(t[i + 1])) for i in k[keep]]

    def _port_call_events(self, s: Stop, pid: str, a: float, b: float, sil: list, mine: list[bool]) -> None:
        """The port calls of one stay (docs/detection.md): a silence splits it into the run seen before, the
        silence (an inferred call) and the run seen after; a run shorter than min_duration_h is no call of its
        own and joins the neighbouring silence's call. A silence owned by another stay only cuts this one."""
        pc = self.defs.port_call
        rec = self.rec[s.vessel]
        items: list[tuple[str, float, float]] = []  # (kind: seen / dark / foreign, start, end)
        cur = a
        for (s0, s1), own in zip(sil, mine):
            if s0 > cur:
                items.append(("seen", cur, s0))
            items.append(("dark" if own else "foreign", s0, s1))
            cur = max(cur, s1)
        if cur < b:
            items.append(("seen", cur, b))
        min_s = pc.min_duration_h * 3600.0
        long = [k == "seen" and e - st >= min_s for k, st, e in items]
        groups: list[list[tuple[str, float, float]]] = []
        for i, it in enumerate(items):
            if i == 0 or long[i] or long[i - 1] or it[0] == "foreign" or items[i - 1][0] == "foreign":
                groups.append([])
            groups[-1].append(it)
        evs = []
        for g in groups:
            kinds = {k for k, _, _ in g}
            st, en = min(x[1] for x in g), max(x[2] for x in g)
            if "dark" in kinds:
                evs.append((st, en, True, True))
            elif kinds == {"seen"} and en - st >= min_s:
                # a part between two silences ends on the report that opens the next one: count it
                heard = _heard(rec)[~rec.spoofed]
                heard = heard[(heard >= st) & (heard <= en)]
                direct = len(heard) > 1 and heard.max() - heard.min() >= min_s
                evs.append((st, en, False, direct))
        if not evs:
            return
        visit = f"{pid}-{int(round(evs[0][0]))}"
        out = []
        for k, (st, en, dark, vis) in enumerate(evs):
            part = ("dark" if dark else "whole" if len(evs) == 1 else "before" if k == 0
                    else "after" if k == len(evs) - 1 else "between")
            # inferred: only an inference finds it (a dark call, or a stay AIS did not see long enough)
            out.append(self._add("port_call", s.vessel, st, en, s.lat, s.lon, place=pid, inferred=dark or not vis,
                                 visible=vis,
                                 details={"purpose": s.purpose, "nav_status": s.status,
                                          "hours": round((en - st) / 3600.0, 2), "voyage": s.voyage,
                                          "visit_id": visit, "part": part, "visit_parts": len(evs)}))
        # the stay's cargo goes with its longest part (a tanker dark for its cargo work: the dark call; a stay
        # heard throughout but for a silence: the part seen), visible before unseen
        k = max(range(len(evs)), key=lambda i: (evs[i][3], evs[i][1] - evs[i][0]))
        main = out[k]
        main["cargo"] = s.cargo
        self.stop_event[id(s)] = main

    # --- encounters -----------------------------------------------------------------------------------------
    def encounters(self) -> None:
        defs = self.defs
        allstops = [s for s in self.merged_stops() if s.end - s.start >= defs.encounter.min_duration_h * 3600]
        if len(allstops) < 2:
            return
        la = np.array([s.lat for s in allstops])
        lo = np.array([s.lon for s in allstops])
        st = np.array([max(s.start, self.t0) for s in allstops])
        en = np.array([min(s.end, self.t1) for s in allstops])
        vi = np.array([s.vessel for s in allstops])
        # grid key with neighbour expansion, then exact distance (the spatial-join rule of docs/CONTRACTS.md)
        # degrees: at least the encounter distance along a parallel at the highest latitude, never under ~1 km
        cell = max(0.01, defs.encounter.max_distance_km / (111.0 * max(np.cos(np.radians(np.abs(la).max())), 0.01)))
        gx = np.floor(lo / cell).astype(np.int64)
        gy = np.floor(la / cell).astype(np.int64)
        order = np.lexsort((gx, gy))
        keys = {}
        for i in order:
            keys.setdefault((gy[i], gx[i]), []).append(i)
        pairs = set()
        for (y, x), members in keys.items():
            cand = [j for dy in (-1, 0, 1) for dx in (-1, 0, 1) for j in keys.get((y + dy, x + dx), [])]
            for i in members:
                for j in cand:
                    if j > i and vi[i] != vi[j]:
                        pairs.add((i, j))
        for i, j in sorted(pairs):
            a, b = max(st[i], st[j]), min(en[i], en[j])
            if b - a < defs.encounter.min_duration_h * 3600:
                continue
            if haversine_km(la[i], lo[i], la[j], lo[j]) > defs.encounter.max_distance_km:
                continue
            si, sj = allstops[i], allstops[j]
            # the supplier of an STS transfer is reported as the vessel, the receiver as other_mmsi
            if sj.cargo is not None and sj.cargo.get("action") == "discharge":
                si, sj = sj, si
            vis = all(_span_inside(self.rec[s.vessel], a, b) >= defs.encounter.min_duration_h * 3600 - 1
                      for s in (si, sj))
            area = self.places.locate([si.lat], [si.lon], kinds=None)[0]
            cargo = si.cargo if si.purpose == "sts" else None
            ev = self._add("encounter", si.vessel, a, b, (si.lat + sj.lat) / 2, (si.lon + sj.lon) / 2,
                           place=area, other=self._mmsi_at(sj.vessel, a), visible=vis, cargo=cargo,
                           details={"purpose": "sts" if si.purpose == "sts" else "incidental",
                                    "hours": round((b - a) / 3600, 2), "voyage": si.voyage})
            if si.purpose == "sts":
                self.stop_event[id(si)] = ev
                self.stop_event[id(sj)] = ev

    # --- AIS gaps, draught, identity, spoofing --------------------------------------------------------------
    def gaps(self) -> None:
        lim = self.defs.ais_gap.min_gap_h * 3600.0
        for vi, rec in enumerate(self.rec):
            for m in np.unique(rec.mmsi):
                sel = rec.mmsi == m
                t, la, lo = rec.t[sel], rec.lat[sel], rec.lon[sel]
                for k in np.nonzero(np.diff(t) > lim)[0]:
                    off = any(a < t[k + 1] and b > t[k] for a, b in self.v[vi].off)
                    self._add("ais_gap", vi, t[k], t[k + 1], la[k], lo[k], visible=True,
                              details={"hours": round((t[k + 1] - t[k]) / 3600, 2), "transponder_off": off,
                                       "end_lat": round(float(la[k + 1]), 5), "end_lon": round(float(lo[k + 1]), 5)})

    def draughts(self, emitted: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """emitted[vi] = (times, draughts) of the vessel's transmitted static reports."""
        lim = self.defs.draught_change.min_change_m
        for vi, (t, d) in enumerate(emitted):
            rec = self.rec[vi]
            for k in np.nonzero(np.abs(np.diff(d)) >= lim - 1e-9)[0]:
                a, b = t[k], t[k + 1]
                i_before = int(np.searchsorted(rec.st_t, a, side="right")) - 1
                i_after = int(np.searchsorted(rec.st_t, b))
                vis = False
                if i_before >= 0 and i_after < len(rec.st_t):
                    vis = abs(rec.st_draught[i_after] - rec.st_draught[i_before]) >= lim - 1e-9
                v = self.v[vi]
                s = sample(v.track, v.stops, np.array([b]))
                self._add("draught_change", vi, a, b, s.lat[0], s.lon[0], visible=vis,
                          details={"from_m": float(d[k]), "to_m": float(d[k + 1])})

    def identities(self) -> None:
        for vi, v in enumerate(self.v):
            rec = self.rec[vi]
            for k in range(1, len(v.identities)):
                old, new = v.identities[k - 1], v.identities[k]
                changed = [f for f in ("mmsi", "name", "imo", "callsign", "flag") if old[f] != new[f]]
                t = new["from_ts"]
                seen_old = np.any((rec.st_identity == k - 1) & (rec.st_t < t))
                seen_new = np.any((rec.st_identity == k) & (rec.st_t >= t))
                s = sample(v.track, v.stops, np.array([t]))
                ev = self._add("identity_change", vi, t, t, s.lat[0], s.lon[0], visible=bool(seen_old and seen_new),
                               details={"changed": changed,
                                        "from": {f: old[f] for f in ("mmsi", "name", "imo", "callsign", "flag")},
                                        "to": {f: new[f] for f in ("mmsi", "name", "imo", "callsign", "flag")}})
                ev["mmsi"] = int(old["mmsi"])

    def spoofing(self) -> None:
        lim = self.defs.spoofing.track_jump_kn
        for vi, v in enumerate(self.v):
            rec = self.rec[vi]
            for (a, b, fla, flo) in v.spoof:
                vis = False
                for edge in (a, b):
                    k = int(np.searchsorted(rec.t, edge))
                    if 0 < k < len(rec.t) and rec.spoofed[k - 1] != rec.spoofed[k]:
                        d = haversine_km(rec.lat[k - 1], rec.lon[k - 1], rec.lat[k], rec.lon[k])
                        h = max(rec.t[k] - rec.t[k - 1], 1.0) / 3600
                        vis |= bool(d / h / KM_PER_NM > lim)
                s = sample(v.track, v.stops, np.array([a]))
                self._add("spoofing", vi, a, b, fla, flo, visible=vis,
                          details={"true_lat": round(float(s.lat[0]), 5), "true_lon": round(float(s.lon[0]), 5),
                                   "offset_km": round(float(haversine_km(s.lat[0], s.lon[0], fla, flo)), 2)})

    def false_tracks(self) -> None:
        """Planted false tracks: one spoofing event each, visible when the detector's definitions can see it: at
        least spliced_min_points of its reports over at least spliced_min_minutes received without a silence of
        silence_h among them; a circle (entered where the ship is, so without a jump) needs pattern_min_points
        reports within one pattern_window_h window (aligned on the epoch, as the detector's)."""
        d = self.defs.spoofing
        for vi, v in enumerate(self.v):
            rec = self.rec[vi]
            for ft in v.false_tracks:
                a, b = ft["a"], min(ft["b"], self.t1)
                got = rec.t[(rec.t >= a) & (rec.t < b) & rec.spoofed]
                vis = False
                for run in np.split(got, np.nonzero(np.diff(got) >= d.silence_h * 3600)[0] + 1):
                    vis |= len(run) >= d.spliced_min_points and (run[-1] - run[0]) / 60 >= d.spliced_min_minutes
                if ft["kind"] == "circle":
                    win = np.floor(got / (d.pattern_window_h * 3600))
                    vis = bool(len(got)) and int(np.unique(win, return_counts=True)[1].max()) >= d.pattern_min_points
                s = sample(v.track, v.stops, np.array([a]))
                self._add("spoofing", vi, a, b, ft["lat"], ft["lon"], visible=vis,
                          details={"kind": ft["label"], "true_lat": round(float(s.lat[0]), 5),
                                   "true_lon": round(float(s.lon[0]), 5), "received": int(len(got))})

    def shared_mmsis(self) -> None:
        """A ship broadcasting another's MMSI at the same time (params shares_mmsi_of): one spoofing event on the
        MMSI over the time both are heard, visible when each ship was received two_places_min_points times then."""
        need = self.defs.spoofing.two_places_min_points
        for vi, v in enumerate(self.v):
            other = v.params.get("shares_mmsi_of")
            if other is None:
                continue
            a, b = self.rec[vi], self.rec[other]
            if not len(a.t) or not len(b.t):
                continue
            t0, t1 = max(a.t[0], b.t[0], self.t0), min(a.t[-1], b.t[-1], self.t1)
            if t1 <= t0:
                continue
            vis = all(int(((r.t >= t0) & (r.t <= t1)).sum()) >= need for r in (a, b))
            self._add("spoofing", vi, t0, t1, float(np.median(a.lat)), float(np.median(a.lon)), visible=vis,
                      details={"kind": "shared_mmsi", "other_lat": round(float(np.median(b.lat)), 4),
                               "other_lon": round(float(np.median(b.lon)), 4)})

    def finish(self) -> list[dict]:
        self.events.sort(key=lambda e: (e["_t"], e["mmsi"], e["type"], e["end"]))
        counters: dict[str, int] = {}
        for e in self.events:
            n = counters[e["type"]] = counters.get(e["type"], 0) + 1
            e["id"] = f"{e['type']}-{n:05d}"
        return self.events
