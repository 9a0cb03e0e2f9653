"""`shadowfleet ingest`: a thin shell over shadowfleet.ingest.ingest."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from shadowfleet.cli import app
from shadowfleet.cli.common import EngineOpt, QuietOpt, SchedulerOpt, console, out
from shadowfleet.output import printable, table


@app.command("ingest")
def ingest_cmd(
    paths: List[Path] = typer.Argument(..., help="AIS files or directories (gzip, bz2 and zip are read transparently)."),
    store: Path = typer.Option(..., "--store", "-s", help="Store directory (created if absent)."),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto, nmea, csv or jsonl (auto detects per file)."),
    source: Optional[str] = typer.Option(None, "--source", help="Source name stored with each report (default: file name)."),
    time_from: Optional[str] = typer.Option(
        None, "--time-from",
        help="For NMEA with no time at all: an ISO time given to every message, or 'mtime' (the file's modification time).",
    ),
    columns: Optional[str] = typer.Option(
        None, "--columns", help="Generic CSV mapping, e.g. mmsi=MMSI,ts=time,lat=y,lon=x,sog=speed."
    ),
    batch_lines: Optional[int] = typer.Option(None, "--batch-lines", help="Lines per batch (default 500000)."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file; its \\[ingest] section overrides defaults."),
    engine: str = EngineOpt,
    scheduler: Optional[str] = SchedulerOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Decode AIS files (NMEA, CSV, JSON lines) into the store; already ingested files are skipped."""
    from shadowfleet.engine import open_engine
    from shadowfleet.ingest import ingest
    from shadowfleet.ingest.config import load

    cfg = load(config)
    with open_engine(engine, scheduler) as eng:
        if quiet:
            report = ingest(paths, store, fmt=fmt, source=source, time_from=time_from, columns=columns,
                            batch_lines=batch_lines, config=cfg, engine=eng)
        else:
            with Progress(TextColumn("{task.description}", markup=False), BarColumn(bar_width=None), TextColumn("{task.fields[lines]} lines"),
                          TimeElapsedColumn(), console=console, transient=True,
                          disable=not console.is_terminal) as bar:  # no bar in logs/pipes: keeps errors one line
                task = bar.add_task("ingest", total=None, lines=0)

                def progress(file_report, lines_done):
                    bar.update(task, description=printable(Path(file_report.path).name, one_line=True), lines=f"{lines_done:,}")

                report = ingest(paths, store, fmt=fmt, source=source, time_from=time_from, columns=columns,
                                batch_lines=batch_lines, progress=progress, config=cfg, engine=eng)
    if quiet:
        return
    rows = []
    for f in report.files:
        if f.skipped_already_ingested:
            rows.append((Path(f.path).name, "already ingested", "", "", "", "", "", ""))
            continue
        a = f.accepted
        rows.append((Path(f.path).name, f.format, f"{a['positions']:,}", f"{a['static']:,}", f"{a['base_stations']:,}",
                     f"{a['aids']:,}", f"{f.n_rejected:,}", f"{f.seconds:.2f}"))
    cols = ("file", "format", "positions", "static", "base st.", "aids", "rejected", "s")
    out.print(table(cols, rows, title=f"ingest into {store}", right=cols[2:]))
    for f in report.files:
        notes = [f"{k} {v:,}" for k, v in sorted(f.rejected.items())]
        notes += [f"{k} {v:,} (kept)" for k, v in sorted(f.flagged.items())]
        notes += [f"skipped {k} {v:,}" for k, v in sorted(f.skipped.items())]
        if notes:
            out.print(f"{Path(f.path).name}: " + ", ".join(notes))
