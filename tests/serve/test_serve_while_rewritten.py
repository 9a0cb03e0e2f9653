"""The server keeps answering while detect, cases and screening rewrite the store under it."""

from __future__ import annotations

import shutil
import threading

import httpx
import pytest

from servekit import running

pytestmark = pytest.mark.slow


def test_requests_never_fail_half_way_while_detect_and_cases_rewrite_the_tables(served, tmp_path):
    from shadowfleet.cases import build_cases
    from shadowfleet.events import detect
    from shadowfleet.places import load_places
    from shadowfleet.serve import create_app
    from shadowfleet.store import Store

    root = tmp_path / "store"
    shutil.copytree(served["store"], root)
    store = Store(root, create=False)
    app = create_app(root, places=served["places"])
    with running(app) as base, httpx.Client(base_url=base + "/api/v1", timeout=30) as c:
        events_total = c.get("/events").json()["total"]
        cases_total = c.get("/cases").json()["total"]
        mmsi = c.get("/cases").json()["entries"][0]["mmsi"]
        stop = threading.Event()
        rewrites = []
        errors: list[BaseException] = []

        gazetteer = load_places(served["places"])

        def rewrite():
            try:
                while not stop.is_set():
                    detect(store, places=gazetteer)
                    build_cases(store, places=gazetteer)
                    rewrites.append(1)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        writer = threading.Thread(target=rewrite)
        writer.start()
        seen = []
        try:
            while len(rewrites) < 3 and writer.is_alive():
                for path in ("/events?limit=5", "/cases", f"/vessels/{mmsi}", "/events/stats", "/ledger"):
                    r = c.get(path)
                    assert r.status_code == 200, (path, r.status_code, r.text[:300])
                    seen.append(r.json())
        finally:
            stop.set()
            writer.join(300)
        assert not errors, errors
        totals = [s["total"] for s in seen if "nextOffset" in s and "entries" in s and s["limit"] == 5]
        assert totals and set(totals) == {events_total}  # the same data rewritten: never a half or empty table
        assert {s["total"] for s in seen if "entries" in s and s.get("limit") == 50} <= {cases_total}
        assert len(seen) > 15
