"""The report's figures as plain data for the templates' SVG macros: a map of the cases' tracks and places, and
one timeline per case. Coordinates are computed here; the templates only draw (and escape) them."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import numpy as np
import polars as pl

from shadowfleet.report.headline import fmt_time

EVENT_COLOURS = {
    "port_call": "#1f6feb", "ais_gap": "#8b949e", "encounter": "#b3261e", "loitering": "#d29922",
    "draught_change": "#2da44e", "identity_change": "#8250df", "spoofing": "#cf222e",
}
_PALETTE = ["#1f6feb", "#b3261e", "#2da44e", "#8250df", "#d29922", "#0a7e8c", "#bf3989", "#57606a"]
# ours: the map draws half a day of track either side of a case, enough to show the approach and the departure
TRACK_PAD = dt.timedelta(hours=12)


def land_path(lon0, lon1, lat0, lat1, proj) -> str:
    """SVG path data of the land from Natural Earth 1:50m (shipped, north-east Asia only; see data/make_land.py),
    clipped to the map; empty when the file is unavailable (the map still draws, without land)."""
    from shapely.geometry import Polygon, box

    try:
        doc = json.loads(resources.files("shadowfleet.report").joinpath("data", "land_nea.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    clip = box(lon0, lat0, lon1, lat1)
    paths = []
    for ring in doc["rings"]:
        g = Polygon(ring)
        if not g.intersects(clip):
            continue
        g = g.intersection(clip)
        for q in getattr(g, "geoms", [g]):
            if not isinstance(q, Polygon) or q.is_empty:
                continue
            xy = np.asarray(q.exterior.coords)
            x, y = proj(xy[:, 0], xy[:, 1])
            paths.append("M" + " L".join(f"{a:.1f} {b:.1f}" for a, b in zip(x, y)) + " Z")
    return " ".join(paths)


def map_figure(tracks: pl.DataFrame, pts: pl.DataFrame, width: int = 860) -> dict | None:
    """Equirectangular map (x scaled by cos of the mid latitude) of the cases' tracks and their places; None when
    there is nothing to draw."""
    lat = pl.concat([tracks["lat"], pts["lat"]]).drop_nulls()
    lon = pl.concat([tracks["lon"], pts["lon"]]).drop_nulls()
    if lat.len() == 0:
        return None
    pad = 0.3
    lat0, lat1 = float(lat.min()) - pad, float(lat.max()) + pad
    lon0, lon1 = float(lon.min()) - pad, float(lon.max()) + pad
    k = np.cos(np.radians((lat0 + lat1) / 2))
    sx = width / ((lon1 - lon0) * k)
    height = int((lat1 - lat0) * sx) + 1

    def proj(x, y):
        return (x - lon0) * k * sx, (lat1 - y) * sx

    lines = []
    for i, ((case_id,), g) in enumerate(tracks.group_by("case_id", maintain_order=True)):
        xy = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(*proj(g["lon"].to_numpy(), g["lat"].to_numpy())))
        lines.append({"colour": _PALETTE[i % len(_PALETTE)], "points": xy, "title": str(case_id)})
    points = []
    for r in pts.iter_rows(named=True):
        if r["lat"] is None or r["lon"] is None:
            continue
        x, y = proj(r["lon"], r["lat"])
        points.append({"x": f"{x:.1f}", "y": f"{y:.1f}", "tx": f"{x + 6:.1f}", "ty": f"{y - 4:.1f}", "label": r["label"],
                       "colour": "#b3261e" if r["role"] == "discharge" else "#1d2430"})
    return {"width": width, "height": height, "land": land_path(lon0, lon1, lat0, lat1, proj), "tracks": lines,
            "points": points,
            "caption": f"{lat0:.1f}–{lat1:.1f}°N, {lon0:.1f}–{lon1:.1f}°E; land: Natural Earth 1:50m"}


def timeline_figure(case: dict, events: pl.DataFrame, width: int = 860) -> dict:
    """One row per evidence event type, bars from start to end, between load start and discharge end."""
    t0 = case["load_start"]
    t1 = case["discharge_end"] or case["discharge_start"] or case["load_end"]
    if events.height:
        t0 = min(t0, events["start"].min())
        t1 = max(t1, events["end"].max())
    span = max((t1 - t0).total_seconds(), 3600.0)
    types = list(dict.fromkeys(events["type"].to_list())) if events.height else []
    row_h, left = 18, 120

    def x(t):
        return left + (t - t0).total_seconds() / span * (width - left - 10)

    rows = []
    for i, ty in enumerate(types):
        bars = []
        for r in events.filter(pl.col("type") == ty).iter_rows(named=True):
            x0, x1 = x(r["start"]), x(r["end"] or r["start"])
            bars.append({"x": f"{x0:.1f}", "width": f"{max(x1 - x0, 2):.1f}",
                         "title": f"{r['event_id']}: {fmt_time(r['start'])} → {fmt_time(r['end'])}"})
        rows.append({"type": ty, "y": 4 + i * row_h, "colour": EVENT_COLOURS.get(ty, "#57606a"), "bars": bars})
    return {"width": width, "height": row_h * (len(types) + 1) + 24, "left": left, "bar_height": row_h - 6,
            "rows": rows, "axis_y": 4 + len(types) * row_h + 12, "start": fmt_time(t0), "end": fmt_time(t1)}


def case_tracks(store, cases: pl.DataFrame, max_points: int = 400) -> pl.DataFrame:
    """case_id, lat, lon: each case's positions from TRACK_PAD before its load to TRACK_PAD after its discharge,
    thinned to at most ``max_points`` per case (every k-th position) so the file stays small."""
    schema = {"case_id": pl.Utf8, "lat": pl.Float64, "lon": pl.Float64}
    if cases.height == 0 or not store.files("positions"):
        return pl.DataFrame(schema=schema)
    start = cases["load_start"].min() - TRACK_PAD
    end = cases["discharge_end"].fill_null(cases["discharge_start"]).max() + TRACK_PAD
    pos = store.scan("positions", start, end).filter(pl.col("mmsi").is_in(cases["mmsi"].unique().to_list())).select(
        "mmsi", "ts", "lat", "lon").collect()
    win = cases.select("case_id", "mmsi", "load_start", pl.col("discharge_end").fill_null(pl.col("discharge_start")).alias("_e"))
    tr = (
        pos.join(win, on="mmsi")
        .filter((pl.col("ts") >= pl.col("load_start") - TRACK_PAD) & (pl.col("ts") <= pl.col("_e") + TRACK_PAD))
        .filter(pl.col("lat").is_between(-90, 90) & pl.col("lon").is_between(-180, 180))
        .sort(["case_id", "ts"])
    )
    tr = tr.with_columns(pl.int_range(pl.len()).over("case_id").alias("_i"), pl.len().over("case_id").alias("_n"))
    step = (pl.col("_n") // max_points + 1)
    return tr.filter(pl.col("_i") % step == 0).select(list(schema))
