"""End to end through the CLI on a real file: ingest -> detect -> track, the segment ids coming from detect."""

from __future__ import annotations

import json

import pytest
from clirunner import run_cli

FRIO = "538004030"

pytestmark = pytest.mark.slow  # a whole simulated scenario end to end




def test_track_jsonl_carries_detect_segments(shared_data, tmp_path):
    store = str(tmp_path / "store")
    drift = shared_data / "ais/dma_aisabnormal_538004030_drift_20140928.ais"
    assert run_cli("ingest", str(drift), "--store", store, "--quiet").returncode == 0
    before = [json.loads(x) for x in run_cli("track", FRIO, "--store", store, "--format", "jsonl").stdout.splitlines()]
    assert len(before) > 900 and all(r["segment"] is None for r in before)
    d = run_cli("detect", "--store", store, "--quiet")
    if d.returncode != 0:
        pytest.fail(f"detect failed: {d.stderr.strip()}")
    after = [json.loads(x) for x in run_cli("track", FRIO, "--store", store, "--format", "jsonl").stdout.splitlines()]
    assert [r["ts"] for r in after] == [r["ts"] for r in before]  # the join adds a column, never rows
    # one tanker drifting 2.5 h with reports every ~10 s: a single segment
    assert {r["segment"] for r in after} == {after[0]["segment"]} and after[0]["segment"] is not None
