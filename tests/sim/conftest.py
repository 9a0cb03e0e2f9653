"""Small simulator runs shared by the sim tests (module-scoped: each is a few seconds)."""

from __future__ import annotations

import json

import pytest

from shadowfleet.sim import simulate


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """vostochny-2024-03, the whole of March, 16 background vessels: the seed's story plus some traffic."""
    out = tmp_path_factory.mktemp("vostochny")
    summary = simulate("vostochny-2024-03", out, seed=7, vessels=16)
    truth = json.loads((out / "truth.json").read_text())
    return out, summary, truth


def pytest_collection_modifyitems(items):
    # the whole-month run behind small_run takes tens of seconds on a shared laptop
    for item in items:
        if "small_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
