"""Query commands: `vessels`, `vessel MMSI`, `track MMSI`, `stats` — thin wrappers over shadowfleet.registry."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import io
import json
import sys
from pathlib import Path
from typing import Iterator

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from shadowfleet.cli import app
from shadowfleet.cli.common import QuietOpt, StoreOpt, console, existing_store, out, parse_time
from shadowfleet.errors import ShadowfleetError

OutOpt = typer.Option(None, "--out", "-o", help="Write to this file instead of standard output.")


class TableFormat(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


class ProfileFormat(str, enum.Enum):
    text = "text"
    json = "json"


class TrackFormat(str, enum.Enum):
    csv = "csv"
    geojson = "geojson"
    jsonl = "jsonl"


class StatsFormat(str, enum.Enum):
    table = "table"
    json = "json"


def parse_mmsi(value: str) -> int:
    """An MMSI as typed by a user: up to nine digits (leading zeros of coast stations allowed)."""
    s = value.strip()
    if not s.isdigit() or len(s) > 9 or int(s) == 0:
        raise ShadowfleetError(f"not an MMSI (up to nine digits): {value!r}")
    return int(s)


@contextlib.contextmanager
def _working(message: str, quiet: bool) -> Iterator[None]:
    # a spinner on stderr while the store is scanned; nothing when --quiet or not on a terminal
    if quiet or not console.is_terminal:
        yield
    else:
        with console.status(message):
            yield


def _emit(text: str, out_file: Path | None, quiet: bool, what: str) -> None:
    if out_file is None:
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        return
    if not out_file.parent.exists():
        raise ShadowfleetError(f"--out: directory does not exist: {out_file.parent}")
    if out_file.is_dir():
        raise ShadowfleetError(f"--out: is a directory: {out_file}")
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ShadowfleetError(f"--out: cannot write {out_file}: {exc.strerror}") from None
    if not quiet:
        console.print(f"wrote {what} to {out_file}")


_WIDE = 200  # columns when the output is a pipe or a file: rich would otherwise cut every table to 80


def _screen() -> Console:
    return out if out.is_terminal else Console(width=_WIDE)


def _iso(t: dt.datetime | None) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ") if t else ""


def _jsonable(df: pl.DataFrame) -> list[dict]:
    return json.loads(df.write_json()) if df.height else []


def _flat(df: pl.DataFrame) -> pl.DataFrame:
    """Lists joined with '|' and times in ISO 8601, for CSV."""
    exprs = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.List):
            exprs.append(pl.col(name).list.join("|"))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(pl.col(name).dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"))
    return df.with_columns(exprs) if exprs else df


# ---- vessels ---------------------------------------------------------------------------------------------------


@app.command("vessels")
def vessels_cmd(
    store: Path = StoreOpt,
    flag: str = typer.Option(None, "--flag", help="Only vessels whose MMSI carries this flag (ISO alpha-2, e.g. KP)."),
    name: str = typer.Option(None, "--name", help="Only vessels that ever broadcast a name containing TEXT."),
    fmt: TableFormat = typer.Option(TableFormat.table, "--format", "-f", help="table, csv, json or jsonl."),
    limit: int = typer.Option(0, "--limit", "-n", min=0, help="At most N vessels, most positions first (0 = all, by MMSI)."),
    out_file: Path = OutOpt,
    quiet: bool = QuietOpt,
) -> None:
    """List vessels: one row per MMSI with flag (from its MID), latest identity, last draught and counts."""
    from shadowfleet.registry import vessels

    st = existing_store(store)
    with _working("reading vessels…", quiet):
        df = vessels(st, flag=flag, name=name)
    if limit:
        # a global store has hundreds of thousands of MMSIs; the busiest are the ones worth a first look
        df = df.sort(["n_positions", "mmsi"], descending=[True, False]).head(limit)
    if fmt is TableFormat.table:
        table = Table(title=None if quiet else f"{df.height} vessel(s) in {store}", show_lines=False)
        for col in ("MMSI", "flag", "red flag", "name", "IMO", "call sign", "type", "length", "draught", "last seen", "positions"):
            table.add_column(col, justify="right" if col in ("MMSI", "length", "draught", "positions") else "left")
        for r in df.iter_rows(named=True):
            imo = "" if r["imo"] is None else f"{r['imo']}{'' if r['imo_valid'] else ' (bad check digit)'}"
            table.add_row(
                str(r["mmsi"]), r["flag"] or "?",
                f"{r['red_flag']} ({r['red_flag_severity']})" if r["red_flag"] else "", r["name"] or "", imo, r["callsign"] or "", r["ship_category"] or "",
                "" if r["length"] is None else f"{r['length']:.0f}", "" if r["draught"] is None else f"{r['draught']:.1f}",
                _iso(r["last_seen"]), str(r["n_positions"]),
            )
        if out_file is None:
            _screen().print(table)
            return
        buf = Console(record=True, width=_WIDE, file=io.StringIO())
        buf.print(table)
        _emit(buf.export_text(), out_file, quiet, "vessel table")
    elif fmt is TableFormat.csv:
        _emit(_flat(df).write_csv(), out_file, quiet, f"{df.height} vessels")
    elif fmt is TableFormat.json:
        _emit(json.dumps(_jsonable(df), indent=1), out_file, quiet, f"{df.height} vessels")
    else:
        _emit(df.write_ndjson() if df.height else "", out_file, quiet, f"{df.height} vessels")


# ---- vessel MMSI -----------------------------------------------------------------------------------------------


@app.command("vessel")
def vessel_cmd(
    mmsi: str = typer.Argument(..., help="The vessel's MMSI (nine digits)."),
    store: Path = StoreOpt,
    fmt: ProfileFormat = typer.Option(ProfileFormat.text, "--format", "-f", help="text or json."),
    quiet: bool = QuietOpt,
) -> None:
    """Profile of one vessel: flag from its MID, identity history, draught history, span and area of its track."""
    from shadowfleet.registry import vessel_profile

    number = parse_mmsi(mmsi)
    st = existing_store(store)
    with _working("reading vessel…", quiet):
        p = vessel_profile(st, number)
    if fmt is ProfileFormat.json:
        sys.stdout.write(json.dumps(p.to_dict(), indent=1) + "\n")
        return
    latest = p.latest
    screen = _screen()
    screen.print(f"[bold]MMSI {p.mmsi}[/bold]  {latest.get('name') or '(no name broadcast)'}")
    screen.print(f"flag (from MID): {p.flag or 'none'}{f' — {p.country}' if p.country else ''};  kind: {p.mmsi_kind}")
    if p.red_flag:
        screen.print(f"[bold red]red flag:[/bold red] {p.red_flag[0]} (severity {p.red_flag[1]}): "
                     "no state holds this MMSI's MID, so no administration can have issued it")
    screen.print(f"seen {_iso(p.first_seen)} → {_iso(p.last_seen)};  {p.n_positions} positions, {p.n_static} static reports")
    if p.bbox:
        screen.print("area: lon {:.4f}…{:.4f}, lat {:.4f}…{:.4f}".format(p.bbox[0], p.bbox[2], p.bbox[1], p.bbox[3]))
    if p.destinations:
        screen.print("destinations: " + ", ".join(p.destinations))
    if p.identities.height:
        t = Table(title="identity history")
        for col in ("from", "to", "name", "IMO", "call sign", "type", "length × beam", "reports"):
            t.add_column(col)
        for r in p.identities.iter_rows(named=True):
            imo = "" if r["imo"] is None else f"{r['imo']}{'' if r['imo_valid'] else ' (bad check digit)'}"
            dims = "" if r["length"] is None else f"{r['length']:.0f} × {r['beam'] or 0:.0f}"
            kind = "" if r["ship_type"] is None else f"{r['ship_type']} {r['ship_category']}"
            t.add_row(_iso(r["first_seen"]), _iso(r["last_seen"]), r["name"] or "", imo, r["callsign"] or "", kind,
                      dims, str(r["n_reports"]))
        screen.print(t)
    if p.draughts.height:
        t = Table(title="draught history (changes)")
        for col in ("since", "until", "draught m", "change m"):
            t.add_column(col)
        for r in p.draughts.iter_rows(named=True):
            t.add_row(_iso(r["since"]), _iso(r["until"]), f"{r['draught']:.1f}",
                      "" if r["change_m"] is None else f"{r['change_m']:+.1f}")
        screen.print(t)


# ---- track MMSI ------------------------------------------------------------------------------------------------


@app.command("track")
def track_cmd(
    mmsi: str = typer.Argument(..., help="The vessel's MMSI."),
    store: Path = StoreOpt,
    start: str = typer.Option(None, "--start", help="From this UTC date or time (ISO 8601), inclusive."),
    end: str = typer.Option(None, "--end", help="Up to this UTC date or time (ISO 8601), inclusive."),
    fmt: TrackFormat = typer.Option(TrackFormat.csv, "--format", "-f",
                                    help="csv, geojson (Point features + a LineString per segment, for QGIS) or jsonl."),
    out_file: Path = OutOpt,
    quiet: bool = QuietOpt,
) -> None:
    """One vessel's positions in time order (receiver copies merged), with its segment id once detect has run."""
    from shadowfleet.registry import to_csv, to_geojson, to_jsonl, track

    number = parse_mmsi(mmsi)
    t0, t1 = parse_time(start, "start"), parse_time(end, "end")
    if end is not None and len(end.strip()) == 10 and t1 is not None:
        # a bare date as --end means the whole of that day
        t1 = t1 + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    if t0 and t1 and t1 < t0:
        raise ShadowfleetError(f"--end {end} is before --start {start}")
    st = existing_store(store)
    with _working("reading track…", quiet):
        df = track(st, number, start=t0, end=t1)
    if df.height == 0 and not quiet:
        console.print(f"no positions for MMSI {number} in that window")
    if fmt is TrackFormat.csv:
        text = to_csv(df)
    elif fmt is TrackFormat.jsonl:
        text = to_jsonl(df) if df.height else ""
    else:
        text = json.dumps(to_geojson(df))
    _emit(text, out_file, quiet, f"{df.height} positions")


# ---- stats -----------------------------------------------------------------------------------------------------


_STATS_TITLES = {
    "by_day": "reports by UTC day (positions = transmissions after merging receiver copies)",
    "by_msg_type": "rows by AIS message type",
    "by_source": "rows by source",
    "by_ship_category": "vessels by ship category (latest broadcast type)",
    "rejects_by_reason": "rejected input by reason",
    "ingest_log": "files ingested",
}


@app.command("stats")
def stats_cmd(
    store: Path = StoreOpt,
    fmt: StatsFormat = typer.Option(StatsFormat.table, "--format", "-f", help="table or json."),
    quiet: bool = QuietOpt,
) -> None:
    """What the store holds: counts by day, message type, source and ship category; rejects by reason."""
    from shadowfleet.registry import stats

    st = existing_store(store)
    with _working("counting…", quiet):
        tables = stats(st)
    if fmt is StatsFormat.json:
        sys.stdout.write(json.dumps({k: _jsonable(v) for k, v in tables.items()}, indent=1, default=str) + "\n")
        return
    screen = _screen()
    for key, df in tables.items():
        title = _STATS_TITLES.get(key, key)
        t = Table(title=title, min_width=len(title))  # a title wrapped over three lines is hard to read
        for col in df.columns:
            t.add_column(col, justify="right" if df.schema[col].is_numeric() else "left")
        for row in df.iter_rows():
            t.add_row(*["" if v is None else (_iso(v) if isinstance(v, dt.datetime) else str(v)) for v in row])
        if df.height == 0:
            t.add_row(*(["—"] + [""] * (len(df.columns) - 1)))
        screen.print(t)
