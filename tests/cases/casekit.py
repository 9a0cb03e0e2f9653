"""Builders for cases tests: events/static/screening frames written to a real Store on disk."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from shadowfleet.places import Places, places_from_geojson
from shadowfleet.store import Store

T0 = dt.datetime(2024, 3, 7, tzinfo=dt.timezone.utc)

# A small gazetteer with the contract's place ids (docs/CONTRACTS.md), so the tests do not depend on the built-in
# gazetteer's polygons: a square around each reference point, half-side by kind (the berth and anchorage squares
# lie inside their port's).
_HALF_DEG = {"port": 0.07, "berth": 0.005, "anchorage": 0.005, "terminal": 0.003, "sts_area": 0.1, "eez": 2.0}
_PLACES = [
    ("RUVYP", "Vostochny", "port", "RU", 42.75, 133.08),
    ("RUVYP-OIL", "Vostochny oil berth", "berth", "RU", 42.74, 133.06),
    ("RUVYP-ANCH", "Vostochny anchorage", "anchorage", "RU", 42.70, 133.10),
    ("RUNJK", "Nakhodka", "port", "RU", 42.80, 132.88),
    ("KPCHO", "Chongjin", "port", "KP", 41.77, 129.82),
    ("KPRJN", "Rajin", "port", "KP", 42.23, 130.30),
    ("KPNAM", "Nampo", "port", "KP", 38.72, 125.40),
    ("SOKDO-STS", "Sok Island STS area", "sts_area", "KP", 38.55, 125.20),
    ("KP-EEZ-EAST", "DPRK east EEZ", "eez", "KP", 40.0, 131.0),
    ("CNDLC", "Dalian", "port", "CN", 38.92, 121.65),
]


def _square(pid, name, kind, country, lat, lon):
    d = _HALF_DEG[kind]
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]
    return {"type": "Feature", "properties": {"id": pid, "name": name, "kind": kind, "country": country},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def gazetteer(*extra) -> Places:
    """The test gazetteer, plus places given as (id, name, kind, country, lat, lon)."""
    return places_from_geojson({"type": "FeatureCollection", "features": [_square(*p) for p in _PLACES + list(extra)]})


PLACES = gazetteer()


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def event(type_, mmsi, start_h, end_h, place=None, other=None, inferred=False, **details):
    start = h(start_h)
    eid = f"{type_}-{mmsi}-{int(start.timestamp())}" + (f"-{other}" if other else "")
    return {
        "event_id": eid, "type": type_, "mmsi": mmsi, "start": start, "end": h(end_h), "lat": None, "lon": None,
        "place": place, "other_mmsi": other, "inferred": inferred, "details": json.dumps(details),
    }


def static(mmsi, name, imo=None, length=None, beam=None, draught=None, hours=0.0):
    return {"mmsi": mmsi, "ts": h(hours), "msg_type": 5, "imo": imo, "name": name, "length": length, "beam": beam,
            "draught": draught, "dup_key": hash((mmsi, hours, draught)) & 0x7FFFFFFF}


@pytest.fixture
def make_store(tmp_path):
    def _make(events, statics=(), screening=None, list_entries=None):
        st = Store(tmp_path / "store")
        st.replace("events", pl.DataFrame(list(events), schema_overrides={"other_mmsi": pl.Int64}))
        if statics:
            st.append("static", pl.DataFrame(list(statics)))
        if screening is not None:
            st.replace("screening", pl.DataFrame(screening))
        if list_entries is not None:
            st.replace("list_entries", pl.DataFrame(list_entries))
        return st

    return _make
