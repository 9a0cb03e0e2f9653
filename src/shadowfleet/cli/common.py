"""Options and helpers shared by the command modules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console

from shadowfleet.errors import ShadowfleetError

console = Console(stderr=True)
out = Console()

StoreOpt = typer.Option(..., "--store", "-s", help="Store directory (created by `shadowfleet ingest`).")
QuietOpt = typer.Option(False, "--quiet", "-q", help="Print nothing but errors and the requested output.")


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
