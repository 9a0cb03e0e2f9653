"""`shadowfleet detect` and `shadowfleet events`: behaviour detection into the store, and events out of it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from shadowfleet.cli import app
from shadowfleet.cli.common import QuietOpt, StoreOpt, console, existing_store, parse_time
from shadowfleet.errors import ShadowfleetError


@app.command()
def detect(
    store: Path = StoreOpt,
    places: Optional[Path] = typer.Option(None, "--places", help="Gazetteer GeoJSON (default: the built-in one)."),
    start: Optional[str] = typer.Option(None, "--start", help="Only positions from this UTC time (ISO 8601)."),
    end: Optional[str] = typer.Option(None, "--end", help="Only positions up to this UTC time (ISO 8601)."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML with \\[events.<event>] threshold overrides (and \\[tracks] for the segmenter)."),
    quiet: bool = QuietOpt,
) -> None:
    """Detect port calls (dark ones inferred), AIS gaps, encounters, loitering, draught and identity changes and
    spoofing; writes the store's `events` and `segments` tables (a re-run replaces them)."""
    from shadowfleet.events import EVENT_TYPES, detect as run_detect

    st = existing_store(store)
    dropped: dict[str, int] = {}
    events = run_detect(st, places=places, start=parse_time(start, "start"), end=parse_time(end, "end"),
                        config=config, counts=dropped)
    if not quiet:
        skipped = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in dropped.items() if v)
        if skipped:
            console.print(f"positions left out before detection: {skipped}")
        counts = dict(events.group_by("type").len().iter_rows()) if events.height else {}
        summary = ", ".join(f"{t} {counts.get(t, 0)}" for t in EVENT_TYPES)
        inferred = int(events.filter(events["type"] == "port_call")["inferred"].sum()) if events.height else 0
        console.print(f"{events.height} events ({summary}; {inferred} inferred port calls) → {store}")


@app.command()
def events(
    store: Path = StoreOpt,
    fmt: str = typer.Option("jsonl", "--format", "-f", help="jsonl, csv or geojson."),
    type_: Optional[list[str]] = typer.Option(None, "--type", "-t", help="Only this event type (repeatable)."),
    mmsi: Optional[int] = typer.Option(None, "--mmsi", help="Only events of this MMSI."),
    place: Optional[str] = typer.Option(None, "--place", help="Only events at this place id."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Print the detected events (one JSON object per line, CSV, or a GeoJSON FeatureCollection)."""
    from shadowfleet.events.export import WRITERS, read_events

    if fmt not in WRITERS:
        raise ShadowfleetError(f"--format must be one of {', '.join(WRITERS)}, not {fmt!r}")
    ev = read_events(existing_store(store), types=type_, mmsi=mmsi, place=place)
    if out is None:
        WRITERS[fmt](ev, sys.stdout)
        sys.stdout.flush()
        return
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            WRITERS[fmt](ev, fh)
        tmp.replace(out)
    except OSError as exc:
        raise ShadowfleetError(f"cannot write {out}: {exc.strerror}") from None
