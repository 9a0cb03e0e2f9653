"""`shadowfleet demo`: the whole chain on built-in data, from a subprocess as `make demo` runs it."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # a whole simulated scenario end to end


def test_demo_runs_the_chain_and_prints_the_headline_and_report_path(tmp_path):
    out = tmp_path / "demo"
    r = subprocess.run(
        [sys.executable, "-m", "shadowfleet", "demo", "--out", str(out), "--days", "12", "--vessels", "30"],
        capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "loaded at" in r.stdout and "annual cap" in r.stdout
    assert f"report: {out / 'report.html'}" in r.stdout.replace("\n", "")
    assert f"dashboard: shadowfleet serve --store {out / 'store'}" in r.stdout.replace("\n", "")
    html = (out / "report.html").read_text()
    assert "<script src" not in html and "Vostochny" in html
    for step in ("simulate", "ingest", "detect", "imagery", "screen", "cases", "plan", "F1 vs truth"):
        assert step in r.stderr
