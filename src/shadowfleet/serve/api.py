"""The JSON API under /api/v1 (documented at /api/v1/docs): thin routes over `serve.queries`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from shadowfleet.serve import queries as q
from shadowfleet.output import csv_text
from shadowfleet.serve.exports import points_geojson, track_geojson, track_mfjson

router = APIRouter()

# Path ids are matched against these before anything reads them; nothing from a request becomes a file path.
CASE_ID = r"^[A-Za-z0-9_.:\-]{1,128}$"
EVENT_ID = r"^[A-Za-z0-9_.:\-]{1,128}$"


def _state(request: Request):
    return request.app.state.view.pinned(), request.app.state.cfg


def _list_format(fmt: str | None, exports: tuple[str, ...] = ("json", "csv", "geojson")) -> str:
    fmt = fmt or "json"
    if fmt not in exports:
        raise q.BadParameter("format", f"one of {', '.join(exports)}")
    return fmt


def _download(body: str, media: str, filename: str) -> Response:
    # the file name is ours, never taken from the request
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _geojson(doc: dict[str, Any], filename: str) -> Response:
    return _download(orjson.dumps(doc), "application/geo+json", filename)


class FastJSON(JSONResponse):
    """JSON encoded by orjson: a month of a vessel's track is ~10,000 numbers, 10x faster than the json module."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _export_bounds(fmt: str, limit: int | None, cfg) -> dict:
    if fmt == "json":
        return {"limit": limit}
    if limit is not None and not 1 <= limit <= cfg.export_max:
        raise q.BadParameter("limit", f"between 1 and {cfg.export_max} for an export")
    return {"limit": limit or cfg.export_max}


@router.get("/events", response_class=FastJSON, summary="Events, filtered, sorted and paged (GFW API v3 parameter names)")
def events(
    request: Request,
    types: str | None = Query(None, description="Comma-separated event types, e.g. port_call,encounter"),
    vessels: str | None = Query(None, description="Comma-separated MMSIs (the vessel or the other party)"),
    start_date: str | None = Query(None, alias="start-date", description="ISO 8601; events ending on or after"),
    end_date: str | None = Query(None, alias="end-date", description="ISO 8601; events starting before (exclusive)"),
    places: str | None = Query(None, description="Comma-separated place ids, e.g. RUVYP-OIL,KPCHO"),
    flags: str | None = Query(None, description="Comma-separated ISO alpha-2 flags from the MMSI, e.g. KP"),
    bbox: str | None = Query(None, description="minLon,minLat,maxLon,maxLat"),
    inferred: str | None = Query(None, description="true: only events inferred across a dark gap; false: only seen"),
    listed: str | None = Query(None, description="true: only vessels on a loaded sanctions list"),
    sort: str | None = Query(None, description="start (default), -start, end, type, mmsi, duration (- = descending)"),
    limit: int | None = Query(None, description="Page size (default 50, at most 1000; exports up to 100000)"),
    offset: int | None = Query(None, description="Entries to skip"),
    fmt: str | None = Query(None, alias="format", description="json (default), csv or geojson"),
):
    view, cfg = _state(request)
    fmt = _list_format(fmt)
    filters = dict(types=types, vessels=vessels, start_date=start_date, end_date=end_date, places=places,
                   flags=flags, bbox=bbox, inferred=inferred, listed=listed, sort=sort)
    if fmt == "json":
        return q.events_page(view, limit=limit, offset=offset, cfg=cfg, **filters)
    bounds = _export_bounds(fmt, limit, cfg)
    ev = q.filter_events(view, **filters).slice(offset or 0, bounds["limit"])
    rows = q.event_entries(ev)
    if fmt == "csv":
        cols = ["event_id", "type", "mmsi", "name", "flag", "listed", "start", "end", "duration_h", "lat", "lon",
                "place", "other_mmsi", "inferred", "details"]
        return _download(csv_text(ev.select(cols)), "text/csv; charset=utf-8", "events.csv")
    return _geojson(points_geojson(rows), "events.geojson")


@router.get("/events/stats", summary="Counts of the events matching the same filters as /events")
def events_stats(
    request: Request,
    types: str | None = None, vessels: str | None = None,
    start_date: str | None = Query(None, alias="start-date"), end_date: str | None = Query(None, alias="end-date"),
    places: str | None = None, flags: str | None = None, bbox: str | None = None, inferred: str | None = None,
    listed: str | None = None,
):
    view, _ = _state(request)
    return q.events_stats(view, types=types, vessels=vessels, start_date=start_date, end_date=end_date,
                          places=places, flags=flags, bbox=bbox, inferred=inferred, listed=listed)


@router.get("/events/{event_id}", summary="One event")
def event(request: Request, event_id: str = Path(..., pattern=EVENT_ID)):
    view, _ = _state(request)
    return q.event_detail(view, event_id)


@router.get("/vessels/search", summary="Vessels by part of a name (any ever broadcast), MMSI, IMO or call sign")
def vessels_search(request: Request, query: str = Query(..., max_length=64)):
    view, cfg = _state(request)
    return q.search_vessels(view, query, cfg=cfg)


@router.get("/vessels/{mmsi}", summary="Vessel profile: identities, draughts, sanctions hits, events, cases")
def vessel(request: Request, mmsi: int = Path(..., ge=1, le=999_999_999)):
    view, _ = _state(request)
    return q.vessel_detail(view, mmsi)


@router.get("/vessels/{mmsi}/track", summary="One vessel's track as GeoJSON, CSV or OGC Moving Features JSON")
def vessel_track(
    request: Request,
    mmsi: int = Path(..., ge=1, le=999_999_999),
    start_date: str | None = Query(None, alias="start-date"),
    end_date: str | None = Query(None, alias="end-date"),
    fmt: str | None = Query(None, alias="format", description="geojson (default), csv or mfjson"),
    simplify: float | None = Query(None, description="Douglas-Peucker tolerance in metres"),
):
    view, cfg = _state(request)
    fmt = _list_format(fmt or "geojson", ("geojson", "csv", "mfjson"))
    tr = q.vessel_track(view, mmsi, start_date, end_date, simplify=simplify, full=fmt == "csv", cfg=cfg)
    if fmt == "csv":
        return _download(csv_text(tr), "text/csv; charset=utf-8", f"track-{mmsi}.csv")
    if fmt == "mfjson":
        return _download(orjson.dumps(track_mfjson(tr, mmsi)), "application/json", f"track-{mmsi}.mf.json")
    return FastJSON(track_geojson(tr, mmsi), media_type="application/geo+json")


@router.get("/tracks/nearby", summary="Other vessels' tracks near a place and time (what else was there)")
def tracks_nearby(request: Request, lat: float = Query(..., ge=-90, le=90), lon: float = Query(..., ge=-180, le=180),
                  time: str = Query(...), exclude: int | None = Query(None, ge=1, le=999_999_999)):
    view, cfg = _state(request)
    return FastJSON(q.nearby_tracks(view, lat, lon, time, exclude=exclude, cfg=cfg), media_type="application/geo+json")


@router.get("/cases", summary="Cases (load → discharge), sorted and paged")
def cases(request: Request, vessels: str | None = None, sort: str | None = None, limit: int | None = None,
          offset: int | None = None, fmt: str | None = Query(None, alias="format")):
    view, cfg = _state(request)
    fmt = _list_format(fmt)
    if fmt == "json":
        return q.cases_page(view, limit=limit, offset=offset, sort=sort, vessels=vessels, cfg=cfg)[1]
    bounds = _export_bounds(fmt, limit, cfg)
    df, _ = q.cases_page(view, sort=sort, vessels=vessels, cfg=cfg)
    part = df.slice(offset or 0, bounds["limit"])
    if fmt == "csv":
        return _download(csv_text(part), "text/csv; charset=utf-8", "cases.csv")
    return _geojson(points_geojson(q.case_entries(q.with_discharge_position(view, part))), "cases.geojson")


@router.get("/cases/{case_id}", summary="A case: evidence chain, timeline, barrels with reasons, notes")
def case(request: Request, case_id: str = Path(..., pattern=CASE_ID)):
    view, cfg = _state(request)
    return q.case_detail(view, case_id, cfg=cfg)


@router.get("/cases/{case_id}/imagery/{detection_id}.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}},
            summary="Image chip (PNG) of a satellite detection that corroborates the case: the scene around it, "
                    "the vessel's AIS track, berths, scale bar and north; 404 with the reason when the scene is gone")
def case_chip(request: Request, case_id: str = Path(..., pattern=CASE_ID),
              detection_id: str = Path(..., pattern=EVENT_ID)):
    view, _cfg = _state(request)
    png = q.case_chip_png(view, case_id, detection_id, request.app.state.places)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.post("/cases/{case_id}/notes", status_code=201,
             summary="Append an analyst's note to a case (JSON {author, text}; append-only)")
async def add_note(request: Request, case_id: str = Path(..., pattern=CASE_ID)):
    view, cfg = _state(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        # a cross-site form cannot send JSON without a preflight this server never grants
        return JSONResponse({"detail": "send the note as application/json"}, status_code=415)
    body = await _bounded_body(request, cfg.body_max_bytes)
    if body is None:
        return JSONResponse({"detail": f"a note is at most {cfg.body_max_bytes} bytes"}, status_code=413)
    try:
        doc = json.loads(body)
    except ValueError:
        raise q.BadParameter("body", "not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("author"), str) or not isinstance(doc.get("text"), str):
        raise q.BadParameter("body", 'expected {"author": "...", "text": "..."}')
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(q.add_note, view, case_id, doc["author"], doc["text"], cfg)


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it exceeds ``limit`` bytes (never buffered beyond it)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/ledger", summary="Monthly estimated barrels (low/central/high) against the 500,000-bbl cap")
def ledger(request: Request, year: int | None = Query(None, ge=1901, le=2199), country: str | None = None,
           fmt: str | None = Query(None, alias="format", description="json (default) or csv")):
    view, _ = _state(request)
    fmt = _list_format(fmt, ("json", "csv"))
    led = q.ledger(view, year=year, country=country)
    if fmt == "csv":
        import polars as pl

        return _download(csv_text(pl.DataFrame(led["months"])), "text/csv; charset=utf-8",
                         f"ledger-{led['year']}-{led['country']}.csv")
    return led


@router.get("/places", summary="The places (ports, berths, anchorages, STS areas, EEZ) as GeoJSON")
def places(request: Request):
    return JSONResponse(request.app.state.places_doc, media_type="application/geo+json")


@router.get("/detections", summary="Ships detected in satellite scenes (empty until imagery has run)")
def detections(request: Request, limit: int | None = None, offset: int | None = None):
    view, cfg = _state(request)
    return q.detections_page(view, limit=limit, offset=offset, cfg=cfg)


@router.get("/imagery/occupancy", summary="Who was at a place in each satellite scene covering it, matched to AIS "
                                          "or dark")
def imagery_occupancy(request: Request, place: str = Query(..., max_length=64, description="Gazetteer id, e.g. RUVYP-OIL"),
                      start_date: str | None = Query(None, alias="start-date"),
                      end_date: str | None = Query(None, alias="end-date"),
                      fmt: str | None = Query(None, alias="format", description="json (default), csv or geojson")):
    view, _ = _state(request)
    fmt = _list_format(fmt)
    occ = q.imagery_occupancy(view, place, request.app.state.places, start_date, end_date)
    if fmt == "csv":
        return _download(csv_text(occ), "text/csv; charset=utf-8", "occupancy.csv")
    if fmt == "geojson":
        from shadowfleet.imagery.export import to_geojson

        return _download(to_geojson(occ), "application/geo+json", "occupancy.geojson")
    from shadowfleet.imagery.occupancy import summary_lines
    from shadowfleet.output import json_records

    return {"place": place, "total": occ.height, "timeline": summary_lines(occ),
            "entries": json_records(occ) if occ.height else []}


@router.get("/imagery/plan", summary="Where to look next: open questions a satellite image would settle, ranked")
def imagery_plan(request: Request, start_date: str | None = Query(None, alias="start-date"),
                 end_date: str | None = Query(None, alias="end-date"),
                 fmt: str | None = Query(None, alias="format", description="json (default), csv or geojson")):
    from shadowfleet.imagery.plan import plan_csv, plan_geojson
    from shadowfleet.output import json_records

    view, _ = _state(request)
    fmt = _list_format(fmt)
    p = q.imagery_plan(view, request.app.state.places, start_date, end_date)
    if fmt == "csv":
        return _download(plan_csv(p), "text/csv; charset=utf-8", "imagery-plan.csv")
    if fmt == "geojson":
        return _download(plan_geojson(p), "application/geo+json", "imagery-plan.geojson")
    return {"total": p.questions.height, "entries": json_records(p.questions) if p.questions.height else []}


@router.get("/alerts", summary="Alerts raised by `shadowfleet live`: the latest message of each, newest first")
def alerts(request: Request, limit: int | None = Query(None, description="Page size (default 50, at most 1000)"),
           offset: int | None = Query(None, description="Entries to skip")):
    view, cfg = _state(request)
    return q.alerts_page(view, limit=limit, offset=offset, cfg=cfg)


@router.get("/alerts/stream", summary="Alert messages (new, revised, retracted) as server-sent events, as written",
            description="Each message is an `alert` event whose id is its seq and whose data is the alert as JSON. "
                        "A client reconnecting with `Last-Event-ID: <seq>` receives the messages after it; without "
                        "it, every message from the first.")
async def alerts_stream(request: Request):
    from sse_starlette.sse import EventSourceResponse
    from starlette.concurrency import run_in_threadpool

    from shadowfleet.live.alerts import to_json_line

    cfg = request.app.state.cfg
    view = request.app.state.view
    last = request.headers.get("last-event-id", "").strip() or "0"
    if not last.isdigit() or len(last) > 18:
        raise q.BadParameter("Last-Event-ID", "the seq of the last alert message received (a whole number)")

    async def messages():
        seq = int(last)
        while not await request.is_disconnected():
            batch = await run_in_threadpool(q.alert_messages, view, seq, cfg.alerts_batch)
            for msg in batch:
                seq = msg["seq"]
                yield {"event": "alert", "id": str(seq), "data": to_json_line(msg)}
            if len(batch) < cfg.alerts_batch:
                await asyncio.sleep(cfg.alerts_poll_s)

    # one message is sent at a time and a client that stops reading is dropped: nothing queues up for it
    return EventSourceResponse(messages(), send_timeout=cfg.alerts_send_timeout_s, ping=15)


@router.get("/basemap/land", summary="Natural Earth 1:50m land (public domain) for the map")
def land(request: Request):
    return JSONResponse(request.app.state.land_doc, media_type="application/geo+json")
