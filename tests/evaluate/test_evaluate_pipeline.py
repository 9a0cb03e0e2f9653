"""End to end on a short simulated run: simulate -> ingest -> detect -> cases -> evaluate, as a user runs them.

A regression guard for the whole chain against the simulator's truth (docs/evaluation.md has the full measurement).
"""

from __future__ import annotations

import pytest

from shadowfleet.evaluate import evaluate
from clirunner import run_cli


@pytest.mark.slow
def test_six_simulated_days_are_found_with_high_precision_and_recall(tmp_path):
    sim, store = tmp_path / "sim", tmp_path / "store"
    run_cli("simulate", "--scenario", "vostochny-2024-03", "--seed", "11", "--days", "6", "--vessels", "15", "--out", str(sim), "-q").ok()
    run_cli("ingest", str(sim / "ais.nmea"), "--store", str(store), "-q").ok()
    run_cli("detect", "--store", str(store), "-q").ok()
    run_cli("cases", "--store", str(store), "-q", "--out", str(tmp_path / "cases.jsonl")).ok()
    r = evaluate(sim / "truth.json", store)

    for s in list(r.types.values()) + [r.overall]:
        # the bookkeeping every figure rests on
        assert s.tp + s.fn == s.visible and s.tp + s.fp + s.matched_invisible == s.detected, s.type
    assert r.types["port_call"].truth > 20 and r.types["ais_gap"].truth > 5
    assert r.types["port_call"].f1 >= 0.9 and r.types["ais_gap"].f1 >= 0.9
    assert r.overall.precision >= 0.9 and r.overall.recall >= 0.9
    assert r.cases is not None and r.cases.voyages >= 1 and r.cases.per_month
