"""`--engine` / `--scheduler` on the command line: a real Dask run from `python -m shadowfleet` (worker processes
import the package, not the command), and one error line for what a user can get wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    return subprocess.run([sys.executable, "-m", "shadowfleet", *args], capture_output=True, text=True, timeout=300,
                          env=env)


def one_error_line(r: subprocess.CompletedProcess, needle: str) -> None:
    err = r.stderr.strip()
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout, r.stderr
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and needle in err, err


@pytest.fixture(scope="module")
def nmea(tmp_path_factory) -> Path:
    sim = pytest.importorskip("shadowfleet.sim")
    out = tmp_path_factory.mktemp("sim")
    sim.simulate("nampo-sts", out, seed=2, days=2, vessels=4)
    return out


@pytest.mark.slow
def test_ingest_detect_and_cases_run_on_a_local_dask_cluster_from_the_command_line(nmea, tmp_path):
    store = str(tmp_path / "store")
    dask = ["--engine", "dask", "--scheduler", "local:2"]
    r = run("ingest", str(nmea / "ais.nmea"), "--store", store, "-q", *dask)
    assert r.returncode == 0, r.stderr
    r = run("detect", "--store", store, "--places", str(nmea / "places.geojson"), *dask)
    assert r.returncode == 0, r.stderr
    assert "events (port_call" in r.stderr
    r = run("cases", "--store", store, "-q", *dask)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("args, needle", [
    (["--engine", "spark"], "--engine must be one of local, dask"),
    (["--engine", "dask", "--scheduler", "http://x;rm -rf /"], "--scheduler must be local, local:N or"),
    (["--engine", "dask", "--scheduler", "local:0"], "at least 1 worker"),
    (["--scheduler", "local:2"], "--scheduler needs --engine dask"),
])
def test_a_wrong_engine_or_scheduler_is_one_error_line(nmea, tmp_path, args, needle):
    one_error_line(run("ingest", str(nmea / "ais.nmea"), "--store", str(tmp_path / "s"), *args), needle)


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_error_line(nmea, tmp_path):
    run("ingest", str(nmea / "ais.nmea"), "--store", str(tmp_path / "s"), "-q")
    one_error_line(run("detect", "--store", str(tmp_path / "s"), "--engine", "dask", "--scheduler",
                       "tcp://127.0.0.1:9"), "cannot reach the Dask scheduler")
