"""`shadowfleet demo`: the main job end to end on built-in data."""

from __future__ import annotations

from pathlib import Path

import typer

from shadowfleet.cli import app
from shadowfleet.cli.common import QuietOpt, console, out


@app.command("demo")
def demo(
    out_dir: Path = typer.Option(Path("demo-out"), "--out", help="Folder for the simulated AIS, the store and the report."),
    scenario: str = typer.Option("vostochny-2024-03", "--scenario", help="Simulator scenario to run."),
    seed: int = typer.Option(2024, "--seed", help="Simulator seed (same seed, same output)."),
    days: float = typer.Option(None, "--days", help="Simulated days (default: the scenario's, 31 for March 2024)."),
    vessels: int = typer.Option(None, "--vessels", help="Background vessels (default: the scenario's)."),
    quiet: bool = QuietOpt,
) -> None:
    """Simulate March 2024 at Vostochny, then ingest → detect → screen → cases → cap → report, and print the headline.

    Example: shadowfleet demo --out demo-out
    """
    from shadowfleet.demo import run_demo

    say = (lambda msg: None) if quiet else (lambda msg: console.print(f"• {msg}"))
    result = run_demo(out_dir, scenario=scenario, seed=seed, days=days, vessels=vessels, say=say)
    if not quiet:
        for step, text in result.steps.items():
            console.print(f"  {step:9} {text}")
        ev = result.scores
        f1 = [f"{t} {s.f1:.2f}" for t, s in ev.types.items() if s.f1 is not None and s.tp + s.fn > 0]
        console.print("  F1 vs truth " + ", ".join(f1))
        if ev.cases is not None and ev.cases.per_month:
            for m in ev.cases.per_month:
                console.print(
                    f"  barrels   {m['month']}: estimated {m['est_central']:,.0f} bbl "
                    f"({m['est_low']:,.0f}–{m['est_high']:,.0f}) vs {m['barrels_true']:,.0f} true, "
                    f"{m['error_pct']:+.1f}%"
                )
    out.print(result.headline)
    out.print(f"report: {result.report}")
    out.print(f"dashboard: shadowfleet serve --store {result.out / 'store'}   then open http://127.0.0.1:8000/")
