"""Behaviour detection: port calls (dark ones inferred), AIS gaps, encounters, loitering, draught and
identity changes, spoofing. Kernels in `transforms` take one partition as a polars table; `detect` runs them
over a store."""

from shadowfleet.events.config import EventsConfig, load_config
from shadowfleet.events.export import events_to_csv, events_to_geojson, events_to_jsonl, events_to_kml, read_events
from shadowfleet.events.main import EVENT_TYPES, detect, detect_events, with_event_ids
from shadowfleet.events.transforms.draught import find_draught_changes
from shadowfleet.events.transforms.encounters import encounter_pairs, find_encounters, resample
from shadowfleet.events.transforms.gaps import find_gaps, reception_cells
from shadowfleet.events.transforms.identity import find_identity_changes
from shadowfleet.events.transforms.loitering import find_loitering
from shadowfleet.events.transforms.port_calls import find_port_calls
from shadowfleet.events.transforms.spoofing import find_spoofing
from shadowfleet.events.transforms.stops import find_stops

__all__ = [
    "EVENT_TYPES", "EventsConfig", "detect", "detect_events", "encounter_pairs", "events_to_csv",
    "events_to_geojson", "events_to_jsonl", "events_to_kml", "find_draught_changes", "find_encounters", "find_gaps",
    "find_identity_changes", "find_loitering", "find_port_calls", "find_spoofing", "find_stops", "load_config",
    "read_events", "reception_cells", "resample", "with_event_ids",
]
