"""The measurement run: scenarios x seeds, simulate -> ingest -> detect (-> cases) -> evaluate, one table.

    python -m shadowfleet.evaluate.sweep --scenarios vostochny,... --seeds 101,202,303 --out runs/

Each step runs as the user would run it (the `shadowfleet` command in a subprocess), so the figures are those of
the shipped pipeline. Prints a Markdown table (per event type: summed tp/fp/fn over the runs, precision, recall,
F1, and the range of per-run F1) and writes every run's JSON report under --out.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from shadowfleet.evaluate.score import EVENT_TYPES


def _run(args: list[str], log) -> None:
    proc = subprocess.run([sys.executable, "-m", "shadowfleet", *args], capture_output=True, text=True)
    log.write(f"$ shadowfleet {' '.join(args)}\n{proc.stdout[-4000:]}{proc.stderr[-4000:]}\n")
    if proc.returncode != 0:
        raise RuntimeError(f"shadowfleet {args[0]} failed: {proc.stderr.strip()[-500:]}")


def run_one(scenario: str, seed: int, out: Path, with_cases: bool = True) -> dict:
    d = out / f"{scenario}-{seed}"
    d.mkdir(parents=True, exist_ok=True)
    sim, store = d / "sim", d / "store"
    timings = {}
    with open(d / "log.txt", "w") as log:
        steps = [
            ("simulate", ["simulate", "--scenario", scenario, "--seed", str(seed), "--out", str(sim)]),
            ("ingest", ["ingest", str(sim / "ais.nmea"), "--store", str(store), "--quiet"]),
            # the built-in gazetteer, which the simulator used for the truth: its places.geojson keeps only the
            # scenario's box, while ships also call at ports outside it (Busan, Niigata)
            ("detect", ["detect", "--store", str(store), "--quiet"]),
        ]
        if with_cases:
            steps.append(("cases", ["cases", "--store", str(store), "--quiet", "--out", str(d / "cases.jsonl")]))
        steps.append(("evaluate", ["evaluate", "--truth", str(sim / "truth.json"), "--store", str(store), "--out", str(d / "eval.json"), "--quiet"]))
        for name, args in steps:
            t0 = time.perf_counter()
            try:
                _run(args, log)
            except RuntimeError as exc:
                if name == "cases":  # events are still scored without cases
                    timings["cases_error"] = str(exc)
                    continue
                raise
            timings[name] = round(time.perf_counter() - t0, 2)
    report = json.loads((d / "eval.json").read_text())
    report["timings_s"] = timings
    return report


def _f(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def table(reports: list[dict]) -> str:
    types = [t for t in EVENT_TYPES if any(t in r["types"] for r in reports)]
    lines = [
        "| event type | truth | unseen | tp | fp | fn | precision % | recall % | F1 % | F1 range over runs % | dark found |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in types + ["all"]:
        rows = [r["overall"] if t == "all" else r["types"].get(t) for r in reports]
        rows = [x for x in rows if x]
        s = {k: sum(x[k] for x in rows) for k in ("truth", "invisible", "tp", "fp", "fn", "inferred_tp", "inferred_visible")}
        p = s["tp"] / (s["tp"] + s["fp"]) if s["tp"] + s["fp"] else None
        rc = s["tp"] / (s["tp"] + s["fn"]) if s["tp"] + s["fn"] else None
        f1 = 2 * s["tp"] / (2 * s["tp"] + s["fp"] + s["fn"]) if s["tp"] + s["fp"] + s["fn"] else None
        f1s = [x["f1"] for x in rows if x.get("f1") is not None]
        rng = f"{100 * min(f1s):.0f}–{100 * max(f1s):.0f}" if f1s else "–"
        dark = f"{s['inferred_tp']}/{s['inferred_visible']}" if s["inferred_visible"] else "–"
        lines.append(
            f"| {t} | {s['truth']} | {s['invisible']} | {s['tp']} | {s['fp']} | {s['fn']} | {_f(p)} | {_f(rc)} | {_f(f1)} | {rng} | {dark} |"
        )
    return "\n".join(lines)


def _month(m: dict) -> str:
    err = "–" if m["error_pct"] is None else f"{m['error_pct']:+.0f} %"
    return f"{m['month']}: {m['est_central']:,.0f} vs {m['barrels_true']:,.0f} bbl ({err})"


def cases_table(reports: list[dict]) -> str:
    lines = [
        "| run | voyages (unseen) | cases (to KP) | tp | fp | fn | median abs barrels error % | truth in [low, high] | months: estimate vs truth |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        c = r.get("cases")
        if not c:
            lines.append(f"| {r['scenario']} {r['seed']} | – | no cases table | | | | | | |")
            continue
        months = "; ".join(_month(m) for m in c["per_month"])
        med = "–" if c["median_abs_pct_error"] is None else f"{c['median_abs_pct_error']:.1f}"
        lines.append(
            f"| {r['scenario']} {r['seed']} | {c['voyages']} ({c['invisible']}) | {c['cases']} ({c['claims']}) | {c['tp']} | {c['fp']} | {c['fn']} "
            f"| {med} | {_f(c['coverage'])} % | {months} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", required=True)
    ap.add_argument("--seeds", default="101,202,303")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--no-cases", action="store_true")
    a = ap.parse_args(argv)
    reports, failures = [], []
    for scenario in a.scenarios.split(","):
        for seed in (int(s) for s in a.seeds.split(",")):
            try:
                r = run_one(scenario, seed, a.out, with_cases=not a.no_cases)
                reports.append(r)
                print(f"{scenario} seed {seed}: F1 all {_f(r['overall']['f1'])} % {r['timings_s']}", flush=True)
            except RuntimeError as exc:
                failures.append(f"{scenario} seed {seed}: {exc}")
                print(failures[-1], file=sys.stderr, flush=True)
    if reports:
        print(table(reports))
        print()
        print(cases_table(reports))
    (a.out / "summary.json").write_text(json.dumps({"reports": reports, "failures": failures}, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
