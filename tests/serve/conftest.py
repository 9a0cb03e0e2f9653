"""Fixtures of the dashboard tests: one real store per session and a server over it."""

from __future__ import annotations

import pytest

from servekit import build_store, client, running


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="session")
def base_url(served):
    from shadowfleet.serve import create_app

    with running(create_app(served["store"], places=served["places"])) as url:
        yield url


@pytest.fixture()
def api(base_url):
    with client(base_url + "/api/v1") as c:
        yield c
