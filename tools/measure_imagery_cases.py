"""Measure what imagery adds to the cases on the simulator's truth (docs/cases.md "Imagery: measured").

    PYTHONPATH=src python tools/measure_imagery_cases.py OUT SEED [SEED...] [--reuse] [--scenario NAME]

(--reuse: keep the demo's store of an earlier run and redo only cases and evaluate.)

For each seed: `run_demo` (simulate vostochny-2024-03 with its radar scenes, ingest, detect, imagery detect and
match, screen, cases, evaluate), then
- the dark berth visits the rendered scenes cover (imagery.json: a ship with AIS off inside a berth or terminal)
  and how many are corroborated in a case of that vessel by a dark detection of that scene;
- true and false cases (evaluate's matching of cases to the truth's voyages) and the ROC AUC of their confidence,
  with the imagery weights and with them set to 0 (the same store, the same cases otherwise).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path


def auc(pos: list[float], neg: list[float]) -> float | None:
    """Probability that a true case has a higher confidence than a false one (ties count half)."""
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def measure(out: Path, seed: int, reuse: bool = False, scenario: str = "vostochny-2024-03") -> dict:
    from shadowfleet.cases import build_cases
    from shadowfleet.cases.config import DEFAULTS
    from shadowfleet.demo import run_demo
    from shadowfleet.places import load_places
    from shadowfleet.store import Store

    sim = out / "sim"
    if reuse and (out / "store").is_dir():
        from shadowfleet.evaluate import evaluate
        from shadowfleet.report import headline

        places = load_places(sim / "places.geojson")
        st = Store(out / "store", create=False)
        build_cases(st, places=places)
        scores, text = evaluate(sim / "truth.json", st, places=places), headline(st, "2024-03", places)
    else:
        res = run_demo(out, scenario=scenario, seed=seed)
        scores, text = res.scores, res.headline
        places = load_places(sim / "places.geojson")
    doc = json.loads((sim / "imagery.json").read_text(encoding="utf-8"))
    st = Store(out / "store", create=False)
    cases = st.read("cases")
    visits = []
    for a in doc["acquisitions"]:
        if not a.get("render"):
            continue
        for s in a["ships"]:
            where = places.locate(s["lat"], s["lon"], kinds=("berth", "terminal"))[0]
            if not s["ais_on"] and where is not None:
                visits.append((s["mmsi"], a["id"], where))
    got = {(r["mmsi"], x["scene_id"]) for r in cases.iter_rows(named=True)
           for x in json.loads(r["imagery"] or "[]") if not x.get("matched")}
    claimed = sorted(got)
    true_ids = {p["case_id"] for p in scores.cases.per_voyage if p.get("case_id")}
    off = dataclasses.replace(DEFAULTS, w_imagery_dark_load=0.0, w_imagery_dark_discharge=0.0,
                              w_imagery_dark_sts=0.0, w_imagery_matched=0.0)
    plain = build_cases(st, places=places, cfg=off, write=False)
    conf = {}
    for name, df in (("with", cases), ("without", plain)):
        pos = [c for i, c in zip(df["case_id"], df["confidence"]) if i in true_ids]
        neg = [c for i, c in zip(df["case_id"], df["confidence"]) if i not in true_ids]
        conf[name] = {"true": sorted(pos), "false": sorted(neg), "auc": auc(pos, neg),
                      "mean_true": sum(pos) / len(pos) if pos else None, "max_false": max(neg) if neg else None}
    return {"scenario": scenario, "seed": seed, "visits": visits, "corroborated": [v for v in visits if (v[0], v[1]) in got],
            "claimed": claimed, "wrong": [g for g in claimed if g not in {(m, s) for m, s, _ in visits}],
            "cases": cases.height, "true_cases": len(true_ids & set(cases["case_id"])), "confidence": conf,
            "false_cases": [c for c in cases["case_id"] if c not in true_ids], "headline": text}


def main(argv: list[str]) -> int:
    reuse = "--reuse" in argv
    argv = [a for a in argv if a != "--reuse"]
    scenario = "vostochny-2024-03"
    if "--scenario" in argv:
        i = argv.index("--scenario")
        scenario = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    out = Path(argv[0])
    for seed in argv[1:]:
        r = measure(out / f"{scenario}-{seed}", int(seed), reuse, scenario)
        print(json.dumps(r, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
