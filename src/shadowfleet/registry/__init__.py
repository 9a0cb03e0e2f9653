"""The vessel registry and the query side of the store: who each MMSI is (identity history, flag from the MID,
draught history), one vessel's track with its segments, and what the store holds.

Python API (the CLI commands `vessels`, `vessel`, `track`, `stats` are thin wrappers over it):

    vessels(store, flag=None, name=None) -> pl.DataFrame        one row per MMSI
    vessel_profile(store, mmsi) -> VesselProfile                 one vessel
    identity_history(store) -> pl.DataFrame                     stays in an identity, all vessels
    draught_history(store) -> pl.DataFrame                       draught changes, all vessels
    track(store, mmsi, start=None, end=None) -> pl.DataFrame     positions (+ segment id)
    to_csv / to_jsonl / to_geojson / to_kml(track_frame)         exports
    stats(store) -> dict[str, pl.DataFrame]                      counts by day, type, source, reject reason
"""

from shadowfleet.registry.identities import IDENTITY_FIELDS, draught_history, identity_history, read_static
from shadowfleet.registry.stats import stats
from shadowfleet.registry.track import TRACK_COLUMNS, to_csv, to_geojson, to_jsonl, to_kml, track
from shadowfleet.registry.vessels import VESSEL_COLUMNS, VesselProfile, position_summary, vessel_profile, vessels

__all__ = [
    "IDENTITY_FIELDS", "TRACK_COLUMNS", "VESSEL_COLUMNS", "VesselProfile", "draught_history", "identity_history",
    "position_summary", "read_static", "stats", "to_csv", "to_geojson", "to_jsonl", "to_kml", "track", "vessel_profile",
    "vessels",
]
