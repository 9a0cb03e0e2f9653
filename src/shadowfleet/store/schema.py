"""Column schemas of the store's tables (the contract every stage reads and writes).

Times are UTC, microsecond precision. Angles in degrees, speeds in knots, lengths in metres.
"""

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")

POSITIONS = {
    "mmsi": pl.Int64,
    "ts": UTC_TS,  # receive time (tag block c:, $PGHP, CSV time) — the time the report is known at
    "lat": pl.Float64,
    "lon": pl.Float64,
    "sog": pl.Float32,  # knots; null when "not available" (102.3)
    "cog": pl.Float32,  # degrees; null when 360
    "heading": pl.Int16,  # degrees; null when 511
    "rot": pl.Float32,  # degrees/min; null when not available
    "nav_status": pl.Int8,  # ITU-R M.1371 navigational status 0..15; null for class B
    "accuracy": pl.Boolean,
    "msg_type": pl.Int8,  # 1,2,3,18,19,27 (CSV/JSONL rows without one: 1 for class A, 18 for B)
    "ais_class": pl.Utf8,  # "A" or "B"
    "source": pl.Utf8,  # --source NAME, else the file name
    "receiver": pl.Utf8,  # tag block s:, DMA si:, or null
    "n_receivers": pl.Int32,  # how many receivers delivered this same report
    "dup_key": pl.UInt64,  # hash of the report's content (NMEA payload bits, or a row's values); see store.dedupe
}

STATIC = {
    "mmsi": pl.Int64,
    "ts": UTC_TS,
    "msg_type": pl.Int8,  # 5, 19, 24
    "part": pl.Utf8,  # "A"/"B" for type 24, null otherwise
    "imo": pl.Int64,  # as broadcast (may fail the check digit; the registry says so)
    "name": pl.Utf8,  # '@' padding and trailing spaces stripped
    "callsign": pl.Utf8,
    "ship_type": pl.Int16,
    "length": pl.Float32,  # to_bow + to_stern
    "beam": pl.Float32,  # to_port + to_starboard
    "draught": pl.Float32,  # metres; null when 0 (not available)
    "destination": pl.Utf8,
    "eta": pl.Utf8,  # "MM-DDTHH:MM" as broadcast (the year is not in the message)
    "ais_class": pl.Utf8,
    "source": pl.Utf8,
    "receiver": pl.Utf8,
    "n_receivers": pl.Int32,
    "dup_key": pl.UInt64,  # hash of the report's content (NMEA payload bits, or a row's values); see store.dedupe
}

BASE_STATIONS = {
    "mmsi": pl.Int64,
    "ts": UTC_TS,  # receive time
    "station_time": UTC_TS,  # the UTC the station broadcast (null if invalid)
    "lat": pl.Float64,
    "lon": pl.Float64,
    "source": pl.Utf8,
    "receiver": pl.Utf8,
    "n_receivers": pl.Int32,
    "dup_key": pl.UInt64,  # hash of the report's content (NMEA payload bits, or a row's values); see store.dedupe
}

AIDS = {
    "mmsi": pl.Int64,
    "ts": UTC_TS,
    "aid_type": pl.Int16,
    "name": pl.Utf8,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "virtual": pl.Boolean,
    "off_position": pl.Boolean,
    "source": pl.Utf8,
    "receiver": pl.Utf8,
    "n_receivers": pl.Int32,
    "dup_key": pl.UInt64,  # hash of the report's content (NMEA payload bits, or a row's values); see store.dedupe
}

REJECTS = {
    "ts": UTC_TS,  # null when the time itself was missing or absurd
    "source": pl.Utf8,
    "file": pl.Utf8,
    "line": pl.Int64,  # 1-based line number in the (decompressed) file
    "reason": pl.Utf8,  # one of ingest.REJECT_REASONS
    "raw": pl.Utf8,
}

# Derived by `detect` (replaced on every run). Contract of issue 4.
EVENTS = {
    "event_id": pl.Utf8,  # stable: "<type>-<mmsi>-<start epoch s>[-<other_mmsi>]", referenced by cases as evidence
    "type": pl.Utf8,
    "mmsi": pl.Int64,
    "start": UTC_TS,
    "end": UTC_TS,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "place": pl.Utf8,
    "other_mmsi": pl.Int64,
    "inferred": pl.Boolean,
    "details": pl.Utf8,  # JSON object
}

# Analyst notes on cases, written by `serve` (the only table it writes): append-only, one batch per note.
NOTES = {
    "note_id": pl.Utf8,  # random hex, unique
    "ts": UTC_TS,  # when the server received the note
    "case_id": pl.Utf8,
    "author": pl.Utf8,  # as typed by the analyst (shown as text, never markup)
    "text": pl.Utf8,
}

# Alert messages of `shadowfleet live` (appended; the latest row per alert_id is its state). Partitioned by the day
# the message was written (ts).
ALERTS = {
    "seq": pl.Int64,  # order of writing, increasing across restarts
    "ts": UTC_TS,  # when the message was written
    "alert_id": pl.Utf8,  # "<rule>:<event_id>", the same for its revisions and retraction
    "status": pl.Utf8,  # new, revised, retracted
    "version": pl.Int32,  # 1 for new, +1 per revision or retraction
    "rule": pl.Utf8,
    "severity": pl.Utf8,  # low, medium, high
    "event_ids": pl.Utf8,  # JSON list
    "event_type": pl.Utf8,
    "mmsi": pl.Int64,
    "other_mmsi": pl.Int64,
    "name": pl.Utf8,  # the vessel's latest broadcast name
    "flag": pl.Utf8,  # from the MMSI's country code
    "place": pl.Utf8,  # the place the rule is about (or the event's place)
    "lat": pl.Float64,
    "lon": pl.Float64,
    "start": UTC_TS,
    "end": UTC_TS,  # null while the event is open
    "open": pl.Boolean,  # the event is still going on
    "reasons": pl.Utf8,  # JSON list of sentences
    "latency_s": pl.Float64,  # from the oldest line of the data it was computed on arriving to this row
}

# Derived by `imagery detect` (issue 14): ships found in satellite scenes, and the scenes themselves.
DETECTIONS = {
    "detection_id": pl.Utf8,  # "<scene_id>-<n>"
    "scene_id": pl.Utf8,
    "sensor": pl.Utf8,  # sar | optical
    "acquired": UTC_TS,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "length_m": pl.Float64,
    "width_m": pl.Float64,
    "heading_deg": pl.Float64,  # long axis, clockwise from north, 0-180 (bow and stern look alike); null if round
    "score": pl.Float64,  # peak contrast in background standard deviations
    "n_pixels": pl.Int64,
    "distance_to_shore_km": pl.Float64,
    "place": pl.Utf8,  # gazetteer id of the smallest port/berth/terminal/anchorage/STS area containing it
    # radar only: a ship moving at v_r (m/s, along the look direction) appears shifted along the track by
    # -(R/V) v_r; this is R/V in metres per m/s, and the track's bearing
    "azimuth_shift_m_per_mps": pl.Float64,
    "track_bearing_deg": pl.Float64,
    "fixed": pl.Boolean,  # seen at the same spot in most scenes of it: a platform, buoy or jetty head
}

SCENES = {
    "scene_id": pl.Utf8,
    "sensor": pl.Utf8,
    "acquired": UTC_TS,
    "footprint": pl.Utf8,  # GeoJSON Polygon (lon/lat)
    "pixel_m": pl.Float64,
    "width": pl.Int64,
    "height": pl.Int64,
    "bands": pl.Utf8,  # comma-separated band names read
    "source": pl.Utf8,  # the file or folder given
    "cloud_share": pl.Float64,  # optical: share of the scene's water under cloud
    "status": pl.Utf8,  # ok | cloudy (skipped) | no_water
    "detections": pl.Int64,
    "range_over_velocity_s": pl.Float64,
    "track_bearing_deg": pl.Float64,
}


TABLES: dict[str, dict] = {
    "positions": POSITIONS,
    "static": STATIC,
    "base_stations": BASE_STATIONS,
    "aids": AIDS,
    "rejects": REJECTS,
    "events": EVENTS,
    "notes": NOTES,
    "alerts": ALERTS,
    "detections": DETECTIONS,
    "scenes": SCENES,
}

# Tables partitioned by UTC day of `ts`; others are written whole by the stage that derives them.
DAY_PARTITIONED = {"positions", "static", "base_stations", "aids", "rejects", "notes", "alerts"}


def empty(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=TABLES[table])


def conform(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """Cast and order ``df`` to the table's schema; missing columns become nulls, extra columns are kept last."""
    schema = TABLES.get(table)
    if schema is None:
        return df
    if df.width == 0:  # selecting literals from a frame with no columns would make one all-null row
        return empty(table)
    cols = []
    for name, dtype in schema.items():
        if name in df.columns:
            cols.append(pl.col(name).cast(dtype, strict=False))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    extra = [c for c in df.columns if c not in schema]
    return df.select(cols + extra)
