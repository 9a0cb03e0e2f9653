"""`shadowfleet simulate`: a scenario's AIS, places, ground truth and satellite acquisitions."""

from __future__ import annotations

from pathlib import Path

import typer

from shadowfleet.cli import app
from shadowfleet.cli.common import QuietOpt, console, out


@app.command("simulate")
def simulate_cmd(
    scenario: str = typer.Option("vostochny-2024-03", "--scenario", help="vostochny-2024-03, nampo-sts or baseline."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Directory for ais.nmea, places.geojson, truth.json, "
                                 "imagery.json (created)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives byte-identical output."),
    start: str = typer.Option(None, "--start", help="First day (ISO date, UTC); default: the scenario's."),
    days: float = typer.Option(None, "--days", help="Length of the run in days; default: the scenario's."),
    vessels: int = typer.Option(None, "--vessels", help="Number of background vessels; default: the scenario's."),
    config: Path = typer.Option(None, "--config", help="TOML file: \\[sim] overrides realism defaults, "
                                "\\[events.<event>] the event definitions the truth follows."),
    places: Path = typer.Option(None, "--places", help="GeoJSON gazetteer replacing the built-in one."),
    imagery: bool = typer.Option(False, "--imagery", help="Also render every listed acquisition as a scene in "
                                 "DIR/scenes (radar GeoTIFFs, optical band files)."),
    quiet: bool = QuietOpt,
) -> None:
    """Simulate a scenario: AIS as shore stations and satellites deliver it, with the ground truth behind it."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from shadowfleet.sim import simulate

    if quiet:
        summary = simulate(scenario, out_dir, seed=seed, start=start, days=days, vessels=vessels, config=config,
                           places=places, render_imagery=imagery)
    else:
        with Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), TimeElapsedColumn(), console=console,
                      transient=True, disable=not console.is_terminal) as bar:  # no stray blank line in logs
            task = bar.add_task(f"simulating {scenario}", total=None)
            summary = simulate(scenario, out_dir, seed=seed, start=start, days=days, vessels=vessels,
                               config=config, places=places, render_imagery=imagery,
                               progress=lambda msg: bar.update(task, description=f"{scenario}: {msg}"))
    if quiet:
        return
    out.print(f"{summary.scenario} seed {summary.seed}: {summary.start} → {summary.end}, "
              f"{summary.vessels} vessels, {summary.seconds:.1f} s")
    out.print(f"  ais.nmea      {summary.lines:,} lines ({summary.transmissions:,} transmissions, "
              f"{summary.corrupt_lines:,} corrupt)")
    ev = ", ".join(f"{k} {summary.visible_events.get(k, 0)}/{v}" for k, v in sorted(summary.events.items()))
    out.print(f"  truth.json    events visible/total: {ev}")
    for month, bbl in summary.barrels_delivered_by_month.items():
        out.print(f"  delivered to the DPRK in {month}: {bbl:,.0f} bbl")
    out.print(f"  imagery.json  {summary.acquisitions} acquisitions"
              + (f", rendered in {Path(summary.paths['truth']).parent / 'scenes'}" if imagery else ""))
    out.print(f"  written to    {Path(summary.paths['truth']).parent}")
