"""Detection cycles: events kept up to date as data arrives, plus the events still going on, then the rules.

A full cycle runs the events stage's own ``detect`` on everything received (every 10 min and at the end, so the
events table then equals what ``shadowfleet detect`` gives on the same data). Between full passes an incremental
cycle re-detects only the vessels whose reports arrived since the last cycle (found from the store's new part
files), with their possible encounter partners, over the affected time: from ``detect_window_h`` before the
earliest new report to the latest. Its events replace the stored events of those vessels that start in scope
(``detect_window_margin_h`` after the window's start; an event cut by the window's edge looks different), the
rest of the table is kept, and the table is written in one commit. The change is counted as opened / revised /
retracted events; what it means for each alert (alerts.AlertBook) gives the new / revised / retracted messages.

Incremental cycles take the receivers' delays from the last full pass (a receiver's lateness is measured on all
ships) and judge gap coverage on every vessel's reports in the window, as a full run does.

Live adds what batch detection cannot know yet: an AIS gap still open (a vessel silent for longer than the gap
threshold while the feed goes on; its id is the one the closed gap will have) and events still going on (a port
call, encounter or loitering whose end is the vessel's latest report). The clock is the newest report time
received, not the wall clock, so a feed that stops never makes every vessel look dark.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import polars as pl

from shadowfleet.cases.voyages import listed_vessels
from shadowfleet.events import EVENT_TYPES, EventsConfig, detect, detect_events, load_config, with_event_ids
from shadowfleet.events.main import POSITION_COLUMNS
from shadowfleet.events.transforms.common import EVENT_COLUMNS, empty_events
from shadowfleet.identity import flag_expr, is_vessel_expr
from shadowfleet.live.rules import Rule, match_rules
from shadowfleet.store import Store
from shadowfleet.store.schema import ALERTS, UTC_TS

_ONGOING_TYPES = ("port_call", "encounter", "loitering")
EVENT_ID_COLUMNS = ["event_id", *EVENT_COLUMNS]


# The feed's clock is the time reached by at least this many vessels' latest reports (ours: one ship's wrong clock
# or one forged report with a future time must not make every other ship look dark)
CLOCK_VESSELS = 3


@dataclasses.dataclass
class CycleResult:
    events: pl.DataFrame  # the events table after this cycle
    live_events: pl.DataFrame  # events + open gaps, with open and duration_h
    alerts: pl.DataFrame  # current alerts (ALERTS columns without seq/ts/status/version)
    clock: object  # newest report time reached by CLOCK_VESSELS vessels
    scope_start: object = None  # kept for callers; alerts now always speak for the whole events table
    changes: dict = dataclasses.field(default_factory=dict)  # events opened / revised / retracted (incremental)
    affected: int = 0  # vessels re-detected (incremental)
    full: bool = True  # a full pass (detect over everything)


_UNREAD = object()


class LiveState:
    """What a live process carries from one detection cycle to the next: the part files of positions and static
    reports already detected on, and each vessel's latest report (mmsi, last_ts, lat, lon)."""

    def __init__(self):
        self.seen: dict[str, set] = {"positions": set(), "static": set()}
        self.last: pl.DataFrame | None = None
        # the receivers file's frame for incremental cycles (None: no file), read once after each full pass rather
        # than by every cycle; _UNREAD until then
        self.receivers = _UNREAD

    def mark_seen(self, files: dict[str, set]) -> None:
        for k, v in files.items():
            self.seen[k] |= v


def load_detectors() -> None:
    """What the detectors load on first use, loaded now: the land mask (spoofing: positions on land, ~117 MB read
    from its archive) and the statistics library (spoofing patterns). Seconds, once, at start, instead of in the
    latency of the first alerts."""
    import scipy.stats  # noqa: F401

    from shadowfleet.places.geo import on_land

    on_land(0.0, 0.0)


def _files(store: Store) -> dict[str, set]:
    return {t: set(store.files(t)) for t in ("positions", "static")}


def run_cycle(store: Store, rules: tuple[Rule, ...], places, events_config, screen: bool = True,
              window_h: float | None = None, margin_h: float = 0.0, state: LiveState | None = None) -> CycleResult:
    """Detect, add open events, screen vessels (when lists are loaded), apply the rules. ``places``: a
    shadowfleet.places.Places (loaded once by the caller).

    Full cycle (``window_h`` None, or no ``state`` yet from a full one): the events stage's ``detect`` over the
    whole store, which writes the events and segments tables. Incremental cycle: the vessels with new reports
    re-detected over the affected time (module text), the events table updated in one commit."""
    cfg = events_config if isinstance(events_config, EventsConfig) else load_config(events_config)
    if window_h is None or state is None or state.last is None:
        files = _files(store)  # before detect: what arrives meanwhile is new to the next cycle
        events = detect(store, places=places, config=events_config)
        last = _last_reports(store.scan("segments"))
        if state is not None:
            state.seen, state.last, state.receivers = files, last, _UNREAD
        changes, affected, full = {}, 0, True
    else:
        full = False
        events, changes, affected = _incremental(store, places, events_config, cfg, window_h, margin_h, state)
        last = state.last
    clock = _clock_of(last)
    live = with_live_state(events, last, clock, cfg.ais_gap.min_gap_h)
    if any(r.min_draught_change_m for r in rules):
        live = with_draught_across(live, store.scan("static"))
    vessels = vessel_facts(store, screen, pl.concat([live["mmsi"], live["other_mmsi"]]))
    matches = match_rules(live, vessels, rules, places)
    alerts = _alert_rows(matches, live, vessels)
    return CycleResult(events, live, alerts, clock, None, changes, affected, full)


def _last_reports(segmented: pl.LazyFrame) -> pl.DataFrame:
    return (segmented.filter(is_vessel_expr("mmsi"))
            .group_by("mmsi").agg(pl.col("ts").max().alias("last_ts"), pl.col("lat").sort_by("ts").last().alias("lat"),
                                  pl.col("lon").sort_by("ts").last().alias("lon"))
            .collect())


def _incremental(store: Store, places, events_config, cfg: EventsConfig, window_h: float, margin_h: float,
                 state: LiveState) -> tuple[pl.DataFrame, dict, int]:
    """Re-detect the vessels with new reports; returns the events table as written, the changes, the count."""
    from shadowfleet.events.main import receivers_file
    from shadowfleet.events.partitioned import ENCOUNTER_CELL_DEG
    from shadowfleet.events.transforms.gaps import reception_cells
    from shadowfleet.tracks import TracksConfig, correct_late_feeds, feed_delays, prepare, segment_all

    files = _files(store)
    new = {t: sorted(files[t] - state.seen[t]) for t in files}
    stored = store.read("events") if store.files("events") else with_event_ids(empty_events())
    fresh = [pl.scan_parquet(f).select("mmsi", "ts") for t in new for f in new[t]]
    if not fresh:
        return stored, {}, 0
    touched = pl.concat(fresh).filter(is_vessel_expr("mmsi") & pl.col("ts").is_not_null()).group_by("mmsi").agg(
        pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")).collect()
    if touched.height == 0:
        state.mark_seen({t: set(v) for t, v in new.items()})
        return stored, {}, 0
    affected = touched["mmsi"]
    scopes = _scopes(touched, stored, state.last, window_h, margin_h)
    margin = dt.timedelta(hours=margin_h)
    start = scopes["scope"].min() - margin
    end = max([t for t in (touched["hi"].max(), state.last["last_ts"].max()) if t is not None]) + dt.timedelta(seconds=1)
    positions = store.read("positions", start, end)
    positions = positions.select([c for c in POSITION_COLUMNS if c in positions.columns])
    prepared = prepare(positions)
    tracks_cfg = _tracks_cfg(events_config) or TracksConfig()
    delays = store.read("feed_delays") if store.files("feed_delays") else feed_delays(prepared, tracks_cfg)
    prepared = correct_late_feeds(prepared, delays)
    vessels_only = prepared.filter(is_vessel_expr("mmsi"))
    coverage = reception_cells(vessels_only, cfg.ais_gap.coverage_cell_deg)
    # possible encounter partners: vessels heard in the same or a neighbouring cell on a day the affected were
    cells = vessels_only.select(
        "mmsi", pl.col("ts").dt.date().alias("d"), (pl.col("lat") / ENCOUNTER_CELL_DEG).floor().cast(pl.Int32).alias("r"),
        (pl.col("lon") / ENCOUNTER_CELL_DEG).floor().cast(pl.Int32).alias("c")).unique()
    near = cells.filter(pl.col("mmsi").is_in(affected.implode())).select("d", "r", "c")
    near = pl.concat([near.with_columns(pl.col("r") + dr, pl.col("c") + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)]).unique()
    group = pl.concat([affected, cells.join(near, on=["d", "r", "c"])["mmsi"]]).unique()
    # an affected vessel from its own scope (less its margin); a partner from the earliest, for its encounters
    own = prepared.join(scopes, on="mmsi", how="left").filter(
        pl.col("mmsi").is_in(group.implode()) & (pl.col("scope").is_null() | (pl.col("ts") >= pl.col("scope") - margin)))
    seg = segment_all(own.drop("scope"), tracks_cfg)
    static = store.read("static", start, end)
    static = static.filter(pl.col("mmsi").is_in(group.implode()) | pl.col("imo").is_not_null()) if "imo" in static.columns \
        else static.filter(pl.col("mmsi").is_in(group.implode()))
    if state.receivers is _UNREAD:
        rx = receivers_file(None, cfg, events_config if isinstance(events_config, (str, Path)) else None)
        state.receivers = rx.receivers if rx is not None else None
    found = detect_events(seg, static, places, cfg, state.receivers, coverage) \
        if seg.height else with_event_ids(empty_events())
    sc = scopes.select("mmsi", pl.col("scope").alias("_s1"))
    # an event of the affected (either side of an encounter) in the scope of each affected side: where both
    # vessels' reports were read in full
    mine = (pl.col("start") >= pl.max_horizontal("_s1", "_s2")).fill_null(False) \
        & pl.col("type").is_in(list(EVENT_TYPES))  # from AIS; satellite imagery's events are kept

    def scoped(ev: pl.DataFrame) -> pl.DataFrame:
        return ev.join(sc, on="mmsi", how="left").join(
            sc.rename({"mmsi": "other_mmsi", "_s1": "_s2"}), on="other_mmsi", how="left").with_columns(mine.alias("_mine"))

    stored, found = scoped(stored), scoped(found)
    before = stored.filter("_mine").select(EVENT_ID_COLUMNS)
    after = found.filter("_mine").select(EVENT_ID_COLUMNS)
    events = pl.concat([stored.filter(~pl.col("_mine")).select(EVENT_ID_COLUMNS), after], how="vertical_relaxed").sort(
        ["mmsi", "start", "type", "other_mmsi"], nulls_last=True)
    store.replace("events", events)
    changes = _event_changes(before, after)
    last = _last_reports(seg.lazy())
    state.last = pl.concat([state.last, last]).sort("last_ts").unique("mmsi", keep="last")
    state.mark_seen({t: set(v) for t, v in new.items()})
    return events, changes, affected.len()


def _scopes(touched: pl.DataFrame, stored: pl.DataFrame, last: pl.DataFrame, window_h: float,
            margin_h: float) -> pl.DataFrame:
    """(mmsi, scope): from when each affected vessel's events are re-detected. ``window_h - margin_h`` before the
    earliest new report, or before the silence its new report ends (from its previous report), and earlier where
    needed so that a whole event is re-detected, never a cut one: an event of the vessel still going on then, and
    every part of a stay in port (the parts of one visit share their details) still going on then."""
    base = touched["lo"].min() - dt.timedelta(hours=window_h - margin_h)
    t = touched.select("mmsi").join(
        last.join(touched, on="mmsi").filter(pl.col("last_ts") < pl.col("lo")).select("mmsi", pl.col("last_ts").alias("silent")),
        on="mmsi", how="left").with_columns(pl.min_horizontal(pl.lit(base).cast(UTC_TS), "silent").alias("t"))
    sides = pl.concat([stored.select("mmsi", "type", "start", "end", "details"),
                       stored.select(pl.col("other_mmsi").alias("mmsi"), "type", "start", "end", "details")]).join(
        t.select("mmsi", "t"), on="mmsi")
    visit = pl.when(pl.col("type") == "port_call").then(pl.col("details").str.json_path_match("$.visit_id"))
    sides = sides.with_columns(visit.alias("visit")).with_columns(
        pl.col("start").min().over("mmsi", "visit").alias("visit_start"),
        pl.col("end").max().over("mmsi", "visit").alias("visit_end"))
    ongoing = pl.col("end").is_null() | (pl.col("end") >= pl.col("t"))
    running = sides.filter(pl.col("start") < pl.col("t")).with_columns(
        pl.when(pl.col("visit").is_not_null() & (pl.col("visit_end") >= pl.col("t"))).then(pl.col("visit_start"))
        .when(ongoing).then(pl.col("start")).alias("from")).group_by("mmsi").agg(pl.col("from").min().alias("running"))
    return t.join(running, on="mmsi", how="left").select(
        "mmsi", pl.min_horizontal("t", "running").alias("scope"))


def _event_changes(before: pl.DataFrame, after: pl.DataFrame) -> dict:
    """Counts of events opened (a new id), revised (same id, something about it changed), retracted (gone)."""
    cols = [c for c in before.columns if c != "event_id"]
    j = before.join(after, on="event_id", how="full", suffix="_new", coalesce=True)
    was, now = pl.col("type").is_not_null(), pl.col("type_new").is_not_null()
    same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"{c}_new")) for c in cols])
    return j.select((~was & now).sum().alias("opened"), (was & now & ~same).sum().alias("revised"),
                    (was & ~now).sum().alias("retracted")).row(0, named=True)


def _clock_of(last: pl.DataFrame):
    """The time reached by CLOCK_VESSELS vessels' latest reports (fewer vessels: the earliest of theirs)."""
    if last.height == 0:
        return None
    ts = last["last_ts"].drop_nulls().sort(descending=True)
    return ts[min(CLOCK_VESSELS, ts.len()) - 1] if ts.len() else None


def _tracks_cfg(events_config):
    if isinstance(events_config, (str, Path)):
        from shadowfleet.tracks import tracks_config

        return tracks_config(events_config)
    return None


def with_live_state(events: pl.DataFrame, last: pl.DataFrame, clock, min_gap_h: float) -> pl.DataFrame:
    """``events`` plus open gaps, with ``open`` (still going on) and ``duration_h`` (so far, for open ones)."""
    if clock is None:
        return events.with_columns(pl.lit(False).alias("open"), pl.lit(0.0).alias("duration_h"))
    gap = pl.duration(seconds=int(min_gap_h * 3600))
    open_gaps = last.filter(pl.col("last_ts") < pl.lit(clock) - gap).select(
        pl.lit("ais_gap").alias("type"), "mmsi", pl.col("last_ts").alias("start"), pl.lit(None, UTC_TS).alias("end"),
        "lat", "lon", pl.lit(None, pl.Utf8).alias("place"), pl.lit(None, pl.Int64).alias("other_mmsi"),
        pl.lit(False).alias("inferred"), pl.lit('{"open": true}').alias("details"),
    )
    open_gaps = open_gaps.with_columns(
        pl.concat_str([pl.lit("ais_gap"), pl.col("mmsi").cast(pl.Utf8), pl.col("start").dt.epoch("s").cast(pl.Utf8)],
                      separator="-").alias("event_id"))
    ends = last.select("mmsi", "last_ts")
    ev = events.join(ends, on="mmsi", how="left").join(
        ends.rename({"mmsi": "other_mmsi", "last_ts": "other_last"}), on="other_mmsi", how="left")
    ongoing = pl.col("type").is_in(list(_ONGOING_TYPES)) & (
        (pl.col("end") >= pl.col("last_ts")) | (pl.col("end") >= pl.col("other_last")).fill_null(False))
    ev = ev.with_columns(ongoing.fill_null(False).alias("open")).drop("last_ts", "other_last")
    out = pl.concat([ev, open_gaps.with_columns(pl.lit(True).alias("open")).select(ev.columns)], how="vertical_relaxed")
    end = pl.when(pl.col("end").is_null()).then(pl.lit(clock).cast(UTC_TS)).otherwise(pl.col("end"))
    return out.with_columns(((end - pl.col("start")).dt.total_seconds() / 3600.0).alias("duration_h"))


def with_draught_across(events: pl.DataFrame, static: pl.LazyFrame) -> pl.DataFrame:
    """``events`` plus ``draught_before`` / ``draught_after`` / ``draught_change_m`` (after - before, metres): the
    vessel's last type-5 draught at or before the event's start and its first at or after the event's end (none
    while it is open). A tanker that went dark light and came back deep loaded during the gap. For a
    draught_change event, its own two draughts. Reports without a draught (0 = not available) are not a value."""
    mmsi = events["mmsi"].drop_nulls().unique()
    reports = (static.filter((pl.col("msg_type") == 5) & pl.col("draught").is_not_null() & (pl.col("draught") > 0)
                             & pl.col("mmsi").is_in(mmsi.implode()))
               .select("mmsi", "ts", pl.col("draught").cast(pl.Float64).round(2)).collect().sort(["mmsi", "ts"]))
    ev = events.with_row_index("_row")
    before = ev.select("_row", "mmsi", "start").sort(["mmsi", "start"]).join_asof(
        reports.rename({"draught": "draught_before", "ts": "_tb"}), left_on="start", right_on="_tb", by="mmsi",
        strategy="backward", check_sortedness=False).select("_row", "draught_before")
    after = ev.filter(pl.col("end").is_not_null()).select("_row", "mmsi", "end").sort(["mmsi", "end"]).join_asof(
        reports.rename({"draught": "draught_after", "ts": "_ta"}), left_on="end", right_on="_ta", by="mmsi",
        strategy="forward", check_sortedness=False).select("_row", "draught_after")
    own = pl.col("details").str.json_path_match
    is_dc = pl.col("type") == "draught_change"
    out = ev.join(before, on="_row", how="left").join(after, on="_row", how="left").with_columns(
        pl.when(is_dc).then(own("$.draught_before").cast(pl.Float64, strict=False))
        .otherwise(pl.col("draught_before")).alias("draught_before"),
        pl.when(is_dc).then(own("$.draught_after").cast(pl.Float64, strict=False))
        .otherwise(pl.col("draught_after")).alias("draught_after"),
    )
    return out.sort("_row").drop("_row").with_columns(
        (pl.col("draught_after") - pl.col("draught_before")).round(2).alias("draught_change_m"))


def vessel_facts(store: Store, screen: bool = True, mmsi: pl.Series | None = None) -> pl.DataFrame:
    """mmsi, flag (MMSI country code), listed, list_names, name (latest broadcast) of the vessels ``mmsi`` (those
    in the events: what the rules look at), or of every vessel seen."""
    if screen and store.files("list_entries"):
        from shadowfleet.sanctions.screen import screen as run_screen

        run_screen(store)
    if mmsi is None:
        seen = store.scan("positions").select("mmsi").unique().collect()
    else:
        seen = pl.DataFrame({"mmsi": mmsi.drop_nulls().unique().cast(pl.Int64)})
    names = (store.scan("static").filter(pl.col("mmsi").is_in(seen["mmsi"].implode()) & pl.col("name").is_not_null())
             .group_by("mmsi").agg(pl.col("name").sort_by("ts").last()).collect())
    listed = listed_vessels(store).with_columns(
        pl.col("list_hits").str.extract_all(r'"entry_name":"((?:[^"\\]|\\.)*)"')
        .list.eval(pl.element().str.replace(r'^"entry_name":"', "").str.replace(r'"$', "")).list.unique()
        .list.sort().list.join("; ").alias("list_names"))
    return (seen.join(names, on="mmsi", how="left").join(listed.select("mmsi", "listed", "list_names"), on="mmsi",
                                                           how="left")
            .with_columns(flag_expr("mmsi").alias("flag"), pl.col("listed").fill_null(False)))


def _alert_rows(matches: pl.DataFrame, live: pl.DataFrame, vessels: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in ALERTS if c not in ("seq", "ts", "status", "version", "latency_s")]
    if matches.height == 0:
        return pl.DataFrame(schema={c: ALERTS[c] for c in cols})
    rows = matches.join(live, on="event_id", how="left").join(vessels.select("mmsi", "name", "flag"), on="mmsi",
                                                               how="left")
    # an encounter is stored once per vessel (mirrored): one alert per pair, on the vessel the rule is about
    # (its reasons do not start with "other vessel"), both event ids listed
    pair = pl.when(pl.col("other_mmsi").is_not_null()).then(pl.concat_str(
        [pl.col("rule"), pl.col("type"), pl.col("start").dt.epoch("s").cast(pl.Utf8),
         pl.min_horizontal("mmsi", "other_mmsi").cast(pl.Utf8), pl.max_horizontal("mmsi", "other_mmsi").cast(pl.Utf8)],
        separator="|")).otherwise(pl.col("rule") + pl.lit("|") + pl.col("event_id"))
    rows = rows.with_columns(pair.alias("_pair"), pl.col("reasons").str.starts_with('["other vessel').alias("_other"))
    ids = rows.group_by("_pair").agg(pl.col("event_id").sort().alias("_ids"))
    rows = (rows.sort(["_pair", "_other", "mmsi"]).unique("_pair", keep="first", maintain_order=True)
            .join(ids, on="_pair", how="left"))
    return rows.select(
        (pl.col("rule") + pl.lit(":") + pl.col("event_id")).alias("alert_id"), "rule", "severity",
        (pl.lit('["') + pl.col("_ids").list.join('","') + pl.lit('"]')).alias("event_ids"), pl.col("type").alias("event_type"),
        "mmsi", "other_mmsi", "name", "flag", pl.coalesce("near_place", "place").alias("place"), "lat", "lon", "start",
        pl.when(pl.col("open")).then(None).otherwise(pl.col("end")).alias("end"), "open", "reasons",
    ).select([pl.col(c).cast(ALERTS[c]) for c in cols])

