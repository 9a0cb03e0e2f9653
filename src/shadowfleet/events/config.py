"""Settings of the events stage. The event definitions themselves live in `shadowfleet.definitions` (shared with
the simulator's truth and the report) and are re-exported here for the detectors."""

from __future__ import annotations

from shadowfleet.definitions import (
    DraughtConfig,
    EncounterConfig,
    EventsConfig,
    GapConfig,
    IdentityConfig,
    LoiteringConfig,
    PortCallConfig,
    SpoofingConfig,
)
from shadowfleet.definitions import load_definitions as load_config
# Place kinds a vessel calls at (the port_call definition; defined once by the places stage); sts_area, eez, zone are
# not ports.
from shadowfleet.places.gazetteer import PORT_KINDS

# Places worth naming as reachable during an AIS gap (ours: where cargo can be loaded or handed over).
INTEREST_KINDS: tuple[str, ...] = (*PORT_KINDS, "sts_area")
# A place lies inside another when at least this share of its area does; ours: a berth drawn along a quay may poke
# a few metres past its port polygon, and 90 % still keeps two neighbouring ports from nesting.
NEST_MIN_AREA_SHARE: float = 0.9


__all__ = ["DraughtConfig", "EncounterConfig", "EventsConfig", "GapConfig", "IdentityConfig", "INTEREST_KINDS",
           "LoiteringConfig", "NEST_MIN_AREA_SHARE", "PORT_KINDS", "PortCallConfig", "SpoofingConfig", "load_config"]
