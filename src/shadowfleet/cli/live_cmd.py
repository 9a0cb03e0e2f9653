"""`shadowfleet live` and `shadowfleet replay`: live feeds into the store with alerts, and a file played as a feed."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

from shadowfleet.cli import app
from shadowfleet.cli.common import QuietOpt, StoreOpt
from shadowfleet.output import Terminal


@app.command()
def live(
    source: list[str] = typer.Option(..., "--source", help="tcp://HOST:PORT, udp://[HOST]:PORT, ws://… or wss://…, tail:PATH (repeatable)."),
    store: Path = StoreOpt,
    rules: Optional[Path] = typer.Option(None, "--rules", help="TOML file of \\[\\[rules]] (default: the built-in rules of the reference case)."),
    places: Optional[Path] = typer.Option(None, "--places", help="Gazetteer GeoJSON (default: the built-in one)."),
    alerts_out: Optional[Path] = typer.Option(None, "--alerts-out", help="Append alert messages (JSON lines) to this file instead of stdout."),
    webhook: Optional[list[str]] = typer.Option(None, "--webhook", help="POST each alert message here, signed (secret: $SHADOWFLEET_WEBHOOK_SECRET); repeatable."),
    send_env: Optional[str] = typer.Option(None, "--send-env", help="Environment variable whose value is sent first on each connection (a provider's login line, a websocket subscription)."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML with \\[live], \\[live.webhook] and \\[events.<event>] overrides."),
    until_idle: Optional[float] = typer.Option(None, "--until-idle", help="Stop after this many seconds without a line."),
    max_seconds: Optional[float] = typer.Option(None, "--max-seconds", help="Stop after this many seconds."),
    quiet: bool = QuietOpt,
) -> None:
    """Receive AIS live, store it (spooled to disk first: a restart after a crash loses and doubles nothing),
    detect events as data arrives and print alert messages (new, revised, retracted) as JSON lines. Ctrl-C stops
    cleanly."""
    from shadowfleet.live import load_live_config, load_rules, run_live

    cfg = load_live_config(config)
    rule_set = load_rules(rules)
    stop = threading.Event()

    def _stop(signum, frame):  # noqa: ARG001 - signal handler signature
        stop.set()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        rep = run_live(source, store, rules=rule_set, places=places, events_config=config, alerts_out=alerts_out,
                       webhooks=webhook or (), config=cfg, send_env=send_env, stop=stop, until_idle_s=until_idle,
                       max_seconds=max_seconds)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if not quiet:
        console = Terminal(stderr=True, soft_wrap=True)
        rejected = sum(rep.rejected.values())
        alerts = ", ".join(f"{k} {v}" for k, v in sorted(rep.alerts.items())) or "none"
        console.print(f"live: {rep.lines} lines in {rep.batches} batches, {rep.accepted} reports stored, "
                      f"{rejected} rejected; {rep.cycles} detection cycles ({rep.full_cycles} full); alert messages: {alerts}")
        if rep.events_changed:
            console.print("  events changed by incremental cycles: " + ", ".join(
                f"{k} {v}" for k, v in sorted(rep.events_changed.items())))
        for kind, values in (("incremental cycles", rep.latencies_s), ("full passes", rep.full_latencies_s)):
            if values:
                lat = sorted(values)
                p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
                console.print(f"  {kind}, from a line arriving to its cycle's alerts written: median "
                              f"{lat[len(lat) // 2]:.1f} s, p95 {p95:.1f} s over {len(lat)}")
        for addr, s in rep.sources.items():
            console.print(f"  {addr}: {s.connects} connections, {s.stalls} stalled, {s.oversize} oversize lines"
                          + (f", last error {s.last_error}" if s.last_error else ""))
        for url, w in rep.webhooks.items():
            console.print(f"  webhook {url}: {w.delivered} delivered, {w.failed} failed")


@app.command()
def replay(
    file: Path = typer.Argument(..., help="NMEA file to play (tag-block or unix-prefixed times pace it)."),
    to: str = typer.Option(..., "--to", help="tcp://127.0.0.1:PORT to listen on (this machine only)."),
    speed: float = typer.Option(60.0, "--speed", help="Times real time (0: as fast as the client reads)."),
    quiet: bool = QuietOpt,
) -> None:
    """Play a file as a live feed: listen on a local port and stream the lines to the client (e.g.
    `shadowfleet live --source tcp://127.0.0.1:PORT`) at SPEED x the pace of their receive times."""
    from shadowfleet.live.replay import replay as run_replay

    stop = threading.Event()
    old = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        ready = threading.Event()
        rep = run_replay(file, to, speed=speed, stop=stop, ready=ready)
    finally:
        signal.signal(signal.SIGINT, old)
    if not quiet:
        print(f"replay: {rep.lines_sent} lines sent in {rep.seconds:.1f} s to {rep.connections} connection(s)",
              file=sys.stderr)
