"""Builders for cases tests: events/static/screening frames written to a real Store on disk."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from shadowfleet.store import Store

T0 = dt.datetime(2024, 3, 7, tzinfo=dt.timezone.utc)

# A small gazetteer frame with the contract's place ids (docs/CONTRACTS.md), so the tests do not depend on the
# built-in gazetteer's polygons.
PLACES = pl.DataFrame(
    {
        "id": ["RUVYP", "RUVYP-OIL", "RUVYP-ANCH", "RUNJK", "KPCHO", "KPRJN", "KPNAM", "SOKDO-STS", "KP-EEZ-EAST", "CNDLC"],
        "name": ["Vostochny", "Vostochny oil berth", "Vostochny anchorage", "Nakhodka", "Chongjin", "Rajin", "Nampo",
                 "Sok Island STS area", "DPRK east EEZ", "Dalian"],
        "kind": ["port", "berth", "anchorage", "port", "port", "port", "port", "sts_area", "eez", "port"],
        "country": ["RU", "RU", "RU", "RU", "KP", "KP", "KP", "KP", "KP", "CN"],
        "lat": [42.75, 42.74, 42.70, 42.80, 41.77, 42.23, 38.72, 38.55, 40.0, 38.92],
        "lon": [133.08, 133.06, 133.10, 132.88, 129.82, 130.30, 125.40, 125.20, 131.0, 121.65],
    }
)


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
