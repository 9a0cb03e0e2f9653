"""Events out of the store as JSON lines, CSV, GeoJSON or KML (times ISO 8601 UTC ending in Z)."""

from __future__ import annotations

import json
from typing import IO, Iterable

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.output import csv_guard, kml_document, kml_placemark, kml_point, utc_expr
KEYS = ["event_id", "type", "mmsi", "start", "end", "lat", "lon", "place", "other_mmsi", "inferred", "details"]


def read_events(store, types: Iterable[str] | None = None, mmsi: int | None = None, place: str | None = None) -> pl.DataFrame:
    """The stored events, optionally of some types, of one MMSI (as the vessel or as the other party of an
    encounter), or at one place (port calls there, and encounters whose details name it)."""
    from shadowfleet.events.main import EVENT_TYPES as DETECTED
    from shadowfleet.imagery.match import IMAGERY_EVENT_TYPES

    EVENT_TYPES = (*DETECTED, *IMAGERY_EVENT_TYPES)  # the latter written by `imagery match`

    if not store.files("events"):
        raise ShadowfleetError(f"no events in {store.root}: run `shadowfleet detect --store {store.root}` first")
    ev = store.read("events")
    if types:
        types = list(types)
        bad = sorted(set(types) - set(EVENT_TYPES))
        if bad:
            raise ShadowfleetError(f"unknown event type(s) {', '.join(bad)}; expected one of {', '.join(EVENT_TYPES)}")
        ev = ev.filter(pl.col("type").is_in(types))
    if mmsi is not None:
        ev = ev.filter(pl.col("mmsi") == mmsi)
    if place is not None:
        ev = ev.filter(
            (pl.col("place") == place)
            | pl.col("details").str.contains(f'"place":{json.dumps(place)}', literal=True).fill_null(False)
        )
    return ev.sort(["start", "mmsi", "type"], nulls_last=True)


def _plain(ev: pl.DataFrame) -> pl.DataFrame:
    return ev.with_columns(
        utc_expr("start", ev.schema["start"]),
        utc_expr("end", ev.schema["end"]),
        pl.col("lat").fill_nan(None),
        pl.col("lon").fill_nan(None),
        pl.col("inferred").fill_null(False),
        pl.col("details").fill_null("{}"),
    )


def jsonl_lines(ev: pl.DataFrame) -> pl.Series:
    """One JSON object per event; `details` spliced in as an object (it is stored as JSON text)."""
    if ev.height == 0:
        return pl.Series("line", [], dtype=pl.Utf8)
    p = _plain(ev)
    head = p.select(pl.struct([k for k in KEYS if k != "details"]).struct.json_encode().alias("h"))["h"]
    return (head.str.strip_suffix("}") + ',"details":' + p["details"] + "}").alias("line")


def events_to_jsonl(ev: pl.DataFrame, out: IO[str]) -> int:
    lines = jsonl_lines(ev)
    for chunk in lines.to_list():
        out.write(chunk + "\n")
    return ev.height


def events_to_csv(ev: pl.DataFrame, out: IO[str]) -> int:
    out.write(csv_guard(_plain(ev).select(KEYS)).write_csv())
    return ev.height


def events_to_geojson(ev: pl.DataFrame, out: IO[str]) -> int:
    """A FeatureCollection of points (null geometry where the event has no position)."""
    lines = jsonl_lines(ev).to_list()
    feats = []
    for line in lines:
        props = json.loads(line)
        lat, lon = props.pop("lat"), props.pop("lon")
        geom = {"type": "Point", "coordinates": [lon, lat]} if lat is not None and lon is not None else None
        feats.append({"type": "Feature", "geometry": geom, "properties": props})
    json.dump({"type": "FeatureCollection", "features": feats}, out)
    out.write("\n")
    return ev.height


def events_to_kml(ev: pl.DataFrame, out: IO[str]) -> int:
    """KML 2.2 for Google Earth: a folder per event type, a Placemark per event with its time span and every
    field as data (events without a position are left out of the map; the other formats keep them)."""
    p = _plain(ev).filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    data_cols = [k for k in KEYS if k not in ("lat", "lon", "start", "end")]
    folders = []
    for kind in p["type"].unique(maintain_order=True).to_list():
        rows = p.filter(pl.col("type") == kind).iter_rows(named=True)
        folders.append((kind, (
            kml_placemark(f"{r['type']} {r['mmsi']}" + (f" at {r['place']}" if r["place"] else ""),
                          kml_point(r["lon"], r["lat"]), begin=r["start"], end=r["end"],
                          data={c: r[c] for c in data_cols})
            for r in rows
        )))
    for piece in kml_document("shadowfleet events", folders):
        out.write(piece)
    return p.height


WRITERS = {"jsonl": events_to_jsonl, "csv": events_to_csv, "geojson": events_to_geojson, "kml": events_to_kml}
