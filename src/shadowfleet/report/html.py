"""One self-contained HTML report of the cases, the ledger against the cap, the evidence and the methods.

Everything is inline (CSS, SVG map and timelines); the only URLs are plain-text citations. All text from the
data is escaped with ``html.escape``.
"""

from __future__ import annotations

from dataclasses import dataclass

import datetime as dt
import json
from html import escape
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

from shadowfleet.cases.config import DEFAULTS, CasesConfig
from shadowfleet.cases.ledger import cap_ledger, reported_deliveries
from shadowfleet.cases.placeinfo import place_info, ports_holding
from shadowfleet.cases.products import product_table
from shadowfleet.cases.voyages import read_cases
from shadowfleet.definitions import EventsConfig
from shadowfleet.errors import ShadowfleetError
from shadowfleet.output import write_output
from shadowfleet.places import Places, as_places
from shadowfleet.store import conform

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:72em;color:#1d2430;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:2px solid #c9d3e0;padding-bottom:.2em;margin-top:2em}
p.headline{font-size:1.15em;background:#f2f5f9;border-left:5px solid #b3261e;padding:.8em 1em}
table{border-collapse:collapse;margin:.6em 0 1.2em 0;font-size:.92em} th,td{border:1px solid #d5dce6;padding:.25em .55em;vertical-align:top}
th{background:#eef2f7;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
.case{border:1px solid #d5dce6;border-radius:6px;padding:.4em 1em 1em 1em;margin:1em 0}
.small{font-size:.85em;color:#556} .over{color:#b3261e;font-weight:600} code{font-size:.9em}
svg text{font-family:inherit}
"""

_EVENT_COLOURS = {
    "port_call": "#1f6feb", "ais_gap": "#8b949e", "encounter": "#b3261e", "loitering": "#d29922",
    "draught_change": "#2da44e", "identity_change": "#8250df", "spoofing": "#cf222e",
}


def _fmt_bbl(x) -> str:
    return "—" if x is None else f"{x:,.0f}"


def _fmt_t(t) -> str:
    return "—" if t is None else t.strftime("%Y-%m-%d %H:%M")


def _period_bounds(period: str | None):
    if period is None:
        return None, None
    try:
        if len(period) == 7:
            start = dt.datetime.strptime(period, "%Y-%m").replace(tzinfo=dt.timezone.utc)
            end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        elif len(period) == 4:
            start = dt.datetime(int(period), 1, 1, tzinfo=dt.timezone.utc)
            end = dt.datetime(int(period) + 1, 1, 1, tzinfo=dt.timezone.utc)
        else:
            raise ValueError
    except ValueError:
        raise ShadowfleetError(f"--period must be YYYY-MM or YYYY, got {period!r}") from None
    return start, end


def _period_label(period: str | None) -> str:
    if period is None:
        return "the whole store"
    if len(period) == 7:
        return dt.datetime.strptime(period, "%Y-%m").strftime("%B %Y")
    return period


def _in(col: str, start, end) -> pl.Expr:
    return (pl.col(col) >= start) & (pl.col(col) < end)


def _table(headers: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for r in rows:
        cells = "".join(
            f'<td class="n">{escape(str(v))}</td>' if i in numeric else f"<td>{escape(str(v))}</td>" for i, v in enumerate(r)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _place_label(pid, names: dict) -> str:
    if pid is None:
        return "at sea"
    n = names.get(pid)
    return f"{n} ({pid})" if n else str(pid)


# ---- map ---------------------------------------------------------------------------------------------------
def _land_paths(lon0, lon1, lat0, lat1, proj) -> str:
    """Land from Natural Earth 1:50m (shipped, north-east Asia only; see data/make_land.py), clipped to the map."""
    from shapely.geometry import Polygon, box

    try:
        doc = json.loads(resources.files("shadowfleet.report").joinpath("data", "land_nea.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # the map still draws, without land
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
    return f'<path fill="#e6e1d3" stroke="#c9c2ad" stroke-width=".5" d="{" ".join(paths)}"/>' if paths else ""


def _map_svg(tracks: pl.DataFrame, pts: pl.DataFrame, width: int = 860) -> str:
    """Equirectangular map (x scaled by cos of the mid latitude) of the cases' tracks and their places."""
    lat = pl.concat([tracks["lat"], pts["lat"]]).drop_nulls()
    lon = pl.concat([tracks["lon"], pts["lon"]]).drop_nulls()
    if lat.len() == 0:
        return '<p class="small">No positions or places to draw.</p>'
    pad = 0.3
    lat0, lat1 = float(lat.min()) - pad, float(lat.max()) + pad
    lon0, lon1 = float(lon.min()) - pad, float(lon.max()) + pad
    k = np.cos(np.radians((lat0 + lat1) / 2))
    sx = width / ((lon1 - lon0) * k)
    height = int((lat1 - lat0) * sx) + 1

    def proj(x, y):
        return (x - lon0) * k * sx, (lat1 - y) * sx

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" aria-label="map of the cases"><rect width="100%" height="100%" fill="#f4f8fb"/>',
             _land_paths(lon0, lon1, lat0, lat1, proj)]
    palette = ["#1f6feb", "#b3261e", "#2da44e", "#8250df", "#d29922", "#0a7e8c", "#bf3989", "#57606a"]
    for i, ((case_id,), g) in enumerate(tracks.group_by("case_id", maintain_order=True)):
        xy = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(*proj(g["lon"].to_numpy(), g["lat"].to_numpy())))
        parts.append(f'<polyline fill="none" stroke="{palette[i % len(palette)]}" stroke-width="1.4" stroke-opacity=".8" '
                     f'points="{xy}"><title>{escape(str(case_id))}</title></polyline>')
    for r in pts.iter_rows(named=True):
        if r["lat"] is None or r["lon"] is None:
            continue
        x, y = proj(r["lon"], r["lat"])
        colour = "#b3261e" if r["role"] == "discharge" else "#1d2430"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
                     f'<text x="{x + 6:.1f}" y="{y - 4:.1f}" font-size="11">{escape(r["label"])}</text>')
    parts.append(f'<text x="6" y="{height - 6}" font-size="10" fill="#556">{lat0:.1f}–{lat1:.1f}°N, '
                 f'{lon0:.1f}–{lon1:.1f}°E; land: Natural Earth 1:50m</text></svg>')
    return "".join(parts)


def _timeline_svg(case: dict, events: pl.DataFrame, width: int = 860) -> str:
    """One row per evidence event type, bars from start to end, between load start and discharge end."""
    t0 = case["load_start"]
    t1 = case["discharge_end"] or case["discharge_start"] or case["load_end"]
    if events.height:
        t0 = min(t0, events["start"].min())
        t1 = max(t1, events["end"].max())
    span = max((t1 - t0).total_seconds(), 3600.0)
    types = list(dict.fromkeys(events["type"].to_list())) if events.height else []
    row_h, left = 18, 120
    height = row_h * (len(types) + 1) + 24

    def x(t):
        return left + (t - t0).total_seconds() / span * (width - left - 10)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" aria-label="timeline">']
    for i, ty in enumerate(types):
        y = 4 + i * row_h
        parts.append(f'<text x="2" y="{y + 12}" font-size="11">{escape(ty)}</text>')
        for r in events.filter(pl.col("type") == ty).iter_rows(named=True):
            x0, x1 = x(r["start"]), x(r["end"] or r["start"])
            parts.append(f'<rect x="{x0:.1f}" y="{y + 2}" width="{max(x1 - x0, 2):.1f}" height="{row_h - 6}" '
                         f'fill="{_EVENT_COLOURS.get(ty, "#57606a")}"><title>{escape(r["event_id"])}: '
                         f'{escape(_fmt_t(r["start"]))} → {escape(_fmt_t(r["end"]))}</title></rect>')
    y = 4 + len(types) * row_h + 12
    parts.append(f'<text x="{left}" y="{y}" font-size="10" fill="#556">{escape(_fmt_t(t0))} UTC</text>'
                 f'<text x="{width - 10}" y="{y}" font-size="10" fill="#556" text-anchor="end">{escape(_fmt_t(t1))} UTC</text></svg>')
    return "".join(parts)


# ---- the report ----------------------------------------------------------------------------------------------
def _voyages_table(store) -> pl.DataFrame:
    """All loads (with or without a discharge) when `cases` wrote them, else the cases alone."""
    if store.files("voyages"):
        return store.read("voyages")
    return read_cases(store)


# ours: the map draws half a day of track either side of a case, enough to show the approach and the departure
_TRACK_PAD = dt.timedelta(hours=12)


def _tracks(store, cases: pl.DataFrame, max_points: int = 400) -> pl.DataFrame:
    schema = {"case_id": pl.Utf8, "lat": pl.Float64, "lon": pl.Float64}
    if cases.height == 0 or not store.files("positions"):
        return pl.DataFrame(schema=schema)
    start = cases["load_start"].min() - _TRACK_PAD
    end = cases["discharge_end"].fill_null(cases["discharge_start"]).max() + _TRACK_PAD
    pos = store.scan("positions", start, end).filter(pl.col("mmsi").is_in(cases["mmsi"].unique().to_list())).select(
        "mmsi", "ts", "lat", "lon").collect()
    win = cases.select("case_id", "mmsi", "load_start", pl.col("discharge_end").fill_null(pl.col("discharge_start")).alias("_e"))
    tr = (
        pos.join(win, on="mmsi")
        .filter((pl.col("ts") >= pl.col("load_start") - _TRACK_PAD) & (pl.col("ts") <= pl.col("_e") + _TRACK_PAD))
        .filter(pl.col("lat").is_between(-90, 90) & pl.col("lon").is_between(-180, 180))
        .sort(["case_id", "ts"])
    )
    # Keep at most max_points per case (every k-th position) so the file stays small.
    tr = tr.with_columns(pl.int_range(pl.len()).over("case_id").alias("_i"), pl.len().over("case_id").alias("_n"))
    step = (pl.col("_n") // max_points + 1)
    return tr.filter(pl.col("_i") % step == 0).select(list(schema))


@dataclass(frozen=True)
class Summary:
    """What the report's headline says, and the tables the rest of the report is built from."""

    headline: str
    label: str
    dest: str
    year: int
    cases: pl.DataFrame
    voy: pl.DataFrame
    delivered: pl.DataFrame
    ledger: pl.DataFrame
    rep: pl.DataFrame
    info: pl.DataFrame
    names: dict


def headline(store, period: str | None = None, places: Places | None = None, cfg: CasesConfig = DEFAULTS, reported=None) -> str:
    """The report's headline sentence (also printed by `shadowfleet demo`)."""
    return summarise(store, period, places, cfg, reported).headline


def summarise(store, period: str | None = None, places: Places | None = None, cfg: CasesConfig = DEFAULTS,
              reported=None) -> Summary:
    start, end = _period_bounds(period)
    cases = read_cases(store)
    voy = conform(_voyages_table(store), "voyages")
    if start is not None:
        voy = voy.filter(_in("load_start", start, end) | _in("discharge_start", start, end).fill_null(False))
        cases = cases.filter(_in("load_start", start, end) | _in("discharge_start", start, end).fill_null(False))
    dest = cfg.destination_country
    delivered = cases.filter(pl.col("destination_country") == dest)
    if start is not None:
        delivered = delivered.filter(_in("discharge_start", start, end))
    places = as_places(places)
    info = place_info(places)
    names = dict(zip(info["id"].to_list(), info["name"].to_list()))
    label = _period_label(period)

    # Headline
    rep = reported_deliveries(reported)
    if delivered.height:
        year = int(delivered["discharge_start"].dt.year().max())
    elif start is not None:
        year = start.year
    elif voy.height:
        year = int(voy["load_start"].dt.year().max())
    else:
        year = dt.datetime.now(dt.timezone.utc).year
    ledger = cap_ledger(store, year, dest, rep, cfg, cases=read_cases(store))
    if start is not None:
        # reports wholly inside the period, and those of longer periods that overlap it (said apart)
        in_period = rep.filter((pl.col("period_start") >= start.date()) & (pl.col("period_end") < end.date()))
        around = rep.filter((pl.col("period_start") < end.date()) & (pl.col("period_end") >= start.date())
                            & ~((pl.col("period_start") >= start.date()) & (pl.col("period_end") < end.date())))
    else:
        in_period = rep.filter(pl.col("period_start").dt.year() == year)
        around = rep.clear()
    low, central, high = (float(delivered[f"barrels_{e}"].sum() or 0.0) for e in ("low", "central", "high"))
    pct = central / cfg.annual_cap_bbl * 100.0
    sentences = []
    if voy.height:
        # a load hidden in a gap counts for the first terminal it lists (nearest first for loitering), so that
        # one seen call at a neighbouring terminal does not outweigh several dark loads at the main one
        site = pl.coalesce("load_site", "load_place",
                           pl.col("load_reachable").str.split(", ").list.first().replace("", None))
        sited = voy.filter(site.is_not_null())
        if sited.filter(pl.col("flag") == dest).height:
            sited = sited.filter(pl.col("flag") == dest)  # the story is the destination's own tankers
        if sited.filter(pl.coalesce("load_site", "load_place").is_not_null()).height:
            top = sited.group_by(site.alias("site")).agg(pl.len().alias("loads")).sort(
                ["loads", "site"], descending=[True, False])["site"][0]
            at_top = voy.filter(pl.coalesce("load_site", "load_place") == top)
            hidden = voy.filter(pl.col("load_site").is_null() & pl.col("load_place").is_null()
                                & pl.col("load_reachable").fill_null("").str.contains(top, literal=True))
            both = pl.concat([at_top.select("mmsi", "flag"), hidden.select("mmsi", "flag")])
            n_dest = both.filter(pl.col("flag") == dest)["mmsi"].n_unique()
            notes = []
            if at_top["load_port_level"].fill_null(False).any():
                notes.append("dark calls at the port that holds it")
            if hidden.height:
                notes.append(f"{hidden.height} load(s) hidden in AIS gaps or offshore loitering near it")
            others = both.filter(pl.col("flag").fill_null("") != dest)["mmsi"].n_unique()
            if n_dest:
                sentences.append(f"{n_dest} {dest}-flagged tanker(s) loaded at {_place_label(top, names)} in {label}"
                                 + (f" (counting {' and '.join(notes)})" if notes else "")
                                 + (f", and {others} vessel(s) under other flags" if others else ""))
            else:  # supply by STS: foreign tankers load, DPRK tankers only receive at sea
                sentences.append(f"{others} vessel(s) under other flags than {dest} loaded at {_place_label(top, names)} "
                                 f"in {label}" + (f" (counting {' and '.join(notes)})" if notes else ""))
        else:
            sentences.append(f"{voy['mmsi'].n_unique()} vessel(s) loaded, unseen, during AIS gaps near supplier terminals in {label}")
        ports = delivered.filter(pl.col("discharge_kind") == "port_call")
        if ports.height:
            # a berth counts with the port that holds it (KPCHO-OIL with KPCHO)
            held = ports_holding(ports["discharge_place"].unique().to_list(), places)
            held = held.filter(pl.col("port") != pl.col("berth")).unique("berth")
            ports = ports.join(held, left_on="discharge_place", right_on="berth", how="left").with_columns(
                pl.coalesce("port", "discharge_place").alias("discharge_place"))
            per = ports.group_by("discharge_place").agg(pl.col("mmsi").n_unique().alias("n")).sort(
                ["n", "discharge_place"], descending=[True, False])
            sentences.append(", ".join(
                f"{r['n']} {'discharged ' if i == 0 else ''}at {_place_label(r['discharge_place'], names)}"
                for i, r in enumerate(per.iter_rows(named=True))))
        sts = delivered.filter(pl.col("discharge_kind") == "sts")
        if sts.height:
            n_dark = int(sts["discharge_sts_dark"].fill_null(False).sum()) if "discharge_sts_dark" in sts.columns else 0
            sentences.append(f"{sts.height} delivery(ies) by ship-to-ship transfer to {dest}-flagged or listed vessels"
                             + (f" ({n_dark} with AIS off, inferred)" if n_dark else ""))
        drops = delivered.filter(pl.col("discharge_kind") == "draught_drop").height
        if drops:
            sentences.append(f"{drops} by a draught drop at sea")
    else:
        sentences.append(f"No loads at supplier terminals were found in {label}")
    sentences.append(f"estimated {central:,.0f} bbl ({low:,.0f}–{high:,.0f}) delivered to {dest}, "
                     f"{pct:.1f}% of the {cfg.annual_cap_bbl:,.0f} bbl annual cap")
    if in_period.height:
        sentences.append("suppliers reported " + "; ".join(
            f"{r['supplier']} {_fmt_bbl(r['barrels'])} bbl for {r['period']}" for r in in_period.iter_rows(named=True)))
    else:
        sentences.append(f"suppliers reported nothing for {label} to the 1718 Committee")
    if around.height:
        sentences.append("reports covering longer periods: " + "; ".join(
            f"{r['supplier']} {_fmt_bbl(r['barrels'])} bbl for {r['period']}" for r in around.iter_rows(named=True)))
    return Summary("; ".join(sentences) + ".", label, dest, year, cases, voy, delivered, ledger, rep, info, names)


def report_html(store, period: str | None = None, places: Places | None = None, cfg: CasesConfig = DEFAULTS,
                reported=None, definitions: EventsConfig | None = None) -> str:
    """The report as one HTML page; ``definitions`` are the event definitions the events were detected with
    (default: the built-in ones), stated in the Methods section."""
    defs = definitions or EventsConfig()
    enc, pc = defs.encounter, defs.port_call
    sm = summarise(store, period, places, cfg, reported)
    headline, label, dest, year = sm.headline, sm.label, sm.dest, sm.year
    cases, voy, delivered, ledger, rep, info, names = sm.cases, sm.voy, sm.delivered, sm.ledger, sm.rep, sm.info, sm.names

    h = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>shadowfleet report — {escape(label)}</title>"
         f"<style>{_CSS}</style></head><body>",
         f"<h1>Refined petroleum to {escape(dest)}: {escape(label)}</h1>",
         f'<p class="small">Generated {escape(_fmt_t(dt.datetime.now(dt.timezone.utc)))} UTC by shadowfleet from the store '
         f'<code>{escape(str(store.root))}</code>; {voy.height} load(s), {cases.height} case(s).</p>',
         f'<p class="headline">{escape(headline)}</p>']

    # Loads per supplier terminal
    h.append("<h2>Vessels loading at each supplier terminal</h2>")
    rows = []
    site = voy.with_columns(pl.coalesce("load_site", "load_place").alias("_site"))
    for (lp,), g in site.sort("load_start").group_by("_site", maintain_order=True):
        where = _place_label(lp, names) if lp is not None else (
            "not seen: AIS gap or offshore loitering near " + ", ".join(sorted(set(", ".join(g["load_reachable"].drop_nulls()).split(", ")))))
        rows.append([where, g.height, int(g["load_port_level"].fill_null(False).sum()), g["mmsi"].n_unique(), int(g.filter(pl.col("flag") == dest)["mmsi"].n_unique()),
                     int(g["load_inferred"].sum()), int(g["discharge_kind"].is_not_null().sum()),
                     ", ".join(dict.fromkeys(f"{r['name'] or '?'} ({r['mmsi']})" for r in g.iter_rows(named=True)))])
    h.append(_table(["terminal", "loads", "of which placed at the port only (dark)", "vessels", f"{dest}-flagged",
                     "dark (inferred) loads", "with a discharge", "vessels"], rows, {1, 2, 3, 4, 5, 6}) if rows else "<p>None.</p>")

    # Discharges per destination place
    h.append(f"<h2>Discharges in {escape(dest)} and at sea</h2>")
    rows = []
    for (kind, dp), g in delivered.sort("discharge_start").group_by(["discharge_kind", "discharge_place"], maintain_order=True):
        rows.append([_place_label(dp, names), kind, g.height,
                     ", ".join(dict.fromkeys(f"{r['name'] or '?'} ({r['mmsi']})" for r in g.iter_rows(named=True))),
                     _fmt_bbl(g["barrels_central"].sum()), f"{_fmt_bbl(g['barrels_low'].sum())}–{_fmt_bbl(g['barrels_high'].sum())}"])
    h.append(_table(["place", "kind", "discharges", "vessels", "barrels (central)", "barrels (low–high)"], rows, {2, 4, 5})
             if rows else "<p>None.</p>")

    # Ledger
    h.append(f"<h2>Estimated barrels against the cap and reported deliveries, {year}</h2>")
    rows = [[r["month"], r["cases"], _fmt_bbl(r["est_central"]), f"{_fmt_bbl(r['est_low'])}–{_fmt_bbl(r['est_high'])}",
             _fmt_bbl(r["reported"]), _fmt_bbl(r["cum_central"]), _fmt_bbl(r["cum_reported"]), f"{r['pct_cap_central']:.1f}%"]
            for r in ledger.iter_rows(named=True)]
    h.append(_table(["month", "cases", "estimated (central)", "estimated (low–high)", "reported", "cumulative estimate",
                     "cumulative reported", "% of cap"], rows, {1, 2, 3, 4, 5, 6, 7}))
    cross = []
    for e in ("low", "central", "high"):
        hit = ledger.filter(pl.col(f"crossed_{e}").is_not_null())
        cross.append(f"{e}: " + (_fmt_t(hit[f'crossed_{e}'][0]) + " UTC" if hit.height else "not crossed"))
    h.append(f"<p>Cap of {cfg.annual_cap_bbl:,.0f} bbl (UNSCR 2397 OP5) reached by the cumulative estimate — "
             f"{escape('; '.join(cross))}.</p>")
    yr = rep.filter(pl.col("period_start").dt.year() == year)
    h.append("<p>Supplier reports to the 1718 Committee for the year (periods longer than a month are not placed in a month):</p>")
    h.append(_table(["supplier", "period", "barrels", "note", "source"],
                    [[r["supplier"], r["period"], _fmt_bbl(r["barrels"]), r["note"] or "", r["source"] or ""]
                     for r in yr.iter_rows(named=True)], {2}) if yr.height else "<p>None reported.</p>")

    # Map
    h.append("<h2>Map of the cases</h2>")
    ids = set(cases["load_place"].drop_nulls().to_list()) | set(cases["discharge_place"].drop_nulls().to_list())
    pts = info.filter(pl.col("id").is_in(list(ids))).select(
        "lat", "lon", pl.format("{} ({})", pl.col("name"), pl.col("id")).alias("label"),
        pl.when(pl.col("id").is_in(cases["discharge_place"].drop_nulls().to_list())).then(pl.lit("discharge")).otherwise(pl.lit("load")).alias("role"))
    h.append(_map_svg(_tracks(store, cases), pts))

    # Cases
    h.append("<h2>Cases, with evidence and timeline</h2>")
    events = store.read("events") if store.files("events") else None
    for c in cases.sort("load_start").iter_rows(named=True):
        h.append(f'<div class="case" id="{escape(c["case_id"])}"><h3>{escape(c["name"] or "unnamed")} — MMSI {c["mmsi"]}'
                 f'{" — IMO " + str(c["imo"]) if c["imo"] else ""} — flag {escape(str(c["flag"] or "?"))}</h3>')
        hits = json.loads(c["list_hits"] or "[]")
        h.append(_table(["", ""], [
            ["case", c["case_id"]],
            ["load", (_place_label(c["load_place"], names) if c["load_place"] else
                      f"not seen (AIS gap or offshore loitering near {c.get('load_reachable') or '?'})")
                     + f", {_fmt_t(c['load_start'])} → {_fmt_t(c['load_end'])} UTC"
                     + (" (inferred: AIS off)" if c["load_inferred"] else " (seen)")],
            ["discharge", f"{c['discharge_kind']} {_place_label(c['discharge_place'], names) if c['discharge_kind'] != 'draught_drop' else 'at sea'}"
                          + (f" with MMSI {c['discharge_other_mmsi']}" if c["discharge_other_mmsi"] else "")
                          + f", {_fmt_t(c['discharge_start'])} → {_fmt_t(c['discharge_end'])} UTC"],
            ["tonnes", f"{_fmt_bbl(c['tonnes_central'])} ({_fmt_bbl(c['tonnes_low'])}–{_fmt_bbl(c['tonnes_high'])}) by {c['tonnes_method']}"],
            ["barrels", f"{_fmt_bbl(c['barrels_central'])} ({_fmt_bbl(c['barrels_low'])}–{_fmt_bbl(c['barrels_high'])}), product {c['product']}"],
            ["confidence", f"{c['confidence']:.2f}: " + "; ".join(json.loads(c["reasons"] or "[]"))],
            ["list hits", "; ".join(f"{x.get('list_id')}: {x.get('entry_name')} (on {x.get('match_on')}, score {x.get('score')})" for x in hits) or "none"],
        ]))
        ev_ids = json.loads(c["evidence"] or "[]")
        ce = events.filter(pl.col("event_id").is_in(ev_ids)).sort("start") if events is not None else pl.DataFrame()
        if ce.height:
            h.append(_timeline_svg(c, ce))
            h.append(_table(["event", "type", "start (UTC)", "end (UTC)", "place", "other MMSI", "inferred"],
                            [[r["event_id"], r["type"], _fmt_t(r["start"]), _fmt_t(r["end"]), r["place"] or "",
                              r["other_mmsi"] or "", "yes" if r["inferred"] else ""] for r in ce.iter_rows(named=True)]))
        h.append("</div>")
    if cases.height == 0:
        h.append("<p>No cases.</p>")

    # Methods and caveats
    prod = product_table()
    h.append("<h2>Methods and caveats</h2>")
    h.append(
        "<p><b>Definitions.</b> A <i>port call</i> is a stay inside a port, berth, anchorage or terminal polygon at "
        f"≤ {pc.max_sog_kn:g} kn for ≥ {pc.min_duration_h:g} h. A <i>load</i> is a port call at an oil berth or terminal "
        f"in a supplier country ({escape(', '.join(cfg.supplier_countries))}), seen in AIS or inferred when the "
        f"transponder went silent at the berth (an AIS gap ≥ {pc.inferred_min_gap_h:g} h whose ends lie inside or within "
        f"{pc.inferred_max_km:g} km of the same place). The <i>discharge</i> is the first, before the next load and "
        f"within {cfg.max_voyage_days:g} days, of: a port call in {escape(dest)}; an encounter (≤ {enc.max_distance_km:g} "
        f"km, both &lt; {enc.max_sog_kn:g} kn, ≥ {enc.min_duration_h:g} h; Global Fishing Watch's definition by default) "
        f"with a {escape(dest)}-flagged (MMSI MID {cfg.destination_mid}) or "
        f"listed vessel; or a draught drop ≥ {cfg.draught_drop_m:g} m at sea. Barrels are counted in the month the "
        "discharge starts.</p>")
    h.append(
        "<p><b>Cargo model.</b> Where the draught was broadcast, tonnes = draught rise × tonnes per centimetre immersion "
        f"(TPC = L × B × C<sub>wp</sub> × {cfg.sea_water_density} / 100, C<sub>wp</sub> {cfg.waterplane_coeff_low}–"
        f"{cfg.waterplane_coeff_high}; ±{cfg.draught_resolution_m:g} m for the 0.1 m AIS resolution). Otherwise tonnes = "
        f"capacity × load factor {cfg.load_factor_low}–{cfg.load_factor_high} (central {cfg.load_factor_central}); capacity "
        "from the user's vessel table, else list tonnage (or GRT × "
        f"{cfg.grt_to_dwt_low}–{cfg.grt_to_dwt_high}), else the AIS dimensions (dwt ≈ L × B × T × C<sub>b</sub> × ρ × "
        f"dwt/displacement, C<sub>b</sub> {cfg.block_coeff_low}–{cfg.block_coeff_high}). With nothing known of the hull, "
        f"the DPRK fleet prior {cfg.unknown_tonnes_low:,.0f}–{cfg.unknown_tonnes_high:,.0f} t (central "
        f"{cfg.unknown_tonnes_central:,.0f} t). Low and high ends take every low or high factor together, and totals add "
        "the lows and the highs: the range is wide on purpose (errors are treated as fully correlated).</p>")
    h.append("<p><b>Tonnes to barrels</b> (the product is not visible in AIS; a DPRK tanker at a Russian oil berth is "
             "taken to load gas/diesel oil as central, with the unknown-product range as low–high):</p>")
    h.append(_table(["product", "bbl/t low", "central", "high", "source"],
                    [[r["product"], r["bbl_per_t_low"], r["bbl_per_t_central"], r["bbl_per_t_high"], r["source"]]
                     for r in prod.iter_rows(named=True)], {1, 2, 3}))
    h.append(
        "<p><b>Confidence</b> adds weights for: load seen (" f"{cfg.w_load_seen}) or inferred ({cfg.w_load_inferred}); "
        f"discharge by port call ({cfg.w_discharge_port}), ship-to-ship ({cfg.w_discharge_sts}) or draught drop "
        f"({cfg.w_discharge_draught}); {escape(dest)} flag ({cfg.w_flag_dprk}); sanctions-list hit ({cfg.w_listed}); "
        f"draught evidence ({cfg.w_draught_evidence}).</p>")
    h.append(
        "<p><b>What AIS cannot show.</b> Transponders switched off hide whole voyages: a load is inferred only when the "
        "ship was seen arriving and leaving; ships that never transmit are missing (satellite imagery is needed). "
        "Draughts are typed by crews and often not updated; DPRK tankers rarely broadcast them. MMSI flags can be false. "
        "Identity can be laundered (another ship's IMO or name). The product and quantity are estimates, not "
        "measurements. Reported deliveries are as quoted in the press from the 1718 Committee's table; verify against "
        "the primary source before publishing a conclusion.</p>")
    h.append("<p class=\"small\">Sources: UNSCR 2397 (2017) OP5; UNSCR 2375 OP11; 1718 Committee reported-deliveries "
             "table as quoted by Yonhap, Korea Herald, KBS/Reuters, NK News; UN Statistics Division energy conversion "
             "factors; VOA; Global Fishing Watch pipeline definitions.</p>")
    h.append("</body></html>\n")
    return "\n".join(h)


def write_report(store, out: str | Path, period: str | None = None, places: Places | None = None, cfg: CasesConfig = DEFAULTS,
                 reported=None, definitions: EventsConfig | None = None) -> Path:
    """Write the self-contained HTML report of ``store`` (optionally one month ``YYYY-MM`` or year) to ``out``."""
    html_text = report_html(store, period, places, cfg, reported, definitions)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ShadowfleetError(f"cannot write the report to {out}: {exc.strerror}") from None
    write_output(html_text, out)  # atomic over a file, a stream to a device or fifo, a symlink followed
    return out
