"""Alerts in the API: the latest state of each alert, and a server-sent-event stream a real client reads while
alert messages are written into a real store (by the same AlertBook `shadowfleet live` writes with)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import replace

import httpx
import polars as pl
import pytest

from servekit import running
from shadowfleet.live import AlertBook
from shadowfleet.serve import create_app
from shadowfleet.serve.config import DEFAULTS
from shadowfleet.store import Store
from shadowfleet.store.schema import ALERTS

TOKEN = "alerts-token-0123456789"
T0 = dt.datetime(2024, 3, 2, 6, tzinfo=dt.timezone.utc)


def alert_row(event_id: str, name: str = "SEA STAR", rule: str = "dark_near_port", end=None, place="RUVYP-OIL"):
    """One alert as a detection cycle states it (the columns AlertBook.diff compares)."""
    return {"alert_id": f"{rule}:{event_id}", "rule": rule, "severity": "high", "event_ids": json.dumps([event_id]),
            "event_type": "gap", "mmsi": 273999001, "other_mmsi": None, "name": name, "flag": "RU", "place": place,
            "lat": 42.7, "lon": 133.0, "start": T0, "end": end, "open": end is None,
            "reasons": json.dumps([f"AIS silent near {place}"])}


def cycle(*rows) -> pl.DataFrame:
    cols = {c: t for c, t in ALERTS.items() if c not in ("seq", "ts", "status", "version", "latency_s")}
    return pl.DataFrame(list(rows), schema=cols)


def sse_events(response: httpx.Response, want: int, deadline_s: float = 20.0) -> list[dict]:
    """The first ``want`` events of a text/event-stream response (id, event, data as JSON)."""
    out, cur = [], {}
    stop = time.monotonic() + deadline_s
    for line in response.iter_lines():
        if time.monotonic() > stop:
            break
        if not line:
            if "data" in cur:
                out.append(cur)
                if len(out) == want:
                    break
            cur = {}
            continue
        field, _, value = line.partition(":")
        if field in ("id", "event"):
            cur[field] = value.strip()
        elif field == "data":
            cur["data"] = json.loads(value.strip())
    return out


@pytest.fixture()
def alerts_server(tmp_path):
    store = Store(tmp_path / "store")
    cfg = replace(DEFAULTS, alerts_poll_s=0.1)
    with running(create_app(store, token=TOKEN, cfg=cfg)) as base:
        yield store, base


def auth(base: str) -> httpx.Client:
    return httpx.Client(base_url=base + "/api/v1", timeout=httpx.Timeout(10.0),
                        headers={"Authorization": f"Bearer {TOKEN}"})


def test_the_stream_delivers_new_revised_and_retracted_messages_as_they_are_written(alerts_server):
    store, base = alerts_server
    book = AlertBook(store)

    def write():
        time.sleep(0.5)  # after the client is connected and has seen an empty table
        book.diff(cycle(alert_row("gap-1"), alert_row("gap-2")), latency_s=1.0)
        time.sleep(0.3)
        book.diff(cycle(alert_row("gap-1", end=T0 + dt.timedelta(hours=9)), alert_row("gap-2")), latency_s=1.0)
        time.sleep(0.3)
        book.diff(cycle(alert_row("gap-1", end=T0 + dt.timedelta(hours=9))), latency_s=1.0)

    writer = threading.Thread(target=write)
    with auth(base) as c, c.stream("GET", "/alerts/stream") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        writer.start()
        got = sse_events(r, want=4)
    writer.join(10)
    assert [(e["data"]["alert_id"], e["data"]["status"], e["data"]["version"]) for e in got] == [
        ("dark_near_port:gap-1", "new", 1), ("dark_near_port:gap-2", "new", 1),
        ("dark_near_port:gap-1", "revised", 2), ("dark_near_port:gap-2", "retracted", 2)]
    assert [int(e["id"]) for e in got] == [e["data"]["seq"] for e in got] == [1, 2, 3, 4]
    assert {e["event"] for e in got} == {"alert"}
    assert got[2]["data"]["end"] == "2024-03-02T15:00:00Z" and got[0]["data"]["event_ids"] == ["gap-1"]


def test_a_reconnect_with_last_event_id_resumes_after_it(alerts_server):
    store, base = alerts_server
    book = AlertBook(store)
    book.diff(cycle(alert_row("gap-1"), alert_row("gap-2"), alert_row("gap-3")), latency_s=None)
    with auth(base) as c, c.stream("GET", "/alerts/stream", headers={"Last-Event-ID": "2"}) as r:
        got = sse_events(r, want=1)
    assert [e["data"]["alert_id"] for e in got] == ["dark_near_port:gap-3"]
    with auth(base) as c:
        bad = c.get("/alerts/stream", headers={"Last-Event-ID": "2; DROP TABLE alerts"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "Last-Event-ID"


def test_the_stream_and_the_list_need_the_token(alerts_server):
    _, base = alerts_server
    with httpx.Client(base_url=base + "/api/v1", timeout=10) as c:
        assert c.get("/alerts/stream").status_code == 401
        assert c.get("/alerts").status_code == 401
        assert c.get("/alerts/stream", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_the_alert_list_gives_the_latest_state_of_each_alert_newest_first(alerts_server):
    store, base = alerts_server
    with auth(base) as c:
        empty = c.get("/alerts").json()
        assert (empty["total"], empty["entries"], empty["nextOffset"]) == (0, [], None)
    book = AlertBook(store)
    book.diff(cycle(alert_row("gap-1"), alert_row("gap-2"), alert_row("gap-3")), latency_s=None)
    book.diff(cycle(alert_row("gap-1", end=T0 + dt.timedelta(hours=5)), alert_row("gap-3")), latency_s=None)
    with auth(base) as c:
        page = c.get("/alerts", params={"limit": 2}).json()
        rest = c.get("/alerts", params={"limit": 2, "offset": 2}).json()
        assert c.get("/alerts", params={"limit": 0}).status_code == 422
    assert set(page) == {"total", "offset", "limit", "nextOffset", "entries"}
    assert (page["total"], page["nextOffset"], rest["nextOffset"]) == (3, 2, None)
    states = [(e["alert_id"].split(":")[1], e["status"], e["version"]) for e in page["entries"] + rest["entries"]]
    # messages 4 (gap-1 revised) and 5 (gap-2 retracted) are the newest; gap-3 is still its first message
    assert states == [("gap-2", "retracted", 2), ("gap-1", "revised", 2), ("gap-3", "new", 1)]
