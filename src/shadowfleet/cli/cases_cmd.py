"""`shadowfleet cases`, `cap` and `report`: voyages and cases, the 500,000-barrel ledger, the HTML report."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Optional

import polars as pl
import typer

from shadowfleet.cli import app
from shadowfleet.cli.common import QuietOpt, StoreOpt, console, existing_store
from shadowfleet.errors import ShadowfleetError

ConfigOpt = typer.Option(None, "--config", help="TOML file overriding the \\[cases] defaults.")


def _write(text: str, out: Optional[Path]) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ShadowfleetError(f"cannot write {out}: {exc.strerror}") from None


# columns the store keeps as JSON text: written as real JSON values in jsonl, not as strings inside strings
JSON_COLUMNS = ("reasons", "evidence", "list_hits")


def _json_value(value):
    if isinstance(value, dt.datetime):  # ISO 8601 UTC ending in Z, as `events --format jsonl` writes times
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _as_text(df: pl.DataFrame, fmt: str) -> str:
    if fmt == "jsonl":
        lines = []
        for row in df.iter_rows(named=True):
            for col in JSON_COLUMNS:
                if isinstance(row.get(col), str):
                    row[col] = json.loads(row[col])
            lines.append(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")
        return "".join(lines)
    if fmt == "csv":
        return df.write_csv()
    raise ShadowfleetError(f"--format must be jsonl or csv, got {fmt!r}")


@app.command("cases")
def cases_cmd(
    store: Path = StoreOpt,
    fmt: str = typer.Option("jsonl", "--format", "-f", help="Output format: jsonl or csv."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the cases here instead of stdout."),
    vessels: Optional[Path] = typer.Option(None, "--vessels", help="Vessel table CSV: imo and/or mmsi, dwt (optional name, length, beam, draught)."),
    places: Optional[Path] = typer.Option(None, "--places", help="Gazetteer GeoJSON (default: the built-in one)."),
    config: Optional[Path] = ConfigOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Chain each vessel's events into voyages (load → discharge) and store the cases with barrels and evidence."""
    from shadowfleet.cases import build_cases, load_config, read_vessel_table

    if fmt not in ("jsonl", "csv"):
        raise ShadowfleetError(f"--format must be jsonl or csv, got {fmt!r}")
    cfg = load_config(config)
    st = existing_store(store)
    table = None
    if vessels is not None:
        table, rejects = read_vessel_table(vessels)
        if rejects and not quiet:
            console.print(f"vessel table: {table.height} rows used; set aside: "
                          + ", ".join(f"{n} {why}" for why, n in rejects.items()))
    cases = build_cases(st, table, cfg, places=places)
    _write(_as_text(cases, fmt), out)
    if not quiet:
        total = cases["barrels_central"].sum() if cases.height else 0.0
        console.print(f"{cases.height} cases, {total:,.0f} bbl (central) written to the store's `cases` table")


@app.command("cap")
def cap_cmd(
    store: Path = StoreOpt,
    year: int = typer.Option(..., "--year", help="Calendar year of the ledger (UNSCR 2397 counts from 1 January)."),
    country: str = typer.Option("KP", "--country", help="Destination country (ISO alpha-2)."),
    reported: Optional[Path] = typer.Option(None, "--reported", help="CSV of reported deliveries (supplier, period, barrels, source) replacing the shipped 1718 Committee table."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    config: Optional[Path] = ConfigOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Month-by-month estimated vs reported barrels against the 500,000-barrel annual cap."""
    from shadowfleet.cases import load_config
    from shadowfleet.cases.ledger import cap_ledger

    if fmt not in ("table", "json"):
        raise ShadowfleetError(f"--format must be table or json, got {fmt!r}")
    led = cap_ledger(existing_store(store), year, country.upper(), reported, load_config(config))
    if fmt == "json":
        sys.stdout.write(json.dumps(led.to_dicts(), default=str, indent=1) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    stdout = Console(width=140)  # wide enough that no figure is cut, on a terminal or in a pipe

    t = Table(title=f"Refined petroleum to {country.upper()} in {year} vs the {led['cap'][0]:,.0f} bbl cap (UNSCR 2397 OP5)")
    for c in ("month", "cases", "estimated (low–high)", "central", "reported", "cumulative central", "% of cap"):
        t.add_column(c, justify="left" if c == "month" else "right", no_wrap=True)
    for r in led.iter_rows(named=True):
        t.add_row(r["month"], str(r["cases"]), f"{r['est_low']:,.0f}–{r['est_high']:,.0f}", f"{r['est_central']:,.0f}",
                  "—" if r["reported"] is None else f"{r['reported']:,.0f}", f"{r['cum_central']:,.0f}",
                  f"{r['pct_cap_central']:.1f}")
    stdout.print(t)
    for e in ("low", "central", "high"):
        hit = led.filter(pl.col(f"crossed_{e}").is_not_null())
        when = hit[f"crossed_{e}"][0].strftime("%Y-%m-%d %H:%M UTC") if hit.height else "not crossed"
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
    from shadowfleet.report import write_report

    path = write_report(existing_store(store), out, period=period, places=places, cfg=load_config(config),
                        reported=reported, definitions=load_definitions(config))
    if not quiet:
        console.print(f"report written to {path}")
