"""Options and helpers shared by the command modules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from shadowfleet.errors import ShadowfleetError
from shadowfleet.output import Terminal

# messages and progress on stderr, results on stdout; neither reads text as markup or passes control characters
console = Terminal(stderr=True)
out = Terminal()

StoreOpt = typer.Option(..., "--store", "-s", help="Store directory (created by `shadowfleet ingest`).")
QuietOpt = typer.Option(False, "--quiet", "-q", help="Print nothing but errors and the requested output.")
EngineOpt = typer.Option("local", "--engine", help="local (this process) or dask (partition tasks on a Dask cluster).")
SchedulerOpt = typer.Option(
    None, "--scheduler",
    help="With --engine dask: local:N (a cluster of N worker processes on this machine; default one per core) "
         "or a running scheduler's address, e.g. tcp://10.0.0.5:8786.")
OutOpt = typer.Option(None, "--out", "-o", help="Write to this file instead of standard output.")

_WIDE = 200  # columns when the output is a pipe or a file: rich would otherwise cut every table to 80


def screen() -> Terminal:
    """stdout for tables: the terminal's width on a terminal, wide enough not to cut a row in a pipe."""
    return out if out.is_terminal else Terminal(width=_WIDE)


def emit(text, out_file: Path | None, quiet: bool, what: str) -> None:
    """The requested output to stdout or --out (atomically; see shadowfleet.output), saying where it went."""
    from shadowfleet.output import write_output

    write_output(text, out_file)
    if out_file is not None and not quiet:
        console.print(f"wrote {what} to {out_file}")


def emit_table(table, out_file: Path | None, quiet: bool, what: str) -> None:
    """A rich table on the screen, or as plain text in --out."""
    from shadowfleet.output import table_text

    if out_file is None:
        screen().print(table)
    else:
        emit(table_text(table, _WIDE), out_file, quiet, what)


def parse_time(value: str | None, name: str = "time") -> dt.datetime | None:
    """ISO 8601 date or date-time (UTC if no offset)."""
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ShadowfleetError(f"--{name}: not an ISO 8601 date or time: {value!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def existing_store(path: Path):
    from shadowfleet.store import Store

    return Store(path, create=False)


def emit_listing(df, fmt, out_file: Path | None, quiet: bool, what: str, make_table=None, micro: bool = False) -> None:
    """A listing in the --format asked for: a table (``make_table(df)``, or every column), CSV, JSON lines or JSON."""
    import json

    from shadowfleet.output import frame_table, csv_text, json_records, jsonl_text

    fmt = getattr(fmt, "value", fmt)
    if fmt == "table":
        emit_table(make_table(df) if make_table else frame_table(df), out_file, quiet, what)
    elif fmt == "csv":
        emit(csv_text(df, micro), out_file, quiet, what)
    elif fmt == "jsonl":
        emit(jsonl_text(df, micro), out_file, quiet, what)
    elif fmt == "json":
        emit(json.dumps(json_records(df, micro), indent=1, ensure_ascii=False) + "\n", out_file, quiet, what)
    else:
        raise ShadowfleetError(f"--format: {fmt} is not available here")
