"""The Dask engine runs the same kernels on partitions and gives the same events, segments and cases as the
local engine."""

import json

import polars as pl
import pytest

from shadowfleet.engine import open_engine
from shadowfleet.events import detect
from shadowfleet.places import load_places
from shadowfleet.store import Store

FLOAT_TOL = 1e-9  # a mean over a differently cut frame may differ in the last bit, nothing more


def _same_rows(a: pl.DataFrame, b: pl.DataFrame, key: list[str]) -> None:
    assert a.columns == b.columns
    assert a.height == b.height
    assert a[key].n_unique() == a.height, "the key must identify rows"
    x = a.join(b, on=key, how="full", suffix="_b", nulls_equal=True)
    assert x.filter(pl.col(key[0]).is_null() | pl.col(f"{key[0]}_b").is_null()).height == 0, "rows differ"
    for c in a.columns:
        if c in key:
            continue
        if a[c].dtype.is_float():
            diff = x.filter(((pl.col(c) - pl.col(f"{c}_b")).abs() > FLOAT_TOL * (1 + pl.col(c).abs()))
                            | (pl.col(c).is_null() != pl.col(f"{c}_b").is_null()))
        elif c == "details":
            da = [json.loads(v) if v else v for v in x[c]]
            db = [json.loads(v) if v else v for v in x[f"{c}_b"]]
            bad = [i for i, (u, v) in enumerate(zip(da, db)) if not _close(u, v)]
            assert not bad, f"details differ: {da[bad[0]]} vs {db[bad[0]]}"
            continue
        else:
            diff = x.filter(pl.col(c).ne_missing(pl.col(f"{c}_b")))
        assert diff.height == 0, f"column {c} differs: {diff.select(key + [c, c + '_b']).head(3).to_dicts()}"


def _close(u, v) -> bool:
    if isinstance(u, float) and isinstance(v, (int, float)):
        return abs(u - v) <= 1e-6 * (1 + abs(u))
    if isinstance(u, dict) and isinstance(v, dict):
        return u.keys() == v.keys() and all(_close(u[k], v[k]) for k in u)
    if isinstance(u, list) and isinstance(v, list):
        return len(u) == len(v) and all(_close(p, q) for p, q in zip(u, v))
    return u == v


@pytest.fixture(scope="module")
def scenario_store(tmp_path_factory):
    sim = pytest.importorskip("shadowfleet.sim")
    from shadowfleet.ingest import ingest

    out = tmp_path_factory.mktemp("sim")
    sim.simulate("nampo-sts", out, seed=1, days=8, vessels=6)
    st = Store(tmp_path_factory.mktemp("store"))
    ingest(out / "ais.nmea", st)
    return st, out


@pytest.mark.slow
def test_detect_on_dask_workers_gives_the_events_and_segments_of_one_process(scenario_store):
    st, out = scenario_store
    places = load_places(out / "places.geojson")
    counts_local: dict = {}
    local = detect(st, places=places, counts=counts_local)
    seg_local = st.read("segments", dedupe=False)
    counts_dask: dict = {}
    with open_engine("dask", "local:2", processes=False) as eng:
        assert eng.workers == 2
        dask = detect(st, places=places, counts=counts_dask, engine=eng)
    seg_dask = st.read("segments", dedupe=False)
    assert set(local["type"]) >= {"port_call", "ais_gap", "encounter", "identity_change"}, "scenario too thin"
    _same_rows(local, dask, ["event_id"])
    assert counts_local == counts_dask
    _same_rows(seg_local.with_row_index("i", 0).drop("i"), seg_dask, ["mmsi", "ts", "lat", "lon"])


@pytest.mark.slow
def test_cases_on_dask_workers_are_the_cases_of_one_process(scenario_store):
    from shadowfleet.cases import build_cases

    st, out = scenario_store
    places = load_places(out / "places.geojson")
    detect(st, places=places)
    local = build_cases(st, places=places)
    voyages_local = st.read("voyages", dedupe=False)
    with open_engine("dask", "local:2", processes=False) as eng:
        dask = build_cases(st, places=places, engine=eng)
    assert local.height > 0, "scenario too thin: no case"
    _same_rows(local, dask, ["case_id"])
    _same_rows(voyages_local, st.read("voyages", dedupe=False), ["mmsi", "load_start"])


@pytest.mark.slow
def test_ingest_on_worker_processes_stores_what_one_process_stores(tmp_path, scenario_store):
    """Files as tasks on two worker processes writing into one store at once: the same rows, every file logged
    once, a repeated file skipped as in one process."""
    from shadowfleet.ingest import ingest

    st0, out = scenario_store
    lines = (out / "ais.nmea").read_text().splitlines(keepends=True)
    src = tmp_path / "in"
    src.mkdir()
    for i in range(4):
        (src / f"part{i}.nmea").write_text("".join(lines[i::4]))
    (src / "part4_copy.nmea").write_text("".join(lines[0::4]))
    one = ingest(src, tmp_path / "one")
    with open_engine("dask", "local:2") as eng:
        many = ingest(src, tmp_path / "many", engine=eng)
    assert [f.skipped_already_ingested for f in many.files] == [f.skipped_already_ingested for f in one.files]
    assert [f.accepted for f in many.files] == [f.accepted for f in one.files]
    a, b = Store(tmp_path / "one"), Store(tmp_path / "many")
    assert sorted(a.ingest_log()["sha256"]) == sorted(b.ingest_log()["sha256"])
    for table in ("positions", "static", "rejects"):
        ra, rb = a.read(table, dedupe=False), b.read(table, dedupe=False)
        assert ra.height == rb.height
        # categories are numbered per file written, so rows are ordered by their text
        ra, rb = (r.with_columns(pl.col(pl.Categorical).cast(pl.Utf8)).sort(r.columns, nulls_last=True) for r in (ra, rb))
        bad = [c for c in ra.columns if not ra[c].equals(rb[c])]
        assert not bad, table
    again = ingest(src, tmp_path / "many")  # the worker-written store is whole: nothing left to redo
    assert all(f.skipped_already_ingested for f in again.files)


@pytest.mark.slow
def test_a_late_feed_found_across_vessel_buckets_gives_the_spoofing_events_of_one_process(tmp_path):
    """A receiver stamping 40 min late is judged on every ship it heard (spread over all buckets); its stamps
    are moved back before segmentation on both engines, so spoofing and every other event agree."""
    sim = pytest.importorskip("shadowfleet.sim")
    from shadowfleet.ingest import ingest

    out = tmp_path / "sim"
    sim.simulate("spoofing", out, seed=1, days=3, vessels=10)
    st = Store(tmp_path / "store")
    ingest(out / "ais.nmea", st)
    late_local: list = []
    places = load_places(out / "places.geojson")
    local = detect(st, places=places, delays=late_local)
    late_dask: list = []
    with open_engine("dask", "local:2", processes=False) as eng:
        dask = detect(st, places=places, delays=late_dask, engine=eng)
    assert late_local[0].height == 1, "scenario should have one late feed"
    assert late_local[0].equals(late_dask[0])
    assert local.filter(pl.col("type") == "spoofing").height > 0
    _same_rows(local, dask, ["event_id"])
