"""The headline of a report: what the store's cases say for a period, in one paragraph, and the tables the rest
of the report is built from. Separate from rendering, so the demo, the dashboard and the HTML report tell the same
story."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from shadowfleet.cases.config import DEFAULTS, CasesConfig
from shadowfleet.cases.imagery import parse_imagery
from shadowfleet.cases.ledger import cap_ledger, reported_deliveries
from shadowfleet.cases.placeinfo import place_info, ports_holding
from shadowfleet.cases.voyages import read_cases
from shadowfleet.errors import ShadowfleetError
from shadowfleet.places import Places, as_places
from shadowfleet.store import conform


def fmt_bbl(x) -> str:
    return "—" if x is None else f"{x:,.0f}"


def fmt_time(t) -> str:
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


def place_label(pid, names: dict) -> str:
    if pid is None:
        return "at sea"
    n = names.get(pid)
    return f"{n} ({pid})" if n else str(pid)


def _voyages_table(store) -> pl.DataFrame:
    """All loads (with or without a discharge) when `cases` wrote them, else the cases alone."""
    if store.files("voyages"):
        return store.read("voyages")
    return read_cases(store)


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


def _imagery_sentence(cases: pl.DataFrame, dest: str) -> str | None:
    """How many dark berth visits (and dark transfers) of the cases satellite imagery confirmed: a detection no AIS
    track explains, at the berth while the vessel's AIS was off there (cases/imagery.py). A detection the matcher
    left ambiguous between tracks adds to a case's confidence but confirms nothing, so it is not counted."""
    if "imagery" not in cases.columns:
        return None
    rows = [(r["mmsi"], x.get("role"), x.get("scene_id")) for r in cases.select("mmsi", "imagery").iter_rows(named=True)
            for x in parse_imagery(r["imagery"]) if not x.get("matched") and not x.get("ambiguous")]
    visits = {r for r in rows if r[1] in ("load", "discharge")}
    if not rows:
        return None
    loads = sum(1 for r in visits if r[1] == "load")
    transfers = len({r for r in rows if r[1] == "sts"})
    text = (f"satellite imagery confirmed {len(visits)} dark berth visit(s) of these cases ({loads} loading at a "
            f"supplier terminal, {len(visits) - loads} discharging in {dest})")
    return text + (f" and {transfers} dark ship-to-ship transfer(s)" if transfers else "")


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
                sentences.append(f"{n_dest} {dest}-flagged tanker(s) loaded at {place_label(top, names)} in {label}"
                                 + (f" (counting {' and '.join(notes)})" if notes else "")
                                 + (f", and {others} vessel(s) under other flags" if others else ""))
            else:  # supply by STS: foreign tankers load, DPRK tankers only receive at sea
                sentences.append(f"{others} vessel(s) under other flags than {dest} loaded at {place_label(top, names)} "
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
                f"{r['n']} {'discharged ' if i == 0 else ''}at {place_label(r['discharge_place'], names)}"
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
    seen = _imagery_sentence(cases, dest)
    if seen:
        sentences.append(seen)
    sentences.append(f"estimated {central:,.0f} bbl ({low:,.0f}–{high:,.0f}) delivered to {dest}, "
                     f"{pct:.1f}% of the {cfg.annual_cap_bbl:,.0f} bbl annual cap")
    if in_period.height:
        sentences.append("suppliers reported " + "; ".join(
            f"{r['supplier']} {fmt_bbl(r['barrels'])} bbl for {r['period']}" for r in in_period.iter_rows(named=True)))
    else:
        sentences.append(f"suppliers reported nothing for {label} to the 1718 Committee")
    if around.height:
        sentences.append("reports covering longer periods: " + "; ".join(
            f"{r['supplier']} {fmt_bbl(r['barrels'])} bbl for {r['period']}" for r in around.iter_rows(named=True)))
    return Summary("; ".join(sentences) + ".", label, dest, year, cases, voy, delivered, ledger, rep, info, names)
