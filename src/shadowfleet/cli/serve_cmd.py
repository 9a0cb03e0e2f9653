"""`shadowfleet serve`: the analyst dashboard and the REST API over a store (a thin shell over serve.serve)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from shadowfleet.cli import app
from shadowfleet.cli.common import QuietOpt, StoreOpt, console, existing_store


@app.command()
def serve(
    store: Path = StoreOpt,
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1: this machine only)."),
    port: Optional[int] = typer.Option(None, "--port", help="TCP port (default 8000)."),
    token: Optional[str] = typer.Option(None, "--token", envvar="SHADOWFLEET_TOKEN",
                                        help="Require 'Authorization: Bearer TOKEN' on every API call; needed to bind "
                                             "any address but localhost. Also read from $SHADOWFLEET_TOKEN."),
    places: Optional[Path] = typer.Option(None, "--places", help="Gazetteer GeoJSON to draw (default: the built-in one)."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML with a \\[serve] section (page sizes, note limits)."),
    quiet: bool = QuietOpt,
) -> None:
    """Serve the dashboard (map, events, vessels, cases, ledger) and the JSON API under /api/v1 until Ctrl-C.

    Example: shadowfleet serve --store demo-out/store   then open http://127.0.0.1:8000/
    """
    from shadowfleet.serve import serve as run

    existing_store(store)

    def ready(h: str, p: int) -> None:
        if not quiet:
            shown = f"[{h}]" if ":" in h else h
            console.print(f"dashboard: http://{shown}:{p}/   API: http://{shown}:{p}/api/v1/docs   (Ctrl-C stops)",
                          markup=False, highlight=False)

    run(store, host=host, port=port, token=token, places=places, config=config, on_ready=ready)
