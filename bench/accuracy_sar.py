"""Radar detection accuracy close to shore and in open water, on rendered Sentinel-1-like scenes (10 m pixels)
around real ports of the built-in theatre (the fine coastline), per wind class, on seeds given on the command
line (report on seeds nobody tuned on).

Each scene (sim/render.py `shore_testbed`): a 10 km square around a port, ~12 ships alongside quays (the hull's
side 5-25 m from the shoreline), ~12 at anchorages and approaches (0.2-2 km), ~10 in open water (> 2.2 km),
lengths 15-330 m log-uniform, plus the renderer's fixed bright structures near the shore. Detection with the
default settings; the known-structures layer the renderer writes is applied (`--no-structures` to leave it out).
Scored with xView3's rule (one-to-one within 200 m; close to shore = truth within 2 km of land).

    PYTHONPATH=src python bench/accuracy_sar.py --seeds 101,102,103 [--out DIR] [--no-structures] [--config TOML]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

SITES = (("Vostochny", 42.745, 133.05), ("Chongjin", 41.76, 129.83), ("Nampo", 38.66, 125.2),
         ("Dalian", 38.93, 121.7))
# Beaufort 0-3, 4-5, 6-7 (the evaluation's wind classes end at 5.4 and 10.7 m/s)
WIND_CLASSES = {"calm (1.5-5.4 m/s)": (1.5, 5.4), "moderate (5.4-10.7 m/s)": (5.4, 10.7),
                "strong (10.7-15 m/s)": (10.7, 15.0)}


def build(seeds: list[int], out: Path) -> tuple[Path, Path]:
    """Render the scenes; returns (imagery.json, structures.geojson)."""
    from shadowfleet.sim.render import render, shore_testbed, structures_geojson

    acqs = []
    for seed in seeds:
        rng = np.random.default_rng([seed, 9])
        for name, lat, lon in SITES:
            for lo, hi in WIND_CLASSES.values():
                wind = round(float(rng.uniform(lo, hi)), 1)
                acqs.append(shore_testbed(name, lat, lon, seed, wind, "2024-03-07T08:40:00Z"))
    doc = {"scenario": "shore-testbed", "seed": seeds, "acquisitions": acqs}
    sites = {n: (la, lo) for n, la, lo in SITES}
    render(doc, out / "scenes", seeds[0], sites=sites, sensors=("SAR",))
    (out / "imagery.json").write_text(json.dumps(doc), encoding="utf-8")
    (out / "structures.geojson").write_text(json.dumps(structures_geojson(sites)), encoding="utf-8")
    return out / "imagery.json", out / "structures.geojson"


def main() -> None:
    from shadowfleet.imagery import detect, read_detections, read_scenes
    from shadowfleet.imagery.evaluate import evaluate, load_truth
    from shadowfleet.store import Store

    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="101,102,103")
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-structures", action="store_true")
    ap.add_argument("--config", default=None, help="a TOML with [imagery.*] overrides (e.g. shore_buffer_m)")
    a = ap.parse_args()
    seeds = [int(x) for x in a.seeds.split(",")]
    out = Path(a.out or tempfile.mkdtemp(prefix="acc-sar-"))
    t0 = time.perf_counter()
    truth_path, structures = build(seeds, out)
    t1 = time.perf_counter()
    st = Store(out / "st")
    files = sorted((out / "scenes").glob("shore-*.tif"))
    kw = {} if a.no_structures else {"structures": structures}
    detect(files, st, config=a.config, **kw)
    t2 = time.perf_counter()
    doc = json.loads(truth_path.read_text())
    role = {(acq["id"], s["mmsi"]): s["role"] for acq in doc["acquisitions"] for s in acq["ships"]}
    score = evaluate(read_detections(st), read_scenes(st), load_truth(truth_path))
    f = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    big = ("50-100 m", "100-200 m", ">=200 m")
    print(f"seeds {seeds}: {len(files)} scenes of 10 km at 10 m, {len(role)} ships; render {t1 - t0:.0f} s, "
          f"detect {t2 - t1:.0f} s; structures layer {'off' if a.no_structures else 'on'}; config {a.config}")
    print("| wind | open water, >= 50 m: P / R / F1 (tp fp fn) | close to shore, all lengths | close to shore, >= 50 m |")
    print("|---|---|---|---|")
    for label, (lo, hi) in WIND_CLASSES.items():
        wcls = f"{0 if lo < 5.4 else lo:g}-{hi:g} m/s" if hi < 15 else f">={lo:g} m/s"
        row = [score.subset("open water", big, (wcls,)), score.subset("close to shore", None, (wcls,)),
               score.subset("close to shore", big, (wcls,))]
        print(f"| {label} | " + " | ".join(f"{f(c.precision)} / {f(c.recall)} / {f(c.f1)} ({c.tp} {c.fp} {c.fn})"
                                           for c in row) + " |")
    allw = [score.subset("open water", big), score.subset("close to shore"), score.subset("close to shore", big)]
    print("| all winds | " + " | ".join(f"{f(c.precision)} / {f(c.recall)} / {f(c.f1)} ({c.tp} {c.fp} {c.fn})"
                                       for c in allw) + " |")
    missed = {}
    for m in score.misses:
        r = role.get((m["group"], m.get("mmsi")))
        missed[r] = missed.get(r, 0) + 1
    n_role = {}
    for r in role.values():
        n_role[r] = n_role.get(r, 0) + 1
    print("recall by placement: " + ", ".join(f"{r} {1 - missed.get(r, 0) / n:.3f} ({n - missed.get(r, 0)}/{n})"
                                             for r, n in sorted(n_role.items())))
    reasons = {}
    for fd in score.false_detections:
        k = re.sub(r"\d+ m", "N m", fd["reason"])
        reasons[k] = reasons.get(k, 0) + 1
    print("false detections by reason: " + json.dumps(reasons))
    print(f"length error: mean {score.length_error_m} m, median relative {score.length_error_rel}")
    print(f"out: {out}")


if __name__ == "__main__":
    main()
