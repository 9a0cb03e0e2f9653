"""`shadowfleet cases`, `cap` and `report`: voyages and cases, the 500,000-barrel ledger, the HTML report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

import polars as pl
import typer

from shadowfleet.cli import app
from shadowfleet.cli.common import EngineOpt, QuietOpt, SchedulerOpt, StoreOpt, console, emit_table, existing_store
from shadowfleet.output import (
    CaseFormat, SummaryFormat, Terminal, csv_text, frame_table, json_records, table, utc_text, write_output,
)

ConfigOpt = typer.Option(None, "--config", help="TOML file overriding the \\[cases] defaults.")


# columns the store keeps as JSON text: written as real JSON values in jsonl, not as strings inside strings
JSON_COLUMNS = ("reasons", "evidence", "list_hits")
_CASE_COLUMNS = ("case_id", "mmsi", "name", "flag", "load_place", "load_start", "discharge_kind", "discharge_place",
                 "discharge_start", "barrels_low", "barrels_central", "barrels_high", "confidence")


def _json_value(value):
    return utc_text(value) if isinstance(value, dt.datetime) else str(value)


def _jsonl(df: pl.DataFrame) -> str:
    lines = []
    for row in df.iter_rows(named=True):
        for col in JSON_COLUMNS:
            if isinstance(row.get(col), str):
                row[col] = json.loads(row[col])
        lines.append(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")
    return "".join(lines)


@app.command("cases")
def cases_cmd(
    store: Path = StoreOpt,
    fmt: CaseFormat = typer.Option(CaseFormat.jsonl, "--format", "-f", help="jsonl, csv or table."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the cases here instead of stdout."),
    vessels: Optional[Path] = typer.Option(None, "--vessels", help="Vessel table CSV: imo and/or mmsi, dwt (optional name, length, beam, draught)."),
    places: Optional[Path] = typer.Option(None, "--places", help="Gazetteer GeoJSON (default: the built-in one)."),
    config: Optional[Path] = ConfigOpt,
    engine: str = EngineOpt,
    scheduler: Optional[str] = SchedulerOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Chain each vessel's events into voyages (load → discharge) and store the cases with barrels and evidence."""
    from shadowfleet.cases import build_cases, load_config, read_vessel_table
    from shadowfleet.places import load_places

    cfg = load_config(config)
    st = existing_store(store)
    table = None
    if vessels is not None:
        table, rejects = read_vessel_table(vessels)
        if rejects and not quiet:
            console.print(f"vessel table: {table.height} rows used; set aside: "
                          + ", ".join(f"{n} {why}" for why, n in rejects.items()))
    from shadowfleet.engine import open_engine

    with open_engine(engine, scheduler) as eng:
        cases = build_cases(st, table, cfg, places=load_places(places), engine=eng)
    if fmt is CaseFormat.table:
        emit_table(frame_table(cases, columns=[c for c in _CASE_COLUMNS if c in cases.columns]), out, True, "")
    else:
        write_output(_jsonl(cases) if fmt is CaseFormat.jsonl else csv_text(cases), out)
    if not quiet:
        total = cases["barrels_central"].sum() if cases.height else 0.0
        console.print(f"{cases.height} cases, {total:,.0f} bbl (central) written to the store's `cases` table")


@app.command("cap")
def cap_cmd(
    store: Path = StoreOpt,
    year: int = typer.Option(..., "--year", help="Calendar year of the ledger (UNSCR 2397 counts from 1 January)."),
    country: str = typer.Option("KP", "--country", help="Destination country (ISO alpha-2)."),
    reported: Optional[Path] = typer.Option(None, "--reported", help="CSV of reported deliveries (supplier, period, barrels, source) replacing the shipped 1718 Committee table."),
    fmt: SummaryFormat = typer.Option(SummaryFormat.table, "--format", "-f", help="table or json."),
    config: Optional[Path] = ConfigOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Month-by-month estimated vs reported barrels against the 500,000-barrel annual cap."""
    from shadowfleet.cases import load_config
    from shadowfleet.cases.ledger import cap_ledger

    led = cap_ledger(existing_store(store), year, country.upper(), reported, load_config(config))
    if fmt is SummaryFormat.json:
        write_output(json.dumps(json_records(led), indent=1, ensure_ascii=False) + "\n", None)
        return
    stdout = Terminal(width=140)  # wide enough that no figure is cut, on a terminal or in a pipe
    cols = ("month", "cases", "estimated (low–high)", "central", "reported", "cumulative central", "% of cap")
    rows = (
        (r["month"], r["cases"], f"{r['est_low']:,.0f}–{r['est_high']:,.0f}", f"{r['est_central']:,.0f}",
         "—" if r["reported"] is None else f"{r['reported']:,.0f}", f"{r['cum_central']:,.0f}",
         f"{r['pct_cap_central']:.1f}")
        for r in led.iter_rows(named=True)
    )
    stdout.print(table(cols, rows, right=cols[1:],
                       title=f"Refined petroleum to {country.upper()} in {year} vs the {led['cap'][0]:,.0f} bbl cap "
                             "(UNSCR 2397 OP5)"))
    for e in ("low", "central", "high"):
        hit = led.filter(pl.col(f"crossed_{e}").is_not_null())
        when = utc_text(hit[f"crossed_{e}"][0]) if hit.height else "not crossed"
        stdout.print(f"cap crossed ({e} estimate): {when}")


@app.command("report")
def report_cmd(
    store: Path = StoreOpt,
    out: Path = typer.Option(..., "--out", "-o", help="HTML file to write (one self-contained file)."),
    period: Optional[str] = typer.Option(None, "--period", help="Month (YYYY-MM) or year (YYYY) to report on; default all cases."),
    places: Optional[Path] = typer.Option(None, "--places", help="Gazetteer GeoJSON (default: the built-in one)."),
    reported: Optional[Path] = typer.Option(None, "--reported", help="CSV of reported deliveries replacing the shipped 1718 Committee table."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file: \\[cases] overrides; its "
                                          "\\[events.<event>] definitions (those detect used) are stated in Methods."),
    quiet: bool = QuietOpt,
) -> None:
    """Write the HTML report: headline, loads per terminal, discharges per port, the ledger, each case's evidence."""
    from shadowfleet.cases import load_config
    from shadowfleet.definitions import load_definitions
    from shadowfleet.places import load_places
    from shadowfleet.report import write_report

    path = write_report(existing_store(store), out, period=period, places=load_places(places), cfg=load_config(config),
                        reported=reported, definitions=load_definitions(config))
    if not quiet:
        console.print(f"report written to {path}")
