"""`shadowfleet imagery ...`: ship detection in satellite scenes, the detections, and their score against truth."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import polars as pl
import typer
from rich.markup import escape

from shadowfleet.cli import app
from shadowfleet.cli.common import QuietOpt, StoreOpt, console, existing_store, parse_time
from shadowfleet.errors import ShadowfleetError

imagery_app = typer.Typer(help="Satellite imagery: detect ships in radar and optical scenes, list and score them.",
                          no_args_is_help=True)
app.add_typer(imagery_app, name="imagery")


@imagery_app.command("detect")
def detect_cmd(
    scenes: list[Path] = typer.Argument(..., help="Scenes: Sentinel-1 GRD SAFE folders or zips, Sentinel-2 SAFE "
                                        "folders or band files (…_B04.jp2), GeoTIFFs (radar or RGB)."),
    store: Path = StoreOpt,
    sensor: str = typer.Option("auto", "--sensor", help="auto, sar or optical (for a GeoTIFF that does not say)."),
    time: Optional[str] = typer.Option(None, "--time", help="Acquisition time (ISO 8601 UTC) for scenes whose "
                                       "metadata and name carry none."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML with \\[imagery.sar], \\[imagery.optical], "
                                          "\\[imagery.persistence], \\[imagery.structures] overrides."),
    places: Optional[Path] = typer.Option(None, "--places", help="Gazetteer GeoJSON (default: the built-in one)."),
    structures: Optional[Path] = typer.Option(None, "--structures", help="Known fixed structures (GeoJSON points, "
                                              "lines or polygons: platforms, buoys, jetty heads): detections within "
                                              "50 m are set aside as fixed; kept in the store for later runs."),
    quiet: bool = QuietOpt,
) -> None:
    """Detect ships in each scene; writes the store's `scenes` and `detections` tables (a scene detected again
    replaces its rows). A scene that cannot be read is one error line and the others still go through. Fixed
    objects are set aside near known structures (--structures) and by persistence over many passes."""
    from shadowfleet.imagery import detect
    from shadowfleet.store import Store

    st = Store(store, create=True)
    errors: list[str] = []
    run = detect([str(s) for s in scenes], st, sensor=sensor, time=parse_time(time, "time"), config=config,
                 places=places, structures=structures, on_error=lambda m: (errors.append(m), print(f"error: {m}", file=sys.stderr)))
    if not quiet and run.scenes:
        for sid, n in run.per_scene.items():
            console.print(f"{escape(sid)}: {n} object(s)")
        console.print(f"{run.scenes} scene(s), {run.detections} ship detection(s), {run.fixed} fixed object(s) "
                      f"set aside → {escape(str(store))}")
    if errors:
        raise typer.Exit(1)


@imagery_app.command("detections")
def detections_cmd(
    store: Path = StoreOpt,
    fmt: str = typer.Option("jsonl", "--format", "-f", help="jsonl, csv or geojson."),
    scene: Optional[str] = typer.Option(None, "--scene", help="Only this scene id."),
    include_fixed: bool = typer.Option(False, "--all", help="Include fixed objects (platforms, buoys)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Print the stored detections (one JSON object per line, CSV, or a GeoJSON FeatureCollection)."""
    from shadowfleet.imagery import read_detections
    from shadowfleet.imagery.export import WRITERS

    if fmt not in WRITERS:
        raise ShadowfleetError(f"--format must be one of {', '.join(WRITERS)}, not {fmt!r}")
    from shadowfleet.output import write_output

    det = read_detections(existing_store(store), include_fixed=include_fixed, scene=scene)
    write_output(WRITERS[fmt](det), out)


@imagery_app.command("evaluate")
def evaluate_cmd(
    truth: Path = typer.Option(..., "--truth", help="The simulator's imagery.json, or a labels CSV of real scenes."),
    store: Path = StoreOpt,
    config: Optional[Path] = typer.Option(None, "--config", help="TOML with an \\[imagery.evaluate] section."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Score the stored detections against truth: xView3 matching (one-to-one within 200 m), precision, recall,
    F1, close-to-shore F1, length error, by length and wind class; every miss and false detection with a reason."""
    from shadowfleet.imagery import read_detections, read_scenes
    from shadowfleet.imagery.evaluate import evaluate, load_truth

    if fmt not in ("text", "json"):
        raise ShadowfleetError(f"--format must be text or json, not {fmt!r}")
    st = existing_store(store)
    score = evaluate(read_detections(st), read_scenes(st), load_truth(truth), config=config)
    d = score.as_dict()
    if fmt == "json":
        print(json.dumps(d, indent=1))
        return
    w = sys.stdout.write

    def line(name: str, c: dict) -> None:
        f = lambda v: "  -  " if v is None else f"{v:.3f}"  # noqa: E731
        w(f"{name:<24} P {f(c['precision'])}  R {f(c['recall'])}  F1 {f(c['f1'])}   "
          f"(tp {c['tp']}, fp {c['fp']}, fn {c['fn']})\n")

    w(f"{d['scenes']} scene group(s)\n")
    line("all", d["overall"])
    line("open water", d["open_water"])
    line("close to shore (<2 km)", d["close_to_shore"])
    for k, c in sorted(d["by_length"].items()):
        line(f"length {k}", c)
    for k, c in sorted(d["by_wind"].items()):
        line(f"wind {k}", c)
    # the target's cross-section: ships >= 50 m by zone and wind (false detections by their measured length)
    big = tuple(k for k in d["by_length"] if k.startswith(">=") or (k[0].isdigit() and float(k.split("-")[0]) >= 50))
    for zone, short in (("open water", "open"), ("close to shore", "shore")):
        for k in sorted(d["by_wind"]):
            c = score.subset(zone, big, (k,)).as_dict()
            if c["tp"] + c["fp"] + c["fn"]:
                line(f"{short} >=50m {k}", c)
    w(f"length error: mean {d['length_error_m']} m, median relative {d['length_error_rel']}\n")
    for m in d["misses"]:
        ident = m.get("mmsi") or m.get("cand_id") or ""
        w(f"miss  {m['group']} {ident} ({m['lat']:.5f}, {m['lon']:.5f}) length {m['length']}: {m['reason']}\n")
    for f_ in d["false_detections"]:
        w(f"false {f_['detection_id']} ({f_['lat']:.5f}, {f_['lon']:.5f}) length {f_['length_m']} "
          f"score {f_['score']}: {f_['reason']}\n")


@imagery_app.command("match")
def match_cmd(
    store: Path = StoreOpt,
    config: Optional[Path] = typer.Option(None, "--config", help="TOML with an \\[imagery.match] section (gate, "
                                          "length ratio, unconfirmed-position limits)."),
    places: Optional[Path] = typer.Option(None, "--places", help="Gazetteer GeoJSON (default: the built-in one)."),
    quiet: bool = QuietOpt,
) -> None:
    """Tie each detection to an AIS track (200 m + 0.5 km per minute to the nearest report, radar shift, length,
    one-to-one); writes `matches` and the dark_detection / unconfirmed_position events."""
    from shadowfleet.imagery import load_config
    from shadowfleet.imagery.match import match
    from shadowfleet.places import load_places

    cfg = load_config(config).match  # a bad config is reported before the store is opened
    matches, ev = match(existing_store(store), config=cfg, places=load_places(places))
    if not quiet:
        n_match = int(matches["mmsi"].is_not_null().sum()) if matches.height else 0
        dark = int((ev["type"] == "dark_detection").sum()) if ev.height else 0
        unconf = int((ev["type"] == "unconfirmed_position").sum()) if ev.height else 0
        console.print(f"{matches.height} detection(s): {n_match} matched to AIS, {dark} dark; "
                      f"{unconf} unconfirmed AIS position(s) → {escape(str(store))}")


@imagery_app.command("occupancy")
def occupancy_cmd(
    place: str = typer.Option(..., "--place", help="Gazetteer id of a berth, terminal, anchorage, port or STS "
                              "area, e.g. RUVYP-OIL."),
    store: Path = StoreOpt,
    start: Optional[str] = typer.Option(None, "--from", help="Only scenes acquired at or after this (ISO 8601, UTC)."),
    end: Optional[str] = typer.Option(None, "--to", help="Only scenes acquired before this (ISO 8601, UTC)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, jsonl, csv or geojson."),
    places: Optional[Path] = typer.Option(None, "--places", help="Gazetteer GeoJSON (default: the built-in one)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Who was at a place in each image: per scene covering it, the ships detected there, matched to AIS (MMSI,
    name, listed or not) or broadcasting nothing, with their lengths; a scene that saw the place empty is a row too.

    Example: shadowfleet imagery occupancy --place RUVYP-OIL --store demo-out/store --from 2024-03-01"""
    from shadowfleet.imagery.export import WRITERS
    from shadowfleet.imagery.occupancy import occupancy, summary_lines
    from shadowfleet.output import frame_table, printable, table_text, write_output
    from shadowfleet.places import load_places

    if fmt not in ("table", *WRITERS):
        raise ShadowfleetError(f"--format must be one of table, {', '.join(WRITERS)}, not {fmt!r}")
    occ = occupancy(existing_store(store), place, parse_time(start, "from"), parse_time(end, "to"),
                    places=load_places(places))
    if fmt != "table":
        write_output(WRITERS[fmt](occ), out)
        return
    lines = summary_lines(occ) or [f"no stored scene covers {place} in that period"]
    ships = occ.filter(pl.col("detection_id").is_not_null())
    text = "".join(printable(x, one_line=True) + "\n" for x in lines)
    if ships.height:
        text += "\n" + table_text(frame_table(ships, columns=[
            "acquired", "scene_id", "detection_id", "length_m", "detected_place", "broadcasting", "mmsi", "name",
            "ais_length_m", "listed", "nearest_ais_m"]), 200)
    write_output(text, out)


@imagery_app.command("plan")
def plan_cmd(
    store: Path = StoreOpt,
    start: str = typer.Option(..., "--from", help="Start of the period (ISO 8601 date or time, UTC)."),
    end: str = typer.Option(..., "--to", help="End of the period, exclusive (ISO 8601 date or time, UTC)."),
    tle: Optional[Path] = typer.Option(None, "--tle", help="Element sets (TLE, 2- or 3-line form, e.g. CelesTrak's) "
                                       "of the satellites to predict passes of."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv, jsonl or geojson."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML with \\[imagery.plan] and "
                                          "\\[imagery.plan.satellites.NAME] overrides."),
    places: Optional[Path] = typer.Option(None, "--places", help="Gazetteer GeoJSON (default: the built-in one)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
    quiet: bool = QuietOpt,
) -> None:
    """Where to look next: the open questions an image would settle (dark port calls, AIS gaps at supplier
    terminals, suspected STS transfers, listed vessels gone dark), each with its area, time window, stake and rank;
    those a stored scene already answers are marked; with --tle, the satellite passes over each area in its window.

    Example: shadowfleet imagery plan --store demo-out/store --from 2024-03-01 --to 2024-04-01 --tle sentinels.tle
    (sentinels.tle: element sets of the period, e.g. saved from CelesTrak)"""
    from shadowfleet.imagery.config import load_config
    from shadowfleet.imagery.plan import plan, plan_csv, plan_geojson, summary_line
    from shadowfleet.output import jsonl_text, printable, write_output
    from shadowfleet.places import load_places

    if fmt not in ("table", "csv", "jsonl", "geojson"):
        raise ShadowfleetError(f"--format must be one of table, csv, jsonl, geojson, not {fmt!r}")
    t0, t1 = parse_time(start, "from"), parse_time(end, "to")
    cfg = load_config(config)  # a bad TOML is one error line before the store is opened
    p = plan(existing_store(store), t0, t1, tle=tle, config=cfg, places=load_places(places))
    if p.tle_rejected and not quiet:
        print(f"warning: {len(p.tle_rejected)} TLE record(s) rejected, first: {printable(p.tle_rejected[0], True)}",
              file=sys.stderr)
    if p.skipped_satellites and not quiet:
        print(f"warning: no swath known for {len(p.skipped_satellites)} satellite(s) (e.g. "
              f"{printable(p.skipped_satellites[0], True)}): add [imagery.plan.satellites.NAME]", file=sys.stderr)
    if p.stale_passes and not quiet:
        print(f"warning: {p.stale_passes} pass(es) left out: more than {cfg.plan.max_epoch_days:g} days from their "
              "element set's epoch (use element sets of the period)", file=sys.stderr)
    if fmt == "csv":
        write_output(plan_csv(p), out)
    elif fmt == "geojson":
        write_output(plan_geojson(p), out)
    elif fmt == "jsonl":
        write_output(jsonl_text(p.questions), out)
    else:
        lines = [summary_line(q) for q in p.questions.iter_rows(named=True)]
        head = f"{p.questions.height} question(s), {int(p.questions['answered'].sum())} answered by stored scenes"
        if tle is not None:
            head += f"; passes of {len(p.satellites)} satellite(s): {', '.join(p.satellites) or 'none'}"
        write_output("".join(printable(x, one_line=True) + "\n" for x in [head, *lines]), out)
