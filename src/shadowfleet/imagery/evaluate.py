"""Detections scored against truth by xView3's rule: one-to-one (Hungarian) matching of detections and true
vessels within 200 m; precision, recall, F1, close-to-shore F1 apart, length error, by length and wind class.

Truth is either the simulator's imagery.json (every ship in each rendered scene) or a labels CSV of real scenes
(columns lon, lat, manual_label = vessel | ambiguous | not_vessel, approx_len_m, duplicate_of, file): a detection
on an `ambiguous` label counts neither way, one on a `not_vessel` label is a false detection with that reason.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

from shadowfleet.errors import ShadowfleetError
from shadowfleet.imagery.config import EvaluateConfig, ImageryConfig, load_config
from shadowfleet.places import haversine_km

MAX_TRUTH_BYTES = 256 * 1024 * 1024
# ours: two detections this close in overlapping scenes of one pass are one object seen twice (a hull cut by a
# tile edge is measured shorter and its centroid shifts by up to half its length)
SAME_PASS_M = 150.0


def match(det_lat, det_lon, tru_lat, tru_lon, max_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xView3 matching: the one-to-one assignment of detections to truths minimising the total distance among
    pairs closer than ``max_m``. Returns (detection index, truth index, metres) of the matched pairs."""
    nd, nt = len(det_lat), len(tru_lat)
    if nd == 0 or nt == 0:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    d = haversine_km(np.asarray(det_lat)[:, None], np.asarray(det_lon)[:, None],
                     np.asarray(tru_lat)[None, :], np.asarray(tru_lon)[None, :]) * 1000.0
    big = max_m * 1e3 + 1.0
    cost = np.where(d <= max_m, d, big)
    r, c = linear_sum_assignment(cost)
    ok = d[r, c] <= max_m
    return r[ok], c[ok], d[r[ok], c[ok]]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp + self.fp + self.fn else None

    def as_dict(self) -> dict:
        r = lambda v: None if v is None else round(v, 4)  # noqa: E731
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": r(self.precision),
                "recall": r(self.recall), "f1": r(self.f1)}


@dataclass
class ImageryScore:
    overall: Counts = field(default_factory=Counts)
    close_to_shore: Counts = field(default_factory=Counts)
    open_water: Counts = field(default_factory=Counts)
    by_length: dict[str, Counts] = field(default_factory=dict)
    by_wind: dict[str, Counts] = field(default_factory=dict)
    length_error_m: float | None = None  # mean absolute error of matched lengths
    length_error_rel: float | None = None  # median |error| / true length
    misses: list[dict] = field(default_factory=list)
    false_detections: list[dict] = field(default_factory=list)
    scenes: int = 0
    # (zone, length class, wind class) -> counts, zone "close to shore" or "open water": any cross-section
    cells: dict[tuple[str, str, str], Counts] = field(default_factory=dict)

    def subset(self, zone: str | None = None, lengths: tuple[str, ...] | None = None,
               winds: tuple[str, ...] | None = None) -> Counts:
        """The counts of the cells in a zone / among length classes / among wind classes (None: all)."""
        out = Counts()
        for (z, ln, w), c in self.cells.items():
            if (zone is None or z == zone) and (lengths is None or ln in lengths) and (winds is None or w in winds):
                out.tp, out.fp, out.fn = out.tp + c.tp, out.fp + c.fp, out.fn + c.fn
        return out

    def as_dict(self) -> dict:
        return {"scenes": self.scenes, "overall": self.overall.as_dict(),
                "close_to_shore": self.close_to_shore.as_dict(), "open_water": self.open_water.as_dict(),
                "by_length": {k: v.as_dict() for k, v in self.by_length.items()},
                "by_wind": {k: v.as_dict() for k, v in self.by_wind.items()},
                "length_error_m": self.length_error_m, "length_error_rel": self.length_error_rel,
                "cells": [{"zone": z, "length": ln, "wind": w, **c.as_dict()} for (z, ln, w), c in sorted(self.cells.items())],
                "misses": self.misses, "false_detections": self.false_detections}


def _class(value: float | None, edges: tuple[float, ...], unit: str) -> str:
    if value is None or not np.isfinite(value):
        return "unknown"
    lo = 0.0
    for e in edges:
        if value < e:
            return f"{lo:g}-{e:g} {unit}"
        lo = e
    return f">={lo:g} {unit}"


def truth_text(p: Path, what: str = "a truth file") -> str:
    """The text of a truth file, which must exist and be at most MAX_TRUTH_BYTES."""
    if not p.is_file():
        raise ShadowfleetError(f"truth file not found: {p}")
    if p.stat().st_size > MAX_TRUTH_BYTES:
        raise ShadowfleetError(f"{p}: larger than {MAX_TRUTH_BYTES // 2**20} MB; not {what}")
    return p.read_text(encoding="utf-8", errors="replace")


def load_truth(path: str | Path) -> pl.DataFrame:
    """Truth rows: group (scene id or acquisition time), lat, lon, length (m or null), label (vessel, ambiguous,
    not_vessel), wind (m/s or null), ais_on, mmsi, cloudy (bool)."""
    p = Path(path)
    text = truth_text(p)
    rows = []
    if p.suffix.lower() == ".json":
        try:
            doc = json.loads(text)
            for a in doc["acquisitions"]:
                # where the renderer put each ship (a moving ship is shifted along a radar's track)
                seen_at = (a.get("render") or {}).get("image_positions", {})
                wind = (a.get("render") or {}).get("wind_mps")
                for s in a.get("ships", []):
                    lat, lon = seen_at.get(str(s.get("mmsi")), (s["lat"], s["lon"]))
                    rows.append({"group": str(a["id"]), "lat": float(lat), "lon": float(lon),
                                 "length": float(s["length"]) if s.get("length") is not None else None,
                                 "label": "vessel", "wind": wind, "ais_on": bool(s.get("ais_on")),
                                 "mmsi": s.get("mmsi"), "cloudy": bool(a.get("cloudy", False))})
        except (ValueError, KeyError, TypeError, RecursionError) as exc:  # RecursionError: nested too deep
            raise ShadowfleetError(f"{p}: not a simulator imagery.json ({type(exc).__name__}: {exc})") from None
    else:
        reader = csv.DictReader(text.splitlines())
        need = {"lon", "lat", "manual_label", "datetime_utc"}
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise ShadowfleetError(f"{p}: a labels CSV needs the columns {', '.join(sorted(need))}")
        for i, r in enumerate(reader, 2):
            if (r.get("duplicate_of") or "").strip():
                continue  # the same ship seen in an overlapping tile: scored once
            try:
                lat, lon = float(r["lat"]), float(r["lon"])
                length = float(r["approx_len_m"]) if (r.get("approx_len_m") or "").strip() else None
            except ValueError:
                raise ShadowfleetError(f"{p}: line {i}: lat/lon/approx_len_m not numbers") from None
            label = r["manual_label"].strip()
            if label not in ("vessel", "ambiguous", "not_vessel"):
                raise ShadowfleetError(f"{p}: line {i}: manual_label {label!r} is not vessel/ambiguous/not_vessel")
            rows.append({"group": r["datetime_utc"].strip(), "lat": lat, "lon": lon, "length": length,
                         "label": label, "wind": None, "ais_on": None, "mmsi": None, "cloudy": False,
                         "cand_id": r.get("cand_id")})
    schema = {"group": pl.Utf8, "lat": pl.Float64, "lon": pl.Float64, "length": pl.Float64, "label": pl.Utf8,
              "wind": pl.Float64, "ais_on": pl.Boolean, "mmsi": pl.Int64, "cloudy": pl.Boolean, "cand_id": pl.Utf8}
    return pl.DataFrame(rows, schema=schema)


def _detection_groups(det: pl.DataFrame, scenes: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """The truth group of each detection: its scene id if truth is per scene (simulator), else its acquisition
    time as YYYYMMDDTHHMMSS (label files name the pass, and overlapping tiles of it are one group)."""
    groups = set(truth["group"].unique().to_list())
    by_scene = det["scene_id"].is_in(list(groups)).any()
    if by_scene:
        return det.with_columns(pl.col("scene_id").alias("group"))
    return det.with_columns(pl.col("acquired").dt.strftime("%Y%m%dT%H%M%S").alias("group"))


def _dedupe_overlaps(det: pl.DataFrame, radius_m: float) -> pl.DataFrame:
    """One detection per object when overlapping scenes of one pass both saw it (the higher score kept)."""
    if det.height < 2:
        return det
    det = det.sort("score", descending=True)
    lat, lon, grp = det["lat"].to_numpy(), det["lon"].to_numpy(), det["group"].to_numpy()
    keep = np.ones(det.height, bool)
    for g in np.unique(grp):
        idx = np.flatnonzero(grp == g)
        if idx.size < 2:
            continue
        d = haversine_km(lat[idx, None], lon[idx, None], lat[None, idx], lon[None, idx]) * 1000
        sc = det["scene_id"].to_numpy()[idx]
        for a in range(idx.size):
            if not keep[idx[a]]:
                continue
            dup = (d[a] <= radius_m) & (sc != sc[a]) & (np.arange(idx.size) > a)
            keep[idx[dup]] = False
    return det.filter(pl.Series(keep))


def evaluate(det: pl.DataFrame, scenes: pl.DataFrame, truth: pl.DataFrame,
             config: str | Path | ImageryConfig | None = None) -> ImageryScore:
    """Score detections against truth (see the module doc)."""
    cfg: EvaluateConfig = load_config(config).evaluate
    det = _detection_groups(det, scenes, truth)
    det = _dedupe_overlaps(det, SAME_PASS_M)
    used = set(det["group"].unique().to_list()) | set(scenes["scene_id"].to_list())
    if "acquired" in scenes.columns:
        used |= set(scenes["acquired"].dt.strftime("%Y%m%dT%H%M%S").to_list())
    truth = truth.filter(pl.col("group").is_in(list(used)) & ~pl.col("cloudy"))
    skipped = set(scenes.filter(pl.col("status") != "ok")["scene_id"].to_list())
    truth = truth.filter(~pl.col("group").is_in(list(skipped)))
    if cfg.min_length_m > 0:
        truth = truth.filter(pl.col("length").is_null() | (pl.col("length") >= cfg.min_length_m))
    from shadowfleet.places.coast import is_land

    sc = ImageryScore(scenes=len(set(truth["group"].to_list()) | set(det["group"].to_list())))
    shore_km = _truth_shore_km(truth, scenes)
    truth = truth.with_columns(pl.Series("shore_km", shore_km))
    errs, rels = [], []
    for g in sorted(set(truth["group"].to_list()) | set(det["group"].to_list())):
        d = det.filter(pl.col("group") == g)
        t = truth.filter(pl.col("group") == g)
        di, ti, dist = match(d["lat"].to_numpy(), d["lon"].to_numpy(), t["lat"].to_numpy(), t["lon"].to_numpy(),
                             cfg.match_m)
        label = t["label"].to_numpy()
        matched_t = np.zeros(t.height, bool)
        matched_d = np.zeros(d.height, bool)
        matched_t[ti] = True
        matched_d[di] = True
        for a, b, m in zip(di, ti, dist):
            row_t, row_d = t.row(int(b), named=True), d.row(int(a), named=True)
            if label[b] == "vessel":
                _add(sc, row_t, cfg, tp=1)
                if row_t["length"] is not None and row_d["length_m"] is not None:
                    errs.append(abs(row_d["length_m"] - row_t["length"]))
                    rels.append(abs(row_d["length_m"] - row_t["length"]) / row_t["length"])
            elif label[b] == "not_vessel":
                _add(sc, row_t, cfg, fp=1)
                sc.false_detections.append(_fd(row_d, f"labelled not_vessel ({row_t.get('cand_id') or ''}), "
                                                      f"{m:.0f} m away"))
        for b in np.flatnonzero(~matched_t & (label == "vessel")):
            row_t = t.row(int(b), named=True)
            _add(sc, row_t, cfg, fn=1)
            sc.misses.append(_miss(row_t, d, cfg))
        winds = t["wind"].drop_nulls()
        wind = _class(float(winds[0]) if winds.len() else None, cfg.wind_classes, "m/s")
        for a in np.flatnonzero(~matched_d):
            row_d = d.row(int(a), named=True)
            # a false detection is classed by where it is, its measured length and its scene's wind
            near = row_d["distance_to_shore_km"]
            for c in _counters(sc, near is not None and near < cfg.close_to_shore_km,
                               _class(row_d["length_m"], cfg.length_classes, "m"), wind):
                c.fp += 1
            sc.false_detections.append(_fd(row_d, _fp_reason(row_d, t)))
    sc.length_error_m = round(float(np.mean(errs)), 1) if errs else None
    sc.length_error_rel = round(float(np.median(rels)), 3) if rels else None
    return sc


def _truth_shore_km(truth: pl.DataFrame, scenes: pl.DataFrame) -> np.ndarray:
    from shadowfleet.places.coast import is_land

    if truth.height == 0:
        return np.zeros(0)
    lat, lon = truth["lat"].to_numpy(), truth["lon"].to_numpy()
    # distance to the nearest land sample on rings out to 5 km (enough to tell "within 2 km")
    out = np.full(lat.size, np.inf)
    ang = np.radians(np.arange(0, 360, 10))
    for r_km in np.arange(0.05, 5.01, 0.05):
        la = lat[:, None] + (r_km / 111.195) * np.cos(ang)[None, :]
        lo = lon[:, None] + (r_km / (111.195 * np.cos(np.radians(lat))))[:, None] * np.sin(ang)[None, :]
        hit = is_land(la, lo).any(axis=1) & ~np.isfinite(out)
        out[hit] = r_km
        if np.isfinite(out).all():
            break
    return out


def _counters(sc: ImageryScore, close: bool, length: str, wind: str) -> tuple[Counts, ...]:
    zone = "close to shore" if close else "open water"
    return (sc.overall, sc.close_to_shore if close else sc.open_water, sc.by_length.setdefault(length, Counts()),
            sc.by_wind.setdefault(wind, Counts()), sc.cells.setdefault((zone, length, wind), Counts()))


def _add(sc: ImageryScore, row_t: dict, cfg: EvaluateConfig, tp=0, fp=0, fn=0) -> None:
    shore = row_t.get("shore_km")
    for c in _counters(sc, shore is not None and shore < cfg.close_to_shore_km,
                       _class(row_t["length"], cfg.length_classes, "m"), _class(row_t["wind"], cfg.wind_classes, "m/s")):
        c.tp += tp
        c.fp += fp
        c.fn += fn


def _miss(row_t: dict, d: pl.DataFrame, cfg: EvaluateConfig) -> dict:
    reason = "not detected"
    if d.height:
        dist = haversine_km(row_t["lat"], row_t["lon"], d["lat"].to_numpy(), d["lon"].to_numpy()) * 1000
        j = int(np.argmin(dist))
        if dist[j] <= cfg.match_m:
            reason = f"its nearest detection ({dist[j]:.0f} m) was matched to another vessel"
        elif dist[j] <= 3 * cfg.match_m:
            reason = f"nearest detection {dist[j]:.0f} m away (beyond {cfg.match_m:.0f} m)"
    shore = row_t.get("shore_km")
    if shore is not None and np.isfinite(shore) and shore <= 0.1:
        reason += f"; {shore * 1000:.0f} m from the shore (inside the shore buffer)"
    if row_t["length"] is not None and row_t["length"] < 30:
        reason += f"; small ({row_t['length']:.0f} m)"
    out = {"lat": row_t["lat"], "lon": row_t["lon"], "length": row_t["length"], "group": row_t["group"],
           "reason": reason}
    for k in ("mmsi", "cand_id"):
        if row_t.get(k) is not None:
            out[k] = row_t[k]
    return out


def _fp_reason(row_d: dict, t: pl.DataFrame) -> str:
    shore = row_d["distance_to_shore_km"]
    if t.height:
        dist = haversine_km(row_d["lat"], row_d["lon"], t["lat"].to_numpy(), t["lon"].to_numpy()) * 1000
        j = int(np.argmin(dist))
        if dist[j] <= 600 and t["label"][j] == "vessel":
            return f"a second object {dist[j]:.0f} m from a vessel already matched (wake or a split hull)"
    if shore is not None and shore < 0.3:
        return f"{shore * 1000:.0f} m from the shore (a quay, beach or breaking waves)"
    return "no vessel there in the truth"


def _fd(row_d: dict, reason: str) -> dict:
    return {"detection_id": row_d["detection_id"], "lat": row_d["lat"], "lon": row_d["lon"],
            "length_m": row_d["length_m"], "score": row_d["score"], "reason": reason}
