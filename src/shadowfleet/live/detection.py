"""One detection cycle: batch detection over the store as it stands, plus the events still going on, then the rules.

Running the events stage's own ``detect`` on everything received so far is what guarantees that the events table
of a live store equals what ``shadowfleet detect`` gives on the same data; what changed is found afterwards by
comparing alerts (alerts.AlertBook), which yields the open / revised / closed / retracted messages.

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
from shadowfleet.events import EventsConfig, detect, detect_events, load_config, with_event_ids
from shadowfleet.events.main import POSITION_COLUMNS, segment
from shadowfleet.events.transforms.common import empty_events
from shadowfleet.identity import flag_expr, is_vessel_expr
from shadowfleet.live.rules import Rule, match_rules
from shadowfleet.store import Store
from shadowfleet.store.schema import ALERTS, UTC_TS

_ONGOING_TYPES = ("port_call", "encounter", "loitering")


# The feed's clock is the time reached by at least this many vessels' latest reports (ours: one ship's wrong clock
# or one forged report with a future time must not make every other ship look dark)
CLOCK_VESSELS = 3


@dataclasses.dataclass
class CycleResult:
    events: pl.DataFrame  # detected events (full: what the events table now holds; window: the window's)
    live_events: pl.DataFrame  # events + open gaps, with open and duration_h
    alerts: pl.DataFrame  # current alerts (ALERTS columns without seq/ts/status/version)
    clock: object  # newest report time reached by CLOCK_VESSELS vessels
    scope_start: object = None  # window cycles speak only for events starting at or after this time


def run_cycle(store: Store, rules: tuple[Rule, ...], places, events_config, screen: bool = True,
              window_h: float | None = None, margin_h: float = 0.0) -> CycleResult:
    """Detect, add open events, screen vessels (when lists are loaded), apply the rules. ``places``: a
    shadowfleet.places.Places (loaded once by the caller).

    Full cycle (``window_h`` None): the events stage's ``detect`` over the whole store, which also writes the
    events and segments tables. Window cycle: detection over the last ``window_h`` hours of reports only (bounded
    time and memory, nothing written); an event cut by the window's start could look different, so the result
    speaks only for events starting ``margin_h`` after it (``scope_start``)."""
    cfg = events_config if isinstance(events_config, EventsConfig) else load_config(events_config)
    scope_start = None
    if window_h is None:
        events = detect(store, places=places, config=events_config)
        segmented = store.scan("segments")
    else:
        clock = _clock(store.scan("positions", start=_recent_start(store)))
        if clock is None:
            return run_cycle(store, rules, places, events_config, screen, None, margin_h)
        start = clock - dt.timedelta(hours=window_h)
        scope_start = start + dt.timedelta(hours=margin_h)
        positions = store.read("positions", start, clock + dt.timedelta(days=1))
        positions = positions.select([c for c in POSITION_COLUMNS if c in positions.columns])
        seg = segment(positions, _tracks_cfg(events_config))
        events = detect_events(seg, store.read("static", start, clock), places, cfg) if seg.height else \
            with_event_ids(empty_events())
        segmented = seg.lazy()
    last = (
        segmented.filter(is_vessel_expr("mmsi"))
        .group_by("mmsi").agg(pl.col("ts").max().alias("last_ts"), pl.col("lat").sort_by("ts").last().alias("lat"),
                              pl.col("lon").sort_by("ts").last().alias("lon"))
        .collect()
    )
    clock = _clock_of(last)
    live = with_live_state(events, last, clock, cfg.ais_gap.min_gap_h)
    if any(r.min_draught_change_m for r in rules):
        live = with_draught_across(live, store.scan("static"))
    vessels = vessel_facts(store, screen, pl.concat([live["mmsi"], live["other_mmsi"]]))
    matches = match_rules(live, vessels, rules, places)
    alerts = _alert_rows(matches, live, vessels)
    return CycleResult(events, live, alerts, clock, scope_start)


def _clock_of(last: pl.DataFrame):
    """The time reached by CLOCK_VESSELS vessels' latest reports (fewer vessels: the earliest of theirs)."""
    if last.height == 0:
        return None
    ts = last["last_ts"].drop_nulls().sort(descending=True)
    return ts[min(CLOCK_VESSELS, ts.len()) - 1] if ts.len() else None


def _clock(lf: pl.LazyFrame):
    return _clock_of(lf.filter(is_vessel_expr("mmsi")).group_by("mmsi").agg(pl.col("ts").max().alias("last_ts")).collect())


def _recent_start(store: Store):
    """The start of the two latest UTC days that hold positions: where the clock is, read without the rest."""
    days = sorted({f.parent.name[4:] for f in store.files("positions")} - {"unknown"})
    if not days:
        return None
    return dt.datetime.fromisoformat(days[max(0, len(days) - 2)]).replace(tzinfo=dt.timezone.utc)


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

