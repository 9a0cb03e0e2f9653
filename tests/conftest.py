"""Shared fixtures. Real reference data is read from ../shared/data and skipped cleanly where it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared_data import ROOT, SHARED_DATA, shared_file  # noqa: F401  (re-exported for older imports)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared reference data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def cli():
    """Run `shadowfleet ARGS…` in this process: ``cli("stats", "--store", path)`` → Result(code, out, err)."""
    from clirunner import run_cli

    return run_cli
