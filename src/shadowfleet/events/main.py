"""`detect`: read positions and static reports from the store, segment the tracks, run every detector, write
the `events` and `segments` tables (replaced on every run) and return the events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from shadowfleet.errors import ShadowfleetError
from shadowfleet.events.config import EventsConfig, load_config
from shadowfleet.places import Places, as_places
from shadowfleet.events.transforms.common import EVENT_COLUMNS, empty_events
from shadowfleet.events.transforms.draught import find_draught_changes
from shadowfleet.events.transforms.encounters import find_encounters
from shadowfleet.events.transforms.gaps import find_gaps, reception_cells
from shadowfleet.events.transforms.identity import find_identity_changes
from shadowfleet.events.transforms.loitering import find_loitering
from shadowfleet.events.transforms.port_calls import find_port_calls
from shadowfleet.events.transforms.spoofing import find_spoofing
from shadowfleet.identity import is_vessel_expr

EVENT_TYPES = ("port_call", "ais_gap", "encounter", "loitering", "draught_change", "identity_change", "spoofing")
SEGMENT_COLUMNS = ["mmsi", "ts", "lat", "lon", "sog", "segment"]
POSITION_COLUMNS = ["mmsi", "ts", "lat", "lon", "sog", "cog", "heading", "nav_status", "msg_type", "ais_class",
                     "n_receivers", "dup_key", "source", "receiver"]


def detect_events(
    segmented: pl.DataFrame,
    static: pl.DataFrame,
    places: Places,
    cfg: EventsConfig = EventsConfig(),
    receivers: pl.DataFrame | None = None,
    coverage: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every detector over segmented positions (segment null = noise) and static reports of vessels (ship-format
    MMSIs, identity.is_vessel: aids to navigation, SAR aircraft, handhelds, net buoys and test numbers are not
    ships); no store involved. ``receivers``: known receivers (`read_receivers`) for the reception check.
    ``coverage`` (gaps.reception_cells of every vessel's reports): given when ``segmented`` holds only some
    vessels, so that a gap's coverage is judged on everyone's reports as in a run over all of them."""
    segmented = segmented.filter(is_vessel_expr("mmsi"))
    static = static.filter(is_vessel_expr("mmsi")) if "mmsi" in static.columns else static
    spoofing = find_spoofing(segmented, cfg.spoofing, places, receivers)
    # an MMSI two ships broadcast at once: the movement detectors run per ship (a key per shared track), and the
    # events go back to the MMSI with the ship's track in their details
    ships = shared_tracks(spoofing)
    moving = _per_ship(segmented, ships)
    clean = moving.filter(pl.col("segment").is_not_null()).sort(["mmsi", "ts"])
    if coverage is None:
        coverage = reception_cells(segmented, cfg.ais_gap.coverage_cell_deg)
    per_ship = [
        find_port_calls(clean, places, cfg.port_call),
        # every received report ends a silence, noise included (the transponder was on)
        find_gaps(moving.sort(["mmsi", "ts"]), cfg.ais_gap, places, coverage),
        find_encounters(clean, cfg.encounter, places),
        find_loitering(clean, places, cfg.loitering),
    ]
    clean_mmsi = segmented.filter(pl.col("segment").is_not_null()).sort(["mmsi", "ts"])
    parts = [_back_to_mmsi(p.select(EVENT_COLUMNS), ships) for p in per_ship] + [
        find_draught_changes(static, clean_mmsi, cfg.draught_change),
        find_identity_changes(static, clean_mmsi, cfg.identity_change),
        spoofing,
    ]
    return numbered(parts)


def numbered(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The detectors' outputs as one events table in a fixed order, with ids."""
    if not parts:
        return with_event_ids(empty_events())
    events = pl.concat([p.select(EVENT_COLUMNS) for p in parts], how="vertical_relaxed")
    return with_event_ids(events.sort(["mmsi", "start", "type", "other_mmsi"], nulls_last=True))


def shared_tracks(spoofing: pl.DataFrame) -> pl.DataFrame:
    """(mmsi, segment, ship_key) of the tracks of MMSIs found broadcast by two ships at once (spoofing two_places);
    ship_key is a negative stand-in MMSI, one per track."""
    two = spoofing.filter(pl.col("details").str.contains('"kind":"two_places"', literal=True))
    if two.height == 0:
        return pl.DataFrame(schema={"mmsi": pl.Int64, "segment": pl.Utf8, "ship_key": pl.Int64})
    tracks = two.select(
        "mmsi",
        pl.col("details").str.json_decode(pl.Struct({"tracks": pl.List(pl.Struct({"segment": pl.Utf8}))}))
        .struct.field("tracks").alias("t"),
    ).explode("t").select("mmsi", pl.col("t").struct.field("segment").alias("segment")).unique(maintain_order=True)
    return tracks.with_columns((-(pl.int_range(pl.len()) + 1)).cast(pl.Int64).alias("ship_key"))


def _per_ship(positions: pl.DataFrame, ships: pl.DataFrame) -> pl.DataFrame:
    if ships.height == 0:
        return positions
    return positions.join(ships, on=["mmsi", "segment"], how="left", maintain_order="left").with_columns(
        pl.coalesce("ship_key", "mmsi").alias("mmsi")).drop("ship_key")


def _back_to_mmsi(events: pl.DataFrame, ships: pl.DataFrame) -> pl.DataFrame:
    """Stand-in keys back to the MMSI (mmsi and other_mmsi), naming the ship's track in details.ship_track."""
    if ships.height == 0 or events.height == 0:
        return events
    key = ships.select("ship_key", "mmsi", "segment")
    out = events.join(key, left_on="mmsi", right_on="ship_key", how="left", suffix="_ship", maintain_order="left")
    out = out.with_columns(
        pl.coalesce("mmsi_ship", "mmsi").alias("mmsi"),
        pl.when(pl.col("segment").is_not_null())
        .then(pl.col("details").str.replace(r"^\{", pl.concat_str([pl.lit('{"ship_track":"'), pl.col("segment"),
                                                                    pl.lit('",')])).str.replace(",}$", "}"))
        .otherwise(pl.col("details")).alias("details"),
    ).drop("mmsi_ship", "segment")
    other = key.select(pl.col("ship_key").alias("other_mmsi"), pl.col("mmsi").alias("_other"))
    return out.join(other, on="other_mmsi", how="left", maintain_order="left").with_columns(
        pl.coalesce("_other", "other_mmsi").alias("other_mmsi")).drop("_other").select(EVENT_COLUMNS)


def with_event_ids(events: pl.DataFrame) -> pl.DataFrame:
    """Stable ids "<type>-<mmsi>-<start epoch s>[-<other_mmsi>]" (docs/CONTRACTS.md); a repeat gets "-2", "-3"…"""
    if events.height == 0:
        return events.with_columns(pl.lit(None, pl.Utf8).alias("event_id")).select(["event_id"] + EVENT_COLUMNS)
    base = pl.concat_str(
        [pl.col("type"), pl.col("mmsi").cast(pl.Utf8), (pl.col("start").dt.epoch("s")).cast(pl.Utf8)],
        separator="-",
    )
    base = pl.when(pl.col("other_mmsi").is_not_null()).then(
        pl.concat_str([base, pl.col("other_mmsi").cast(pl.Utf8)], separator="-")
    ).otherwise(base)
    events = events.with_columns(base.alias("event_id"))
    n = pl.int_range(pl.len()).over("event_id")
    events = events.with_columns(
        pl.when(n > 0).then(pl.concat_str([pl.col("event_id"), (n + 1).cast(pl.Utf8)], separator="-"))
        .otherwise(pl.col("event_id")).alias("event_id")
    )
    return events.select(["event_id"] + EVENT_COLUMNS)


def segment(positions: pl.DataFrame, tracks_cfg=None, counts: dict | None = None,
            delays: list | None = None) -> pl.DataFrame:
    """Positions with the tracks stage's `segment` column (null = discarded as noise). Rows without MMSI, time
    or a valid position, and exact repeats, are dropped by `tracks.prepare` and counted into ``counts``. Reports
    of receivers found to run late (`tracks.feed_delays`) get their stamps moved back first; the delays found
    are appended to ``delays`` when given."""
    from shadowfleet.tracks import TracksConfig, correct_late_feeds, feed_delays, prepare, segment_all

    if positions.height == 0:
        return positions.with_columns(pl.lit(None, pl.Utf8).alias("segment"))
    cfg = tracks_cfg or TracksConfig()
    prepared = prepare(positions, counts)
    late = feed_delays(prepared, cfg)
    if delays is not None:
        delays.append(late)
    return segment_all(correct_late_feeds(prepared, late), cfg)


def detect(
    store,
    places: Places | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    config: EventsConfig | str | Path | None = None,
    counts: dict | None = None,
    engine: Any = None,
    delays: list | None = None,
    receivers: pl.DataFrame | str | Path | None = None,
) -> pl.DataFrame:
    """Compute all events from the store (optionally a time window) and write `events` and `segments` (and
    `feed_delays`: receivers found to run late, whose stamps were moved back; appended to ``delays`` too).
    ``counts``, if given, receives the positions dropped before detection, by reason (nothing vanishes
    uncounted; ingest has already rejected what it could not read). ``places``: the gazetteer (default: the
    built-in one). ``engine`` (shadowfleet.engine.open_engine) runs detection as vessel-bucket and encounter-bucket
    tasks, e.g. on a Dask cluster; the events are the same. ``receivers``: known receivers for the reception
    check, as a frame (`read_receivers(path).receivers`) or a file; default: the file `[events.spoofing] receivers`
    names, if any (`receivers_file` resolves it and reports refused rows)."""
    cfg = config if isinstance(config, EventsConfig) else load_config(config)
    if receivers is None or isinstance(receivers, (str, Path)):
        rx_file = receivers_file(receivers, cfg, config if isinstance(config, (str, Path)) else None)
        receivers = rx_file.receivers if rx_file is not None else None
    tracks_cfg = None
    if isinstance(config, (str, Path)):
        from shadowfleet.tracks import tracks_config

        tracks_cfg = tracks_config(config)
    if start is not None and end is not None and end < start:
        raise ShadowfleetError("--end is before --start")
    pidx = as_places(places)
    snap = store.snapshot()  # positions and static of one commit, whatever an ingest adds meanwhile
    if engine is not None and engine.name != "local":
        from shadowfleet.events.partitioned import detect_partitioned

        staged, n_segmented, parts, late = detect_partitioned(
            engine, store, snap.scan("positions", start, end), snap.scan("static", start, end), pidx, cfg,
            tracks_cfg, POSITION_COLUMNS, SEGMENT_COLUMNS, counts, receivers)
        events = numbered(parts)
        with store.transaction() as tx:  # the workers' segments, the events and the delays: one commit
            for part in staged:
                tx.absorb(part)
            tx.replace("events", _with_imagery_events(store, events))
            if n_segmented:  # whenever there were positions to segment
                tx.replace("feed_delays", late)
        if n_segmented and delays is not None:
            delays.append(late)
        return events
    positions = snap.read("positions", start, end)
    positions = positions.select([c for c in POSITION_COLUMNS if c in positions.columns])
    static = snap.read("static", start, end)
    late: list = []
    segmented = segment(positions, tracks_cfg, counts, late)
    if counts is not None and segmented.height:
        # stations that are not ships stay in `segments` (and on the map) but raise no event
        counts["not_a_vessel"] = counts.get("not_a_vessel", 0) + int(segmented.select((~is_vessel_expr("mmsi")).sum()).item())
    if "segment" not in segmented.columns:
        raise ShadowfleetError("track segmentation returned no segment column")
    events = detect_events(segmented, static, pidx, cfg, receivers) if segmented.height or static.height else with_event_ids(
        empty_events()
    )
    with store.transaction() as tx:  # segments, the events found on them and the feed delays, committed together
        tx.replace("segments", segmented.select([c for c in SEGMENT_COLUMNS if c in segmented.columns]))
        tx.replace("events", _with_imagery_events(store, events))
        if late:
            tx.replace("feed_delays", late[0])
    if late and delays is not None:
        delays.append(late[0])
    return events


def receivers_file(path: str | Path | None, cfg: EventsConfig, config_path: str | Path | None = None):
    """The receivers file to use (`reception.read_receivers`): ``path`` if given, else the one the config's
    `[events.spoofing] receivers` names (a relative path read from the config file's folder); None when neither."""
    from shadowfleet.events.transforms.reception import read_receivers

    if path is None and cfg.spoofing.receivers:
        path = Path(cfg.spoofing.receivers)
        if not path.is_absolute() and config_path is not None:
            path = Path(config_path).parent / path
    return read_receivers(path) if path is not None else None


def _with_imagery_events(store, events: pl.DataFrame) -> pl.DataFrame:
    """``events`` plus the stored events that `imagery match` wrote (dark detections, unconfirmed positions):
    they come from satellite scenes, not from AIS, so re-running detection keeps them."""
    from shadowfleet.imagery.match import IMAGERY_EVENT_TYPES

    if not store.files("events"):
        return events
    kept = store.scan("events").filter(pl.col("type").is_in(list(IMAGERY_EVENT_TYPES))).collect()
    if kept.height == 0:
        return events
    return pl.concat([events, kept.select(events.columns)], how="vertical_relaxed")
