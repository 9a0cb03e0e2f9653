import datetime as dt

import polars as pl
import pytest

from shadowfleet.errors import ShadowfleetError
from shadowfleet.store import Store

UTC = dt.timezone.utc


def _positions(n=3, receiver="r1", key0=1, t0=dt.datetime(2024, 3, 7, 23, 59, 50, tzinfo=UTC)):
    return pl.DataFrame(
        {
            "mmsi": [445000001] * n,
            "ts": [t0 + dt.timedelta(seconds=10 * i) for i in range(n)],
            "lat": [42.7 + i * 0.001 for i in range(n)],
            "lon": [133.0] * n,
            "receiver": [receiver] * n,
            "n_receivers": [1] * n,
            "dup_key": [key0 + i for i in range(n)],
        }
    )


def test_append_partitions_by_utc_day_and_reads_back(tmp_path):
    store = Store(tmp_path / "s")
    store.append("positions", _positions(), batch="b1")
    days = sorted(p.name for p in (tmp_path / "s" / "positions").iterdir())
    assert days == ["day=2024-03-07", "day=2024-03-08"]
    df = store.read("positions")
    assert df.height == 3 and df.schema["ts"] == pl.Datetime("us", "UTC")


def test_same_report_from_two_receivers_is_stored_once_with_receiver_count(tmp_path):
    store = Store(tmp_path / "s")
    store.append("positions", _positions(receiver="r1"), batch="b1")
    later = _positions(receiver="r2", t0=dt.datetime(2024, 3, 7, 23, 59, 52, tzinfo=UTC))
    store.append("positions", later, batch="b2")
    df = store.read("positions")
    assert df.height == 3
    assert df["n_receivers"].to_list() == [2, 2, 2]


def test_same_content_a_minute_apart_is_two_reports(tmp_path):
    store = Store(tmp_path / "s")
    store.append("positions", _positions(n=1), batch="b1")
    store.append("positions", _positions(n=1, t0=dt.datetime(2024, 3, 8, 0, 0, 50, tzinfo=UTC)), batch="b2")
    assert store.read("positions").height == 2


def test_rewriting_a_batch_replaces_it(tmp_path):
    store = Store(tmp_path / "s")
    store.append("positions", _positions(), batch="same")
    store.append("positions", _positions(), batch="same")
    assert store.read("positions", dedupe=False).height == 3


def test_replace_derived_table_and_sql_view(tmp_path):
    store = Store(tmp_path / "s")
    ev = pl.DataFrame({"type": ["ais_gap"], "mmsi": [1], "inferred": [False]})
    store.replace("events", ev)
    store.replace("events", pl.concat([ev, ev]))
    assert store.read("events").height == 2
    assert store.sql("SELECT count(*) AS n FROM events")["n"][0] == 2


def test_opening_a_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(ShadowfleetError, match="store not found"):
        Store(tmp_path / "nope", create=False)


def test_replacing_with_an_empty_frame_leaves_an_empty_table(tmp_path):
    store = Store(tmp_path / "s")
    store.replace("events", pl.DataFrame())
    assert store.read("events").height == 0
    store.replace("anything_derived", pl.DataFrame())
    assert store.read("anything_derived").height == 0
