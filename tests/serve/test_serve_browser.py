"""The dashboard in a real browser: Playwright driving Debian's Chromium against the real server and store.

Every test fails on a request to anything but the local server, a JavaScript error, a CSP violation or an
alert dialog. Screenshots go to test-output/serve/ (override with SHADOWFLEET_TEST_OUTPUT)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from servekit import HOSTILE_ENTRY, HOSTILE_MMSI, HOSTILE_NAME, running

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
OUT = Path(os.environ.get("SHADOWFLEET_TEST_OUTPUT", Path(__file__).resolve().parents[2] / "test-output")) / "serve"

pytestmark = pytest.mark.slow  # a browser per module and a few seconds a page

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
    pytest.skip(f"browser tests skipped: Chromium not found at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
                              args=ARGS)
        yield b
        b.close()


class Watched:
    """A page whose outside requests, script errors, CSP violations and dialogs are recorded."""

    def __init__(self, browser, base: str, **context_kw):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1400, "height": 850}, accept_downloads=True,
                                           **context_kw)
        self.outside: list[str] = []
        self.problems: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on("console", self._console)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base + "/") or url.startswith("blob:") or url.startswith("data:"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _console(self, msg):
        if msg.type == "error" and ("Content Security Policy" in msg.text or "Refused" in msg.text):
            self.problems.append(f"csp: {msg.text}")

    def open(self, fragment: str = ""):
        self.page.goto(self.base + "/" + fragment)
        self.page.wait_for_selector("body[data-ready='1']", timeout=20000)
        return self.page

    def shot(self, name: str):
        OUT.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(OUT / f"{name}.png"))

    def check(self):
        assert self.outside == [], f"requests to other origins: {self.outside}"
        assert self.problems == [], self.problems
        self.context.close()


@pytest.fixture()
def watched(browser, base_url):
    w = Watched(browser, base_url)
    yield w
    w.check()


def api_json(base_url: str, path: str, **params):
    return httpx.get(base_url + "/api/v1" + path, params=params, timeout=30).json()


def test_dashboard_loads_to_an_interactive_map_with_land_places_and_events(watched, base_url):
    page = watched.open()
    assert page.locator("#map.leaflet-container").count() == 1
    assert page.locator("#map[data-ready='1']").count() == 1
    assert page.locator(".leaflet-overlay-pane path").count() > 50  # land rings, place polygons, event markers
    total = api_json(base_url, "/events")["total"]
    assert page.locator("#event-total").inner_text() == f"{total} events"
    assert page.locator("#event-list tbody tr").count() == min(50, total)
    page.locator(".leaflet-control-zoom-in").click()  # the map answers
    page.wait_for_function("() => location.hash.includes('map=')")
    watched.shot("01-dashboard")


def test_filtering_events_by_type_and_flag(watched, base_url):
    page = watched.open()
    page.locator("input[name='types'][value='port_call']").check()
    page.locator("input[name='flags']").fill("KP")
    page.locator("#apply").click()
    want = api_json(base_url, "/events", types="port_call", flags="KP")["total"]
    page.wait_for_function(f"() => document.querySelector('#event-total').textContent === '{want} events'")
    types = page.locator("#event-list tbody tr td:nth-child(2)").all_inner_texts()
    flags = page.locator("#event-list tbody tr td:nth-child(5)").all_inner_texts()
    assert types and all(t.startswith("port call") for t in types) and set(flags) == {"KP"}
    assert "types=port_call" in page.url and "flags=KP" in page.url
    watched.shot("02-filtered")


def test_clicking_an_event_then_opening_its_vessel_draws_the_track(watched, base_url, served):
    case = api_json(base_url, "/cases")["entries"][0]
    page = watched.open(f"#/events?vessels={case['mmsi']}&types=port_call")
    page.locator("#event-list tbody tr").first.click()
    page.wait_for_selector("#event-detail h2")
    page.wait_for_function("() => Number(document.querySelector('#map').dataset.trackLines || 0) > 0")
    assert "event=" in page.url
    watched.shot("03-event-selected")
    page.locator("#open-vessel").click()
    page.wait_for_selector("#vessel-name")
    page.wait_for_function("() => Number(document.querySelector('#map').dataset.trackLines || 0) > 0")
    assert page.locator("#vessel-name").inner_text() == case["name"]
    assert page.locator("path.track-line").count() >= 1
    assert page.locator("#time-label").inner_text().startswith("2024-03")
    watched.shot("04-vessel-track")


def test_a_share_link_restores_the_view(watched, base_url):
    ev = api_json(base_url, "/events", types="encounter", limit=1)["entries"][0]
    frag = f"#/events?types=encounter&start-date=2024-03-01&event={ev['event_id']}&map=42.5000,133.0000,9"
    page = watched.open(frag)
    page.wait_for_selector("#event-detail h2")
    assert page.locator("input[name='types'][value='encounter']").is_checked()
    assert page.locator("input[name='start-date']").input_value() == "2024-03-01"
    assert page.locator("#event-detail h2").inner_text().startswith("encounter")
    view = re.search(r"map=([-\d.]+)(?:,|%2C)([-\d.]+)(?:,|%2C)([\d.]+)", page.url)
    assert view, page.url
    assert view.group(3) == "9"  # the zoom of the link, the centre moved to the event
    watched.shot("05-share-link")


def test_a_note_added_on_a_case_is_kept_and_shown_as_text(watched, base_url):
    cid = api_json(base_url, "/cases")["entries"][0]["case_id"]
    page = watched.open(f"#/case/{cid}")
    page.wait_for_selector("#note-form")
    text = "<img src=x onerror=alert(7)> seen loading at the oil berth"
    page.locator("#note-form input[name='author']").fill("browser analyst")
    page.locator("#note-form textarea[name='text']").fill(text)
    page.locator("#note-form button[type='submit']").click()
    page.wait_for_function("() => [...document.querySelectorAll('#notes .text')].some(n => n.textContent.includes('oil berth'))")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#notes .text")
    assert text in page.locator("#notes .text").all_inner_texts()
    assert page.locator("#notes img").count() == 0
    assert page.locator("#ledger-chart").count() == 0 and page.locator("svg.timeline rect").count() >= 1
    watched.shot("06-case-note")


def test_exporting_the_event_list_downloads_the_filtered_csv(watched, base_url):
    page = watched.open("#/events?types=ais_gap")
    page.wait_for_function("() => document.querySelector('#event-total').textContent.endsWith('events')")
    with page.expect_download() as dl:
        page.locator("button[data-export='csv']").click()
    path = dl.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    assert len(rows) == api_json(base_url, "/events", types="ais_gap")["total"] > 0
    assert {r["type"] for r in rows} == {"ais_gap"}
    assert dl.value.suggested_filename == "events.csv"


def test_a_hostile_ship_name_and_list_entry_appear_literally_and_never_run(watched, base_url):
    page = watched.open(f"#/vessel/{HOSTILE_MMSI}")
    page.wait_for_selector("#vessel-name")
    assert page.locator("#vessel-name").inner_text() == HOSTILE_NAME
    assert page.get_by_text(HOSTILE_ENTRY, exact=True).count() >= 1
    assert page.locator("img[src='x']").count() == 0 and page.locator("#panel script").count() == 0
    page.locator("#search-query").fill("onerror")
    page.wait_for_selector("#search-results a.result")
    assert page.locator("#search-results a.result").first.inner_text().startswith(HOSTILE_NAME)
    page.goto(base_url + f"/#/events?vessels={HOSTILE_MMSI}")
    page.wait_for_selector("#event-list tbody tr")
    names = page.locator("#event-list tbody tr td:nth-child(3)").all_inner_texts()
    assert names and set(names) == {HOSTILE_NAME}
    assert page.locator("img[src='x']").count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now (the watcher fails the test on it)
    watched.shot("07-hostile-name")


def test_the_ledger_chart_draws_twelve_months_against_the_cap(watched, base_url):
    page = watched.open("#/ledger?year=2024")
    page.wait_for_selector("#ledger-chart")
    assert page.locator("#ledger-chart text", has_text="UN cap").count() == 1
    assert page.locator("#panel table tbody tr").count() == 12
    watched.shot("08-ledger")
    with page.expect_download() as dl:
        page.locator("button[data-export='csv']").click()
    assert dl.value.suggested_filename == "ledger-2024-KP.csv"
    assert len(Path(dl.value.path()).read_text(encoding="utf-8").splitlines()) == 13


def test_with_a_token_the_page_asks_for_it_then_loads(browser, served):
    from shadowfleet.serve import create_app

    token = "browser-token-0123456789"
    with running(create_app(served["store"], token=token, places=served["places"])) as base:
        w = Watched(browser, base)
        w.page.goto(base + "/")
        w.page.wait_for_selector("#token-bar:not([hidden])")
        w.page.locator("#token-input").fill(token)
        w.page.locator("#token-save").click()
        w.page.wait_for_selector("#event-list tbody tr")
        w.problems = [p for p in w.problems if "401" not in p]  # the first, token-less calls
        w.check()


def test_api_docs_page_lists_the_routes(watched, base_url):
    page = watched.page
    page.goto(base_url + "/api/v1/docs")
    page.wait_for_selector(".op")
    assert page.get_by_text(re.compile(r"/api/v1/vessels/\{mmsi\}/track")).count() >= 1


def test_satellite_detections_in_the_store_are_drawn_on_the_map(browser, served, tmp_path):
    import datetime as dt

    import polars as pl

    from shadowfleet.serve import create_app
    from shadowfleet.store import Store

    root = tmp_path / "store"
    shutil.copytree(served["store"], root)
    store = Store(root, create=False)
    case = store.read("cases").row(0, named=True)
    ev = store.read("events").filter(pl.col("event_id").is_in(json.loads(case["evidence"]))
                                     & pl.col("lat").is_not_null()).row(0, named=True)
    far = dt.datetime(2024, 3, 2, 1, 30, tzinfo=dt.timezone.utc)
    store.replace("detections", pl.DataFrame({
        "detection_id": ["d1", "d2", "d3"], "scene_id": ["S2A_TEST", "S2A_TEST", "S1A_CASE"],
        "sensor": ["optical", "optical", "sar"], "acquired": [far, far, ev["start"]],
        "lat": [42.73, 42.75, ev["lat"] + 0.01], "lon": [133.05, 133.07, ev["lon"]], "length_m": [105.0, 98.0, 90.0]}))
    with running(create_app(root, places=served["places"])) as base:
        assert httpx.get(base + "/api/v1/detections").json()["total"] == 3
        near = httpx.get(base + f"/api/v1/cases/{case['case_id']}").json()["detections"]
        assert [d["detection_id"] for d in near] == ["d3"]
        w = Watched(browser, base)
        page = w.open()
        page.wait_for_selector("path.detection")
        assert page.locator("path.detection").count() == 3
        page.goto(base + f"/#/case/{case['case_id']}")
        page.wait_for_selector("text=S1A_CASE")
        assert page.locator("path.detection").count() == 1
        w.shot("09-case-detection")
        w.check()


def test_the_time_bar_fades_events_not_yet_started_and_plays(watched):
    page = watched.open("#/events?types=port_call")
    page.wait_for_function("() => document.querySelector('#time-label').textContent.length > 0")
    page.locator("#time").fill("0")
    page.wait_for_function("() => location.hash.includes('t=')")
    faded = page.locator(".leaflet-overlay-pane path[fill-opacity='0.15']").count()
    assert faded > 0
    start = page.locator("#time-label").inner_text()
    page.locator("#play").click()
    page.wait_for_function(f"() => document.querySelector('#time-label').textContent !== '{start}'")
    page.locator("#play").click()  # pause
    later = page.locator(".leaflet-overlay-pane path[fill-opacity='0.15']").count()
    assert later <= faded
    watched.shot("10-time-bar")


def test_an_area_drawn_on_the_map_filters_the_events(watched, base_url):
    page = watched.open("#/events?map=42.0000,133.0000,7")
    page.locator("#draw-area").click()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.8)
    page.wait_for_function("() => location.hash.includes('bbox=')")
    bbox = re.search(r"bbox=([^&]+)", page.url).group(1).replace("%2C", ",")
    want = api_json(base_url, "/events", bbox=bbox)["total"]
    page.wait_for_function(f"() => document.querySelector('#event-total').textContent === '{want} events'")
    assert 0 < want < api_json(base_url, "/events")["total"]
    assert page.locator("#draw-area").inner_text().startswith("Area ✓")
    watched.shot("11-area-filter")


def test_an_alert_written_to_the_store_appears_live_is_revised_in_place_and_opens_its_event(browser, served, tmp_path):
    from dataclasses import replace

    import polars as pl

    from shadowfleet.live import AlertBook
    from shadowfleet.serve import create_app
    from shadowfleet.serve.config import DEFAULTS
    from shadowfleet.store import Store
    from shadowfleet.store.schema import ALERTS

    store = Store(served["store"], create=False)
    ev = store.read("events").filter(pl.col("mmsi") == HOSTILE_MMSI).sort("start").row(0, named=True)
    rule = "<script>alert(4)</script>"
    cols = {c: t for c, t in ALERTS.items() if c not in ("seq", "ts", "status", "version", "latency_s")}

    def alert(end):
        return pl.DataFrame([{
            "alert_id": f"{rule}:{ev['event_id']}", "rule": rule, "severity": "high",
            "event_ids": json.dumps([ev["event_id"]]), "event_type": ev["type"], "mmsi": HOSTILE_MMSI,
            "other_mmsi": None, "name": HOSTILE_NAME, "flag": "RU", "place": ev["place"], "lat": ev["lat"],
            "lon": ev["lon"], "start": ev["start"], "end": end, "open": end is None,
            "reasons": json.dumps(["<b>reason</b>"])}], schema=cols)

    with running(create_app(served["store"], places=served["places"], cfg=replace(DEFAULTS, alerts_poll_s=0.2))) as base:
        w = Watched(browser, base)
        page = w.open()
        assert page.locator("#alerts").is_hidden()
        book = AlertBook(store)
        book.diff(alert(None), latency_s=None)  # written while the page is open: no reload
        page.wait_for_selector("#alert-list li.new", timeout=15000)
        item = page.locator("#alert-list li").first
        assert HOSTILE_NAME in item.inner_text() and rule in item.inner_text()
        assert page.locator("img[src='x']").count() == 0 and page.locator("#alerts script, #alerts b").count() == 0
        book.diff(alert(ev["end"] or ev["start"]), latency_s=None)
        page.wait_for_selector("#alert-list li.revised", timeout=15000)
        book.diff(alert(None).clear(), latency_s=None)  # the condition no longer holds: retracted
        page.wait_for_selector("#alert-list li.retracted", timeout=15000)
        assert page.locator("#alert-list li").count() == 1  # the same alert, updated where it stands
        assert page.locator("#alert-list li .alert-what").first.evaluate(
            "e => getComputedStyle(e).textDecorationLine") == "line-through"
        w.shot("13-live-alerts")
        page.locator("#alert-list li").first.click()
        page.wait_for_selector("#event-detail h2")
        assert f"event={ev['event_id']}".replace(":", "%3A") in page.url or f"event={ev['event_id']}" in page.url
        page.wait_for_timeout(300)  # an onerror handler would have fired by now (the watcher fails the test on it)
        w.check()
