"""`shadowfleet detect` and `shadowfleet events`: behaviour detection into the store, and events out of it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from shadowfleet.cli import app
from shadowfleet.cli.common import EngineOpt, OutOpt, QuietOpt, SchedulerOpt, StoreOpt, console, emit_table, existing_store, parse_time
from shadowfleet.output import EventFormat, frame_table, output_stream


@app.command()
def detect(
    store: Path = StoreOpt,
    places: Optional[Path] = typer.Option(None, "--places", help="Gazetteer GeoJSON (default: the built-in one)."),
    start: Optional[str] = typer.Option(None, "--start", help="Only positions from this UTC time (ISO 8601)."),
    end: Optional[str] = typer.Option(None, "--end", help="Only positions up to this UTC time (ISO 8601)."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML with \\[events.<event>] threshold overrides (and \\[tracks] for the segmenter)."),
    receivers: Optional[Path] = typer.Option(
        None, "--receivers", help="Known AIS receivers, CSV or JSON (id, lat, lon, range_km, kind shore|satellite): "
        "positions a listed shore station heard beyond its range are spoofing; listed satellites are exempt. "
        "Default: the file \\[events.spoofing] receivers names."),
    engine: str = EngineOpt,
    scheduler: Optional[str] = SchedulerOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Detect port calls (dark ones inferred), AIS gaps, encounters, loitering, draught and identity changes and
    spoofing; writes the store's `events` and `segments` tables (a re-run replaces them)."""
    from shadowfleet.engine import open_engine
    from shadowfleet.events import EVENT_TYPES, detect as run_detect
    from shadowfleet.events.config import load_config
    from shadowfleet.events.main import receivers_file
    from shadowfleet.places import load_places

    st = existing_store(store)
    rx = receivers_file(receivers, load_config(config), config)
    if rx is not None and not quiet:
        refused = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(rx.rejected.items()))
        console.print(f"receivers file: {rx.receivers.height} receivers read"
                      + (f", rows refused: {refused}" if refused else ""))
    dropped: dict[str, int] = {}
    t0, t1 = parse_time(start, "start"), parse_time(end, "end")
    with open_engine(engine, scheduler) as eng:
        late: list = []
        events = run_detect(st, places=load_places(places), start=t0, end=t1, config=config, counts=dropped, engine=eng,
                            delays=late, receivers=rx.receivers if rx is not None else None)
    if not quiet:
        for r in (late[0].iter_rows(named=True) if late else []):
            console.print(f"receiver {escape(r['receiver'])} runs {r['delay_s'] / 60:.0f} min late "
                          f"({r['n_matched']} reports of {r['n_mmsi']} ship(s) compared): its stamps were moved back")
        skipped = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in dropped.items() if v)
        if skipped:
            console.print(f"positions left out before detection: {skipped}")
        counts = dict(events.group_by("type").len().iter_rows()) if events.height else {}
        summary = ", ".join(f"{t} {counts.get(t, 0)}" for t in EVENT_TYPES)
        inferred = int(events.filter(events["type"] == "port_call")["inferred"].sum()) if events.height else 0
        console.print(f"{events.height} events ({summary}; {inferred} inferred port calls) → {store}")


_EVENT_COLUMNS = ("start", "end", "type", "mmsi", "place", "other_mmsi", "inferred", "lat", "lon")


@app.command()
def events(
    store: Path = StoreOpt,
    fmt: EventFormat = typer.Option(EventFormat.jsonl, "--format", "-f",
                                    help="jsonl, csv, table, geojson (QGIS) or kml (Google Earth)."),
    type_: Optional[list[str]] = typer.Option(None, "--type", "-t", help="Only this event type (repeatable)."),
    mmsi: Optional[int] = typer.Option(None, "--mmsi", help="Only events of this MMSI."),
    place: Optional[str] = typer.Option(None, "--place", help="Only events at this place id."),
    out_file: Optional[Path] = OutOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Print the detected events (one JSON object per line, CSV, a table, GeoJSON or KML)."""
    from shadowfleet.events.export import WRITERS, read_events

    ev = read_events(existing_store(store), types=type_, mmsi=mmsi, place=place)
    if fmt is EventFormat.table:
        emit_table(frame_table(ev, columns=_EVENT_COLUMNS), out_file, quiet, f"{ev.height} events")
        return
    with output_stream(out_file) as fh:
        WRITERS[fmt.value](ev, fh)
    if out_file is not None and not quiet:
        console.print(f"wrote {ev.height} events to {out_file}")
