"""/api/v1/imagery/occupancy and /api/v1/imagery/plan against a real server over a real store."""

from __future__ import annotations

import json

import pytest

from servekit import client, running
from tests.imagery.test_occupancy import store  # noqa: F401  (fixture: four ships at the oil berth)
from tests.imagery.test_plan import scenario  # noqa: F401  (fixture: a dark call at the oil berth)


@pytest.fixture()
def api_over(request):
    from shadowfleet.serve import create_app

    def serve(st):
        cm = running(create_app(st))
        url = cm.__enter__()
        request.addfinalizer(lambda: cm.__exit__(None, None, None))
        c = client(url + "/api/v1")
        request.addfinalizer(c.close)
        return c

    return serve


def test_occupancy_endpoint_gives_the_timeline_and_exports(api_over, store):  # noqa: F811
    api = api_over(store)
    r = api.get("/imagery/occupancy", params={"place": "RUVYP-OIL"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 5 and body["timeline"][0].endswith("4 ships at RUVYP-OIL, 3 not broadcasting, 1 listed")
    assert [e["scene_id"] for e in body["entries"]] == ["s1"] * 4 + ["s2"]
    assert api.get("/imagery/occupancy", params={"place": "RUVYP-OIL", "end-date": "2024-03-10"}).json()["total"] == 4
    r = api.get("/imagery/occupancy", params={"place": "RUVYP-OIL", "format": "csv"})
    assert r.status_code == 200 and "'=RYE SONG GANG 1" in r.text and r.headers["content-type"].startswith("text/csv")
    doc = json.loads(api.get("/imagery/occupancy", params={"place": "RUVYP-OIL", "format": "geojson"}).text)
    assert len(doc["features"]) == 5
    r = api.get("/imagery/occupancy", params={"place": "RUVYP-OI"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "place" and "RUVYP-OIL" in r.json()["error"]
    r = api.get("/imagery/occupancy", params={"place": "<script>"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "place"


def test_plan_endpoint_ranks_the_questions(api_over, scenario):  # noqa: F811
    api = api_over(scenario)
    r = api.get("/imagery/plan", params={"start-date": "2024-12-01", "end-date": "2024-12-10"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 4 and body["entries"][0]["kind"] == "dark_port_call"
    assert body["entries"][0]["place"] == "RUVYP-OIL" and body["entries"][0]["rank"] == 1
    doc = json.loads(api.get("/imagery/plan", params={"start-date": "2024-12-01", "end-date": "2024-12-10",
                                                      "format": "geojson"}).text)
    assert doc["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    r = api.get("/imagery/plan", params={"start-date": "2024-12-10", "end-date": "2024-12-01"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "end-date"
    r = api.get("/imagery/plan", params={"end-date": "2024-12-01"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "start-date"
    for start, end in (("0001-01-01", "0001-06-01"), ("9999-06-01", "9999-12-31")):  # padding would overflow
        r = api.get("/imagery/plan", params={"start-date": start, "end-date": end})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "start-date"
