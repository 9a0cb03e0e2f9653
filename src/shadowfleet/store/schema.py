"""The schema registry: every table the store holds, declared once (columns, how it is written, how it is split).

Times are UTC, microsecond precision. Angles in degrees, speeds in knots, lengths in metres.

Adding a table is one call to ``register`` in this module::

    register("detections", {"scene_id": pl.Utf8, "ts": UTC_TS, ...}, write="append", partition="day")

* ``write="append"``: rows are only ever added (``Store.append``; one call or one transaction is one commit).
  ``partition="day"`` splits the files by the UTC day of ``ts`` (readers skip days outside a time window);
  ``partition=None`` keeps one folder (small append-only tables such as analyst notes or alerts).
* ``write="replace"``: a stage derives the table and swaps it whole (``Store.replace``), or swaps only some keys
  of it when ``partition`` names a column (``Store.replace(table, df, keys=[...])``: the rows of one sanctions
  list version, say), so writers of different keys never undo each other.

Every registered table is then a view in ``Store.sql`` and ``Store.connect``, is conformed (cast, missing
columns as nulls, extra columns kept last) on every write, and reads back empty with its columns when nothing
was written yet.
"""

from __future__ import annotations

import dataclasses

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")


@dataclasses.dataclass(frozen=True)
class TableSpec:
    name: str
    columns: dict[str, pl.DataType]
    write: str  # "append" or "replace"
    partition: str | None  # "day" (UTC day of ts), a key column (replace by key), or None


SPECS: dict[str, TableSpec] = {}
TABLES: dict[str, dict] = {}  # name -> columns, for code that only needs the schema


def register(name: str, columns: dict, write: str, partition: str | None = None) -> dict:
    if write not in ("append", "replace"):
        raise ValueError(f"write must be 'append' or 'replace', not {write!r}")
    if partition == "day" and "ts" not in columns:
        raise ValueError(f"{name}: a day-partitioned table needs a ts column")
    if partition not in (None, "day") and (write != "replace" or partition not in columns):
        raise ValueError(f"{name}: a key partition must be a column of a replaced table")
    SPECS[name] = TableSpec(name, dict(columns), write, partition)
    TABLES[name] = SPECS[name].columns
    return SPECS[name].columns


def spec(table: str) -> TableSpec:
    """The table's declaration; a name not registered is a derived table replaced whole, schema as written."""
    return SPECS.get(table) or TableSpec(table, {}, "replace", None)


# ---- AIS, appended by ingest ------------------------------------------------------------------------------
POSITIONS = register("positions", {
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
}, write="append", partition="day")

STATIC = register("static", {
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
    "dup_key": pl.UInt64,
}, write="append", partition="day")

BASE_STATIONS = register("base_stations", {
    "mmsi": pl.Int64,
    "ts": UTC_TS,  # receive time
    "station_time": UTC_TS,  # the UTC the station broadcast (null if invalid)
    "lat": pl.Float64,
    "lon": pl.Float64,
    "source": pl.Utf8,
    "receiver": pl.Utf8,
    "n_receivers": pl.Int32,
    "dup_key": pl.UInt64,
}, write="append", partition="day")

AIDS = register("aids", {
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
    "dup_key": pl.UInt64,
}, write="append", partition="day")

REJECTS = register("rejects", {
    "ts": UTC_TS,  # null when the time itself was missing or absurd
    "source": pl.Utf8,
    "file": pl.Utf8,
    "line": pl.Int64,  # 1-based line number in the (decompressed) file
    "reason": pl.Utf8,  # one of ingest.REJECT_REASONS
    "raw": pl.Utf8,
}, write="append", partition="day")

# ---- derived by detect ------------------------------------------------------------------------------------
EVENTS = register("events", {
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
}, write="replace")

# the de-duplicated positions with the track segment each belongs to (read by registry.track)
SEGMENTS = register("segments", {
    "mmsi": pl.Int64,
    "ts": UTC_TS,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "sog": pl.Float32,
    "segment": pl.Utf8,  # null = discarded as noise
}, write="replace")

# receivers whose reports arrive a constant time late (written by detect; see tracks.late_feed)
FEED_DELAYS = register("feed_delays", {
    "receiver": pl.Utf8,
    "delay_s": pl.Float64,  # median lateness against the other receivers' reports of the same ships
    "n_matched": pl.Int64,
    "n_mmsi": pl.Int64,
    "consistent_share": pl.Float64,
}, write="replace")

# ---- sanctions ------------------------------------------------------------------------------------------
# every loaded version of every list; `lists load` replaces the rows of the versions it loads, no others
LIST_ENTRIES = register("list_entries", {
    "list_id": pl.Utf8,  # "<list name>@<version date>": one version of one list
    "kind": pl.Utf8,  # ofac-sdn, un-xml, un-1718-vessels, opensanctions, csv
    "source": pl.Utf8,  # file name
    "version_date": pl.Utf8,  # ISO date of the list version
    "entry_id": pl.Utf8,  # the list's own id (OFAC ent_num, UN reference number, FtM id, row number)
    "name": pl.Utf8,
    "aliases": pl.Utf8,  # JSON list (a.k.a. and former names)
    "entity_type": pl.Utf8,  # vessel, company, person, other
    "imo": pl.Int64,
    "mmsi": pl.Int64,
    "callsign": pl.Utf8,
    "flag": pl.Utf8,  # as the list writes it
    "vessel_type": pl.Utf8,
    "tonnage": pl.Float64,
    "grt": pl.Float64,
    "owner": pl.Utf8,
    "programs": pl.Utf8,  # ";"-separated programme codes (OFAC DPRK3, UN list type DPRK, …)
    "remarks": pl.Utf8,
    # ours
    "list_name": pl.Utf8,
    "former_names": pl.Utf8,  # JSON list (f.k.a.)
    "flag_iso2": pl.Utf8,  # flag as ISO 3166 alpha-2 where the country is known
    "former_flags": pl.Utf8,  # JSON list of ISO alpha-2
    "imo_valid": pl.Boolean,  # the list's IMO passes the check digit
    "linked_to": pl.Utf8,
    "line": pl.Int64,  # line of the entry in the source file
}, write="replace", partition="list_id")

SCREENING = register("screening", {
    "mmsi": pl.Int64,
    "list_id": pl.Utf8,  # null on a row that carries only the vessel's risk (no list hit)
    "version_date": pl.Utf8,
    "entry_id": pl.Utf8,
    "entry_name": pl.Utf8,
    "match_on": pl.Utf8,  # imo, mmsi, callsign, name; null = no hit, risk only
    "score": pl.Float64,  # 0-100
    "explanation": pl.Utf8,
    "laundering_suspected": pl.Boolean,
    "risk": pl.Float64,  # 0-100, per vessel (same on every row of the MMSI)
    "risk_reasons": pl.Utf8,  # JSON list
    # ours
    "list_name": pl.Utf8,
    "current_version": pl.Boolean,  # the hit is in the latest loaded version of its list
    "vessel_name": pl.Utf8,  # the identity that matched
    "vessel_imo": pl.Int64,
    "vessel_callsign": pl.Utf8,
    "entry_imo": pl.Int64,
    "programs": pl.Utf8,
}, write="replace")

# ---- cases: every load is a voyage; the voyages with a discharge are the cases (same columns) ---------------
CASES = register("cases", {
    "case_id": pl.Utf8,
    "mmsi": pl.Int64,
    "imo": pl.Int64,
    "name": pl.Utf8,
    "flag": pl.Utf8,
    "load_place": pl.Utf8,
    "load_start": UTC_TS,
    "load_end": UTC_TS,
    "load_inferred": pl.Boolean,
    "discharge_kind": pl.Utf8,
    "discharge_place": pl.Utf8,
    "discharge_other_mmsi": pl.Int64,
    "discharge_start": UTC_TS,
    "discharge_end": UTC_TS,
    "tonnes_low": pl.Float64,
    "tonnes_central": pl.Float64,
    "tonnes_high": pl.Float64,
    "barrels_low": pl.Float64,
    "barrels_central": pl.Float64,
    "barrels_high": pl.Float64,
    "product": pl.Utf8,
    "confidence": pl.Float64,
    "reasons": pl.Utf8,
    "evidence": pl.Utf8,
    "list_hits": pl.Utf8,
    # ours
    "destination_country": pl.Utf8,
    "load_country": pl.Utf8,
    "load_port_level": pl.Boolean,  # load placed at the port only (dark call), not at the berth
    "load_site": pl.Utf8,  # the berth; for a port-level load the port's only oil terminal, else the port
    "load_reachable": pl.Utf8,  # load hidden in an AIS gap: the load terminals reachable during it
    "tonnes_method": pl.Utf8,  # draught_rise, draught_drop, capacity, fleet_prior
    "draught_change_m": pl.Float64,
    "capacity_source": pl.Utf8,
    "dwt_central": pl.Float64,
    "load_supplier_port": pl.Boolean,  # possible load at a supplier port without a mapped oil berth (then an STS)
    "discharge_sts_dark": pl.Boolean,  # STS inferred from an AIS gap while a DPRK/listed vessel waited at the area
    # JSON list: the satellite detections that corroborate the voyage (role load|discharge|sts, matched, detection_id,
    # scene_id, sensor, acquired, lat, lon, length_m, ais_length_m, place, distance_m, distance_to, event_id)
    "imagery": pl.Utf8,
}, write="replace")
VOYAGES = register("voyages", CASES, write="replace")

# ---- analyst notes and live alerts (append-only) ------------------------------------------------------------
NOTES = register("notes", {
    "note_id": pl.Utf8,  # random hex, unique
    "ts": UTC_TS,  # when the note was received
    "case_id": pl.Utf8,
    "author": pl.Utf8,  # as typed by the analyst (shown as text, never markup)
    "text": pl.Utf8,
}, write="append", partition="day")

# Alert messages of `shadowfleet live` (appended; the latest row per alert_id is its state), by the day written.
ALERTS = register("alerts", {
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
}, write="append", partition="day")

# ---- derived by `imagery detect`: ships found in satellite scenes, and the scenes themselves.
DETECTIONS = register("detections", {
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
}, write="replace")

SCENES = register("scenes", {
    "scene_id": pl.Utf8,
    "sensor": pl.Utf8,
    "acquired": UTC_TS,
    "footprint": pl.Utf8,  # GeoJSON Polygon (lon/lat)
    "pixel_m": pl.Float64,
    "width": pl.Int64,
    "height": pl.Int64,
    "bands": pl.Utf8,  # comma-separated band names read
    "source": pl.Utf8,  # the file or folder given, as an absolute path (chips read it from any directory)
    "cloud_share": pl.Float64,  # optical: share of the scene's water under cloud
    "status": pl.Utf8,  # ok | cloudy (skipped) | no_water
    "detections": pl.Int64,
    "range_over_velocity_s": pl.Float64,
    "track_bearing_deg": pl.Float64,
}, write="replace")

# Given to `imagery detect --structures FILE`: fixed objects (platforms, buoys, jetty heads) a detection near
# which is set aside as fixed; kept until another file replaces them.
STRUCTURES = register("structures", {
    "structure_id": pl.Utf8,
    "kind": pl.Utf8,
    "name": pl.Utf8,
    "geometry": pl.Utf8,  # GeoJSON geometry (lon/lat)
    "source": pl.Utf8,  # the file it came from
}, write="replace")

# Derived by `imagery match`: each detection tied to an AIS track or to none.
MATCHES = register("matches", {
    "detection_id": pl.Utf8,
    "scene_id": pl.Utf8,
    "acquired": UTC_TS,
    "mmsi": pl.Int64,  # null: no AIS track explains the detection
    "distance_m": pl.Float64,  # from the track's expected image position
    "minutes_to_report": pl.Float64,  # from the acquisition to the track's nearest AIS report
    "gate_m": pl.Float64,
    "score": pl.Float64,  # 1 - distance / gate (1 = on the spot)
    "reason": pl.Utf8,
}, write="replace")

# Tables partitioned by UTC day of `ts`.
DAY_PARTITIONED = {name for name, s in SPECS.items() if s.partition == "day"}


def empty(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=spec(table).columns)


def conform(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """Cast and order ``df`` to the table's schema; missing columns become nulls, extra columns are kept last."""
    schema = spec(table).columns
    if not schema:
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
