"""Query commands: `vessels`, `vessel MMSI`, `track MMSI`, `stats` — thin wrappers over shadowfleet.registry."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import Iterator

import typer

from shadowfleet.cli import app
from shadowfleet.cli.common import (
    OutOpt, QuietOpt, StoreOpt, console, emit, emit_listing, existing_store, parse_time, screen,
)
from shadowfleet.errors import ShadowfleetError
from shadowfleet.output import ListingFormat, ProfileFormat, SummaryFormat, TrackFormat, cell, table, utc_text


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


# ---- vessels ---------------------------------------------------------------------------------------------------


def _imo(r: dict) -> str:
    return "" if r["imo"] is None else f"{r['imo']}{'' if r['imo_valid'] else ' (bad check digit)'}"


def _vessel_table(df, title: str | None):
    cols = ("MMSI", "flag", "red flag", "name", "IMO", "call sign", "type", "length", "draught", "last seen",
            "positions")
    rows = (
        (r["mmsi"], r["flag"] or "?", f"{r['red_flag']} ({r['red_flag_severity']})" if r["red_flag"] else "",
         r["name"], _imo(r), r["callsign"], r["ship_category"],
         "" if r["length"] is None else f"{r['length']:.0f}", "" if r["draught"] is None else f"{r['draught']:.1f}",
         r["last_seen"], r["n_positions"])
        for r in df.iter_rows(named=True)
    )
    return table(cols, rows, title=title, right=("MMSI", "length", "draught", "positions"))


@app.command("vessels")
def vessels_cmd(
    store: Path = StoreOpt,
    flag: str = typer.Option(None, "--flag", help="Only vessels whose MMSI carries this flag (ISO alpha-2, e.g. KP)."),
    name: str = typer.Option(None, "--name", help="Only vessels that ever broadcast a name containing TEXT."),
    fmt: ListingFormat = typer.Option(ListingFormat.table, "--format", "-f", help="table, csv, jsonl or json."),
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
    title = None if quiet else f"{df.height} vessel(s) in {store}"
    emit_listing(df, fmt, out_file, quiet, f"{df.height} vessels", make_table=lambda d: _vessel_table(d, title),
                 micro=True)


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
        emit(json.dumps(p.to_dict(), indent=1) + "\n", None, quiet, "")
        return
    latest = p.latest
    con = screen()
    con.print(f"MMSI {p.mmsi}  {latest.get('name') or '(no name broadcast)'}", style="bold")
    con.print(f"flag (from MID): {p.flag or 'none'}{f' — {p.country}' if p.country else ''};  kind: {p.mmsi_kind}")
    if p.red_flag:
        con.print(f"red flag: {p.red_flag[0]} (severity {p.red_flag[1]}): "
                  "no state holds this MMSI's MID, so no administration can have issued it", style="bold red")
    con.print(f"seen {utc_text(p.first_seen) or ''} → {utc_text(p.last_seen) or ''};  "
              f"{p.n_positions} positions, {p.n_static} static reports")
    if p.bbox:
        con.print("area: lon {:.4f}…{:.4f}, lat {:.4f}…{:.4f}".format(p.bbox[0], p.bbox[2], p.bbox[1], p.bbox[3]))
    if p.destinations:
        con.print("destinations: " + ", ".join(p.destinations))
    if p.identities.height:
        rows = (
            (r["first_seen"], r["last_seen"], r["name"], _imo(r), r["callsign"],
             "" if r["ship_type"] is None else f"{r['ship_type']} {r['ship_category']}",
             "" if r["length"] is None else f"{r['length']:.0f} × {r['beam'] or 0:.0f}", r["n_reports"])
            for r in p.identities.iter_rows(named=True)
        )
        con.print(table(("from", "to", "name", "IMO", "call sign", "type", "length × beam", "reports"), rows,
                        title="identity history"))
    if p.draughts.height:
        rows = (
            (r["since"], r["until"], f"{r['draught']:.1f}", "" if r["change_m"] is None else f"{r['change_m']:+.1f}")
            for r in p.draughts.iter_rows(named=True)
        )
        con.print(table(("since", "until", "draught m", "change m"), rows, title="draught history (changes)"))


# ---- track MMSI ------------------------------------------------------------------------------------------------


@app.command("track")
def track_cmd(
    mmsi: str = typer.Argument(..., help="The vessel's MMSI."),
    store: Path = StoreOpt,
    start: str = typer.Option(None, "--start", help="From this UTC date or time (ISO 8601), inclusive."),
    end: str = typer.Option(None, "--end", help="Up to this UTC date or time (ISO 8601), inclusive."),
    fmt: TrackFormat = typer.Option(TrackFormat.csv, "--format", "-f",
                                    help="csv, jsonl, geojson (Point features + a LineString per segment, for QGIS) "
                                         "or kml (Google Earth)."),
    out_file: Path = OutOpt,
    quiet: bool = QuietOpt,
) -> None:
    """One vessel's positions in time order (receiver copies merged), with its segment id once detect has run."""
    from shadowfleet.registry import to_csv, to_geojson, to_jsonl, to_kml, track

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
        text = to_jsonl(df)
    elif fmt is TrackFormat.kml:
        text = to_kml(df)
    else:
        text = json.dumps(to_geojson(df))
    emit(text, out_file, quiet, f"{df.height} positions")


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
    fmt: SummaryFormat = typer.Option(SummaryFormat.table, "--format", "-f", help="table or json."),
    quiet: bool = QuietOpt,
) -> None:
    """What the store holds: counts by day, message type, source and ship category; rejects by reason."""
    from shadowfleet.output import frame_table, json_records
    from shadowfleet.registry import stats

    st = existing_store(store)
    with _working("counting…", quiet):
        tables = stats(st)
    if fmt is SummaryFormat.json:
        emit(json.dumps({k: json_records(v) for k, v in tables.items()}, indent=1, default=str) + "\n", None, quiet, "")
        return
    con = screen()
    for key, df in tables.items():
        title = _STATS_TITLES.get(key, key)
        t = frame_table(df, title=title, min_width=len(title))  # a title wrapped over three lines is hard to read
        if df.height == 0:
            t.add_row(*([cell("—")] + [cell("")] * (len(df.columns) - 1)))
        con.print(t)
