"""The JSON API against a real store built from a simulated scenario, served by a real uvicorn on localhost."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import polars as pl
import pytest

from servekit import FORMULA_CALLSIGN, HOSTILE_ENTRY, HOSTILE_MMSI, HOSTILE_NAME
from shadowfleet.store import Store


@pytest.fixture(scope="module")
def stored_events(served):
    return Store(served["store"], create=False).read("events")


def test_events_page_answers_total_offset_limit_next_offset_and_entries(api, stored_events):
    r = api.get("/events", params={"limit": 10, "offset": 5})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"total", "offset", "limit", "nextOffset", "entries"}
    assert body["total"] == stored_events.height
    assert (body["offset"], body["limit"], body["nextOffset"]) == (5, 10, 15)
    assert len(body["entries"]) == 10
    starts = [e["start"] for e in body["entries"]]
    assert starts == sorted(starts)
    last = api.get("/events", params={"limit": 10, "offset": stored_events.height - 3}).json()
    assert len(last["entries"]) == 3 and last["nextOffset"] is None


def test_event_filters_match_the_same_selection_done_in_polars(api, stored_events):
    start, end = "2024-03-02", "2024-03-04"
    r = api.get("/events", params={"types": "port_call,encounter", "start-date": start, "end-date": end,
                                   "limit": 1000}).json()
    lo = dt.datetime(2024, 3, 2, tzinfo=dt.timezone.utc)
    hi = dt.datetime(2024, 3, 4, tzinfo=dt.timezone.utc)
    want = stored_events.filter(pl.col("type").is_in(["port_call", "encounter"])
                                & (pl.coalesce("end", "start") >= lo) & (pl.col("start") < hi))
    assert r["total"] == want.height > 0
    assert sorted(e["event_id"] for e in r["entries"]) == sorted(want["event_id"])


def test_events_filter_by_place_flag_vessel_bbox_inferred_and_listed(api, stored_events):
    pc = stored_events.filter(pl.col("type") == "port_call")
    place = pc["place"].mode()[0]
    by_place = api.get("/events", params={"places": place, "types": "port_call", "limit": 1000}).json()
    assert by_place["total"] == pc.filter(pl.col("place") == place).height
    kp = api.get("/events", params={"flags": "KP", "limit": 1000}).json()
    assert kp["total"] > 0 and all(e["flag"] == "KP" and str(e["mmsi"]).startswith("445") for e in kp["entries"])
    one = int(stored_events["mmsi"][0])
    mine = api.get("/events", params={"vessels": str(one), "limit": 1000}).json()
    assert mine["total"] == stored_events.filter((pl.col("mmsi") == one) | (pl.col("other_mmsi") == one)).height
    box = api.get("/events", params={"bbox": "132.5,42.0,133.5,43.0", "limit": 1000}).json()
    assert all(132.5 <= e["lon"] <= 133.5 and 42.0 <= e["lat"] <= 43.0 for e in box["entries"])
    assert box["total"] == stored_events.filter(pl.col("lon").is_between(132.5, 133.5)
                                                & pl.col("lat").is_between(42.0, 43.0)).height
    seen = api.get("/events", params={"inferred": "false", "limit": 1000}).json()
    assert seen["total"] == stored_events.filter(~pl.col("inferred").fill_null(False)).height
    listed = api.get("/events", params={"listed": "true", "limit": 1000}).json()
    assert listed["total"] > 0 and all(e["listed"] for e in listed["entries"])
    assert HOSTILE_MMSI in {e["mmsi"] for e in listed["entries"]}


def test_events_sort_by_duration_descending(api):
    rows = api.get("/events", params={"sort": "-duration", "limit": 20}).json()["entries"]
    d = [e["duration_h"] for e in rows]
    assert d == sorted(d, reverse=True)


@pytest.mark.parametrize("params, name", [
    ({"types": "port_call,teleport"}, "types"),
    ({"start-date": "yesterday"}, "start-date"),
    ({"start-date": "2024-03-05", "end-date": "2024-03-01"}, "end-date"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "0,95,1,96"}, "bbox"),
    ({"inferred": "maybe"}, "inferred"),
    ({"limit": "0"}, "limit"),
    ({"limit": "100000"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"vessels": "12345678901"}, "vessels"),
    ({"flags": "KPX"}, "flags"),
    ({"places": "../../etc/passwd"}, "places"),
    ({"sort": "name; DROP TABLE events"}, "sort"),
    ({"format": "xlsx"}, "format"),
])
def test_a_bad_parameter_is_422_naming_it(api, params, name):
    r = api.get("/events", params=params)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == name


def test_unknown_ids_are_404(api):
    assert api.get("/vessels/123456789").status_code == 404
    assert api.get("/cases/case-nope").status_code == 404
    assert api.get("/events/port_call-1-2").status_code == 404
    assert api.post("/cases/case-nope/notes", json={"author": "a", "text": "b"}).status_code == 404
    assert api.get("/vessels/0").status_code == 422
    assert api.get("/cases/..%2F..%2Fetc").status_code in (404, 422)


def test_events_stats_count_what_the_list_holds(api, stored_events):
    s = api.get("/events/stats").json()
    assert s["total"] == stored_events.height
    assert sum(t["count"] for t in s["by_type"]) == stored_events.height
    assert {t["type"] for t in s["by_type"]} == set(stored_events["type"].unique())
    only = api.get("/events/stats", params={"types": "ais_gap"}).json()
    assert only["total"] == stored_events.filter(pl.col("type") == "ais_gap").height


def test_vessel_search_finds_any_name_mmsi_and_returns_the_hostile_name_as_data(api):
    r = api.get("/vessels/search", params={"query": "onerror"}).json()
    assert [v["mmsi"] for v in r["entries"]] == [HOSTILE_MMSI]
    assert r["entries"][0]["name"] == HOSTILE_NAME and r["entries"][0]["listed"] is True
    assert api.get("/vessels/search", params={"query": str(HOSTILE_MMSI)[:6]}).json()["total"] >= 1
    assert api.get("/vessels/search", params={"query": ""}).status_code == 422
    assert api.get("/vessels/search").status_code == 422


def test_vessel_profile_has_identities_sanctions_hits_with_list_version_events_and_cases(api, served):
    v = api.get(f"/vessels/{HOSTILE_MMSI}").json()
    assert v["name"] == HOSTILE_NAME and v["flag"] == "RU"
    hit = v["sanctions"][0]
    assert hit["entry_name"] == HOSTILE_ENTRY and hit["version_date"] == "2024-12-01" and hit["match_on"] == "imo"
    cases = Store(served["store"], create=False).read("cases")
    mmsi = int(cases["mmsi"][0])
    p = api.get(f"/vessels/{mmsi}").json()
    assert [c["case_id"] for c in p["cases"]] == cases.filter(pl.col("mmsi") == mmsi)["case_id"].to_list()
    assert p["events"] and all(mmsi in (e["mmsi"], e["other_mmsi"]) for e in p["events"])
    assert p["identities"] and p["n_positions"] > 0


def test_track_geojson_has_segment_lines_gaps_and_timed_positions(api, served):
    store = Store(served["store"], create=False)
    gap = store.read("events").filter(pl.col("type") == "ais_gap").row(0, named=True)
    lo = (gap["start"] - dt.timedelta(hours=12)).isoformat()
    hi = (gap["end"] + dt.timedelta(hours=12)).isoformat()
    fc = api.get(f"/vessels/{gap['mmsi']}/track", params={"start-date": lo, "end-date": hi}).json()
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    assert "track" in kinds and "gap" in kinds and kinds[-1] == "positions"
    g = [f for f in fc["features"] if f["properties"]["kind"] == "gap"]
    assert any(f["properties"]["hours"] >= 6 for f in g)
    pts = fc["features"][-1]
    times = pts["properties"]["times"]
    assert len(times) == len(pts["geometry"]["coordinates"]) and times == sorted(times)
    assert lo[:10] <= times[0][:10] and times[-1] < hi


def test_track_end_date_is_exclusive_and_a_month_is_returned_whole(api, served):
    store = Store(served["store"], create=False)
    mmsi = int(store.read("cases")["mmsi"][0])
    fc = api.get(f"/vessels/{mmsi}/track", params={"start-date": "2024-03-01", "end-date": "2024-04-01",
                                                  "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(fc.text)))
    want = store.read("positions", mmsi=mmsi).filter(pl.col("lat").is_not_null())
    assert len(rows) == want.height
    day2 = api.get(f"/vessels/{mmsi}/track", params={"start-date": "2024-03-02", "end-date": "2024-03-03",
                                                    "format": "csv"})
    assert all(r["ts"].startswith("2024-03-02") for r in csv.DictReader(io.StringIO(day2.text)))


def test_track_simplify_keeps_fewer_points_with_their_times(api, served):
    mmsi = int(Store(served["store"], create=False).read("cases")["mmsi"][0])
    full = api.get(f"/vessels/{mmsi}/track", params={"start-date": "2024-03-01", "end-date": "2024-03-07"}).json()
    slim = api.get(f"/vessels/{mmsi}/track", params={"start-date": "2024-03-01", "end-date": "2024-03-07",
                                                    "simplify": 2000}).json()
    n_full = len(full["features"][-1]["geometry"]["coordinates"])
    n_slim = len(slim["features"][-1]["geometry"]["coordinates"])
    assert 2 <= n_slim < n_full
    assert set(slim["features"][-1]["properties"]["times"]) <= set(full["features"][-1]["properties"]["times"])
    assert api.get(f"/vessels/{mmsi}/track", params={"simplify": "-1"}).status_code == 422


def test_track_as_ogc_moving_features_json(api, served):
    mmsi = int(Store(served["store"], create=False).read("cases")["mmsi"][0])
    r = api.get(f"/vessels/{mmsi}/track", params={"start-date": "2024-03-01", "end-date": "2024-03-07",
                                                 "format": "mfjson"})
    assert "attachment" in r.headers["content-disposition"]
    doc = r.json()
    mf = doc["features"][0]
    tg = mf["temporalGeometry"]
    assert tg["type"] == "MovingPoint" and tg["interpolation"] == "Linear"
    assert len(tg["datetimes"]) == len(tg["coordinates"]) > 1
    assert mf["temporalProperties"][0]["sog"]["form"] == "[kn_i]"
    assert mf["properties"]["mmsi"] == mmsi


def test_csv_exports_cannot_run_as_spreadsheet_formulas(api):
    text = api.get("/vessels/search", params={"query": "onerror"}).json()
    assert text["entries"][0]["callsign"] == FORMULA_CALLSIGN  # JSON keeps the data as it was broadcast
    r = api.get("/events", params={"vessels": str(HOSTILE_MMSI), "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and all(row["name"] == HOSTILE_NAME for row in rows)
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "@")) and not (cell.startswith("-") and not _number(cell))


def _number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def test_events_export_as_geojson_points(api, stored_events):
    r = api.get("/events", params={"types": "port_call", "format": "geojson"})
    doc = json.loads(r.text)
    assert doc["type"] == "FeatureCollection"
    assert len(doc["features"]) == stored_events.filter(pl.col("type") == "port_call").height
    f = doc["features"][0]
    assert f["geometry"]["type"] == "Point" and f["properties"]["type"] == "port_call"


def test_cases_list_detail_and_exports(api, served):
    cases = Store(served["store"], create=False).read("cases")
    lst = api.get("/cases").json()
    assert lst["total"] == cases.height
    cid = lst["entries"][0]["case_id"]
    c = api.get(f"/cases/{cid}").json()
    assert c["evidence_events"] and {e["event_id"] for e in c["evidence_events"]} <= set(c["evidence"])
    assert c["barrels_low"] <= c["barrels_central"] <= c["barrels_high"] and c["reasons"]
    assert len(list(csv.DictReader(io.StringIO(api.get("/cases", params={"format": "csv"}).text)))) == cases.height
    gj = api.get("/cases", params={"format": "geojson"}).json()
    assert len(gj["features"]) == cases.height and gj["features"][0]["geometry"]["type"] == "Point"


def test_notes_are_appended_with_time_and_author_and_kept_as_text(api, served):
    cid = api.get("/cases").json()["entries"][0]["case_id"]
    r = api.post(f"/cases/{cid}/notes", json={"author": "analyst <b>", "text": "<script>alert(9)</script>\nsecond"})
    assert r.status_code == 201
    note = r.json()
    assert note["author"] == "analyst <b>" and note["text"].startswith("<script>")
    api.post(f"/cases/{cid}/notes", json={"author": "second analyst", "text": "follow-up"})
    notes = api.get(f"/cases/{cid}").json()["notes"]
    assert [n["author"] for n in notes[-2:]] == ["analyst <b>", "second analyst"]
    assert notes[-1]["ts"] >= notes[-2]["ts"]
    stored = Store(served["store"], create=False).read("notes")
    assert stored.filter(pl.col("case_id") == cid).height >= 2


def test_notes_are_size_limited_and_need_a_json_body(api):
    cid = api.get("/cases").json()["entries"][0]["case_id"]
    assert api.post(f"/cases/{cid}/notes", json={"author": "a", "text": "x" * 4001}).status_code == 422
    assert api.post(f"/cases/{cid}/notes", json={"author": "a" * 81, "text": "x"}).status_code == 422
    assert api.post(f"/cases/{cid}/notes", json={"author": "a", "text": "  "}).status_code == 422
    assert api.post(f"/cases/{cid}/notes", json={"author": "a", "text": "bell\x07"}).status_code == 422
    assert api.post(f"/cases/{cid}/notes", json=["not", "an", "object"]).status_code == 422
    big = api.post(f"/cases/{cid}/notes", content=b'{"author":"a","text":"' + b"x" * 20_000 + b'"}',
                   headers={"content-type": "application/json"})
    assert big.status_code == 413
    form = api.post(f"/cases/{cid}/notes", data={"author": "a", "text": "b"})
    assert form.status_code == 415


def test_ledger_months_add_up_to_the_cases(api, served):
    led = api.get("/ledger", params={"year": 2024}).json()
    assert led["cap"] == 500_000 and len(led["months"]) == 12
    cases = Store(served["store"], create=False).read("cases").filter(pl.col("destination_country") == "KP")
    assert sum(m["est_central"] for m in led["months"]) == pytest.approx(cases["barrels_central"].sum())
    assert api.get("/ledger", params={"year": 24}).status_code == 422
    assert api.get("/ledger", params={"country": "K1"}).status_code == 422


def test_places_basemap_detections_and_nearby(api, served, stored_events):
    places = api.get("/places").json()
    assert {"RUVYP-OIL", "KPRJN"} <= {f["properties"]["id"] for f in places["features"]}
    land = api.get("/basemap/land").json()
    assert land["features"] and land["features"][0]["geometry"]["type"] == "Polygon"
    assert api.get("/detections").json()["total"] == 0
    enc = stored_events.filter(pl.col("type") == "encounter").row(0, named=True)
    near = api.get("/tracks/nearby", params={"lat": enc["lat"], "lon": enc["lon"], "time": enc["start"].isoformat(),
                                             "exclude": enc["mmsi"]}).json()
    ids = {f["properties"]["mmsi"] for f in near["features"]}
    assert enc["other_mmsi"] in ids and enc["mmsi"] not in ids


def test_every_response_carries_a_csp_without_inline_script_or_other_origins(base_url):
    import httpx

    for path in ("/", "/static/app.js", "/api/v1/events", "/api/v1/docs", "/api/v1/nope"):
        r = httpx.get(base_url + path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "http" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    page = httpx.get(base_url + "/").text
    assert "<script>" not in page and "onload=" not in page  # every script is a file of this server


def test_openapi_documents_the_gfw_style_parameters(api):
    spec = api.get("/openapi.json").json()
    params = {p["name"] for p in spec["paths"]["/api/v1/events"]["get"]["parameters"]}
    assert {"types", "vessels", "start-date", "end-date", "places", "flags", "bbox", "inferred", "limit",
            "offset"} <= params
    assert "/api/v1/cases/{case_id}/notes" in spec["paths"]
    assert api.get("/docs").status_code == 200


def test_a_request_addressed_to_another_host_name_is_refused_without_a_token(base_url):
    import httpx

    r = httpx.get(base_url + "/api/v1/events", headers={"host": "attacker.example"})
    assert r.status_code == 421
    assert httpx.get(base_url + "/api/v1/events", headers={"host": "localhost:1234"}).status_code == 200


def test_static_files_cannot_be_reached_outside_the_package(base_url):
    import httpx

    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/vendor/../../queries.py"):
        r = httpx.get(base_url + path)
        assert r.status_code == 404 and "import" not in r.text


def test_the_map_track_read_from_segments_matches_the_full_export(api, served):
    mmsi = int(Store(served["store"], create=False).read("cases")["mmsi"][0])
    window = {"start-date": "2024-03-01", "end-date": "2024-03-07"}
    fc = api.get(f"/vessels/{mmsi}/track", params=window).json()
    rows = list(csv.DictReader(io.StringIO(api.get(f"/vessels/{mmsi}/track", params={**window, "format": "csv"}).text)))
    assert fc["features"][-1]["properties"]["times"] == [r["ts"][:19] + "Z" for r in rows]


def test_positions_ingested_after_detect_still_appear_on_the_map_track(served, tmp_path):
    import shutil

    from servekit import running
    from shadowfleet.ingest import ingest
    from shadowfleet.serve import create_app

    root = tmp_path / "store"
    shutil.copytree(served["store"], root)
    late = tmp_path / "late.csv"
    late.write_text("MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName\n"
                    f"{HOSTILE_MMSI},2024-03-20T10:00:00,42.8,133.9,5.0,90,90,LATE\n"
                    f"{HOSTILE_MMSI},2024-03-20T11:00:00,42.8,134.0,5.0,90,90,LATE\n", encoding="utf-8")
    ingest([late], Store(root, create=False), fmt="csv")
    with running(create_app(root, places=served["places"])) as base:
        import httpx

        fc = httpx.get(f"{base}/api/v1/vessels/{HOSTILE_MMSI}/track",
                       params={"start-date": "2024-03-01", "end-date": "2024-03-21"}).json()
    times = fc["features"][-1]["properties"]["times"]
    assert times[-2:] == ["2024-03-20T10:00:00Z", "2024-03-20T11:00:00Z"]
    assert any(t.startswith("2024-03-01") for t in times)


def test_notes_posted_at_once_by_many_analysts_are_all_kept_once(api, base_url):
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    cid = api.get("/cases").json()["entries"][-1]["case_id"]
    before = len(api.get(f"/cases/{cid}").json()["notes"])

    def post(i: int) -> int:
        return httpx.post(f"{base_url}/api/v1/cases/{cid}/notes", json={"author": f"analyst {i}", "text": f"note {i}"},
                          timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(post, range(24)))
    assert codes == [201] * 24
    notes = api.get(f"/cases/{cid}").json()["notes"]
    assert len(notes) == before + 24
    assert sorted(n["text"] for n in notes[before:]) == sorted(f"note {i}" for i in range(24))


def test_the_ledger_exports_as_csv(api):
    r = api.get("/ledger", params={"year": 2024, "format": "csv"})
    assert r.headers["content-disposition"].endswith('ledger-2024-KP.csv"')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["month"] for row in rows] == [f"2024-{m:02d}" for m in range(1, 13)]
