"""Incremental detection: between full passes only the vessels with new reports are re-detected, and the events
table is updated in one commit: opened / revised / retracted. The table always equals batch `detect` on the same
data, also when late reports revise an event or make it disappear."""

from __future__ import annotations

import polars as pl
import pytest

from shadowfleet.events import detect
from shadowfleet.ingest.lines import ingest_lines
from shadowfleet.live import DEFAULT_RULES, AlertBook, read_alerts
from shadowfleet.live.detection import LiveState, run_cycle
from shadowfleet.places import load_places
from shadowfleet.store import Store
from tests.live.conftest import insert_by_time, position_line

# the KP-flagged tanker dark for 29 h beside Vostochny, 6-7 March (seed 2024): its gap and its dark port call
TANKER, GAP = 445118410, "ais_gap-445118410-1709725576"
GAP_START, GAP_END = 1709725576, 1709829676
BERTH = (42.7806, 133.0020)  # where it went dark


@pytest.fixture(scope="module")
def feed(feed_file):
    path, places = feed_file
    return path.read_text().splitlines(keepends=True), load_places(places)


def _cycle(st: Store, places, state: LiveState, book: AlertBook | None = None):
    res = run_cycle(st, DEFAULT_RULES, places, None, window_h=48.0, margin_h=12.0, state=state)
    if book is not None:
        book.diff(res.alerts, 0.0)
    return res


def _equals_batch(st: Store, lines: list[str], places, tmp_path) -> pl.DataFrame:
    check = Store(tmp_path / f"check-{len(list(tmp_path.iterdir()))}")
    ingest_lines(lines, check, "all", "feed")
    batch = detect(check, places=places).sort("event_id")
    live = st.read("events").sort("event_id")
    assert live.height > 100
    assert live.equals(batch), (sorted(set(batch["event_id"]) ^ set(live["event_id"]))[:10])
    return live


@pytest.mark.slow
def test_incremental_cycles_keep_the_events_table_equal_to_batch_detect(feed, tmp_path):
    lines, places = feed
    st, state = Store(tmp_path / "live"), LiveState()
    cut = [0, len(lines) // 2, 2 * len(lines) // 3, 5 * len(lines) // 6, len(lines)]
    ingest_lines(lines[:cut[1]], st, "b0", "feed")
    assert _cycle(st, places, state).full
    for i in range(1, 4):
        ingest_lines(lines[cut[i]:cut[i + 1]], st, f"b{i}", "feed")
        res = _cycle(st, places, state)
        assert not res.full and res.affected > 0 and res.changes["opened"] > 0
    _equals_batch(st, lines, places, tmp_path)
    res = _cycle(st, places, state)  # nothing new: nothing re-detected, nothing changed
    assert res.affected == 0 and res.changes == {}


@pytest.mark.slow
def test_a_late_report_inside_a_gap_revises_it_and_the_alert_says_so(feed, tmp_path):
    lines, places = feed
    st, state = Store(tmp_path / "live"), LiveState()
    book = AlertBook(st)
    ingest_lines(lines, st, "b0", "feed")
    _cycle(st, places, state, book)
    assert st.read("events").filter(pl.col("event_id") == GAP)["end"].dt.epoch("s").to_list() == [GAP_END]
    # a satellite's report from 10 h into the silence arrives late: the gap now ends there, another follows it
    late = [position_line(TANKER, GAP_START + 10 * 3600, *BERTH)]
    ingest_lines(late, st, "late", "feed")
    res = _cycle(st, places, state, book)
    assert res.affected == 1 and res.changes["revised"] >= 1 and res.changes["opened"] >= 1
    events = _equals_batch(st, insert_by_time(lines, {GAP_START + 10 * 3600: late}), places, tmp_path)
    assert events.filter(pl.col("event_id") == GAP)["end"].dt.epoch("s").to_list() == [GAP_START + 10 * 3600]
    msgs = read_alerts(st).filter(pl.col("alert_id") == f"dark-near-supplier-terminal:{GAP}")
    assert msgs["status"].to_list() == ["new", "revised"]


@pytest.mark.slow
def test_late_reports_that_fill_a_gap_retract_it_and_its_alert(feed, tmp_path):
    lines, places = feed
    st, state = Store(tmp_path / "live"), LiveState()
    book = AlertBook(st)
    ingest_lines(lines, st, "b0", "feed")
    _cycle(st, places, state, book)
    # the tanker was heard every 2 h all along by a receiver whose log arrives only now: it never went dark
    late = {t: [position_line(TANKER, t, *BERTH)] for t in range(GAP_START + 7200, GAP_END, 7200)}
    ingest_lines([ln for v in late.values() for ln in v], st, "late", "feed")
    res = _cycle(st, places, state, book)
    assert res.changes["retracted"] >= 1
    events = _equals_batch(st, insert_by_time(lines, late), places, tmp_path)
    assert GAP not in set(events["event_id"])
    msgs = read_alerts(st).filter(pl.col("alert_id") == f"dark-near-supplier-terminal:{GAP}")
    assert msgs["status"].to_list() == ["new", "retracted"]
