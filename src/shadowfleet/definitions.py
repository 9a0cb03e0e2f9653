"""The event definitions (port call, AIS gap, encounter, loitering, draught and identity change, spoofing), each
threshold with its source. Read by the detectors (events stage), by the simulator when it computes its ground
truth, and by the report's Methods text, so the three can never disagree. TOML sections [events.<event>] override
them.

Sources: GFW = Global Fishing Watch pipelines (pipe-anchorages, pipe-encounters, pipe-loitering, pipe-gaps,
gpsdio-segment), see docs/reference.md; ITU-R M.1371 for AIS reporting; "ours" gives a reason.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from shadowfleet import config as _config
from shadowfleet.errors import ShadowfleetError


@dataclass(frozen=True)
class PortCallConfig:
    """A port call: stationary at a port/berth/anchorage/terminal >= min_duration_h. A silence >= inferred_min_gap_h
    splits a stay: the run seen before (a call when seen >= min_duration_h), the silence (an inferred call when
    both its ends lie within inferred_max_km of one place, from the last report before to the first after) and
    the run seen after are separate events. A seen run shorter than min_duration_h next to a silence is no call
    by this definition; it joins the silence's inferred call (the first sighting at the place is kept), and
    silences separated only by such runs are one inferred call (docs/detection.md)."""

    max_sog_kn: float = 0.5  # docs/reference.md: stationary SOG <= 0.5 kn (GFW ends a stop above 0.5 kn)
    min_duration_h: float = 1.0  # docs/reference.md port_call row: stationary >= 1 h
    inferred_min_gap_h: float = 2.0  # docs/reference.md port_call inferred row: AIS gap >= 2 h (ours)
    inferred_max_km: float = 5.0  # docs/reference.md: both gap ends inside or within 5 km of the same place (ours)
    # ours: a stop whose mean position lies just outside every place still belongs to the nearest one within
    # this distance: an anchored ship swings ~0.3 km round its anchor, and anchorage polygons built from GFW's
    # S2 level-14 cells (~0.5 km) are patchy
    stop_tolerance_km: float = 0.5
    # ours: a report this close outside a place is in it (GPS scatter of a moored ship, hand-drawn polygon edges):
    # the smallest place within it wins, for stops and gap ends alike, so a ship on a berth's edge never
    # flickers between the berth and its port
    edge_tolerance_km: float = 0.1
    merge_gap_h: float = 4.0  # GFW pipe-anchorages in-port gap >= 4 h (docs/reference.md): shorter breaks are one visit
    # ours: two stops at one place more than this far apart are two calls (the ship shifted to another berth or
    # anchoring spot); a ship swinging at anchor or drifting at a quay stays well within it. A gap whose ends
    # lie farther apart than this is one the ship moved across while dark.
    same_spot_km: float = 1.0
    # a ship that moved while dark (gap ends > same_spot_km apart) is placed at the one berth/terminal within
    # inferred_max_km of both ends only when the gap lasts at least this long: GFW pipe-anchorages' in-port gap
    # >= 4 h (docs/reference.md) -- a shorter break within a port stay is not a visit of its own (satellite-only
    # ports such as Chongjin hear a ship every 2-5 h while it shifts between moorings)
    pinpoint_min_gap_h: float = 4.0
    # Where an inferred call's silence was long enough to go somewhere that matters and come back, its details
    # list those places (earliest arrival, latest departure, possible time there >= min_duration_h, a call):
    # berths and terminals (where cargo is worked), ship-to-ship areas, and the ports of reach_port_countries
    # (UNSCR 2397 OP5 caps refined petroleum delivered to the DPRK). Speed: MAN Diesel & Turbo, "Propulsion
    # Trends in Tankers" (2013): average design speeds of small and handysize tankers are about 13-15 kn, so
    # 15 kn is a fast passage for the ships in question. Distances follow searoute's sea lanes, pulled straight
    # wherever the straight line stays at sea, ignoring land within reach_coast_km of either end (ours: the
    # ~1 km land mask puts harbours and quays on land; 5 km = inferred_max_km); great-circle x
    # reach_detour_factor when searoute finds no path (ours, as for ais_gap)
    reach_speed_kn: float = 15.0
    reach_kinds: tuple[str, ...] = ("berth", "terminal", "sts_area")
    reach_port_countries: tuple[str, ...] = ("KP",)
    reach_coast_km: float = 5.0
    reach_detour_factor: float = 1.3
    # ours: the nearest places by sea are what an analyst checks first, and the bound keeps the sea routes computed
    # per silence few (a month-long silence reaches half the world)
    reach_max_places: int = 10


@dataclass(frozen=True)
class GapConfig:
    min_gap_h: float = 6.0  # GFW pipe-gaps: > 6 h between consecutive positions
    # ours: reception cell ~28 km; with its 8 neighbours "near" means within ~28-55 km (a shore receiver reaches
    # ~40 nm = 74 km at sea)
    coverage_cell_deg: float = 0.25
    # MAN Diesel & Turbo, "Propulsion Trends in Tankers" (2013): small and handysize tankers' average design
    # speeds are about 13-15 kn, so a tanker seldom sustains more than 15 kn
    max_speed_kn: float = 15.0
    # ours: great-circle x 1.3 stands in for the sea route at scale (searoute per gap is too slow for millions of
    # gaps); inferred port calls use sea routes ([events.port_call] reach_*)
    detour_factor: float = 1.3
    nearest_max_km: float = 50.0  # ours: a place farther than this from a gap end is not "near" it


@dataclass(frozen=True)
class EncounterConfig:
    max_distance_km: float = 0.5  # GFW pipe-encounters: <= 0.5 km
    max_sog_kn: float = 2.0  # GFW pipe-encounters: speed < 2 kn
    min_duration_h: float = 2.0  # GFW pipe-encounters: >= 2 h
    resample_min: float = 10.0  # GFW pipe-encounters: tracks resampled to 10 min
    max_interp_gap_min: float = 60.0  # ours: do not interpolate a moving ship across a silence longer than 1 h
    # a slow ship heard again at the same spot (within max_distance_km) after a silence stayed there:
    # interpolate across it up to GFW gpsdio-segment's 24 h max gap (where continuity is still assumed); ours:
    # ports without shore receivers are heard only on satellite passes, hours apart
    still_max_gap_h: float = 24.0
    # consecutive runs of one vessel pair separated by at most this break are one encounter when both ships
    # stayed slow on the grid throughout the break. GFW pipe-encounters joins raw encounters of one pair too
    # (its MergeEncounters step, min_hours_between_encounters); ours: 1 h = 6 resampling steps, enough for
    # two ships anchored ~0.5 km apart that swing across the limit with the tide (evaluation: one 38 h
    # encounter cut into 4-5 h pieces), and short enough that a ship leaving and coming back is two meetings
    join_gap_min: float = 60.0


@dataclass(frozen=True)
class LoiteringConfig:
    max_sog_kn: float = 2.0  # GFW pipe-loitering: speed < 2 kn
    min_duration_h: float = 4.0  # docs/reference.md loitering row: >= 4 h
    # a silence ends the loitering when the ship moved faster than max_sog_kn across it, or when it is longer
    # than GFW gpsdio-segment's 24 h max gap (ours: ports and open sea are often heard by satellite only)
    max_gap_h: float = 24.0
    # ours: a silence shorter than this is ordinary report spacing (thinned archives, missed slots) and the ship is
    # taken as slow throughout; across a longer one the implied speed decides whether it stayed slow
    silence_h: float = 1.0


@dataclass(frozen=True)
class DraughtConfig:
    min_change_m: float = 0.5  # docs/reference.md draught_change row (ours); type-5 draught is in 0.1 m (ITU-R M.1371)


@dataclass(frozen=True)
class IdentityConfig:
    # ours: two MMSIs must broadcast one IMO with overlapping report spans of at least this long to count
    shared_imo_min_overlap_h: float = 0.0
    # ours: the MMSI that started broadcasting a shared IMO this much later than the other took it (the other's
    # identity did not change); closer starts cannot tell, and both MMSIs get the event
    taker_margin_h: float = 1.0


@dataclass(frozen=True)
class SpoofingConfig:
    max_jump_kn: float = 50.0  # ours: 2x GFW's segmenter 25 kn, so only physically impossible jumps count
    # ours: shorter "jumps" occur in real feeds from delayed or repeated reports and GPS switching (DMA sample:
    # a drifting tanker alternating between two fixes 1.4 km apart every few seconds)
    min_jump_km: float = 5.0
    # ours: implied speeds use at least this interval, so seconds of receive-time jitter do not make a jump
    min_jump_interval_s: float = 60.0
    # the spoofing speed: passing between two stretches of one MMSI faster than GFW gpsdio-segment's 25 kn max
    # implied speed, and farther than 2 km (ours: above the 1.4 km GPS switching seen on the real DMA drift track)
    track_jump_kn: float = 25.0
    track_jump_km: float = 2.0
    # ours: a spliced stretch holds at least this many reports over at least this long; shorter excursions are GPS
    # glitches (the real CSCL SUMMER track in GFW's segmenter tests has one fix 3-4 km off its line for 2 min)
    spliced_min_points: int = 3
    # a silence this long opens a new received period (docs/reference.md inferred port call: a gap >= 2 h is the ship
    # unobserved); the stretch that opens one is weighed on its own, not vouched for by what came before
    silence_h: float = 2.0
    spliced_min_minutes: float = 10.0
    # a passage is the ship's own motion, whatever its speed, when its implied speed is within agree_factor x the
    # faster reported SOG + agree_kn and its bearing within agree_deg of the reported COG (ours: fast ferries at
    # 30-45 kn report what they do; ITU-R M.1371 SOG is to 0.1 kn, COG to 0.1 deg, GPS fixes wander ~10 m)
    agree_factor: float = 1.25
    agree_kn: float = 3.0
    agree_deg: float = 30.0
    # ours: two segments of one MMSI that take turns this many times are two transmitters on the air at once (two
    # ships sharing the MMSI, or an unexplained second feed), not a false stretch spliced into one ship's track
    shared_min_switches: int = 6
    coast_margin_km: float = 1.0  # global-land-mask resolution is 1 km: ignore points that close to the coast
    # a smooth track deep inland: every report of a run on land with land inland_km away in all sixteen compass
    # directions (and half as far), farther than that from searoute's sea-lane network, for at least
    # inland_min_h. Ours: harbours and fjords lie within a few km of the sea by the 1 km mask, the Kiel Canal
    # within 40 km of the Baltic or the North Sea along its whole length, and the Suez and Panama canals and the
    # St Lawrence are on searoute's network (measured: docs/detection.md)
    inland_km: float = 40.0
    inland_min_h: float = 1.0
    # ... and farther than this from every inland waterway (GSHHG/WDBII rivers ships sail, canals, lakes of
    # >= 100 km², stored by 0.01-degree cells: places.waterways). Ours: a river ship keeps within a river's width
    # (< 1 km on the Rhine, ~2 km on the lower Yangtze) of the centreline, which the high-resolution WDBII lines
    # follow to a few hundred metres
    waterway_km: float = 3.0
    two_places_km: float = 100.0  # ours: concurrent segments this far apart cannot be one ship
    two_places_min_points: int = 10  # ours: only "long" segments (this many positions) count as a second ship
    two_places_min_overlap_h: float = 1.0  # ours: the two segments must overlap in time at least this long
    # patterns no ship sails (SkyTruth and C4ADS reports of circle spoofing; UN PoE): within windows of
    # pattern_window_h, at least pattern_min_points reports moving at >= circle_min_kn on a circle of radius
    # circle_min_km-circle_max_km (RMS off the circle <= circle_max_rms share of the radius) turning at least
    # circle_min_turns times. Ours: ships swing round an anchor at < 1 kn on ~0.3 km; a purse seiner sets its net
    # in one ~0.3 km turn; a compass-adjusting ship turns once or twice at one spot
    pattern_window_h: float = 3.0
    pattern_min_points: int = 12
    circle_min_kn: float = 3.0
    circle_min_km: float = 0.2
    circle_max_km: float = 15.0
    circle_max_rms: float = 0.15
    circle_min_turns: float = 2.5
    # ours: a moving ship (>= 1 kn) reporting exactly (to 1e-6 deg; ITU-R M.1371 resolution is 1/10,000 min) a
    # position it already reported at least repeat_min_gap_min earlier, for at least this share of a window, is
    # replaying a recorded track
    repeat_min_share: float = 0.5
    repeat_min_gap_min: float = 10.0
    # grid: at least grid_min_share of a window's distinct moving positions (>= pattern_min_points) on one lattice,
    # in >= 3 rows and >= 3 columns, whose spacing is at least grid_min_spacing_deg (ours: 50 x the coarsest
    # rounding public feeds apply, 4 decimal degrees, and 3 x the 1/10 minute of ITU-R M.1371 type-27 reports);
    # null: a real coordinate rounded to grid_null_quantum_deg (ours: 4 decimal degrees, the coarsest rounding
    # seen in public AIS exports; M.1371 itself gives 1/10,000 minute) lands on the lattice with probability
    # quantum / spacing per axis; the count on it must have a binomial tail <= grid_max_null_p (ours: one false
    # grid in a million windows)
    grid_min_share: float = 0.8
    grid_min_spacing_deg: float = 0.005
    grid_null_quantum_deg: float = 0.0001
    grid_max_null_p: float = 1e-6
    # ours: ... spread over an area: the smaller/larger eigenvalue of their covariance at least this (a straight
    # passage at a steady speed and report rate is a lattice of its own step: ~0; a filled square 1)
    grid_min_spread: float = 0.1
    # reception: a shore receiver hears ships within VHF range (IALA / ITU-R M.1371: typically 20-40 nm). Each
    # receiver's reach is learned as the range_quantile of the distances from the middle of what it hears (at least
    # range_min_reports reports); a report beyond max(range_factor x that, range_min_km) cannot be heard there.
    # 100 nm (185 km) lies beyond VHF range but for rare ducting. A receiver whose learned reach exceeds
    # satellite_km is a satellite (a low-orbit footprint is ~5,000 km across) and is exempt, as are type-27 reports
    range_quantile: float = 0.9
    range_factor: float = 2.0
    range_min_km: float = 185.0
    range_min_reports: int = 50
    satellite_km: float = 1000.0
    # a receivers file (CSV or JSON: id, lat, lon, range_km, kind shore|satellite; a relative path is read from the
    # TOML file's folder): known stations are checked against their own range, listed satellites exempt
    receivers: str = ""


@dataclass(frozen=True)
class EventsConfig:
    port_call: PortCallConfig = field(default_factory=PortCallConfig)
    ais_gap: GapConfig = field(default_factory=GapConfig)
    encounter: EncounterConfig = field(default_factory=EncounterConfig)
    loitering: LoiteringConfig = field(default_factory=LoiteringConfig)
    draught_change: DraughtConfig = field(default_factory=DraughtConfig)
    identity_change: IdentityConfig = field(default_factory=IdentityConfig)
    spoofing: SpoofingConfig = field(default_factory=SpoofingConfig)


def load_definitions(source: str | Path | dict | None = None) -> EventsConfig:
    """Defaults, overridden by the [events.<event>] sections of a TOML file or parsed TOML dict (unknown keys
    and sections are an error)."""
    overrides = source if isinstance(source, dict) else _config.load_overrides(source)
    events = _config.section(overrides, "events")
    unknown = sorted(k for k in events if k not in {f.name for f in dataclasses.fields(EventsConfig)})
    if unknown:
        raise ShadowfleetError(f"unknown section(s) in [events]: {', '.join(unknown)}")
    base = EventsConfig()
    return EventsConfig(**{f.name: _config.load_section(getattr(base, f.name), f"events.{f.name}", overrides)
                           for f in dataclasses.fields(EventsConfig)})
