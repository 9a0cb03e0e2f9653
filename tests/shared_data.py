"""Where the real reference data lives (../shared/data), and a helper that skips a test when it is absent.

A module of its own (not conftest) so that test files can import it whatever other conftest.py files exist.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SHADOWFLEET_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_file(rel: str) -> Path:
    """Path of a reference file, skipping the test when it is absent."""
    p = SHARED_DATA / rel
    if not p.exists():
        pytest.skip(f"shared reference file not found: {p}")
    return p
