"""Small rendered scenes shared by the imagery tests (6 km footprints, made once per session)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """A short vostochny-2024-03 run with its scenes rendered: (folder, imagery.json doc)."""
    from shadowfleet.sim import simulate

    out = tmp_path_factory.mktemp("sim-imagery")
    simulate("vostochny-2024-03", out, seed=11, days=13, vessels=0, render_imagery=True,
             config={"footprint_km": 6.0})
    return out, json.loads((out / "imagery.json").read_text())
