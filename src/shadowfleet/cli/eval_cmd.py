"""`shadowfleet evaluate`: score what `detect` (and `cases`) stored against a simulation's truth.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich import box
from rich.table import Table

from shadowfleet.cli import app
from shadowfleet.cli.common import QuietOpt, StoreOpt, existing_store, out
from shadowfleet.errors import ShadowfleetError
from shadowfleet.output import Terminal, write_output


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _num(x, fmt: str = "{:,.0f}") -> str:
    return "–" if x is None else fmt.format(x)


@app.command("evaluate")
def evaluate_cmd(
    truth: Path = typer.Option(..., "--truth", "-t", help="truth.json written by `shadowfleet simulate`."),
    store: Path = StoreOpt,
    out_file: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the full report (with unmatched lists) as JSON."),
    places: Optional[Path] = typer.Option(
        None, "--places", help="Places GeoJSON for berth-in-port matching (default: places.geojson beside truth.json)."
    ),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file; section \\[evaluate] overrides tolerances."),
    quiet: bool = QuietOpt,
) -> None:
    """Precision, recall and F1 per event type (events AIS could not see reported apart), barrels error per voyage and month."""
    from shadowfleet.config import load_section
    from shadowfleet.evaluate import DEFAULT, evaluate
    from shadowfleet.places import load_places

    cfg = load_section(DEFAULT, "evaluate", config)
    report = evaluate(truth, existing_store(store), places=load_places(places) if places else None, config=cfg)
    if out_file is not None:
        try:
            out_file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ShadowfleetError(f"--out: cannot create {out_file.parent}: {exc.strerror}") from None
        write_output(json.dumps(report.to_dict(), indent=1) + "\n", out_file)
    if quiet:
        return
    _print(report)


def _print(report) -> None:
    title = "events vs truth" + (f" — scenario {report.scenario}, seed {report.seed}" if report.scenario is not None else "")
    t = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    # short headers so the table fits 80 columns (a pipe or CI log); the JSON report has the long names
    for col in ("type", "truth", "unseen", "stored", "tp", "fp", "fn", "P %", "R %", "F1 %", "dark", "Δstart"):
        t.add_column(col, justify="left" if col == "type" else "right", no_wrap=True)
    rows = list(report.types.values()) + [report.overall]
    for s in rows:
        t.add_row(
            s.type, str(s.truth), str(s.invisible), str(s.detected), str(s.tp), str(s.fp), str(s.fn),
            _pct(s.precision), _pct(s.recall), _pct(s.f1),
            f"{s.inferred_tp}/{s.inferred_visible}" if s.inferred_visible else "–",
            "–" if s.median_start_error_s is None else f"{s.median_start_error_s / 60:.0f}m",
            end_section=s is rows[-2],
        )
    # piped output (a CI log, a file) is not cut at rich's default 80 columns, which truncates the type names
    con = out if out.is_terminal else Terminal(width=max(out.width, 110))
    con.print(t)
    for s in report.types.values():
        parts = [f"{what}: " + ", ".join(f"{n} {why}" for why, n in list(reasons.items())[:3])
                 for what, reasons in (("missed", s.missed_reasons), ("false", s.false_reasons)) if reasons]
        if parts:
            con.print(f"{s.type} — " + "; ".join(parts))
    v = report.spoofing_vessels
    if v is not None and (v.planted or v.accused):
        con.print(f"spoofing per vessel: {v.tp} of {v.visible} planted vessel(s) AIS could see found (recall "
                  f"{_pct(v.recall)} %), {v.accused} accused, {v.fp} falsely (precision {_pct(v.precision)} %)"
                  + (f"; missed {', '.join(map(str, v.missed))}" if v.missed else "")
                  + (f"; falsely accused {', '.join(map(str, v.false))}" if v.false else ""))
    c = report.cases
    if c is not None:
        con.print(
            f"cases vs voyages: {c.tp} tp, {c.fp} fp, {c.fn} fn (precision {_pct(c.precision)} %, recall {_pct(c.recall)} %) over "
            f"{c.claims} case(s) bound for {report.config['ledger_country']}, {c.unlisted} other unmatched case(s) not scored; "
            f"{c.invisible} voyage(s) AIS could not see; barrels median |error| {_num(c.median_abs_pct_error, '{:.1f}')} %, "
            f"truth within [low, high] for {_pct(c.coverage)} % of matched voyages",
        )
        m = Table(title="barrels delivered per month", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        for col in ("month", "truth", "estimate", "low", "high", "error %", "in range", "cases"):
            m.add_column(col, justify="left" if col == "month" else "right")
        for r in c.per_month:
            m.add_row(
                str(r["month"]), _num(r["barrels_true"]), _num(r["est_central"]), _num(r["est_low"]), _num(r["est_high"]),
                _num(r["error_pct"], "{:+.1f}"), "yes" if r["in_range"] else "no", str(r["cases"]),
            )
        con.print(m)
    for n in report.notes:
        con.print(f"note: {n}")
