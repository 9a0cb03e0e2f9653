"""The main job end to end on built-in data: simulate → ingest → detect → screen → cases → cap → report.

`shadowfleet demo` and `make demo` call :func:`run_demo`; a notebook user can call it too. Every step is the
same library function the individual commands use, on the simulator's raw AIS (the truth is used only to score
the result at the end, never by the detectors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable

# The built-in watch list: UN-designated DPRK tankers named in 2024 reporting, with their sources
# (docs/reference.md "Vessels named in reporting"). Real lists load with `shadowfleet lists load`.
WATCHLIST = "dprk_tankers_2024_watchlist.csv"
WATCHLIST_NAME = "DPRK tankers named in 2024 reporting"
WATCHLIST_DATE = "2024-11-22"  # Seatrade Maritime's list of the shuttle tankers, the latest source it cites


@dataclass
class DemoResult:
    out: Path
    report: Path
    headline: str
    steps: dict[str, str] = field(default_factory=dict)
    scores: object = None  # evaluate.EvalReport


def run_demo(out: str | Path = "demo-out", scenario: str = "vostochny-2024-03", seed: int = 2024,
             days: float | None = None, vessels: int | None = None,
             say: Callable[[str], None] = lambda msg: None) -> DemoResult:
    from shadowfleet.cases import build_cases
    from shadowfleet.evaluate import evaluate
    from shadowfleet.events import detect
    from shadowfleet.ingest import ingest
    from shadowfleet.places import load_places
    from shadowfleet.report import headline, write_report
    from shadowfleet.sanctions import load_list, save_list
    from shadowfleet.sanctions.screen import screen
    from shadowfleet.sim import simulate
    from shadowfleet.store import Store

    out = Path(out)
    sim_dir, store_dir = out / "sim", out / "store"
    _claim(out, (sim_dir, store_dir, out / "report.html"))  # before any step starts
    steps: dict[str, str] = {}

    announced: list[bool] = []

    def announce(_stage: str) -> None:
        # said at the simulator's first stage, i.e. once its arguments passed: a bad --days is then the only line
        if not announced:
            announced.append(True)
            say(f"simulate: scenario {scenario}, seed {seed}")

    sim = simulate(scenario, out=sim_dir, seed=seed, days=days, vessels=vessels, progress=announce)
    steps["simulate"] = f"{sim.lines:,} NMEA lines from {sim.vessels} vessels ({sim_dir / 'ais.nmea'})"

    places = load_places(sim_dir / "places.geojson")

    say("ingest: decoding the raw AIS into the store")
    if store_dir.exists():  # a fresh store each run (this one a demo made): the demo must show what this run found
        import shutil

        shutil.rmtree(store_dir)
    store = Store(store_dir)
    rep = ingest([sim_dir / "ais.nmea"], store)
    steps["ingest"] = (f"{rep.accepted:,} messages stored, {rep.rejected:,} rejected ("
                       + ", ".join(f"{k} {v:,}" for k, v in sorted(rep.rejected_by_reason().items())) + ")")

    say("detect: port calls, gaps, encounters, loitering, draught and identity changes, spoofing")
    events = detect(store, places=places)
    counts = events.group_by("type").len().sort("type")
    steps["detect"] = ", ".join(f"{t} {n}" for t, n in counts.iter_rows())

    say("imagery: render the month's radar scenes, detect ships, tie them to AIS")
    steps["imagery"] = _imagery(sim_dir, store, seed, sim_dir / "places.geojson")

    say("screen: the registry against the built-in watch list")
    watch = resources.files("shadowfleet.sanctions") / "data" / WATCHLIST
    with resources.as_file(watch) as path:
        save_list(store, load_list(path, kind="csv", version_date=WATCHLIST_DATE, name=WATCHLIST_NAME))
    hits = screen(store)
    listed = hits.filter(hits["list_id"].is_not_null())["mmsi"].n_unique() if hits.height else 0
    steps["screen"] = f"{listed} vessel(s) matched the watch list"

    say("cases: voyages load → discharge, barrels low/central/high")
    cases = build_cases(store, places=places)
    steps["cases"] = f"{cases.height} case(s)"

    say("plan: the open questions a satellite image would settle next")
    steps.update(_tasking(store, sim, places))

    period = sim.start[:7]
    say("report: the ledger against the 500,000-bbl cap and the HTML report")
    report = write_report(store, out / "report.html", period=period, places=places)
    text = headline(store, period=period, places=places)

    say("evaluate: what was found against the simulator's truth")
    scores = evaluate(sim_dir / "truth.json", store, places=places)
    return DemoResult(out=out, report=report, headline=text, steps=steps, scores=scores)


def _tasking(store, sim, places) -> dict[str, str]:
    """The month's imagery plan: how many questions, how many the rendered scenes answered, the top three."""
    import datetime as dt

    import polars as pl

    from shadowfleet.imagery.plan import plan, summary_line

    start = dt.datetime.fromisoformat(sim.start.replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(sim.end.replace("Z", "+00:00"))
    q = plan(store, start, end, places=places).questions
    answered = int(q["answered"].sum()) if q.height else 0
    out = {"plan": f"{q.height} question(s) an image would settle, {answered} answered by the month's scenes"
                   + ("; next to image:" if q.height > answered else "")}
    for row in q.filter(~pl.col("answered")).head(3).iter_rows(named=True):
        out[f"next {row['rank']}"] = summary_line(row).split(". ", 1)[1]
    return out


# ours: the demo renders its radar scenes at 20 m (Sentinel-1 GRD medium resolution is 40 m; full 10 m
# scenes would take minutes more to render and to search)
DEMO_IMAGERY_PIXEL_M = 20.0


def _imagery(sim_dir: Path, store, seed: int, places: Path) -> str:
    """Render the simulator's radar acquisitions, detect ships in them and match them with the AIS in the
    store; a sentence saying how many dark ships imagery found at berths and terminals."""
    import json

    import polars as pl

    from shadowfleet.imagery import detect as detect_ships
    from shadowfleet.imagery.match import match
    from shadowfleet.places import load_places
    from shadowfleet.sim.render import render
    from shadowfleet.sim.scenarios import get

    doc = json.loads((sim_dir / "imagery.json").read_text(encoding="utf-8"))
    sites = {n: (la, lo) for n, la, lo in get(doc["scenario"]).sites}
    render(doc, sim_dir / "scenes", seed, sites=sites, pixel_m=DEMO_IMAGERY_PIXEL_M, sensors=("SAR",))
    (sim_dir / "imagery.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    files = [sim_dir / "scenes" / a["render"]["file"] for a in doc["acquisitions"] if a.get("render")]
    if not files:
        return "no radar acquisition in the period"
    run = detect_ships(files, store, places=places)
    gaz = load_places(places)
    matches, ev = match(store, places=gaz)
    dark = ev.filter(pl.col("type") == "dark_detection")
    kinds = dict(zip(gaz.table["id"].to_list(), gaz.table["kind"].to_list()))
    at_berth = dark.filter(pl.col("place").replace_strict(kinds, default=None).is_in(["berth", "terminal"])) \
        if dark.height else dark
    matched = int(matches["mmsi"].is_not_null().sum()) if matches.height else 0
    return (f"{len(files)} radar scenes, {run.detections} ships detected, {matched} matched to AIS, "
            f"{dark.height} dark ({at_berth.height} at an oil berth or terminal: "
            f"{', '.join(sorted(set(at_berth['place'].to_list()))) or 'none'})")


MARKER = ".shadowfleet-demo"  # in --out: what earlier demo runs created there, so that a re-run may replace it


def _claim(out: Path, paths: tuple[Path, ...]) -> None:
    """Refuse to run over anything in ``out`` that a demo did not create (a user's own ``store`` in ``--out .``),
    then record that the demo owns ``paths``: it replaces them, and nothing else, on every run."""
    import json

    from shadowfleet.errors import ShadowfleetError

    if out.exists() and not out.is_dir():
        raise ShadowfleetError(f"--out must be a folder, but is a file: {out}")
    marker = out / MARKER
    try:
        owned = set(json.loads(marker.read_text(encoding="utf-8")).get("created", [])) if marker.is_file() else set()
    except (ValueError, AttributeError, OSError):
        owned = set()
    foreign = [p for p in paths if (p.exists() or p.is_symlink()) and p.name not in owned]
    if foreign:
        raise ShadowfleetError(
            f"--out {out}: {foreign[0]} exists and was not made by `shadowfleet demo`; the demo would replace it "
            "(give another --out, or move it)")
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"created": sorted(owned | {p.name for p in paths})}) + "\n", encoding="utf-8")
