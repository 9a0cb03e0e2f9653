"""One self-contained HTML report of the cases, the ledger against the cap, the evidence and the methods.

The page is rendered from Jinja2 templates (report/templates/, autoescaped) with inline CSS and SVG; the only
URLs are plain-text citations. Each section below builds plain data for its part of the template.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

from shadowfleet.cases.config import DEFAULTS, CasesConfig
from shadowfleet.cases.products import product_table
from shadowfleet.definitions import EventsConfig
from shadowfleet.errors import ShadowfleetError
from shadowfleet.output import write_output
from shadowfleet.places import Places
from shadowfleet.cases.imagery import parse_imagery
from shadowfleet.report.chips import case_chip, chip_caption, scene_sources
from shadowfleet.report.figures import case_tracks, map_figure, timeline_figure
from shadowfleet.report.headline import Summary, fmt_bbl, fmt_time, place_label, summarise
from shadowfleet.report.templating import render


def _vessels(g: pl.DataFrame) -> str:
    return ", ".join(dict.fromkeys(f"{r['name'] or '?'} ({r['mmsi']})" for r in g.iter_rows(named=True)))


def _loads_section(sm: Summary) -> list[list]:
    """Vessels loading at each supplier terminal."""
    rows = []
    site = sm.voy.with_columns(pl.coalesce("load_site", "load_place").alias("_site"))
    for (lp,), g in site.sort("load_start").group_by("_site", maintain_order=True):
        where = place_label(lp, sm.names) if lp is not None else (
            "not seen: AIS gap or offshore loitering near "
            + ", ".join(sorted(set(", ".join(g["load_reachable"].drop_nulls()).split(", ")))))
        rows.append([where, g.height, int(g["load_port_level"].fill_null(False).sum()), g["mmsi"].n_unique(),
                     int(g.filter(pl.col("flag") == sm.dest)["mmsi"].n_unique()), int(g["load_inferred"].sum()),
                     int(g["discharge_kind"].is_not_null().sum()), _vessels(g)])
    return rows


def _discharges_section(sm: Summary) -> list[list]:
    """Discharges per destination place and at sea."""
    rows = []
    by_place = sm.delivered.sort("discharge_start").group_by(["discharge_kind", "discharge_place"], maintain_order=True)
    for (kind, dp), g in by_place:
        rows.append([place_label(dp, sm.names), kind, g.height, _vessels(g), fmt_bbl(g["barrels_central"].sum()),
                     f"{fmt_bbl(g['barrels_low'].sum())}–{fmt_bbl(g['barrels_high'].sum())}"])
    return rows


def _ledger_section(sm: Summary, cfg: CasesConfig) -> dict:
    """Estimated barrels against the cap, month by month, and what suppliers reported."""
    rows = [[r["month"], r["cases"], fmt_bbl(r["est_central"]), f"{fmt_bbl(r['est_low'])}–{fmt_bbl(r['est_high'])}",
             fmt_bbl(r["reported"]), fmt_bbl(r["cum_central"]), fmt_bbl(r["cum_reported"]), f"{r['pct_cap_central']:.1f}%"]
            for r in sm.ledger.iter_rows(named=True)]
    cross = []
    for e in ("low", "central", "high"):
        hit = sm.ledger.filter(pl.col(f"crossed_{e}").is_not_null())
        cross.append(f"{e}: " + (fmt_time(hit[f'crossed_{e}'][0]) + " UTC" if hit.height else "not crossed"))
    yr = sm.rep.filter(pl.col("period_start").dt.year() == sm.year)
    reports = [[r["supplier"], r["period"], fmt_bbl(r["barrels"]), r["note"] or "", r["source"] or ""]
               for r in yr.iter_rows(named=True)]
    return {"ledger": rows, "crossings": "; ".join(cross), "reports": reports, "cap_bbl": f"{cfg.annual_cap_bbl:,.0f}"}


def _map_section(sm: Summary, store) -> dict | None:
    """The cases' tracks and their load and discharge places."""
    cases, info = sm.cases, sm.info
    ids = set(cases["load_place"].drop_nulls().to_list()) | set(cases["discharge_place"].drop_nulls().to_list())
    discharge_ids = cases["discharge_place"].drop_nulls().to_list()
    pts = info.filter(pl.col("id").is_in(list(ids))).select(
        "lat", "lon", pl.format("{} ({})", pl.col("name"), pl.col("id")).alias("label"),
        pl.when(pl.col("id").is_in(discharge_ids)).then(pl.lit("discharge")).otherwise(pl.lit("load")).alias("role"))
    return map_figure(case_tracks(store, cases), pts)


def _case_facts(c: dict, names: dict) -> list[list]:
    hits = json.loads(c["list_hits"] or "[]")
    load = (place_label(c["load_place"], names) if c["load_place"] else
            f"not seen (AIS gap or offshore loitering near {c.get('load_reachable') or '?'})")
    where = place_label(c["discharge_place"], names) if c["discharge_kind"] != "draught_drop" else "at sea"
    return [
        ["case", c["case_id"]],
        ["load", load + f", {fmt_time(c['load_start'])} → {fmt_time(c['load_end'])} UTC"
         + (" (inferred: AIS off)" if c["load_inferred"] else " (seen)")],
        ["discharge", f"{c['discharge_kind']} {where}"
         + (f" with MMSI {c['discharge_other_mmsi']}" if c["discharge_other_mmsi"] else "")
         + f", {fmt_time(c['discharge_start'])} → {fmt_time(c['discharge_end'])} UTC"],
        ["tonnes", f"{fmt_bbl(c['tonnes_central'])} ({fmt_bbl(c['tonnes_low'])}–{fmt_bbl(c['tonnes_high'])}) "
                   f"by {c['tonnes_method']}"],
        ["barrels", f"{fmt_bbl(c['barrels_central'])} ({fmt_bbl(c['barrels_low'])}–{fmt_bbl(c['barrels_high'])}), "
                    f"product {c['product']}"],
        ["confidence", f"{c['confidence']:.2f}: " + "; ".join(json.loads(c["reasons"] or "[]"))],
        ["list hits", "; ".join(f"{x.get('list_id')}: {x.get('entry_name')} (on {x.get('match_on')}, score "
                                f"{x.get('score')})" for x in hits) or "none"],
    ]


def _chips(c: dict, store, sources: dict, places: Places | None) -> list[dict]:
    """An image chip (inline PNG) of each satellite detection that corroborates the case, or a note saying why
    there is none."""
    out = []
    for item in parse_imagery(c.get("imagery")):
        chip = case_chip(store, c["mmsi"], item, sources, places)
        out.append({"uri": chip.data_uri(), "note": chip.note, "caption": chip_caption(item)})
    return out


def _cases_section(sm: Summary, store, places: Places | None = None) -> list[dict]:
    """Each case with its facts, image chips, evidence timeline and evidence events."""
    events = store.read("events") if store.files("events") else None
    sources = scene_sources(store)
    out = []
    for c in sm.cases.sort("load_start").iter_rows(named=True):
        ev_ids = json.loads(c["evidence"] or "[]")
        ce = events.filter(pl.col("event_id").is_in(ev_ids)).sort("start") if events is not None else pl.DataFrame()
        out.append({
            "case_id": c["case_id"],
            "title": f"{c['name'] or 'unnamed'} — MMSI {c['mmsi']}" + (f" — IMO {c['imo']}" if c["imo"] else "")
                     + f" — flag {c['flag'] or '?'}",
            "facts": _case_facts(c, sm.names),
            "chips": _chips(c, store, sources, places),
            "timeline": timeline_figure(c, ce) if ce.height else None,
            "events": [[r["event_id"], r["type"], fmt_time(r["start"]), fmt_time(r["end"]), r["place"] or "",
                        r["other_mmsi"] or "", "yes" if r["inferred"] else ""] for r in ce.iter_rows(named=True)]
            if ce.height else [],
        })
    return out


def _methods_section(cfg: CasesConfig, defs: EventsConfig) -> dict:
    """The figures the Methods text states: the event definitions of the run and the cargo model's settings."""
    pc, enc = defs.port_call, defs.encounter
    return {
        "stop_kn": f"{pc.max_sog_kn:g}", "stop_h": f"{pc.min_duration_h:g}", "gap_h": f"{pc.inferred_min_gap_h:g}",
        "gap_km": f"{pc.inferred_max_km:g}", "enc_km": f"{enc.max_distance_km:g}", "enc_kn": f"{enc.max_sog_kn:g}",
        "enc_h": f"{enc.min_duration_h:g}", "suppliers": ", ".join(cfg.supplier_countries),
        "max_voyage_days": f"{cfg.max_voyage_days:g}", "mid": cfg.destination_mid, "drop_m": f"{cfg.draught_drop_m:g}",
        "density": cfg.sea_water_density, "cwp_low": cfg.waterplane_coeff_low, "cwp_high": cfg.waterplane_coeff_high,
        "draught_res": f"{cfg.draught_resolution_m:g}", "lf_low": cfg.load_factor_low, "lf_high": cfg.load_factor_high,
        "lf_central": cfg.load_factor_central, "grt_low": cfg.grt_to_dwt_low, "grt_high": cfg.grt_to_dwt_high,
        "cb_low": cfg.block_coeff_low, "cb_high": cfg.block_coeff_high,
        "prior_low": f"{cfg.unknown_tonnes_low:,.0f}", "prior_high": f"{cfg.unknown_tonnes_high:,.0f}",
        "prior_central": f"{cfg.unknown_tonnes_central:,.0f}",
        **{w: getattr(cfg, w) for w in ("w_load_seen", "w_load_inferred", "w_discharge_port", "w_discharge_sts",
                                         "w_discharge_draught", "w_flag_dprk", "w_listed", "w_draught_evidence")},
    }


def report_context(store, period: str | None = None, places: Places | None = None, cfg: CasesConfig = DEFAULTS,
                   reported=None, definitions: EventsConfig | None = None) -> dict:
    """Everything the report template shows, as plain data (numbers already formatted)."""
    sm = summarise(store, period, places, cfg, reported)
    products = [[r["product"], r["bbl_per_t_low"], r["bbl_per_t_central"], r["bbl_per_t_high"], r["source"]]
                for r in product_table().iter_rows(named=True)]
    return {
        "label": sm.label, "dest": sm.dest, "year": sm.year, "headline": sm.headline,
        "generated": fmt_time(dt.datetime.now(dt.timezone.utc)), "store_root": str(store.root),
        "n_loads": sm.voy.height, "n_cases": sm.cases.height,
        "loads": _loads_section(sm), "discharges": _discharges_section(sm), **_ledger_section(sm, cfg),
        "map": _map_section(sm, store), "cases": _cases_section(sm, store, places),
        "methods": _methods_section(cfg, definitions or EventsConfig()), "products": products,
    }


def report_html(store, period: str | None = None, places: Places | None = None, cfg: CasesConfig = DEFAULTS,
                reported=None, definitions: EventsConfig | None = None) -> str:
    """The report as one HTML page; ``definitions`` are the event definitions the events were detected with
    (default: the built-in ones), stated in the Methods section."""
    return render("report.html.j2", **report_context(store, period, places, cfg, reported, definitions))


def write_report(store, out: str | Path, period: str | None = None, places: Places | None = None,
                 cfg: CasesConfig = DEFAULTS, reported=None, definitions: EventsConfig | None = None) -> Path:
    """Write the self-contained HTML report of ``store`` (optionally one month ``YYYY-MM`` or year) to ``out``."""
    html_text = report_html(store, period, places, cfg, reported, definitions)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ShadowfleetError(f"cannot write the report to {out}: {exc.strerror}") from None
    write_output(html_text, out)  # atomic over a file, a stream to a device or fifo, a symlink followed
    return out
