"""The schema registry: every table declared once, every one a view in Store.sql, written and read by its rules."""

import datetime as dt

import polars as pl
import pytest

from shadowfleet.store import SPECS, TABLES, Store, conform, empty, register, spec

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 3, 7, 12, tzinfo=UTC)


def _row(table: str) -> pl.DataFrame:
    """One row of the table with every column filled (a time where the schema has one)."""
    values = {}
    for name, dtype in TABLES[table].items():
        if dtype == pl.Datetime("us", "UTC"):
            values[name] = [T0]
        elif dtype == pl.Boolean:
            values[name] = [True]
        elif dtype == pl.Utf8:
            values[name] = ["k1"]
        else:
            values[name] = [1]
    return pl.DataFrame(values).cast(TABLES[table])


def _write(store: Store, table: str, df: pl.DataFrame) -> None:
    s = spec(table)
    if s.write == "append":
        store.append(table, df)
    elif s.partition is not None:
        store.replace(table, df, keys=df[s.partition].cast(pl.Utf8).unique().to_list())
    else:
        store.replace(table, df)


def test_every_registered_table_is_an_sql_view_before_and_after_it_is_written(tmp_path):
    store = Store(tmp_path / "s")
    expected = {"positions", "static", "base_stations", "aids", "rejects", "events", "segments", "list_entries",
                "screening", "voyages", "cases", "notes"}
    assert expected <= set(SPECS)
    for table in SPECS:
        empty_view = store.sql(f"SELECT * FROM {table}")
        assert empty_view.height == 0 and empty_view.columns == list(TABLES[table]), table
    for table in SPECS:
        _write(store, table, _row(table))
    for table in SPECS:
        back = store.sql(f"SELECT * FROM {table}")
        assert back.height == 1, table
        assert back.select(list(TABLES[table])).cast(TABLES[table]).equals(_row(table)), table
        assert store.scan(table).collect().height == 1, table


def test_catalog_tables_are_views_too(tmp_path):
    store = Store(tmp_path / "s")
    store.log_ingest("ab" * 32, "f.nmea", "f.nmea", "nmea", 3, 1)
    assert store.sql("SELECT accepted, rejected FROM ingest_log").rows() == [(3, 1)]
    assert store.sql("SELECT count(*) AS n FROM lists")["n"][0] == 0


def test_conform_casts_fills_missing_columns_and_keeps_extras_last():
    df = conform(pl.DataFrame({"extra": ["x"], "mmsi": ["273000001"]}), "cases")
    assert df.columns == list(TABLES["cases"]) + ["extra"]
    assert df["mmsi"].dtype == pl.Int64 and df["mmsi"][0] == 273000001
    assert empty("screening").columns == list(TABLES["screening"])


def test_a_table_added_by_one_register_call_is_written_and_queried(tmp_path):
    register("test_alerts", {"ts": pl.Datetime("us", "UTC"), "text": pl.Utf8}, write="append")
    try:
        store = Store(tmp_path / "s")
        store.append("test_alerts", pl.DataFrame({"ts": [T0], "text": ["dark STS"]}))
        store.append("test_alerts", pl.DataFrame({"ts": [T0], "text": ["port call"]}))
        assert sorted(store.sql("SELECT text FROM test_alerts")["text"]) == ["dark STS", "port call"]
        with pytest.raises(ValueError, match="appended"):
            store.replace("test_alerts", pl.DataFrame())
    finally:
        del SPECS["test_alerts"], TABLES["test_alerts"]


def test_keyed_replace_touches_only_its_keys(tmp_path):
    store = Store(tmp_path / "s")
    a = pl.DataFrame({"list_id": ["A@1", "A@1"], "entry_id": ["1", "2"]})
    b = pl.DataFrame({"list_id": ["B@1"], "entry_id": ["9"]})
    store.replace("list_entries", a, keys=["A@1"])
    store.replace("list_entries", b, keys=["B@1"])
    store.replace("list_entries", a.head(1), keys=["A@1"])
    got = store.read("list_entries").sort("list_id")
    assert got.select("list_id", "entry_id").rows() == [("A@1", "1"), ("B@1", "9")]
    with pytest.raises(ValueError, match="keys"):
        store.replace("list_entries", b, keys=["A@1"])
    store.replace("list_entries", b)  # without keys: the whole table
    assert store.read("list_entries")["list_id"].to_list() == ["B@1"]


def test_table_names_that_are_not_identifiers_are_refused(tmp_path):
    store = Store(tmp_path / "s")
    with pytest.raises(ValueError, match="table names"):
        store.replace("x; DROP TABLE parts", pl.DataFrame({"a": [1]}))


def test_a_store_sent_to_another_process_stages_under_the_senders_protection(tmp_path):
    import pickle

    store = Store(tmp_path / "s")
    worker = pickle.loads(pickle.dumps(store))  # what a Dask worker receives
    tx = worker.transaction()
    tx.append("notes", pl.DataFrame({"ts": [T0], "text": ["from a worker"]}))
    staged = pickle.loads(pickle.dumps(tx))  # the task's result, back at the client
    del worker, tx
    Store(tmp_path / "s")  # another open meanwhile: the staged file belongs to a live writer and stays
    assert store.read("notes").height == 0
    staged.commit()
    assert store.read("notes")["text"].to_list() == ["from a worker"]
